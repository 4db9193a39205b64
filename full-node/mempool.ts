/**
 * The mempool: transfers waiting for a block, per sender in nonce order, with fee priority,
 * replace-by-fee for the same sender and nonce, a size cap that evicts the lowest fee, and
 * re-validation after every new tip. Accepted transactions are persisted in SQLite so a crash
 * loses none of them.
 *
 * @module
 */

import type { Block } from "../protocol/block.ts";
import { bytesToHex } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { HEADER_BYTES } from "../protocol/header.ts";
import type { NetworkParams } from "../protocol/params.ts";
import type { Account } from "../protocol/state.ts";
import { decodeTx, encodeTx, TRANSFER_BYTES, type TransferTx, txId } from "../protocol/tx.ts";
import { checkTransfer } from "../protocol/validation.ts";
import type { Logger } from "./logger.ts";
import { silentLogger } from "./logger.ts";
import type { SignatureVerifier } from "./sig_verifier.ts";
import type { NodeStore } from "./store.ts";

/** A transaction in the mempool. */
export interface MempoolEntry {
  /** The transfer. */
  readonly tx: TransferTx;
  /** Its txid. */
  readonly txid: Uint8Array;
  /** Hex of the txid. */
  readonly hex: string;
  /** When it was accepted (ms). */
  readonly added: number;
}

/** Options of {@link Mempool}. */
export interface MempoolOptions {
  /** Network parameters. */
  params: NetworkParams;
  /** Most transactions held. */
  maxTxs?: number;
  /** Lowest fee relayed and mined (policy, not consensus). */
  minFee?: bigint;
}

/** Dependencies of {@link Mempool}. */
export interface MempoolDeps {
  /** Account state at the current tip. */
  account: (publicKey: Uint8Array) => Account;
  /** Signature cache shared with block validation. */
  verifier: SignatureVerifier;
  /** Persistence (optional in tests). */
  store?: NodeStore;
  /** Clock in ms. */
  clock?: () => number;
  /** Logger. */
  logger?: Logger;
}

function policy(code: ErrorCode, message: string): ValidationError {
  return new ValidationError(code, message, { ban: false });
}

/**
 * Pending transfers.
 *
 * @example
 * ```ts
 * const mempool = new Mempool({ params }, { account: (pk) => chain.account(pk), verifier });
 * mempool.add(tx);
 * const txs = mempool.select(1000);
 * ```
 */
export class Mempool {
  readonly #params: NetworkParams;
  readonly #maxTxs: number;
  readonly #minFee: bigint;
  readonly #deps: MempoolDeps;
  readonly #clock: () => number;
  readonly #log: Logger;
  readonly #byId = new Map<string, MempoolEntry>();
  /** Per sender (hex): entries with consecutive nonces starting at the account nonce. */
  readonly #bySender = new Map<string, MempoolEntry[]>();

  /** Create an empty mempool. */
  constructor(options: MempoolOptions, deps: MempoolDeps) {
    this.#params = options.params;
    this.#maxTxs = options.maxTxs ?? 50_000;
    this.#minFee = options.minFee ?? 1_000n;
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#log = deps.logger ?? silentLogger;
  }

  /** Number of transactions held. */
  get size(): number {
    return this.#byId.size;
  }

  /** Lowest fee accepted. */
  get minFee(): bigint {
    return this.#minFee;
  }

  /** Whether `txid` (bytes or hex) is held. */
  has(txid: Uint8Array | string): boolean {
    return this.#byId.has(typeof txid === "string" ? txid : bytesToHex(txid));
  }

  /** A held transaction. */
  get(txid: Uint8Array | string): MempoolEntry | undefined {
    return this.#byId.get(typeof txid === "string" ? txid : bytesToHex(txid));
  }

  /** All held transactions. */
  entries(): IterableIterator<MempoolEntry> {
    return this.#byId.values();
  }

  /** Pending transactions of one sender in nonce order. */
  pendingOf(sender: Uint8Array): readonly MempoolEntry[] {
    return this.#bySender.get(bytesToHex(sender)) ?? [];
  }

  /**
   * Validate and add a transfer. Throws {@link ValidationError}: policy failures are not
   * ban-worthy; an invalid signature is.
   */
  add(tx: TransferTx): MempoolEntry {
    if (tx.kind !== "transfer") throw policy(ErrorCode.BAD_COINBASE, "a coinbase cannot enter the mempool");
    const txid = txId(tx);
    const hex = bytesToHex(txid);
    if (this.#byId.has(hex)) throw policy(ErrorCode.ALREADY_KNOWN, `transaction ${hex} is already in the mempool`);
    checkTransfer(tx, this.#params, false);
    if (tx.fee < this.#minFee) {
      throw policy(ErrorCode.FEE_TOO_LOW, `fee ${tx.fee} is below the minimum ${this.#minFee}`);
    }
    const account = this.#deps.account(tx.sender);
    if (tx.nonce < account.nonce) {
      throw policy(
        ErrorCode.BAD_NONCE,
        `nonce ${tx.nonce} was already used; the account's next nonce is ${account.nonce}`,
      );
    }
    const senderHex = bytesToHex(tx.sender);
    const queue = this.#bySender.get(senderHex) ?? [];
    const position = Number(tx.nonce - account.nonce);
    if (position > queue.length) {
      throw policy(
        ErrorCode.NONCE_TOO_HIGH,
        `nonce ${tx.nonce} leaves a gap; the next nonce for this sender is ${account.nonce + BigInt(queue.length)}`,
      );
    }
    const replaced = queue[position];
    if (replaced !== undefined) {
      const required = replaced.tx.fee + (replaced.tx.fee / 10n > 1n ? replaced.tx.fee / 10n : 1n);
      if (tx.fee < required) {
        throw policy(ErrorCode.FEE_TOO_LOW, `replacing nonce ${tx.nonce} needs a fee of at least ${required}`);
      }
    }
    // Funds: every pending transfer of the sender up to and including this one must be covered.
    let spent = 0n;
    for (let i = 0; i < queue.length; i++) {
      const t = i === position ? tx : queue[i].tx;
      spent += t.amount + t.fee;
    }
    if (position === queue.length) spent += tx.amount + tx.fee;
    if (spent > account.balance) {
      throw policy(
        ErrorCode.INSUFFICIENT_FUNDS,
        `balance ${account.balance} does not cover ${spent} spent by this and the sender's pending transactions`,
      );
    }
    // Verify before evicting anything: a forged transaction must not push out a valid one.
    if (!this.#deps.verifier.isValid(tx, txid)) {
      throw new ValidationError(ErrorCode.BAD_SIGNATURE, "invalid signature", { ban: true });
    }
    if (replaced === undefined && this.#byId.size >= this.#maxTxs) this.#evictFor(tx, senderHex);
    const entry: MempoolEntry = { tx, txid, hex, added: this.#clock() };
    if (replaced !== undefined) this.#forget(replaced);
    queue[position] = entry;
    this.#bySender.set(senderHex, queue);
    this.#byId.set(hex, entry);
    this.#deps.store?.addMempool(txid, encodeTx(tx), entry.added);
    return entry;
  }

  /**
   * Make room for `tx` by evicting the lowest-fee tail transaction of another sender (the
   * sender's own tail is the predecessor `tx` needs), or refuse it.
   */
  #evictFor(tx: TransferTx, senderHex: string): void {
    let lowest: MempoolEntry | undefined;
    for (const [hex, queue] of this.#bySender) {
      if (hex === senderHex) continue;
      const tail = queue[queue.length - 1];
      if (tail !== undefined && (lowest === undefined || tail.tx.fee < lowest.tx.fee)) lowest = tail;
    }
    if (lowest === undefined || lowest.tx.fee >= tx.fee) {
      throw policy(ErrorCode.MEMPOOL_FULL, `the mempool is full and fee ${tx.fee} does not beat the lowest`);
    }
    this.#removeFrom(lowest);
  }

  #forget(entry: MempoolEntry): void {
    this.#byId.delete(entry.hex);
    this.#deps.store?.removeMempool(entry.txid);
  }

  /** Remove `entry` and the sender's later transactions, which now have a gap. */
  #removeFrom(entry: MempoolEntry): void {
    const senderHex = bytesToHex(entry.tx.sender);
    const queue = this.#bySender.get(senderHex);
    if (queue === undefined) return;
    const i = queue.indexOf(entry);
    if (i < 0) return;
    for (const e of queue.splice(i)) this.#forget(e);
    if (queue.length === 0) this.#bySender.delete(senderHex);
  }

  /** Remove one transaction (and the sender's later ones). */
  remove(txid: Uint8Array | string): void {
    const entry = this.get(txid);
    if (entry !== undefined) this.#removeFrom(entry);
  }

  /**
   * Up to `maxTxs` transactions for a block template: highest fee first among each sender's
   * next nonce, so every sender's transactions stay in nonce order.
   */
  select(maxTxs: number = this.#params.maxBlockTxs - 1): TransferTx[] {
    const byBytes = Math.floor((this.#params.maxBlockBytes - HEADER_BYTES - 200) / TRANSFER_BYTES);
    const limit = Math.min(maxTxs, byBytes);
    const heap: { queue: MempoolEntry[]; i: number }[] = [];
    const fee = (n: { queue: MempoolEntry[]; i: number }) => n.queue[n.i].tx.fee;
    const up = (k: number) => {
      while (k > 0) {
        const p = (k - 1) >> 1;
        if (fee(heap[p]) >= fee(heap[k])) break;
        [heap[p], heap[k]] = [heap[k], heap[p]];
        k = p;
      }
    };
    const down = (k: number) => {
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < heap.length && fee(heap[l]) > fee(heap[m])) m = l;
        if (r < heap.length && fee(heap[r]) > fee(heap[m])) m = r;
        if (m === k) return;
        [heap[m], heap[k]] = [heap[k], heap[m]];
        k = m;
      }
    };
    for (const queue of this.#bySender.values()) {
      heap.push({ queue, i: 0 });
      up(heap.length - 1);
    }
    const out: TransferTx[] = [];
    while (heap.length > 0 && out.length < limit) {
      const top = heap[0];
      out.push(top.queue[top.i].tx);
      top.i++;
      if (top.i < top.queue.length) down(0);
      else {
        heap[0] = heap[heap.length - 1];
        heap.pop();
        if (heap.length > 0) down(0);
      }
    }
    return out;
  }

  /** Drop transactions a new tip made invalid (used nonces, gaps, missing funds). */
  revalidate(): void {
    for (const [senderHex, queue] of [...this.#bySender]) {
      const account = this.#deps.account(queue[0].tx.sender);
      let keep = 0;
      let spent = 0n;
      const kept: MempoolEntry[] = [];
      for (const e of queue) {
        if (e.tx.nonce < account.nonce) {
          this.#forget(e);
          continue;
        }
        spent += e.tx.amount + e.tx.fee;
        if (e.tx.nonce !== account.nonce + BigInt(keep) || spent > account.balance) {
          this.#forget(e);
          continue;
        }
        kept.push(e);
        keep++;
      }
      if (kept.length === 0) this.#bySender.delete(senderHex);
      else this.#bySender.set(senderHex, kept);
    }
  }

  /** Remove the transactions a connected block included. */
  blockConnected(block: Block): void {
    for (const tx of block.txs) {
      if (tx.kind !== "transfer") continue;
      const entry = this.get(txId(tx));
      if (entry === undefined) continue;
      // Included: forget it without cutting the sender's later transactions.
      this.#forget(entry);
      const senderHex = bytesToHex(tx.sender);
      const queue = this.#bySender.get(senderHex);
      if (queue === undefined) continue;
      const i = queue.indexOf(entry);
      if (i >= 0) queue.splice(i, 1);
      if (queue.length === 0) this.#bySender.delete(senderHex);
    }
  }

  /**
   * Return the transfers of disconnected blocks to the mempool after a reorganisation.
   * Those the new chain already holds or made invalid are dropped quietly.
   */
  readd(txs: readonly TransferTx[]): number {
    let added = 0;
    const sorted = [...txs].sort((a, b) => (a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0));
    for (const tx of sorted) {
      try {
        this.add(tx);
        added++;
      } catch (err) {
        this.#log.debug(`not returned to the mempool: ${(err as Error).message}`);
      }
    }
    return added;
  }

  /**
   * After a reorganisation: put the transfers of disconnected blocks back together with
   * everything already held, re-validated against the new tip in nonce order.
   */
  reorganise(returned: readonly TransferTx[]): number {
    const all = [...returned, ...[...this.#byId.values()].map((e) => e.tx)];
    const run = () => {
      for (const e of this.#byId.values()) this.#deps.store?.removeMempool(e.txid);
      this.#byId.clear();
      this.#bySender.clear();
      return this.readd(all);
    };
    return this.#deps.store ? this.#deps.store.transaction(run) : run();
  }

  /** Reload persisted transactions after a restart; invalid ones are dropped. */
  load(): number {
    const store = this.#deps.store;
    if (store === undefined) return 0;
    const txs: TransferTx[] = [];
    for (const bytes of store.allMempool()) {
      try {
        const tx = decodeTx(bytes);
        if (tx.kind === "transfer") txs.push(tx);
        else store.removeMempool(txId(tx));
      } catch {
        // A row that does not decode cannot be ours; drop it.
      }
    }
    // One transaction: a crash while reloading must not lose the persisted rows.
    return store.transaction(() => {
      store.db.exec("DELETE FROM mempool");
      return this.readd(txs);
    });
  }
}
