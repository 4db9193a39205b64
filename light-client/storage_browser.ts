/**
 * A header store for the light client in a browser (or a Worker): IndexedDB, one record per
 * best-chain height plus the base checkpoint and the tip height. Uses only the standard
 * `indexedDB` global; no Deno APIs. Bundled by `deno task build:web` into
 * `dist/light-client-storage.js`.
 *
 * @example
 * ```ts
 * import { LightClient } from "./light-client.js";
 * import { indexedDbHeaderStore } from "./light-client-storage.js";
 *
 * const client = await LightClient.connect({
 *   relays: ["wss://relay.example/ws"],
 *   storage: indexedDbHeaderStore("edgeledger-devnet"),
 * });
 * ```
 *
 * @module
 */

import { hexToBytes } from "../protocol/bytes.ts";
import { decodeHeader } from "../protocol/header.ts";
import type { CheckpointJson, HeaderStore, SavedHeaders } from "../protocol/header_chain.ts";

export type { CheckpointJson, HeaderChange, HeaderStore, SavedHeaders } from "../protocol/header_chain.ts";

// The few IndexedDB shapes used here: Deno's type library has no DOM types.
interface Request<T> {
  result: T;
  error: DOMException | null;
  onsuccess: ((this: unknown, ev: Event) => unknown) | null;
  onerror: ((this: unknown, ev: Event) => unknown) | null;
}
interface OpenRequest extends Request<Database> {
  onupgradeneeded: ((this: unknown, ev: Event) => unknown) | null;
  onblocked: ((this: unknown, ev: Event) => unknown) | null;
}
interface KeyRangeStatic {
  bound(lower: number, upper: number, lowerOpen?: boolean, upperOpen?: boolean): unknown;
  lowerBound(lower: number, open?: boolean): unknown;
}
interface ObjectStore {
  get(key: unknown): Request<unknown>;
  getAll(query?: unknown): Request<unknown[]>;
  getAllKeys(query?: unknown): Request<unknown[]>;
  put(value: unknown, key: unknown): Request<unknown>;
  delete(query: unknown): Request<undefined>;
}
interface Transaction {
  objectStore(name: string): ObjectStore;
  oncomplete: ((this: unknown, ev: Event) => unknown) | null;
  onerror: ((this: unknown, ev: Event) => unknown) | null;
  onabort: ((this: unknown, ev: Event) => unknown) | null;
  error: DOMException | null;
}
interface Database {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(names: string[], mode: "readonly" | "readwrite"): Transaction;
  close(): void;
}
interface Factory {
  open(name: string, version: number): OpenRequest;
}

const HEADERS = "headers";
const META = "meta";

function request<T>(req: Request<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
  });
}

function done(tx: Transaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

function baseHeight(base: CheckpointJson | undefined): number {
  return base === undefined ? 0 : decodeHeader(hexToBytes(base.header, "base.header")).height;
}

/**
 * A {@link HeaderStore} in the IndexedDB database `dbName` (created on first use). Each write
 * is one IndexedDB transaction, so a closed tab leaves the old or the new chain.
 *
 * @example
 * ```ts
 * const storage = indexedDbHeaderStore("edgeledger-devnet");
 * const client = await LightClient.connect({ relays: ["wss://relay.example/ws"], storage });
 * ```
 */
export function indexedDbHeaderStore(dbName: string): HeaderStore {
  if (typeof dbName !== "string" || dbName === "") throw new TypeError(`Expected "dbName" to be a non-empty string`);
  const g = globalThis as unknown as { indexedDB?: Factory; IDBKeyRange?: KeyRangeStatic };
  let opened: Promise<Database> | undefined;
  const open = (): Promise<Database> => {
    const factory = g.indexedDB;
    if (factory === undefined) return Promise.reject(new Error("IndexedDB is not available here"));
    opened ??= new Promise<Database>((resolve, reject) => {
      const req = factory.open(dbName, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(HEADERS)) db.createObjectStore(HEADERS);
        if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
      };
      req.onblocked = () => reject(new Error(`IndexedDB ${dbName} is blocked by another tab`));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error(`cannot open IndexedDB ${dbName}`));
    });
    opened.catch(() => (opened = undefined));
    return opened;
  };
  const range = (): KeyRangeStatic => {
    if (g.IDBKeyRange === undefined) throw new Error("IDBKeyRange is not available here");
    return g.IDBKeyRange;
  };
  return {
    async load(): Promise<SavedHeaders | undefined> {
      const db = await open();
      const tx = db.transaction([HEADERS, META], "readonly");
      const meta = tx.objectStore(META);
      const [tip, base] = await Promise.all([
        request(meta.get("tip")) as Promise<number | undefined>,
        request(meta.get("base")) as Promise<CheckpointJson | undefined>,
      ]);
      if (tip === undefined) return undefined;
      const first = baseHeight(base) + 1;
      const store = tx.objectStore(HEADERS);
      const query = range().bound(first, Math.max(first, tip));
      const [keys, values] = await Promise.all([request(store.getAllKeys(query)), request(store.getAll(query))]);
      const headers: string[] = [];
      for (let i = 0; i < keys.length && keys[i] === first + i && first + i <= tip; i++) {
        headers.push(values[i] as string);
      }
      return { ...(base !== undefined ? { base } : {}), headers };
    },
    async write(change): Promise<void> {
      const db = await open();
      const tx = db.transaction([HEADERS, META], "readwrite");
      const finished = done(tx);
      const store = tx.objectStore(HEADERS);
      const meta = tx.objectStore(META);
      if (change.base !== undefined) {
        meta.put(change.base, "base");
        store.delete(range().bound(0, baseHeight(change.base)));
      }
      change.headers.forEach((hex, i) => store.put(hex, change.from + i));
      store.delete(range().lowerBound(change.tip, true));
      meta.put(change.tip, "tip");
      await finished;
    },
  };
}
