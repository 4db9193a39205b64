/**
 * Header stores for the light client on Deno: a JSON file (what `deno task light --store`
 * uses) or Deno KV. Both implement {@link HeaderStore}, so `LightClient.connect({ storage })`
 * restores verified headers from the last run and re-verifies them before use.
 *
 * Deno only; in a browser use `storage_browser.ts`.
 *
 * @example
 * ```ts
 * import { LightClient } from "./mod.ts";
 * import { fileHeaderStore } from "./storage_deno.ts";
 *
 * const client = await LightClient.connect({
 *   relays: ["ws://127.0.0.1:8787/ws"],
 *   network: "regtest",
 *   storage: fileHeaderStore("./light-headers.json"),
 * });
 * ```
 *
 * @module
 */

import { hexToBytes } from "../protocol/bytes.ts";
import { decodeHeader } from "../protocol/header.ts";
import type { CheckpointJson, HeaderChange, HeaderStore, SavedHeaders } from "../protocol/header_chain.ts";

export type { CheckpointJson, HeaderChange, HeaderStore, SavedHeaders } from "../protocol/header_chain.ts";

/** Height of the header in a saved base checkpoint. */
function baseHeight(base: CheckpointJson | undefined): number {
  return base === undefined ? 0 : decodeHeader(hexToBytes(base.header, "base.header")).height;
}

/**
 * Apply `change` to saved headers: the result is again a base plus the contiguous best-chain
 * headers after it (heights base+1, base+2, ...).
 */
function applyChange(saved: SavedHeaders | undefined, change: HeaderChange): SavedHeaders {
  const base = change.base ?? saved?.base;
  const oldBase = baseHeight(saved?.base);
  const byHeight = new Map<number, string>();
  saved?.headers.forEach((hex, i) => byHeight.set(oldBase + 1 + i, hex));
  change.headers.forEach((hex, i) => byHeight.set(change.from + i, hex));
  const headers: string[] = [];
  for (let h = baseHeight(base) + 1; h <= change.tip && byHeight.has(h); h++) headers.push(byHeight.get(h)!);
  return { ...(base !== undefined ? { base } : {}), headers };
}

function parseSaved(text: string, path: string): SavedHeaders {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`header store ${path} is not JSON: ${(err as Error).message}`);
  }
  const o = json as { base?: unknown; headers?: unknown };
  if (
    typeof o !== "object" || o === null || !Array.isArray(o.headers) ||
    !o.headers.every((h) => typeof h === "string") ||
    (o.base !== undefined && (typeof o.base !== "object" || o.base === null))
  ) {
    throw new Error(`header store ${path} is not a saved header chain ({ base?, headers: [hex...] })`);
  }
  return o as SavedHeaders;
}

/**
 * A {@link HeaderStore} in one JSON file `{ base, headers }`. Every write replaces the file
 * atomically (a temporary file in the same directory, then rename), so a crash leaves either
 * the old or the new chain, never half of one. Writes are applied in order.
 *
 * @example
 * ```ts
 * const storage = fileHeaderStore(".edgeledger/light-regtest.json");
 * const client = await LightClient.connect({ relays, network: "regtest", storage });
 * ```
 */
export function fileHeaderStore(path: string): HeaderStore {
  if (typeof path !== "string" || path === "") throw new TypeError(`Expected "path" to be a file path`);
  let queue: Promise<unknown> = Promise.resolve();
  const read = async (): Promise<SavedHeaders | undefined> => {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw new Error(`cannot read header store ${path}: ${(err as Error).message}`);
    }
    return parseSaved(text, path);
  };
  const write = async (change: HeaderChange): Promise<void> => {
    const next = applyChange(await read(), change);
    const slash = path.lastIndexOf("/");
    const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
    await Deno.mkdir(dir, { recursive: true });
    const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    try {
      await Deno.writeTextFile(temp, JSON.stringify(next) + "\n");
      await Deno.rename(temp, path);
    } catch (err) {
      await Deno.remove(temp).catch(() => {});
      throw new Error(`cannot write header store ${path}: ${(err as Error).message}`);
    }
  };
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  };
  return {
    load: () => serial(read),
    write: (change) => serial(() => write(change)),
  };
}

/** Options of {@link kvHeaderStore}. */
export interface KvHeaderStoreOptions {
  /** Key prefix (default `["edgeledger-light", network]`), so a relay's cache in the same KV is not touched. */
  prefix?: Deno.KvKey;
}

/**
 * A {@link HeaderStore} in Deno KV: one key per best-chain height plus the base checkpoint
 * and the tip height. Needs `--unstable-kv` outside Deno Deploy.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv("./light.kv");
 * const client = await LightClient.connect({ relays, network: "devnet", storage: kvHeaderStore(kv, "devnet") });
 * ```
 */
export function kvHeaderStore(kv: Deno.Kv, network: string, options: KvHeaderStoreOptions = {}): HeaderStore {
  const prefix = options.prefix ?? ["edgeledger-light", network];
  const heightKey = (h: number): Deno.KvKey => [...prefix, "h", h];
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  };
  const deleteRange = async (from: number, to: number) => {
    for await (const entry of kv.list({ start: heightKey(from), end: heightKey(to) })) await kv.delete(entry.key);
  };
  return {
    load: () =>
      serial(async () => {
        const tip = (await kv.get<number>([...prefix, "tip"])).value;
        if (tip === null) return undefined;
        const base = (await kv.get<CheckpointJson>([...prefix, "base"])).value ?? undefined;
        const headers: string[] = [];
        let expected = baseHeight(base) + 1;
        for await (const entry of kv.list<string>({ start: heightKey(expected), end: heightKey(tip + 1) })) {
          if (entry.key[entry.key.length - 1] !== expected) break; // a gap: the rest cannot link
          headers.push(entry.value);
          expected++;
        }
        return { ...(base !== undefined ? { base } : {}), headers };
      }),
    write: (change) =>
      serial(async () => {
        // Deno KV allows at most 1,000 mutations per atomic operation.
        let op = kv.atomic();
        let n = 0;
        const commit = async () => {
          if (!(await op.commit()).ok) throw new Error("Deno KV commit failed");
          op = kv.atomic();
          n = 0;
        };
        if (change.base !== undefined) op.set([...prefix, "base"], change.base);
        for (let i = 0; i < change.headers.length; i++) {
          op.set(heightKey(change.from + i), change.headers[i]);
          if (++n >= 500) await commit();
        }
        op.set([...prefix, "tip"], change.tip);
        await commit();
        await deleteRange(change.tip + 1, Number.MAX_SAFE_INTEGER);
        if (change.base !== undefined) await deleteRange(0, baseHeight(change.base) + 1);
      }),
  };
}
