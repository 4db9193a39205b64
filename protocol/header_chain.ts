/**
 * A verified header chain without blocks: every header is checked by the consensus header
 * rules (linkage, PoW against the required bits, aserti3-2d, median-time-past, future drift,
 * historyRoot), the best chain is the one with the most cumulative work, and reorganisations
 * are followed. It can start from genesis or from a trusted checkpoint, and can keep only a
 * window of recent headers: older blocks are proven through a recent header's historyRoot.
 *
 * Edge relays use it as their header cache and light clients as their view of the chain.
 * Pure: no I/O; time is passed in.
 *
 * @module
 */

import { bytesToHex, equalBytes, hexToBytes } from "./bytes.ts";
import { ErrorCode, ValidationError } from "./errors.ts";
import { type BlockHeader, decodeHeader, encodeHeader, hashHeader } from "./header.ts";
import { HistoryAccumulator, verifyHistoryProof } from "./history.ts";
import { genesisBlock, type NetworkParams } from "./params.ts";
import { workForBits } from "./pow.ts";
import { checkHeader, locatorHeights, medianTime } from "./validation.ts";

/** A header in the chain. */
export interface HeaderEntry {
  /** Block hash. */
  readonly hash: Uint8Array;
  /** Hex of the hash. */
  readonly hex: string;
  /** The header. */
  readonly header: BlockHeader;
  /** Height. */
  readonly height: number;
  /** Cumulative work (from genesis, or from the checkpoint's stated work). */
  readonly work: bigint;
  /** Parent entry; undefined at the oldest retained header. */
  readonly parent: HeaderEntry | undefined;
}

/**
 * Compact entry: the encoded header (156 bytes) instead of a decoded one with six arrays, so
 * 100,000 headers fit in about a third of the memory. The header and hash are decoded on use.
 */
class Entry implements HeaderEntry {
  readonly bytes: Uint8Array;
  readonly hex: string;
  readonly height: number;
  readonly time: number;
  readonly work: bigint;
  /** Time of block 1 on this entry's branch: the aserti3-2d anchor of its children. */
  readonly anchorTime: number | undefined;
  parent: HeaderEntry | undefined;
  constructor(
    header: BlockHeader,
    hex: string,
    work: bigint,
    parent: HeaderEntry | undefined,
    anchorTime: number | undefined,
  ) {
    this.bytes = encodeHeader(header);
    this.hex = hex;
    this.height = header.height;
    this.time = header.time;
    this.work = work;
    this.parent = parent;
    this.anchorTime = header.height === 1 ? header.time : anchorTime;
  }
  get header(): BlockHeader {
    return decodeHeader(this.bytes);
  }
  get hash(): Uint8Array {
    return hexToBytes(this.hex);
  }
}

/**
 * Trust anchor to start from instead of genesis. Everything in it is verifiable from the
 * header's hash: `ancestors` link to it by prevHash, and `history` (the accumulator over
 * blocks 0..height-1) must have the header's historyRoot as its root.
 */
export interface Checkpoint {
  /** The trusted header. */
  header: BlockHeader;
  /** Up to medianTimeSpan - 1 ancestors, oldest first, ending with the header's parent. */
  ancestors: BlockHeader[];
  /** Encoded {@link HistoryAccumulator} over the hashes of blocks 0..height-1. */
  history: Uint8Array;
  /** Cumulative work at the header, when known; work is otherwise counted from here. */
  work?: bigint;
  /** Block 1 of this chain (the aserti3-2d anchor); required above height 1. */
  anchor?: BlockHeader;
  /** RFC 6962 proof of block 1 against the header's historyRoot (checked by verifyCheckpoint). */
  anchorProof?: Uint8Array[];
}

/** JSON form of a {@link Checkpoint} (hex strings), for files and the wire. */
export interface CheckpointJson {
  /** Hex of the header. */
  header: string;
  /** Hex of the ancestors, oldest first. */
  ancestors: string[];
  /** Hex of the encoded accumulator. */
  history: string;
  /** Decimal cumulative work. */
  work?: string;
  /** Hex of block 1's header. */
  anchor?: string;
  /** Hex hashes of the anchor's history proof. */
  anchorProof?: string[];
}

/**
 * Check a checkpoint against the trusted hash; throws a {@link ValidationError} naming what
 * does not match.
 *
 * @example
 * ```ts
 * verifyCheckpoint(checkpoint, trustedHashHex);
 * ```
 */
export function verifyCheckpoint(checkpoint: Checkpoint, trustedHash: string, medianTimeSpan = 11): void {
  const hash = hashHeader(checkpoint.header);
  if (bytesToHex(hash) !== trustedHash.toLowerCase()) {
    throw new ValidationError(
      ErrorCode.BAD_PREV,
      `checkpoint header hashes to ${bytesToHex(hash)}, not ${trustedHash}`,
      {
        ban: true,
      },
    );
  }
  // All ancestors the median-time rule needs must be there, or a child could pass it wrongly.
  const needed = Math.min(checkpoint.header.height, medianTimeSpan - 1);
  if (checkpoint.ancestors.length !== needed) {
    throw new ValidationError(
      ErrorCode.BAD_PREV,
      `checkpoint carries ${checkpoint.ancestors.length} ancestors, needs ${needed}`,
      {
        ban: true,
      },
    );
  }
  let child = checkpoint.header;
  for (let i = checkpoint.ancestors.length - 1; i >= 0; i--) {
    const a = checkpoint.ancestors[i];
    if (!equalBytes(hashHeader(a), child.prevHash) || a.height !== child.height - 1) {
      throw new ValidationError(ErrorCode.BAD_PREV, `checkpoint ancestor ${a.height} does not link`, { ban: true });
    }
    child = a;
  }
  if (checkpoint.header.height >= 2) {
    const anchor = checkpoint.anchor;
    const ok = anchor !== undefined && anchor.height === 1 && checkpoint.anchorProof !== undefined &&
      verifyHistoryProof(
        hashHeader(anchor),
        1,
        checkpoint.header.height,
        checkpoint.anchorProof,
        checkpoint.header.historyRoot,
      );
    if (!ok) {
      throw new ValidationError(ErrorCode.BAD_HISTORY_ROOT, "checkpoint anchor (block 1) is missing or not proven", {
        ban: true,
      });
    }
  }
  const acc = HistoryAccumulator.decode(checkpoint.history);
  if (acc.size !== checkpoint.header.height || !equalBytes(acc.root(), checkpoint.header.historyRoot)) {
    throw new ValidationError(
      ErrorCode.BAD_HISTORY_ROOT,
      "checkpoint history does not match the header's historyRoot",
      {
        ban: true,
      },
    );
  }
}

/**
 * Convert a checkpoint to JSON.
 *
 * @example
 * ```ts
 * JSON.stringify(checkpointToJson(chain.checkpoint()));
 * ```
 */
export function checkpointToJson(cp: Checkpoint): CheckpointJson {
  return {
    header: bytesToHex(encodeHeader(cp.header)),
    ancestors: cp.ancestors.map((h) => bytesToHex(encodeHeader(h))),
    history: bytesToHex(cp.history),
    ...(cp.work !== undefined ? { work: cp.work.toString() } : {}),
    ...(cp.anchor !== undefined ? { anchor: bytesToHex(encodeHeader(cp.anchor)) } : {}),
    ...(cp.anchorProof !== undefined ? { anchorProof: cp.anchorProof.map(bytesToHex) } : {}),
  };
}

/**
 * Parse a checkpoint from JSON (strict: throws on malformed fields).
 *
 * @example
 * ```ts
 * const cp = checkpointFromJson(JSON.parse(text));
 * ```
 */
export function checkpointFromJson(json: CheckpointJson): Checkpoint {
  if (typeof json !== "object" || json === null || !Array.isArray(json.ancestors) || json.ancestors.length > 64) {
    throw new TypeError("checkpoint must be an object with header, ancestors and history");
  }
  return {
    header: decodeHeader(hexToBytes(json.header, "header")),
    ancestors: json.ancestors.map((h) => decodeHeader(hexToBytes(h, "ancestor"))),
    history: hexToBytes(json.history, "history"),
    ...(json.work !== undefined ? { work: BigInt(/^\d{1,100}$/.test(json.work) ? json.work : "x") } : {}),
    ...(json.anchor !== undefined ? { anchor: decodeHeader(hexToBytes(json.anchor, "anchor")) } : {}),
    ...(json.anchorProof !== undefined ? { anchorProof: parseProof(json.anchorProof) } : {}),
  };
}

function parseProof(value: unknown): Uint8Array[] {
  if (!Array.isArray(value) || value.length > 64) {
    throw new TypeError("anchorProof must be an array of at most 64 hashes");
  }
  return value.map((h) => {
    if (typeof h !== "string" || h.length !== 64) throw new TypeError("anchorProof hashes must be 64 hex digits");
    return hexToBytes(h, "anchorProof");
  });
}

/** Outcome of adding one header. */
export interface AddResult {
  /** "added": new and valid; "known": already held; "orphan": parent unknown. */
  status: "added" | "known" | "orphan";
  /** The entry (undefined for an orphan). */
  entry?: HeaderEntry;
  /** Entries that left the best chain (newest first) when the tip moved to another branch. */
  disconnected: HeaderEntry[];
  /** Entries that joined the best chain (oldest first). */
  connected: HeaderEntry[];
}

/** Options of {@link HeaderChain}. */
export interface HeaderChainOptions {
  /** Network parameters. */
  params: NetworkParams;
  /** Start from this trusted checkpoint instead of genesis (verify it first). */
  checkpoint?: Checkpoint;
  /** Keep at most about this many recent best-chain headers (default: all). */
  maxHeaders?: number;
}

const CACHE_EVERY = 256;

/**
 * Verified header chain.
 *
 * @example
 * ```ts
 * const chain = new HeaderChain({ params: REGTEST });
 * chain.add(header, Date.now());
 * chain.tip.height;
 * ```
 */
export class HeaderChain {
  /** Network parameters the headers are checked against. */
  readonly params: NetworkParams;
  readonly #maxHeaders: number;
  readonly #entries = new Map<string, HeaderEntry>();
  /** Best chain from the base: #main[i] has height #base.height + i. */
  #main: HeaderEntry[] = [];
  /** Block 1 of the retained chain, once the base is above it (for checkpoints). */
  #baseAnchor: BlockHeader | undefined;
  /** Up to medianTimeSpan - 1 headers before the base, oldest first. */
  #baseAncestors: BlockHeader[] = [];
  /** Encoded accumulator over blocks 0..base.height-1 (what the base's historyRoot commits to). */
  #baseHistory: Uint8Array;
  /** Accumulators including the block's own hash, by main-chain height (the base and every 256th). */
  readonly #historyCache = new Map<number, Uint8Array>();
  /** Accumulator including the tip's hash. */
  #tipHistory: HistoryAccumulator;

  /** Start at genesis or at `options.checkpoint`. */
  constructor(options: HeaderChainOptions) {
    this.params = options.params;
    this.#maxHeaders = Math.max(2 * CACHE_EVERY, options.maxHeaders ?? Infinity);
    const cp = options.checkpoint;
    let base: HeaderEntry;
    let history: HistoryAccumulator;
    if (cp === undefined) {
      const header = genesisBlock(this.params).header;
      const hash = hashHeader(header);
      base = new Entry(header, bytesToHex(hash), workForBits(header.bits), undefined, undefined);
      history = new HistoryAccumulator();
      this.#baseHistory = history.encode();
    } else {
      const hash = hashHeader(cp.header);
      if (cp.header.height >= 2 && cp.anchor === undefined && this.params.retarget) {
        throw new RangeError("a checkpoint above height 1 must carry block 1 (the difficulty anchor)");
      }
      base = new Entry(cp.header, bytesToHex(hash), cp.work ?? 0n, undefined, cp.anchor?.time);
      this.#baseAnchor = cp.header.height === 1 ? cp.header : cp.anchor;
      history = HistoryAccumulator.decode(cp.history);
      this.#baseHistory = history.encode();
      this.#baseAncestors = cp.ancestors.slice(-(this.params.medianTimeSpan - 1));
    }
    history.append(base.hash);
    this.#entries.set(base.hex, base);
    this.#main = [base];
    this.#historyCache.set(base.height, history.encode());
    this.#tipHistory = history;
  }

  /** The best-chain tip. */
  get tip(): HeaderEntry {
    return this.#main[this.#main.length - 1];
  }

  /** Height of the tip. */
  get height(): number {
    return this.tip.height;
  }

  /** The oldest retained best-chain header (genesis, the checkpoint, or the pruning point). */
  get base(): HeaderEntry {
    return this.#main[0];
  }

  /** Number of headers held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Entry by hash (bytes or hex). */
  get(hash: Uint8Array | string): HeaderEntry | undefined {
    return this.#entries.get(typeof hash === "string" ? hash : bytesToHex(hash));
  }

  /** Best-chain entry at `height`, if retained. */
  atHeight(height: number): HeaderEntry | undefined {
    return this.#main[height - this.base.height];
  }

  /** Whether `entry` is on the best chain. */
  isMain(entry: HeaderEntry): boolean {
    return this.atHeight(entry.height) === entry;
  }

  /** The accumulator including `entry`'s hash: what its child's historyRoot commits to. */
  historyOf(entry: HeaderEntry): HistoryAccumulator {
    if (entry === this.tip) return this.#tipHistory.clone();
    const path: HeaderEntry[] = [];
    let e = entry;
    while (!this.isMain(e)) {
      path.push(e);
      if (e.parent === undefined) throw new Error("entry does not connect to the retained chain");
      e = e.parent;
    }
    let h = e.height;
    while (!this.#historyCache.has(h)) h--;
    const acc = HistoryAccumulator.decode(this.#historyCache.get(h)!);
    for (let k = h + 1; k <= e.height; k++) acc.append(this.atHeight(k)!.hash);
    for (let i = path.length - 1; i >= 0; i--) acc.append(path[i].hash);
    return acc;
  }

  #medianTimePast(entry: HeaderEntry): number {
    const times: number[] = [];
    let e: HeaderEntry | undefined = entry;
    while (e !== undefined && times.length < this.params.medianTimeSpan) {
      times.push((e as Entry).time);
      if (e.parent === undefined && e === this.base) {
        for (let i = this.#baseAncestors.length - 1; i >= 0 && times.length < this.params.medianTimeSpan; i--) {
          times.push(this.#baseAncestors[i].time);
        }
      }
      e = e.parent;
    }
    return medianTime(times);
  }

  /**
   * Verify and add one header. Returns "orphan" when its parent is unknown. Throws a
   * {@link ValidationError} for an invalid header (TIME_TOO_NEW is not ban-worthy: it may be
   * valid later).
   */
  add(header: BlockHeader, now: number): AddResult {
    const hash = hashHeader(header);
    const hex = bytesToHex(hash);
    const known = this.#entries.get(hex);
    if (known !== undefined) return { status: "known", entry: known, disconnected: [], connected: [] };
    const parent = this.#entries.get(bytesToHex(header.prevHash));
    if (parent === undefined) return { status: "orphan", disconnected: [], connected: [] };
    const parentHistory = parent === this.tip ? this.#tipHistory : this.historyOf(parent);
    checkHeader(
      header,
      {
        parent: parent.header,
        parentHash: parent.hash,
        medianTimePast: this.#medianTimePast(parent),
        historyRoot: parentHistory.root(),
        now,
        anchorTime: (parent as Entry).anchorTime,
      },
      this.params,
      hash,
    );
    const entry = new Entry(header, hex, parent.work + workForBits(header.bits), parent, (parent as Entry).anchorTime);
    this.#entries.set(hex, entry);
    if (entry.work <= this.tip.work) return { status: "added", entry, disconnected: [], connected: [] };
    if (parent === this.tip) {
      this.#tipHistory.append(hash);
      this.#main.push(entry);
      if (entry.height % CACHE_EVERY === 0) this.#historyCache.set(entry.height, this.#tipHistory.encode());
      this.#prune();
      return { status: "added", entry, disconnected: [], connected: [entry] };
    }
    // A branch with more work: reorganise to it.
    const connected: HeaderEntry[] = [];
    let fork: HeaderEntry = entry;
    while (!this.isMain(fork)) {
      connected.push(fork);
      fork = fork.parent!;
    }
    connected.reverse();
    const acc = this.historyOf(fork);
    const disconnected = this.#main.slice(fork.height - this.base.height + 1).reverse();
    this.#main.length = fork.height - this.base.height + 1;
    for (const h of [...this.#historyCache.keys()]) if (h > fork.height) this.#historyCache.delete(h);
    for (const e of connected) {
      acc.append(e.hash);
      this.#main.push(e);
      if (e.height % CACHE_EVERY === 0) this.#historyCache.set(e.height, acc.encode());
    }
    this.#tipHistory = acc;
    this.#prune();
    return { status: "added", entry, disconnected, connected };
  }

  /**
   * Add headers in order; stops at the first orphan. Throws on the first invalid header
   * (headers before it stay added).
   */
  addAll(headers: readonly BlockHeader[], now: number): { added: HeaderEntry[]; orphan: boolean; tipChanged: boolean } {
    const before = this.tip;
    const added: HeaderEntry[] = [];
    for (const h of headers) {
      const r = this.add(h, now);
      if (r.status === "orphan") return { added, orphan: true, tipChanged: this.tip !== before };
      if (r.status === "added") added.push(r.entry!);
    }
    return { added, orphan: false, tipChanged: this.tip !== before };
  }

  /** Drop the oldest best-chain headers beyond the window, at a cached accumulator. */
  #prune(): void {
    if (this.#main.length <= this.#maxHeaders + CACHE_EVERY) return;
    let cut = this.#main.length - this.#maxHeaders;
    while (cut > 0 && !this.#historyCache.has(this.base.height + cut)) cut--;
    if (cut <= 0) return;
    const newBase = this.#main[cut];
    const span = this.params.medianTimeSpan - 1;
    const ancestors = [...this.#baseAncestors, ...this.#main.slice(0, cut).map((e) => e.header)].slice(-span);
    const before = this.historyOf(this.#main[cut - 1]).encode();
    if (this.#baseAnchor === undefined && newBase.height >= 1) this.#baseAnchor = this.atHeight(1)?.header;
    for (const h of [...this.#historyCache.keys()]) if (h < newBase.height) this.#historyCache.delete(h);
    // Keep the new base and its descendants; side branches forking below it can never become
    // best. Parents are always inserted before their children, so one pass in insertion order
    // decides every entry.
    const kept = new Set<HeaderEntry>([newBase]);
    for (const [hex, e] of this.#entries) {
      if (e !== newBase && (e.parent === undefined || !kept.has(e.parent))) this.#entries.delete(hex);
      else kept.add(e);
    }
    (newBase as { parent: HeaderEntry | undefined }).parent = undefined;
    this.#main = this.#main.slice(cut);
    this.#baseAncestors = ancestors;
    this.#baseHistory = before;
  }

  /** Block locator of the best chain, within the retained window. */
  locator(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const h of locatorHeights(this.height)) {
      if (h < this.base.height) break;
      out.push(this.atHeight(h)!.hash);
    }
    const last = out[out.length - 1];
    if (last === undefined || bytesToHex(last) !== this.base.hex) out.push(this.base.hash);
    return out;
  }

  /**
   * Best-chain headers after the first locator hash found on the best chain; undefined when
   * none is found (the requester is on a chain this window does not cover).
   */
  headersAfter(
    locator: readonly Uint8Array[],
    options: { stop?: Uint8Array; limit: number },
  ): BlockHeader[] | undefined {
    let start: number | undefined;
    for (const hash of locator) {
      const e = this.get(hash);
      if (e !== undefined && this.isMain(e)) {
        start = e.height + 1;
        break;
      }
    }
    if (start === undefined) return undefined;
    const out: BlockHeader[] = [];
    for (let h = start; h <= this.height && out.length < options.limit; h++) {
      const e = this.atHeight(h)!;
      out.push(e.header);
      if (options.stop !== undefined && equalBytes(e.hash, options.stop)) break;
    }
    return out;
  }

  /** A checkpoint at a best-chain entry (the tip by default) to persist or to start from. */
  checkpoint(entry: HeaderEntry = this.tip): Checkpoint {
    if (!this.isMain(entry)) throw new RangeError("checkpoints must be on the best chain");
    const span = this.params.medianTimeSpan - 1;
    const ancestors: BlockHeader[] = [];
    let e = entry.parent;
    for (; e !== undefined && ancestors.length < span; e = e.parent) ancestors.unshift(e.header);
    if (ancestors.length < span && e === undefined) {
      // Walked down to the base: continue with the headers kept from before it.
      ancestors.unshift(...this.#baseAncestors.slice(-(span - ancestors.length)));
    }
    const history = entry === this.base ? this.#baseHistory : this.historyOf(entry.parent!).encode();
    const anchor = entry.height < 2 ? undefined : (this.atHeight(1)?.header ?? this.#baseAnchor);
    return { header: entry.header, ancestors, history, work: entry.work, ...(anchor ? { anchor } : {}) };
  }
}

/** Saved header chain: the base checkpoint (absent at genesis) and the best-chain headers after it. */
export interface SavedHeaders {
  /** Checkpoint of the oldest retained header. */
  base?: CheckpointJson;
  /** Hex of the best-chain headers after the base, in order. */
  headers: string[];
}

/** A change to persist: best-chain headers from `from` on, the tip height, and a moved base. */
export interface HeaderChange {
  /** Set when the retained window moved. */
  base?: CheckpointJson;
  /** Height of headers[0]. */
  from: number;
  /** Hex of best-chain headers from `from`. */
  headers: string[];
  /** Height of the tip; anything saved above it is gone. */
  tip: number;
}

/**
 * Persistence of a header chain (Deno KV, a file, IndexedDB, Durable Object SQLite, or
 * nothing). Relays and light clients share it.
 */
export interface HeaderStore {
  /** What was saved, if anything. */
  load(): Promise<SavedHeaders | undefined>;
  /** Apply one change. */
  write(change: HeaderChange): Promise<void>;
}

/**
 * Rebuild a header chain from saved headers, re-verifying each; stops at the first header
 * that no longer verifies.
 *
 * @example
 * ```ts
 * const { chain } = restoreHeaderChain(saved, { params, now: Date.now() });
 * ```
 */
export function restoreHeaderChain(
  saved: SavedHeaders | undefined,
  options: { params: NetworkParams; now: number; maxHeaders?: number; checkpoint?: Checkpoint },
): { chain: HeaderChain; restored: number } {
  const trusted = options.checkpoint;
  let chain: HeaderChain | undefined;
  if (saved?.base !== undefined) {
    try {
      const base = checkpointFromJson(saved.base);
      // A saved base only counts when it is above the trusted one.
      if (trusted === undefined || base.header.height > trusted.header.height) {
        chain = new HeaderChain({ params: options.params, checkpoint: base, maxHeaders: options.maxHeaders });
      }
    } catch {
      // unreadable or unusable: start from the trusted checkpoint or genesis
    }
  }
  chain ??= new HeaderChain({ params: options.params, checkpoint: trusted, maxHeaders: options.maxHeaders });
  let restored = 0;
  for (const hex of saved?.headers ?? []) {
    try {
      const r = chain.add(decodeHeader(hexToBytes(hex)), options.now);
      if (r.status === "orphan") break;
      if (r.status === "added") restored++;
    } catch {
      break;
    }
  }
  return { chain, restored };
}

/**
 * The change to persist after the chain moved from a tip at `previousHeight`: the last
 * `overlap` heights before it are rewritten too, so a short reorganisation is captured.
 *
 * @example
 * ```ts
 * await store.write(headerChange(chain, before.height, lastBaseHeight));
 * ```
 */
export function headerChange(
  chain: HeaderChain,
  previousTip: HeaderEntry | number,
  savedBaseHeight: number,
  overlap = 64,
): HeaderChange {
  const tip = chain.tip;
  // Rewrite from the fork point when the previous tip left the best chain (any depth).
  let fork = typeof previousTip === "number" ? previousTip : previousTip.height;
  if (typeof previousTip !== "number") {
    let e: HeaderEntry | undefined = previousTip;
    while (e !== undefined && !chain.isMain(e)) e = e.parent;
    fork = e === undefined ? chain.base.height : e.height;
  }
  const from = Math.max(chain.base.height + 1, Math.min(fork, tip.height) - overlap);
  const headers: string[] = [];
  for (let h = from; h <= tip.height; h++) headers.push(bytesToHex(encodeHeader(chain.atHeight(h)!.header)));
  const base = chain.base.height !== savedBaseHeight ? checkpointToJson(chain.checkpoint(chain.base)) : undefined;
  return { ...(base ? { base } : {}), from, headers, tip: tip.height };
}

/**
 * A {@link HeaderStore} in memory (the default; also handy in tests).
 *
 * @example
 * ```ts
 * const store = new MemoryHeaderStore();
 * ```
 */
export class MemoryHeaderStore implements HeaderStore {
  /** Base checkpoint. */
  base: CheckpointJson | undefined;
  /** Headers by height. */
  readonly byHeight: Map<number, string> = new Map();
  /** Saved tip height. */
  tip: number = -1;
  /** {@inheritDoc HeaderStore.load} */
  load(): Promise<SavedHeaders | undefined> {
    if (this.tip < 0) return Promise.resolve(undefined);
    const heights = [...this.byHeight.keys()].sort((a, b) => a - b);
    return Promise.resolve({
      ...(this.base ? { base: this.base } : {}),
      headers: heights.map((h) => this.byHeight.get(h)!),
    });
  }
  /** {@inheritDoc HeaderStore.write} */
  write(change: HeaderChange): Promise<void> {
    if (change.base !== undefined) {
      this.base = change.base;
      const baseHeight = decodeHeader(hexToBytes(change.base.header)).height;
      for (const h of this.byHeight.keys()) if (h <= baseHeight) this.byHeight.delete(h);
    }
    change.headers.forEach((hex, i) => this.byHeight.set(change.from + i, hex));
    for (const h of this.byHeight.keys()) if (h > change.tip) this.byHeight.delete(h);
    this.tip = change.tip;
    return Promise.resolve();
  }
}
