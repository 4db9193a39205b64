import assert from "node:assert/strict";
import { DecodeError } from "../protocol/errors.ts";
import { formatAmount, parseAmount } from "../protocol/amount.ts";
import {
  accountKey,
  decodeAccount,
  decodeReward,
  encodeAccount,
  encodeReward,
  getAccount,
  MapStateView,
  putAccount,
  rewardKey,
  TreeStateView,
} from "../protocol/state.ts";
import { SparseMerkleTree } from "../protocol/smt.ts";
import { U64_MAX } from "../protocol/bytes.ts";

const pk = new Uint8Array(32).fill(7);

Deno.test("encodeAccount() and decodeAccount() round-trip balances and nonces up to 2^64-1", () => {
  for (const a of [{ balance: 0n, nonce: 0n }, { balance: 1n, nonce: 2n }, { balance: U64_MAX, nonce: U64_MAX }]) {
    const bytes = encodeAccount(a);
    assert.equal(bytes.length, 16);
    assert.deepEqual(decodeAccount(bytes), a);
  }
});

Deno.test("decodeAccount() and decodeReward() reject truncated, trailing and empty input", () => {
  const account = encodeAccount({ balance: 5n, nonce: 1n });
  const reward = encodeReward({ recipient: pk, amount: 50n });
  for (const bad of [new Uint8Array(0), account.subarray(0, 15), new Uint8Array([...account, 0])]) {
    assert.throws(() => decodeAccount(bad), DecodeError);
  }
  for (const bad of [new Uint8Array(0), reward.subarray(0, 39), new Uint8Array([...reward, 0])]) {
    assert.throws(() => decodeReward(bad), DecodeError);
  }
  assert.deepEqual(decodeReward(reward), { recipient: pk, amount: 50n });
});

Deno.test("state keys separate accounts (33 bytes) from maturing rewards (5 bytes)", () => {
  assert.equal(accountKey(pk).length, 33);
  assert.equal(accountKey(pk)[0], 0);
  assert.deepEqual(rewardKey(258), new Uint8Array([1, 2, 1, 0, 0]));
  assert.throws(() => accountKey(new Uint8Array(31)), RangeError);
  assert.throws(() => rewardKey(-1), RangeError);
});

Deno.test("putAccount() deletes a zero account so absence is canonical", () => {
  const view = new MapStateView();
  putAccount(view, pk, { balance: 3n, nonce: 0n });
  assert.equal(view.entries.size, 1);
  putAccount(view, pk, { balance: 0n, nonce: 0n });
  assert.equal(view.entries.size, 0);
  assert.deepEqual(getAccount(view, pk), { balance: 0n, nonce: 0n });
  putAccount(view, pk, { balance: 0n, nonce: 1n });
  assert.deepEqual(getAccount(view, pk), { balance: 0n, nonce: 1n }, "a spent-out account keeps its nonce");
});

Deno.test("TreeStateView writes through to the sparse Merkle tree", () => {
  const tree = new SparseMerkleTree();
  const view = new TreeStateView(tree);
  putAccount(view, pk, { balance: 9n, nonce: 0n });
  assert.deepEqual(decodeAccount(tree.get(accountKey(pk))!), { balance: 9n, nonce: 0n });
  putAccount(view, pk, { balance: 0n, nonce: 0n });
  assert.deepEqual(tree.root(), new Uint8Array(32));
});

Deno.test("parseAmount() reads whole coins with up to 8 decimals exactly", () => {
  assert.equal(parseAmount("0"), 0n);
  assert.equal(parseAmount("1"), 100_000_000n);
  assert.equal(parseAmount("1.5"), 150_000_000n);
  assert.equal(parseAmount("0.00000001"), 1n);
  assert.equal(parseAmount(" 2.25 "), 225_000_000n);
  assert.equal(parseAmount("184467440737.09551615"), U64_MAX);
});

Deno.test("parseAmount() rejects signs, exponents, extra decimals and values over 2^64-1", () => {
  for (const bad of ["", "-1", "+1", "1e5", "1.123456789", ".5", "1.", "abc", "1,5", "184467440737.09551616", "0x10"]) {
    assert.throws(() => parseAmount(bad), RangeError, bad);
  }
  assert.throws(() => parseAmount(5 as unknown as string), TypeError);
});

Deno.test("formatAmount() prints coins without trailing zeros and round-trips parseAmount()", () => {
  assert.equal(formatAmount(0n), "0");
  assert.equal(formatAmount(150_000_000n), "1.5");
  assert.equal(formatAmount(1n), "0.00000001");
  assert.equal(formatAmount(-150_000_000n), "-1.5");
  for (const units of [0n, 1n, 99n, 100_000_000n, 123_456_789_012n, U64_MAX]) {
    assert.equal(parseAmount(formatAmount(units)), units);
  }
});
