/**
 * The miner: builds a template from the mempool (fees first, nonce order kept), searches
 * nonces in Web Workers from a saved midstate, restarts at once on a new tip, and reports its
 * hashrate. On networks with `retarget = false` (regtest) it paces itself to about one block
 * per idealBlockTime.
 *
 * @module
 */

import { encodeHeader } from "../protocol/header.ts";
import { bytesToHex } from "../protocol/bytes.ts";
import { bitsToTarget } from "../protocol/pow.ts";
import type { BlockTemplate, Chain } from "./chain.ts";
import type { Logger } from "./logger.ts";
import { silentLogger } from "./logger.ts";
import type { Mempool } from "./mempool.ts";

/** Options of {@link Miner}. */
export interface MinerOptions {
  /** Public key the coinbase pays. */
  miner: Uint8Array;
  /** Number of worker threads. */
  threads: number;
  /** Rebuild the template this often to pick up new transactions and time (ms). */
  refreshMs?: number;
  /** Minimum spacing between mined blocks (ms); defaults to idealBlockTime on fixed-difficulty networks. */
  paceMs?: number;
}

/** Dependencies of {@link Miner}. */
export interface MinerDeps {
  /** The chain to extend. */
  chain: Chain;
  /** Source of transactions. */
  mempool: Mempool;
  /** Logger. */
  logger?: Logger;
  /** Clock in ms. */
  clock?: () => number;
}

interface WorkerMessage {
  job: number;
  hashes: number;
  found?: number;
  high?: number;
}

/**
 * A multi-worker miner.
 *
 * @example
 * ```ts
 * const miner = new Miner({ miner: publicKey, threads: 1 }, { chain, mempool });
 * miner.start();
 * // ...
 * await miner.stop();
 * ```
 */
export class Miner {
  readonly #options: MinerOptions;
  readonly #chain: Chain;
  readonly #mempool: Mempool;
  readonly #log: Logger;
  readonly #clock: () => number;
  #workers: Worker[] = [];
  #job = 0;
  #template: BlockTemplate | undefined;
  #running = false;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #lastBlockAt = 0;
  #hashes = 0;
  #rateWindow: { at: number; hashes: number }[] = [];
  #submitting = false;
  /** Blocks this miner found and the chain accepted. */
  blocksMined = 0;

  /** Create a stopped miner. */
  constructor(options: MinerOptions, deps: MinerDeps) {
    this.#options = options;
    this.#chain = deps.chain;
    this.#mempool = deps.mempool;
    this.#log = deps.logger ?? silentLogger;
    this.#clock = deps.clock ?? Date.now;
  }

  /** Whether mining. */
  get running(): boolean {
    return this.#running;
  }

  /** Nonces per second over the last few seconds, all workers together. */
  get hashrate(): number {
    const now = performance.now();
    this.#rateWindow = this.#rateWindow.filter((s) => now - s.at < 10_000);
    if (this.#rateWindow.length < 2) return 0;
    const first = this.#rateWindow[0];
    const last = this.#rateWindow[this.#rateWindow.length - 1];
    return last.at > first.at ? ((last.hashes - first.hashes) * 1000) / (last.at - first.at) : 0;
  }

  /** Total nonces tried. */
  get hashes(): number {
    return this.#hashes;
  }

  /** Start the workers and mine on the current tip. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (let i = 0; i < this.#options.threads; i++) {
      const worker = new Worker(new URL("./miner_worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (e: MessageEvent<WorkerMessage>) => this.#onWorker(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        this.#log.error(`mining worker failed: ${e.message}`);
      };
      this.#workers.push(worker);
    }
    this.#chain.listen({ tip: () => this.#running && !this.#submitting && this.#newJob() });
    this.#newJob();
  }

  /** Stop mining and terminate the workers. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#refreshTimer);
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }

  /** Build a fresh template and hand every worker its own slice of the nonce space. */
  #newJob(): void {
    if (!this.#running) return;
    clearTimeout(this.#refreshTimer);
    const pace = this.#options.paceMs ?? (this.#chain.params.retarget ? 0 : this.#chain.params.idealBlockTimeMs);
    const wait = this.#lastBlockAt + pace - this.#clock();
    if (wait > 0) {
      for (const w of this.#workers) w.postMessage({ stop: true });
      this.#refreshTimer = setTimeout(() => this.#newJob(), wait);
      return;
    }
    try {
      this.#template = this.#chain.buildTemplate({
        miner: this.#options.miner,
        txs: this.#mempool.select(),
      });
    } catch (err) {
      this.#log.error(`could not build a block template: ${(err as Error).message}`);
      this.#refreshTimer = setTimeout(() => this.#newJob(), 1000);
      return;
    }
    const job = ++this.#job;
    const header = encodeHeader(this.#template.block.header);
    const target = bitsToTarget(this.#template.block.header.bits);
    this.#workers.forEach((w, i) => w.postMessage({ job, header: header.slice(), target, highNonce: i }));
    this.#refreshTimer = setTimeout(() => this.#newJob(), this.#options.refreshMs ?? 10_000);
  }

  #onWorker(msg: WorkerMessage): void {
    this.#hashes += msg.hashes;
    this.#rateWindow.push({ at: performance.now(), hashes: this.#hashes });
    if (this.#rateWindow.length > 1000) this.#rateWindow.splice(0, 500);
    if (msg.found === undefined || msg.job !== this.#job || this.#template === undefined) return;
    const block = this.#template.block;
    this.#job++; // invalidate the other workers' results for this template
    for (const w of this.#workers) w.postMessage({ stop: true });
    block.header.nonce = (BigInt(msg.high ?? 0) << 32n) | BigInt(msg.found);
    void this.#submit(block);
  }

  async #submit(block: BlockTemplate["block"]): Promise<void> {
    this.#submitting = true;
    try {
      const result = await this.#chain.processBlock(block);
      if (result.status === "connected") {
        this.blocksMined++;
        this.#lastBlockAt = this.#clock();
        this.#log.info(
          `mined block ${block.header.height} ${bytesToHex(result.entry.hash).slice(0, 16)} with ${
            block.txs.length - 1
          } transaction(s)`,
        );
      }
    } catch (err) {
      this.#log.error(`mined block was rejected: ${(err as Error).message}`);
    } finally {
      this.#submitting = false;
      this.#newJob();
    }
  }
}
