/**
 * The full node's chain over a real SQLite file: connecting blocks with transfers,
 * reorganisations (shallow and deeper than 10 blocks) with undo data, blocks arriving out of
 * order, invalid blocks and their descendants, the state check at startup with `--reindex`,
 * and transaction, account and history proofs checked by the protocol verifiers.
 *
 * Competing branches are mined by separate Chain instances on their own databases, so every
 * block a test feeds in was built and validated by the same code a node runs. On regtest
 * every block has the same work, so the longer branch has more work.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type Block, computeTxRoot } from "../protocol/block.ts";
import { bytesToHex, equalBytes } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { type BlockHeader, hashHeader } from "../protocol/header.ts";
import { HistoryAccumulator, verifyHistoryProof } from "../protocol/history.ts";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { hashLeaf, verifyInclusion } from "../protocol/merkle.ts";
import { blockSubsidy, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import { verifySmtProof } from "../protocol/smt.ts";
import { type Account, accountKey, decodeAccount } from "../protocol/state.ts";
import { type CoinbaseTx, signTransfer, type TransferTx, txId } from "../protocol/tx.ts";
import { nextBits } from "../protocol/validation.ts";
import { Chain, type ChainEntry, StateMismatchError } from "../full-node/chain.ts";
import { SignatureVerifier } from "../full-node/sig_verifier.ts";
import { HeaderStatus, NodeStore } from "../full-node/store.ts";
import { TestChain } from "./helpers/chain.ts";

const COIN = 100_000_000n;
const SUBSIDY = blockSubsidy(REGTEST, 1);
const FEE = 1_000n;

interface Wallet {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

function wallet(): Wallet {
  const secretKey = generateSecretKey();
  return { secretKey, publicKey: publicKeyFromSecret(secretKey) };
}

/** A Chain over a real SQLite file, with inline signature checks. */
interface Node {
  chain: Chain;
  store: NodeStore;
  path: string;
  close(): void;
}

function openNode(path: string): Node {
  const store = NodeStore.open(path);
  const verifier = new SignatureVerifier({ workers: 0 });
  const chain = new Chain({ params: REGTEST }, { store, verifier });
  return {
    chain,
    store,
    path,
    close: () => {
      verifier.close();
      store.close();
    },
  };
}

/** Temporary directory with a `node(name)` factory; everything is closed and removed by `cleanup`. */
async function workspace() {
  const dir = await Deno.makeTempDir({ prefix: "edgeledger-chain-" });
  const open: Node[] = [];
  return {
    dir,
    node(name: string, init = true): Node {
      const n = openNode(`${dir}/${name}.sqlite`);
      open.push(n);
      if (init) n.chain.init();
      return n;
    },
    async cleanup() {
      for (const n of open) n.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function mine(header: BlockHeader): void {
  const target = bitsToTarget(header.bits);
  for (header.nonce = 0n; !hashMeetsTarget(hashHeader(header), target); header.nonce++) {
    // search
  }
}

/** A mined block on `chain`'s tip (not processed). */
function build(chain: Chain, miner: Wallet, txs: readonly TransferTx[] = []): Block {
  const { block } = chain.buildTemplate({ miner: miner.publicKey, txs, time: chain.tip.header.time + 1000 });
  mine(block.header);
  return block;
}

/** Mine a block on `chain`'s tip and connect it. */
async function extend(chain: Chain, miner: Wallet, txs: readonly TransferTx[] = []): Promise<Block> {
  const block = build(chain, miner, txs);
  const result = await chain.processBlock(block);
  assert.equal(result.status, "connected");
  return block;
}

function pay(from: Wallet, to: Wallet, amount: bigint, nonce: bigint): TransferTx {
  return signTransfer({ network: REGTEST.networkId, recipient: to.publicKey, amount, fee: FEE, nonce }, from.secretKey);
}

function hex(block: Block): string {
  return bytesToHex(hashHeader(block.header));
}

/** Expect `promise` to reject with a ValidationError of `code`. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<ValidationError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ValidationError, `expected ValidationError ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** The chain's state is what its tip commits to, in memory and in the database. */
function assertConsistent(node: Node): void {
  const { chain, store } = node;
  assert.ok(equalBytes(chain.tree.root(), chain.tip.header.stateRoot), "tree root = tip stateRoot");
  assert.ok(equalBytes(store.getMeta("smtRoot")!, chain.tip.header.stateRoot), "stored smtRoot = tip stateRoot");
  assert.ok(equalBytes(store.getMeta("tip")!, chain.tip.hash), "stored tip");
  for (let h = 0; h <= chain.height; h++) {
    assert.ok(equalBytes(store.getMain(h)!, chain.atHeight(h)!.hash), `main chain index at ${h}`);
  }
  assert.equal(store.getMain(chain.height + 1), undefined);
}

/** Snapshot of accounts by hex public key. */
function balances(chain: Chain, wallets: Wallet[]): Account[] {
  return wallets.map((w) => chain.account(w.publicKey));
}

/**
 * A child block of an arbitrary parent, built by hand (for parents no validating chain would
 * build on). Its header is valid for the parent; its stateRoot is whatever the caller says.
 */
function childOf(
  parent: { header: BlockHeader; history: HistoryAccumulator },
  miner: Wallet,
  stateRoot = new Uint8Array(32),
): { block: Block; history: HistoryAccumulator } {
  const parentHash = hashHeader(parent.header);
  const history = parent.history.clone();
  history.append(parentHash);
  const height = parent.header.height + 1;
  const coinbase: CoinbaseTx = {
    kind: "coinbase",
    network: REGTEST.networkId,
    height,
    recipient: miner.publicKey,
    amount: blockSubsidy(REGTEST, height),
    extra: new Uint8Array(0),
  };
  const header: BlockHeader = {
    version: 1,
    height,
    prevHash: parentHash,
    txRoot: computeTxRoot([txId(coinbase)]),
    stateRoot,
    historyRoot: history.root(),
    time: parent.header.time + 1000,
    bits: nextBits(REGTEST, parent.header),
    nonce: 0n,
  };
  mine(header);
  return { block: { header, txs: [coinbase] }, history };
}

/** The history accumulator a child of main-chain block `height` commits to (hashes 0..height-1 before appending). */
function historyBefore(chain: Chain, height: number): HistoryAccumulator {
  const acc = new HistoryAccumulator();
  for (let h = 0; h < height; h++) acc.append(chain.atHeight(h)!.hash);
  return acc;
}

Deno.test("Chain connects 20 blocks with transfers; balances, nonces, indexes and stateRoot agree with an independent chain", async () => {
  const ws = await workspace();
  try {
    const node = ws.node("a");
    const miner = wallet();
    const bob = wallet();
    const carol = wallet();
    const reference = new TestChain(REGTEST);
    let minerNonce = 0n;
    let bobNonce = 0n;
    const txids: Uint8Array[] = [];
    for (let h = 1; h <= 20; h++) {
      const txs: TransferTx[] = [];
      if (h >= 2) txs.push(pay(miner, bob, 2n * COIN, minerNonce++));
      if (h >= 3) txs.push(pay(miner, carol, COIN, minerNonce++));
      if (h >= 4) txs.push(pay(bob, carol, COIN / 2n, bobNonce++));
      const block = await extend(node.chain, miner, txs);
      assert.equal(block.txs.length, 1 + txs.length, `block ${h} kept every transfer`);
      txids.push(...txs.map(txId));
      // The in-memory reference chain of the test helpers accepts the same block.
      reference.connect(block);
      assert.ok(equalBytes(reference.tree().root(), block.header.stateRoot), `reference stateRoot at ${h}`);
    }
    const chain = node.chain;
    assert.equal(chain.height, 20);
    assertConsistent(node);
    const toBob = 19n;
    const toCarol = 18n;
    const bobSpent = 17n;
    // The miner gets its own fees back and collects bob's.
    assert.deepEqual(chain.account(miner.publicKey), {
      balance: 20n * SUBSIDY - toBob * 2n * COIN - toCarol * COIN + bobSpent * FEE,
      nonce: toBob + toCarol,
    });
    assert.deepEqual(chain.account(bob.publicKey), {
      balance: toBob * 2n * COIN - bobSpent * (COIN / 2n + FEE),
      nonce: bobSpent,
    });
    assert.deepEqual(chain.account(carol.publicKey), { balance: toCarol * COIN + bobSpent * (COIN / 2n), nonce: 0n });
    for (const txid of txids) assert.ok(chain.transaction(txid), `transaction ${bytesToHex(txid)} is indexed`);
    // The same block again is a duplicate, and changes nothing.
    const tipBlock = chain.block(chain.tip.hash)!;
    assert.equal((await chain.processBlock(tipBlock)).status, "duplicate");
    assert.equal(chain.stats.blocksConnected, 20);
    assert.equal(chain.stats.reorgs, 0);
  } finally {
    await ws.cleanup();
  }
});

/**
 * Two miners share `common` blocks, then mine `lengthA` and `lengthB` blocks of their own,
 * each with transfers from a funded sender to a different recipient. Returns the chains
 * and blocks.
 */
async function forked(ws: Awaited<ReturnType<typeof workspace>>, common: number, lengthA: number, lengthB: number) {
  const x = ws.node("x");
  const y = ws.node("y");
  const minerX = wallet();
  const minerY = wallet();
  const alice = wallet();
  const bob = wallet();
  const carol = wallet();
  const commonBlocks: Block[] = [];
  for (let i = 0; i < common; i++) {
    // Fund alice in the common part.
    commonBlocks.push(await extend(x.chain, i === 0 ? alice : minerX));
    assert.equal((await y.chain.processBlock(commonBlocks[i])).status, "connected");
  }
  const forkAlice = x.chain.account(alice.publicKey);
  const branchA: Block[] = [];
  for (let i = 0; i < lengthA; i++) {
    branchA.push(await extend(x.chain, minerX, [pay(alice, bob, COIN, forkAlice.nonce + BigInt(i))]));
  }
  const branchB: Block[] = [];
  for (let i = 0; i < lengthB; i++) {
    branchB.push(await extend(y.chain, minerY, [pay(alice, carol, 2n * COIN, forkAlice.nonce + BigInt(i))]));
  }
  return { x, y, minerX, minerY, alice, bob, carol, commonBlocks, branchA, branchB };
}

Deno.test("Chain reorganises to a competing branch with more work; undo restores each parent's state", async () => {
  const ws = await workspace();
  try {
    const f = await forked(ws, 5, 6, 8);
    const node = ws.node("n");
    const chain = node.chain;
    const people = [f.alice, f.bob, f.carol, f.minerX, f.minerY];
    // Balances after every block the node connected, by block hash.
    const after = new Map<string, Account[]>([[chain.tip.hex, balances(chain, people)]]);
    chain.listen({ connected: (entry) => after.set(entry.hex, balances(chain, people)) });
    for (const b of [...f.commonBlocks, ...f.branchA]) await chain.processBlock(b);
    assert.equal(chain.height, 11);
    assert.equal(chain.tip.hex, hex(f.branchA[5]));
    const oldTip = chain.tip;
    const disconnected: string[] = [];
    chain.listen({
      disconnected: (entry) => {
        // Called after the disconnect committed: the state is exactly the parent's.
        assert.equal(chain.tip, entry.parent);
        assert.ok(equalBytes(chain.tree.root(), entry.parent!.header.stateRoot), `state after undo of ${entry.height}`);
        assert.ok(equalBytes(node.store.getMeta("smtRoot")!, entry.parent!.header.stateRoot));
        assert.deepEqual(
          balances(chain, people),
          after.get(entry.parent!.hex),
          `balances at ${entry.height - 1}`,
        );
        disconnected.push(entry.hex);
      },
    });
    // Branch B up to the same work is stored but does not move the tip.
    for (let i = 0; i < 6; i++) {
      assert.equal((await chain.processBlock(f.branchB[i])).status, "stored");
    }
    assert.equal(chain.tip, oldTip);
    assert.deepEqual(disconnected, []);
    // One more block gives branch B more work: reorganisation of 6 blocks.
    const result = await chain.processBlock(f.branchB[6]);
    assert.equal(result.status, "connected");
    assert.deepEqual(disconnected, f.branchA.map(hex).reverse());
    assert.equal(chain.stats.reorgs, 1);
    await chain.processBlock(f.branchB[7]);
    assert.equal(chain.tip.hex, f.y.chain.tip.hex);
    assertConsistent(node);
    // Balances follow the winning branch.
    assert.deepEqual(balances(chain, people), balances(f.y.chain, people));
    assert.equal(chain.account(f.bob.publicKey).balance, 0n);
    assert.equal(chain.account(f.carol.publicKey).balance, 8n * 2n * COIN);
    // Transactions of the losing branch left the index; those of the winner are in it.
    for (const b of f.branchA) assert.equal(chain.transaction(txId(b.txs[1])), undefined);
    for (const b of f.branchB) assert.ok(chain.transaction(txId(b.txs[1])));
    assert.equal(chain.isMain(chain.entry(oldTip.hash)!), false);

    // The old branch grows longer again: the node goes back to it.
    disconnected.length = 0;
    const more: Block[] = [];
    for (let i = 0; i < 3; i++) more.push(await extend(f.x.chain, f.minerX, []));
    for (const b of more) await chain.processBlock(b);
    assert.equal(chain.tip.hex, f.x.chain.tip.hex);
    assert.equal(disconnected.length, 8);
    assert.equal(chain.stats.reorgs, 2);
    assertConsistent(node);
    assert.deepEqual(balances(chain, people), balances(f.x.chain, people));
    assert.equal(chain.account(f.carol.publicKey).balance, 0n);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("Chain reorganises deeper than 10 blocks and survives a reopen afterwards", async () => {
  const ws = await workspace();
  try {
    const f = await forked(ws, 2, 12, 15);
    const node = ws.node("n");
    for (const b of [...f.commonBlocks, ...f.branchA]) await node.chain.processBlock(b);
    assert.equal(node.chain.height, 14);
    let disconnects = 0;
    node.chain.listen({ disconnected: () => disconnects++ });
    for (const b of f.branchB) await node.chain.processBlock(b);
    assert.equal(disconnects, 12);
    assert.equal(node.chain.height, 17);
    assert.equal(node.chain.tip.hex, f.y.chain.tip.hex);
    assertConsistent(node);
    const people = [f.alice, f.bob, f.carol, f.minerX, f.minerY];
    const expected = balances(f.y.chain, people);
    assert.deepEqual(balances(node.chain, people), expected);
    // The state left by the reorganisation is what a fresh start finds.
    node.close();
    const again = ws.node("n");
    assert.equal(again.chain.tip.hex, f.y.chain.tip.hex);
    assert.deepEqual(balances(again.chain, people), expected);
    assertConsistent(again);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("Chain keeps blocks whose parent is unknown and connects them when the parent arrives", async () => {
  const ws = await workspace();
  try {
    const source = ws.node("source");
    const miner = wallet();
    const blocks: Block[] = [];
    for (let i = 0; i < 6; i++) blocks.push(await extend(source.chain, miner));
    const node = ws.node("n");
    const chain = node.chain;
    // Child before parent: 6, 5, 4, 3, 2 wait; 1 connects them all.
    for (let i = 5; i >= 1; i--) {
      assert.deepEqual(await chain.processBlock(blocks[i]), { status: "orphan" });
      assert.equal(chain.orphanCount, 6 - i);
      assert.equal(chain.height, 0);
    }
    const result = await chain.processBlock(blocks[0]);
    assert.equal(result.status, "connected");
    assert.equal(chain.height, 6);
    assert.equal(chain.orphanCount, 0);
    assert.equal(chain.tip.hex, source.chain.tip.hex);
    assertConsistent(node);
    // An orphan that arrives twice is held once.
    const later: Block[] = [];
    for (let i = 0; i < 2; i++) later.push(await extend(source.chain, miner));
    await chain.processBlock(later[1]);
    await chain.processBlock(later[1]);
    assert.equal(chain.orphanCount, 1);
    await chain.processBlock(later[0]);
    assert.equal(chain.height, 8);
    assert.equal(chain.orphanCount, 0);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("Chain bounds the orphan pool", async () => {
  const ws = await workspace();
  try {
    const source = ws.node("source");
    const miner = wallet();
    const blocks: Block[] = [];
    for (let i = 0; i < 8; i++) blocks.push(await extend(source.chain, miner));
    const store = NodeStore.open(`${ws.dir}/bounded.sqlite`);
    const verifier = new SignatureVerifier({ workers: 0 });
    try {
      const chain = new Chain({ params: REGTEST, maxOrphans: 3 }, { store, verifier });
      chain.init();
      for (let i = 1; i < 8; i++) await chain.processBlock(blocks[i]);
      assert.equal(chain.orphanCount, 3);
      await chain.processBlock(blocks[0]);
      // The oldest orphans (blocks 2..5) were dropped, so only block 1 connects.
      assert.equal(chain.height, 1);
    } finally {
      verifier.close();
      store.close();
    }
  } finally {
    await ws.cleanup();
  }
});

Deno.test("Chain rejects a block with a bad stateRoot (BAD_STATE_ROOT) and every descendant of it", async () => {
  const ws = await workspace();
  try {
    const node = ws.node("n");
    const chain = node.chain;
    const miner = wallet();
    const alice = wallet();
    await extend(chain, alice);
    for (let i = 0; i < 3; i++) await extend(chain, miner);
    const tipBefore = chain.tip;
    const balanceBefore = chain.account(alice.publicKey);

    // A block whose transfer is real but whose stateRoot is not the state after it.
    const bad = build(chain, miner, [pay(alice, miner, COIN, 0n)]);
    bad.header.stateRoot = bad.header.stateRoot.slice();
    bad.header.stateRoot[0] ^= 1;
    mine(bad.header);
    const err = await rejectsWith(chain.processBlock(bad), ErrorCode.BAD_STATE_ROOT);
    assert.equal(err.ban, true);
    assert.equal(chain.tip, tipBefore);
    assert.equal(chain.entry(hashHeader(bad.header))!.status, HeaderStatus.INVALID);
    assertConsistent(node);
    assert.deepEqual(chain.account(alice.publicKey), balanceBefore);
    assert.equal(chain.stats.invalidBlocks, 1);

    // Its child is refused because of its parent, and so is the bad block sent again.
    const parent = { header: bad.header, history: historyBefore(chain, bad.header.height) };
    const child = childOf(parent, miner);
    const childErr = await rejectsWith(chain.processBlock(child.block), ErrorCode.BAD_PREV);
    assert.equal(childErr.ban, true);
    await rejectsWith(chain.processBlock(bad), ErrorCode.BAD_PREV);
    assert.equal(chain.tip, tipBefore);

    // The chain goes on with valid blocks.
    await extend(chain, miner);
    assert.equal(chain.height, tipBefore.height + 1);
    assertConsistent(node);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("Chain marks stored descendants of a block found invalid while connecting a heavier branch", async () => {
  const ws = await workspace();
  try {
    const node = ws.node("n");
    const chain = node.chain;
    const miner = wallet();
    for (let i = 0; i < 3; i++) await extend(chain, miner);
    const fork = chain.tip;
    // Main chain grows by 2; a competing branch of 4 has a bad stateRoot in its first block.
    const main1 = await extend(chain, miner);
    const main2 = await extend(chain, miner);
    const history = historyBefore(chain, fork.height + 1);
    const b1 = childOf({ header: fork.header, history: historyBefore(chain, fork.height) }, wallet());
    assert.ok(equalBytes(b1.history.root(), history.root()));
    const b2 = childOf({ header: b1.block.header, history: b1.history }, wallet());
    const b3 = childOf({ header: b2.block.header, history: b2.history }, wallet());
    const b4 = childOf({ header: b3.block.header, history: b3.history }, wallet());
    const branch = [b1, b2, b3, b4].map((b) => b.block);
    // Headers first (as in a sync), then the descendants' bodies, then the bad block's body.
    const accepted = chain.acceptHeaders(branch.map((b) => b.header));
    assert.equal(accepted.entries.length, 4);
    assert.equal(chain.bestHeader.hex, hex(branch[3]));
    for (const b of branch.slice(1, 3)) assert.equal((await chain.processBlock(b)).status, "stored");
    assert.equal(chain.tip.hex, hex(main2));
    await rejectsWith(chain.processBlock(branch[0]), ErrorCode.BAD_STATE_ROOT);
    for (const b of branch) {
      const entry = chain.entry(hashHeader(b.header)) as ChainEntry;
      assert.equal(entry.status, HeaderStatus.INVALID, `block at height ${entry.height} is invalid`);
    }
    await rejectsWith(chain.processBlock(branch[3]), ErrorCode.BAD_PREV);
    assert.equal(chain.tip.hex, hex(main2));
    assert.equal(chain.bestHeader.hex, hex(main2));
    assert.ok(chain.isMain(chain.entry(hashHeader(main1.header))!));
    assertConsistent(node);
    // The invalid statuses are stored: a restart does not try the branch again.
    node.close();
    const again = ws.node("n");
    assert.equal(again.chain.tip.hex, hex(main2));
    for (const b of branch) assert.equal(again.chain.entry(hashHeader(b.header))!.status, HeaderStatus.INVALID);
  } finally {
    await ws.cleanup();
  }
});

/** A node with `blocks` blocks of transfers, closed, at `path`; returns what its state was. */
async function populated(ws: Awaited<ReturnType<typeof workspace>>, name: string, blocks: number) {
  const node = ws.node(name);
  const miner = wallet();
  const bob = wallet();
  for (let i = 0; i < blocks; i++) {
    await extend(node.chain, miner, i === 0 ? [] : [pay(miner, bob, COIN, BigInt(i - 1))]);
  }
  const snapshot = {
    height: node.chain.height,
    tipHex: node.chain.tip.hex,
    stateRoot: bytesToHex(node.chain.tip.header.stateRoot),
    miner: node.chain.account(miner.publicKey),
    bob: node.chain.account(bob.publicKey),
    states: node.store.countState(),
  };
  node.close();
  return { path: node.path, miner, bob, snapshot };
}

function corrupt(path: string, sql: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

function initThrowsMismatch(node: Node): StateMismatchError {
  let caught: unknown;
  try {
    node.chain.init();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StateMismatchError, `expected StateMismatchError, got ${caught}`);
  assert.match(caught.message, /--reindex/);
  return caught;
}

/** Reindex `node` and check it is back at `snapshot`, also after a reopen. */
async function reindexAndCheck(
  node: Node,
  p: Awaited<ReturnType<typeof populated>>,
): Promise<void> {
  const progress: number[] = [];
  await node.chain.reindex((height) => progress.push(height));
  assert.equal(progress.at(-1), p.snapshot.height);
  assert.equal(node.chain.height, p.snapshot.height);
  assert.equal(node.chain.tip.hex, p.snapshot.tipHex);
  assert.deepEqual(node.chain.account(p.miner.publicKey), p.snapshot.miner);
  assert.deepEqual(node.chain.account(p.bob.publicKey), p.snapshot.bob);
  assert.equal(node.store.countState(), p.snapshot.states);
  assertConsistent(node);
  node.close();
  const again = openNode(p.path);
  try {
    again.chain.init();
    assert.equal(again.chain.tip.hex, p.snapshot.tipHex);
    assertConsistent(again);
  } finally {
    again.close();
  }
}

Deno.test("Chain.init() refuses a stored state root that differs from the tip and names --reindex; reindex() repairs it", async () => {
  const ws = await workspace();
  try {
    const p = await populated(ws, "n", 8);
    corrupt(p.path, "UPDATE meta SET value = zeroblob(32) WHERE key = 'smtRoot'");
    const node = ws.node("n", false);
    const err = initThrowsMismatch(node);
    assert.match(err.message, new RegExp(p.snapshot.stateRoot));
    await reindexAndCheck(node, p);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("Chain.init() refuses state with an account row deleted and the stored root changed; reindex() restores the row", async () => {
  const ws = await workspace();
  try {
    const p = await populated(ws, "n", 6);
    const key = bytesToHex(accountKey(p.bob.publicKey));
    corrupt(
      p.path,
      `DELETE FROM accounts WHERE key = x'${key}'; ` +
        `UPDATE meta SET value = x'${"11".repeat(32)}' WHERE key = 'smtRoot'`,
    );
    const node = ws.node("n", false);
    initThrowsMismatch(node);
    await reindexAndCheck(node, p);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("Chain.init() refuses a tip pointer one block behind the state and a missing tree root node", async () => {
  const ws = await workspace();
  try {
    const p = await populated(ws, "n", 5);
    // The tip moved back without the state: the state is one block ahead of the stored tip.
    corrupt(p.path, "UPDATE meta SET value = (SELECT hash FROM main WHERE height = 4) WHERE key = 'tip'");
    const behind = ws.node("n", false);
    initThrowsMismatch(behind);
    await reindexAndCheck(behind, p);

    corrupt(p.path, "DELETE FROM smt WHERE hash = (SELECT value FROM meta WHERE key = 'smtRoot')");
    const missing = ws.node("n", false);
    initThrowsMismatch(missing);
    await reindexAndCheck(missing, p);
  } finally {
    await ws.cleanup();
  }
});

Deno.test("Chain proofs of transactions, accounts and history verify with the protocol verifiers", async () => {
  const ws = await workspace();
  try {
    const node = ws.node("n");
    const chain = node.chain;
    const miner = wallet();
    const bob = wallet();
    const nobody = wallet();
    const txids: Uint8Array[] = [];
    let nonce = 0n;
    for (let h = 1; h <= 12; h++) {
      const txs = h < 3 ? [] : Array.from({ length: h % 4 + 1 }, () => pay(miner, bob, COIN, nonce++));
      const block = await extend(chain, miner, txs);
      txids.push(...txs.map(txId));
      if (h === 5) txids.push(txId(block.txs[0])); // a coinbase too
    }

    for (const txid of txids) {
      const p = chain.proveTransaction(txid)!;
      assert.ok(p, `proof of ${bytesToHex(txid)}`);
      assert.ok(equalBytes(txId(p.tx), txid));
      assert.ok(verifyInclusion(hashLeaf(txid), p.index, p.size, p.proof, p.header.txRoot));
      assert.ok(chain.isMain(chain.entry(hashHeader(p.header))!));
      // Tampering with any part fails.
      assert.equal(
        verifyInclusion(hashLeaf(txids[0] === txid ? txids[1] : txids[0]), p.index, p.size, p.proof, p.header.txRoot),
        false,
      );
      if (p.size > 1) {
        assert.equal(verifyInclusion(hashLeaf(txid), (p.index + 1) % p.size, p.size, p.proof, p.header.txRoot), false);
      }
    }
    assert.equal(chain.proveTransaction(new Uint8Array(32)), undefined);

    for (const who of [miner, bob]) {
      const p = chain.proveAccount(who.publicKey);
      assert.ok(equalBytes(hashHeader(p.header), chain.tip.hash));
      assert.ok(p.value !== undefined);
      assert.deepEqual(decodeAccount(p.value), chain.account(who.publicKey));
      assert.ok(verifySmtProof(p.header.stateRoot, accountKey(who.publicKey), p.value, p.proof));
      const lie = p.value.slice();
      lie[0] ^= 1;
      assert.equal(verifySmtProof(p.header.stateRoot, accountKey(who.publicKey), lie, p.proof), false);
      assert.equal(verifySmtProof(p.header.stateRoot, accountKey(who.publicKey), undefined, p.proof), false);
    }
    const absent = chain.proveAccount(nobody.publicKey);
    assert.equal(absent.value, undefined);
    assert.ok(verifySmtProof(absent.header.stateRoot, accountKey(nobody.publicKey), undefined, absent.proof));

    const tip = chain.tip;
    for (let h = 0; h < tip.height; h++) {
      const p = chain.proveHistory(h)!;
      assert.ok(p, `history proof of ${h}`);
      assert.ok(equalBytes(hashHeader(p.header), chain.atHeight(h)!.hash));
      assert.ok(verifyHistoryProof(hashHeader(p.header), h, tip.height, p.proof, p.at.historyRoot), `height ${h}`);
      const otherRoot = chain.atHeight(tip.height - 1)!.header.historyRoot;
      assert.equal(verifyHistoryProof(hashHeader(p.header), h, tip.height, p.proof, otherRoot), false);
      if (h > 0) {
        assert.equal(
          verifyHistoryProof(hashHeader(p.header), h - 1, tip.height, p.proof, tip.header.historyRoot),
          false,
        );
      }
    }
    // Against an earlier header.
    const at = chain.atHeight(7)!;
    for (let h = 0; h < 7; h++) {
      const p = chain.proveHistory(h, at)!;
      assert.ok(verifyHistoryProof(chain.atHeight(h)!.hash, h, 7, p.proof, at.header.historyRoot));
    }
    assert.equal(chain.proveHistory(tip.height), undefined);
    assert.equal(chain.proveHistory(-1), undefined);
    assert.equal(chain.proveHistory(7, at), undefined);
  } finally {
    await ws.cleanup();
  }
});
