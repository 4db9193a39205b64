/**
 * Several real full nodes (subprocesses with their own SQLite files) talking over real
 * WebSockets on loopback: convergence, relaying through a node that does not mine, healing a
 * partition by reorganising to the most-work branch (with a restart on the same data
 * directory), transaction relay, and transactions of a losing branch returning to the mempool
 * and reaching the other nodes.
 *
 * On regtest every block has work 2, so the longest chain is the most-work chain.
 */

import assert from "node:assert/strict";
import { encodeAddress, generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { REGTEST } from "../protocol/params.ts";
import { signTransfer } from "../protocol/tx.ts";
import { agreedTip, getJson, minerKey, postTx, request, stopNodes, type TipSnapshot } from "./helpers/node_client.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";

const COIN = 100_000_000n;
const SUBSIDY = 50n * COIN;
/** Generous: the machine is shared and slow; nothing here asserts a duration. */
const LONG = 90_000;

interface StatusJson {
  height: number;
  tipHash: string;
  stateRoot: string;
  peers: number;
  mempool: number;
  mining: boolean;
}

function status(node: NodeProcess): Promise<StatusJson> {
  return getJson<StatusJson>(node, "/status");
}

interface BlockJson {
  hash: string;
  height: number;
  mainChain: boolean;
  confirmations: number;
  txs: { txid: string; kind: string; recipient: string }[];
}

interface TxJson {
  status: "mempool" | "confirmed";
  blockHash?: string;
  height?: number;
}

interface AccountJson {
  balance: string;
  nonce: string;
  nextNonce: string;
  height: number;
}

async function block(node: NodeProcess, id: number | string): Promise<BlockJson> {
  return await getJson<BlockJson>(node, `/block/${id}`);
}

/** A common tip at least `minHeight` high, waiting as long as it takes (both keep mining). */
function waitForAgreement(nodes: NodeProcess[], minHeight: number, what: string): Promise<TipSnapshot> {
  return waitFor(async () => {
    const tip = await agreedTip(nodes);
    return tip !== undefined && tip.height >= minHeight ? tip : undefined;
  }, { timeoutMs: LONG, what });
}

/** Miner addresses of the coinbases of main-chain blocks 1..height of `node`. */
async function coinbaseRecipients(node: NodeProcess, height: number): Promise<Set<string>> {
  const blocks = await Promise.all(Array.from({ length: height }, (_, i) => block(node, i + 1)));
  return new Set(blocks.map((b) => b.txs[0].recipient));
}

async function minerAddress(node: NodeProcess): Promise<string> {
  return encodeAddress((await minerKey(node)).publicKey, REGTEST.addressPrefix);
}

async function metric(node: NodeProcess, name: string): Promise<number> {
  const text = (await request(`${node.url}/metrics`)).text;
  const m = new RegExp(`^edgeledger_${name} (\\d+)$`, "m").exec(text);
  if (m === null) throw new Error(`metric ${name} missing`);
  return Number(m[1]);
}

async function txStatus(node: NodeProcess, txid: string): Promise<TxJson | undefined> {
  const res = await request(`${node.url}/tx/${txid}`);
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, res.text);
  return res.json as unknown as TxJson;
}

/** Wait until `txid` is confirmed in the same main-chain block on every node; returns that block's hash. */
function waitForConfirmedEverywhere(nodes: NodeProcess[], txid: string): Promise<string> {
  return waitFor(async () => {
    const seen = await Promise.all(nodes.map((n) => txStatus(n, txid)));
    if (!seen.every((s) => s?.status === "confirmed")) return undefined;
    const hashes = new Set(seen.map((s) => s!.blockHash));
    if (hashes.size !== 1) return undefined;
    const [hash] = hashes;
    // The block must be on every node's main chain, not just indexed.
    const views = await Promise.all(nodes.map((n) => block(n, hash!)));
    return views.every((v) => v.mainChain) ? hash : undefined;
  }, { timeoutMs: LONG, what: `transaction ${txid.slice(0, 16)} confirmed in one block on every node` });
}

Deno.test("two directly connected mining nodes converge on one tip and one state while both keep mining", async () => {
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  try {
    a = await startNode();
    b = await startNode({ connect: [a.wsUrl] });
    const [na, nb] = [a, b];
    await waitFor(async () => (await status(na)).peers === 1 && (await status(nb)).peers === 1, {
      timeoutMs: LONG,
      what: "the handshake on both sides",
    });
    const first = await waitForAgreement([na, nb], 3, "a common tip at height >= 3");
    // Still mining: they agree again, higher up.
    const second = await waitForAgreement([na, nb], first.height + 3, `a common tip above ${first.height + 2}`);
    assert.notEqual(second.tipHash, first.tipHash);
    for (const s of await Promise.all([status(na), status(nb)])) {
      assert.equal(s.mining, true);
    }
    // Every height up to a common tip names the same main-chain block on both nodes.
    await waitFor(async () => {
      const tip = await agreedTip([na, nb]);
      if (tip === undefined) return false;
      const heights = Array.from({ length: tip.height + 1 }, (_, h) => h);
      const [xs, ys] = await Promise.all([na, nb].map((n) => Promise.all(heights.map((h) => block(n, h)))));
      if (xs[tip.height].hash !== tip.tipHash) return false; // moved on meanwhile: look again
      return heights.every((h) => xs[h].hash === ys[h].hash && xs[h].mainChain && ys[h].mainChain);
    }, { timeoutMs: LONG, what: "equal block hashes at every common height" });
    // Blocks flow both ways: the common chain holds coinbases of both miners.
    const [addrA, addrB] = await Promise.all([minerAddress(na), minerAddress(nb)]);
    await waitFor(async () => {
      const tip = await agreedTip([na, nb]);
      if (tip === undefined) return false;
      const recipients = await coinbaseRecipients(na, tip.height);
      return recipients.has(addrA) && recipients.has(addrB);
    }, { timeoutMs: LONG, what: "a common chain with blocks from both miners" });
  } finally {
    await stopNodes([a, b]);
  }
});

Deno.test("three nodes in a line A <- B <- C converge, with blocks relayed through the non-mining B", async () => {
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  let c: NodeProcess | undefined;
  try {
    a = await startNode();
    b = await startNode({ connect: [a.wsUrl], mine: false });
    c = await startNode({ connect: [b.wsUrl] });
    const nodes = [a, b, c];
    await waitFor(async () => {
      const [sa, sb, sc] = await Promise.all(nodes.map((n) => status(n)));
      return sa.peers === 1 && sb.peers === 2 && sc.peers === 1;
    }, { timeoutMs: LONG, what: "peers A=1, B=2, C=1" });
    const tip = await waitForAgreement(nodes, 4, "a common tip at height >= 4 on all three");
    // A and C never talk directly, so blocks of each must have crossed B in both directions.
    const [addrA, addrC] = await Promise.all([minerAddress(a), minerAddress(c)]);
    const na = a;
    await waitFor(async () => {
      const t = await agreedTip(nodes);
      if (t === undefined) return false;
      const recipients = await coinbaseRecipients(na, t.height);
      return recipients.has(addrA) && recipients.has(addrC);
    }, { timeoutMs: LONG, what: "a common chain holding blocks of A and of C" });
    const [x, y, z] = await Promise.all(nodes.map((n) => block(n, tip.height)));
    assert.equal(y.hash, x.hash);
    assert.equal(z.hash, x.hash);
  } finally {
    await stopNodes([a, b, c]);
  }
});

Deno.test("a healed partition converges on the most-work branch; the losing node reorganises", async () => {
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  let c: NodeProcess | undefined;
  try {
    // Partitioned from the start: A mines about every second, B every three seconds.
    a = await startNode();
    b = await startNode({ args: ["--pace-ms", "3000"] });
    const [na, nb0] = [a, b];
    await waitFor(async () => (await status(na)).height >= 5 && (await status(nb0)).height >= 5, {
      timeoutMs: LONG,
      what: "both partitioned nodes at height >= 5",
    });
    const [sa, sb] = await Promise.all([status(na), status(nb0)]);
    assert.equal(sa.peers, 0);
    assert.equal(sb.peers, 0);
    assert.notEqual((await block(na, 1)).hash, (await block(nb0, 1)).hash, "the branches must differ from height 1");
    assert.ok(sa.height > sb.height, "A's branch must have more work");
    const losing = await Promise.all(Array.from({ length: sb.height }, (_, i) => block(nb0, i + 1)));

    // Heal: restart B on the same data directory, now connected to A.
    assert.equal(await nb0.kill("SIGTERM"), 0);
    b = await startNode({ dataDir: nb0.dataDir, connect: [na.wsUrl], args: ["--pace-ms", "3000"] });
    const nb = b;
    const restarted = await status(nb);
    assert.ok(restarted.height >= sb.height, `B restarted at height ${restarted.height}, below ${sb.height}`);
    // And a third node that hears both.
    c = await startNode({ connect: [na.wsUrl, nb.wsUrl], mine: false });
    const nodes = [na, nb, c];
    const tip = await waitForAgreement(nodes, sa.height, "all three on one tip");

    // B's old branch is off the main chain everywhere it is known.
    for (const old of losing) {
      const view = await block(nb, old.hash);
      assert.equal(view.mainChain, false, `B's block ${old.height} should have been disconnected`);
      assert.equal(view.confirmations, 0);
    }
    // The winning chain is A's: it starts with A's block 1.
    assert.equal((await block(nb, 1)).hash, (await block(na, 1)).hash);
    assert.equal((await block(nb, 1)).txs[0].recipient, await minerAddress(na));
    assert.ok((await metric(nb, "reorgs_total")) > 0);
    assert.ok((await metric(nb, "blocks_disconnected_total")) >= losing.length);
    assert.ok(tip.height >= sa.height);

    // Balances and state roots agree everywhere, at one tip, and add up to the subsidies.
    const addresses = [await minerAddress(na), await minerAddress(nb)];
    await waitFor(async () => {
      const before = await agreedTip(nodes);
      if (before === undefined) return false;
      const views = await Promise.all(
        nodes.flatMap((n) => addresses.map((addr) => getJson<AccountJson>(n, `/account/${addr}`))),
      );
      const after = await agreedTip(nodes);
      if (after === undefined || after.tipHash !== before.tipHash) return false;
      if (!views.every((v) => v.height === before.height)) return false;
      for (let i = 0; i < nodes.length; i++) {
        for (let j = 0; j < addresses.length; j++) {
          assert.equal(views[i * 2 + j].balance, views[j].balance, `balance of ${addresses[j]} on node ${i}`);
        }
      }
      // No transfers: every coin on the chain is a coinbase of A or B.
      assert.equal(BigInt(views[0].balance) + BigInt(views[1].balance), SUBSIDY * BigInt(before.height));
      return true;
    }, { timeoutMs: LONG, what: "equal balances at one tip on all three nodes" });
  } finally {
    await stopNodes([a, b, c]);
  }
});

Deno.test("a transaction posted to one node reaches the other's mempool and confirms in the same block on both", async () => {
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  try {
    a = await startNode();
    // B does not mine: a transaction posted to B confirms only if B relays it to A.
    b = await startNode({ connect: [a.wsUrl], mine: false });
    const [na, nb] = [a, b];
    await waitForAgreement([na, nb], 2, "B synced to A at height >= 2");
    const sender = await minerKey(na);
    const senderAddress = encodeAddress(sender.publicKey, REGTEST.addressPrefix);
    const recipientKey = publicKeyFromSecret(generateSecretKey());
    const recipient = encodeAddress(recipientKey, REGTEST.addressPrefix);
    const nonce = BigInt((await getJson<AccountJson>(na, `/account/${senderAddress}`)).nextNonce);

    const tx1 = signTransfer({
      network: REGTEST.networkId,
      recipient: recipientKey,
      amount: 3n * COIN,
      fee: 1_000n,
      nonce,
    }, sender.secretKey);
    const res1 = await postTx(nb.url, tx1);
    assert.equal(res1.status, 202, res1.text);
    const txid1 = res1.json!.txid as string;
    await waitFor(async () => {
      const s = await txStatus(na, txid1);
      return s?.status === "mempool" || s?.status === "confirmed";
    }, { timeoutMs: LONG, what: "B's transaction on A" });
    const block1 = await waitForConfirmedEverywhere([na, nb], txid1);

    // The other direction: posted to the miner, seen by B (in its mempool or already mined).
    const tx2 = signTransfer(
      { network: REGTEST.networkId, recipient: recipientKey, amount: 2n * COIN, fee: 5_000n, nonce: nonce + 1n },
      sender.secretKey,
    );
    const res2 = await postTx(na.url, tx2);
    assert.equal(res2.status, 202, res2.text);
    const txid2 = res2.json!.txid as string;
    await waitFor(async () => (await txStatus(nb, txid2)) !== undefined, {
      timeoutMs: LONG,
      what: "A's transaction on B",
    });
    const block2 = await waitForConfirmedEverywhere([na, nb], txid2);
    assert.ok(block1.length === 64 && block2.length === 64);

    // Both nodes credit the recipient with both amounts at the same tip.
    await waitFor(async () => {
      const tip = await agreedTip([na, nb]);
      if (tip === undefined) return false;
      const [x, y] = await Promise.all([na, nb].map((n) => getJson<AccountJson>(n, `/account/${recipient}`)));
      if (x.height !== tip.height || y.height !== tip.height) return false;
      assert.equal(x.balance, (5n * COIN).toString());
      assert.equal(y.balance, x.balance);
      return true;
    }, { timeoutMs: LONG, what: "the recipient's balance on both nodes" });
  } finally {
    await stopNodes([a, b]);
  }
});

/** What {@link partitionWithLosingTx} leaves running. */
interface LosingTxSetup {
  /** The node whose branch wins (still running, mining about every second). */
  a: NodeProcess;
  /** B's data directory; B has been stopped. */
  dataDir: string;
  /** The transaction B mined on its own branch. */
  txid: string;
  /** Where B had confirmed it. */
  minedOnB: TxJson;
}

/**
 * A and B share a prefix in which A's miner is funded; then B is restarted alone, is sent a
 * transfer from A's miner, mines it, and falls behind A; then B is stopped. Every started
 * node is pushed onto `started` so the caller's `finally` can stop it.
 */
async function partitionWithLosingTx(started: NodeProcess[]): Promise<LosingTxSetup> {
  const a = await startNode();
  started.push(a);
  const b0 = await startNode({ connect: [a.wsUrl], args: ["--pace-ms", "3000"] });
  started.push(b0);
  const prefix = await waitForAgreement([a, b0], 3, "a common prefix of height >= 3");

  // Partition: restart B without --connect (A never dials B).
  const dataDir = b0.dataDir;
  assert.equal(await b0.kill("SIGTERM"), 0);
  const b = await startNode({ dataDir, args: ["--pace-ms", "3000"] });
  started.push(b);
  assert.equal((await status(b)).peers, 0);
  const sender = await minerKey(a);
  const senderAddress = encodeAddress(sender.publicKey, REGTEST.addressPrefix);
  const onB = await getJson<AccountJson>(b, `/account/${senderAddress}`);
  assert.ok(BigInt(onB.balance) >= SUBSIDY * 2n, `A's miner has ${onB.balance} on B's branch`);
  const tx = signTransfer({
    network: REGTEST.networkId,
    recipient: publicKeyFromSecret(generateSecretKey()),
    amount: COIN,
    fee: 2_000n,
    nonce: BigInt(onB.nextNonce),
  }, sender.secretKey);
  const posted = await postTx(b.url, tx);
  assert.equal(posted.status, 202, posted.text);
  const txid = posted.json!.txid as string;
  const minedOnB = await waitFor(async () => {
    const s = await txStatus(b, txid);
    return s?.status === "confirmed" ? s : undefined;
  }, { timeoutMs: LONG, what: "B mining the transaction on its branch" });
  assert.ok(minedOnB.height! > prefix.height);
  assert.equal(await txStatus(a, txid), undefined, "A must not know the transaction while partitioned");
  // A's branch must be ahead (more work) before the heal.
  await waitFor(async () => (await status(a)).height > (await status(b)).height + 1, {
    timeoutMs: LONG,
    what: "A's branch ahead of B's",
  });
  assert.equal(await b.kill("SIGTERM"), 0);
  return { a, dataDir, txid, minedOnB };
}

Deno.test("after a reorganisation a transaction that only the losing branch held returns to the mempool and confirms on the winning chain", async () => {
  const started: NodeProcess[] = [];
  try {
    const { a, dataDir, txid, minedOnB } = await partitionWithLosingTx(started);
    // Heal: B comes back connected to A and still mining.
    const b = await startNode({ dataDir, connect: [a.wsUrl], args: ["--pace-ms", "3000"] });
    started.push(b);
    let seenInMempool = false;
    const movedTo = await waitFor(async () => {
      const s = await txStatus(b, txid);
      if (s?.status === "mempool") seenInMempool = true;
      if (s?.status !== "confirmed" || s.blockHash === minedOnB.blockHash) return undefined;
      return s.blockHash;
    }, { timeoutMs: LONG, intervalMs: 100, what: "the transaction leaving B's old block" });
    // Seen pending again, or confirmed in another block: either way B returned it to its mempool.
    assert.ok(seenInMempool || movedTo !== minedOnB.blockHash);
    assert.equal((await block(b, minedOnB.blockHash!)).mainChain, false, "B's old block should be disconnected");
    const confirmedIn = await waitForConfirmedEverywhere([a, b], txid);
    assert.notEqual(confirmedIn, minedOnB.blockHash);
  } finally {
    await stopNodes(started);
  }
});

/** Relaying takes milliseconds on loopback; this is ample and keeps a failing run short. */
const RELAY = 20_000;

// A node announces a transaction only when it first accepts it (PeerManager.submitTransaction):
// the transfers a reorganisation returns to the mempool (node.ts, chain listener `tip`) and the
// ones reloaded from SQLite at startup are never announced, and a new peer is not told what
// the mempool holds. A node that does not mine then keeps them forever. The next two tests
// expect them to reach the peer.
Deno.test("a transaction returned to the mempool by a reorganisation is relayed to peers", async () => {
  const started: NodeProcess[] = [];
  try {
    const { a, dataDir, txid, minedOnB } = await partitionWithLosingTx(started);
    // Heal with B not mining: the transaction can only confirm if B relays it to A.
    const b = await startNode({ dataDir, connect: [a.wsUrl], mine: false });
    started.push(b);
    await waitFor(async () => (await block(b, minedOnB.blockHash!)).mainChain === false, {
      timeoutMs: LONG,
      what: "B disconnecting its old block",
    });
    await waitFor(async () => (await txStatus(b, txid))?.status === "mempool", {
      timeoutMs: LONG,
      what: "the transaction back in B's mempool",
    });
    await waitFor(async () => (await txStatus(a, txid)) !== undefined, {
      timeoutMs: RELAY,
      what: "the returned transaction reaching A",
    });
    await waitForConfirmedEverywhere([a, b], txid);
  } finally {
    await stopNodes(started);
  }
});

Deno.test("a transaction reloaded from the mempool at restart is relayed to peers", async () => {
  const started: NodeProcess[] = [];
  try {
    const a = await startNode();
    started.push(a);
    const b0 = await startNode({ connect: [a.wsUrl], mine: false });
    started.push(b0);
    await waitForAgreement([a, b0], 2, "B synced to A");
    // B alone receives a transfer, then restarts connected to A with the transfer still pending.
    const dataDir = b0.dataDir;
    assert.equal(await b0.kill("SIGTERM"), 0);
    const b1 = await startNode({ dataDir, mine: false });
    started.push(b1);
    const sender = await minerKey(a);
    const senderAddress = encodeAddress(sender.publicKey, REGTEST.addressPrefix);
    const onB = await getJson<AccountJson>(b1, `/account/${senderAddress}`);
    const tx = signTransfer({
      network: REGTEST.networkId,
      recipient: publicKeyFromSecret(generateSecretKey()),
      amount: COIN,
      fee: 1_000n,
      nonce: BigInt(onB.nextNonce),
    }, sender.secretKey);
    const posted = await postTx(b1.url, tx);
    assert.equal(posted.status, 202, posted.text);
    const txid = posted.json!.txid as string;
    assert.equal(await b1.kill("SIGTERM"), 0);
    const b = await startNode({ dataDir, connect: [a.wsUrl], mine: false });
    started.push(b);
    assert.equal((await txStatus(b, txid))?.status, "mempool", "B reloads its pending transaction");
    await waitFor(async () => (await status(b)).peers === 1, { timeoutMs: LONG, what: "B connected to A" });
    await waitFor(async () => (await txStatus(a, txid)) !== undefined, {
      timeoutMs: RELAY,
      what: "the reloaded transaction reaching A",
    });
    await waitForConfirmedEverywhere([a, b], txid);
  } finally {
    await stopNodes(started);
  }
});
