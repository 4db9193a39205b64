/**
 * The Cloudflare relay (edge/cloudflare.ts) under `wrangler dev`, i.e. the Worker and its
 * Durable Object in a local workerd: the shared relay suite, plus what only this adapter has:
 * the bundle builds, the header cache lives in the object's SQLite storage across restarts,
 * sockets keep their state across hibernation, and upstream relays are dialled from the object.
 *
 * @module
 */

import assert from "node:assert/strict";
import { REGTEST } from "../protocol/params.ts";
import type { MessageOf } from "../protocol/messages.ts";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { TestChain } from "./helpers/chain.ts";
import { stopNodes } from "./helpers/node_client.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";
import { RawPeer } from "./helpers/raw_peer.ts";
import { type RelayStatus, relayStatus, relaySuite } from "./helpers/relay_suite.ts";
import { startWranglerDev, type WranglerDev, wranglerDryRun } from "./helpers/wrangler.ts";

const LONG = 120_000;
/** Longer than workerd's idle time before it hibernates a Durable Object (about 10 s). */
const IDLE_FOR_HIBERNATION_MS = 20_000;

/** /status of the Cloudflare relay: the core's fields plus the object's. */
interface CfStatus extends RelayStatus {
  cloudflare: {
    objectStartedAt: string;
    socketsRestored: number;
    upstream: { url: string; connected: boolean; attempt: number }[];
  };
}

function cfStatus(relay: WranglerDev): Promise<CfStatus> {
  return relayStatus(relay.httpUrl) as Promise<CfStatus>;
}

async function removeAll(dirs: (string | undefined)[]): Promise<void> {
  for (const dir of dirs) if (dir !== undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
}

function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}

test("wrangler deploy --dry-run bundles edge/cloudflare.ts with its npm imports resolved", async () => {
  const outdir = await Deno.makeTempDir({ prefix: "edgeledger-cf-build-" });
  try {
    const { success, output } = await wranglerDryRun(outdir);
    assert.ok(success, output);
    assert.match(output, /env\.RELAY \(RelayObject\)\s+Durable Object/);
    const bundle = await Deno.readTextFile(`${outdir}/cloudflare.js`);
    assert.match(bundle, /export\s*\{[^}]*RelayObject/);
    // Everything is bundled: no import-map forms or runtime-specific modules are left over.
    assert.doesNotMatch(bundle, /^\s*import\b.*\bfrom\s*["'](npm:|jsr:|node:|@noble|@scure|hono|zod|nanoid)/m);
    assert.doesNotMatch(bundle, /\bDeno\./);
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
});

relaySuite("cloudflare relay", async () => {
  const relay = await startWranglerDev();
  return { wsUrl: relay.wsUrl, httpUrl: relay.httpUrl, stop: () => relay.stop() };
});

test("cloudflare relay: the header cache survives a restart of wrangler dev with the same storage", async () => {
  const persistTo = await Deno.makeTempDir({ prefix: "edgeledger-cf-state-" });
  const dataDirs = [persistTo];
  let relay: WranglerDev | undefined;
  let node: NodeProcess | undefined;
  let light: RawPeer | undefined;
  try {
    relay = await startWranglerDev({ persistTo });
    node = await startNode({ connect: [relay.wsUrl] });
    dataDirs.push(node.dataDir);
    const r = relay;
    await waitFor(async () => (await cfStatus(r)).bestHeader.height >= 4, {
      timeoutMs: LONG,
      what: "the relay's best header at height >= 4",
    });
    await stopNodes([node]);
    node = undefined;
    await waitFor(async () => (await cfStatus(r)).connections.node === 0, { timeoutMs: LONG, what: "no node" });
    const before = (await cfStatus(relay)).bestHeader;
    await relay.stop();
    relay = undefined;

    relay = await startWranglerDev({ persistTo });
    const after = await cfStatus(relay);
    assert.deepEqual(after.bestHeader, before);
    assert.deepEqual(after.connections, { node: 0, relay: 0, light: 0, pending: 0 });
    // And it serves them: a light client gets the whole chain with no node around.
    light = await RawPeer.connect(relay.wsUrl, { hello: { role: "light" } });
    await light.ready;
    light.send({ type: "getheaders", id: "restart-1", locator: [REGTEST.genesisHash] });
    const reply = await light.next((m) => m.type === "headers" && m.id === "restart-1", LONG) as MessageOf<"headers">;
    assert.equal(reply.headers.length, before.height);
  } finally {
    await light?.close();
    await stopNodes([node]);
    await relay?.stop();
    await removeAll(dataDirs);
  }
});

test("cloudflare relay: sockets keep their role and publish right across hibernation of the object", async () => {
  const relay = await startWranglerDev({ vars: { RELAY_TOKEN: "s3cret" } });
  const chain = new TestChain();
  const publisher = await RawPeer.connect(relay.wsUrl, {
    chain,
    hello: { role: "node", height: 0, token: "s3cret" },
  });
  const stranger = await RawPeer.connect(relay.wsUrl, { chain, hello: { role: "node", height: 0 } });
  const light = await RawPeer.connect(relay.wsUrl, { hello: { role: "light" } });
  try {
    await Promise.all([publisher.ready, stranger.ready, light.ready]);
    await Promise.all([publisher.ping(LONG), stranger.ping(LONG), light.ping(LONG)]);
    const before = await cfStatus(relay);
    assert.deepEqual(before.connections, { node: 2, relay: 0, light: 1, pending: 0 });

    // Nothing happens for a while: workerd evicts the object, the sockets stay open.
    await new Promise((r) => setTimeout(r, IDLE_FOR_HIBERNATION_MS));
    await light.ping(LONG); // wakes it
    const woken = await cfStatus(relay);
    assert.notEqual(woken.cloudflare.objectStartedAt, before.cloudflare.objectStartedAt, "the object restarted");
    assert.equal(woken.cloudflare.socketsRestored, 3);
    assert.deepEqual(woken.connections, before.connections);

    // The publish right came back from the attachments: only the token holder's block is taken.
    const miner = publicKeyFromSecret(generateSecretKey());
    const block = chain.mine({ miner });
    stranger.announce(block);
    await stranger.ping(LONG);
    assert.equal((await cfStatus(relay)).bestHeader.height, 0);
    publisher.announce(block);
    await waitFor(async () => (await cfStatus(relay)).bestHeader.height === 1, {
      timeoutMs: LONG,
      what: "the publisher's header at the relay",
    });
    // The new best header reaches the light client restored from its attachment.
    const announced = await light.next((m) => m.type === "headers" && m.id === undefined, LONG) as MessageOf<
      "headers"
    >;
    assert.equal(announced.headers.length, 1);
    // A socket closed by its peer after waking is gone from the hub.
    await stranger.close();
    await waitFor(async () => (await cfStatus(relay)).connections.node === 1, { timeoutMs: LONG, what: "one node" });
  } finally {
    await Promise.all([publisher.close(), stranger.close(), light.close()]);
    await relay.stop();
  }
});

test("cloudflare relay: the object dials UPSTREAM, syncs its headers, and re-dials after it restarts", async () => {
  let node: NodeProcess | undefined;
  let relay: WranglerDev | undefined;
  let dataDir: string | undefined;
  try {
    node = await startNode();
    const port = node.port;
    dataDir = node.dataDir;
    relay = await startWranglerDev({ vars: { UPSTREAM: node.wsUrl } });
    const r = relay;
    const synced = await waitFor(async () => {
      const s = await cfStatus(r);
      return s.connections.node === 1 && s.bestHeader.height >= 3 ? s : undefined;
    }, { timeoutMs: LONG, what: "the upstream node's headers at the relay" });
    assert.deepEqual(synced.cloudflare.upstream, [{ url: node.wsUrl, connected: true, attempt: 0 }]);
    assert.equal((await node.status()).peers, 1);

    await stopNodes([node]);
    node = undefined;
    await waitFor(async () => (await cfStatus(r)).cloudflare.upstream[0].connected === false, {
      timeoutMs: LONG,
      what: "the upstream socket to close",
    });
    // Same port and data: the alarm re-dials it.
    node = await startNode({ port, dataDir });
    const n = node;
    await waitFor(async () => (await cfStatus(r)).cloudflare.upstream[0].connected && (await n.status()).peers === 1, {
      timeoutMs: LONG,
      what: "the relay to re-dial the restarted node",
    });
  } finally {
    await stopNodes([node]);
    await relay?.stop();
    await removeAll([dataDir]);
  }
});
