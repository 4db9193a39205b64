/**
 * The history accumulator: an RFC 6962 tree over block hashes, kept as O(log n) peaks.
 * Block h's header commits `historyRoot` = root over the hashes of blocks 0..h-1, so any
 * earlier block is proven against a later header with an RFC 6962 inclusion proof
 * (docs/protocol.md §8).
 *
 * @module
 */

import { abytes, aint } from "./bytes.ts";
import { type ByteReader, ByteWriter, decodeAll } from "./encoding.ts";
import { DecodeError } from "./errors.ts";
import { sha256 } from "./hash.ts";
import { hashChildren, hashLeaf, verifyInclusion } from "./merkle.ts";

const MAX_HISTORY_SIZE = 2 ** 32;

/**
 * Incremental RFC 6962 root over an append-only list of block hashes.
 *
 * @example
 * ```ts
 * const acc = new HistoryAccumulator();
 * acc.append(genesisHash);
 * acc.root(); // historyRoot of block 1
 * ```
 */
export class HistoryAccumulator {
  /** peaks[level] is the root of a perfect subtree of 2^level leaves, or undefined. */
  #peaks: (Uint8Array | undefined)[];
  #size: number;

  /** An empty accumulator, or one restored from `peaks` (lowest level first) and `size`. */
  constructor(state?: { size: number; peaks: readonly Uint8Array[] }) {
    this.#peaks = [];
    this.#size = 0;
    if (state === undefined) return;
    aint(state.size, 0, MAX_HISTORY_SIZE, "size");
    const expected = popcount(state.size);
    if (!Array.isArray(state.peaks) || state.peaks.length !== expected) {
      throw new RangeError(`Expected "peaks" to hold ${expected} hashes for size ${state.size}`);
    }
    let i = 0;
    for (let level = 0; 2 ** level <= state.size; level++) {
      if (Math.floor(state.size / 2 ** level) % 2 === 1) {
        abytes(state.peaks[i], 32, `peaks[${i}]`);
        this.#peaks[level] = state.peaks[i++].slice();
      }
    }
    this.#size = state.size;
  }

  /** Number of block hashes appended. */
  get size(): number {
    return this.#size;
  }

  /** Append one block hash. */
  append(blockHash: Uint8Array): void {
    abytes(blockHash, 32, "blockHash");
    if (this.#size >= MAX_HISTORY_SIZE) throw new RangeError("history accumulator is full");
    let carry = hashLeaf(blockHash);
    let level = 0;
    while (this.#peaks[level] !== undefined) {
      carry = hashChildren(this.#peaks[level]!, carry);
      this.#peaks[level] = undefined;
      level++;
    }
    this.#peaks[level] = carry;
    this.#size++;
  }

  /** RFC 6962 root over everything appended (SHA-256("") when empty). */
  root(): Uint8Array {
    let acc: Uint8Array | undefined;
    for (const peak of this.#peaks) {
      if (peak !== undefined) acc = acc === undefined ? peak : hashChildren(peak, acc);
    }
    return acc === undefined ? sha256(new Uint8Array(0)) : acc.slice();
  }

  /** Peaks, lowest level first: the whole state. */
  peaks(): Uint8Array[] {
    return this.#peaks.filter((p): p is Uint8Array => p !== undefined).map((p) => p.slice());
  }

  /** An independent copy. */
  clone(): HistoryAccumulator {
    return new HistoryAccumulator({ size: this.#size, peaks: this.peaks() });
  }

  /** Canonical encoding: size varint ‖ peaks (lowest level first). */
  encode(): Uint8Array {
    const w = new ByteWriter(5 + 32 * 32).varint(this.#size);
    for (const p of this.peaks()) w.bytes(p, 32);
    return w.finish();
  }

  /** Strictly decode {@link HistoryAccumulator.encode} output. */
  static decode(bytes: Uint8Array): HistoryAccumulator {
    return decodeAll(bytes, (r: ByteReader) => {
      const size = r.varint(MAX_HISTORY_SIZE, "history size");
      const peaks: Uint8Array[] = [];
      for (let i = 0; i < popcount(size); i++) peaks.push(r.bytes(32, "peak").slice());
      if (peaks.length !== popcount(size)) throw new DecodeError("history peaks missing");
      return new HistoryAccumulator({ size, peaks });
    }, "history accumulator");
  }
}

function popcount(n: number): number {
  let c = 0;
  while (n > 0) {
    c += n % 2;
    n = Math.floor(n / 2);
  }
  return c;
}

/**
 * Verify that block `blockHash` at `height` is committed by a later header: the proof is an
 * RFC 6962 inclusion proof of leaf `height` in the tree of `laterHeight` leaves whose root is
 * the later header's `historyRoot`. Returns `false` on any malformed input; never throws.
 *
 * @example
 * ```ts
 * verifyHistoryProof(hashHeader(old), old.height, tip.height, proof, tip.historyRoot);
 * ```
 */
export function verifyHistoryProof(
  blockHash: Uint8Array,
  height: number,
  laterHeight: number,
  proof: readonly Uint8Array[],
  historyRoot: Uint8Array,
): boolean {
  try {
    if (!(blockHash instanceof Uint8Array) || blockHash.length !== 32) return false;
    return verifyInclusion(hashLeaf(blockHash), height, laterHeight, proof, historyRoot);
  } catch {
    return false;
  }
}
