/**
 * The light client against the real parts: regtest full nodes (subprocesses with their own
 * SQLite files) publishing to a real Deno relay (Hono on Deno.serve, in this process), and
 * the client talking only to that relay over real WebSockets. Every answer is compared with
 * the node's own HTTP view at the same height; nodes keep mining, so comparisons are retried
 * until both sides were read at one height. Nothing here asserts a duration.
 */

import assert from "node:assert/strict";
import { bytesToHex } from "../protocol/bytes.ts";
import { ValidationError } from "../protocol/errors.ts";
import { type BlockHeader, encodeHeader } from "../protocol/header.ts";
import { bech32mEncode, encodeAddress, generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import { encodeTx, signTransfer, txId } from "../protocol/tx.ts";
import { type DenoRelay, startDenoRelay } from "../edge/deno.ts";
import {
  type AccountResult,
  LightClient,
  type LightClientOptions,
  RelayError,
  RelayUnavailableError,
  type Tip,
  VerificationError,
} from "../light-client/mod.ts";
import { agreedTip, minerKey, stopNodes } from "./helpers/node_client.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";

/** Generous: two cores shared with other test runs; nothing here asserts a duration. */
const LONG = 120_000;
const COIN = 100_000_000n;

interface StatusJson {
  height: number;
  tipHash: string;
  stateRoot: string;
  work: string;
}

interface BlockJson {
  hash: string;
  height: number;
  mainChain: boolean;
  headerHex: string;
  txs: { txid: string; kind: string; recipient: string; amount: string }[];
}

interface AccountJson {
  balance: string;
  nonce: string;
  height: number;
}

interface TxJson {
  status: "mempool" | "confirmed";
  blockHash?: string;
  height?: number;
}

const INTEGRATION = { sanitizeOps: false, sanitizeResources: false };

function address(publicKey: Uint8Array): string {
  return encodeAddress(publicKey, REGTEST.addressPrefix);
}

function headerHex(header: BlockHeader): string {
  return bytesToHex(encodeHeader(header));
}

async function startRelay(): Promise<{ relay: DenoRelay; ws: string }> {
  const relay = await startDenoRelay({ params: REGTEST, hostname: "127.0.0.1", port: 0, quiet: true });
  return { relay, ws: `ws://127.0.0.1:${relay.port}/ws` };
}

/** Clients opened by a test, closed in its finally block. */
class Clients {
  readonly #open: LightClient[] = [];
  async connect(options: Omit<LightClientOptions, "network"> & { network?: "regtest" }): Promise<LightClient> {
    const client = await LightClient.connect({ network: "regtest", requestTimeoutMs: 15_000, ...options });
    this.#open.push(client);
    return client;
  }
  closeAll(): void {
    for (const c of this.#open.splice(0)) c.close();
  }
}

/** The node's view of `addr` at the height the client answered at (retried until both read one height). */
async function accountsAgree(client: LightClient, node: NodeProcess, addr: string): Promise<AccountResult> {
  return await waitFor(async () => {
    const mine = await client.getAccount(addr);
    const theirs = await node.get<AccountJson>(`/account/${addr}`);
    if (theirs.height !== mine.height) return undefined;
    assert.equal(mine.balance.toString(), theirs.balance, `balance of ${addr} at height ${mine.height}`);
    assert.equal(mine.nonce.toString(), theirs.nonce, `nonce of ${addr} at height ${mine.height}`);
    assert.equal(mine.exists, mine.balance !== 0n || mine.nonce !== 0n);
    return mine;
  }, { timeoutMs: LONG, what: `the client's and the node's view of ${addr} at one height` });
}

/** The client's tip once it equals the node's tip (hash, height and cumulative work). */
async function tipsAgree(client: LightClient, node: NodeProcess): Promise<Tip> {
  return await waitFor(async () => {
    const tip = await client.tip();
    const status = await node.status() as unknown as StatusJson;
    if (status.height !== tip.height) return undefined;
    assert.equal(tip.hash, status.tipHash, `tip hash at height ${tip.height}`);
    assert.equal(tip.work.toString(), BigInt(status.work).toString(), `cumulative work at height ${tip.height}`);
    return tip;
  }, { timeoutMs: LONG, what: "the client's tip to equal the node's" });
}

async function rejects<E extends Error>(
  fn: () => unknown,
  type: new (...args: never[]) => E,
  check?: (err: E) => void,
): Promise<E> {
  let value: unknown;
  try {
    value = await fn();
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    check?.(err as E);
    return err as E;
  }
  if (value instanceof LightClient) value.close();
  throw new assert.AssertionError({ message: `expected ${type.name}, but it resolved` });
}

Deno.test(
  "light client answers agree with one mining node: tip, balances, absent accounts, old headers, a payment it sends, watch(), and bad input",
  INTEGRATION,
  async (t) => {
    const { relay, ws } = await startRelay();
    let node: NodeProcess | undefined;
    const clients = new Clients();
    try {
      node = await startNode({ connect: [ws], args: ["--pace-ms", "1500"] });
      const n = node;
      await waitFor(async () => (await n.status()).height >= 3, { timeoutMs: LONG, what: "the node at height >= 3" });
      const miner = await minerKey(n);
      const minerAddr = address(miner.publicKey);
      const client = await clients.connect({ relays: [ws] });

      await t.step("tip() equals the node's tip, hash and cumulative work, at the same height", async () => {
        const tip = await tipsAgree(client, n);
        const block = await n.get<BlockJson>(`/block/${tip.height}`);
        assert.equal(block.hash, tip.hash);
        assert.ok(block.mainChain);
      });

      await t.step("getAccount() of the miner equals GET /account at the same height", async () => {
        const account = await accountsAgree(client, n, minerAddr);
        assert.ok(account.exists);
        assert.ok(account.balance >= 50n * COIN);
      });

      await t.step("an account that was never paid is proven absent", async () => {
        const nobody = address(publicKeyFromSecret(generateSecretKey()));
        const account = await client.getAccount(nobody);
        assert.equal(account.exists, false);
        assert.equal(account.balance, 0n);
        assert.equal(account.nonce, 0n);
        const theirs = await n.get<AccountJson>(`/account/${nobody}`);
        assert.equal(theirs.balance, "0");
        assert.equal(theirs.nonce, "0");
      });

      await t.step("getHeader() of genesis, height 1 and the tip equal GET /block/:height", async () => {
        const tip = await client.tip();
        for (const h of [0, 1, tip.height]) {
          const header = await client.getHeader(h);
          assert.equal(header.height, h);
          assert.equal(headerHex(header), (await n.get<BlockJson>(`/block/${h}`)).headerHex, `header ${h}`);
        }
      });

      await t.step(
        "a payment sent through the relay is confirmed and proven; watch() fires on the new balance",
        async () => {
          const recipient = publicKeyFromSecret(generateSecretKey());
          const recipientAddr = address(recipient);
          const seen: AccountResult[] = [];
          const unwatch = client.watch(recipientAddr, (a) => seen.push(a));
          try {
            await waitFor(() => seen.length >= 1, { timeoutMs: LONG, what: "the first watch() callback" });
            assert.equal(seen[0].exists, false);
            assert.equal(seen[0].balance, 0n);

            const { nonce } = await client.getAccount(minerAddr);
            const amount = 123_456_789n;
            const tx = signTransfer(
              { network: REGTEST.networkId, recipient, amount, fee: 2_000n, nonce },
              miner.secretKey,
            );
            const txid = await client.sendTransaction(tx);
            assert.equal(txid, bytesToHex(txId(tx)));

            const early = await client.getTransaction(txid);
            if (!early.confirmed) {
              assert.equal(early.confirmations, 0);
              assert.ok(early.tx !== undefined, "a pending transaction is returned with its txid checked");
              assert.equal(bytesToHex(txId(early.tx)), txid);
            }

            const proven = await waitFor(async () => {
              const r = await client.getTransaction(txid);
              return r.confirmed ? r : undefined;
            }, { timeoutMs: LONG, what: "the payment to be confirmed" });
            const theirs = await n.get<TxJson>(`/tx/${txid}`);
            assert.equal(theirs.status, "confirmed");
            assert.equal(proven.blockHash, theirs.blockHash);
            assert.equal(proven.height, theirs.height);
            assert.ok(proven.confirmations >= 1);
            assert.ok(proven.tx?.kind === "transfer");
            assert.equal(bytesToHex(encodeTx(proven.tx)), bytesToHex(encodeTx(tx)));
            assert.equal((await n.get<BlockJson>(`/block/${proven.height}`)).hash, proven.blockHash);

            // Confirmations grow with the chain.
            await waitFor(async () => (await client.getTransaction(txid)).confirmations > proven.confirmations, {
              timeoutMs: LONG,
              what: "more confirmations",
            });

            await waitFor(() => seen.some((a) => a.balance === amount), {
              timeoutMs: LONG,
              what: "watch() to report the payment",
            });
            const credited = seen.find((a) => a.balance === amount)!;
            assert.ok(credited.exists);
            assert.equal(credited.nonce, 0n);
            assert.ok(credited.height >= proven.height!);

            const after = await accountsAgree(client, n, recipientAddr);
            assert.equal(after.balance, amount);
            const payer = await accountsAgree(client, n, minerAddr);
            assert.equal(payer.nonce, nonce + 1n);
          } finally {
            unwatch();
          }
        },
      );

      await t.step("a checkpoint {height: -1} is refused as malformed, not silently ignored", async () => {
        await rejects(
          () =>
            LightClient.connect({
              relays: [ws],
              network: "regtest",
              checkpoint: { height: -1, hash: "00".repeat(32) },
            }),
          TypeError,
          (e) => assert.match(e.message, /checkpoint/),
        );
      });

      await t.step("a checkpoint {height: 0} whose hash is not genesis is refused, not silently ignored", async () => {
        const block1 = await n.get<BlockJson>("/block/1");
        await rejects(
          () => LightClient.connect({ relays: [ws], network: "regtest", checkpoint: { height: 0, hash: block1.hash } }),
          VerificationError,
          (e) => assert.equal(e.what, "checkpoint"),
        );
      });

      await t.step("bad input from scripts gets a clear error and the client keeps working", async () => {
        // Transaction ids.
        for (const bad of ["", "xyz", "00".repeat(31), "00".repeat(33), "g".repeat(64), 42, undefined, null]) {
          await rejects(() => client.getTransaction(bad as string), TypeError, (e) => assert.match(e.message, /txid/));
        }
        // Addresses: malformed, bad checksum, another network, wrong payload length, not a string.
        const checks: [unknown, string][] = [
          ["", "BAD_ADDRESS"],
          ["not an address", "BAD_ADDRESS"],
          [minerAddr.slice(0, -1) + (minerAddr.endsWith("q") ? "p" : "q"), "BAD_ADDRESS_CHECKSUM"],
          [encodeAddress(miner.publicKey, DEVNET.addressPrefix), "WRONG_NETWORK"],
          [bech32mEncode(REGTEST.addressPrefix, new Uint8Array(20)), "BAD_ADDRESS"],
          [42, "BAD_ADDRESS"],
        ];
        for (const [bad, code] of checks) {
          await rejects(() => client.getAccount(bad as string), ValidationError, (e) => assert.equal(e.code, code));
          assert.throws(() => client.watch(bad as string, () => {}), ValidationError);
        }
        // Heights.
        for (const bad of [-1, 1.5, Number.NaN, "3"]) {
          await rejects(() => client.getHeader(bad as number), RangeError, (e) => assert.match(e.message, /height/));
        }
        const tip = await client.tip();
        await rejects(
          () => client.getHeader(tip.height + 1_000_000),
          RangeError,
          (e) => assert.match(e.message, /tip/),
        );
        // Transactions to send.
        await rejects(() => client.sendTransaction("zz"), RangeError);
        await rejects(() => client.sendTransaction("00"), ValidationError, (e) => assert.equal(e.code, "MALFORMED"));
        const devnetTx = signTransfer(
          { network: DEVNET.networkId, recipient: miner.publicKey, amount: 1n, fee: 1_000n, nonce: 0n },
          miner.secretKey,
        );
        await rejects(() => client.sendTransaction(devnetTx), TypeError, (e) => assert.match(e.message, /network/));
        // A transfer the node refuses (an unfunded sender) is reported with the node's code.
        const replay = signTransfer(
          { network: REGTEST.networkId, recipient: miner.publicKey, amount: 1n, fee: 1_000n, nonce: 0n },
          generateSecretKey(),
        );
        await rejects(
          () => client.sendTransaction(replay),
          RelayError,
          (e) => assert.equal(e.code, "INSUFFICIENT_FUNDS"),
        );
        // Relay lists.
        await rejects(() => LightClient.connect({ relays: [], network: "regtest" }), TypeError);
        await rejects(
          () => LightClient.connect({ relays: "ws://127.0.0.1:1/ws" as unknown as string[], network: "regtest" }),
          TypeError,
        );
        for (const url of ["http://127.0.0.1:1/ws", "127.0.0.1:1", "ws://", "ws://a b", 7]) {
          await rejects(
            () => LightClient.connect({ relays: [url as string], network: "regtest" }),
            TypeError,
            (e) => assert.match(e.message, /ws:\/\/ or wss:\/\//),
          );
        }
        await rejects(() => LightClient.connect({ relays: [ws], network: "mainnet" as "regtest" }), RangeError);
        // A ws:// URL where nothing listens.
        const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const deadPort = (closed.addr as Deno.NetAddr).port;
        closed.close();
        await rejects(
          () =>
            LightClient.connect({
              relays: [`ws://127.0.0.1:${deadPort}/ws`],
              network: "regtest",
              requestTimeoutMs: 1_500,
            }),
          RelayUnavailableError,
        );
        for (const checkpoint of [{ height: 1, hash: "xyz" }, { height: 1.5, hash: "00".repeat(32) }]) {
          await rejects(
            () => LightClient.connect({ relays: [ws], network: "regtest", checkpoint }),
            TypeError,
            (e) => assert.match(e.message, /checkpoint/),
          );
        }
        // Still working.
        await tipsAgree(client, n);
        await accountsAgree(client, n, minerAddr);
      });
    } finally {
      clients.closeAll();
      await stopNodes([node]);
      await relay.stop();
    }
  },
);

Deno.test(
  "light client proves headers below its retained window and starts from a checkpoint {height, hash}",
  INTEGRATION,
  async (t) => {
    const { relay, ws } = await startRelay();
    let node: NodeProcess | undefined;
    const clients = new Clients();
    try {
      // Mine 1,100 blocks fast, then restart without mining so the chain holds still.
      const fast = await startNode({ connect: [ws], args: ["--pace-ms", "0"] });
      node = fast;
      await waitFor(async () => (await fast.status()).height >= 1_100, {
        timeoutMs: LONG * 2,
        what: "1,100 blocks",
      });
      assert.equal(await fast.kill("SIGTERM"), 0);
      node = await startNode({ dataDir: fast.dataDir, connect: [ws], mine: false });
      const n = node;
      const status = await n.status() as unknown as StatusJson;
      const height = status.height;
      await waitFor(() => relay.hub.headers.height === height, { timeoutMs: LONG, what: "the relay's header cache" });
      const minerAddr = address((await minerKey(n)).publicKey);

      await t.step(
        "a client keeping 600 headers syncs 1,100 and proves older headers through the tip's historyRoot",
        async () => {
          const client = await clients.connect({ relays: [ws], maxHeaders: 600 });
          const tip = await tipsAgree(client, n);
          assert.equal(tip.height, height);
          const base = client.headers.base.height;
          assert.ok(base > 0, `the window should have moved off genesis (base ${base})`);
          for (const h of [0, 1, 5, Math.floor(base / 2), base - 1]) {
            assert.equal(client.headers.atHeight(h), undefined, `height ${h} should not be held`);
            const header = await client.getHeader(h);
            assert.equal(headerHex(header), (await n.get<BlockJson>(`/block/${h}`)).headerHex, `header ${h}`);
          }
          // A payment in a block below the window is still proven on the best chain.
          const old = await n.get<BlockJson>("/block/5");
          const r = await client.getTransaction(old.txs[0].txid);
          assert.equal(r.confirmed, true);
          assert.equal(r.height, 5);
          assert.equal(r.blockHash, old.hash);
          assert.equal(r.confirmations, height - 5 + 1);
        },
      );

      await t.step("sync progress events count up to the tip", async () => {
        const client = await clients.connect({ relays: [ws], sync: false });
        const progress: { height: number; target: number }[] = [];
        client.addEventListener("progress", (e) => progress.push((e as CustomEvent).detail));
        await client.sync();
        assert.ok(progress.length >= 1);
        assert.equal(progress[progress.length - 1].height, height);
        assert.ok(progress.every((p) => p.height <= p.target));
        await tipsAgree(client, n);
      });

      await t.step(
        "a client started from checkpoint {height: 1000, hash} syncs from there and proves older headers",
        async () => {
          const at = await n.get<BlockJson>("/block/1000");
          const client = await clients.connect({
            relays: [ws],
            checkpoint: { height: 1000, hash: at.hash.toUpperCase() },
          });
          assert.equal(client.headers.base.height, 1000);
          assert.equal(client.headers.base.hex, at.hash);
          const tip = await client.tip();
          assert.equal(tip.height, height);
          assert.equal(tip.hash, status.tipHash);
          for (const h of [0, 10, 999, 1000, 1050, height]) {
            const header = await client.getHeader(h);
            assert.equal(headerHex(header), (await n.get<BlockJson>(`/block/${h}`)).headerHex, `header ${h}`);
          }
          await accountsAgree(client, n, minerAddr);
        },
      );

      await t.step("a checkpoint whose hash is not the block at that height is refused", async () => {
        const other = await n.get<BlockJson>("/block/999");
        await rejects(
          () => clients.connect({ relays: [ws], checkpoint: { height: 1000, hash: other.hash } }),
          VerificationError,
          (e) => assert.equal(e.what, "checkpoint"),
        );
      });

      await t.step("every header a synced client holds has valid proof of work and links to its parent", async () => {
        const chain = (await clients.connect({ relays: [ws] })).headers;
        assert.equal(chain.height, height);
        for (let h = chain.base.height + 1; h <= chain.height; h++) {
          const e = chain.atHeight(h)!;
          assert.ok(hashMeetsTarget(e.hash, bitsToTarget(e.header.bits)), `PoW of ${h}`);
          assert.equal(bytesToHex(e.header.prevHash), chain.atHeight(h - 1)!.hex, `link of ${h}`);
        }
      });
    } finally {
      clients.closeAll();
      await stopNodes([node]);
      await relay.stop();
    }
  },
);

Deno.test(
  "light client follows a reorganisation to the most-work chain when two partitioned nodes meet at the relay",
  INTEGRATION,
  async (t) => {
    const { relay, ws } = await startRelay();
    let a: NodeProcess | undefined;
    let b: NodeProcess | undefined;
    const clients = new Clients();
    try {
      // A mines alone, about one block a second; B publishes to the relay, one block every 3 s.
      a = await startNode();
      b = await startNode({ connect: [ws], args: ["--pace-ms", "3000"] });
      const [na, nb] = [a, b];
      await waitFor(async () => {
        const [sa, sb] = await Promise.all([na.status(), nb.status()]);
        return sb.height >= 3 && sa.height >= sb.height + 5;
      }, { timeoutMs: LONG, what: "A well ahead of B while partitioned" });
      const [addrA, addrB] = [address((await minerKey(na)).publicKey), address((await minerKey(nb)).publicKey)];

      const client = await clients.connect({ relays: [ws] });
      const tips: Tip[] = [];
      client.addEventListener("tip", (e) => tips.push((e as CustomEvent<Tip>).detail));

      const losing = await nb.get<BlockJson>("/block/1");
      const winning1 = await na.get<BlockJson>("/block/1");
      assert.notEqual(losing.hash, winning1.hash);

      await t.step("before the join the client follows B, the only chain it can see", async () => {
        await tipsAgree(client, nb);
        assert.equal(bytesToHex(encodeHeader(await client.getHeader(1))), losing.headerHex);
        await accountsAgree(client, nb, addrB);
      });

      // Join: restart A on its data directory, now publishing to the relay too.
      assert.equal(await na.kill("SIGTERM"), 0);
      a = await startNode({ dataDir: na.dataDir, connect: [ws] });
      const na2 = a;
      await waitFor(async () => {
        const tip = await agreedTip([na2, nb]);
        return tip !== undefined && (await na2.get<BlockJson>("/block/1")).hash === winning1.hash ? tip : undefined;
      }, { timeoutMs: LONG, what: "A and B on A's chain" });

      await t.step("after the join the client is on A's chain: tip, block 1 and a tip event", async () => {
        await tipsAgree(client, na2);
        assert.equal(bytesToHex(encodeHeader(await client.getHeader(1))), winning1.headerHex);
        const old = client.headers.get(losing.hash);
        assert.ok(old === undefined || !client.headers.isMain(old), "B's old block 1 must be off the best chain");
        assert.ok(tips.some((tip) => tip.height > 0), "a tip event was emitted");
        const last = tips[tips.length - 1];
        assert.equal((await na2.get<BlockJson>(`/block/${last.height}`)).hash, last.hash);
      });

      await t.step("after the join balances agree with the winning node at the same height", async () => {
        await accountsAgree(client, na2, addrA);
        await accountsAgree(client, na2, addrB);
      });

      await t.step("a coinbase of the losing branch is unconfirmed; one of the winning branch is proven", async () => {
        const gone = await client.getTransaction(losing.txs[0].txid);
        assert.equal(gone.confirmed, false);
        assert.equal(gone.confirmations, 0);
        const kept = await client.getTransaction(winning1.txs[0].txid);
        assert.equal(kept.confirmed, true);
        assert.equal(kept.blockHash, winning1.hash);
        assert.equal(kept.height, 1);
      });
    } finally {
      clients.closeAll();
      await stopNodes([a, b]);
      await relay.stop();
    }
  },
);
