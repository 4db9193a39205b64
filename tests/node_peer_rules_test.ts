/**
 * Peer policy of a real node subprocess (docs/protocol.md §11, §13): scripted peers over real
 * WebSockets announce blocks that break exactly one consensus rule, or send broken frames, and
 * the node must reject the object, tell the sender why (the rule's error code), disconnect it,
 * and keep serving an honest peer on the same chain.
 */

import assert from "node:assert/strict";
import { type Block, computeTxRoot } from "../protocol/block.ts";
import { bytesToHex } from "../protocol/bytes.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { encodeHeader, hashHeader } from "../protocol/header.ts";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import { getAccount } from "../protocol/state.ts";
import { type CoinbaseTx, signTransfer, type TransferTx, txId } from "../protocol/tx.ts";
import { mine, TestChain } from "./helpers/chain.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";
import { RawPeer } from "./helpers/raw_peer.ts";
import { rng } from "./helpers/random.ts";

const alice = generateSecretKey();
const bob = generateSecretKey();
const alicePub = publicKeyFromSecret(alice);
const bobPub = publicKeyFromSecret(bob);

/** Generous: two cores shared with other test files. */
const WAIT_MS = 30_000;

function pay(secretKey: Uint8Array, fields: Partial<TransferTx> & { nonce: bigint }): TransferTx {
  return signTransfer({
    network: REGTEST.networkId,
    recipient: fields.recipient ?? bobPub,
    amount: fields.amount ?? 1000n,
    fee: fields.fee ?? 1000n,
    nonce: fields.nonce,
  }, secretKey);
}

/** Re-mine `block` after a mutation of its transactions so that only the intended rule fails. */
function remine(block: Block): Block {
  block.header.txRoot = computeTxRoot(block.txs.map(txId));
  mine(block.header);
  return block;
}

/** A chain where alice mined 3 blocks (150 coins, spendable at once on regtest). */
function fundedChain(): TestChain {
  const chain = new TestChain();
  for (let i = 0; i < 3; i++) chain.mine({ miner: alicePub });
  return chain;
}

const hashOf = (block: Block) => bytesToHex(hashHeader(block.header));

async function metric(node: NodeProcess, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const m = new RegExp(`^edgeledger_${name} (\\d+)$`, "m").exec(text);
  assert.ok(m !== null, `metric ${name} missing`);
  return Number(m[1]);
}

/** Kill a node and remove its temporary data directory. */
async function stop(node: NodeProcess): Promise<void> {
  await node.kill("SIGKILL");
  await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
}

/** A node with --no-mine that synced `chain` from a connected honest peer. */
async function nodeWithHonestPeer(chain: TestChain, args: string[] = []) {
  const node = await startNode({ mine: false, args });
  let honest: RawPeer | undefined;
  try {
    honest = await RawPeer.connect(node.wsUrl, { chain });
    await honest.ready;
    const tip = hashOf(chain.blocks[chain.blocks.length - 1]);
    await waitFor(async () => (await node.status()).tipHash === tip, {
      timeoutMs: WAIT_MS,
      what: `the node to sync ${chain.height} blocks from the honest peer`,
    });
    return { node, honest };
  } catch (err) {
    await honest?.close();
    await stop(node);
    throw err;
  }
}

/** The node is where it was, does not hold `badHash` on its main chain, and the honest peer is served. */
async function assertUnharmed(
  node: NodeProcess,
  honest: RawPeer,
  before: { height: number; tipHash: string },
  badHash?: string,
): Promise<void> {
  const after = await node.status();
  assert.equal(after.height, before.height, "the node's height changed");
  assert.equal(after.tipHash, before.tipHash, "the node's tip changed");
  if (badHash !== undefined) {
    const res = await fetch(`${node.url}/block/${badHash}`);
    const body = await res.json();
    assert.ok(res.status === 404 || body.mainChain === false, `the bad block ${badHash} is on the main chain`);
  }
  assert.equal(honest.isClosed, false, "the honest peer was disconnected");
  await honest.ping(WAIT_MS);
}

/**
 * Connect a fresh offender, let `act` misbehave, and check: an `error` carrying one of `codes`
 * arrives, the node closes the connection with 1008, and the node and the honest peer are unharmed.
 */
async function assertDisconnected(
  ctx: { node: NodeProcess; honest: RawPeer; chain: TestChain },
  act: (offender: RawPeer) => string | void,
  codes: readonly string[],
): Promise<void> {
  const { node, honest, chain } = ctx;
  const before = await node.status();
  const offender = await RawPeer.connect(node.wsUrl, { chain });
  try {
    // Finish the handshake first: a frame we send after the node's close frame would turn the
    // clean 1008 close into an abnormal one on our side (a Deno WebSocket client behaviour).
    await offender.handshake(WAIT_MS);
    const badHash = act(offender) ?? undefined;
    const close = await offender.closedWithin(WAIT_MS);
    const errors = offender.errors;
    assert.ok(errors.length > 0, `the node closed (${close.code} ${close.reason}) without sending an error`);
    assert.ok(
      errors.some((e) => codes.includes(e.code)),
      `expected an error with code ${codes.join(" or ")}, got ${JSON.stringify(errors)}`,
    );
    assert.equal(close.code, 1008, `close code (reason "${close.reason}")`);
    await assertUnharmed(node, honest, before, badHash);
  } finally {
    await offender.close();
  }
}

/** 6,400 well-formed transfers (unsigned: the size cap is checked before anything else). */
function oversizeBlock(chain: TestChain): Block {
  const block = chain.build({ miner: bobPub });
  const r = rng(7);
  for (let i = 0; i < 6_400; i++) {
    block.txs.push({
      kind: "transfer",
      network: REGTEST.networkId,
      sender: r.bytes(32),
      recipient: bobPub,
      amount: 1n,
      fee: 1000n,
      nonce: BigInt(i),
      signature: r.bytes(64),
    });
  }
  return remine(block);
}

/**
 * The honest peer mines and announces the next block: the node must take it, must not flood the
 * honest peer with requests for a block it does not have, and must keep it connected.
 */
async function assertTakesHonestBlock(node: NodeProcess, honest: RawPeer, chain: TestChain): Promise<void> {
  const before = honest.messages("getblock").length;
  const block = chain.mine({ miner: alicePub });
  honest.announceTip();
  const tip = hashOf(block);
  const problems: string[] = [];
  try {
    await Promise.race([
      waitFor(async () => (await node.status()).tipHash === tip, { timeoutMs: WAIT_MS }),
      honest.closed,
    ]);
  } catch {
    // reported below
  }
  const status = await node.status();
  if (status.tipHash !== tip) {
    problems.push(`the node stayed at height ${status.height} instead of taking block ${block.header.height}`);
  }
  const unknown = honest.messages("getblock").slice(before).filter((m) => m.hash !== tip);
  if (unknown.length > 10) {
    const hashes = [...new Set(unknown.map((m) => m.hash.slice(0, 16)))].join(", ");
    problems.push(`the node asked the honest peer ${unknown.length} times for blocks it never announced (${hashes})`);
  }
  if (honest.isClosed) {
    const c = await honest.closed;
    const errors = honest.errors.map((e) => `${e.code}: ${e.message}`).join("; ");
    problems.push(`the node disconnected the honest peer (${c.code} ${c.reason}; ${errors})`);
  }
  assert.deepEqual(problems, [], problems.join("\n"));
  await honest.ping(WAIT_MS);
}

Deno.test({
  name: "a node rejects a block breaking any one rule, disconnects its sender and keeps serving an honest peer",
  async fn(t) {
    const chain = fundedChain();
    const { node, honest } = await nodeWithHonestPeer(chain);
    const ctx = { node, honest, chain };
    const balance = getAccount(chain.state, alicePub).balance;
    try {
      await t.step("BAD_POW: a header whose hash is above its target", () =>
        assertDisconnected(ctx, (p) => {
          const block = chain.build({ miner: bobPub });
          const target = bitsToTarget(block.header.bits);
          while (hashMeetsTarget(hashHeader(block.header), target)) block.header.nonce++;
          return p.announce(block);
        }, [ErrorCode.BAD_POW]));

      await t.step(
        "BAD_BITS: a header with other bits than the network requires",
        () =>
          assertDisconnected(ctx, (p) => {
            const block = chain.build({ miner: bobPub });
            block.header.bits = 0x2000ffff;
            mine(block.header);
            return p.announce(block);
          }, [ErrorCode.BAD_BITS]),
      );

      await t.step("TIME_TOO_OLD: a header whose time equals the median time past", () =>
        assertDisconnected(
          ctx,
          (p) => p.announce(chain.build({ miner: bobPub, time: chain.medianTimePast() })),
          [ErrorCode.TIME_TOO_OLD],
        ));

      await t.step("TIME_TOO_NEW is not the sender's fault: the header is refused but the peer stays", async () => {
        const before = await node.status();
        const offender = await RawPeer.connect(node.wsUrl, { chain });
        try {
          await offender.ready;
          const future = chain.build({ miner: bobPub, time: Date.now() + REGTEST.maxFutureDriftMs + 120_000 });
          const badHash = offender.announce(future);
          // Frames are handled in order: once the pong is back the announcement was processed.
          await offender.ping(WAIT_MS);
          await new Promise((r) => setTimeout(r, 500));
          assert.equal(offender.isClosed, false, "the sender of a future block was disconnected");
          assert.deepEqual(offender.errors, []);
          await offender.ping(WAIT_MS);
          await assertUnharmed(node, honest, before, badHash);
        } finally {
          await offender.close();
        }
      });

      await t.step(
        "BAD_HISTORY_ROOT: a historyRoot that does not commit to the parent's chain",
        () =>
          assertDisconnected(ctx, (p) => {
            const block = chain.build({ miner: bobPub });
            block.header.historyRoot = new Uint8Array(32);
            mine(block.header);
            return p.announce(block);
          }, [ErrorCode.BAD_HISTORY_ROOT]),
      );

      await t.step("BAD_TX_ROOT: a txRoot that does not match the transactions", () =>
        assertDisconnected(ctx, (p) => {
          const block = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n })] });
          block.header.txRoot = computeTxRoot([txId(block.txs[0])]);
          mine(block.header);
          return p.announce(block);
        }, [ErrorCode.BAD_TX_ROOT]));

      await t.step(
        "BAD_STATE_ROOT: a stateRoot that does not match the state after the block",
        () =>
          assertDisconnected(ctx, (p) => {
            const block = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n })] });
            block.header.stateRoot = new Uint8Array(32).fill(1);
            mine(block.header);
            return p.announce(block);
          }, [ErrorCode.BAD_STATE_ROOT]),
      );

      await t.step("INSUFFICIENT_FUNDS: a transfer spending more than the sender's balance", () =>
        assertDisconnected(
          ctx,
          (p) => p.announce(chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n, amount: balance })] })),
          [ErrorCode.INSUFFICIENT_FUNDS],
        ));

      await t.step(
        "BAD_NONCE: two transfers spending the same nonce (a double spend)",
        () =>
          assertDisconnected(ctx, (p) => {
            const first = pay(alice, { nonce: 0n, amount: 1000n });
            const second = pay(alice, { nonce: 0n, amount: 2000n, recipient: alicePub });
            return p.announce(chain.build({ miner: bobPub, txs: [first, second] }));
          }, [ErrorCode.BAD_NONCE]),
      );

      await t.step(
        "BAD_SIGNATURE: a transfer whose signature does not cover its amount",
        () =>
          assertDisconnected(ctx, (p) => {
            const block = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n })] });
            (block.txs[1] as TransferTx).amount += 1n;
            return p.announce(remine(block));
          }, [ErrorCode.BAD_SIGNATURE]),
      );

      await t.step("BAD_NONCE: a transfer with a nonce other than the account's next one", () =>
        assertDisconnected(
          ctx,
          (p) => p.announce(chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 5n })] })),
          [ErrorCode.BAD_NONCE],
        ));

      await t.step(
        "BAD_COINBASE_AMOUNT: a coinbase paying one unit more than subsidy plus fees",
        () =>
          assertDisconnected(ctx, (p) => {
            const block = chain.build({ miner: bobPub, txs: [pay(alice, { nonce: 0n })] });
            (block.txs[0] as CoinbaseTx).amount += 1n;
            return p.announce(remine(block));
          }, [ErrorCode.BAD_COINBASE_AMOUNT]),
      );

      await t.step("MESSAGE_TOO_LARGE: a frame over maxMessageBytes (3 MiB)", () =>
        assertDisconnected(ctx, (p) => {
          const frame = JSON.stringify({ type: "ping", nonce: "x".repeat(REGTEST.maxMessageBytes) });
          assert.ok(frame.length > REGTEST.maxMessageBytes);
          p.sendRaw(frame);
        }, [ErrorCode.MESSAGE_TOO_LARGE]));

      await t.step(
        "BAD_MESSAGE: a frame that is not JSON",
        () => assertDisconnected(ctx, (p) => p.sendRaw(`{"type":"ping",`), [ErrorCode.BAD_MESSAGE]),
      );

      await t.step(
        "BAD_MESSAGE: a known type with a field the schema does not allow",
        () => assertDisconnected(ctx, (p) => p.send({ type: "ping", nonce: "n", extra: 1 }), [ErrorCode.BAD_MESSAGE]),
      );

      await t.step("UNKNOWN_TYPE is answered but not fatal", async () => {
        const before = await node.status();
        const peer = await RawPeer.connect(node.wsUrl, { chain });
        try {
          await peer.ready;
          peer.send({ type: "gossip", about: "the weather" });
          const err = await peer.next((m) => m.type === "error", WAIT_MS);
          assert.equal(err.type === "error" && err.code, ErrorCode.UNKNOWN_TYPE);
          await peer.ping(WAIT_MS);
          assert.equal(peer.isClosed, false);
          await assertUnharmed(node, honest, before);
        } finally {
          await peer.close();
        }
      });

      await t.step("HANDSHAKE: a peer on another network, or with another genesis, is refused", async () => {
        for (const hello of [{ network: DEVNET.name, genesis: DEVNET.genesisHash }, { genesis: DEVNET.genesisHash }]) {
          const before = await node.status();
          const peer = await RawPeer.connect(node.wsUrl, { chain, hello });
          try {
            const close = await peer.closedWithin(WAIT_MS);
            assert.ok(
              peer.errors.some((e) => e.code === ErrorCode.HANDSHAKE),
              `hello ${JSON.stringify(hello)}: expected HANDSHAKE, got ${JSON.stringify(peer.errors)}`,
            );
            assert.equal(close.code, 1008);
            await assertUnharmed(node, honest, before);
          } finally {
            await peer.close();
          }
        }
      });

      await t.step("loopback offenders are not banned by default, and the honest chain still extends", async () => {
        assert.equal(await metric(node, "peer_bans_total"), 0);
        await assertTakesHonestBlock(node, honest, chain);
      });
    } finally {
      await honest.close();
      await stop(node);
    }
  },
});

Deno.test({
  name: "with --ban-loopback an offender's reconnect is refused while the honest peer stays connected",
  async fn() {
    const chain = fundedChain();
    const { node, honest } = await nodeWithHonestPeer(chain, ["--ban-loopback"]);
    try {
      await assertDisconnected({ node, honest, chain }, (p) => {
        const block = chain.build({ miner: bobPub });
        const target = bitsToTarget(block.header.bits);
        while (hashMeetsTarget(hashHeader(block.header), target)) block.header.nonce++;
        return p.announce(block);
      }, [ErrorCode.BAD_POW]);
      assert.equal(await metric(node, "peer_bans_total"), 1);

      // Send nothing: a frame crossing the node's close frame would make the close abnormal on our side.
      const again = await RawPeer.connect(node.wsUrl, { chain, hello: false });
      try {
        const close = await again.closedWithin(WAIT_MS);
        assert.equal(close.code, 1008, `close of the banned reconnect (reason "${close.reason}")`);
        assert.equal(again.messages("hello").length, 0, "a banned peer got a hello");
      } finally {
        await again.close();
      }
      assert.equal(honest.isClosed, false, "the honest peer was disconnected by the ban");
      await honest.ping(WAIT_MS);
      const status = await node.status();
      assert.equal(status.peers, 1);
    } finally {
      await honest.close();
      await stop(node);
    }
  },
});

Deno.test({
  name: "a block over maxBlockBytes is refused and the node still takes the honest peer's block at that height",
  async fn() {
    const chain = fundedChain();
    const { node, honest } = await nodeWithHonestPeer(chain);
    try {
      // Over maxBlockBytes means over maxBlockTxs too (6,000 transfers fill under 1,000,000 bytes).
      const oversize = oversizeBlock(chain);
      await assertDisconnected(
        { node, honest, chain },
        (p) => p.announce(oversize),
        [ErrorCode.BLOCK_TOO_LARGE, ErrorCode.MALFORMED, ErrorCode.TOO_MANY_TXS],
      );
      await assertTakesHonestBlock(node, honest, chain);
    } finally {
      await honest.close();
      await stop(node);
    }
  },
});

Deno.test({
  name: "a header whose block is never served does not stall the node or get the honest peer disconnected",
  async fn() {
    const chain = fundedChain();
    const { node, honest } = await nodeWithHonestPeer(chain);
    try {
      const withholder = await RawPeer.connect(node.wsUrl, { chain });
      try {
        await withholder.handshake(WAIT_MS);
        // A valid header; its block is not served (getblock is answered with null), then the peer leaves.
        const header = chain.build({ miner: bobPub, extra: new Uint8Array([1]) }).header;
        withholder.send({ type: "headers", headers: [bytesToHex(encodeHeader(header))] });
        await withholder.ping(WAIT_MS);
      } finally {
        await withholder.close();
      }
      await assertTakesHonestBlock(node, honest, chain);
    } finally {
      await honest.close();
      await stop(node);
    }
  },
});
