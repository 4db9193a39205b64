/**
 * Full-node benchmarks: block validation with fresh and cached signatures, sync of 1,000
 * blocks over a real WebSocket, and the miner's hashrate with every worker.
 *
 * @module
 */

import type { Block } from "../protocol/block.ts";
import { hashHeader } from "../protocol/header.ts";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import { signTransfer, type TransferTx } from "../protocol/tx.ts";
import { Chain } from "../full-node/chain.ts";
import { silentLogger } from "../full-node/logger.ts";
import { Mempool } from "../full-node/mempool.ts";
import { Miner } from "../full-node/miner.ts";
import { FullNode } from "../full-node/node.ts";
import { SignatureVerifier } from "../full-node/sig_verifier.ts";
import { NodeStore } from "../full-node/store.ts";
import type { Benchmark } from "./harness.ts";

function mineRegtest(block: Block): void {
  const target = bitsToTarget(block.header.bits);
  while (!hashMeetsTarget(hashHeader(block.header), target)) block.header.nonce++;
}

async function tempChain(params = REGTEST) {
  const dir = await Deno.makeTempDir({ prefix: "edgeledger-bench-" });
  const store = NodeStore.open(`${dir}/chain.sqlite`);
  const verifier = new SignatureVerifier();
  const chain = new Chain({ params }, { store, verifier, logger: silentLogger });
  chain.init();
  const close = async () => {
    verifier.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { chain, store, verifier, close };
}

/** Mine a block on `chain` with `txs` paying the coinbase to `miner`, and connect it. */
async function extend(chain: Chain, miner: Uint8Array, txs: TransferTx[] = []): Promise<Block> {
  const { block } = chain.buildTemplate({ miner, txs, time: chain.tip.header.time + 1000 });
  mineRegtest(block);
  await chain.processBlock(block);
  return block;
}

/**
 * Validation throughput: a chain where one key is funded, then blocks of 1,000 transfers
 * built on a second chain and validated by the measured one (fresh or cached signatures).
 */
async function validationRate(cached: boolean): Promise<number> {
  const source = await tempChain();
  const target = await tempChain();
  const sk = generateSecretKey();
  const pk = publicKeyFromSecret(sk);
  const recipient = publicKeyFromSecret(generateSecretKey());
  try {
    const prefix: Block[] = [];
    for (let i = 0; i < 30; i++) prefix.push(await extend(source.chain, pk));
    for (const b of prefix) await target.chain.processBlock(b);
    const mempool = new Mempool({ params: REGTEST }, {
      account: (k) => target.chain.account(k),
      verifier: target.verifier,
    });
    let nonce = 0n;
    let txCount = 0;
    let elapsed = 0;
    for (let round = 0; round < 4; round++) {
      const txs: TransferTx[] = [];
      for (let i = 0; i < 1000; i++) {
        txs.push(
          signTransfer({ network: REGTEST.networkId, recipient, amount: 1000n, fee: 1000n, nonce: nonce++ }, sk),
        );
      }
      const block = await extend(source.chain, pk, txs);
      if (cached) { for (const tx of txs) mempool.add(tx); }
      const t = performance.now();
      const result = await target.chain.processBlock(block);
      const dt = performance.now() - t;
      if (result.status !== "connected") throw new Error("benchmark block did not connect");
      if (round > 0) {
        elapsed += dt;
        txCount += txs.length;
      }
      if (cached) mempool.blockConnected(block);
    }
    return txCount / (elapsed / 1000);
  } finally {
    await source.close();
    await target.close();
  }
}

/** Blocks per second for a second node syncing 1,000 blocks from the first over WebSocket. */
async function syncRate(): Promise<number> {
  const dirA = await Deno.makeTempDir({ prefix: "edgeledger-bench-a-" });
  const dirB = await Deno.makeTempDir({ prefix: "edgeledger-bench-b-" });
  const base = {
    params: REGTEST,
    hostname: "127.0.0.1",
    port: 0,
    connect: [] as string[],
    mine: false,
    minerKeyFile: "",
    threads: 1,
    logLevel: "error" as const,
    statusIntervalMs: 0,
  };
  const a = await FullNode.start({ ...base, dataDir: dirA }, silentLogger);
  let b: FullNode | undefined;
  try {
    const miner = publicKeyFromSecret(generateSecretKey());
    for (let i = 0; i < 1000; i++) await extend(a.chain, miner);
    const t = performance.now();
    b = await FullNode.start({ ...base, dataDir: dirB, connect: [`ws://127.0.0.1:${a.port}/ws`] }, silentLogger);
    while (b.chain.height < 1000) await new Promise((r) => setTimeout(r, 20));
    return 1000 / ((performance.now() - t) / 1000);
  } finally {
    await b?.stop();
    await a.stop();
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
}

/** The miner's own hashrate report with one worker per core, on a devnet template. */
async function allWorkersRate(): Promise<number> {
  const { chain, close } = await tempChain(DEVNET);
  const verifier = new SignatureVerifier({ workers: 0 });
  const mempool = new Mempool({ params: DEVNET }, { account: (k) => chain.account(k), verifier });
  const threads = navigator.hardwareConcurrency ?? 2;
  const miner = new Miner({ miner: publicKeyFromSecret(generateSecretKey()), threads, refreshMs: 60_000 }, {
    chain,
    mempool,
  });
  try {
    miner.start();
    await new Promise((r) => setTimeout(r, 2_000));
    const h0 = miner.hashes;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 5_000));
    return (miner.hashes - h0) / ((performance.now() - t0) / 1000);
  } finally {
    miner.stop();
    verifier.close();
    await close();
  }
}

/** Benchmarks of issue 3 (full node). */
export const nodeBenchmarks: Benchmark[] = [
  { name: "node.block_validation_tx_per_second", unit: "tx/s", run: () => validationRate(false) },
  { name: "node.block_validation_cached_tx_per_second", unit: "tx/s", run: () => validationRate(true) },
  { name: "node.sync_blocks_per_second", unit: "blocks/s", run: syncRate },
  { name: "mining.nonces_per_second_all_workers", unit: "nonces/s", run: allWorkersRate },
];
