/**
 * The one canonical binary encoding: fixed-width little-endian integers, CompactSize
 * varints for lengths and counts, and a strict reader for which every value has exactly
 * one byte string (docs/protocol.md §2).
 *
 * @module
 */

import { abigint, abytes, aint, U32_MAX, U64_MAX } from "./bytes.ts";
import { DecodeError } from "./errors.ts";

/**
 * Append-only writer that grows its buffer as needed.
 *
 * @example
 * ```ts
 * const w = new ByteWriter();
 * w.u32(7).u64(5n).varBytes(new Uint8Array([1, 2]));
 * const bytes = w.finish();
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  /** Create a writer with an initial capacity hint in bytes. */
  constructor(capacity = 256) {
    // Only a hint: anything but a sane positive integer falls back to a small buffer.
    this.#buf = new Uint8Array(Number.isInteger(capacity) && capacity > 16 ? Math.min(capacity, 1 << 26) : 16);
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Write one byte. */
  u8(value: number): this {
    aint(value, 0, 0xff, "u8");
    this.#reserve(1);
    this.#buf[this.#pos++] = value;
    return this;
  }

  /** Write a u16, little-endian. */
  u16(value: number): this {
    aint(value, 0, 0xffff, "u16");
    this.#reserve(2);
    this.#view.setUint16(this.#pos, value, true);
    this.#pos += 2;
    return this;
  }

  /** Write a u32, little-endian. */
  u32(value: number): this {
    aint(value, 0, U32_MAX, "u32");
    this.#reserve(4);
    this.#view.setUint32(this.#pos, value, true);
    this.#pos += 4;
    return this;
  }

  /** Write a u64 (bigint), little-endian. */
  u64(value: bigint): this {
    abigint(value, 0n, U64_MAX, "u64");
    this.#reserve(8);
    this.#view.setBigUint64(this.#pos, value, true);
    this.#pos += 8;
    return this;
  }

  /** Write a CompactSize varint (Bitcoin's encoding: 1, 3, 5 or 9 bytes, always minimal). */
  varint(value: number): this {
    aint(value, 0, Number.MAX_SAFE_INTEGER, "varint");
    if (value < 0xfd) return this.u8(value);
    if (value <= 0xffff) return this.u8(0xfd).u16(value);
    if (value <= U32_MAX) return this.u8(0xfe).u32(value);
    return this.u8(0xff).u64(BigInt(value));
  }

  /** Write raw bytes, optionally asserting their exact length; `name` names the field in errors. */
  bytes(value: Uint8Array, length?: number, name = "bytes"): this {
    abytes(value, length, name);
    this.#reserve(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
    return this;
  }

  /** Write a varint length followed by the bytes. */
  varBytes(value: Uint8Array): this {
    abytes(value, undefined, "varBytes");
    return this.varint(value.length).bytes(value);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** The written bytes (a copy sized exactly). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}

/**
 * Strict reader: every read checks bounds, varints must be minimal and within the caller's
 * cap, and {@link ByteReader.end} rejects trailing bytes. All failures are {@link DecodeError}.
 *
 * @example
 * ```ts
 * const r = new ByteReader(bytes);
 * const height = r.u32();
 * const data = r.varBytes(1000);
 * r.end();
 * ```
 */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  /** Read from `bytes` (not copied). */
  constructor(bytes: Uint8Array) {
    abytes(bytes, undefined, "bytes");
    this.#buf = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(n: number, what: string): void {
    if (this.#pos + n > this.#buf.length) {
      throw new DecodeError(
        `truncated input: need ${n} bytes for ${what} at offset ${this.#pos}, have ${this.#buf.length - this.#pos}`,
      );
    }
  }

  /** Read one byte. */
  u8(): number {
    this.#need(1, "u8");
    return this.#buf[this.#pos++];
  }

  /** Read a little-endian u16. */
  u16(): number {
    this.#need(2, "u16");
    const v = this.#view.getUint16(this.#pos, true);
    this.#pos += 2;
    return v;
  }

  /** Read a little-endian u32. */
  u32(): number {
    this.#need(4, "u32");
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  /** Read a little-endian u64 as a bigint. */
  u64(): bigint {
    this.#need(8, "u64");
    const v = this.#view.getBigUint64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  /** Read a minimal CompactSize varint no greater than `max`. */
  varint(max: number, what = "varint"): number {
    const first = this.u8();
    let value: number;
    if (first < 0xfd) return check(first);
    if (first === 0xfd) {
      value = this.u16();
      if (value < 0xfd) throw new DecodeError(`non-minimal varint for ${what}`);
    } else if (first === 0xfe) {
      value = this.u32();
      if (value <= 0xffff) throw new DecodeError(`non-minimal varint for ${what}`);
    } else {
      const big = this.u64();
      if (big <= BigInt(U32_MAX)) throw new DecodeError(`non-minimal varint for ${what}`);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`${what} ${big} exceeds the cap ${max}`);
      value = Number(big);
    }
    return check(value);
    function check(v: number): number {
      if (v > max) throw new DecodeError(`${what} ${v} exceeds the cap ${max}`);
      return v;
    }
  }

  /** Read exactly `n` bytes (a view into the input; copy it if it must outlive the input). */
  bytes(n: number, what = "bytes"): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Expected "n" to be a byte count, got ${n}`);
    this.#need(n, what);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Read a varint length no greater than `max` followed by that many bytes. */
  varBytes(max: number, what = "bytes"): Uint8Array {
    const n = this.varint(max, `${what} length`);
    return this.bytes(n, what);
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  /** Current offset. */
  get offset(): number {
    return this.#pos;
  }

  /** Assert that the whole input was consumed. */
  end(what = "value"): void {
    if (this.#pos !== this.#buf.length) {
      throw new DecodeError(`${this.#buf.length - this.#pos} trailing bytes after ${what}`);
    }
  }
}

/**
 * Decode `bytes` with `read`, requiring the whole input to be consumed. Any non-decode
 * error from `read` (a RangeError from a value check) is rethrown as a {@link DecodeError}.
 *
 * @example
 * ```ts
 * const n = decodeAll(new Uint8Array([7, 0, 0, 0]), (r) => r.u32(), "u32"); // 7
 * ```
 */
export function decodeAll<T>(bytes: Uint8Array, read: (r: ByteReader) => T, what: string): T {
  const r = new ByteReader(bytes);
  let value: T;
  try {
    value = read(r);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`invalid ${what}: ${(err as Error).message}`);
  }
  r.end(what);
  return value;
}
