/**
 * `deno task node` as a user runs it: real subprocesses of full-node/main.ts with real
 * SQLite files, ports and signals. Help and flag errors, the status line, clean shutdown on
 * SIGINT, restarting on the same data directory, refusing corrupted state until `--reindex`,
 * and an outbound peer that reconnects by itself after the node it dials restarts.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { parseNodeArgs } from "../full-node/main.ts";
import { agreedTip, getJson, stopNodes } from "./helpers/node_client.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";

const MAIN = new URL("../full-node/main.ts", import.meta.url).pathname;
/** Generous: the machine is shared and slow; nothing here asserts a duration. */
const LONG = 120_000;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run main.ts with `args` to completion (killed after `timeoutMs`, which fails the caller). */
async function cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, timeoutMs);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    const result = { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
    if (timedOut) throw new Error(`main.ts ${args.join(" ")} still ran after ${timeoutMs} ms:\n${result.stderr}`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

interface Status {
  height: number;
  tipHash: string;
  stateRoot: string;
  peers: number;
}

function status(node: NodeProcess): Promise<Status> {
  return getJson<Status>(node, "/status");
}

async function blockHash(node: NodeProcess, height: number): Promise<string> {
  return (await getJson<{ hash: string }>(node, `/block/${height}`)).hash;
}

/** Tip height and hash stored in a stopped node's database. */
function storedTip(dataDir: string): { height: number; hash: string } {
  const db = new DatabaseSync(`${dataDir}/chain.sqlite`);
  try {
    const row = db.prepare(
      "SELECT height, hex(hash) AS hash FROM headers WHERE hash = (SELECT value FROM meta WHERE key = 'tip')",
    ).get() as { height: number; hash: string };
    return { height: Number(row.height), hash: row.hash.toLowerCase() };
  } finally {
    db.close();
  }
}

/** Wait until `node` has mined at least `height` blocks. */
function reachHeight(node: NodeProcess, height: number, what = `height >= ${height}`): Promise<Status> {
  return waitFor(async () => {
    const s = await status(node);
    return s.height >= height ? s : undefined;
  }, { timeoutMs: LONG, what });
}

Deno.test("node --help exits 0 and explains every flag", async () => {
  for (const flag of ["--help", "-h"]) {
    const { code, stdout } = await cli([flag]);
    assert.equal(code, 0);
    for (
      const documented of [
        "--network",
        "devnet",
        "regtest",
        "--data-dir",
        "--listen",
        "--connect",
        "ws://",
        "wss://",
        "--no-mine",
        "--miner-key",
        "--threads",
        "--log-level",
        "--reindex",
        "--help",
      ]
    ) {
      assert.ok(stdout.includes(documented), `${flag} output mentions ${documented}`);
    }
  }
});

Deno.test("node --help also explains the flags the parser accepts beyond the issue's list", async () => {
  // parseNodeArgs() accepts these; `--help` must explain every flag the node takes.
  const extra = { "--pace-ms": ["--pace-ms", "500"], "--ban-loopback": ["--ban-loopback"] };
  const { stdout } = await cli(["--help"]);
  for (const [flag, args] of Object.entries(extra)) {
    assert.notEqual(parseNodeArgs(args), "help");
    assert.ok(stdout.includes(flag), `--help does not mention ${flag}, which the node accepts`);
  }
});

Deno.test("node exits 2 with a one-line error for every bad flag or value", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "edgeledger-cli-" });
  // A safe data directory and port in case a bad flag were accepted by mistake.
  const safe = ["--data-dir", dataDir, "--no-mine"];
  const cases: [string[], RegExp][] = [
    [["--threads", "0"], /--threads/],
    [["--threads", "x"], /--threads/],
    [["--threads", "1.5"], /--threads/],
    [["--threads", "257"], /--threads/],
    [["--threads"], /threads/],
    [["--listen", "nope"], /--listen/],
    [["--listen", "127.0.0.1:70000"], /--listen/],
    [["--listen", ":7700"], /--listen/],
    [["--network", "mainnet"], /--network/],
    [["--connect", "http://x"], /--connect/],
    [["--connect", "not a url"], /--connect/],
    [["--log-level", "loud"], /--log-level/],
    [["--bogus"], /bogus/],
    [["positional"], /positional|argument/i],
  ];
  try {
    for (const [args, mentions] of cases) {
      const withSafe = args[0] === "--listen" ? [...safe, ...args] : [...safe, "--listen", "127.0.0.1:0", ...args];
      const { code, stdout, stderr } = await cli(withSafe);
      const label = args.join(" ");
      assert.equal(code, 2, `${label}: exit code (stderr: ${stderr})`);
      assert.equal(stdout, "", `${label}: nothing on stdout`);
      const lines = stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${label}: one line, got ${JSON.stringify(stderr)}`);
      assert.match(lines[0], /^error: /, label);
      assert.match(lines[0], mentions, label);
    }
    // Nothing was created for a refused command line.
    const entries = [];
    for await (const e of Deno.readDir(dataDir)) entries.push(e.name);
    assert.deepEqual(entries, []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a regtest node prints status lines and mined blocks, stops cleanly on SIGINT and restarts at its height", async () => {
  let node: NodeProcess | undefined;
  let again: NodeProcess | undefined;
  try {
    node = await startNode();
    const n = node;
    // The status line comes every 5 s.
    await waitFor(() => /height \d+ .*peers \d+ .*mempool \d+/.test(n.log()), {
      timeoutMs: LONG,
      what: "a status line",
    });
    await waitFor(() => /mined block \d+/.test(n.log()), { timeoutMs: LONG, what: "a mined block line" });
    const reached = await reachHeight(n, 3);
    const hashAtReached = await blockHash(n, reached.height);
    assert.equal(await n.kill("SIGINT"), 0);
    await waitFor(() => n.log().includes("stopped"), { timeoutMs: 10_000, what: '"stopped" in the log' });
    assert.doesNotMatch(n.log(), /\berror\b/i);
    const stopped = storedTip(n.dataDir);
    assert.ok(stopped.height >= reached.height);

    again = await startNode({ dataDir: n.dataDir });
    const s = await status(again);
    assert.ok(s.height >= stopped.height, `restarted at ${s.height}, below ${stopped.height}`);
    assert.equal(await blockHash(again, stopped.height), stopped.hash, "the same chain continues");
    assert.equal(await blockHash(again, reached.height), hashAtReached);
    await reachHeight(again, stopped.height + 1, "mining continues after the restart");
    assert.equal(await again.kill("SIGINT"), 0);
    const a = again;
    await waitFor(() => a.log().includes("stopped"), { timeoutMs: 10_000, what: '"stopped" after the restart' });
  } finally {
    await stopNodes([node, again]);
  }
});

Deno.test("a node whose state was corrupted while stopped refuses to start, naming --reindex; --reindex repairs it", async () => {
  let node: NodeProcess | undefined;
  let repaired: NodeProcess | undefined;
  try {
    node = await startNode();
    const n = node;
    await reachHeight(n, 4);
    assert.equal(await n.kill("SIGINT"), 0);
    const stopped = storedTip(n.dataDir);
    const db = new DatabaseSync(`${n.dataDir}/chain.sqlite`);
    try {
      db.exec("UPDATE meta SET value = zeroblob(32) WHERE key = 'smtRoot'");
    } finally {
      db.close();
    }

    const refused = await cli(["--network", "regtest", "--data-dir", n.dataDir, "--listen", "127.0.0.1:0"]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^error: .*--reindex/m);
    assert.doesNotMatch(refused.stderr, /listening/);
    assert.deepEqual(storedTip(n.dataDir), stopped, "a refused start changes nothing");

    repaired = await startNode({ dataDir: n.dataDir, args: ["--reindex"] });
    const s = await status(repaired);
    assert.ok(s.height >= stopped.height, `reindexed to ${s.height}, below ${stopped.height}`);
    assert.equal(await blockHash(repaired, stopped.height), stopped.hash);
    assert.equal(await repaired.kill("SIGINT"), 0);
    // And it starts normally afterwards.
    repaired = await startNode({ dataDir: n.dataDir, mine: false });
    assert.ok((await status(repaired)).height >= stopped.height);
  } finally {
    await stopNodes([node, repaired]);
  }
});

/** Restart a node on `port`, retrying while the port is still held by the killed process. */
async function restartOn(dataDir: string, port: number): Promise<NodeProcess> {
  let last: unknown;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      return await startNode({ dataDir, port });
    } catch (err) {
      last = err;
      if (!/in use/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  throw last;
}

Deno.test("an outbound peer reconnects by itself after the node it dials is killed and restarted on the same port", async () => {
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  try {
    a = await startNode();
    const port = a.port;
    const dataDir = a.dataDir;
    b = await startNode({ connect: [a.wsUrl] });
    const nodes = () => [a!, b!];
    await waitFor(async () => (await status(b!)).peers >= 1 && (await status(a!)).peers >= 1, {
      timeoutMs: LONG,
      what: "B connected to A",
    });
    const first = await waitFor(async () => {
      const tip = await agreedTip(nodes());
      return tip !== undefined && tip.height >= 3 ? tip : undefined;
    }, { timeoutMs: LONG, what: "A and B on one tip" });

    a.child.kill("SIGKILL");
    await a.exited;
    await waitFor(async () => (await status(b!)).peers === 0, { timeoutMs: LONG, what: "B notices A is gone" });

    // A comes back on the same port without --connect: only B can re-establish the link.
    a = await restartOn(dataDir, port);
    assert.equal(a.port, port);
    await waitFor(async () => (await status(b!)).peers >= 1 && (await status(a!)).peers >= 1, {
      timeoutMs: LONG,
      what: "B reconnected to the restarted A",
    });
    const second = await waitFor(async () => {
      const tip = await agreedTip(nodes());
      return tip !== undefined && tip.height > first.height ? tip : undefined;
    }, { timeoutMs: LONG, what: "A and B on one tip again" });
    assert.ok(second.height > first.height);
    // B's log shows the handshake with A's URL twice: before and after the restart.
    const ready = b.log().split("\n").filter((l) => l.includes(`ws://127.0.0.1:${port}/ws ready`));
    assert.ok(ready.length >= 2, `B's handshakes with A: ${ready.length}`);
  } finally {
    await stopNodes([a, b]);
  }
});
