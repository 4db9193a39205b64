/**
 * Byte helpers shared by every layer: hex, comparison, concatenation and
 * argument checks that name the offending argument.
 *
 * @module
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Lower-case hex of `bytes`.
 *
 * @example
 * ```ts
 * bytesToHex(new Uint8Array([1, 255])); // "01ff"
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  abytes(bytes, undefined, "bytes");
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Parse hex (either case, even length, no prefix) into bytes.
 * Throws `TypeError` for non-strings and `RangeError` for odd length or non-hex characters.
 *
 * @example
 * ```ts
 * hexToBytes("01ff"); // Uint8Array [1, 255]
 * ```
 */
export function hexToBytes(hex: string, name = "hex"): Uint8Array {
  if (typeof hex !== "string") throw new TypeError(`Expected "${name}" to be a hex string, got ${typeof hex}`);
  if (hex.length % 2 !== 0) {
    throw new RangeError(`Expected "${name}" to have an even number of hex digits, got ${hex.length}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i));
    const lo = hexNibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new RangeError(`Expected "${name}" to be hex, found a non-hex character at ${2 * i}`);
    out[i] = hi * 16 + lo;
  }
  return out;
}

/**
 * Constant-shape equality of two byte arrays.
 *
 * @example
 * ```ts
 * equalBytes(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Lexicographic comparison: negative, zero or positive like `Array.prototype.sort` expects.
 *
 * @example
 * ```ts
 * compareBytes(new Uint8Array([1]), new Uint8Array([2])); // -1
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Concatenate byte arrays into a new one.
 *
 * @example
 * ```ts
 * concatBytes(new Uint8Array([1]), new Uint8Array([2])); // Uint8Array [1, 2]
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Assert that `value` is a Uint8Array (of `length` bytes when given), naming the argument.
 *
 * @example
 * ```ts
 * abytes(new Uint8Array(32), 32, "prevHash");
 * ```
 */
export function abytes(value: unknown, length?: number, name = "value"): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Expected "${name}" to be a Uint8Array, got ${value === null ? "null" : typeof value}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`Expected "${name}" to be ${length} bytes, got ${value.length}`);
  }
}

/**
 * Assert that `value` is an integer in [min, max], naming the argument.
 *
 * @example
 * ```ts
 * aint(7, 0, 10, "height");
 * ```
 */
export function aint(value: unknown, min: number, max: number, name = "value"): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Expected "${name}" to be an integer, got ${typeof value === "number" ? value : typeof value}`);
  }
  if (value < min || value > max) throw new RangeError(`Expected "${name}" in [${min}, ${max}], got ${value}`);
}

/**
 * Assert that `value` is a bigint in [min, max], naming the argument.
 *
 * @example
 * ```ts
 * abigint(5n, 0n, 10n, "amount");
 * ```
 */
export function abigint(value: unknown, min: bigint, max: bigint, name = "value"): asserts value is bigint {
  if (typeof value !== "bigint") throw new TypeError(`Expected "${name}" to be a bigint, got ${typeof value}`);
  if (value < min || value > max) throw new RangeError(`Expected "${name}" in [${min}, ${max}], got ${value}`);
}

/** 32 zero bytes: the empty sparse-tree subtree and the genesis prevHash. */
export const ZERO_HASH: Uint8Array = new Uint8Array(32);

/** Largest u64 as a bigint. */
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Largest u32. */
export const U32_MAX = 0xffff_ffff;
