/**
 * Signature verification with a cache and a pool of Web Workers.
 *
 * A transaction verified when it entered the mempool is not verified again when its block
 * arrives (the cache is keyed by txid, which commits to the signature and everything it
 * signs). A block bringing many unseen signatures has them verified in parallel by workers.
 *
 * @module
 */

import { verifySignature } from "../protocol/keys.ts";
import { type TransferTx, txSigHash } from "../protocol/tx.ts";

const RECORD = 128;

/** One signature to check, with its txid as the cache key. */
export interface SignatureItem {
  /** The transfer. */
  tx: TransferTx;
  /** Its txid. */
  txid: Uint8Array;
}

/** Options of {@link SignatureVerifier}. */
export interface SignatureVerifierOptions {
  /** Workers to use for large batches; 0 verifies on the calling thread. */
  workers?: number;
  /** Smallest batch of unseen signatures worth sending to workers. */
  parallelThreshold?: number;
  /** Most txids remembered. */
  cacheSize?: number;
}

function cacheKey(txid: Uint8Array): string {
  return String.fromCharCode.apply(null, txid as unknown as number[]);
}

/**
 * Cached, parallel BIP340 verification of transfers.
 *
 * @example
 * ```ts
 * const verifier = new SignatureVerifier({ workers: 2 });
 * await verifier.prepare(items); // parallel for big batches
 * verifier.isValid(tx, txid);   // answered from the cache
 * verifier.close();
 * ```
 */
export class SignatureVerifier {
  readonly #valid = new Map<string, true>();
  readonly #invalid = new Map<string, true>();
  readonly #cacheSize: number;
  readonly #threshold: number;
  readonly #workerCount: number;
  #workers: Worker[] = [];
  #nextId = 1;
  readonly #pending = new Map<number, (results: Uint8Array) => void>();
  /** Signatures verified (not answered from the cache). */
  verified = 0;
  /** Lookups answered from the cache. */
  cacheHits = 0;

  /** Create a verifier; workers start on first use. */
  constructor(options: SignatureVerifierOptions = {}) {
    // One worker per core: the calling thread only waits while a batch is verified.
    this.#workerCount = options.workers ?? Math.max(1, navigator.hardwareConcurrency ?? 2);
    this.#threshold = options.parallelThreshold ?? 64;
    this.#cacheSize = options.cacheSize ?? 250_000;
  }

  #remember(map: Map<string, true>, key: string): void {
    if (map.size >= this.#cacheSize) map.delete(map.keys().next().value!);
    map.set(key, true);
  }

  /** Whether the transfer's signature is valid: from the cache, or verified now and cached. */
  isValid(tx: TransferTx, txid: Uint8Array): boolean {
    const key = cacheKey(txid);
    if (this.#valid.has(key)) {
      this.cacheHits++;
      return true;
    }
    if (this.#invalid.has(key)) {
      this.cacheHits++;
      return false;
    }
    this.verified++;
    const ok = verifySignature(tx.signature, txSigHash(tx), tx.sender);
    this.#remember(ok ? this.#valid : this.#invalid, key);
    return ok;
  }

  /** Verify every unseen signature of `items` ahead of {@link isValid}, in workers when many. */
  async prepare(items: readonly SignatureItem[]): Promise<void> {
    const unseen = items.filter(({ txid }) => {
      const key = cacheKey(txid);
      return !this.#valid.has(key) && !this.#invalid.has(key);
    });
    if (unseen.length < this.#threshold || this.#workerCount === 0) return;
    this.#start();
    const chunks = this.#workers.length;
    const per = Math.ceil(unseen.length / chunks);
    const jobs: Promise<void>[] = [];
    for (let w = 0; w < chunks; w++) {
      const slice = unseen.slice(w * per, (w + 1) * per);
      if (slice.length === 0) continue;
      const packed = new Uint8Array(slice.length * RECORD);
      slice.forEach(({ tx }, i) => {
        packed.set(tx.signature, i * RECORD);
        packed.set(txSigHash(tx), i * RECORD + 64);
        packed.set(tx.sender, i * RECORD + 96);
      });
      jobs.push(
        this.#run(this.#workers[w], packed).then((results) => {
          if (results.length !== slice.length) return; // closed meanwhile: isValid() verifies inline
          slice.forEach(({ txid }, i) => this.#remember(results[i] ? this.#valid : this.#invalid, cacheKey(txid)));
          this.verified += slice.length;
        }),
      );
    }
    await Promise.all(jobs);
  }

  #start(): void {
    if (this.#workers.length > 0) return;
    for (let i = 0; i < this.#workerCount; i++) {
      const worker = new Worker(new URL("./sig_worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (e: MessageEvent<{ id: number; results: Uint8Array }>) => {
        const resolve = this.#pending.get(e.data.id);
        this.#pending.delete(e.data.id);
        resolve?.(e.data.results);
      };
      this.#workers.push(worker);
    }
  }

  #run(worker: Worker, packed: Uint8Array): Promise<Uint8Array> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage({ id, items: packed }, [packed.buffer as ArrayBuffer]);
    });
  }

  /** Stop the workers. */
  close(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    for (const resolve of this.#pending.values()) resolve(new Uint8Array(0));
    this.#pending.clear();
  }
}
