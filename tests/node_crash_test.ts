/**
 * Crash safety of a real node subprocess: a mining node that also takes blocks from a second
 * miner and transactions over HTTP is killed with SIGKILL at random moments and restarted on the
 * same data directory, again and again. After every kill the data directory is reopened alone (no
 * peer, no miner, so nothing lost can come back from the other node) and must open without
 * `--reindex`, with its state matching its tip, its height not below anything `/status` reported
 * before the kill, and every transaction it answered 202 for still pending or confirmed.
 *
 * Two more tests kill a node at exact points of a reorganisation (from inside the process, with
 * a chain listener) where one SQLite transaction per connect/disconnect leaves a window.
 *
 * The seed of the random kill moments is printed; rerun one with `CRASH_SEED=<n>`, and see the
 * nodes' debug logs in a failure message with `CRASH_LOG_LEVEL=debug`.
 */

import assert from "node:assert/strict";
import { type Block, encodeBlock } from "../protocol/block.ts";
import { bytesToHex, hexToBytes } from "../protocol/bytes.ts";
import { decodeHeader, hashHeader } from "../protocol/header.ts";
import { encodeAddress, generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { REGTEST } from "../protocol/params.ts";
import { decodeSmtProof, verifySmtProof } from "../protocol/smt.ts";
import { accountKey, decodeAccount } from "../protocol/state.ts";
import { encodeTx, signTransfer, txId } from "../protocol/tx.ts";
import { type KeyPair, readKeyFile } from "../full-node/keyfile.ts";
import { TestChain } from "./helpers/chain.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";
import { rng } from "./helpers/random.ts";

/** At least this many kills at random moments; more while the time budget lasts. */
const MIN_KILLS = 10;
const MAX_KILLS = 30;
/** Stop starting new rounds after this long, to keep the file under about three minutes. */
const BUDGET_MS = 100_000;
/** Balance the sender keeps before spending: its own blocks can be reorganised away. */
const FUNDED = 4n * REGTEST.initialSubsidy;
const HTTP_TIMEOUT_MS = 15_000;

const seed = Number(Deno.env.get("CRASH_SEED") ?? Date.now() % 2 ** 31);

/** GET a JSON endpoint; returns the status and body (never throws on an HTTP error status). */
async function getJson(node: NodeProcess, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(node.url + path, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  return { status: res.status, body: await res.json() };
}

/** Verify the sparse Merkle proof of `publicKey`'s account against the header the node returns with it. */
async function checkAccountProof(node: NodeProcess, publicKey: Uint8Array, what: string) {
  const address = encodeAddress(publicKey, REGTEST.addressPrefix);
  const { status, body } = await getJson(node, `/proof/account/${address}`);
  assert.equal(status, 200, `${what}: GET /proof/account: ${JSON.stringify(body)}`);
  const header = decodeHeader(hexToBytes(body.header as string));
  const value = body.account === null ? undefined : hexToBytes(body.account as string);
  const proof = decodeSmtProof(hexToBytes(body.proof as string));
  assert.ok(
    verifySmtProof(header.stateRoot, accountKey(publicKey), value, proof),
    `${what}: the account proof of ${address} does not verify against the stateRoot of block ${header.height}`,
  );
  return { header, hash: bytesToHex(hashHeader(header)), account: value && decodeAccount(value) };
}

/** What the test knows about the node across restarts. */
interface Ledger {
  /** Highest height /status ever reported (every reported tip was committed). */
  committedHeight: number;
  /** txids the node answered 202 for. */
  accepted: string[];
  /** Which run (0 = warm-up) accepted each transaction, for failure messages. */
  acceptedIn: Map<string, number>;
  /** stderr of every run so far, for failure messages. */
  logs: string[];
}

/** The checks after every (re)start. */
async function checkRestarted(node: NodeProcess, ledger: Ledger, accounts: Uint8Array[], what: string): Promise<void> {
  assert.doesNotMatch(node.log(), /reindex/i, `${what}: the node asks for --reindex:\n${node.log()}`);
  const status = await node.status();
  assert.ok(
    status.height >= ledger.committedHeight,
    `${what}: height ${status.height} after the restart is below the committed height ${ledger.committedHeight}`,
  );
  ledger.committedHeight = Math.max(ledger.committedHeight, status.height);
  const tip = await getJson(node, `/block/${status.tipHash}`);
  assert.equal(tip.status, 200, `${what}: GET /block/${status.tipHash}: ${JSON.stringify(tip.body)}`);
  assert.equal(
    (tip.body.header as Record<string, unknown>).stateRoot,
    status.stateRoot,
    `${what}: /status stateRoot differs from the tip header's`,
  );
  for (const publicKey of accounts) await checkAccountProof(node, publicKey, what);
  const missing: string[] = [];
  for (const txid of ledger.accepted) {
    const { status: code } = await getJson(node, `/tx/${txid}`);
    if (code === 404) missing.push(txid);
    else assert.equal(code, 200, `GET /tx/${txid}`);
  }
  if (missing.length > 0) {
    const runs = missing.map((txid) => ledger.acceptedIn.get(txid)!);
    const first = Math.max(Math.min(...runs), ledger.logs.length - 3);
    const logs = ledger.logs.slice(first).map((log, i) => `--- log of run ${first + i} (killed) ---\n${log}`);
    assert.fail(
      `${what}: ${missing.length} of ${ledger.accepted.length} accepted transaction(s) are neither in the ` +
        `mempool nor confirmed: ${missing.map((txid, i) => `${txid} (accepted in run ${runs[i]})`).join(", ")}\n` +
        `${logs.join("\n")}\n--- log of this run ---\n${node.log()}`,
    );
  }
}

/** Until `until`, submit transfers from `sender` (once funded) and record every 202. */
async function sendTransfers(
  node: NodeProcess,
  sender: KeyPair,
  recipient: Uint8Array,
  ledger: Ledger,
  until: () => boolean,
): Promise<void> {
  const address = encodeAddress(sender.publicKey, REGTEST.addressPrefix);
  while (!until()) {
    try {
      const { body } = await getJson(node, `/account/${address}`);
      if (BigInt(body.balance as string) >= FUNDED) {
        const tx = signTransfer({
          network: REGTEST.networkId,
          recipient,
          amount: 1_000n + BigInt(ledger.accepted.length),
          fee: 1_000n,
          nonce: BigInt(body.nextNonce as string),
        }, sender.secretKey);
        const res = await fetch(`${node.url}/tx`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ tx: bytesToHex(encodeTx(tx)) }),
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
        const reply = await res.json();
        if (res.status === 202) {
          assert.equal(reply.txid, bytesToHex(txId(tx)));
          ledger.accepted.push(reply.txid);
          ledger.acceptedIn.set(reply.txid, ledger.logs.length);
        }
      }
    } catch {
      // The node was killed under us: whatever got its 202 is recorded.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Until `until`, poll /status and raise the committed height. */
async function watchHeight(node: NodeProcess, ledger: Ledger, until: () => boolean): Promise<void> {
  while (!until()) {
    try {
      const status = await node.status();
      ledger.committedHeight = Math.max(ledger.committedHeight, status.height);
    } catch {
      // killed
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(dataDir: string, connect: string[], what: string, mine = true): Promise<NodeProcess> {
  try {
    const logLevel = Deno.env.get("CRASH_LOG_LEVEL");
    return await startNode({ dataDir, connect, mine, args: logLevel ? ["--log-level", logLevel] : [] });
  } catch (err) {
    assert.fail(`${what}: the node did not start: ${(err as Error).message}`);
  }
}

Deno.test({
  name: "a mining node killed with SIGKILL at random moments reopens consistently and loses nothing it accepted",
  async fn() {
    const r = rng(seed);
    const started = Date.now();
    const dir = await Deno.makeTempDir({ prefix: "edgeledger-crash-" });
    const otherDir = await Deno.makeTempDir({ prefix: "edgeledger-crash-peer-" });
    const recipient = publicKeyFromSecret(generateSecretKey());
    const ledger: Ledger = { committedHeight: 0, accepted: [], acceptedIn: new Map(), logs: [] };
    let other: NodeProcess | undefined;
    let node: NodeProcess | undefined;
    let kills = 0;
    try {
      other = await start(otherDir, [], "the second miner");
      const connect = [other.wsUrl];

      // Warm up: mine until the sender can pay, then the first kill.
      node = await start(dir, connect, `seed ${seed}, first start`);
      const sender = await readKeyFile(`${dir}/miner.key`);
      const senderAddress = encodeAddress(sender.publicKey, REGTEST.addressPrefix);
      await waitFor(async () => {
        const { body } = await getJson(node!, `/account/${senderAddress}`);
        return BigInt(body.balance as string) >= FUNDED + REGTEST.initialSubsidy;
      }, { timeoutMs: 90_000, what: "the node to mine enough to spend" });
      ledger.committedHeight = (await node.status()).height;
      await node.kill("SIGKILL");
      ledger.logs.push(node.log());
      node = undefined;

      const accounts = [sender.publicKey, recipient];
      // Every check runs on the reopened data directory alone (no peer, no miner), so nothing the
      // node lost can come back from the other node before it is noticed.
      const inspect = async (what: string) => {
        const probe = await start(dir, [], `${what}, reopened alone`, false);
        try {
          await checkRestarted(probe, ledger, accounts, what);
        } finally {
          await probe.kill("SIGKILL");
        }
      };
      await inspect(`seed ${seed}, after the warm-up`);
      while (kills < MIN_KILLS || (kills < MAX_KILLS && Date.now() - started < BUDGET_MS)) {
        const what = `seed ${seed}, run ${kills + 1}`;
        node = await start(dir, connect, what);
        const opened = await node.status();
        assert.ok(opened.height >= ledger.committedHeight, `${what}: opened at height ${opened.height}`);
        const delay = 300 + r.int(2_700);
        const deadline = Date.now() + delay;
        const until = () => Date.now() >= deadline;
        const running = node;
        const work = Promise.all([
          sendTransfers(running, sender, recipient, ledger, until),
          watchHeight(running, ledger, until),
        ]);
        await new Promise((resolve) => setTimeout(resolve, delay));
        try {
          const status = await running.status();
          ledger.committedHeight = Math.max(ledger.committedHeight, status.height);
        } catch {
          // busy: the earlier polls count
        }
        await running.kill("SIGKILL");
        ledger.logs.push(running.log());
        node = undefined;
        kills++;
        await work;
        await inspect(`${what}, killed after ${delay} ms`);
      }

      // Stop the other miner and reopen without mining, so the tip holds still for the last checks.
      await other.kill("SIGKILL");
      other = undefined;
      const what = `seed ${seed}, after ${kills} random kills`;
      node = await start(dir, [], what, false);
      await checkRestarted(node, ledger, accounts, what);
      const status = await node.status();
      const mined = await checkAccountProof(node, sender.publicKey, what);
      assert.equal(mined.hash, status.tipHash, "the account proof is not against the tip");
      assert.ok(mined.account !== undefined && mined.account.balance > 0n, "the miner's account is empty");
      // Replay the main chain: both proven balances must be exactly what its blocks say.
      const senderAddr = encodeAddress(sender.publicKey, REGTEST.addressPrefix);
      const recipientAddr = encodeAddress(recipient, REGTEST.addressPrefix);
      let senderBalance = 0n;
      let recipientBalance = 0n;
      const onChain = new Set<string>();
      for (let h = 1; h <= status.height; h++) {
        const { body } = await getJson(node, `/block/${h}`);
        for (const tx of body.txs as Record<string, string>[]) {
          onChain.add(tx.txid);
          if (tx.kind === "coinbase" && tx.recipient === senderAddr) senderBalance += BigInt(tx.amount);
          if (tx.kind !== "transfer") continue;
          if (tx.sender === senderAddr) senderBalance -= BigInt(tx.amount) + BigInt(tx.fee);
          if (tx.recipient === recipientAddr) recipientBalance += BigInt(tx.amount);
        }
      }
      assert.equal(mined.account?.balance, senderBalance, "the miner's balance differs from a replay of the chain");
      const paid = await checkAccountProof(node, recipient, what);
      assert.equal(paid.hash, status.tipHash);
      assert.equal(paid.account?.balance ?? 0n, recipientBalance, "the recipient's balance differs from a replay");
      const confirmed = ledger.accepted.filter((txid) => onChain.has(txid)).length;
      const absent = await checkAccountProof(node, publicKeyFromSecret(generateSecretKey()), what);
      assert.equal(absent.account, undefined, "a fresh key has an account");
      assert.ok(ledger.accepted.length > 0, `${what}: no transaction was ever accepted, so nothing was tested`);
      console.log(
        `seed ${seed}: ${kills} SIGKILLs at random moments, final height ${status.height}, ${ledger.accepted.length} accepted ` +
          `transaction(s) (${confirmed} confirmed, ${status.mempool} pending), ${
            Math.round((Date.now() - started) / 1000)
          } s`,
      );
    } finally {
      await node?.kill("SIGKILL");
      await other?.kill("SIGKILL");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.remove(otherDir, { recursive: true }).catch(() => {});
    }
  },
});

/**
 * Runs in a subprocess: connect branch A (T confirmed at height 4), reorganise to branch B and
 * SIGKILL itself at `killAt`: right after block 4 of A is disconnected, or right after the last
 * block of B is connected (before the mempool has taken back the transfers of A).
 */
const REORG_SCRIPT = `
import { FullNode } from "${new URL("../full-node/node.ts", import.meta.url)}";
import { decodeBlock } from "${new URL("../protocol/block.ts", import.meta.url)}";
import { hexToBytes } from "${new URL("../protocol/bytes.ts", import.meta.url)}";
import { REGTEST } from "${new URL("../protocol/params.ts", import.meta.url)}";
import { decodeTx } from "${new URL("../protocol/tx.ts", import.meta.url)}";
const [dataDir, planPath, killAt] = Deno.args;
const plan = JSON.parse(await Deno.readTextFile(planPath));
const node = await FullNode.start({
  params: REGTEST, dataDir, hostname: "127.0.0.1", port: 0, connect: [], mine: false,
  minerKeyFile: dataDir + "/miner.key", threads: 1, logLevel: "warn", statusIntervalMs: 0,
});
const block = (hex) => decodeBlock(hexToBytes(hex), REGTEST);
for (const hex of plan.funding) await node.chain.processBlock(block(hex));
node.peers.submitTransaction(decodeTx(hexToBytes(plan.tx)));
await node.chain.processBlock(block(plan.confirming));
console.log(JSON.stringify(node.status()));
const die = () => { Deno.kill(Deno.pid, "SIGKILL"); for (;;); };
node.chain.listen({
  disconnected: () => killAt === "disconnected" && die(),
  connected: (entry) => killAt === "connected" && entry.hex === plan.lastHash && die(),
});
for (const hex of plan.reorg) await node.chain.processBlock(block(hex));
console.log("survived the reorganisation");
`;

/** Build the two branches, run {@link REORG_SCRIPT} until it kills itself, reopen and check. */
async function crashDuringReorg(killAt: "disconnected" | "connected"): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "edgeledger-reorg-crash-" });
  let node: NodeProcess | undefined;
  try {
    // Branch A: three blocks paying alice, then block 4 confirming her transfer T.
    // Branch B: the same three blocks, then blocks 4 and 5 without T (more work: a reorganisation).
    const alice = generateSecretKey();
    const alicePub = publicKeyFromSecret(alice);
    const bobPub = publicKeyFromSecret(generateSecretKey());
    const a = new TestChain();
    const b = new TestChain();
    for (let i = 0; i < 3; i++) {
      a.mine({ miner: alicePub });
      b.mine({ miner: alicePub });
    }
    assert.deepEqual(a.hashes, b.hashes);
    const t = signTransfer(
      { network: REGTEST.networkId, recipient: bobPub, amount: 5_000n, fee: 1_000n, nonce: 0n },
      alice,
    );
    const confirming = a.mine({ miner: alicePub, txs: [t] });
    const reorg = [b.mine({ miner: bobPub }), b.mine({ miner: bobPub })];
    const hex = (block: Block) => bytesToHex(encodeBlock(block));
    const planPath = `${dir}/plan.json`;
    await Deno.writeTextFile(
      planPath,
      JSON.stringify({
        funding: a.blocks.slice(1, 4).map(hex),
        tx: bytesToHex(encodeTx(t)),
        confirming: hex(confirming),
        reorg: reorg.map(hex),
        lastHash: bytesToHex(hashHeader(reorg[1].header)),
      }),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", REORG_SCRIPT, `${dir}/data`, planPath, killAt],
      stdout: "piped",
      stderr: "piped",
      cwd: new URL("..", import.meta.url).pathname,
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.signal, "SIGKILL", `the script was not killed mid-reorganisation:\n${stdout}\n${stderr}`);
    const before = JSON.parse(stdout.split("\n")[0]);
    assert.equal(before.height, 4, "height reported before the reorganisation");
    assert.equal(before.tipHash, bytesToHex(hashHeader(confirming.header)));

    node = await start(`${dir}/data`, [], `after a SIGKILL once a block was ${killAt}`, false);
    const status = await node.status();
    const txid = bytesToHex(txId(t));
    const found = await getJson(node, `/tx/${txid}`);
    const problems: string[] = [];
    if (status.height < before.height) {
      problems.push(`height ${status.height} after the restart is below the reported ${before.height}`);
    }
    if (found.status !== 200) {
      problems.push(`the accepted transfer ${txid} is neither pending nor confirmed (HTTP ${found.status})`);
    }
    assert.deepEqual(problems, [], `${problems.join("; ")}\n--- node log ---\n${node.log()}`);
  } finally {
    await node?.kill("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test(
  "a SIGKILL right after a reorganisation disconnects the old tip lowers neither the height nor loses its transfers",
  () => crashDuringReorg("disconnected"),
);

Deno.test(
  "a SIGKILL right after a reorganisation connects the new tip does not lose the old tip's transfers",
  () => crashDuringReorg("connected"),
);
