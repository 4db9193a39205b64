/**
 * Light-client benchmarks: header sync and verification over a real WebSocket from a relay's
 * header cache, account-proof verification in a 100,000-account state tree, and the heap
 * held by a header chain of 100,000 headers.
 *
 * Run on its own (memory figure only needs the subprocess):
 * `deno run -A bench/light_bench.ts` prints all three figures.
 *
 * @module
 */

import { type BlockHeader, hashHeader } from "../protocol/header.ts";
import { HeaderChain } from "../protocol/header_chain.ts";
import { HistoryAccumulator } from "../protocol/history.ts";
import { genesisBlock, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import { type SmtProof, SparseMerkleTree, verifySmtProof } from "../protocol/smt.ts";
import { accountKey, encodeAccount } from "../protocol/state.ts";
import { startDenoRelay } from "../edge/deno.ts";
import { LightClient } from "../light-client/mod.ts";
import { type Benchmark, rate } from "./harness.ts";

const HEADERS = 100_000;
const ACCOUNTS = 100_000;

/**
 * Valid regtest headers after genesis, made directly: historyRoot from a running accumulator,
 * time 1 ms after the parent (so the last of 100,000 is 100 s after genesis and never beyond
 * the future-drift limit), bits = powLimitBits, and a nonce search (about two tries each).
 * txRoot and stateRoot are zero: header rules do not look at them.
 */
function* regtestHeaders(count: number): Generator<BlockHeader> {
  const target = bitsToTarget(REGTEST.powLimitBits);
  const history = new HistoryAccumulator();
  let parent = genesisBlock(REGTEST).header;
  let parentHash = hashHeader(parent);
  for (let i = 0; i < count; i++) {
    history.append(parentHash);
    const header: BlockHeader = {
      version: 1,
      height: parent.height + 1,
      prevHash: parentHash,
      txRoot: new Uint8Array(32),
      stateRoot: new Uint8Array(32),
      historyRoot: history.root(),
      time: parent.time + 1,
      bits: REGTEST.powLimitBits,
      nonce: 0n,
    };
    let hash = hashHeader(header);
    while (!hashMeetsTarget(hash, target)) {
      header.nonce++;
      hash = hashHeader(header);
    }
    yield header;
    parent = header;
    parentHash = hash;
  }
}

/**
 * Headers per second for `LightClient.connect` to sync and verify 100,000 headers from a Deno
 * relay's cache over a real WebSocket on loopback (2,000 per `headers` message, each checked
 * for linkage, PoW, bits, median-time-past, drift and historyRoot). The client keeps every
 * header (maxHeaders: Infinity) so the figure is verification and transport, not pruning.
 */
async function headersRate(): Promise<number> {
  const relay = await startDenoRelay({ params: REGTEST, hostname: "127.0.0.1", port: 0, quiet: true });
  let client: LightClient | undefined;
  try {
    const now = Date.now();
    for (const header of regtestHeaders(HEADERS)) relay.hub.headers.add(header, now);
    if (relay.hub.headers.height !== HEADERS) throw new Error("the relay did not take every header");
    const t = performance.now();
    client = await LightClient.connect({
      relays: [`ws://127.0.0.1:${relay.port}/ws`],
      network: "regtest",
      maxHeaders: Infinity,
      requestTimeoutMs: 120_000,
    });
    const seconds = (performance.now() - t) / 1000;
    if (client.headers.height !== HEADERS) throw new Error(`synced to ${client.headers.height}, not ${HEADERS}`);
    return HEADERS / seconds;
  } finally {
    client?.close();
    await relay.stop();
  }
}

/**
 * Account-proof verifications per second: a sparse Merkle tree of 100,000 accounts (random
 * keys, encoded balances), 1,000 membership proofs made up front, then only `verifySmtProof`
 * is timed, cycling through them.
 */
async function proofRate(): Promise<number> {
  const tree = new SparseMerkleTree();
  const sample: { key: Uint8Array; value: Uint8Array }[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const key = accountKey(crypto.getRandomValues(new Uint8Array(32)));
    const value = encodeAccount({ balance: BigInt(i + 1) * 1_000n, nonce: BigInt(i % 7) });
    tree.set(key, value);
    if (i % 100 === 0) sample.push({ key, value });
  }
  const root = tree.root();
  const proofs: SmtProof[] = sample.map((s) => tree.prove(s.key));
  let i = 0;
  return await rate(() => {
    const j = i++ % sample.length;
    if (!verifySmtProof(root, sample[j].key, sample[j].value, proofs[j])) throw new Error("a proof failed");
  }, { batch: 200 });
}

/**
 * Heap bytes held by a {@link HeaderChain} of 100,000 headers (entries with hash, hex, header
 * and parent link, the hash index, and the accumulator cache every 256 heights).
 *
 * Method: a subprocess started with `--v8-flags=--expose-gc` calls `gc()` and reads
 * `Deno.memoryUsage().heapUsed`, builds the chain from generated headers (none kept
 * elsewhere), calls `gc()` again and prints the difference. A separate process keeps the
 * figure free of whatever the other benchmarks left on the heap.
 */
async function memoryBytes(): Promise<number> {
  const config = new URL("../deno.json", import.meta.url).pathname;
  const self = new URL(import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--config", config, "--v8-flags=--expose-gc", self, MEMORY_CHILD],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !/^\d+$/.test(text)) {
    throw new Error(`memory subprocess failed: ${new TextDecoder().decode(out.stderr).slice(0, 500)}`);
  }
  return Number(text);
}

const MEMORY_CHILD = "--light-memory-child";

/** In the subprocess: print heap growth for a chain of HEADERS headers. */
function measureChainHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const chain = new HeaderChain({ params: REGTEST });
  const now = Date.now();
  for (const header of regtestHeaders(HEADERS)) chain.add(header, now);
  gc();
  const after = Deno.memoryUsage().heapUsed;
  if (chain.height !== HEADERS) throw new Error("chain incomplete");
  return after - before;
}

/** Benchmarks of issue 5 (light client). */
export const lightBenchmarks: Benchmark[] = [
  { name: "light_client.headers_verified_per_second", unit: "headers/s", run: headersRate },
  { name: "light_client.proof_verifications_per_second", unit: "proofs/s", run: proofRate },
  { name: "light_client.memory_bytes_100k_headers", unit: "bytes", run: memoryBytes },
];

if (import.meta.main) {
  if (Deno.args[0] === MEMORY_CHILD) {
    console.log(measureChainHeap());
  } else {
    for (const b of lightBenchmarks) {
      console.log(`${b.name.padEnd(48)} ${Math.round(await b.run()).toLocaleString("en-US").padStart(16)} ${b.unit}`);
    }
  }
}
