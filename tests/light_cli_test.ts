/**
 * `deno task light` and the examples/ scripts as real subprocesses against the real parts: a
 * regtest full node (a subprocess with its own SQLite file) publishing to a real Deno relay
 * (in this process), the command line talking only to that relay over WebSockets. Answers are
 * compared with the node's own HTTP view at the same height; the node keeps mining, so a
 * comparison is retried until both sides were read at one height. Nothing asserts a duration.
 */

import assert from "node:assert/strict";
import { encodeAddress, generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { startDenoRelay } from "../edge/deno.ts";
import { readKeyFile } from "../full-node/keyfile.ts";
import {
  HeaderChain,
  type HeaderChange,
  headerChange,
  type HeaderStore,
  MemoryHeaderStore,
  restoreHeaderChain,
} from "../protocol/header_chain.ts";
import { fileHeaderStore, kvHeaderStore } from "../light-client/storage_deno.ts";
import { TestChain } from "./helpers/chain.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = new URL("../light-client/cli.ts", import.meta.url).pathname;
/** Generous: two cores shared with other test runs; nothing here asserts a duration. */
const LONG = 180_000;
const INTEGRATION = { sanitizeOps: false, sanitizeResources: false };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is. */
  json: Record<string, unknown> | undefined;
}

/** Run `deno run -A <script> ...args` from the repository root; killed if it outlives LONG. */
async function runScript(script: string, args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(LONG),
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code: out.code, stdout, stderr: new TextDecoder().decode(out.stderr), json };
}

function light(...args: string[]): Promise<Run> {
  return runScript(CLI, args);
}

function describe(r: Run): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** Exit 0 with a JSON object on stdout. */
function ok(r: Run): Record<string, unknown> {
  assert.equal(r.code, 0, describe(r));
  assert.ok(r.json !== undefined, `stdout is one JSON object: ${describe(r)}`);
  return r.json;
}

/** A command-line mistake: exit 2, nothing on stdout, one `error:` line naming the problem. */
function usageError(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 2, describe(r));
  assert.equal(r.stdout, "", describe(r));
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr: ${describe(r)}`);
  assert.match(lines[0], /^error: /);
  assert.match(lines[0], pattern);
}

interface AccountJson {
  balance: string;
  nonce: string;
  height: number;
}

interface BlockJson {
  hash: string;
  height: number;
  mainChain: boolean;
  header: Record<string, unknown>;
  headerHex: string;
  txs: { txid: string; kind: string; recipient: string; amount: string }[];
}

/**
 * Run `light balance ADDRESS` until its answer is at a height the node was also read at (the
 * node is read just before and just after), then compare with the node's balance there.
 */
async function balanceAgrees(node: NodeProcess, ws: string, address: string): Promise<Record<string, unknown>> {
  return await waitFor(async () => {
    const before = await node.get<AccountJson>(`/account/${address}`);
    const r = await light("balance", address, "--relay", ws, "--network", "regtest");
    const after = await node.get<AccountJson>(`/account/${address}`);
    const json = ok(r);
    const same = [before, after].find((n) => n.height === json.height);
    if (same === undefined) return undefined;
    assert.equal(json.balanceUnits, same.balance, `balance at height ${same.height}: ${describe(r)}`);
    assert.equal(json.nonce, same.nonce, `nonce at height ${same.height}`);
    return json;
  }, { timeoutMs: LONG, what: `the CLI's and the node's balance of ${address} at one height` });
}

/** Whether util-linux `script` (runs a command on a pseudo-terminal) is here. */
function hasScript(): boolean {
  try {
    return Deno.build.os === "linux" && Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
}

/** A port nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test(
  "deno task light answers agree with a mining node through a relay; bad input exits 2, no relay exits 1",
  INTEGRATION,
  async (t) => {
    const relay = await startDenoRelay({ params: REGTEST, hostname: "127.0.0.1", port: 0, quiet: true });
    const ws = `ws://127.0.0.1:${relay.port}/ws`;
    const dir = await Deno.makeTempDir({ prefix: "edgeledger-light-cli-" });
    let node: NodeProcess | undefined;
    try {
      node = await startNode({ connect: [ws], args: ["--pace-ms", "2000"] });
      const n = node;
      await waitFor(async () => (await n.status()).height >= 4, { timeoutMs: LONG, what: "height 4" });
      const miner = encodeAddress((await readKeyFile(`${n.dataDir}/miner.key`)).publicKey, REGTEST.addressPrefix);
      // The relay learns the chain from the node; wait until it serves headers before asking.
      await waitFor(() => relay.hub.headers.height >= 4, { timeoutMs: LONG, what: "the relay's header cache" });

      await t.step("--help for the command and each subcommand", async () => {
        const top = await light("--help");
        assert.equal(top.code, 0, describe(top));
        assert.match(top.stdout, /Usage: deno task light <command>/);
        for (const command of ["tip", "tx", "balance", "header", "sync"]) {
          const r = await light(command, "--help");
          assert.equal(r.code, 0, describe(r));
          assert.match(r.stdout, new RegExp(`Usage: deno task light ${command}\\b`));
          assert.match(r.stdout, /--relay URL/);
        }
      });

      await t.step("tip is the node's block at that height", async () => {
        const json = ok(await light("tip", "--relay", ws, "--network", "regtest"));
        assert.equal(json.network, "regtest");
        assert.ok(typeof json.height === "number" && json.height >= 4, JSON.stringify(json));
        assert.match(String(json.work), /^\d+$/);
        const block = await n.get<BlockJson>(`/block/${json.height}`);
        assert.equal(json.hash, block.hash);
        assert.equal(json.time, block.header.time);
      });

      await t.step("balance equals the node's /account at the same height", async () => {
        const json = await balanceAgrees(n, ws, miner);
        assert.equal(json.address, miner);
        assert.equal(json.network, "regtest");
        assert.equal(json.exists, true);
        assert.match(String(json.balance), /^\d+(\.\d+)?$/);
        assert.equal(BigInt(String(json.balanceUnits)) % 100_000_000n === 0n, !String(json.balance).includes("."));
      });

      await t.step("balance of an address that never received anything is proven 0", async () => {
        const nobody = encodeAddress(publicKeyFromSecret(generateSecretKey()), REGTEST.addressPrefix);
        const json = ok(await light("balance", nobody, "--relay", ws, "--network", "regtest"));
        assert.equal(json.balance, "0");
        assert.equal(json.balanceUnits, "0");
        assert.equal(json.exists, false);
      });

      await t.step("tx: the coinbase of block 1 is confirmed in block 1", async () => {
        const block = await n.get<BlockJson>("/block/1");
        const coinbase = block.txs[0];
        assert.equal(coinbase.kind, "coinbase");
        const json = ok(await light("tx", coinbase.txid.toUpperCase(), "--relay", ws, "--network", "regtest"));
        assert.equal(json.txid, coinbase.txid);
        assert.equal(json.confirmed, true);
        assert.equal(json.height, 1);
        assert.equal(json.blockHash, block.hash);
        assert.ok(typeof json.confirmations === "number" && json.confirmations >= 4, JSON.stringify(json));
        const tx = json.tx as Record<string, unknown>;
        assert.equal(tx.kind, "coinbase");
        assert.equal(tx.recipient, miner);
        assert.equal(tx.amountUnits, coinbase.amount);
      });

      await t.step("tx: an unknown transaction is reported unconfirmed with exit 3", async () => {
        const r = await light("tx", "ab".repeat(32), "--relay", ws, "--network", "regtest");
        assert.equal(r.code, 3, describe(r));
        assert.equal(r.json?.confirmed, false);
        assert.equal(r.json?.confirmations, 0);
      });

      await t.step("header HEIGHT equals the node's /block/HEIGHT", async () => {
        for (const height of [0, 1, 3]) {
          const json = ok(await light("header", String(height), "--relay", ws, "--network", "regtest"));
          const block = await n.get<BlockJson>(`/block/${height}`);
          assert.equal(json.height, height);
          assert.equal(json.hash, block.hash);
          assert.deepEqual(json.header, block.header);
          assert.equal(json.headerHex, block.headerHex);
        }
      });

      await t.step("--checkpoint: an old header is proven through history, a wrong hash is caught", async () => {
        const cp = await n.get<BlockJson>("/block/3");
        const json = ok(
          await light("header", "1", "--relay", ws, "--network", "regtest", "--checkpoint", `3:${cp.hash}`),
        );
        const block = await n.get<BlockJson>("/block/1");
        assert.equal(json.hash, block.hash);
        assert.deepEqual(json.header, block.header);

        const wrong = await n.get<BlockJson>("/block/2");
        const r = await light("tip", "--relay", ws, "--network", "regtest", "--checkpoint", `3:${wrong.hash}`);
        assert.equal(r.code, 1, describe(r));
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /^error: checkpoint: /);
      });

      await t.step("header above the verified tip is a runtime error", async () => {
        const r = await light("header", "99999999", "--relay", ws, "--network", "regtest");
        assert.equal(r.code, 1, describe(r));
        assert.match(r.stderr, /^error: height 99999999 is above the verified tip \d+/);
      });

      await t.step("sync --store keeps headers; a second run starts from them", async () => {
        const store = `${dir}/headers.json`;
        const run = await light("sync", "--relay", ws, "--network", "regtest", "--store", store);
        const first = ok(run);
        assert.equal(first.startHeight, 0);
        assert.ok(typeof first.height === "number" && first.height >= 4);
        assert.doesNotMatch(run.stderr, /headers \[/, "no progress bar when stderr is not a terminal");
        const saved = JSON.parse(await Deno.readTextFile(store));
        assert.ok(Array.isArray(saved.headers) && saved.headers.length >= first.height, `${saved.headers.length}`);
        const second = ok(await light("sync", "--relay", ws, "--network", "regtest", "--store", store));
        assert.ok(Number(second.startHeight) >= Number(first.height), `${second.startHeight} < ${first.height}`);
        assert.ok(Number(second.height) >= Number(first.height));
        const block = await n.get<BlockJson>(`/block/${second.height}`);
        assert.equal(second.hash, block.hash);
        // Other commands use the store too.
        const tip = ok(await light("tip", "--relay", ws, "--network", "regtest", "--store", store));
        assert.ok(Number(tip.height) >= Number(second.height));
      });

      await t.step({
        name: "sync draws a progress bar when stderr is a terminal",
        ignore: !hasScript(),
        fn: async () => {
          // util-linux `script` runs the command on a pseudo-terminal.
          const command = [Deno.execPath(), "run", "-A", CLI, "sync", "--relay", ws, "--network", "regtest"]
            .map((a) => `'${a}'`).join(" ");
          const out = await new Deno.Command("script", {
            args: ["-qefc", command, "/dev/null"],
            cwd: ROOT,
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
            signal: AbortSignal.timeout(LONG),
            env: { NO_COLOR: "1" },
          }).output();
          const text = new TextDecoder().decode(out.stdout);
          assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
          assert.match(text, /headers \[#+\] \d+\/\d+ 100%/);
          assert.match(text, /"height": \d+/);
        },
      });

      await t.step("bad input exits 2 with a one-line message", async () => {
        const devnetAddress = encodeAddress(publicKeyFromSecret(generateSecretKey()), DEVNET.addressPrefix);
        const badChecksum = miner.slice(0, -1) + (miner.endsWith("q") ? "p" : "q");
        const cases: [string[], RegExp][] = [
          [[], /missing command/],
          [["frobnicate", "--relay", ws], /unknown command "frobnicate"/],
          [["--relay", ws], /expected a command/],
          [["tip"], /missing --relay/],
          [["tip", "--relay", "http://127.0.0.1:1/ws"], /--relay: .* is not a ws:\/\/ or wss:\/\/ URL/],
          [["tip", "--relay", ws, "--network", "mainnet"], /--network/],
          [["tip", "--relay", ws, "--bogus"], /bogus/],
          [["tip", "extra", "--relay", ws], /unexpected argument "extra"/],
          [["tip", "--relay", ws, "--checkpoint", "5:xyz"], /--checkpoint: expected HEIGHT:HASH/],
          [["tip", "--relay", ws, "--checkpoint", "ab".repeat(32)], /--checkpoint/],
          [["tx", "--relay", ws], /missing TXID/],
          [["tx", "abc", "--relay", ws], /TXID: expected 64 hex digits/],
          [["tx", "g".repeat(64), "--relay", ws], /TXID: expected 64 hex digits/],
          [["balance", "--relay", ws], /missing ADDRESS/],
          [["balance", "elr1qqqq", "--relay", ws, "--network", "regtest"], /ADDRESS: /],
          [["balance", "not an address", "--relay", ws, "--network", "regtest"], /ADDRESS: /],
          [["balance", badChecksum, "--relay", ws, "--network", "regtest"], /ADDRESS: .*checksum/i],
          [["balance", devnetAddress, "--relay", ws, "--network", "regtest"], /devnet address, not regtest/],
          [["balance", miner, "--relay", ws], /regtest address, not devnet/],
          [["header", "abc", "--relay", ws], /HEIGHT: expected a block height/],
          [["header", "1.5", "--relay", ws], /HEIGHT: expected a block height/],
          [["header", "99999999999", "--relay", ws], /HEIGHT: expected a block height/],
          [["tip", "--relay", ws, "--timeout", "0"], /--timeout/],
        ];
        const failures: string[] = [];
        for (const [args, pattern] of cases) {
          const r = await light(...args);
          try {
            usageError(r, pattern);
          } catch (err) {
            failures.push(`${JSON.stringify(args).replaceAll(ws, "WS")}: ${(err as Error).message}`);
          }
        }
        assert.deepEqual(failures, []);
      });

      await t.step("no relay reachable exits 1", async () => {
        const port = closedPort();
        const r = await light("tip", "--relay", `ws://127.0.0.1:${port}/ws`, "--network", "regtest", "--timeout", "2");
        assert.equal(r.code, 1, describe(r));
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /^error: no relay answered: ws:\/\/127\.0\.0\.1:\d+\/ws/);
        assert.equal(r.stderr.trim().split("\n").length, 1);
      });

      await t.step("relay on another network exits 1", async () => {
        const r = await light("tip", "--relay", ws, "--network", "devnet", "--timeout", "3");
        assert.equal(r.code, 1, describe(r));
        assert.match(r.stderr, /^error: no relay answered: .*(wrong network|relay is on regtest, not devnet)/);
      });

      await t.step("examples: send a payment, check it, watch the address", async () => {
        const to = encodeAddress(publicKeyFromSecret(generateSecretKey()), REGTEST.addressPrefix);
        const key = `${n.dataDir}/miner.key`;
        const sent = await runScript("examples/send_payment.ts", [
          "--relay",
          ws,
          "--network",
          "regtest",
          "--key",
          key,
          "--to",
          to,
          "--amount",
          "1.5",
        ]);
        const payment = ok(sent);
        assert.match(String(payment.txid), /^[0-9a-f]{64}$/);
        assert.equal(payment.amount, "1.5");
        assert.ok(typeof payment.height === "number" && payment.height > 0, describe(sent));

        const checked = ok(
          await runScript("examples/check_payment.ts", ["--relay", ws, "--network", "regtest", String(payment.txid)]),
        );
        assert.equal(checked.confirmed, true);
        assert.equal(checked.height, payment.height);
        assert.equal(checked.to, to);
        assert.equal(checked.amount, "1.5");
        const tx = await n.get<{ status: string; height: number }>(`/tx/${payment.txid}`);
        assert.equal(tx.status, "confirmed");
        assert.equal(tx.height, payment.height);

        const balance = await balanceAgrees(n, ws, to);
        assert.equal(balance.balance, "1.5");

        // watch_address prints the verified balance first thing, then runs until stopped.
        const watcher = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "examples/watch_address.ts", "--relay", ws, "--network", "regtest", to],
          cwd: ROOT,
          stdin: "null",
          stdout: "piped",
          stderr: "null",
        }).spawn();
        try {
          const reader = watcher.stdout.pipeThrough(new TextDecoderStream()).getReader();
          let text = "";
          const deadline = setTimeout(() => watcher.kill("SIGKILL"), LONG);
          try {
            while (!text.includes("\n")) {
              const { value, done } = await reader.read();
              if (done) throw new Error(`watch_address exited without printing a line: ${text}`);
              text += value;
            }
          } finally {
            clearTimeout(deadline);
          }
          const first = JSON.parse(text.split("\n")[0]);
          assert.equal(first.address, to);
          assert.equal(first.balance, "1.5");
          reader.releaseLock();
        } finally {
          try {
            watcher.kill("SIGKILL");
          } catch {
            // already exited
          }
          await watcher.status;
          await watcher.stdout.cancel().catch(() => {});
        }

        const unconfirmed = await runScript("examples/check_payment.ts", [
          "--relay",
          ws,
          "--network",
          "regtest",
          "--confirmations",
          "1000000",
          String(payment.txid),
        ]);
        assert.equal(unconfirmed.code, 3, describe(unconfirmed));
      });
    } finally {
      await node?.kill("SIGKILL");
      await relay.stop();
      if (node !== undefined) await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test("fileHeaderStore and kvHeaderStore save what MemoryHeaderStore saves: appends, a moved base, a shorter tip", async (t) => {
  const test = new TestChain(REGTEST);
  const miner = publicKeyFromSecret(generateSecretKey());
  for (let i = 0; i < 20; i++) test.mine({ miner });
  const now = test.tip.time + 60_000;
  const headers = test.blocks.map((b) => b.header);

  // The changes a client writes: 1..10, then 11..20 one at a time (with the overlap), then a
  // chain restarted from a checkpoint at 8 (the base moves), then a tip cut back to 15.
  const full = new HeaderChain({ params: REGTEST });
  const changes: HeaderChange[] = [];
  for (const h of headers.slice(1, 11)) full.add(h, now);
  changes.push(headerChange(full, 0, 0));
  for (const h of headers.slice(11)) {
    const before = full.height;
    full.add(h, now);
    changes.push(headerChange(full, before, 0));
  }
  const moved = new HeaderChain({ params: REGTEST, checkpoint: full.checkpoint(full.atHeight(8)!) });
  for (const h of headers.slice(9)) moved.add(h, now);
  changes.push(headerChange(moved, 20, -1));
  const cut = changes[changes.length - 1];
  changes.push({ from: 15, headers: [cut.headers[15 - cut.from]], tip: 15 });

  async function check(store: HeaderStore): Promise<void> {
    assert.equal(await store.load(), undefined, "nothing saved yet");
    const memory = new MemoryHeaderStore();
    for (const [i, change] of changes.entries()) {
      await memory.write(change);
      await store.write(change);
      assert.deepEqual(await store.load(), await memory.load(), `after change ${i}`);
    }
    const saved = await store.load();
    assert.equal(saved?.headers.length, 7, "headers 9..15 after the base at 8");
    const { chain } = restoreHeaderChain(saved, { params: REGTEST, now });
    assert.equal(chain.height, 15);
    assert.equal(chain.base.height, 8);
    assert.equal(chain.tip.hex, full.atHeight(15)!.hex);
  }

  const dir = await Deno.makeTempDir({ prefix: "edgeledger-light-store-" });
  try {
    await t.step("fileHeaderStore (JSON file, atomic replace)", async () => {
      const path = `${dir}/nested/headers.json`;
      await check(fileHeaderStore(path));
      const json = JSON.parse(await Deno.readTextFile(path));
      assert.deepEqual(Object.keys(json).sort(), ["base", "headers"]);
      assert.deepEqual([...Deno.readDirSync(`${dir}/nested`)].map((e) => e.name), ["headers.json"], "no temp files");
      await Deno.writeTextFile(`${dir}/bad.json`, "{ not json");
      await assert.rejects(fileHeaderStore(`${dir}/bad.json`).load(), /bad\.json is not JSON/);
    });
    await t.step({
      name: "kvHeaderStore (Deno KV; needs --unstable-kv)",
      ignore: typeof Deno.openKv !== "function",
      fn: async () => {
        const kv = await Deno.openKv(`${dir}/headers.kv`);
        try {
          await check(kvHeaderStore(kv, "regtest"));
        } finally {
          kv.close();
        }
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
