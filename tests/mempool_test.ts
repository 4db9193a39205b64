/**
 * The mempool on its own: per-sender nonce order, fee priority in the block template,
 * replace-by-fee, the size cap with eviction of the lowest fee, policy errors with their codes
 * and ban decisions, re-validation after a new tip, blocks and reorganisations, and
 * persistence in a real SQLite file.
 *
 * Account state comes from a fake `account` function over a Map, so each test sets balances
 * and nonces directly.
 */

import assert from "node:assert/strict";
import type { Block } from "../protocol/block.ts";
import { bytesToHex } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import type { Account } from "../protocol/state.ts";
import { type CoinbaseTx, signTransfer, type TransferTx, txId } from "../protocol/tx.ts";
import { Mempool, type MempoolOptions } from "../full-node/mempool.ts";
import { SignatureVerifier } from "../full-node/sig_verifier.ts";
import { NodeStore } from "../full-node/store.ts";

const COIN = 100_000_000n;

interface Wallet {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

function wallet(): Wallet {
  const secretKey = generateSecretKey();
  return { secretKey, publicKey: publicKeyFromSecret(secretKey) };
}

const RECIPIENT = wallet().publicKey;

/** Account state the mempool sees: a Map keyed by hex public key, zero when absent. */
class Accounts {
  readonly #map = new Map<string, Account>();
  set(w: Wallet, account: Account): void {
    this.#map.set(bytesToHex(w.publicKey), account);
  }
  get = (publicKey: Uint8Array): Account => this.#map.get(bytesToHex(publicKey)) ?? { balance: 0n, nonce: 0n };
}

function transfer(
  from: Wallet,
  fields: { nonce: bigint; fee?: bigint; amount?: bigint; network?: number },
): TransferTx {
  return signTransfer({
    network: fields.network ?? REGTEST.networkId,
    recipient: RECIPIENT,
    amount: fields.amount ?? 1_000n,
    fee: fields.fee ?? 1_000n,
    nonce: fields.nonce,
  }, from.secretKey);
}

function setup(options: Partial<MempoolOptions> = {}, store?: NodeStore) {
  const accounts = new Accounts();
  const verifier = new SignatureVerifier({ workers: 0 });
  const mempool = new Mempool({ params: REGTEST, ...options }, { account: accounts.get, verifier, store });
  return { accounts, verifier, mempool };
}

/** A funded sender with nonce 0 registered in `accounts`. */
function funded(accounts: Accounts, balance = 100n * COIN, nonce = 0n): Wallet {
  const w = wallet();
  accounts.set(w, { balance, nonce });
  return w;
}

/** Assert that `fn` throws a ValidationError with `code` and `ban`. */
function rejects(fn: () => unknown, code: ErrorCode, ban = false): ValidationError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ValidationError, `expected a ValidationError ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.ban, ban, `ban decision of ${code}`);
  return caught;
}

function ids(txs: readonly TransferTx[]): string[] {
  return txs.map((tx) => bytesToHex(txId(tx)));
}

function nonces(mempool: Mempool, w: Wallet): bigint[] {
  return mempool.pendingOf(w.publicKey).map((e) => e.tx.nonce);
}

function blockOf(txs: TransferTx[]): Block {
  const coinbase: CoinbaseTx = {
    kind: "coinbase",
    network: REGTEST.networkId,
    height: 1,
    recipient: RECIPIENT,
    amount: 50n * COIN,
    extra: new Uint8Array(0),
  };
  // blockConnected() only reads the transactions.
  return { header: {} as Block["header"], txs: [coinbase, ...txs] };
}

Deno.test("Mempool.add() keeps each sender's transactions in nonce order from the account's nonce", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts, 100n * COIN, 5n);
  rejects(() => mempool.add(transfer(a, { nonce: 6n })), ErrorCode.NONCE_TOO_HIGH);
  rejects(() => mempool.add(transfer(a, { nonce: 4n })), ErrorCode.BAD_NONCE);
  rejects(() => mempool.add(transfer(a, { nonce: 0n })), ErrorCode.BAD_NONCE);
  mempool.add(transfer(a, { nonce: 5n }));
  rejects(() => mempool.add(transfer(a, { nonce: 7n })), ErrorCode.NONCE_TOO_HIGH);
  mempool.add(transfer(a, { nonce: 6n }));
  mempool.add(transfer(a, { nonce: 7n }));
  assert.deepEqual(nonces(mempool, a), [5n, 6n, 7n]);
  assert.equal(mempool.size, 3);
});

Deno.test("Mempool.select() orders by fee across senders and keeps every sender's nonce order", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts);
  const b = funded(accounts);
  const a0 = transfer(a, { nonce: 0n, fee: 1_000n });
  const a1 = transfer(a, { nonce: 1n, fee: 9_000n });
  const b0 = transfer(b, { nonce: 0n, fee: 5_000n });
  mempool.add(a0);
  mempool.add(a1);
  mempool.add(b0);
  // A1 pays most but cannot precede A0, whose fee is lower than B0's.
  assert.deepEqual(ids(mempool.select()), ids([b0, a0, a1]));
  assert.deepEqual(ids(mempool.select(2)), ids([b0, a0]));
  assert.deepEqual(mempool.select(0), []);
});

Deno.test("Mempool.select() interleaves several senders by the fee of each sender's next nonce", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts);
  const b = funded(accounts);
  const c = funded(accounts);
  const a0 = transfer(a, { nonce: 0n, fee: 8_000n });
  const a1 = transfer(a, { nonce: 1n, fee: 2_000n });
  const a2 = transfer(a, { nonce: 2n, fee: 7_000n });
  const b0 = transfer(b, { nonce: 0n, fee: 6_000n });
  const b1 = transfer(b, { nonce: 1n, fee: 5_000n });
  const c0 = transfer(c, { nonce: 0n, fee: 3_000n });
  for (const tx of [c0, b0, b1, a0, a1, a2]) mempool.add(tx);
  assert.deepEqual(ids(mempool.select()), ids([a0, b0, b1, c0, a1, a2]));
});

Deno.test("Mempool.add() replaces the same sender and nonce only for at least 10% more fee", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts);
  const original = mempool.add(transfer(a, { nonce: 0n, fee: 10_000n }));
  const next = mempool.add(transfer(a, { nonce: 1n, fee: 10_000n }));
  rejects(() => mempool.add(transfer(a, { nonce: 0n, fee: 5_000n, amount: 7n })), ErrorCode.FEE_TOO_LOW);
  rejects(() => mempool.add(transfer(a, { nonce: 0n, fee: 10_000n, amount: 7n })), ErrorCode.FEE_TOO_LOW);
  rejects(() => mempool.add(transfer(a, { nonce: 0n, fee: 10_999n, amount: 7n })), ErrorCode.FEE_TOO_LOW);
  assert.ok(mempool.has(original.txid));
  const replacement = transfer(a, { nonce: 0n, fee: 11_000n, amount: 7n });
  mempool.add(replacement);
  assert.ok(!mempool.has(original.txid), "the replaced transaction is gone");
  assert.ok(!mempool.has(original.hex));
  assert.equal(mempool.get(original.txid), undefined);
  assert.ok(mempool.has(txId(replacement)));
  assert.ok(mempool.has(next.txid), "the sender's later nonce stays");
  assert.equal(mempool.size, 2);
  assert.deepEqual(ids(mempool.pendingOf(a.publicKey).map((e) => e.tx)), ids([replacement, next.tx]));
});

Deno.test("Mempool.add() replace-by-fee on a tiny fee needs at least one more unit", () => {
  const { accounts, mempool } = setup({ minFee: 5n });
  const a = funded(accounts);
  mempool.add(transfer(a, { nonce: 0n, fee: 9n }));
  // 9 / 10 = 0, so the bump is the minimum of 1.
  rejects(() => mempool.add(transfer(a, { nonce: 0n, fee: 9n, amount: 2n })), ErrorCode.FEE_TOO_LOW);
  mempool.add(transfer(a, { nonce: 0n, fee: 10n, amount: 2n }));
  assert.equal(mempool.size, 1);
  assert.equal(mempool.pendingOf(a.publicKey)[0].tx.fee, 10n);
});

Deno.test("Mempool.add() at the size cap evicts the lowest-fee tail, refuses a lower fee", () => {
  const { accounts, mempool } = setup({ maxTxs: 3 });
  const a = funded(accounts);
  const b = funded(accounts);
  const c = funded(accounts);
  const d = funded(accounts);
  const a0 = mempool.add(transfer(a, { nonce: 0n, fee: 5_000n }));
  const a1 = mempool.add(transfer(a, { nonce: 1n, fee: 2_000n }));
  const b0 = mempool.add(transfer(b, { nonce: 0n, fee: 3_000n }));
  assert.equal(mempool.size, 3);
  // Lowest tail is A1 (2000): a fee of 2000 does not beat it, 1500 neither.
  rejects(() => mempool.add(transfer(c, { nonce: 0n, fee: 2_000n })), ErrorCode.MEMPOOL_FULL);
  rejects(() => mempool.add(transfer(c, { nonce: 0n, fee: 1_500n })), ErrorCode.MEMPOOL_FULL);
  assert.equal(mempool.size, 3);
  const c0 = transfer(c, { nonce: 0n, fee: 4_000n });
  mempool.add(c0);
  assert.equal(mempool.size, 3);
  assert.ok(!mempool.has(a1.txid), "the lowest-fee tail was evicted");
  assert.ok(mempool.has(a0.txid) && mempool.has(b0.txid) && mempool.has(txId(c0)));
  // Now the tails are A0 5000, B0 3000, C0 4000: D needs more than 3000.
  rejects(() => mempool.add(transfer(d, { nonce: 0n, fee: 3_000n })), ErrorCode.MEMPOOL_FULL);
  mempool.add(transfer(d, { nonce: 0n, fee: 3_001n }));
  assert.ok(!mempool.has(b0.txid));
  assert.equal(mempool.size, 3);
  // A replacement does not grow the pool, so it needs no eviction.
  mempool.add(transfer(a, { nonce: 0n, fee: 6_000n, amount: 5n }));
  assert.equal(mempool.size, 3);
  assert.ok(mempool.has(txId(c0)));
});

Deno.test("Mempool.remove() of a middle nonce also removes the sender's later nonces", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts);
  const b = funded(accounts);
  const entries = [0n, 1n, 2n, 3n].map((nonce) => mempool.add(transfer(a, { nonce })));
  const other = mempool.add(transfer(b, { nonce: 0n }));
  mempool.remove(entries[1].hex);
  assert.deepEqual(nonces(mempool, a), [0n]);
  for (const e of entries.slice(1)) assert.ok(!mempool.has(e.txid));
  assert.ok(mempool.has(other.txid));
  assert.equal(mempool.size, 2);
  // The gap is closed again from nonce 1.
  rejects(() => mempool.add(transfer(a, { nonce: 2n })), ErrorCode.NONCE_TOO_HIGH);
  mempool.add(transfer(a, { nonce: 1n, fee: 1_234n }));
  assert.deepEqual(nonces(mempool, a), [0n, 1n]);
});

Deno.test("Mempool.add() at the size cap never leaves a sender with a nonce gap when its own tail is the lowest", () => {
  const { accounts, mempool } = setup({ maxTxs: 3 });
  const a = funded(accounts);
  const b = funded(accounts);
  mempool.add(transfer(a, { nonce: 0n, fee: 1_000n }));
  mempool.add(transfer(b, { nonce: 0n, fee: 5_000n }));
  mempool.add(transfer(b, { nonce: 1n, fee: 5_000n }));
  // A's next nonce pays more than A0, the lowest tail in the pool; evicting A0 for it would
  // leave A1 without its predecessor.
  try {
    mempool.add(transfer(a, { nonce: 1n, fee: 2_000n }));
  } catch (err) {
    assert.ok(err instanceof ValidationError && err.code === ErrorCode.MEMPOOL_FULL, String(err));
  }
  const pending = mempool.pendingOf(a.publicKey);
  for (let i = 0; i < pending.length; i++) {
    assert.ok(pending[i] !== undefined, `sender A has a hole at position ${i}`);
    assert.equal(pending[i].tx.nonce, BigInt(i), "A's pending nonces start at its account nonce");
  }
  assert.ok(mempool.size <= 3);
  // The template must still build.
  const selected = mempool.select();
  assert.equal(selected.length, mempool.size);
});

Deno.test("Mempool.add() at the size cap evicts nothing for a transaction with a bad signature", () => {
  const { accounts, mempool } = setup({ maxTxs: 2 });
  const a = funded(accounts);
  const b = funded(accounts);
  const c = funded(accounts);
  const a0 = mempool.add(transfer(a, { nonce: 0n, fee: 1_000n }));
  const b0 = mempool.add(transfer(b, { nonce: 0n, fee: 2_000n }));
  const forged = transfer(c, { nonce: 0n, fee: 9_000n });
  forged.signature = forged.signature.slice();
  forged.signature[10] ^= 1;
  rejects(() => mempool.add(forged), ErrorCode.BAD_SIGNATURE, true);
  assert.ok(mempool.has(a0.txid), "a forged transaction must not evict a valid one");
  assert.ok(mempool.has(b0.txid));
  assert.equal(mempool.size, 2);
});

Deno.test("Mempool.add() counts the sender's pending transactions against its balance", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts, 10_000n);
  mempool.add(transfer(a, { nonce: 0n, amount: 5_000n, fee: 1_000n }));
  mempool.add(transfer(a, { nonce: 1n, amount: 3_000n, fee: 1_000n }));
  // 6000 + 4000 pending: nothing left for a third.
  rejects(() => mempool.add(transfer(a, { nonce: 2n, amount: 1n, fee: 1_000n })), ErrorCode.INSUFFICIENT_FUNDS);
  // A replacement that spends more than the first one did is also covered by the later one's funds.
  rejects(
    () => mempool.add(transfer(a, { nonce: 0n, amount: 5_001n, fee: 1_100n })),
    ErrorCode.INSUFFICIENT_FUNDS,
  );
  const poor = funded(accounts, 1_999n);
  rejects(() => mempool.add(transfer(poor, { nonce: 0n, amount: 1_000n, fee: 1_000n })), ErrorCode.INSUFFICIENT_FUNDS);
  const empty = wallet();
  rejects(() => mempool.add(transfer(empty, { nonce: 0n })), ErrorCode.INSUFFICIENT_FUNDS);
  assert.equal(mempool.size, 2);
});

Deno.test("Mempool.add() rejects policy failures with their code and without a ban", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts);
  rejects(() => mempool.add(transfer(a, { nonce: 0n, fee: 999n })), ErrorCode.FEE_TOO_LOW);
  rejects(() => mempool.add(transfer(a, { nonce: 0n, fee: 0n })), ErrorCode.FEE_TOO_LOW);
  rejects(() => mempool.add(transfer(a, { nonce: 0n, network: DEVNET.networkId })), ErrorCode.WRONG_NETWORK);
  rejects(() => mempool.add(transfer(a, { nonce: 0n, amount: 0n })), ErrorCode.BAD_AMOUNT);
  const tx = transfer(a, { nonce: 0n });
  mempool.add(tx);
  rejects(() => mempool.add(tx), ErrorCode.ALREADY_KNOWN);
  rejects(() => mempool.add(structuredClone(tx)), ErrorCode.ALREADY_KNOWN);
  const coinbase: CoinbaseTx = {
    kind: "coinbase",
    network: REGTEST.networkId,
    height: 1,
    recipient: a.publicKey,
    amount: 1n,
    extra: new Uint8Array(0),
  };
  rejects(() => mempool.add(coinbase as unknown as TransferTx), ErrorCode.BAD_COINBASE);
  assert.equal(mempool.size, 1);
});

Deno.test("Mempool.add() rejects a bad signature with a ban and keeps nothing", () => {
  const { accounts, mempool, verifier } = setup();
  const a = funded(accounts);
  const tx = transfer(a, { nonce: 0n });
  const forged = { ...tx, signature: tx.signature.slice() };
  forged.signature[63] ^= 0x80;
  rejects(() => mempool.add(forged), ErrorCode.BAD_SIGNATURE, true);
  // Signed by someone else.
  const other = wallet();
  const stolen = { ...signTransfer({ ...tx, recipient: tx.recipient }, other.secretKey), sender: a.publicKey };
  rejects(() => mempool.add(stolen), ErrorCode.BAD_SIGNATURE, true);
  assert.equal(mempool.size, 0);
  const verified = verifier.verified;
  // The verdict is cached by txid: asking again does not verify again.
  rejects(() => mempool.add(forged), ErrorCode.BAD_SIGNATURE, true);
  assert.equal(verifier.verified, verified);
  mempool.add(tx);
  assert.equal(mempool.size, 1);
});

Deno.test("Mempool.revalidate() after a new tip drops used nonces and what the balance no longer covers", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts, 100_000n);
  const b = funded(accounts, 100_000n);
  const c = funded(accounts, 100_000n);
  const as = [0n, 1n, 2n, 3n].map((nonce) => mempool.add(transfer(a, { nonce, amount: 10_000n })));
  const bs = [0n, 1n, 2n].map((nonce) => mempool.add(transfer(b, { nonce, amount: 20_000n })));
  const c0 = mempool.add(transfer(c, { nonce: 0n }));
  // A's first two nonces were used by a block; B spent most of its money elsewhere (nonce 1 used
  // by a conflicting transaction) and can now pay for one more transfer only; C is untouched.
  accounts.set(a, { balance: 78_000n, nonce: 2n });
  accounts.set(b, { balance: 25_000n, nonce: 1n });
  mempool.revalidate();
  assert.deepEqual(nonces(mempool, a), [2n, 3n]);
  assert.ok(!mempool.has(as[0].txid) && !mempool.has(as[1].txid));
  assert.deepEqual(nonces(mempool, b), [1n]);
  assert.ok(mempool.has(bs[1].txid) && !mempool.has(bs[2].txid) && !mempool.has(bs[0].txid));
  assert.ok(mempool.has(c0.txid));
  assert.equal(mempool.size, 4);
  // The next nonce after the kept ones is accepted again.
  mempool.add(transfer(a, { nonce: 4n, amount: 10_000n }));
  // A sender whose account moved past everything loses its whole queue.
  accounts.set(c, { balance: 100_000n, nonce: 1n });
  mempool.revalidate();
  assert.deepEqual(nonces(mempool, c), []);
  assert.ok(!mempool.has(c0.txid));
  const selected = mempool.select();
  assert.deepEqual(selected.filter((tx) => bytesToHex(tx.sender) === bytesToHex(a.publicKey)).map((tx) => tx.nonce), [
    2n,
    3n,
    4n,
  ]);
  assert.deepEqual(selected.filter((tx) => bytesToHex(tx.sender) === bytesToHex(b.publicKey)).map((tx) => tx.nonce), [
    1n,
  ]);
  assert.equal(selected.length, 4);
});

Deno.test("Mempool.blockConnected() removes included transactions and keeps the sender's later nonces", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts);
  const b = funded(accounts);
  const a0 = mempool.add(transfer(a, { nonce: 0n }));
  const a1 = mempool.add(transfer(a, { nonce: 1n }));
  const a2 = mempool.add(transfer(a, { nonce: 2n }));
  const b0 = mempool.add(transfer(b, { nonce: 0n }));
  const unrelated = transfer(wallet(), { nonce: 0n });
  mempool.blockConnected(blockOf([a0.tx, a1.tx, unrelated]));
  assert.ok(!mempool.has(a0.txid) && !mempool.has(a1.txid));
  assert.ok(mempool.has(a2.txid) && mempool.has(b0.txid));
  assert.equal(mempool.size, 2);
  // The chain's account moved to nonce 2; re-validation keeps A2 as the next transaction.
  accounts.set(a, { balance: 100n * COIN - 4_000n, nonce: 2n });
  mempool.revalidate();
  assert.deepEqual(nonces(mempool, a), [2n]);
  assert.deepEqual(ids(mempool.select()).sort(), ids([a2.tx, b0.tx]).sort());
  mempool.add(transfer(a, { nonce: 3n }));
  assert.deepEqual(nonces(mempool, a), [2n, 3n]);
});

Deno.test("Mempool.reorganise() returns disconnected transactions in nonce order together with the held ones", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts);
  const b = funded(accounts);
  const a0 = transfer(a, { nonce: 0n, fee: 2_000n });
  const a1 = transfer(a, { nonce: 1n, fee: 2_000n });
  const b0 = transfer(b, { nonce: 0n, fee: 3_000n });
  // A0, A1 and B0 were confirmed; the mempool holds A2, A3 on top of them.
  accounts.set(a, { balance: 100n * COIN - 6_000n, nonce: 2n });
  accounts.set(b, { balance: 100n * COIN - 4_000n, nonce: 1n });
  const a2 = mempool.add(transfer(a, { nonce: 2n, fee: 9_000n }));
  const a3 = mempool.add(transfer(a, { nonce: 3n, fee: 1_000n }));
  // A reorganisation takes the block away: the accounts go back to nonce 0.
  accounts.set(a, { balance: 100n * COIN, nonce: 0n });
  accounts.set(b, { balance: 100n * COIN, nonce: 0n });
  const returned = mempool.reorganise([a1, b0, a0]);
  assert.equal(returned, 5);
  assert.deepEqual(nonces(mempool, a), [0n, 1n, 2n, 3n]);
  assert.deepEqual(ids(mempool.pendingOf(a.publicKey).map((e) => e.tx)), ids([a0, a1, a2.tx, a3.tx]));
  assert.deepEqual(nonces(mempool, b), [0n]);
  assert.deepEqual(ids(mempool.select()), ids([b0, a0, a1, a2.tx, a3.tx]));
});

Deno.test("Mempool.reorganise() drops returned transactions the new chain already used", () => {
  const { accounts, mempool } = setup();
  const a = funded(accounts);
  const a0 = transfer(a, { nonce: 0n });
  const a1 = transfer(a, { nonce: 1n });
  // The winning branch also confirmed A0 (and only A0).
  accounts.set(a, { balance: 100n * COIN - 2_000n, nonce: 1n });
  assert.equal(mempool.reorganise([a0, a1]), 1);
  assert.deepEqual(ids(mempool.pendingOf(a.publicKey).map((e) => e.tx)), ids([a1]));
});

Deno.test("Mempool persists accepted and removed transactions in SQLite and load() restores them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgeledger-mempool-" });
  const path = `${dir}/chain.sqlite`;
  const accounts = new Accounts();
  const a = funded(accounts);
  const b = funded(accounts);
  const c = funded(accounts);
  try {
    let kept: string[];
    {
      const store = NodeStore.open(path);
      const mempool = new Mempool({ params: REGTEST }, {
        account: accounts.get,
        verifier: new SignatureVerifier({ workers: 0 }),
        store,
      });
      const a0 = mempool.add(transfer(a, { nonce: 0n }));
      const a1 = mempool.add(transfer(a, { nonce: 1n }));
      const a2 = mempool.add(transfer(a, { nonce: 2n }));
      const b0 = mempool.add(transfer(b, { nonce: 0n, fee: 2_000n }));
      mempool.add(transfer(b, { nonce: 0n, fee: 3_000n, amount: 9n })); // replaces b0
      const c0 = mempool.add(transfer(c, { nonce: 0n }));
      const c1 = mempool.add(transfer(c, { nonce: 1n }));
      mempool.remove(c0.txid); // and c1 with it
      mempool.blockConnected(blockOf([a0.tx]));
      assert.equal(store.allMempool().length, 3);
      kept = [a1.hex, a2.hex, mempool.pendingOf(b.publicKey)[0].hex].sort();
      assert.ok(!mempool.has(b0.txid) && !mempool.has(c1.txid));
      store.close();
    }
    accounts.set(a, { balance: 100n * COIN - 2_000n, nonce: 1n });
    {
      const store = NodeStore.open(path);
      const verifier = new SignatureVerifier({ workers: 0 });
      const mempool = new Mempool({ params: REGTEST }, { account: accounts.get, verifier, store });
      assert.equal(mempool.size, 0);
      assert.equal(mempool.load(), 3);
      assert.deepEqual([...mempool.entries()].map((e) => e.hex).sort(), kept);
      assert.deepEqual(nonces(mempool, a), [1n, 2n]);
      assert.equal(store.allMempool().length, 3);
      store.close();
    }
    // A transaction that became invalid while the node was down is dropped at load.
    accounts.set(a, { balance: 100n * COIN - 3_000n, nonce: 2n });
    {
      const store = NodeStore.open(path);
      const mempool = new Mempool({ params: REGTEST }, {
        account: accounts.get,
        verifier: new SignatureVerifier({ workers: 0 }),
        store,
      });
      assert.equal(mempool.load(), 2);
      assert.deepEqual(nonces(mempool, a), [2n]);
      assert.equal(store.allMempool().length, 2);
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
