/**
 * The light client against a hostile relay: a proxy in front of a real Deno relay (itself fed
 * by a real regtest full node) that rewrites, replaces or withholds answers. For every attack
 * the client must catch it: alone with the hostile relay it throws (VerificationError naming
 * what failed, or RelayUnavailableError when answers are withheld); with an honest second relay
 * it returns the verified answer, equal to the node's own HTTP view, and reports the hostile
 * relay through a "misbehavior" event. It never returns a wrong answer.
 */

import assert from "node:assert/strict";
import { bytesToHex, hexToBytes } from "../protocol/bytes.ts";
import { type BlockHeader, encodeHeader, hashHeader } from "../protocol/header.ts";
import { encodeAddress, generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { genesisBlock, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import { encodeSmtProof, SparseMerkleTree, verifySmtProof } from "../protocol/smt.ts";
import { accountKey, decodeAccount, encodeAccount } from "../protocol/state.ts";
import { signTransfer } from "../protocol/tx.ts";
import { type DenoRelay, startDenoRelay } from "../edge/deno.ts";
import {
  type AccountResult,
  LightClient,
  type LightClientOptions,
  type Misbehavior,
  RelayUnavailableError,
  VerificationError,
} from "../light-client/mod.ts";
import {
  flipHexBit,
  forgeHeaders,
  type Frame,
  headerHex,
  type HostileRelay,
  parseHeader,
  startHostileRelay,
  tamperSmtProof,
  withBadPow,
} from "./helpers/hostile_relay.ts";
import { minerKey, postTx, stopNodes } from "./helpers/node_client.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";

/** Generous: two cores shared with other test runs; nothing here asserts a duration. */
const LONG = 120_000;
const COIN = 100_000_000n;
const INTEGRATION = { sanitizeOps: false, sanitizeResources: false };

interface AccountJson {
  balance: string;
  nonce: string;
  nextNonce: string;
  height: number;
}

interface BlockJson {
  hash: string;
  height: number;
  headerHex: string;
  txs: { txid: string }[];
}

interface TxJson {
  status: "mempool" | "confirmed";
  blockHash?: string;
  height?: number;
}

async function startRelay(): Promise<{ relay: DenoRelay; ws: string }> {
  const relay = await startDenoRelay({ params: REGTEST, hostname: "127.0.0.1", port: 0, quiet: true });
  return { relay, ws: `ws://127.0.0.1:${relay.port}/ws` };
}

function hashHex(header: BlockHeader): string {
  return bytesToHex(hashHeader(header));
}

/** A client with its "misbehavior" reports, every relay connected and headers synced from each. */
interface Opened {
  client: LightClient;
  reports: Misbehavior[];
}

/** Clients opened by a test, closed in its finally block. */
class Clients {
  readonly #open: LightClient[] = [];

  async open(relays: string[], options: Partial<LightClientOptions> = {}): Promise<Opened> {
    const client = await LightClient.connect({
      network: "regtest",
      requestTimeoutMs: 5_000,
      ...options,
      relays,
      sync: false,
    });
    this.#open.push(client);
    const reports: Misbehavior[] = [];
    client.addEventListener("misbehavior", (e) => reports.push((e as CustomEvent<Misbehavior>).detail));
    await waitFor(() => client.connectedRelays.length === relays.length, {
      timeoutMs: LONG,
      what: "every relay connected",
    });
    await client.sync();
    return { client, reports };
  }

  async track(connecting: Promise<LightClient>): Promise<LightClient> {
    const client = await connecting;
    this.#open.push(client);
    return client;
  }

  closeAll(): void {
    for (const c of this.#open.splice(0)) c.close();
  }
}

async function rejects<E extends Error>(
  fn: () => unknown,
  type: new (...args: never[]) => E,
  check?: (err: E) => void,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    check?.(err as E);
    return err as E;
  }
  throw new assert.AssertionError({ message: `expected ${type.name}, but it returned an answer` });
}

/** A VerificationError naming `what` (and a message matching `reason`) from the hostile relay. */
function verificationFailure(what: string, reason: RegExp, relay: string): (err: VerificationError) => void {
  return (err) => {
    assert.equal(err.what, what);
    assert.match(err.message, reason);
    assert.equal(err.relay, relay);
  };
}

/** Wait for a misbehavior report naming `relay` with a reason matching `reason`. */
async function reported(opened: Opened, relay: string, reason: RegExp): Promise<void> {
  await waitFor(() => opened.reports.some((r) => r.relay === relay && reason.test(r.reason)), {
    timeoutMs: LONG,
    what: `a misbehavior report for ${relay} matching ${reason}`,
  });
}

/** The client's account answer once the node was read at the same height; asserts they agree. */
async function accountsAgree(client: LightClient, node: NodeProcess, addr: string): Promise<AccountResult> {
  return await waitFor(async () => {
    const mine = await client.getAccount(addr);
    const theirs = await node.get<AccountJson>(`/account/${addr}`);
    if (theirs.height !== mine.height) return undefined;
    assert.equal(mine.balance.toString(), theirs.balance, `balance of ${addr} at height ${mine.height}`);
    assert.equal(mine.nonce.toString(), theirs.nonce, `nonce of ${addr} at height ${mine.height}`);
    return mine;
  }, { timeoutMs: LONG, what: `the client's and the node's view of ${addr} at one height` });
}

/** Waits until the client's tip is the node's tip, then checks every held header. */
async function onNodeChain(client: LightClient, node: NodeProcess): Promise<void> {
  await waitFor(async () => {
    const tip = await client.tip();
    const status = await node.status();
    return status.height === tip.height && status.tipHash === tip.hash;
  }, { timeoutMs: LONG, what: "the client's tip to equal the node's" });
  const chain = client.headers;
  for (let h = chain.base.height + 1; h <= chain.height; h++) {
    const e = chain.atHeight(h)!;
    assert.ok(hashMeetsTarget(e.hash, bitsToTarget(e.header.bits)), `proof of work of held header ${h}`);
  }
}

/**
 * An honest proxy of `upstream` that holds back the relay's `hello` until released, so a
 * client that lists it connects to it only after it has synced from the other relays.
 */
async function gatedRelay(upstream: string): Promise<HostileRelay & { release(): void }> {
  const gate = Promise.withResolvers<void>();
  const relay = await startHostileRelay({
    upstream,
    responses: {
      hello: async () => {
        await gate.promise;
        return undefined;
      },
    },
  });
  return Object.assign(relay, { release: () => gate.resolve() });
}

/** Connect to `first` and, later, the gated honest relay; misbehavior reports are collected. */
async function openFirst(
  clients: Clients,
  first: string,
  later: string,
  options: Partial<LightClientOptions> = {},
): Promise<Opened> {
  const client = await clients.track(LightClient.connect({
    network: "regtest",
    requestTimeoutMs: 5_000,
    ...options,
    relays: [first, later],
    sync: false,
  }));
  const reports: Misbehavior[] = [];
  client.addEventListener("misbehavior", (e) => reports.push((e as CustomEvent<Misbehavior>).detail));
  await client.sync();
  return { client, reports };
}

function withBalance(accountHex: string, delta: bigint): string {
  const account = decodeAccount(hexToBytes(accountHex));
  return bytesToHex(encodeAccount({ ...account, balance: account.balance + delta }));
}

Deno.test(
  "a hostile relay is caught for every attack; with an honest relay the client still answers correctly",
  INTEGRATION,
  async (t) => {
    const { relay, ws } = await startRelay();
    let node: NodeProcess | undefined;
    let hostile: HostileRelay | undefined;
    let silent: HostileRelay | undefined;
    const clients = new Clients();
    try {
      node = await startNode({ connect: [ws] });
      const n = node;
      const h = await startHostileRelay({ upstream: ws });
      hostile = h;
      await waitFor(async () => (await n.status()).height >= 2, { timeoutMs: LONG, what: "the node at height >= 2" });
      const miner = await minerKey(n);
      const minerAddr = encodeAddress(miner.publicKey, REGTEST.addressPrefix);

      // A confirmed payment, so its block holds two transactions and its inclusion proof a sibling.
      const payee = publicKeyFromSecret(generateSecretKey());
      const { nextNonce } = await n.get<AccountJson>(`/account/${minerAddr}`);
      const payment = signTransfer(
        { network: REGTEST.networkId, recipient: payee, amount: 5n * COIN, fee: 1_000n, nonce: BigInt(nextNonce) },
        miner.secretKey,
      );
      const posted = await postTx(n.url, payment);
      assert.equal(posted.status, 202, posted.text);
      const paid = String(posted.json!.txid);
      const paidIn = await waitFor(async () => {
        const r = await n.get<TxJson>(`/tx/${paid}`);
        return r.status === "confirmed" ? r : undefined;
      }, { timeoutMs: LONG, what: "the payment confirmed" });
      await waitFor(() => relay.hub.headers.height >= paidIn.height!, { timeoutMs: LONG, what: "the relay's headers" });
      const block1 = await n.get<BlockJson>("/block/1");
      const otherTx = block1.txs[0].txid;
      const payeeAddr = encodeAddress(payee, REGTEST.addressPrefix);

      const reset = () => {
        for (const k of Object.keys(h.responses)) delete h.responses[k];
        for (const k of Object.keys(h.requests)) delete h.requests[k];
      };

      await t.step("the hostile relay, left alone, passes answers through unchanged", async () => {
        const opened = await clients.open([h.url]);
        await onNodeChain(opened.client, n);
        await accountsAgree(opened.client, n, minerAddr);
        const r = await opened.client.getTransaction(paid);
        assert.equal(r.blockHash, paidIn.blockHash);
        assert.deepEqual(opened.reports, []);
      });

      await t.step("a header with bad proof of work announced by a relay is rejected and reported", async () => {
        const opened = await clients.open([h.url, ws]);
        const chain = opened.client.headers;
        const tip = chain.tip;
        // A child of the tip that is right in every respect except its proof of work.
        const bad = withBadPow(forgeHeaders(tip.header, chain.historyOf(tip), 1, { params: REGTEST })[0]);
        h.announce({ type: "headers", headers: [headerHex(bad)] });
        await reported(opened, h.url, /above the target/);
        assert.equal(chain.get(hashHex(bad)), undefined);
        await onNodeChain(opened.client, n);
      });

      await t.step(
        "a header with bad proof of work served in a getheaders answer is rejected and reported",
        async () => {
          h.responses.headers = (m) => {
            const headers = m.headers as string[];
            if (m.id === undefined || headers.length === 0) return undefined;
            return { ...m, headers: [...headers.slice(0, -1), headerHex(withBadPow(parseHeader(headers.at(-1)!)))] };
          };
          const gated = await gatedRelay(ws);
          try {
            // Synced from the hostile relay first: all but the bad header kept, the relay reported;
            // then the honest relay, once it answers, brings the client to the node's tip.
            const both = await openFirst(clients, h.url, gated.url);
            await reported(both, h.url, /above the target/);
            assert.ok(both.client.headers.height < (await n.status()).height);
            gated.release();
            await onNodeChain(both.client, n);
            // Alone: never on the node's tip, so a balance cannot be proven.
            const alone = await clients.open([h.url]);
            assert.ok(alone.client.headers.height < (await n.status()).height);
            await rejects(
              () => alone.client.getAccount(minerAddr),
              VerificationError,
              verificationFailure("account proof", /not the verified tip/, h.url),
            );
          } finally {
            reset();
            await gated.stop();
          }
        },
      );

      await t.step("a valid lower-work fork does not move the client, and proofs against it are rejected", async () => {
        // A two-header branch from four blocks below the relay's tip, committing to a fake state
        // in which the miner is rich: every header and the proof are valid, but the branch has
        // less work than the best chain.
        const cache = relay.hub.headers;
        await waitFor(() => cache.height >= 6, { timeoutMs: LONG, what: "the relay's headers at height >= 6" });
        const forkAt = cache.atHeight(cache.height - 4)!;
        const key = accountKey(miner.publicKey);
        const fakeValue = encodeAccount({ balance: 1_000_000n * COIN, nonce: 0n });
        const fakeState = new SparseMerkleTree();
        fakeState.set(key, fakeValue);
        fakeState.set(accountKey(payee), encodeAccount({ balance: 1n, nonce: 0n }));
        const fork = forgeHeaders(forkAt.header, cache.historyOf(forkAt), 2, {
          params: REGTEST,
          stateRoot: fakeState.root(),
        });
        const forkTip = fork[fork.length - 1];
        const fakeProof = fakeState.prove(key);
        assert.ok(verifySmtProof(forkTip.stateRoot, key, fakeValue, fakeProof), "the fake proof is self-consistent");
        const announce = { type: "headers", headers: fork.map(headerHex) };
        h.responses.accountproof = (m) => ({
          ...m,
          header: headerHex(forkTip),
          account: bytesToHex(fakeValue),
          proof: bytesToHex(encodeSmtProof(fakeProof)),
        });
        try {
          const both = await clients.open([h.url, ws]);
          h.announce(announce);
          await waitFor(() => both.client.headers.get(hashHex(forkTip)) !== undefined, {
            timeoutMs: LONG,
            what: "the fork to be known",
          });
          assert.equal(both.client.headers.isMain(both.client.headers.get(hashHex(forkTip))!), false);
          await onNodeChain(both.client, n);
          const account = await accountsAgree(both.client, n, minerAddr);
          assert.ok(account.balance < 1_000_000n * COIN);
          await reported(both, h.url, /not the verified tip/);

          const alone = await clients.open([h.url]);
          h.announce(announce);
          await waitFor(() => alone.client.headers.get(hashHex(forkTip)) !== undefined, {
            timeoutMs: LONG,
            what: "the fork to be known",
          });
          await rejects(
            () => alone.client.getAccount(minerAddr),
            VerificationError,
            verificationFailure("account proof", /not the verified tip/, h.url),
          );

          // The fork served in getheaders answers, in place of the real headers after the fork point.
          delete h.responses.accountproof;
          h.responses.headers = (m) => {
            const headers = m.headers as string[];
            if (m.id === undefined) return undefined;
            const i = headers.findIndex((x) => parseHeader(x).height === forkAt.height);
            return i < 0 ? undefined : { ...m, headers: [...headers.slice(0, i + 1), ...fork.map(headerHex)] };
          };
          const gated = await gatedRelay(ws);
          try {
            const synced = await openFirst(clients, h.url, gated.url);
            assert.ok(synced.client.headers.get(hashHex(forkTip)) !== undefined, "the fork was served");
            gated.release();
            await onNodeChain(synced.client, n);
            assert.equal(synced.client.headers.isMain(synced.client.headers.get(hashHex(forkTip))!), false);
          } finally {
            await gated.stop();
          }
        } finally {
          reset();
        }
      });

      await t.step("a proof for another transaction is rejected", async () => {
        h.requests.gettxproof = (m) => ({ ...m, txid: otherTx });
        try {
          const alone = await clients.open([h.url]);
          await rejects(
            () => alone.client.getTransaction(paid),
            VerificationError,
            verificationFailure("transaction proof", /another transaction/, h.url),
          );
          const both = await clients.open([h.url, ws]);
          const r = await both.client.getTransaction(paid);
          assert.equal(r.confirmed, true);
          assert.equal(r.blockHash, paidIn.blockHash);
          assert.equal(r.height, paidIn.height);
          await reported(both, h.url, /another transaction/);
        } finally {
          reset();
        }
      });

      await t.step("a tampered sibling in a transaction inclusion proof is rejected", async () => {
        const real = await n.get<{ proof: string[] }>(`/proof/tx/${paid}`);
        assert.ok(real.proof.length >= 1, "the payment's block has a sibling to tamper with");
        h.responses.txproof = (m) => {
          const proof = m.proof as string[];
          return { ...m, proof: [flipHexBit(proof[0], 0), ...proof.slice(1)] };
        };
        try {
          const alone = await clients.open([h.url]);
          await rejects(
            () => alone.client.getTransaction(paid),
            VerificationError,
            verificationFailure("transaction proof", /txRoot/, h.url),
          );
          const both = await clients.open([h.url, ws]);
          const r = await both.client.getTransaction(paid);
          assert.equal(r.blockHash, paidIn.blockHash);
          await reported(both, h.url, /txRoot/);
        } finally {
          reset();
        }
      });

      await t.step("a tampered sibling in an account proof is rejected", async () => {
        h.responses.accountproof = (m) => ({ ...m, proof: tamperSmtProof(m.proof as string) });
        try {
          const alone = await clients.open([h.url]);
          await rejects(
            () => alone.client.getAccount(minerAddr),
            VerificationError,
            verificationFailure("account proof", /stateRoot/, h.url),
          );
          const both = await clients.open([h.url, ws]);
          await accountsAgree(both.client, n, minerAddr);
          await reported(both, h.url, /stateRoot/);
        } finally {
          reset();
        }
      });

      await t.step("a tampered sibling in a history proof is rejected", async () => {
        // Started from a checkpoint, the client holds no header below it: block 1 needs a history proof.
        const at = (await n.status()).height - 1;
        const checkpoint = { height: at, hash: (await n.get<BlockJson>(`/block/${at}`)).hash };
        h.responses.historyproof = (m) => {
          const proof = m.proof as string[];
          return { ...m, proof: [flipHexBit(proof[0], 0), ...proof.slice(1)] };
        };
        try {
          const alone = await clients.open([h.url], { checkpoint });
          await rejects(
            () => alone.client.getHeader(1),
            VerificationError,
            verificationFailure("history proof", /historyRoot/, h.url),
          );
          const both = await clients.open([h.url, ws], { checkpoint });
          assert.equal(both.client.headers.atHeight(1), undefined);
          assert.equal(bytesToHex(encodeHeader(await both.client.getHeader(1))), block1.headerHex);
          await reported(both, h.url, /historyRoot/);
        } finally {
          reset();
        }
      });

      await t.step("a history proof for another height is rejected", async () => {
        const at = (await n.status()).height - 1;
        const checkpoint = { height: at, hash: (await n.get<BlockJson>(`/block/${at}`)).hash };
        h.requests.gethistoryproof = (m) => ({ ...m, height: 2 });
        try {
          const alone = await clients.open([h.url], { checkpoint });
          await rejects(
            () => alone.client.getHeader(1),
            VerificationError,
            verificationFailure("history proof", /height 2/, h.url),
          );
        } finally {
          reset();
        }
      });

      await t.step("a checkpoint whose accumulator does not match its header is rejected", async () => {
        const at = (await n.status()).height - 1;
        const checkpoint = { height: at, hash: (await n.get<BlockJson>(`/block/${at}`)).hash };
        h.responses.checkpoint = (m) => ({ ...m, history: flipHexBit(String(m.history)) });
        try {
          await rejects(
            () => clients.open([h.url], { checkpoint }),
            VerificationError,
            verificationFailure("checkpoint", /historyRoot/, h.url),
          );
          const both = await clients.open([h.url, ws], { checkpoint });
          assert.equal(both.client.headers.base.hex, checkpoint.hash);
          await onNodeChain(both.client, n);
        } finally {
          reset();
        }
      });

      await t.step("a wrong balance is rejected: raised, hidden, or invented", async () => {
        try {
          // One base unit more.
          h.responses.accountproof = (m) =>
            m.account === null ? undefined : { ...m, account: withBalance(String(m.account), 1n) };
          const alone = await clients.open([h.url]);
          await rejects(
            () => alone.client.getAccount(minerAddr),
            VerificationError,
            verificationFailure("account proof", /stateRoot/, h.url),
          );
          const both = await clients.open([h.url, ws]);
          await accountsAgree(both.client, n, minerAddr);
          await reported(both, h.url, /stateRoot/);
          // An existing account reported absent.
          h.responses.accountproof = (m) => ({ ...m, account: null });
          await rejects(
            () => alone.client.getAccount(payeeAddr),
            VerificationError,
            verificationFailure("account proof", /stateRoot/, h.url),
          );
          // An absent account reported rich.
          h.responses.accountproof = (m) => ({
            ...m,
            account: bytesToHex(encodeAccount({ balance: 7n * COIN, nonce: 0n })),
          });
          const nobody = encodeAddress(publicKeyFromSecret(generateSecretKey()), REGTEST.addressPrefix);
          await rejects(
            () => alone.client.getAccount(nobody),
            VerificationError,
            verificationFailure("account proof", /stateRoot/, h.url),
          );
          const absent = await both.client.getAccount(nobody);
          assert.equal(absent.exists, false);
          assert.equal(absent.balance, 0n);
        } finally {
          reset();
        }
      });

      await t.step("a stale stateRoot (an older account proof replayed) is rejected", async () => {
        let first: Frame | undefined;
        h.responses.accountproof = (m) => {
          if (first === undefined) {
            first = m;
            return undefined;
          }
          return { ...first, id: m.id };
        };
        try {
          const alone = await clients.open([h.url]);
          const before = await alone.client.getAccount(minerAddr);
          await waitFor(async () => (await alone.client.tip()).height > before.height, {
            timeoutMs: LONG,
            what: "a newer tip",
          });
          await rejects(
            () => alone.client.getAccount(minerAddr),
            VerificationError,
            verificationFailure("account proof", /stale stateRoot/, h.url),
          );
          const both = await clients.open([h.url, ws]);
          await accountsAgree(both.client, n, minerAddr);
          await reported(both, h.url, /stale stateRoot/);
        } finally {
          reset();
        }
      });

      await t.step("withheld answers end in RelayUnavailableError after the timeout, never in an answer", async () => {
        for (const type of ["accountproof", "txproof", "historyproof"]) h.responses[type] = () => null;
        try {
          const alone = await clients.open([h.url], { requestTimeoutMs: 1_500 });
          await rejects(() => alone.client.getAccount(minerAddr), RelayUnavailableError);
          // Not "unconfirmed": a withheld proof is no answer at all.
          await rejects(() => alone.client.getTransaction(paid), RelayUnavailableError);
          const at = (await n.status()).height - 1;
          const checkpoint = { height: at, hash: (await n.get<BlockJson>(`/block/${at}`)).hash };
          const fromCheckpoint = await clients.open([h.url], { requestTimeoutMs: 1_500, checkpoint });
          await rejects(() => fromCheckpoint.client.getHeader(1), RelayUnavailableError);

          const both = await clients.open([h.url, ws], { requestTimeoutMs: 1_500 });
          await accountsAgree(both.client, n, minerAddr);
          const r = await both.client.getTransaction(paid);
          assert.equal(r.blockHash, paidIn.blockHash);
        } finally {
          reset();
        }
      });

      await t.step(
        "a relay that never answers anything, not even hello, fails connect() unless another relay answers",
        async () => {
          silent = await startHostileRelay({ upstream: ws, silent: true });
          const s = silent;
          await rejects(
            () => LightClient.connect({ relays: [s.url], network: "regtest", requestTimeoutMs: 1_500 }),
            RelayUnavailableError,
          );
          const client = await LightClient.connect({
            relays: [s.url, ws],
            network: "regtest",
            requestTimeoutMs: 1_500,
          });
          try {
            await onNodeChain(client, n);
            assert.deepEqual(client.connectedRelays, [ws]);
          } finally {
            client.close();
          }
        },
      );

      await t.step(
        "a relay that denies a confirmed payment does not hide it when another relay proves it",
        async () => {
          h.responses.txproof = (m) => ({ type: "error", id: m.id, code: "NOT_FOUND", message: "no such transaction" });
          try {
            const both = await clients.open([h.url, ws]);
            const r = await both.client.getTransaction(paid);
            assert.equal(r.confirmed, true);
            assert.equal(r.blockHash, paidIn.blockHash);
          } finally {
            reset();
          }
        },
      );

      assert.ok(h.tampered.size > 0);
    } finally {
      clients.closeAll();
      await silent?.stop();
      await hostile?.stop();
      await stopNodes([node]);
      await relay.stop();
    }
  },
);

Deno.test(
  "a relay that answers every getheaders with the same 2,000 known headers cannot stall connect() or sync()",
  INTEGRATION,
  async (t) => {
    // No node needed: the honest relay's header cache is fed 50 valid headers directly.
    const { relay, ws } = await startRelay();
    const genesis = genesisBlock(REGTEST).header;
    const chain = relay.hub.headers;
    for (const header of forgeHeaders(genesis, chain.historyOf(chain.tip), 50, { params: REGTEST })) {
      chain.add(header, Date.now());
    }
    const hostile = await startHostileRelay({ upstream: ws });
    hostile.responses.headers = (m) =>
      m.id === undefined ? undefined : { ...m, headers: new Array(2_000).fill(headerHex(genesis)) };
    const open: LightClient[] = [];
    /** Resolve to the client, or to undefined after `ms` while the promise keeps running. */
    const within = async (p: Promise<LightClient>, ms: number) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms));
      p.then((c) => open.push(c), () => {});
      try {
        return await Promise.race([p, late]);
      } finally {
        clearTimeout(timer);
      }
    };
    const pending: Promise<unknown>[] = [];
    try {
      await t.step("connect() with only that relay resolves", async () => {
        const p = LightClient.connect({ relays: [hostile.url], network: "regtest", requestTimeoutMs: 5_000 });
        pending.push(p.catch(() => {}));
        const client = await within(p, 30_000);
        assert.ok(client !== undefined, "connect() was still syncing the same 2,000 headers after 30 s");
        assert.equal((await client.tip()).height, 0);
      });

      await t.step("sync() with that relay and an honest one reaches the honest tip", async () => {
        const client = await LightClient.connect({
          relays: [hostile.url, ws],
          network: "regtest",
          requestTimeoutMs: 5_000,
          sync: false,
        });
        open.push(client);
        await waitFor(() => client.connectedRelays.length === 2, { timeoutMs: LONG, what: "both relays connected" });
        const synced = within(client.sync().then(() => client), 30_000);
        pending.push(synced);
        assert.ok((await synced) !== undefined, "sync() was still syncing the same 2,000 headers after 30 s");
        assert.equal((await client.tip()).height, 50);
      });
    } finally {
      // Stopping the hostile relay breaks any loop still running, so the pending calls settle.
      await hostile.stop();
      await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, 20_000))]);
      for (const c of open) c.close();
      await relay.stop();
    }
  },
);
