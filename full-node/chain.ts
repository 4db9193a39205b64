/**
 * The full node's chain: an in-memory header tree with cumulative work over the SQLite store,
 * full validation of every block, best-chain selection by most work, reorganisations of any
 * depth with undo data, and a bounded pool of blocks whose parent is unknown.
 *
 * Connecting or disconnecting a block is one SQLite transaction covering the state entries,
 * the sparse Merkle tree nodes, the undo data, the main-chain and transaction indexes and the
 * tip, so a crash at any instant leaves a consistent tip.
 *
 * @module
 */

import { type Block, computeTxRoot, decodeBlock, encodeBlock } from "../protocol/block.ts";
import { bytesToHex, equalBytes } from "../protocol/bytes.ts";
import { type ByteReader, ByteWriter, decodeAll } from "../protocol/encoding.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { type BlockHeader, decodeHeader, encodeHeader, hashHeader } from "../protocol/header.ts";
import { HistoryAccumulator } from "../protocol/history.ts";
import { hashLeaf, inclusionProof, inclusionProofOfLeafHashes } from "../protocol/merkle.ts";
import { blockSubsidy, genesisBlock, type NetworkParams } from "../protocol/params.ts";
import { workForBits } from "../protocol/pow.ts";
import { type SmtProof, type SmtStore, SparseMerkleTree } from "../protocol/smt.ts";
import { type Account, accountKey, decodeAccount, type StateView } from "../protocol/state.ts";
import { type CoinbaseTx, encodeTx, type Transaction, type TransferTx, txId } from "../protocol/tx.ts";
import {
  applyBlock,
  applyTransfer,
  checkBlockBody,
  checkHeader,
  HEADER_VERSION,
  locatorHeights,
  matureReward,
  medianTime,
  nextBits,
} from "../protocol/validation.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { SignatureVerifier } from "./sig_verifier.ts";
import { HeaderStatus, type NodeStore } from "./store.ts";

/** A header known to the node. */
export interface ChainEntry {
  /** Block hash. */
  readonly hash: Uint8Array;
  /** Hex of the hash. */
  readonly hex: string;
  /** The header. */
  readonly header: BlockHeader;
  /** Height. */
  readonly height: number;
  /** Cumulative work up to and including this block. */
  readonly work: bigint;
  /** Parent entry (undefined for genesis). */
  readonly parent: ChainEntry | undefined;
  /** Whether block data is stored, or the block is known invalid. */
  status: HeaderStatus;
  /** Time of block 1 on this entry's branch (the aserti3-2d anchor of its children). */
  readonly anchorTime: number | undefined;
}

/** Raised at startup when the stored state does not match the tip. */
export class StateMismatchError extends Error {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "StateMismatchError";
  }
}

/** What {@link Chain.processBlock} did with a block. */
export type BlockResult =
  | { status: "connected" | "stored" | "duplicate"; entry: ChainEntry }
  | { status: "orphan" };

/** Listener of tip changes. */
export interface ChainListener {
  /** A block became part of the main chain. */
  connected?(entry: ChainEntry, block: Block): void;
  /** A block left the main chain (reorganisation). */
  disconnected?(entry: ChainEntry, block: Block): void;
  /** The tip changed (after a whole reorganisation). */
  tip?(entry: ChainEntry): void;
}

/** Options of {@link Chain}. */
export interface ChainOptions {
  /** Network parameters. */
  params: NetworkParams;
  /** Most blocks held while their parent is unknown. */
  maxOrphans?: number;
}

/** Injected dependencies of {@link Chain}. */
export interface ChainDeps {
  /** The database. */
  store: NodeStore;
  /** Signature cache and worker pool. */
  verifier: SignatureVerifier;
  /** Clock in ms (for the future-drift rule). */
  clock?: () => number;
  /** Logger. */
  logger?: Logger;
}

const META_TIP = "tip";
const META_SMT_ROOT = "smtRoot";

/** State view for applying a block: reads through to the store, buffers writes. */
class OverlayView implements StateView {
  readonly changes = new Map<string, { key: Uint8Array; value: Uint8Array | undefined }>();
  constructor(readonly store: NodeStore) {}
  get(key: Uint8Array): Uint8Array | undefined {
    const change = this.changes.get(bytesToHex(key));
    return change !== undefined ? change.value : this.store.getState(key);
  }
  set(key: Uint8Array, value: Uint8Array | undefined): void {
    this.changes.set(bytesToHex(key), { key, value });
  }
}

/** Undo record: for every state key a block changed, its previous value (node-local format). */
function encodeUndo(entries: { key: Uint8Array; value: Uint8Array | undefined }[]): Uint8Array {
  const w = new ByteWriter(64 * entries.length + 8).varint(entries.length);
  for (const { key, value } of entries) {
    w.varBytes(key);
    if (value === undefined) w.u8(0);
    else w.u8(1).varBytes(value);
  }
  return w.finish();
}

function decodeUndo(bytes: Uint8Array): { key: Uint8Array; value: Uint8Array | undefined }[] {
  return decodeAll(bytes, (r: ByteReader) => {
    const n = r.varint(1_000_000);
    const out: { key: Uint8Array; value: Uint8Array | undefined }[] = [];
    for (let i = 0; i < n; i++) {
      const key = r.varBytes(64).slice();
      out.push({ key, value: r.u8() === 1 ? r.varBytes(1024).slice() : undefined });
    }
    return out;
  }, "undo data");
}

function workHex(work: bigint): string {
  return work.toString(16).padStart(64, "0");
}

/**
 * The chain state machine of a full node.
 *
 * @example
 * ```ts
 * const chain = new Chain({ params }, { store, verifier });
 * chain.init();
 * await chain.processBlock(block);
 * ```
 */
export class Chain {
  readonly params: NetworkParams;
  readonly #store: NodeStore;
  readonly #verifier: SignatureVerifier;
  readonly #clock: () => number;
  readonly #log: Logger;
  readonly #entries = new Map<string, ChainEntry>();
  readonly #childrenOf = new Map<string, ChainEntry[]>();
  readonly #rejections = new Map<string, ValidationError>();
  readonly #candidates = new Set<ChainEntry>();
  readonly #orphans = new Map<string, { block: Block; bytes: Uint8Array }>();
  readonly #maxOrphans: number;
  readonly #listeners: ChainListener[] = [];
  #main: ChainEntry[] = [];
  #bestHeader!: ChainEntry;
  #tree!: SparseMerkleTree;
  #busy: Promise<unknown> = Promise.resolve();
  /** Counters for metrics. */
  readonly stats = { blocksConnected: 0, blocksDisconnected: 0, reorgs: 0, invalidBlocks: 0 };

  /** Create the chain; call {@link init} before use. */
  constructor(options: ChainOptions, deps: ChainDeps) {
    this.params = options.params;
    this.#maxOrphans = options.maxOrphans ?? 100;
    this.#store = deps.store;
    this.#verifier = deps.verifier;
    this.#clock = deps.clock ?? Date.now;
    this.#log = deps.logger ?? silentLogger;
  }

  /** Register a listener of tip changes. */
  listen(listener: ChainListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Load the header tree and tip; create genesis on an empty database. Throws
   * {@link StateMismatchError} when the stored state does not match the tip's stateRoot.
   */
  init(): void {
    const store = this.#store;
    const rows = store.allHeaders();
    if (rows.length === 0) {
      this.#createGenesis();
      return this.init();
    }
    for (const row of rows) {
      const header = decodeHeader(row.header);
      const parent = row.height === 0 ? undefined : this.#entries.get(bytesToHex(header.prevHash));
      if (row.height > 0 && parent === undefined) continue; // unreachable; ignore
      const entry: ChainEntry = {
        hash: row.hash,
        hex: bytesToHex(row.hash),
        header,
        height: row.height,
        work: BigInt("0x" + row.work),
        parent,
        status: row.status,
        anchorTime: header.height === 1 ? header.time : parent?.anchorTime,
      };
      this.#index(entry);
    }
    const genesis = this.#entries.get(this.params.genesisHash);
    if (genesis === undefined) {
      throw new StateMismatchError(
        `the database holds another network's chain (genesis ${this.params.genesisHash} missing)`,
      );
    }
    const tipHash = store.getMeta(META_TIP);
    const tip = tipHash === undefined ? genesis : this.#entries.get(bytesToHex(tipHash));
    if (tip === undefined) {
      throw new StateMismatchError("the stored tip is not in the header tree; restart with --reindex");
    }
    this.#main = [];
    for (let e: ChainEntry | undefined = tip; e !== undefined; e = e.parent) this.#main[e.height] = e;
    const smtRoot = store.getMeta(META_SMT_ROOT) ?? new Uint8Array(32);
    if (!equalBytes(smtRoot, tip.header.stateRoot)) {
      throw new StateMismatchError(
        `state root ${bytesToHex(smtRoot)} does not match tip ${tip.hex} (height ${tip.height}) stateRoot ` +
          `${bytesToHex(tip.header.stateRoot)}; restart with --reindex to rebuild state from the stored blocks`,
      );
    }
    const rootNodeMissing = !equalBytes(smtRoot, new Uint8Array(32)) && store.smtStore().get(smtRoot) === undefined;
    if (rootNodeMissing) {
      throw new StateMismatchError("the state tree's root node is missing; restart with --reindex");
    }
    this.#tree = new SparseMerkleTree(store.smtStore(), smtRoot);
    this.#bestHeader = tip;
    for (const e of this.#entries.values()) {
      if (e.status === HeaderStatus.INVALID) continue;
      if (e.work > this.#bestHeader.work) this.#bestHeader = e;
      if (e.status === HeaderStatus.DATA && e.work > tip.work) this.#candidates.add(e);
    }
  }

  #createGenesis(): void {
    const genesis = genesisBlock(this.params);
    const hash = hashHeader(genesis.header);
    if (bytesToHex(hash) !== this.params.genesisHash) throw new Error("genesis block does not match genesisHash");
    const history = new HistoryAccumulator();
    history.append(hash);
    this.#store.transaction(() => {
      this.#store.putHeader({
        hash,
        height: 0,
        header: encodeHeader(genesis.header),
        work: workHex(workForBits(genesis.header.bits)),
        status: HeaderStatus.DATA,
      }, history.encode());
      this.#store.putBlock(hash, encodeBlock(genesis));
      this.#store.setMain(0, hash);
      this.#store.setMeta(META_TIP, hash);
      this.#store.setMeta(META_SMT_ROOT, new Uint8Array(32));
    });
  }

  /** Rebuild all state from the stored blocks (for `--reindex`). */
  async reindex(onProgress?: (height: number, total: number) => void): Promise<void> {
    this.#store.transaction(() => {
      this.#store.clearState();
      const genesisHash = this.#entries.get(this.params.genesisHash)!.hash;
      this.#store.setMain(0, genesisHash);
      this.#store.setMeta(META_TIP, genesisHash);
      this.#store.setMeta(META_SMT_ROOT, new Uint8Array(32));
    });
    this.#entries.clear();
    this.#childrenOf.clear();
    this.#candidates.clear();
    this.init();
    const total = this.#bestDataEntry()?.height ?? 0;
    const listener: ChainListener = { connected: (e) => onProgress?.(e.height, total) };
    this.#listeners.push(listener);
    try {
      await this.activateBestChain();
    } finally {
      this.#listeners.splice(this.#listeners.indexOf(listener), 1);
    }
  }

  #bestDataEntry(): ChainEntry | undefined {
    let best: ChainEntry | undefined;
    for (const c of this.#candidates) if (best === undefined || c.work > best.work) best = c;
    return best;
  }

  /** The main-chain tip. */
  get tip(): ChainEntry {
    return this.#main[this.#main.length - 1];
  }

  /** Height of the tip. */
  get height(): number {
    return this.#main.length - 1;
  }

  /** The most-work valid header known (may be ahead of the tip while syncing). */
  get bestHeader(): ChainEntry {
    return this.#bestHeader;
  }

  /** Number of blocks waiting for their parent. */
  get orphanCount(): number {
    return this.#orphans.size;
  }

  /** Entry by hash (hex or bytes). */
  entry(hash: Uint8Array | string): ChainEntry | undefined {
    return this.#entries.get(typeof hash === "string" ? hash : bytesToHex(hash));
  }

  /** Main-chain entry at `height`. */
  atHeight(height: number): ChainEntry | undefined {
    return this.#main[height];
  }

  /** Whether `entry` is on the main chain. */
  isMain(entry: ChainEntry): boolean {
    return this.#main[entry.height] === entry;
  }

  /** The sparse Merkle tree of the current state. */
  get tree(): SparseMerkleTree {
    return this.#tree;
  }

  /** Read-only state view at the tip. */
  stateView(): StateView {
    const store = this.#store;
    return {
      get: (key) => store.getState(key),
      set: () => {
        throw new Error("the chain state view is read-only");
      },
    };
  }

  /** Account state at the tip. */
  account(publicKey: Uint8Array): Account {
    const value = this.#store.getState(accountKey(publicKey));
    return value === undefined ? { balance: 0n, nonce: 0n } : decodeAccount(value);
  }

  /** Resolves when every chain operation started so far has finished. */
  idle(): Promise<void> {
    return this.#busy.then(() => {});
  }

  /** Run `fn` after every earlier chain operation; chain mutations are serialised. */
  #exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => {});
    return run;
  }

  #historyOf(entry: ChainEntry): HistoryAccumulator {
    const bytes = this.#store.getHistory(entry.hash);
    if (bytes === undefined) throw new Error(`history accumulator of ${entry.hex} missing`);
    return HistoryAccumulator.decode(bytes);
  }

  #medianTimePast(entry: ChainEntry): number {
    const times: number[] = [];
    for (let e: ChainEntry | undefined = entry; e && times.length < this.params.medianTimeSpan; e = e.parent) {
      times.push(e.header.time);
    }
    return medianTime(times);
  }

  /**
   * Validate and store one header. Returns its entry, or undefined when its parent is
   * unknown. Throws {@link ValidationError} for an invalid header.
   */
  acceptHeader(header: BlockHeader, hash: Uint8Array = hashHeader(header)): ChainEntry | undefined {
    const hex = bytesToHex(hash);
    const known = this.#entries.get(hex);
    if (known !== undefined) {
      if (known.status === HeaderStatus.INVALID) {
        throw new ValidationError(ErrorCode.BAD_PREV, `block ${hex} is known to be invalid`, { ban: true });
      }
      return known;
    }
    const parent = this.#entries.get(bytesToHex(header.prevHash));
    if (parent === undefined) return undefined;
    if (parent.status === HeaderStatus.INVALID) {
      throw new ValidationError(ErrorCode.BAD_PREV, `parent ${parent.hex} is invalid`, { ban: true });
    }
    const history = this.#historyOf(parent);
    checkHeader(
      header,
      {
        parent: parent.header,
        parentHash: parent.hash,
        medianTimePast: this.#medianTimePast(parent),
        historyRoot: history.root(),
        now: this.#clock(),
        anchorTime: parent.anchorTime,
      },
      this.params,
      hash,
    );
    history.append(hash);
    const entry: ChainEntry = {
      hash,
      hex,
      header,
      height: header.height,
      work: parent.work + workForBits(header.bits),
      parent,
      status: HeaderStatus.HEADER,
      anchorTime: header.height === 1 ? header.time : parent.anchorTime,
    };
    this.#store.putHeader({
      hash,
      height: entry.height,
      header: encodeHeader(header),
      work: workHex(entry.work),
      status: entry.status,
    }, history.encode());
    this.#index(entry);
    if (entry.work > this.#bestHeader.work) this.#bestHeader = entry;
    return entry;
  }

  /**
   * Validate headers in chain order. Returns the accepted entries and whether the first
   * header's parent was unknown. Throws on the first invalid header.
   */
  acceptHeaders(headers: readonly BlockHeader[]): { entries: ChainEntry[]; unconnected: boolean } {
    const entries: ChainEntry[] = [];
    this.#store.transaction(() => {
      for (const header of headers) {
        const entry = this.acceptHeader(header);
        if (entry === undefined) break;
        entries.push(entry);
      }
    });
    return { entries, unconnected: headers.length > 0 && entries.length === 0 };
  }

  /**
   * Fully validate a block, store it and move the tip to the most-work chain. Throws
   * {@link ValidationError} for an invalid block (the block is remembered as invalid).
   */
  processBlock(block: Block, bytes: Uint8Array = encodeBlock(block)): Promise<BlockResult> {
    return this.#exclusive(() => this.#processBlock(block, bytes));
  }

  async #processBlock(block: Block, bytes: Uint8Array): Promise<BlockResult> {
    const hash = hashHeader(block.header);
    const hex = bytesToHex(hash);
    const known = this.#entries.get(hex);
    if (known !== undefined && known.status === HeaderStatus.DATA) return { status: "duplicate", entry: known };
    let entry: ChainEntry | undefined;
    this.#store.transaction(() => {
      entry = this.acceptHeader(block.header, hash);
    });
    if (entry === undefined) {
      this.#addOrphan(hex, block, bytes);
      return { status: "orphan" };
    }
    const transfers = block.txs.slice(1).filter((tx): tx is TransferTx => tx.kind === "transfer");
    await this.#verifier.prepare(transfers.map((tx) => ({ tx, txid: txId(tx) })));
    try {
      checkBlockBody(block, this.params, {
        size: bytes.length,
        isSignatureValid: (tx, txid) => this.#verifier.isValid(tx, txid),
      });
    } catch (err) {
      if (err instanceof ValidationError && err.ban) this.#markInvalid(entry);
      throw err;
    }
    const stored = entry;
    this.#store.transaction(() => {
      this.#store.putBlock(stored.hash, bytes);
      this.#store.setStatus(stored.hash, HeaderStatus.DATA);
    });
    stored.status = HeaderStatus.DATA;
    this.#addCandidates(stored);
    const before = this.tip;
    await this.#activate();
    const result: BlockResult = { status: this.isMain(stored) ? "connected" : "stored", entry: stored };
    if ((stored.status as HeaderStatus) === HeaderStatus.INVALID) {
      throw this.#rejections.get(hex) ??
        new ValidationError(ErrorCode.BAD_PREV, `block ${hex} builds on an invalid block`, { ban: true });
    }
    await this.#connectOrphans(stored);
    if (this.tip !== before) { for (const l of this.#listeners) l.tip?.(this.tip); }
    return result;
  }

  #addOrphan(hex: string, block: Block, bytes: Uint8Array): void {
    if (this.#orphans.has(hex)) return;
    if (this.#orphans.size >= this.#maxOrphans) this.#orphans.delete(this.#orphans.keys().next().value!);
    this.#orphans.set(hex, { block, bytes });
  }

  async #connectOrphans(parent: ChainEntry): Promise<void> {
    for (const [hex, orphan] of this.#orphans) {
      if (bytesToHex(orphan.block.header.prevHash) !== parent.hex) continue;
      this.#orphans.delete(hex);
      try {
        await this.#processBlock(orphan.block, orphan.bytes);
      } catch (err) {
        this.#log.debug(`orphan ${hex.slice(0, 16)} rejected: ${(err as Error).message}`);
      }
    }
  }

  /** Add `entry` and its descendants that have data as candidates for the tip. */
  #addCandidates(entry: ChainEntry): void {
    const stack = [entry];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (e.status !== HeaderStatus.DATA) continue;
      if (e.work > this.tip.work) this.#candidates.add(e);
      for (const child of this.#children(e)) stack.push(child);
    }
  }

  #index(entry: ChainEntry): void {
    this.#entries.set(entry.hex, entry);
    if (entry.parent === undefined) return;
    const siblings = this.#childrenOf.get(entry.parent.hex);
    if (siblings === undefined) this.#childrenOf.set(entry.parent.hex, [entry]);
    else siblings.push(entry);
  }

  #children(entry: ChainEntry): ChainEntry[] {
    return this.#childrenOf.get(entry.hex) ?? [];
  }

  /**
   * Headers worth downloading next: every entry without block data, not invalid, whose
   * parent has data and whose work exceeds the tip's (one per competing branch).
   */
  frontier(limit = 64): ChainEntry[] {
    const out: ChainEntry[] = [];
    const tipWork = this.tip.work;
    for (const e of this.#entries.values()) {
      if (e.status !== HeaderStatus.HEADER || e.work <= tipWork) continue;
      if (e.parent === undefined || e.parent.status !== HeaderStatus.DATA) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out.sort((a, b) => a.height - b.height);
  }

  /** Remember a block as invalid (for blocks found invalid before they reach processBlock). */
  rejectBlock(entry: ChainEntry): void {
    if (entry.status !== HeaderStatus.INVALID) this.#markInvalid(entry);
  }

  #markInvalid(entry: ChainEntry): void {
    this.stats.invalidBlocks++;
    const stack = [entry];
    this.#store.transaction(() => {
      while (stack.length > 0) {
        const e = stack.pop()!;
        e.status = HeaderStatus.INVALID;
        this.#candidates.delete(e);
        this.#store.setStatus(e.hash, HeaderStatus.INVALID);
        for (const child of this.#children(e)) stack.push(child);
      }
    });
    if (this.#bestHeader.status === HeaderStatus.INVALID) {
      let best = this.tip;
      for (const e of this.#entries.values()) {
        if (e.status !== HeaderStatus.INVALID && e.work > best.work) best = e;
      }
      this.#bestHeader = best;
    }
  }

  /** Move the tip to the most-work chain whose blocks are all stored and valid. */
  activateBestChain(): Promise<void> {
    return this.#exclusive(() => this.#activate());
  }

  async #activate(): Promise<void> {
    for (;;) {
      let best: ChainEntry | undefined;
      for (const c of this.#candidates) {
        if (c.work <= this.tip.work || c.status !== HeaderStatus.DATA) this.#candidates.delete(c);
        else if (best === undefined || c.work > best.work) best = c;
      }
      if (best === undefined) return;
      const path: ChainEntry[] = [];
      let fork: ChainEntry | undefined = best;
      while (fork !== undefined && !this.isMain(fork)) {
        path.push(fork);
        fork = fork.parent;
      }
      if (fork === undefined) {
        this.#candidates.delete(best);
        continue;
      }
      path.reverse();
      // Only blocks whose data is stored can be connected.
      const missing = path.findIndex((e) => e.status !== HeaderStatus.DATA);
      if (missing >= 0) {
        path.length = missing;
        if (path.length === 0 || path[path.length - 1].work <= this.tip.work) {
          this.#candidates.delete(best);
          continue;
        }
      }
      if (fork !== this.tip) {
        this.stats.reorgs++;
        this.#log.info(`reorganisation: ${this.tip.height - fork.height} block(s) back to height ${fork.height}`);
        while (this.tip !== fork) this.#disconnectTip();
      }
      for (const e of path) {
        try {
          this.#connect(e);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          this.#log.warn(`block ${e.hex.slice(0, 16)} at height ${e.height} is invalid: ${err.message}`);
          if (this.#rejections.size >= 100) this.#rejections.delete(this.#rejections.keys().next().value!);
          this.#rejections.set(e.hex, new ValidationError(err.code, err.message, { ban: true }));
          this.#markInvalid(e);
          break;
        }
      }
      // Yield between rounds so a long sync does not starve sockets and timers.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  #loadBlock(entry: ChainEntry): Block {
    const bytes = this.#store.getBlock(entry.hash);
    if (bytes === undefined) throw new Error(`block data of ${entry.hex} missing`);
    return decodeBlock(bytes, this.params);
  }

  #connect(entry: ChainEntry): void {
    const block = this.#loadBlock(entry);
    const store = this.#store;
    const root = this.#tree.root();
    try {
      store.transaction(() => {
        const view = new OverlayView(store);
        applyBlock(view, block, this.params);
        const undo: { key: Uint8Array; value: Uint8Array | undefined }[] = [];
        for (const { key, value } of view.changes.values()) {
          undo.push({ key, value: store.getState(key) });
          store.setState(key, value);
          if (value === undefined) this.#tree.delete(key);
          else this.#tree.set(key, value);
        }
        const newRoot = this.#tree.root();
        if (!equalBytes(newRoot, block.header.stateRoot)) {
          throw new ValidationError(ErrorCode.BAD_STATE_ROOT, `stateRoot does not match the state after the block`, {
            ban: true,
          });
        }
        store.putUndo(entry.hash, encodeUndo(undo));
        store.setMain(entry.height, entry.hash);
        block.txs.forEach((tx, i) => {
          const id = txId(tx);
          store.putTx(id, entry.hash, i);
          // Included transactions leave the persisted mempool in the same commit.
          if (tx.kind === "transfer") store.removeMempool(id);
        });
        store.setMeta(META_TIP, entry.hash);
        store.setMeta(META_SMT_ROOT, newRoot);
      });
    } catch (err) {
      this.#tree = new SparseMerkleTree(store.smtStore(), root);
      throw err;
    }
    this.#main.push(entry);
    this.#candidates.delete(entry);
    this.stats.blocksConnected++;
    for (const l of this.#listeners) l.connected?.(entry, block);
  }

  #disconnectTip(): void {
    const entry = this.tip;
    const parent = entry.parent;
    if (parent === undefined) throw new Error("cannot disconnect genesis");
    const block = this.#loadBlock(entry);
    const store = this.#store;
    const root = this.#tree.root();
    try {
      store.transaction(() => {
        const undoBytes = store.getUndo(entry.hash);
        if (undoBytes === undefined) throw new Error(`undo data of ${entry.hex} missing`);
        for (const { key, value } of decodeUndo(undoBytes)) {
          store.setState(key, value);
          if (value === undefined) this.#tree.delete(key);
          else this.#tree.set(key, value);
        }
        const newRoot = this.#tree.root();
        if (!equalBytes(newRoot, parent.header.stateRoot)) {
          throw new Error(`undo of ${entry.hex} did not restore the state`);
        }
        store.deleteUndo(entry.hash);
        store.deleteMain(entry.height);
        const now = this.#clock();
        for (const tx of block.txs) {
          const id = txId(tx);
          store.deleteTx(id);
          // Its transfers go back to the persisted mempool in the same commit, so a crash
          // before the mempool re-validates them loses nothing.
          if (tx.kind === "transfer") store.addMempool(id, encodeTx(tx), now);
        }
        store.setMeta(META_TIP, parent.hash);
        store.setMeta(META_SMT_ROOT, newRoot);
      });
    } catch (err) {
      this.#tree = new SparseMerkleTree(store.smtStore(), root);
      throw err;
    }
    this.#main.pop();
    this.#candidates.add(entry);
    this.stats.blocksDisconnected++;
    for (const l of this.#listeners) l.disconnected?.(entry, block);
  }

  /**
   * A block template on the tip: the given transfers that still apply (in order), a coinbase
   * paying subsidy plus fees to `miner`, and every root computed without touching the store.
   */
  buildTemplate(
    options: { miner: Uint8Array; txs: readonly TransferTx[]; time?: number; extra?: Uint8Array },
  ): BlockTemplate {
    const parent = this.tip;
    const height = parent.height + 1;
    const scratch = new OverlayView(this.#store);
    matureReward(scratch, height, this.params);
    const txs: TransferTx[] = [];
    let fees = 0n;
    for (const tx of options.txs) {
      try {
        fees += applyTransfer(scratch, tx, this.params);
        txs.push(tx);
      } catch {
        // Stale since it entered the mempool: leave it out.
      }
    }
    const coinbase: CoinbaseTx = {
      kind: "coinbase",
      network: this.params.networkId,
      height,
      recipient: options.miner,
      amount: blockSubsidy(this.params, height) + fees,
      extra: options.extra ?? new Uint8Array(0),
    };
    const all: Transaction[] = [coinbase, ...txs];
    const block: Block = {
      header: {
        version: HEADER_VERSION,
        height,
        prevHash: parent.hash,
        txRoot: computeTxRoot(all.map(txId)),
        stateRoot: new Uint8Array(32),
        historyRoot: this.#historyOf(parent).root(),
        time: Math.max(options.time ?? this.#clock(), this.#medianTimePast(parent) + 1),
        bits: nextBits(this.params, parent.header, parent.anchorTime),
        nonce: 0n,
      },
      txs: all,
    };
    const view = new OverlayView(this.#store);
    applyBlock(view, block, this.params);
    const tree = new SparseMerkleTree(new OverlaySmtStore(this.#store.smtStore()), this.#tree.root());
    for (const { key, value } of view.changes.values()) {
      if (value === undefined) tree.delete(key);
      else tree.set(key, value);
    }
    block.header.stateRoot = tree.root();
    return { block, fees, parent };
  }

  /** Anchor data at a main-chain height for light clients (docs/protocol.md §13, checkpoints). */
  checkpoint(height: number):
    | {
      header: BlockHeader;
      ancestors: BlockHeader[];
      history: Uint8Array;
      anchor?: BlockHeader;
      anchorProof?: Uint8Array[];
    }
    | undefined {
    const entry = this.#main[height];
    if (entry === undefined) return undefined;
    const ancestors: BlockHeader[] = [];
    for (let e = entry.parent; e !== undefined && ancestors.length < this.params.medianTimeSpan - 1; e = e.parent) {
      ancestors.unshift(e.header);
    }
    const history = entry.parent === undefined ? new HistoryAccumulator() : this.#historyOf(entry.parent);
    if (height < 2) return { header: entry.header, ancestors, history: history.encode() };
    // Block 1 anchors the difficulty: prove it against this header's historyRoot.
    return {
      header: entry.header,
      ancestors,
      history: history.encode(),
      anchor: this.#main[1].header,
      anchorProof: this.proveHistory(1, entry)!.proof,
    };
  }

  /** Block locator of the main chain (docs/protocol.md §13). */
  locator(): Uint8Array[] {
    return locatorHeights(this.height).map((h) => this.#main[h].hash);
  }

  /** Headers of the main chain after the first locator hash found on it. */
  headersAfter(locator: readonly Uint8Array[], options: { stop?: Uint8Array; limit: number }): BlockHeader[] {
    let start = 1;
    for (const hash of locator) {
      const e = this.#entries.get(bytesToHex(hash));
      if (e !== undefined && this.isMain(e)) {
        start = e.height + 1;
        break;
      }
    }
    const out: BlockHeader[] = [];
    for (let h = start; h <= this.height && out.length < options.limit; h++) {
      out.push(this.#main[h].header);
      if (options.stop !== undefined && equalBytes(this.#main[h].hash, options.stop)) break;
    }
    return out;
  }

  /** Encoded block data by hash. */
  blockBytes(hash: Uint8Array): Uint8Array | undefined {
    return this.#store.getBlock(hash);
  }

  /** A decoded block by hash. */
  block(hash: Uint8Array): Block | undefined {
    const bytes = this.#store.getBlock(hash);
    return bytes === undefined ? undefined : decodeBlock(bytes, this.params);
  }

  /** A main-chain transaction with its block entry and index. */
  transaction(txid: Uint8Array): { tx: Transaction; entry: ChainEntry; index: number; block: Block } | undefined {
    const loc = this.#store.getTx(txid);
    if (loc === undefined) return undefined;
    const entry = this.#entries.get(bytesToHex(loc.block));
    const block = entry && this.block(entry.hash);
    if (entry === undefined || block === undefined || !this.isMain(entry)) return undefined;
    return { tx: block.txs[loc.index], entry, index: loc.index, block };
  }

  /** RFC 6962 inclusion proof of a main-chain transaction against its block's txRoot. */
  proveTransaction(txid: Uint8Array):
    | { tx: Transaction; header: BlockHeader; index: number; size: number; proof: Uint8Array[] }
    | undefined {
    const found = this.transaction(txid);
    if (found === undefined) return undefined;
    const txids = found.block.txs.map(txId);
    return {
      tx: found.tx,
      header: found.entry.header,
      index: found.index,
      size: txids.length,
      proof: inclusionProof(txids, found.index),
    };
  }

  /** Account value (encoded, or undefined when absent) with a sparse Merkle proof against the tip. */
  proveAccount(publicKey: Uint8Array): { header: BlockHeader; value: Uint8Array | undefined; proof: SmtProof } {
    const key = accountKey(publicKey);
    return { header: this.tip.header, value: this.#store.getState(key), proof: this.#tree.prove(key) };
  }

  /**
   * The main-chain header at `height` with an RFC 6962 proof against the historyRoot of the
   * main-chain header `at` (the tip by default), which must be higher.
   */
  proveHistory(height: number, at: ChainEntry = this.tip):
    | { header: BlockHeader; at: BlockHeader; proof: Uint8Array[] }
    | undefined {
    if (!this.isMain(at) || height < 0 || height >= at.height) return undefined;
    const leaves = this.#main.slice(0, at.height).map((e) => hashLeaf(e.hash));
    return { header: this.#main[height].header, at: at.header, proof: inclusionProofOfLeafHashes(leaves, height) };
  }
}

/** A node store layered over another: writes stay in memory, reads fall through. */
class OverlaySmtStore implements SmtStore {
  readonly #nodes = new Map<string, Uint8Array>();
  constructor(readonly base: SmtStore) {}
  get(hash: Uint8Array): Uint8Array | undefined {
    return this.#nodes.get(bytesToHex(hash)) ?? this.base.get(hash);
  }
  set(hash: Uint8Array, node: Uint8Array): void {
    this.#nodes.set(bytesToHex(hash), node);
  }
  delete(): void {
    // Content-addressed and never read again in this version: nothing to do.
  }
}

/** A block ready for proof of work. */
export interface BlockTemplate {
  /** The block with nonce 0. */
  block: Block;
  /** Fees it collects. */
  fees: bigint;
  /** The entry it builds on. */
  parent: ChainEntry;
}
