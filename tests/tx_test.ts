/**
 * Transactions: canonical encoding, txid and the signature hash (protocol/tx.ts).
 *
 * Run: deno test -A tests/tx_test.ts
 */
import assert from "node:assert/strict";
import { U32_MAX, U64_MAX } from "../protocol/bytes.ts";
import { ByteReader, ByteWriter } from "../protocol/encoding.ts";
import { DecodeError, ErrorCode } from "../protocol/errors.ts";
import { sha256, taggedHash } from "../protocol/hash.ts";
import { publicKeyFromSecret } from "../protocol/keys.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import {
  type CoinbaseTx,
  decodeTx,
  encodeTx,
  MAX_COINBASE_EXTRA,
  readTx,
  signTransfer,
  type Transaction,
  TRANSFER_BYTES,
  type TransferTx,
  TX_SIGHASH_TAG,
  txId,
  txSigHash,
  verifyTransferSignature,
  writeTx,
} from "../protocol/tx.ts";
import { type Rng, rng } from "./helpers/random.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function u64(r: Rng): bigint {
  const b = r.bytes(8);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

function u32(r: Rng): number {
  const b = r.bytes(4);
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}

function randomTransfer(r: Rng, network = DEVNET.networkId): TransferTx {
  return signTransfer({ network, recipient: r.bytes(32), amount: u64(r), fee: u64(r), nonce: u64(r) }, r.bytes(32));
}

function randomCoinbase(r: Rng, extraLength: number): CoinbaseTx {
  return {
    kind: "coinbase",
    network: REGTEST.networkId,
    height: u32(r),
    recipient: r.bytes(32),
    amount: u64(r),
    extra: r.bytes(extraLength),
  };
}

function assertDecodeError(bytes: Uint8Array, label: string): void {
  assert.throws(() => decodeTx(bytes), (err: unknown) => {
    assert.ok(err instanceof DecodeError, `${label}: expected DecodeError, got ${err}`);
    assert.equal(err.code, ErrorCode.MALFORMED, label);
    assert.equal(err.ban, true, label);
    return true;
  }, label);
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

// ---------------------------------------------------------------------------------------------
// Round trips and layout
// ---------------------------------------------------------------------------------------------

Deno.test("encodeTx()/decodeTx() round-trip random transfers in exactly 157 bytes", () => {
  const r = rng(0x7f01);
  assert.equal(TRANSFER_BYTES, 157);
  for (let i = 0; i < 100; i++) {
    const tx = randomTransfer(r, i % 2 ? DEVNET.networkId : REGTEST.networkId);
    const bytes = encodeTx(tx);
    assert.equal(bytes.length, 157);
    assert.deepEqual(decodeTx(bytes), tx);
    assert.deepEqual(encodeTx(decodeTx(bytes)), bytes);
  }
});

Deno.test("encodeTx()/decodeTx() round-trip transfers with extreme field values", () => {
  const r = rng(0x7f02);
  for (const v of [0n, 1n, 0xffff_ffffn, 1n << 53n, U64_MAX]) {
    for (const network of [0, 1, U32_MAX]) {
      const tx = signTransfer({ network, recipient: r.bytes(32), amount: v, fee: v, nonce: v }, r.bytes(32));
      assert.deepEqual(decodeTx(encodeTx(tx)), tx, `value ${v}, network ${network}`);
    }
  }
});

Deno.test("encodeTx() lays a transfer out as kind 0, network, sender, recipient, amount, fee, nonce, signature", () => {
  const tx = randomTransfer(rng(0x7f03));
  const bytes = encodeTx(tx);
  const view = new DataView(bytes.buffer);
  assert.equal(bytes[0], 0);
  assert.equal(view.getUint32(1, true), tx.network);
  assert.deepEqual(bytes.slice(5, 37), tx.sender);
  assert.deepEqual(bytes.slice(37, 69), tx.recipient);
  assert.equal(view.getBigUint64(69, true), tx.amount);
  assert.equal(view.getBigUint64(77, true), tx.fee);
  assert.equal(view.getBigUint64(85, true), tx.nonce);
  assert.deepEqual(bytes.slice(93, 157), tx.signature);
});

Deno.test("encodeTx()/decodeTx() round-trip coinbases with every extra length 0..64", () => {
  const r = rng(0xc0b);
  assert.equal(MAX_COINBASE_EXTRA, 64);
  for (let len = 0; len <= 64; len++) {
    const tx = randomCoinbase(r, len);
    const bytes = encodeTx(tx);
    assert.equal(bytes.length, 1 + 4 + 4 + 32 + 8 + 1 + len, `extra ${len}`);
    assert.equal(bytes[0], 1);
    const view = new DataView(bytes.buffer);
    assert.equal(view.getUint32(1, true), tx.network);
    assert.equal(view.getUint32(5, true), tx.height);
    assert.deepEqual(bytes.slice(9, 41), tx.recipient);
    assert.equal(view.getBigUint64(41, true), tx.amount);
    assert.equal(bytes[49], len);
    assert.deepEqual(decodeTx(bytes), tx, `extra ${len}`);
  }
});

Deno.test("decodeTx() returns copies that do not alias the input bytes", () => {
  const r = rng(0xa11a5);
  for (const tx of [randomTransfer(r), randomCoinbase(r, 10)] as Transaction[]) {
    const bytes = encodeTx(tx);
    const decoded = decodeTx(bytes);
    bytes.fill(0xee);
    assert.deepEqual(decoded, tx);
  }
});

Deno.test("readTx() reads consecutive transactions from one reader", () => {
  const r = rng(0x5e9);
  const txs: Transaction[] = [randomCoinbase(r, 3), randomTransfer(r), randomCoinbase(r, 0), randomTransfer(r)];
  const w = new ByteWriter(8);
  for (const tx of txs) writeTx(w, tx);
  const reader = new ByteReader(w.finish());
  for (const tx of txs) assert.deepEqual(readTx(reader), tx);
  reader.end();
});

Deno.test("txId() is SHA-256 of the canonical encoding", () => {
  const r = rng(0x1d);
  const ids = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const tx = i % 2 ? randomTransfer(r) : randomCoinbase(r, i);
    const id = txId(tx);
    assert.equal(id.length, 32);
    assert.deepEqual(id, sha256(encodeTx(tx)));
    ids.add(id.join());
  }
  assert.equal(ids.size, 20);
});

Deno.test("txId() covers the signature (a different signature is a different txid)", () => {
  const tx = randomTransfer(rng(0x1e));
  const other = { ...tx, signature: tx.signature.slice() };
  other.signature[63] ^= 1;
  assert.notDeepEqual(txId(other), txId(tx));
});

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

Deno.test("txSigHash() is the tagged hash of the first 93 bytes of the encoding", () => {
  const tx = randomTransfer(rng(0x5197));
  assert.deepEqual(txSigHash(tx), taggedHash(TX_SIGHASH_TAG, encodeTx(tx).slice(0, 93)));
  assert.equal(TX_SIGHASH_TAG, "edgeledger/tx");
});

Deno.test("signTransfer() derives the sender from the secret key and its signature verifies", () => {
  const r = rng(0x5196);
  for (let i = 0; i < 20; i++) {
    const secretKey = r.bytes(32);
    const tx = signTransfer(
      { network: DEVNET.networkId, recipient: r.bytes(32), amount: 5n, fee: 1n, nonce: 0n },
      secretKey,
    );
    assert.equal(tx.kind, "transfer");
    assert.deepEqual(tx.sender, publicKeyFromSecret(secretKey));
    assert.ok(verifyTransferSignature(tx));
    assert.ok(verifyTransferSignature(decodeTx(encodeTx(tx)) as TransferTx));
  }
});

Deno.test("verifyTransferSignature() fails when any signed field changes", () => {
  const r = rng(0x5195);
  const tx = randomTransfer(r);
  assert.ok(verifyTransferSignature(tx));
  const otherKey = publicKeyFromSecret(r.bytes(32));
  const changes: [string, Partial<TransferTx>][] = [
    ["network", { network: tx.network ^ 1 }],
    ["network to regtest", { network: REGTEST.networkId }],
    ["amount", { amount: tx.amount ^ 1n }],
    ["fee", { fee: tx.fee ^ 1n }],
    ["nonce", { nonce: tx.nonce ^ 1n }],
    ["recipient", { recipient: otherKey }],
    ["recipient swapped with sender", { recipient: tx.sender, sender: tx.recipient }],
    ["sender", { sender: otherKey }],
  ];
  for (const [label, change] of changes) {
    const changed: TransferTx = { ...tx, ...change };
    assert.equal(verifyTransferSignature(changed), false, label);
    // And through the wire encoding, the way a node meets it.
    assert.equal(verifyTransferSignature(decodeTx(encodeTx(changed)) as TransferTx), false, `${label} (decoded)`);
  }
});

Deno.test("a transfer signed for devnet fails verification with its network set to regtest", () => {
  const r = rng(0xde7);
  const tx = signTransfer(
    { network: DEVNET.networkId, recipient: r.bytes(32), amount: 1_000n, fee: 10n, nonce: 3n },
    r.bytes(32),
  );
  assert.ok(verifyTransferSignature(tx));
  const bytes = encodeTx(tx);
  new DataView(bytes.buffer).setUint32(1, REGTEST.networkId, true);
  const replayed = decodeTx(bytes) as TransferTx;
  assert.equal(replayed.network, REGTEST.networkId);
  assert.notDeepEqual(txSigHash(replayed), txSigHash(tx));
  assert.equal(verifyTransferSignature(replayed), false);
});

Deno.test("verifyTransferSignature() returns false, never throws, for malformed transfers", () => {
  const tx = randomTransfer(rng(0xbad));
  const cases: [string, unknown][] = [
    ["negative amount", { ...tx, amount: -1n }],
    ["amount over u64", { ...tx, amount: U64_MAX + 1n }],
    ["number amount", { ...tx, amount: 5 }],
    ["missing fee", { ...tx, fee: undefined }],
    ["network -1", { ...tx, network: -1 }],
    ["31-byte sender", { ...tx, sender: tx.sender.subarray(1) }],
    ["63-byte signature", { ...tx, signature: tx.signature.subarray(1) }],
    ["string signature", { ...tx, signature: "00".repeat(64) }],
    ["null sender", { ...tx, sender: null }],
    ["empty object", {}],
  ];
  for (const [label, bad] of cases) {
    let result: unknown;
    assert.doesNotThrow(() => {
      result = verifyTransferSignature(bad as TransferTx);
    }, label);
    assert.equal(result, false, label);
  }
});

// ---------------------------------------------------------------------------------------------
// Bad input for decodeTx()
// ---------------------------------------------------------------------------------------------

Deno.test("decodeTx() rejects empty input", () => {
  assertDecodeError(new Uint8Array(0), "empty");
});

Deno.test("decodeTx() rejects every truncation of a transfer", () => {
  const bytes = encodeTx(randomTransfer(rng(0x7c1)));
  for (let len = 0; len < bytes.length; len++) assertDecodeError(bytes.slice(0, len), `transfer cut to ${len}`);
});

Deno.test("decodeTx() rejects every truncation of a coinbase", () => {
  for (const extra of [0, 1, 64]) {
    const bytes = encodeTx(randomCoinbase(rng(0x7c2 + extra), extra));
    for (let len = 0; len < bytes.length; len++) {
      assertDecodeError(bytes.slice(0, len), `coinbase (extra ${extra}) cut to ${len}`);
    }
  }
});

Deno.test("decodeTx() rejects a trailing byte after a transfer or a coinbase", () => {
  const r = rng(0x7b);
  for (const tx of [randomTransfer(r), randomCoinbase(r, 0), randomCoinbase(r, 64)] as Transaction[]) {
    assertDecodeError(concat(encodeTx(tx), [0]), `${tx.kind} + 1 byte`);
    assertDecodeError(concat(encodeTx(tx), encodeTx(tx)), `${tx.kind} twice`);
  }
});

Deno.test("decodeTx() rejects unknown kinds 2 and 255", () => {
  const transfer = encodeTx(randomTransfer(rng(0x2ff)));
  for (const kind of [2, 3, 0x7f, 0x80, 255]) {
    const bytes = transfer.slice();
    bytes[0] = kind;
    assertDecodeError(bytes, `kind ${kind}`);
    assertDecodeError(Uint8Array.of(kind), `kind ${kind} alone`);
  }
});

Deno.test("decodeTx() rejects a coinbase whose extra is 65 bytes", () => {
  const head = encodeTx(randomCoinbase(rng(0x65), 0)).slice(0, 49);
  const r = rng(0x66);
  assertDecodeError(concat(head, [65], r.bytes(65)), "extra 65");
  assertDecodeError(concat(head, [0xfc], r.bytes(0xfc)), "extra 252");
  assertDecodeError(concat(head, [0xfd, 0x00, 0x01], r.bytes(256)), "extra 256");
  // A huge declared length is rejected by the cap, not by running out of input.
  assertDecodeError(concat(head, [0xfe, 0xff, 0xff, 0xff, 0xff]), "extra 2^32-1");
  assertDecodeError(concat(head, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), "extra 2^64-1");
});

Deno.test("decodeTx() rejects a non-minimal varint for the coinbase extra length", () => {
  const head = encodeTx(randomCoinbase(rng(0x6e), 0)).slice(0, 49);
  const extra = rng(0x6f).bytes(5);
  assert.deepEqual(decodeTx(concat(head, [5], extra)).kind, "coinbase");
  assertDecodeError(concat(head, [0xfd, 5, 0], extra), "extra length 5 as fd 0500");
  assertDecodeError(concat(head, [0xfe, 5, 0, 0, 0], extra), "extra length 5 as fe 05000000");
  assertDecodeError(concat(head, [0xff, 5, 0, 0, 0, 0, 0, 0, 0], extra), "extra length 5 as ff 05...");
  assertDecodeError(concat(head, [0xfd, 0, 0]), "extra length 0 as fd 0000");
});

Deno.test("decodeTx() rejects random bytes", () => {
  const r = rng(0x4a4d);
  for (let i = 0; i < 500; i++) {
    const bytes = r.bytes(r.int(200));
    // Random input that happens to be a well-formed transfer is legitimately accepted.
    if (bytes.length === TRANSFER_BYTES && bytes[0] === 0) continue;
    assertDecodeError(bytes, `random ${i}`);
  }
});

Deno.test("decodeTx() throws TypeError for input that is not a Uint8Array", () => {
  for (const bad of [null, undefined, "00", [0], new ArrayBuffer(157)]) {
    assert.throws(() => decodeTx(bad as Any), TypeError);
  }
});

// ---------------------------------------------------------------------------------------------
// Bad input for the writer
// ---------------------------------------------------------------------------------------------

Deno.test("encodeTx() rejects negative, oversized and non-bigint amounts, fees and nonces", () => {
  const tx = randomTransfer(rng(0xe1));
  for (const field of ["amount", "fee", "nonce"] as const) {
    assert.throws(() => encodeTx({ ...tx, [field]: -1n }), RangeError, `${field} -1`);
    assert.throws(() => encodeTx({ ...tx, [field]: U64_MAX + 1n }), RangeError, `${field} 2^64`);
    assert.throws(() => encodeTx({ ...tx, [field]: 5 as Any }), TypeError, `${field} number`);
    assert.throws(() => txSigHash({ ...tx, [field]: -1n }), RangeError, `sighash ${field} -1`);
  }
  const cb = randomCoinbase(rng(0xe2), 0);
  assert.throws(() => encodeTx({ ...cb, amount: -1n }), RangeError);
  assert.throws(() => encodeTx({ ...cb, amount: U64_MAX + 1n }), RangeError);
  assert.throws(() => encodeTx({ ...cb, amount: 1 as Any }), TypeError);
});

Deno.test("encodeTx() rejects out-of-range networks and heights", () => {
  const tx = randomTransfer(rng(0xe3));
  const cb = randomCoinbase(rng(0xe4), 0);
  for (const bad of [-1, U32_MAX + 1, 1.5, NaN]) {
    const expected = Number.isInteger(bad) ? RangeError : TypeError;
    assert.throws(() => encodeTx({ ...tx, network: bad }), expected, `network ${bad}`);
    assert.throws(() => encodeTx({ ...cb, network: bad }), expected, `coinbase network ${bad}`);
    assert.throws(() => encodeTx({ ...cb, height: bad }), expected, `height ${bad}`);
  }
});

Deno.test("encodeTx() rejects a coinbase extra over 64 bytes", () => {
  const cb = randomCoinbase(rng(0xe5), 0);
  assert.throws(() => encodeTx({ ...cb, extra: new Uint8Array(65) }), RangeError);
  assert.throws(() => encodeTx({ ...cb, extra: new Uint8Array(1000) }), RangeError);
  assert.throws(() => encodeTx({ ...cb, extra: "abc" as Any }), TypeError);
});

Deno.test("encodeTx() rejects keys and signatures of the wrong length", () => {
  const tx = randomTransfer(rng(0xe6));
  const cb = randomCoinbase(rng(0xe7), 0);
  for (const len of [0, 31, 33, 64]) {
    assert.throws(() => encodeTx({ ...tx, sender: new Uint8Array(len) }), RangeError, `sender ${len}`);
    assert.throws(() => encodeTx({ ...tx, recipient: new Uint8Array(len) }), RangeError, `recipient ${len}`);
    assert.throws(() => encodeTx({ ...cb, recipient: new Uint8Array(len) }), RangeError, `coinbase recipient ${len}`);
  }
  for (const len of [0, 32, 63, 65]) {
    assert.throws(() => encodeTx({ ...tx, signature: new Uint8Array(len) }), RangeError, `signature ${len}`);
  }
  assert.throws(() => encodeTx({ ...tx, sender: "00".repeat(32) as Any }), TypeError);
  assert.throws(() =>
    signTransfer({ network: 1, recipient: new Uint8Array(31), amount: 1n, fee: 0n, nonce: 0n }, tx.sender)
  );
  assert.throws(() =>
    signTransfer({ network: 1, recipient: tx.recipient, amount: 1n, fee: 0n, nonce: 0n }, new Uint8Array(31))
  );
});

Deno.test("encodeTx() rejects an unknown kind", () => {
  const tx = randomTransfer(rng(0xe8));
  assert.throws(() => encodeTx({ ...tx, kind: "mint" } as Any), TypeError);
  assert.throws(() => encodeTx({} as Any), TypeError);
});
