import assert from "node:assert/strict";
import { bytesToHex, U64_MAX } from "../protocol/bytes.ts";
import { computeTxRoot } from "../protocol/block.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { hashHeader } from "../protocol/header.ts";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { blockSubsidy, DEVNET, genesisBlock, type NetworkParams, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import { accountKey, encodeAccount, getAccount, MapStateView, rewardKey } from "../protocol/state.ts";
import { type CoinbaseTx, signTransfer, type TransferTx, txId } from "../protocol/tx.ts";
import {
  applyBlock,
  applyTransfer,
  checkTransfer,
  locatorHeights,
  medianTime,
  nextBits,
} from "../protocol/validation.ts";
import { mine, TestChain } from "./helpers/chain.ts";

const alice = generateSecretKey();
const bob = generateSecretKey();
const alicePub = publicKeyFromSecret(alice);
const bobPub = publicKeyFromSecret(bob);

function rejects(fn: () => unknown, code: ErrorCode, ban = true): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${err}`);
    assert.equal(err.code, code);
    assert.equal(err.ban, ban, `ban flag of ${code}`);
    return true;
  });
}

function pay(secretKey: Uint8Array, fields: Partial<TransferTx> & { nonce: bigint }, params = REGTEST): TransferTx {
  return signTransfer({
    network: fields.network ?? params.networkId,
    recipient: fields.recipient ?? bobPub,
    amount: fields.amount ?? 1000n,
    fee: fields.fee ?? 10n,
    nonce: fields.nonce,
  }, secretKey);
}

/** A chain where alice has mined 3 blocks (150 coins, spendable at once on regtest). */
function fundedChain(): TestChain {
  const chain = new TestChain();
  for (let i = 0; i < 3; i++) chain.mine({ miner: alicePub });
  return chain;
}

/** Re-mine `block` after a mutation so that only the intended rule fails. */
function remine(block: ReturnType<TestChain["build"]>): void {
  block.header.txRoot = computeTxRoot(block.txs.map(txId));
  mine(block.header);
}

Deno.test("a regtest chain with transfers connects and moves balances", () => {
  const chain = fundedChain();
  const subsidy = blockSubsidy(REGTEST, 1);
  assert.equal(getAccount(chain.state, alicePub).balance, 3n * subsidy);
  const txs = [pay(alice, { nonce: 0n, amount: 500n, fee: 7n }), pay(alice, { nonce: 1n, amount: 250n, fee: 3n })];
  chain.mine({ miner: bobPub, txs });
  assert.deepEqual(getAccount(chain.state, alicePub), { balance: 3n * subsidy - 760n, nonce: 2n });
  assert.deepEqual(getAccount(chain.state, bobPub), { balance: 750n + subsidy + 10n, nonce: 0n });
  assert.equal(chain.height, 4);
});

Deno.test("checkHeader() accepts a valid header and rejects each broken header rule with its code", () => {
  const chain = fundedChain();
  const now = Date.now();
  chain.validate(chain.build({ miner: bobPub }), now);

  const wrongHeight = chain.build({ miner: bobPub });
  wrongHeight.header.height += 1;
  mine(wrongHeight.header);
  rejects(() => chain.validate(wrongHeight, now), ErrorCode.BAD_HEIGHT);

  const wrongPrev = chain.build({ miner: bobPub });
  wrongPrev.header.prevHash = new Uint8Array(32).fill(7);
  mine(wrongPrev.header);
  rejects(() => chain.validate(wrongPrev, now), ErrorCode.BAD_PREV);

  const wrongBits = chain.build({ miner: bobPub });
  wrongBits.header.bits = 0x2000ffff;
  mine(wrongBits.header);
  rejects(() => chain.validate(wrongBits, now), ErrorCode.BAD_BITS);

  const badPow = chain.build({ miner: bobPub });
  const target = bitsToTarget(badPow.header.bits);
  while (hashMeetsTarget(hashHeader(badPow.header), target)) badPow.header.nonce++;
  rejects(() => chain.validate(badPow, now), ErrorCode.BAD_POW);

  const badVersion = chain.build({ miner: bobPub });
  badVersion.header.version = 2;
  mine(badVersion.header);
  rejects(() => chain.validate(badVersion, now), ErrorCode.BAD_VERSION);

  const old = chain.build({ miner: bobPub, time: chain.medianTimePast() });
  rejects(() => chain.validate(old, now), ErrorCode.TIME_TOO_OLD);

  const future = chain.build({ miner: bobPub, time: now + REGTEST.maxFutureDriftMs + 1 });
  rejects(() => chain.validate(future, now), ErrorCode.TIME_TOO_NEW, false);
  chain.validate(future, now + 1); // a future block becomes valid once the clock catches up

  const badHistory = chain.build({ miner: bobPub });
  badHistory.header.historyRoot = new Uint8Array(32);
  mine(badHistory.header);
  rejects(() => chain.validate(badHistory, now), ErrorCode.BAD_HISTORY_ROOT);
});

Deno.test("checkBlockBody() rejects each broken block rule with its code", () => {
  const chain = fundedChain();
  const coinbaseOf = (b: { txs: unknown[] }) => b.txs[0] as CoinbaseTx;

  const noCoinbase = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n })] });
  noCoinbase.txs.shift();
  remine(noCoinbase);
  rejects(() => chain.validate(noCoinbase), ErrorCode.BAD_COINBASE);

  const empty = chain.build({ miner: bobPub });
  empty.txs = [];
  remine(empty);
  rejects(() => chain.validate(empty), ErrorCode.BAD_COINBASE);

  const twoCoinbases = chain.build({ miner: bobPub });
  twoCoinbases.txs.push({ ...coinbaseOf(twoCoinbases), extra: new Uint8Array([1]) });
  remine(twoCoinbases);
  rejects(() => chain.validate(twoCoinbases), ErrorCode.BAD_COINBASE);

  const wrongCoinbaseHeight = chain.build({ miner: bobPub });
  coinbaseOf(wrongCoinbaseHeight).height += 1;
  remine(wrongCoinbaseHeight);
  rejects(() => chain.validate(wrongCoinbaseHeight), ErrorCode.BAD_COINBASE);

  const crossNetwork = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n }, DEVNET)] });
  rejects(() => chain.validate(crossNetwork), ErrorCode.WRONG_NETWORK);

  const tx = pay(alice, { nonce: 0n });
  const duplicate = chain.build({ miner: bobPub, txs: [tx] });
  duplicate.txs.push(tx);
  remine(duplicate);
  rejects(() => chain.validate(duplicate), ErrorCode.DUPLICATE_TX);

  const badRoot = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n })] });
  badRoot.header.txRoot = computeTxRoot([txId(badRoot.txs[0])]);
  mine(badRoot.header);
  rejects(() => chain.validate(badRoot), ErrorCode.BAD_TX_ROOT);

  const forged = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n })] });
  const forgedTx = forged.txs[1] as TransferTx;
  forgedTx.amount += 1n; // the signature no longer covers the amount
  remine(forged);
  rejects(() => chain.validate(forged), ErrorCode.BAD_SIGNATURE);

  const tooMany = chain.build({ miner: bobPub });
  const few: NetworkParams = { ...REGTEST, maxBlockTxs: 1 };
  tooMany.txs.push(pay(alice, { nonce: 0n }));
  remine(tooMany);
  rejects(() => new TestChainWith(few, chain).validate(tooMany), ErrorCode.TOO_MANY_TXS);

  const tooLarge = chain.build({ miner: bobPub });
  rejects(
    () => new TestChainWith({ ...REGTEST, maxBlockBytes: 200 }, chain).validate(tooLarge),
    ErrorCode.BLOCK_TOO_LARGE,
  );
});

/** Validate against the same chain under other parameters. */
class TestChainWith {
  constructor(readonly params: NetworkParams, readonly chain: TestChain) {}
  validate(block: ReturnType<TestChain["build"]>) {
    const saved = (this.chain as { params: NetworkParams }).params;
    (this.chain as { params: NetworkParams }).params = this.params;
    try {
      return this.chain.validate(block);
    } finally {
      (this.chain as { params: NetworkParams }).params = saved;
    }
  }
}

Deno.test("applyBlock() rejects bad nonces, missing funds, wrong coinbase amounts and a wrong stateRoot", () => {
  const chain = fundedChain();
  const skipNonce = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n })] });
  skipNonce.txs[1] = pay(alice, { nonce: 1n });
  remine(skipNonce);
  rejects(() => chain.validate(skipNonce), ErrorCode.BAD_NONCE);

  const replay = pay(alice, { nonce: 0n });
  chain.mine({ miner: bobPub, txs: [replay] });
  const replayed = chain.build({ miner: bobPub });
  replayed.txs.push(replay);
  (replayed.txs[0] as CoinbaseTx).amount += replay.fee;
  remine(replayed);
  rejects(() => chain.validate(replayed), ErrorCode.BAD_NONCE);

  const broke = chain.build({ miner: bobPub, txs: [pay(bob, { nonce: 0n, recipient: alicePub })] });
  broke.txs[1] = pay(bob, { nonce: 0n, recipient: alicePub, amount: U64_MAX - 20n });
  remine(broke);
  rejects(() => chain.validate(broke), ErrorCode.INSUFFICIENT_FUNDS);

  for (const delta of [1n, -1n]) {
    const greedy = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 1n })] });
    (greedy.txs[0] as CoinbaseTx).amount += delta;
    remine(greedy);
    rejects(() => chain.validate(greedy), ErrorCode.BAD_COINBASE_AMOUNT);
  }

  const lying = chain.build({ miner: bobPub });
  lying.header.stateRoot = new Uint8Array(32).fill(1);
  mine(lying.header);
  assert.throws(() => chain.validate(lying), /state root/);
});

Deno.test("applyTransfer() errors are not ban-worthy in the mempool but applyBlock() makes them so", () => {
  const view = new MapStateView();
  rejects(() => applyTransfer(view, pay(alice, { nonce: 0n }), REGTEST), ErrorCode.INSUFFICIENT_FUNDS, false);
  view.set(accountKey(alicePub), encodeAccount({ balance: 10_000n, nonce: 0n }));
  rejects(() => applyTransfer(view, pay(alice, { nonce: 3n }), REGTEST), ErrorCode.BAD_NONCE, false);
  rejects(() => checkTransfer(pay(alice, { nonce: 0n, amount: 0n }), REGTEST), ErrorCode.BAD_AMOUNT, false);
  rejects(() => checkTransfer(pay(alice, { nonce: 0n }, DEVNET), REGTEST), ErrorCode.WRONG_NETWORK, false);
  const forged = { ...pay(alice, { nonce: 0n }), fee: 99n };
  rejects(() => checkTransfer(forged, REGTEST), ErrorCode.BAD_SIGNATURE, true);
  assert.equal(applyTransfer(view, pay(alice, { nonce: 0n, amount: 100n, fee: 5n }), REGTEST), 5n);
  assert.deepEqual(getAccount(view, alicePub), { balance: 9_895n, nonce: 1n });
});

Deno.test("a payment to oneself only costs the fee and bumps the nonce", () => {
  const view = new MapStateView();
  view.set(accountKey(alicePub), encodeAccount({ balance: 1_000n, nonce: 0n }));
  applyTransfer(view, pay(alice, { nonce: 0n, recipient: alicePub, amount: 400n, fee: 5n }), REGTEST);
  assert.deepEqual(getAccount(view, alicePub), { balance: 995n, nonce: 1n });
});

Deno.test("a recipient balance above 2^64-1 is an overflow", () => {
  const view = new MapStateView();
  view.set(accountKey(alicePub), encodeAccount({ balance: 1_000n, nonce: 0n }));
  view.set(accountKey(bobPub), encodeAccount({ balance: U64_MAX - 10n, nonce: 0n }));
  rejects(() => applyTransfer(view, pay(alice, { nonce: 0n, amount: 11n }), REGTEST), ErrorCode.OVERFLOW, false);
});

Deno.test("coinbase rewards mature after coinbaseMaturity blocks on devnet", () => {
  const view = new MapStateView();
  const m = DEVNET.coinbaseMaturity;
  const block = (height: number) => {
    const coinbase: CoinbaseTx = {
      kind: "coinbase",
      network: DEVNET.networkId,
      height,
      recipient: alicePub,
      amount: blockSubsidy(DEVNET, height),
      extra: new Uint8Array(0),
    };
    return { header: { ...genesisBlock(DEVNET).header, height }, txs: [coinbase] };
  };
  for (let h = 1; h <= m; h++) applyBlock(view, block(h), DEVNET);
  assert.equal(getAccount(view, alicePub).balance, 0n, "nothing is spendable before maturity");
  assert.ok(view.get(rewardKey(1)) !== undefined);
  applyBlock(view, block(m + 1), DEVNET);
  assert.equal(getAccount(view, alicePub).balance, blockSubsidy(DEVNET, 1));
  assert.equal(view.get(rewardKey(1)), undefined, "the matured entry is deleted");
  applyBlock(view, block(m + 2), DEVNET);
  assert.equal(getAccount(view, alicePub).balance, 2n * blockSubsidy(DEVNET, 1));
});

Deno.test("nextBits() is fixed on regtest and follows aserti3-2d anchored at block 1 on devnet", () => {
  assert.equal(nextBits(REGTEST, { height: 500, time: 1 }), REGTEST.powLimitBits);
  const g = DEVNET.genesis;
  const ideal = DEVNET.idealBlockTimeMs;
  const half = DEVNET.halfLifeMs;
  const anchor = bitsToTarget(g.bits);
  // Block 1 uses the genesis bits, however late after the genesis time it is mined.
  assert.equal(nextBits(DEVNET, { height: 0, time: g.time }), g.bits);
  // A chain whose block 1 came a year after genesis is on schedule from there.
  const start = g.time + 365 * 24 * 3_600_000;
  assert.equal(nextBits(DEVNET, { height: 1, time: start }, start), g.bits);
  assert.equal(nextBits(DEVNET, { height: 101, time: start + 100 * ideal }, start), g.bits);
  // One half-life behind schedule doubles the target; one ahead halves it.
  const slow = bitsToTarget(nextBits(DEVNET, { height: 101, time: start + 100 * ideal + half }, start));
  const fast = bitsToTarget(nextBits(DEVNET, { height: 101, time: start + 100 * ideal - half }, start));
  assert.ok(slow > anchor * 199n / 100n && slow < anchor * 201n / 100n, `doubled: ${slow} vs ${anchor}`);
  assert.ok(fast > anchor * 49n / 100n && fast < anchor * 51n / 100n, `halved: ${fast} vs ${anchor}`);
  // Far behind schedule the target is clamped at powLimit.
  assert.equal(nextBits(DEVNET, { height: 2, time: start + 1000 * half }, start), DEVNET.powLimitBits);
  // Above block 1 the anchor time is required.
  assert.throws(() => nextBits(DEVNET, { height: 5, time: start }), RangeError);
});

Deno.test("medianTime() picks the middle of the sorted times", () => {
  assert.equal(medianTime([5]), 5);
  assert.equal(medianTime([3, 1, 2]), 2);
  assert.equal(medianTime([4, 1, 3, 2]), 3);
  assert.equal(medianTime([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), 6);
  assert.throws(() => medianTime([]), RangeError);
});

Deno.test("locatorHeights() lists 10 recent heights, then doubling steps, ending at genesis", () => {
  assert.deepEqual(locatorHeights(0), [0]);
  assert.deepEqual(locatorHeights(3), [3, 2, 1, 0]);
  assert.deepEqual(locatorHeights(20), [20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 9, 5, 0]);
  const big = locatorHeights(1_000_000);
  assert.ok(big.length < 40);
  assert.equal(big.at(-1), 0);
  for (let i = 1; i < big.length; i++) assert.ok(big[i] < big[i - 1]);
  assert.throws(() => locatorHeights(-1), RangeError);
});

Deno.test("genesis state is empty and the first block commits the genesis hash in historyRoot", () => {
  const chain = new TestChain();
  const block = chain.mine({ miner: alicePub });
  const acc = chain.history[1];
  assert.equal(acc.size, 1);
  assert.equal(bytesToHex(block.header.historyRoot), bytesToHex(acc.root()));
  assert.equal(bytesToHex(block.header.prevHash), REGTEST.genesisHash);
});
