/**
 * Proof of work: compact targets ("nBits", Bitcoin semantics), chain work, and the
 * aserti3-2d difficulty algorithm (Bitcoin Cash, November 2020), integer-exact.
 *
 * @module
 */

import { abigint, abytes, aint } from "./bytes.ts";

const TWO_256 = 1n << 256n;

/**
 * Decode compact bits to a target (Bitcoin `arith_uint256::SetCompact`). A zero mantissa
 * gives 0n. Throws `RangeError` for a negative encoding (sign bit with a non-zero mantissa)
 * or one that overflows 256 bits.
 *
 * @example
 * ```ts
 * bitsToTarget(0x1d00ffff); // 0xffff << 208
 * ```
 */
export function bitsToTarget(bits: number): bigint {
  aint(bits, 0, 0xffff_ffff, "bits");
  const exponent = bits >>> 24;
  // As in SetCompact, the sign and overflow tests apply to the mantissa after the shift.
  let word = bits & 0x007f_ffff;
  if (exponent <= 3) word >>>= 8 * (3 - exponent);
  if (word !== 0 && (bits & 0x0080_0000) !== 0) {
    throw new RangeError(`bits 0x${bits.toString(16)} encode a negative target`);
  }
  if (word !== 0 && (exponent > 34 || (word > 0xff && exponent > 33) || (word > 0xffff && exponent > 32))) {
    throw new RangeError(`bits 0x${bits.toString(16)} overflow 256 bits`);
  }
  return exponent <= 3 ? BigInt(word) : BigInt(word) << BigInt(8 * (exponent - 3));
}

/**
 * Encode a target as compact bits (Bitcoin `arith_uint256::GetCompact`, never negative).
 *
 * @example
 * ```ts
 * targetToBits(0xffffn << 208n); // 0x1d00ffff
 * ```
 */
export function targetToBits(target: bigint): number {
  abigint(target, 0n, TWO_256 - 1n, "target");
  let size = byteLength(target);
  let compact: bigint;
  if (size <= 3) compact = target << BigInt(8 * (3 - size));
  else compact = target >> BigInt(8 * (size - 3));
  // A set sign bit would read as negative: move one byte into the exponent.
  if (compact & 0x0080_0000n) {
    compact >>= 8n;
    size++;
  }
  return (Number(compact) | (size << 24)) >>> 0;
}

function byteLength(n: bigint): number {
  let size = 0;
  while (n > 0n) {
    n >>= 8n;
    size++;
  }
  return size;
}

/**
 * Expected number of hashes to find a block at `target`: 2^256 / (target + 1).
 *
 * @example
 * ```ts
 * workForTarget(bitsToTarget(0x207fffff)); // 2n
 * ```
 */
export function workForTarget(target: bigint): bigint {
  abigint(target, 0n, TWO_256 - 1n, "target");
  return TWO_256 / (target + 1n);
}

/**
 * Work of a header with compact `bits` (0n when the bits are invalid).
 *
 * @example
 * ```ts
 * workForBits(0x207fffff); // 2n
 * ```
 */
export function workForBits(bits: number): bigint {
  try {
    const target = bitsToTarget(bits);
    return target === 0n ? 0n : workForTarget(target);
  } catch {
    return 0n;
  }
}

/**
 * Whether a 32-byte block hash, read as a big-endian 256-bit integer, is at most `target`.
 *
 * @example
 * ```ts
 * hashMeetsTarget(blockHash, bitsToTarget(header.bits));
 * ```
 */
export function hashMeetsTarget(hash: Uint8Array, target: bigint): boolean {
  abytes(hash, 32, "hash");
  let n = 0n;
  for (let i = 0; i < 32; i += 8) {
    n = (n << 64n) | new DataView(hash.buffer, hash.byteOffset + i, 8).getBigUint64(0, false);
  }
  return n <= target;
}

/** Inputs of {@link asertNextBits}. */
export interface AsertInput {
  /** Compact target of the anchor block. */
  anchorBits: number;
  /** parent.time - anchorParent.time, in the same unit as `idealBlockTime`. */
  timeDelta: bigint;
  /** parent.height - anchor.height. */
  heightDelta: bigint;
  /** Target spacing between blocks. */
  idealBlockTime: bigint;
  /** Time for the difficulty to halve or double when blocks are that far off schedule. */
  halfLife: bigint;
  /** Compact form of the easiest allowed target. */
  powLimitBits: number;
}

/**
 * aserti3-2d (Bitcoin Cash, 2020): the next block's compact target from the anchor.
 *
 *   exponent = ((timeDelta - idealBlockTime * (heightDelta + 1)) * 65536) / halfLife
 *
 * with the division truncating toward zero, then target = anchorTarget * 2^(exponent/65536),
 * the fractional power approximated by the spec's cubic polynomial, clamped to [1, powLimit].
 *
 * @example
 * ```ts
 * asertNextBits({ anchorBits: 0x1d00ffff, timeDelta: 600n, heightDelta: 0n,
 *   idealBlockTime: 600n, halfLife: 172800n, powLimitBits: 0x1d00ffff }); // 0x1d00ffff
 * ```
 */
export function asertNextBits(input: AsertInput): number {
  const { anchorBits, timeDelta, heightDelta, idealBlockTime, halfLife, powLimitBits } = input;
  abigint(timeDelta, -(1n << 62n), 1n << 62n, "timeDelta");
  abigint(heightDelta, 0n, 1n << 62n, "heightDelta");
  abigint(idealBlockTime, 1n, 1n << 32n, "idealBlockTime");
  abigint(halfLife, 1n, 1n << 40n, "halfLife");
  const powLimit = bitsToTarget(powLimitBits);
  const anchorTarget = bitsToTarget(anchorBits);
  if (anchorTarget <= 0n || anchorTarget > powLimit) {
    throw new RangeError(`anchorBits 0x${anchorBits.toString(16)} must encode a target in (0, powLimit]`);
  }
  // BigInt division truncates toward zero, as the spec requires.
  const exponent = ((timeDelta - idealBlockTime * (heightDelta + 1n)) * 65536n) / halfLife;
  // Arithmetic shift: floor division by 65536, so frac is in [0, 65535].
  let shifts = exponent >> 16n;
  const frac = exponent - (shifts << 16n);
  const factor = 65536n +
    ((195766423245049n * frac + 971821376n * frac * frac + 5127n * frac * frac * frac + (1n << 47n)) >> 48n);
  let next = anchorTarget * factor;
  shifts -= 16n;
  if (shifts <= 0n) next >>= -shifts;
  else next <<= shifts;
  if (next === 0n) next = 1n;
  else if (next > powLimit) next = powLimit;
  return targetToBits(next);
}
