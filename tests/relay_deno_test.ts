/**
 * The Deno relay (edge/deno.ts) as a real subprocess: the shared relay suite, federation of
 * relays with `--upstream` (a node on each; three relays in a loop), and the command line.
 */

import assert from "node:assert/strict";
import { bytesToHex } from "../protocol/bytes.ts";
import { encodeHeader } from "../protocol/header.ts";
import { encodeAddress, generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import type { MessageOf } from "../protocol/messages.ts";
import { REGTEST } from "../protocol/params.ts";
import { TestChain } from "./helpers/chain.ts";
import { agreedTip, minerKey, stopNodes } from "./helpers/node_client.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";
import { RawPeer } from "./helpers/raw_peer.ts";
import { relayStatus, relaySuite } from "./helpers/relay_suite.ts";

const RELAY_MAIN = new URL("../edge/deno.ts", import.meta.url).pathname;
const LONG = 120_000;

/** A relay subprocess (`deno run -A edge/deno.ts`). */
interface RelayProcess {
  /** HTTP base URL. */
  url: string;
  /** WebSocket endpoint. */
  wsUrl: string;
  /** What it wrote to stderr. */
  log(): string;
  /** SIGTERM (SIGKILL after 10 s) and wait for the exit. */
  stop(): Promise<void>;
}

/** Start `edge/deno.ts --network regtest --listen 127.0.0.1:0 ...args` and wait until it listens. */
async function startRelayProcess(args: string[] = [], denoFlags: string[] = []): Promise<RelayProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, RELAY_MAIN, "--network", "regtest", "--listen", "127.0.0.1:0", ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const { promise: listening, resolve, reject } = Promise.withResolvers<number>();
  const reader = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    }
    reject(new Error(`relay exited before listening:\n${text}`));
  })();
  const kill = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }, 10_000);
    try {
      await child.status;
      await reader.catch(() => {});
    } finally {
      clearTimeout(timer);
    }
  };
  const timer = setTimeout(() => reject(new Error(`relay did not start in 60 s:\n${text}`)), 60_000);
  let port: number;
  try {
    port = await listening;
  } catch (err) {
    await kill();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    log: () => text,
    stop: kill,
  };
}

relaySuite("deno relay", async () => {
  const relay = await startRelayProcess();
  return { wsUrl: relay.wsUrl, httpUrl: relay.url, stop: () => relay.stop() };
});

// ---- federation --------------------------------------------------------------------------

/** Hex of every header announced to `peer` (unsolicited `headers`), repeats included. */
function announcedHeaders(peer: RawPeer): string[] {
  return peer.messages("headers").filter((m) => m.id === undefined).flatMap((m) => m.headers);
}

function repeats(items: string[]): string[] {
  const seen = new Set<string>();
  return items.filter((x) => seen.has(x) || !seen.add(x));
}

Deno.test({
  name: "deno relay: two relays federated with --upstream, a node on each: blocks cross both ways, nothing loops",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    let r1: RelayProcess | undefined;
    let r2: RelayProcess | undefined;
    let a: NodeProcess | undefined;
    let b: NodeProcess | undefined;
    const watchers: RawPeer[] = [];
    try {
      r1 = await startRelayProcess();
      r2 = await startRelayProcess(["--upstream", r1.wsUrl]);
      const [s1, s2] = [r1, r2];
      await waitFor(async () => {
        const [x, y] = await Promise.all([relayStatus(s1.url), relayStatus(s2.url)]);
        return x.connections.relay === 1 && y.connections.relay === 1;
      }, { timeoutMs: LONG, what: "the two relays to shake hands" });
      // Light watchers on both relays record every header announcement they get.
      for (const r of [s1, s2]) {
        const w = await RawPeer.connect(r.wsUrl, { hello: { role: "light", agent: "watcher" } });
        watchers.push(w);
        await w.ready;
      }
      a = await startNode({ connect: [s1.wsUrl] });
      b = await startNode({ connect: [s2.wsUrl] });
      const nodes = [a, b];
      const addresses = (await Promise.all(nodes.map(minerKey))).map((k) =>
        encodeAddress(k.publicKey, REGTEST.addressPrefix)
      );
      const tip = await waitFor(async () => {
        const tip = await agreedTip(nodes);
        if (tip === undefined || tip.height < 4) return undefined;
        const recipients = new Set<string>();
        for (let h = 1; h <= tip.height; h++) {
          recipients.add((await nodes[0].get<{ txs: { recipient: string }[] }>(`/block/${h}`)).txs[0].recipient);
        }
        return addresses.every((x) => recipients.has(x)) ? tip : undefined;
      }, { timeoutMs: LONG * 2, intervalMs: 500, what: "one tip holding blocks of both miners" });
      for (const node of nodes) assert.equal((await node.status()).peers, 1, "each node knows only its relay");

      // Nothing loops: traffic grows with the chain, not on its own. Measure over >= 5 blocks.
      const before = await Promise.all([relayStatus(s1.url), relayStatus(s2.url)]);
      const h0 = tip.height;
      const h1 = await waitFor(async () => {
        const t = await agreedTip(nodes);
        return t !== undefined && t.height >= h0 + 5 ? t.height : undefined;
      }, { timeoutMs: LONG, intervalMs: 500, what: "five more blocks" });
      const after = await Promise.all([relayStatus(s1.url), relayStatus(s2.url)]);
      for (let i = 0; i < 2; i++) {
        const perBlock = (after[i].messagesOut - before[i].messagesOut) / (h1 - h0);
        // Per block a relay sends a handful of frames (announce, getblock, block, inv): far below 100.
        assert.ok(perBlock < 100, `relay ${i + 1} sent ${perBlock.toFixed(1)} frames per block`);
        assert.ok(after[i].bestHeader.height >= h0, `relay ${i + 1} follows the chain`);
      }
      // No duplicate deliveries: every header was announced at most once to each watcher.
      for (const [i, w] of watchers.entries()) {
        const all = announcedHeaders(w);
        assert.ok(all.length >= 1, `watcher ${i + 1} heard announcements`);
        assert.deepEqual(repeats(all), [], `watcher ${i + 1} got a header twice`);
      }
    } finally {
      await Promise.all(watchers.map((w) => w.close()));
      await stopNodes([a, b]);
      await Promise.all([r2?.stop(), r1?.stop()]);
    }
  },
});

Deno.test({
  name: "deno relay: three relays federated in a loop deliver each announcement once to every client and go quiet",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const relays: RelayProcess[] = [];
    const peers: RawPeer[] = [];
    try {
      relays.push(await startRelayProcess());
      relays.push(await startRelayProcess(["--upstream", relays[0].wsUrl]));
      relays.push(await startRelayProcess(["--upstream", relays[0].wsUrl, "--upstream", relays[1].wsUrl]));
      await waitFor(async () => {
        const s = await Promise.all(relays.map((r) => relayStatus(r.url)));
        return s.every((x) => x.connections.relay === 2);
      }, { timeoutMs: LONG, what: "a triangle of relay connections" });

      const chain = new TestChain();
      const miner = publicKeyFromSecret(generateSecretKey());
      for (let i = 0; i < 5; i++) chain.mine({ miner });
      const publisher = await RawPeer.connect(relays[0].wsUrl, { chain, hello: { height: 0 } });
      peers.push(publisher);
      await publisher.ready;
      const observers: RawPeer[] = [];
      for (const r of relays) {
        // Node-role observers hear inv and headers; light ones only new best headers.
        for (const role of ["node", "light"] as const) {
          const o = await RawPeer.connect(r.wsUrl, { hello: { role, height: 0, agent: `observer-${role}` } });
          peers.push(o);
          observers.push(o);
          observerRoles.set(o, role);
          await o.ready;
        }
      }
      const txids = Array.from({ length: 20 }, (_, i) => (0xabc000 + i).toString(16).padStart(64, "0"));
      const headers = chain.blocks.slice(1).map((b) => bytesToHex(encodeHeader(b.header)));
      for (let i = 0; i < 5; i++) publisher.send({ type: "headers", headers: [headers[i]] });
      for (const txid of txids) publisher.send({ type: "inv", txs: [txid] });

      await waitFor(() => {
        for (const o of observers) {
          if (announcedHeaders(o).length < 5) return false;
          if (isNodeObserver(o) && invTxids(o).length < 20) return false;
        }
        return true;
      }, { timeoutMs: LONG, what: "every observer to hear every announcement" });
      await waitFor(async () => {
        const s = await Promise.all(relays.map((r) => relayStatus(r.url)));
        return s.every((x) => x.bestHeader.height === 5);
      }, { timeoutMs: LONG, what: "every relay at height 5" });

      // Quiet: no frames move once the announcements have spread.
      const quiet = await waitFor(async () => {
        const a = await Promise.all(relays.map((r) => relayStatus(r.url)));
        await new Promise((r) => setTimeout(r, 2_000));
        const b = await Promise.all(relays.map((r) => relayStatus(r.url)));
        return a.every((x, i) => x.messagesOut === b[i].messagesOut) ? b : undefined;
      }, { timeoutMs: LONG, what: "the relays to go quiet" });
      for (const [i, s] of quiet.entries()) {
        // 5 headers + 20 invs to at most 2 relays and 2 observers (+ the publisher's relay), plus handshakes.
        assert.ok(s.messagesOut < 25 * 5 + 50, `relay ${i + 1} sent ${s.messagesOut} frames`);
      }
      for (const o of observers) {
        assert.deepEqual(announcedHeaders(o), headers, "each header once, in order");
        if (isNodeObserver(o)) assert.deepEqual([...invTxids(o)].sort(), [...txids].sort(), "each inv once");
        else assert.deepEqual(invTxids(o), [], "light clients get no inv");
      }
      assert.deepEqual(announcedHeaders(publisher), [], "nothing echoed to the publisher");
      assert.deepEqual(invTxids(publisher), [], "nothing echoed to the publisher");
    } finally {
      await Promise.all(peers.map((p) => p.close()));
      await Promise.all(relays.map((r) => r.stop()));
    }
  },
});

/** Roles of the observers of the loop test. */
const observerRoles = new WeakMap<RawPeer, string>();

function isNodeObserver(peer: RawPeer): boolean {
  return observerRoles.get(peer) === "node";
}

function invTxids(peer: RawPeer): string[] {
  return peer.messages("inv").flatMap((m: MessageOf<"inv">) => m.txs ?? []);
}

// ---- Deno-only plumbing: backpressure of real sockets, the Deno KV header cache ---------------

/** One masked client text frame (RFC 6455 §5.2), for a hand-made WebSocket client. */
function clientFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  assert.ok(payload.length < 65_536);
  const head = payload.length < 126
    ? [0x81, 0x80 | payload.length]
    : [0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff];
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const out = new Uint8Array(head.length + 4 + payload.length);
  out.set(head);
  out.set(mask, head.length);
  for (let i = 0; i < payload.length; i++) out[head.length + 4 + i] = payload[i] ^ mask[i % 4];
  return out;
}

Deno.test({
  name:
    "deno relay: a subscriber that stops reading is closed once its send buffer is full; the publisher is unaffected",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const relay = await startRelayProcess();
    let slow: Deno.TcpConn | undefined;
    let publisher: RawPeer | undefined;
    try {
      const port = Number(new URL(relay.url).port);
      // A WebSocket client that completes the handshake, says hello as a node and never reads again.
      slow = await Deno.connect({ hostname: "127.0.0.1", port });
      await slow.write(new TextEncoder().encode(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ));
      const buf = new Uint8Array(1024);
      const n = await slow.read(buf);
      assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 101/);
      await slow.write(clientFrame(JSON.stringify({
        type: "hello",
        version: 1,
        network: REGTEST.name,
        genesis: REGTEST.genesisHash,
        role: "node",
        agent: "never-reads",
        height: 0,
      })));
      publisher = await RawPeer.connect(relay.wsUrl, { hello: { role: "node", agent: "publisher" } });
      await publisher.ready;
      await waitFor(async () => (await relayStatus(relay.url)).connections.node === 2, {
        timeoutMs: LONG,
        what: "both nodes connected",
      });
      // ~67 KB announcements, 100 a second (under the rate limit), until the relay gives up on
      // the reader; 2,000 of them (130 MB) would mean it never does.
      let k = 0;
      const pub = publisher;
      await waitFor(async () => {
        for (let i = 0; i < 20; i++) {
          pub.send({ type: "inv", txs: Array.from({ length: 1000 }, () => (++k).toString(16).padStart(64, "0")) });
        }
        if (k > 2_000 * 1000) throw new Error("the relay kept buffering for a reader that never reads");
        return (await relayStatus(relay.url)).connections.node === 1;
      }, { timeoutMs: LONG, intervalMs: 200, what: "the relay to close the socket that does not read" });
      assert.ok(!publisher.isClosed, "the publisher stays connected");
      await publisher.ping(LONG);
    } finally {
      try {
        slow?.close();
      } catch {
        // already closed
      }
      await publisher?.close();
      await relay.stop();
    }
  },
});

Deno.test({
  name: "deno relay: with --kv the verified header cache survives a restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "edgeledger-relay-kv-" });
    const kv = ["--kv", `${dir}/headers.kv`];
    let relay: RelayProcess | undefined;
    let peer: RawPeer | undefined;
    try {
      const chain = new TestChain();
      const miner = publicKeyFromSecret(generateSecretKey());
      for (let i = 0; i < 6; i++) chain.mine({ miner });
      relay = await startRelayProcess(kv, ["--unstable-kv"]);
      peer = await RawPeer.connect(relay.wsUrl, { chain, hello: { height: 0 } });
      await peer.ready;
      for (const block of chain.blocks.slice(1)) peer.announce(block);
      const r1 = relay;
      await waitFor(async () => (await relayStatus(r1.url)).bestHeader.height === 6, {
        timeoutMs: LONG,
        what: "the relay at height 6",
      });
      await peer.close();
      peer = undefined;
      await relay.stop();
      relay = await startRelayProcess(kv, ["--unstable-kv"]);
      const s = await relayStatus(relay.url);
      assert.equal(s.bestHeader.height, 6);
      assert.equal(s.bestHeader.hash, bytesToHex(chain.hashes[6]));
      assert.match(relay.log(), /restored 6 headers/);
    } finally {
      await peer?.close();
      await relay?.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

// ---- command line ------------------------------------------------------------------------

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", RELAY_MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deno relay CLI: --help prints usage and exits 0", async () => {
  const r = await runCli(["--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: deno task relay/);
  assert.match(r.stdout, /--upstream URL/);
});

Deno.test("deno relay CLI: a bad flag or value exits 2 with a message on stderr", async () => {
  const cases: [string, string[]][] = [
    ["unknown flag", ["--bogus"]],
    ["unknown network", ["--network", "mainnet"]],
    ["listen without a port", ["--listen", "127.0.0.1"]],
    ["port out of range", ["--listen", "127.0.0.1:70000"]],
    ["upstream that is not a WebSocket URL", ["--upstream", "http://127.0.0.1:1"]],
    ["a positional argument", ["extra"]],
  ];
  for (const [label, args] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /error/, label);
    assert.equal(r.stdout, "", label);
  }
});

Deno.test({
  name: "two relay isolates joined over BroadcastChannel act as one relay: nodes on each converge",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // Deno Deploy runs one app in several isolates; here two relays in one process stand in for
    // them: BroadcastChannel delivers between them exactly as between isolates of one app.
    const { startDenoRelay } = await import("../edge/deno.ts");
    const base = { params: REGTEST, hostname: "127.0.0.1", port: 0, quiet: true, broadcast: true };
    const one = await startDenoRelay(base);
    const two = await startDenoRelay(base);
    const nodes: NodeProcess[] = [];
    try {
      nodes.push(await startNode({ connect: [`ws://127.0.0.1:${one.port}/ws`] }));
      nodes.push(await startNode({ connect: [`ws://127.0.0.1:${two.port}/ws`], args: ["--pace-ms", "2000"] }));
      const tip = await waitFor(async () => {
        const t = await agreedTip(nodes);
        return t !== undefined && t.height >= 4 ? t : undefined;
      }, { timeoutMs: LONG, what: "nodes on different isolates to agree on a tip" });
      assert.ok(tip.height >= 4);
      assert.deepEqual(one.hub.connectionsByRole().relay, 1, "the other isolate is one relay connection");
    } finally {
      await stopNodes(nodes);
      await one.stop();
      await two.stop();
    }
  },
});
