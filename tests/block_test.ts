/**
 * Blocks: header, varint count and transactions, decoded within caps (protocol/block.ts).
 *
 * Run: deno test -A tests/block_test.ts
 */
import assert from "node:assert/strict";
import { U64_MAX } from "../protocol/bytes.ts";
import { ByteWriter } from "../protocol/encoding.ts";
import { DecodeError, ErrorCode } from "../protocol/errors.ts";
import {
  type Block,
  type BlockLimits,
  blockTxIds,
  computeTxRoot,
  decodeBlock,
  encodeBlock,
} from "../protocol/block.ts";
import { type BlockHeader, encodeHeader, HEADER_BYTES, TIME_OFFSET } from "../protocol/header.ts";
import { merkleRoot } from "../protocol/merkle.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { type CoinbaseTx, encodeTx, type Transaction, TRANSFER_BYTES, txId } from "../protocol/tx.ts";
import { type Rng, rng } from "./helpers/random.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const LIMITS: BlockLimits = { maxBlockBytes: DEVNET.maxBlockBytes, maxBlockTxs: DEVNET.maxBlockTxs };

function u64(r: Rng): bigint {
  const b = r.bytes(8);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

function randomHeader(r: Rng, height = r.int(1_000_000)): BlockHeader {
  return {
    version: 1,
    height,
    prevHash: r.bytes(32),
    txRoot: r.bytes(32),
    stateRoot: r.bytes(32),
    historyRoot: r.bytes(32),
    time: 1_700_000_000_000 + r.int(1e9),
    bits: 0x207fffff,
    nonce: u64(r),
  };
}

function coinbase(r: Rng, height: number): CoinbaseTx {
  return {
    kind: "coinbase",
    network: REGTEST.networkId,
    height,
    recipient: r.bytes(32),
    amount: u64(r) >> 1n,
    extra: r.bytes(r.int(65)),
  };
}

/** An unsigned-looking transfer: block decoding does not check signatures. */
function transfer(r: Rng): Transaction {
  return {
    kind: "transfer",
    network: REGTEST.networkId,
    sender: r.bytes(32),
    recipient: r.bytes(32),
    amount: u64(r),
    fee: u64(r),
    nonce: u64(r),
    signature: r.bytes(64),
  };
}

function randomBlock(r: Rng, txCount: number): Block {
  const header = randomHeader(r);
  const txs: Transaction[] = [];
  for (let i = 0; i < txCount; i++) txs.push(i === 0 ? coinbase(r, header.height) : transfer(r));
  return { header, txs };
}

function varint(n: number): Uint8Array {
  return new ByteWriter(9).varint(n).finish();
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
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

function assertDecodeError(bytes: Uint8Array, limits: BlockLimits, label: string, message?: RegExp): void {
  assert.throws(() => decodeBlock(bytes, limits), (err: unknown) => {
    assert.ok(err instanceof DecodeError, `${label}: expected DecodeError, got ${err}`);
    assert.equal(err.code, ErrorCode.MALFORMED, label);
    assert.equal(err.ban, true, label);
    if (message) assert.match(err.message, message, label);
    return true;
  }, label);
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

Deno.test("encodeBlock()/decodeBlock() round-trip blocks with 0..50 transactions", () => {
  const r = rng(0xb10c);
  for (let n = 0; n <= 50; n++) {
    const block = randomBlock(r, n);
    const bytes = encodeBlock(block);
    const txBytes = block.txs.reduce((sum, tx) => sum + encodeTx(tx).length, 0);
    assert.equal(bytes.length, HEADER_BYTES + 1 + txBytes, `${n} txs`);
    assert.deepEqual(bytes.slice(0, HEADER_BYTES), encodeHeader(block.header));
    assert.equal(bytes[HEADER_BYTES], n);
    assert.deepEqual(decodeBlock(bytes, LIMITS), block, `${n} txs`);
    assert.deepEqual(encodeBlock(decodeBlock(bytes, LIMITS)), bytes);
  }
});

Deno.test("encodeBlock()/decodeBlock() round-trip a block with 253 transactions (3-byte count)", () => {
  const block = randomBlock(rng(0xfd), 253);
  const bytes = encodeBlock(block);
  assert.deepEqual(Array.from(bytes.slice(HEADER_BYTES, HEADER_BYTES + 3)), [0xfd, 253, 0]);
  assert.deepEqual(decodeBlock(bytes, LIMITS), block);
});

Deno.test("decodeBlock() accepts a block of exactly maxBlockBytes and exactly maxBlockTxs", () => {
  const block = randomBlock(rng(0xe9), 10);
  const bytes = encodeBlock(block);
  assert.deepEqual(decodeBlock(bytes, { maxBlockBytes: bytes.length, maxBlockTxs: 10 }), block);
});

Deno.test("blockTxIds() and computeTxRoot() hash the canonical transaction encodings", () => {
  const block = randomBlock(rng(0x1d5), 7);
  const ids = blockTxIds(block);
  assert.deepEqual(ids, block.txs.map(txId));
  assert.deepEqual(computeTxRoot(ids), merkleRoot(ids));
});

// ---------------------------------------------------------------------------------------------
// Bad input for decodeBlock()
// ---------------------------------------------------------------------------------------------

Deno.test("decodeBlock() rejects a block over maxBlockBytes before reading it", () => {
  const bytes = encodeBlock(randomBlock(rng(0xb1), 5));
  assertDecodeError(bytes, { maxBlockBytes: bytes.length - 1, maxBlockTxs: 100 }, "one byte over", /exceeds the cap/);
  // Checked before decoding: even garbage of that size gets the size error.
  const garbage = new Uint8Array(DEVNET.maxBlockBytes + 1);
  assertDecodeError(garbage, LIMITS, "maxBlockBytes + 1 zero bytes", /exceeds the cap/);
});

Deno.test("decodeBlock() rejects a transaction count over maxBlockTxs before allocating", () => {
  const header = encodeHeader(randomHeader(rng(0xc7)));
  const cases: [string, Uint8Array, BlockLimits][] = [
    ["maxBlockTxs + 1", varint(DEVNET.maxBlockTxs + 1), LIMITS],
    ["11 with cap 10", varint(11), { maxBlockBytes: 1_000_000, maxBlockTxs: 10 }],
    ["1 with cap 0", varint(1), { maxBlockBytes: 1_000_000, maxBlockTxs: 0 }],
    ["0xffff", Uint8Array.of(0xfd, 0xff, 0xff), LIMITS],
    ["2^32 - 1", Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff), LIMITS],
    ["2^53 - 1", varint(Number.MAX_SAFE_INTEGER), LIMITS],
    ["2^64 - 1", Uint8Array.of(0xff, ...new Uint8Array(8).fill(0xff)), LIMITS],
  ];
  for (const [label, count, limits] of cases) {
    // No transactions follow: a decoder that trusted the count would fail on truncation instead.
    assertDecodeError(concat(header, count), limits, label, /transaction count .* exceeds the cap/);
  }
});

Deno.test("decodeBlock() rejects a count of maxBlockTxs with too few transactions as truncated", () => {
  const block = randomBlock(rng(0xc8), 3);
  const bytes = encodeBlock(block);
  const claimed = concat(bytes.slice(0, HEADER_BYTES), varint(4), bytes.slice(HEADER_BYTES + 1));
  assertDecodeError(claimed, { maxBlockBytes: 1_000_000, maxBlockTxs: 4 }, "4 claimed, 3 present", /truncated/);
});

Deno.test("decodeBlock() rejects every truncation of a block", () => {
  const block = randomBlock(rng(0x7c), 3);
  const bytes = encodeBlock(block);
  for (let len = 0; len < bytes.length; len++) assertDecodeError(bytes.slice(0, len), LIMITS, `cut to ${len}`);
});

Deno.test("decodeBlock() rejects a truncated transaction in the middle of a block", () => {
  const r = rng(0x7d);
  const header = encodeHeader(randomHeader(r));
  const full = encodeTx(transfer(r));
  const cut = full.slice(0, TRANSFER_BYTES - 1);
  assertDecodeError(concat(header, varint(2), cut, full), LIMITS, "first transfer one byte short");
});

Deno.test("decodeBlock() rejects trailing bytes", () => {
  const bytes = encodeBlock(randomBlock(rng(0x7e), 2));
  assertDecodeError(concat(bytes, [0]), LIMITS, "one trailing byte", /trailing/);
  assertDecodeError(concat(bytes, encodeTx(transfer(rng(1)))), LIMITS, "an uncounted transaction", /trailing/);
});

Deno.test("decodeBlock() rejects a non-minimal transaction count", () => {
  const block = randomBlock(rng(0x6e), 1);
  const bytes = encodeBlock(block);
  const header = bytes.slice(0, HEADER_BYTES);
  const txs = bytes.slice(HEADER_BYTES + 1);
  assert.deepEqual(decodeBlock(concat(header, [1], txs), LIMITS), block);
  assertDecodeError(concat(header, [0xfd, 1, 0], txs), LIMITS, "1 as fd 0100", /non-minimal/);
  assertDecodeError(concat(header, [0xfe, 1, 0, 0, 0], txs), LIMITS, "1 as fe 01000000", /non-minimal/);
  assertDecodeError(concat(header, [0xff, 1, 0, 0, 0, 0, 0, 0, 0], txs), LIMITS, "1 as ff 01..", /non-minimal/);
  assertDecodeError(concat(header, [0xfd, 0, 0]), LIMITS, "0 as fd 0000", /non-minimal/);
});

Deno.test("decodeBlock() rejects a header time above 2^53 - 1", () => {
  const bytes = encodeBlock(randomBlock(rng(0x253), 1));
  new DataView(bytes.buffer).setBigUint64(TIME_OFFSET, U64_MAX, true);
  assertDecodeError(bytes, LIMITS, "time 2^64 - 1");
});

Deno.test("decodeBlock() rejects a transaction of unknown kind", () => {
  const bytes = encodeBlock(randomBlock(rng(0x2ff), 1));
  bytes[HEADER_BYTES + 1] = 2;
  assertDecodeError(bytes, LIMITS, "kind 2");
});

Deno.test("decodeBlock() rejects random bytes", () => {
  const r = rng(0x4a4e);
  for (let i = 0; i < 300; i++) assertDecodeError(r.bytes(r.int(600)), LIMITS, `random ${i}`);
});

Deno.test("decodeBlock() throws TypeError for input that is not a Uint8Array", () => {
  for (const bad of [null, undefined, "00", [0]]) assert.throws(() => decodeBlock(bad as Any, LIMITS), TypeError);
});

Deno.test("encodeBlock() rejects a block holding an invalid transaction", () => {
  const block = randomBlock(rng(0xe1), 2);
  assert.throws(() => encodeBlock({ ...block, txs: [{ ...block.txs[0], amount: -1n } as Transaction] }), RangeError);
  assert.throws(() => encodeBlock({ ...block, header: { ...block.header, height: -1 } }), RangeError);
});
