/**
 * Block headers: the fixed 156-byte encoding and the block hash (protocol/header.ts).
 *
 * Run: deno test -A tests/header_test.ts
 */
import assert from "node:assert/strict";
import { U32_MAX, U64_MAX } from "../protocol/bytes.ts";
import { ByteReader, ByteWriter } from "../protocol/encoding.ts";
import { DecodeError, ErrorCode } from "../protocol/errors.ts";
import { sha256 } from "../protocol/hash.ts";
import {
  type BlockHeader,
  decodeHeader,
  encodeHeader,
  hashHeader,
  HEADER_BYTES,
  NONCE_OFFSET,
  readHeader,
  TIME_OFFSET,
  writeHeader,
} from "../protocol/header.ts";
import { type Rng, rng } from "./helpers/random.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function u32(r: Rng): number {
  const b = r.bytes(4);
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}

function u64(r: Rng): bigint {
  const b = r.bytes(8);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

function randomHeader(r: Rng): BlockHeader {
  return {
    version: u32(r),
    height: u32(r),
    prevHash: r.bytes(32),
    txRoot: r.bytes(32),
    stateRoot: r.bytes(32),
    historyRoot: r.bytes(32),
    time: Number(u64(r) & BigInt(Number.MAX_SAFE_INTEGER)),
    bits: u32(r),
    nonce: u64(r),
  };
}

function assertDecodeError(fn: () => unknown, label: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DecodeError, `${label}: expected DecodeError, got ${err}`);
    assert.equal(err.code, ErrorCode.MALFORMED, label);
    assert.equal(err.ban, true, label);
    return true;
  }, label);
}

Deno.test("encodeHeader()/decodeHeader() round-trip random headers in exactly 156 bytes", () => {
  const r = rng(0x4ead);
  assert.equal(HEADER_BYTES, 156);
  for (let i = 0; i < 200; i++) {
    const header = randomHeader(r);
    const bytes = encodeHeader(header);
    assert.equal(bytes.length, 156);
    assert.deepEqual(decodeHeader(bytes), header);
  }
});

Deno.test("encodeHeader()/decodeHeader() round-trip extreme field values", () => {
  const zero = new Uint8Array(32);
  const ones = new Uint8Array(32).fill(0xff);
  const headers: BlockHeader[] = [
    {
      version: 0,
      height: 0,
      prevHash: zero,
      txRoot: zero,
      stateRoot: zero,
      historyRoot: zero,
      time: 0,
      bits: 0,
      nonce: 0n,
    },
    {
      version: U32_MAX,
      height: U32_MAX,
      prevHash: ones,
      txRoot: ones,
      stateRoot: ones,
      historyRoot: ones,
      time: Number.MAX_SAFE_INTEGER,
      bits: U32_MAX,
      nonce: U64_MAX,
    },
  ];
  for (const header of headers) assert.deepEqual(decodeHeader(encodeHeader(header)), header);
});

Deno.test("encodeHeader() puts every field at its documented offset", () => {
  const header = randomHeader(rng(0x0ff5));
  const bytes = encodeHeader(header);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0, true), header.version, "version @0");
  assert.equal(view.getUint32(4, true), header.height, "height @4");
  assert.deepEqual(bytes.slice(8, 40), header.prevHash, "prevHash @8");
  assert.deepEqual(bytes.slice(40, 72), header.txRoot, "txRoot @40");
  assert.deepEqual(bytes.slice(72, 104), header.stateRoot, "stateRoot @72");
  assert.deepEqual(bytes.slice(104, 136), header.historyRoot, "historyRoot @104");
  assert.equal(view.getBigUint64(136, true), BigInt(header.time), "time u64 LE @136");
  assert.equal(view.getUint32(144, true), header.bits, "bits @144");
  assert.equal(view.getBigUint64(148, true), header.nonce, "nonce u64 LE @148");
  assert.equal(TIME_OFFSET, 136);
  assert.equal(NONCE_OFFSET, 148);
});

Deno.test("encodeHeader() writes little-endian integers byte by byte", () => {
  const header = randomHeader(rng(0x1e));
  header.version = 0x04030201;
  header.time = 0x0006_0504_0302_01;
  header.nonce = 0x0807_0605_0403_0201n;
  const bytes = encodeHeader(header);
  assert.deepEqual(Array.from(bytes.slice(0, 4)), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(bytes.slice(136, 144)), [1, 2, 3, 4, 5, 6, 0, 0]);
  assert.deepEqual(Array.from(bytes.slice(148, 156)), [1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("hashHeader() is SHA-256 of the 156-byte encoding and changes with the nonce", () => {
  const r = rng(0x4a54);
  for (let i = 0; i < 20; i++) {
    const header = randomHeader(r);
    assert.deepEqual(hashHeader(header), sha256(encodeHeader(header)));
    const next = { ...header, nonce: header.nonce ^ 1n };
    assert.notDeepEqual(hashHeader(next), hashHeader(header));
  }
});

Deno.test("writeHeader()/readHeader() compose with other fields in one stream", () => {
  const r = rng(0x57e);
  const a = randomHeader(r);
  const b = randomHeader(r);
  const bytes = writeHeader(writeHeader(new ByteWriter(1), a).u8(7), b).finish();
  assert.equal(bytes.length, 2 * 156 + 1);
  const reader = new ByteReader(bytes);
  assert.deepEqual(readHeader(reader), a);
  assert.equal(reader.u8(), 7);
  assert.deepEqual(readHeader(reader), b);
  reader.end();
});

Deno.test("decodeHeader() returns copies that do not alias the input bytes", () => {
  const header = randomHeader(rng(0xa1));
  const bytes = encodeHeader(header);
  const decoded = decodeHeader(bytes);
  bytes.fill(0);
  assert.deepEqual(decoded, header);
});

Deno.test("decodeHeader() rejects every length other than 156", () => {
  const bytes = encodeHeader(randomHeader(rng(0x155)));
  for (const len of [0, 1, 4, 8, 40, 136, 148, 155]) {
    assertDecodeError(() => decodeHeader(bytes.slice(0, len)), `${len}`);
  }
  const longer = new Uint8Array(157);
  longer.set(bytes);
  assertDecodeError(() => decodeHeader(longer), "157");
  assertDecodeError(() => decodeHeader(new Uint8Array(312)), "312");
});

Deno.test("decodeHeader() rejects a time above 2^53 - 1", () => {
  const header = randomHeader(rng(0x253));
  header.time = Number.MAX_SAFE_INTEGER;
  const bytes = encodeHeader(header);
  assert.equal(decodeHeader(bytes).time, Number.MAX_SAFE_INTEGER);
  const view = new DataView(bytes.buffer);
  for (const time of [2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, U64_MAX]) {
    view.setBigUint64(TIME_OFFSET, time, true);
    assertDecodeError(() => decodeHeader(bytes), `time ${time}`);
  }
});

Deno.test("decodeHeader() throws TypeError for input that is not a Uint8Array", () => {
  for (const bad of [null, undefined, "00".repeat(156), Array(156).fill(0), new ArrayBuffer(156)]) {
    assert.throws(() => decodeHeader(bad as Any), TypeError);
  }
});

Deno.test("encodeHeader() rejects out-of-range fields and wrong-length hashes", () => {
  const header = randomHeader(rng(0xe0));
  const bad: [string, Partial<Record<keyof BlockHeader, unknown>>, ErrorConstructor][] = [
    ["version -1", { version: -1 }, RangeError],
    ["version 2^32", { version: U32_MAX + 1 }, RangeError],
    ["height -1", { height: -1 }, RangeError],
    ["height 2^32", { height: U32_MAX + 1 }, RangeError],
    ["height 1.5", { height: 1.5 }, TypeError],
    ["height bigint", { height: 1n }, TypeError],
    ["time -1", { time: -1 }, RangeError],
    ["time 2^53", { time: 2 ** 53 }, RangeError],
    ["time NaN", { time: NaN }, TypeError],
    ["time bigint", { time: 1n }, TypeError],
    ["bits 2^32", { bits: U32_MAX + 1 }, RangeError],
    ["nonce -1", { nonce: -1n }, RangeError],
    ["nonce 2^64", { nonce: U64_MAX + 1n }, RangeError],
    ["nonce number", { nonce: 1 }, TypeError],
  ];
  for (const field of ["prevHash", "txRoot", "stateRoot", "historyRoot"] as const) {
    bad.push([`${field} 31 bytes`, { [field]: new Uint8Array(31) }, RangeError]);
    bad.push([`${field} 33 bytes`, { [field]: new Uint8Array(33) }, RangeError]);
    bad.push([`${field} hex`, { [field]: "00".repeat(32) }, TypeError]);
  }
  for (const [label, change, type] of bad) {
    assert.throws(() => encodeHeader({ ...header, ...change } as BlockHeader), type, label);
    assert.throws(() => hashHeader({ ...header, ...change } as BlockHeader), type, label);
  }
});
