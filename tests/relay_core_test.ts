/**
 * The relay core (edge/relay_core.ts) with in-memory sockets: no runtime, no network. Each
 * fake socket records the frames the hub sends and lets the test set `bufferedAmount`; hubs
 * are wired to each other through a queue the test drains, so a relay loop shows up as
 * traffic that never stops instead of as a stack overflow.
 *
 * Covers the handshake, request routing (new ids, retries, one relay hop), de-duplication
 * and loops, the verified header cache, limits, the publish token, per-connection state for
 * Durable Object hibernation, and restoring the header cache from a store.
 */

import assert from "node:assert/strict";
import { bytesToHex } from "../protocol/bytes.ts";
import {
  checkpointFromJson,
  type CheckpointJson,
  type HeaderChange,
  type SavedHeaders,
  verifyCheckpoint,
} from "../protocol/header_chain.ts";
import { type BlockHeader, encodeHeader, hashHeader } from "../protocol/header.ts";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { type HelloMessage, type Message, type MessageOf, PROTOCOL_VERSION, type Role } from "../protocol/messages.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import {
  type ConnectionState,
  type HeaderStore,
  type RelayConnectionHandle,
  RelayHub,
  type RelayOptions,
  type RelaySocket,
} from "../edge/relay_core.ts";
import { TestChain } from "./helpers/chain.ts";

// ---- fixtures --------------------------------------------------------------------------

const MINER = publicKeyFromSecret(generateSecretKey());
const GENESIS = REGTEST.genesisHash;
/** A valid regtest chain of 12 blocks, built once. */
const CHAIN = (() => {
  const chain = new TestChain();
  for (let i = 0; i < 12; i++) chain.mine({ miner: MINER });
  return chain;
})();
/** Hex of the headers at heights 1..12. */
const HEADERS = CHAIN.blocks.slice(1).map((b) => bytesToHex(encodeHeader(b.header)));
/** Hex of the block hashes at heights 0..12. */
const HASHES = CHAIN.hashes.map(bytesToHex);
/** Clock of every hub in this file: the chain's times are well in the past of it. */
const NOW = Math.max(Date.now(), CHAIN.tip.time + 60_000);

function txid(n: number): string {
  return n.toString(16).padStart(64, "0");
}

/** A copy of `header` with a nonce whose hash misses the target. */
function withBadPow(header: BlockHeader): BlockHeader {
  const bad = { ...header };
  const target = bitsToTarget(bad.bits);
  do bad.nonce++; while (hashMeetsTarget(hashHeader(bad), target));
  return bad;
}

/** The header that would follow CHAIN's tip (valid, mined, not connected). */
function nextHeader(options: { time?: number } = {}): BlockHeader {
  const chain = new TestChain();
  for (const b of CHAIN.blocks.slice(1)) chain.connect(b, NOW);
  return chain.build({ miner: MINER, time: options.time }).header;
}

function hexHeader(h: BlockHeader): string {
  return bytesToHex(encodeHeader(h));
}

// ---- in-memory sockets -----------------------------------------------------------------

/** A socket that records what the hub sends; `bufferedAmount` is set by the test. */
class FakeSocket implements RelaySocket {
  readonly sent: string[] = [];
  closeInfo: { code?: number; reason?: string } | undefined;
  bufferedAmount = 0;
  /** Where frames go besides `sent` (another hub, for wired sockets). */
  onSend: ((data: string) => void) | undefined;
  onClose: (() => void) | undefined;

  send(data: string): void {
    if (this.closeInfo !== undefined) throw new Error("send on a closed socket");
    this.sent.push(data);
    this.onSend?.(data);
  }

  close(code?: number, reason?: string): void {
    if (this.closeInfo !== undefined) return;
    this.closeInfo = { code, reason };
    this.onClose?.();
  }
}

/** A connection driven by the test. */
class Client {
  readonly socket = new FakeSocket();
  readonly handle: RelayConnectionHandle;
  #read = 0;

  constructor(hub: RelayHub, info: { address?: string; outbound?: boolean; state?: ConnectionState } = {}) {
    const handle = hub.accept(this.socket, { address: info.address ?? "198.51.100.1", ...info });
    assert.ok(handle !== undefined, "the hub refused the connection");
    this.handle = handle;
  }

  /** Send a message (not validated: tests send broken ones). */
  send(msg: Message | Record<string, unknown>): void {
    this.handle.receive(JSON.stringify(msg));
  }

  /** Every message the hub sent, parsed. */
  get all(): Message[] {
    return this.socket.sent.map((t) => JSON.parse(t));
  }

  /** Messages not returned by an earlier call. */
  take(): Message[] {
    const out = this.all.slice(this.#read);
    this.#read = this.socket.sent.length;
    return out;
  }

  /** Every message of one type received so far. */
  of<T extends Message["type"]>(type: T): MessageOf<T>[] {
    return this.all.filter((m) => m.type === type) as MessageOf<T>[];
  }

  /** Mark the first `n` unread messages as read. */
  skip(n: number): void {
    this.#read = Math.min(this.socket.sent.length, this.#read + n);
  }

  /** The single new message, asserted to be of `type`. */
  one<T extends Message["type"]>(type: T): MessageOf<T> {
    const msgs = this.take();
    assert.equal(msgs.length, 1, `expected one ${type}, got ${JSON.stringify(msgs)}`);
    assert.equal(msgs[0].type, type, JSON.stringify(msgs[0]));
    return msgs[0] as MessageOf<T>;
  }

  get closed(): boolean {
    return this.socket.closeInfo !== undefined;
  }

  /** A ping is answered (the connection is alive and served). */
  assertServed(): void {
    const nonce = `n${Math.random().toString(36).slice(2)}`;
    this.take();
    this.send({ type: "ping", nonce });
    assert.deepEqual(this.take(), [{ type: "pong", nonce }]);
  }
}

function hello(role: Role, extra: Partial<HelloMessage> = {}): HelloMessage {
  return {
    type: "hello",
    version: PROTOCOL_VERSION,
    network: REGTEST.name,
    genesis: GENESIS,
    role,
    agent: "relay-core-test",
    height: 0,
    ...extra,
  };
}

/** Accept a client and complete its handshake; the relay's hello is consumed (nothing after it). */
function join(hub: RelayHub, role: Role, extra: Partial<HelloMessage> = {}): Client {
  const c = new Client(hub);
  c.send(hello(role, extra));
  assert.equal(c.all[0]?.type, "hello", `no hello back: ${JSON.stringify(c.all)}`);
  c.skip(1);
  return c;
}

function newHub(options: Partial<RelayOptions> = {}, deps: { store?: HeaderStore } = {}): RelayHub {
  return new RelayHub({ params: REGTEST, ...options }, { clock: () => NOW, ...deps });
}

/** Run `fn` with a hub that is closed afterwards (clears its timers). */
async function withHub(
  options: Partial<RelayOptions>,
  fn: (hub: RelayHub) => void | Promise<void>,
): Promise<void> {
  const hub = newHub(options);
  try {
    await fn(hub);
  } finally {
    hub.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` every 2 ms until it holds (real timers drive the hub's request timeouts). */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/**
 * Frames between wired hubs go through this queue; `drain` delivers them in order and fails
 * when they never stop (a relay loop).
 */
class Wire {
  readonly queue: (() => void)[] = [];
  delivered = 0;

  /** Connect `a` (dialling) to `b` (accepting) through a pair of in-memory sockets. */
  link(a: RelayHub, b: RelayHub): { ab: FakeSocket; ba: FakeSocket } {
    const ab = new FakeSocket();
    const ba = new FakeSocket();
    ab.onSend = (d) => this.queue.push(() => hb?.receive(d));
    ba.onSend = (d) => this.queue.push(() => ha?.receive(d));
    const closeBoth = () =>
      this.queue.push(() => {
        ab.close();
        ba.close();
        ha?.closed();
        hb?.closed();
      });
    ab.onClose = closeBoth;
    ba.onClose = closeBoth;
    // Deliveries are queued, so the handles exist by the time the closures above run.
    const ha = a.accept(ab, { address: "hub-b", outbound: true });
    const hb = b.accept(ba, { address: "hub-a" });
    return { ab, ba };
  }

  drain(limit = 10_000): number {
    let n = 0;
    while (this.queue.length > 0) {
      if (++n > limit) throw new Error(`frames still flowing after ${limit} deliveries: a relay loop`);
      this.queue.shift()!();
      this.delivered++;
    }
    return n;
  }
}

/** An in-memory {@link HeaderStore} with the write semantics the hub expects. */
class MemoryStore implements HeaderStore {
  base: CheckpointJson | undefined;
  readonly byHeight = new Map<number, string>();
  tip: number | undefined;
  writes = 0;

  load(): Promise<SavedHeaders | undefined> {
    if (this.tip === undefined) return Promise.resolve(undefined);
    const heights = [...this.byHeight.keys()].sort((a, b) => a - b);
    return Promise.resolve({ base: this.base, headers: heights.map((h) => this.byHeight.get(h)!) });
  }

  write(change: HeaderChange): Promise<void> {
    this.writes++;
    if (change.base !== undefined) this.base = change.base;
    change.headers.forEach((h, i) => this.byHeight.set(change.from + i, h));
    for (const h of [...this.byHeight.keys()]) if (h > change.tip) this.byHeight.delete(h);
    this.tip = change.tip;
    return Promise.resolve();
  }
}

// ---- handshake -------------------------------------------------------------------------

for (const role of ["node", "relay", "light"] as const) {
  Deno.test(`RelayHub answers a ${role}'s hello with its own and counts the connection by role`, async () => {
    await withHub({}, (hub) => {
      const c = new Client(hub);
      assert.equal(c.all.length, 0, "an inbound connection waits for the client's hello");
      assert.equal(hub.connectionsByRole().pending, 1);
      c.send(hello(role));
      const reply = c.one("hello");
      assert.equal(reply.role, "relay");
      assert.equal(reply.network, "regtest");
      assert.equal(reply.genesis, GENESIS);
      assert.equal(reply.version, PROTOCOL_VERSION);
      assert.equal(hub.connectionsByRole()[role], 1);
      assert.equal(hub.connectionsByRole().pending, 0);
      assert.equal(c.handle.state().role, role);
      c.assertServed();
    });
  });
}

Deno.test("RelayHub sends hello first on a connection it dialled", async () => {
  await withHub({}, (hub) => {
    const c = new Client(hub, { outbound: true });
    const first = c.one("hello");
    assert.equal(first.role, "relay");
    c.send(hello("relay"));
    assert.deepEqual(c.take(), [], "no second hello on an outbound connection");
    assert.equal(hub.connectionsByRole().relay, 1);
  });
});

Deno.test("RelayHub refuses a hello for another network or genesis with HANDSHAKE and closes", async () => {
  await withHub({}, (hub) => {
    const cases: [string, Partial<HelloMessage>][] = [
      ["another network", { network: "devnet", genesis: DEVNET.genesisHash }],
      ["another network name with our genesis", { network: "devnet" }],
      ["our network name with another genesis", { genesis: DEVNET.genesisHash }],
    ];
    for (const [label, extra] of cases) {
      const c = new Client(hub);
      c.send(hello("node", extra));
      const msgs = c.take();
      assert.equal(msgs.length, 1, `${label}: ${JSON.stringify(msgs)}`);
      assert.equal(msgs[0].type, "error", label);
      assert.equal((msgs[0] as MessageOf<"error">).code, "HANDSHAKE", label);
      assert.ok(c.closed, `${label}: socket closed`);
      assert.equal(c.socket.closeInfo?.code, 1008, label);
    }
    assert.equal(hub.connectionsByRole().pending, 0);
    assert.equal(hub.connectionsByRole().node, 0);
  });
});

Deno.test("RelayHub answers ping before hello and cuts off any other message before hello", async () => {
  await withHub({}, (hub) => {
    const c = new Client(hub);
    c.send({ type: "ping", nonce: "early" });
    assert.deepEqual(c.take(), [{ type: "pong", nonce: "early" }]);
    c.send({ type: "ping" });
    assert.deepEqual(c.take(), [{ type: "pong" }]);
    assert.ok(!c.closed);
    c.send({ type: "inv", txs: [txid(1)] });
    const err = c.one("error");
    assert.equal(err.code, "HANDSHAKE");
    assert.ok(c.closed);
  });
});

Deno.test("RelayHub cuts off a second hello", async () => {
  await withHub({}, (hub) => {
    const c = join(hub, "node");
    c.send(hello("node"));
    assert.equal(c.one("error").code, "HANDSHAKE");
    assert.ok(c.closed);
  });
});

// ---- routing ---------------------------------------------------------------------------

Deno.test("RelayHub forwards a light client's getblock to a node under a new id and routes the block back", async () => {
  await withHub({}, (hub) => {
    const node = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "getblock", id: "L1", hash: HASHES[3] });
    assert.deepEqual(light.take(), [], "nothing for the requester until the node answers");
    const fwd = node.one("getblock");
    assert.equal(fwd.hash, HASHES[3]);
    assert.notEqual(fwd.id, "L1", "the forwarded request carries the relay's own id");
    const blockHex = "00".repeat(10);
    node.send({ type: "block", id: fwd.id, block: blockHex });
    assert.deepEqual(light.take(), [{ type: "block", id: "L1", block: blockHex }]);
    assert.equal(hub.stats.routed, 1);
    // A second, late copy of the answer goes nowhere.
    node.send({ type: "block", id: fwd.id, block: blockHex });
    assert.deepEqual(light.take(), []);
  });
});

Deno.test("RelayHub routes gettx, sendtx and proof requests to a node and their answers back", async () => {
  await withHub({}, (hub) => {
    const node = join(hub, "node");
    const light = join(hub, "light");
    const txHex = "ab".repeat(157);
    const cases: [Message, (id: string) => Message][] = [
      [{ type: "gettx", id: "a", txid: txid(1) }, (id) => ({ type: "tx", id, tx: null })],
      [{ type: "sendtx", id: "b", tx: txHex }, (id) => ({ type: "txack", id, txid: txid(2) })],
      [
        { type: "gethistoryproof", id: "c", height: 1 },
        (id) => ({ type: "historyproof", id, header: HEADERS[0], at: HEADERS[1], proof: [] }),
      ],
      [{ type: "sendtx", id: "d", tx: txHex }, (id) => ({ type: "error", id, code: "BAD_NONCE", message: "x" })],
    ];
    for (const [req, answer] of cases) {
      light.send(req);
      const fwd = node.take();
      assert.equal(fwd.length, 1, JSON.stringify(fwd));
      assert.equal(fwd[0].type, req.type);
      const id = (fwd[0] as { id: string }).id;
      node.send(answer(id));
      const back = light.take();
      assert.deepEqual(back, [{ ...answer(id), id: (req as { id: string }).id }]);
    }
  });
});

Deno.test("RelayHub drops an answer of the wrong type or from a connection that was not asked", async () => {
  await withHub({}, (hub) => {
    const a = join(hub, "node");
    const b = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "getblock", id: "L1", hash: HASHES[1] });
    const [asked, other] = a.all.some((m) => m.type === "getblock") ? [a, b] : [b, a];
    const fwd = asked.one("getblock");
    other.send({ type: "block", id: fwd.id, block: null });
    asked.send({ type: "tx", id: fwd.id, tx: null });
    assert.deepEqual(light.take(), []);
    // A null answer sends the request on to the next node; only when every node has said
    // null does the requester get null.
    asked.send({ type: "block", id: fwd.id, block: null });
    assert.deepEqual(light.take(), []);
    const next = other.one("getblock");
    other.send({ type: "block", id: next.id, block: null });
    assert.deepEqual(light.take(), [{ type: "block", id: "L1", block: null }]);
  });
});

Deno.test("RelayHub retries a request on another node when the first does not answer in time", async () => {
  await withHub({ requestTimeoutMs: 1_000 }, async (hub) => {
    const a = join(hub, "node");
    const b = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "getblock", id: "L7", hash: HASHES[2] });
    const first = [a, b].find((n) => n.of("getblock").length === 1)!;
    const second = first === a ? b : a;
    const firstReq = first.one("getblock");
    assert.deepEqual(second.take(), []);
    await until(() => second.of("getblock").length > 0, "the retry on the second node");
    const secondReq = second.one("getblock");
    assert.equal(secondReq.hash, HASHES[2]);
    assert.notEqual(secondReq.id, firstReq.id);
    // The slow node's late answer is dropped; the second node's answer is delivered once.
    first.send({ type: "block", id: firstReq.id, block: "01" });
    assert.deepEqual(light.take(), []);
    second.send({ type: "block", id: secondReq.id, block: "02" });
    assert.deepEqual(light.take(), [{ type: "block", id: "L7", block: "02" }]);
  });
});

Deno.test("RelayHub answers UNAVAILABLE with the original id when every node times out", async () => {
  await withHub({ requestTimeoutMs: 30 }, async (hub) => {
    const a = join(hub, "node");
    const b = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "gettx", id: "T1", txid: txid(9) });
    await until(() => light.of("error").length > 0, "the UNAVAILABLE error");
    assert.equal(a.of("gettx").length + b.of("gettx").length, 2, "each node asked once");
    const err = light.one("error");
    assert.equal(err.code, "UNAVAILABLE");
    assert.equal(err.id, "T1");
    assert.equal(hub.stats.unanswered, 1);
  });
});

Deno.test("RelayHub answers UNAVAILABLE at once when no node is connected", async () => {
  await withHub({}, (hub) => {
    const light = join(hub, "light");
    const other = join(hub, "light");
    light.send({ type: "getblock", id: "X", hash: HASHES[1] });
    const err = light.one("error");
    assert.equal(err.code, "UNAVAILABLE");
    assert.equal(err.id, "X");
    assert.deepEqual(other.take(), [], "a light client is never asked");
    light.assertServed();
  });
});

Deno.test("RelayHub tries the next node when one answers NOT_FOUND", async () => {
  await withHub({}, (hub) => {
    const a = join(hub, "node");
    const b = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "gettxproof", id: "P", txid: txid(3) });
    const first = [a, b].find((n) => n.of("gettxproof").length === 1)!;
    const second = first === a ? b : a;
    first.send({ type: "error", id: first.one("gettxproof").id, code: "NOT_FOUND", message: "not confirmed" });
    assert.deepEqual(light.take(), []);
    second.send({ type: "error", id: second.one("gettxproof").id, code: "NOT_FOUND", message: "not confirmed" });
    const err = light.one("error");
    assert.equal(err.id, "P");
    assert.equal(err.code, "NOT_FOUND");
  });
});

Deno.test("RelayHub never forwards a request from a relay connection to another relay (one hop)", async () => {
  await withHub({}, (hub) => {
    const r1 = join(hub, "relay");
    const r2 = join(hub, "relay");
    r1.send({ type: "getblock", id: "R", hash: HASHES[1] });
    assert.deepEqual(r2.take(), [], "the other relay is not asked");
    const err = r1.one("error");
    assert.equal(err.code, "UNAVAILABLE");
    assert.equal(err.id, "R");
    // A node's request may go one hop to a relay when no other node is connected...
    const node = join(hub, "node");
    node.send({ type: "getblock", id: "N", hash: HASHES[1] });
    assert.equal(r1.of("getblock").length + r2.of("getblock").length, 1);
    // ...and a relay's request goes to a node.
    r1.take();
    r2.take();
    r1.send({ type: "getblock", id: "R2", hash: HASHES[2] });
    assert.equal(node.one("getblock").hash, HASHES[2]);
    assert.deepEqual(r2.take(), []);
  });
});

Deno.test("RelayHub prefers a node over a relay for a light client's request", async () => {
  await withHub({}, (hub) => {
    const relay = join(hub, "relay");
    const node = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "getblock", id: "L", hash: HASHES[1] });
    assert.equal(node.one("getblock").hash, HASHES[1]);
    assert.deepEqual(relay.take(), []);
  });
});

Deno.test("RelayHub drops routes of a requester that disconnected", async () => {
  await withHub({}, (hub) => {
    const node = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "getblock", id: "L", hash: HASHES[1] });
    const fwd = node.one("getblock");
    light.handle.closed();
    node.send({ type: "block", id: fwd.id, block: null });
    assert.deepEqual(light.take(), []);
    node.assertServed();
  });
});

// ---- relaying and de-duplication -------------------------------------------------------

Deno.test("RelayHub relays an inv to every node and relay but its source, and not to light clients", async () => {
  await withHub({}, (hub) => {
    const src = join(hub, "node");
    const node = join(hub, "node");
    const relay = join(hub, "relay");
    const light = join(hub, "light");
    src.send({ type: "inv", txs: [txid(1)], blocks: [HASHES[5]] });
    for (const c of [node, relay]) assert.deepEqual(c.take(), [{ type: "inv", blocks: [HASHES[5]], txs: [txid(1)] }]);
    assert.deepEqual(src.take(), []);
    assert.deepEqual(light.take(), []);
  });
});

Deno.test("RelayHub relays the same inv once even when two connections announce it", async () => {
  await withHub({}, (hub) => {
    const a = join(hub, "node");
    const b = join(hub, "node");
    const c = join(hub, "node");
    a.send({ type: "inv", txs: [txid(1)] });
    b.send({ type: "inv", txs: [txid(1)] });
    assert.deepEqual(c.take(), [{ type: "inv", txs: [txid(1)] }]);
    assert.deepEqual(a.take(), []);
    assert.deepEqual(b.take(), [{ type: "inv", txs: [txid(1)] }], "b heard it from a, once");
    // A mixed inv only carries what is new.
    b.send({ type: "inv", txs: [txid(1), txid(2)] });
    assert.deepEqual(c.take(), [{ type: "inv", txs: [txid(2)] }]);
    const dropsBefore = hub.stats.drops;
    a.send({ type: "inv", txs: [txid(1), txid(2)] });
    assert.deepEqual(c.take(), []);
    assert.equal(hub.stats.drops, dropsBefore + 1);
  });
});

Deno.test("RelayHub forgets a hash after dedupeTtlMs and relays it again", () => {
  let now = NOW;
  const hub = new RelayHub({ params: REGTEST, dedupeTtlMs: 1_000 }, { clock: () => now });
  try {
    const a = join(hub, "node");
    const b = join(hub, "node");
    a.send({ type: "inv", txs: [txid(5)] });
    a.send({ type: "inv", txs: [txid(5)] });
    assert.equal(b.of("inv").length, 1);
    now += 1_001;
    a.send({ type: "inv", txs: [txid(5)] });
    assert.equal(b.of("inv").length, 2);
  } finally {
    hub.close();
  }
});

Deno.test("RelayHub's de-duplication memory stays bounded by dedupeMax", async () => {
  await withHub({ dedupeMax: 100, messageBurst: 10_000 }, (hub) => {
    const a = join(hub, "node");
    const b = join(hub, "node");
    for (let i = 0; i < 1_000; i++) a.send({ type: "inv", txs: [txid(10_000 + i)] });
    assert.equal(b.of("inv").length, 1_000);
    // The oldest hashes were evicted: the first one is new again; the newest is still known.
    a.send({ type: "inv", txs: [txid(10_000)] });
    a.send({ type: "inv", txs: [txid(10_999)] });
    assert.equal(b.of("inv").length, 1_001);
    assert.deepEqual(b.all.at(-1), { type: "inv", txs: [txid(10_000)] });
  });
});

Deno.test("RelayHub relays the same headers once even when two nodes announce them", async () => {
  await withHub({}, (hub) => {
    const a = join(hub, "node");
    const b = join(hub, "node");
    const c = join(hub, "node");
    const light = join(hub, "light");
    a.send({ type: "headers", headers: [HEADERS[0]] });
    b.send({ type: "headers", headers: [HEADERS[0]] });
    assert.deepEqual(c.take(), [{ type: "headers", headers: [HEADERS[0]] }]);
    assert.deepEqual(light.take(), [{ type: "headers", headers: [HEADERS[0]] }]);
    assert.deepEqual(a.take(), []);
    assert.equal(hub.headers.height, 1);
  });
});

Deno.test("three relays wired in a loop deliver each inv and header once to every node and never echo", () => {
  const hubs = [newHub(), newHub(), newHub()];
  const wire = new Wire();
  try {
    wire.link(hubs[0], hubs[1]);
    wire.link(hubs[1], hubs[2]);
    wire.link(hubs[2], hubs[0]);
    // A second link between the first two: a mesh with parallel paths.
    wire.link(hubs[1], hubs[0]);
    wire.drain();
    for (const hub of hubs) assert.equal(hub.connectionsByRole().relay, hub === hubs[2] ? 2 : 3);
    const src = join(hubs[0], "node");
    const observers = hubs.map((h) => join(h, "node"));
    const lights = hubs.map((h) => join(h, "light"));
    src.send({ type: "inv", txs: [txid(42)] });
    src.send({ type: "headers", headers: [HEADERS[0]] });
    wire.drain();
    for (const [i, o] of observers.entries()) {
      assert.deepEqual(o.of("inv"), [{ type: "inv", txs: [txid(42)] }], `observer on hub ${i}`);
      assert.deepEqual(o.of("headers"), [{ type: "headers", headers: [HEADERS[0]] }], `observer on hub ${i}`);
      assert.deepEqual(lights[i].of("headers"), [{ type: "headers", headers: [HEADERS[0]] }], `light on hub ${i}`);
      assert.equal(hubs[i].headers.height, 1);
    }
    assert.deepEqual(src.take(), [], "nothing comes back to the source");
    // Quiet afterwards: announcing the same things again from another hub moves nothing.
    const late = join(hubs[2], "node");
    const out = hubs.map((h) => h.stats.messagesOut);
    late.send({ type: "inv", txs: [txid(42)] });
    assert.equal(wire.drain(), 0);
    assert.deepEqual(hubs.map((h) => h.stats.messagesOut), out);
    // A burst of distinct announcements costs a bounded number of frames.
    const before = wire.delivered;
    for (let i = 0; i < 100; i++) src.send({ type: "inv", txs: [txid(1_000 + i)] });
    wire.drain();
    // Each inv crosses each of the four links at most once in each direction.
    assert.ok(wire.delivered - before <= 100 * 8, `${wire.delivered - before} deliveries`);
    for (const o of observers) assert.equal(o.of("inv").length, 101);
  } finally {
    for (const hub of hubs) hub.close();
  }
});

// ---- header cache ----------------------------------------------------------------------

Deno.test("RelayHub syncs headers from a node ahead of it and answers getheaders from its cache", async () => {
  await withHub({}, (hub) => {
    const node = join(hub, "node", { height: 5 });
    const sync = node.one("getheaders");
    assert.deepEqual(sync.locator, [GENESIS]);
    node.send({ type: "headers", id: sync.id, headers: HEADERS.slice(0, 5) });
    assert.equal(hub.headers.height, 5);
    assert.equal(hub.headers.tip.hex, HASHES[5]);
    assert.equal(hub.stats.headersVerified, 5);
    node.take();
    const light = join(hub, "light");
    light.send({ type: "getheaders", id: "G", locator: [GENESIS] });
    assert.deepEqual(light.take(), [{ type: "headers", id: "G", headers: HEADERS.slice(0, 5) }]);
    light.send({ type: "getheaders", id: "G2", locator: [HASHES[3], GENESIS], limit: 1 });
    assert.deepEqual(light.take(), [{ type: "headers", id: "G2", headers: [HEADERS[3]] }]);
    light.send({ type: "getheaders", id: "G3", locator: [HASHES[5]] });
    assert.deepEqual(light.take(), [{ type: "headers", id: "G3", headers: [] }]);
    assert.deepEqual(node.take(), [], "the node was not contacted");
    assert.equal(hub.stats.routed, 0);
  });
});

Deno.test("RelayHub verifies announced headers, extends its chain and tells light clients of the new tip", async () => {
  await withHub({}, (hub) => {
    const node = join(hub, "node");
    const light = join(hub, "light");
    for (let i = 0; i < 3; i++) node.send({ type: "headers", headers: [HEADERS[i]] });
    assert.equal(hub.headers.height, 3);
    assert.deepEqual(light.of("headers").map((m) => m.headers), [[HEADERS[0]], [HEADERS[1]], [HEADERS[2]]]);
    // An announcement that does not connect makes the relay ask the sender for the path.
    node.take();
    node.send({ type: "headers", headers: [HEADERS[6]] });
    const sync = node.one("getheaders");
    assert.equal(sync.locator[0], HASHES[3]);
    node.send({ type: "headers", id: sync.id, headers: HEADERS.slice(3, 8) });
    assert.equal(hub.headers.height, 8);
    // After a bulk sync only the newest header is announced; whoever lacks its parents asks.
    assert.deepEqual(light.all.at(-1), { type: "headers", headers: [HEADERS[7]] });
  });
});

Deno.test("RelayHub answers getcheckpoint up to height 1 from its cache and forwards higher ones to a node", async () => {
  await withHub({}, (hub) => {
    const node = join(hub, "node");
    for (let i = 0; i < 4; i++) node.send({ type: "headers", headers: [HEADERS[i]] });
    node.take();
    const light = join(hub, "light");
    light.send({ type: "getcheckpoint", id: "C", height: 1 });
    const cp = light.one("checkpoint");
    assert.equal(cp.id, "C");
    assert.equal(cp.header, HEADERS[0]);
    verifyCheckpoint(checkpointFromJson(cp), HASHES[1]);
    assert.deepEqual(node.take(), []);
    // Above height 1 a checkpoint must prove block 1 (the difficulty anchor): only nodes can.
    light.send({ type: "getcheckpoint", id: "E", height: 3 });
    const routed = node.one("getcheckpoint");
    assert.equal(routed.height, 3);
    node.send({ type: "error", id: routed.id, code: "NOT_FOUND", message: "not here" });
    assert.equal(light.one("error").id, "E");
    light.send({ type: "getcheckpoint", id: "D", height: 9 });
    const fwd = node.one("getcheckpoint");
    assert.equal(fwd.height, 9);
    node.send({ type: "error", id: fwd.id, code: "NOT_FOUND", message: "no header at 9" });
    assert.equal(light.one("error").id, "D");
  });
});

Deno.test("RelayHub forwards getheaders it cannot answer from its cache to a node", async () => {
  await withHub({}, (hub) => {
    const node = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "getheaders", id: "U", locator: [txid(77)] });
    const fwd = node.one("getheaders");
    assert.deepEqual(fwd.locator, [txid(77)]);
    node.send({ type: "headers", id: fwd.id, headers: [] });
    assert.deepEqual(light.take(), [{ type: "headers", id: "U", headers: [] }]);
  });
});

Deno.test("RelayHub disconnects the sender of a header with invalid PoW and keeps serving the others", async () => {
  await withHub({}, (hub) => {
    const bad = join(hub, "node");
    const honest = join(hub, "node");
    const light = join(hub, "light");
    bad.send({ type: "headers", headers: [hexHeader(withBadPow(CHAIN.blocks[1].header))] });
    const err = bad.of("error")[0];
    assert.equal(err?.code, "BAD_POW");
    assert.ok(bad.closed);
    assert.equal(bad.socket.closeInfo?.code, 1008);
    assert.equal(hub.headers.height, 0);
    assert.equal(hub.stats.headersRejected, 1);
    assert.equal(hub.stats.disconnects, 1);
    assert.deepEqual(honest.take(), [], "nothing relayed");
    assert.deepEqual(light.take(), []);
    honest.assertServed();
    light.assertServed();
    honest.send({ type: "headers", headers: [HEADERS[0]] });
    assert.equal(hub.headers.height, 1);
  });
});

Deno.test("RelayHub disconnects the sender of headers breaking linkage, bits or history rules", async () => {
  await withHub({}, (hub) => {
    const cases: [string, BlockHeader][] = [
      ["bad height", { ...CHAIN.blocks[1].header, height: 2 }],
      ["bad bits", { ...CHAIN.blocks[1].header, bits: 0x1f00ffff }],
      ["bad historyRoot", { ...CHAIN.blocks[1].header, historyRoot: new Uint8Array(32).fill(7) }],
      ["time not after the median", { ...CHAIN.blocks[1].header, time: REGTEST.genesis.time }],
    ];
    for (const [label, header] of cases) {
      // Re-mine so the only broken rule is the one under test.
      const h = { ...header, nonce: 0n };
      const target = bitsToTarget(REGTEST.powLimitBits);
      while (!hashMeetsTarget(hashHeader(h), target)) h.nonce++;
      const c = join(hub, "node");
      c.send({ type: "headers", headers: [hexHeader(h)] });
      assert.ok(c.closed, `${label}: sender cut off`);
      assert.equal(c.of("error")[0]?.type, "error", label);
    }
    assert.equal(hub.headers.height, 0);
  });
});

Deno.test("RelayHub disconnects a node that answers a routed getheaders with an invalid header", async () => {
  // Issue 4: a header that fails the checks is dropped and its sender disconnected, whichever
  // way it passes through the relay.
  await withHub({}, (hub) => {
    const node = join(hub, "node");
    const light = join(hub, "light");
    light.send({ type: "getheaders", id: "U", locator: [txid(77)] });
    const fwd = node.one("getheaders");
    node.send({ type: "headers", id: fwd.id, headers: [hexHeader(withBadPow(CHAIN.blocks[1].header))] });
    assert.ok(node.closed, "the node that sent an invalid header is still connected");
    assert.deepEqual(light.of("headers"), [], "the invalid header was passed on");
  });
});

Deno.test("RelayHub drops a header from too far in the future without cutting off its sender", async () => {
  await withHub({}, (hub) => {
    const c = join(hub, "node");
    const other = join(hub, "node");
    for (let i = 0; i < 12; i++) c.send({ type: "headers", headers: [HEADERS[i]] });
    other.take();
    c.send({ type: "headers", headers: [hexHeader(nextHeader({ time: NOW + 3_600_000 }))] });
    assert.ok(!c.closed, "an honest node may see a header early");
    assert.equal(hub.headers.height, 12);
    assert.deepEqual(other.take(), []);
    c.assertServed();
  });
});

// ---- limits ----------------------------------------------------------------------------

Deno.test("RelayHub cuts off a frame over maxFrameBytes, counted in UTF-8 bytes", async () => {
  await withHub({ maxFrameBytes: 1_000 }, (hub) => {
    const ok = join(hub, "light");
    ok.send({ type: "ping", nonce: "x" });
    const big = new Client(hub);
    big.handle.receive(`{"type":"ping","nonce":"${"a".repeat(1_000)}"}`);
    assert.equal(big.of("error")[0]?.code, "MESSAGE_TOO_LARGE");
    assert.ok(big.closed);
    // 600 characters, 1,200 bytes.
    const wide = new Client(hub);
    wide.handle.receive(`{"type":"ping","nonce":"${"é".repeat(600)}"}`);
    assert.equal(wide.of("error")[0]?.code, "MESSAGE_TOO_LARGE");
    assert.ok(wide.closed);
    ok.assertServed();
  });
});

Deno.test("RelayHub cuts off malformed frames and answers unknown types without disconnecting", async () => {
  await withHub({}, (hub) => {
    const bad: [string, unknown][] = [
      ["binary frame", new Uint8Array([1, 2, 3]).buffer],
      ["invalid JSON", "{not json"],
      ["empty frame", ""],
      ["a JSON array", "[]"],
      ["a JSON string", '"ping"'],
      ["no type", "{}"],
      ["a numeric type", '{"type":7}'],
      ["an extra field", '{"type":"ping","x":1}'],
      ["a malformed hello", '{"type":"hello","version":1}'],
      ["random bytes as text", "\u0000\u00ff\ud800garbage"],
    ];
    for (const [label, frame] of bad) {
      const c = new Client(hub);
      c.handle.receive(frame);
      assert.equal(c.of("error")[0]?.code, "BAD_MESSAGE", label);
      assert.ok(c.closed, `${label}: cut off`);
    }
    const c = join(hub, "node");
    c.send({ type: "frobnicate" });
    assert.equal(c.one("error").code, "UNKNOWN_TYPE");
    assert.ok(!c.closed);
    c.assertServed();
  });
});

Deno.test("RelayHub's token bucket cuts off a flood and refills with time", () => {
  let now = NOW;
  const hub = new RelayHub({ params: REGTEST, messageBurst: 10, messagesPerSecond: 5 }, { clock: () => now });
  try {
    const steady = join(hub, "light"); // one token spent on hello
    for (let i = 0; i < 9; i++) steady.send({ type: "ping" });
    assert.equal(steady.of("pong").length, 9);
    now += 1_000; // five tokens back
    for (let i = 0; i < 5; i++) steady.send({ type: "ping" });
    assert.equal(steady.of("pong").length, 14);
    assert.ok(!steady.closed);

    const flood = new Client(hub);
    for (let i = 0; i < 50; i++) flood.send({ type: "ping" });
    assert.equal(flood.of("pong").length, 10);
    assert.equal(flood.of("error")[0]?.code, "RATE_LIMITED");
    assert.ok(flood.closed);
    now += 10_000;
    steady.assertServed();
  } finally {
    hub.close();
  }
});

Deno.test("RelayHub refuses requests beyond maxInFlight with TOO_MANY_REQUESTS", async () => {
  await withHub({ maxInFlight: 2 }, (hub) => {
    const node = join(hub, "node");
    const light = join(hub, "light");
    for (const id of ["a", "b", "c"]) light.send({ type: "getblock", id, hash: HASHES[1] });
    const fwd = node.of("getblock");
    assert.equal(fwd.length, 2);
    const err = light.one("error");
    assert.equal(err.code, "TOO_MANY_REQUESTS");
    assert.equal(err.id, "c");
    // An answer frees a slot.
    node.send({ type: "block", id: fwd[0].id, block: null });
    light.take();
    light.send({ type: "getblock", id: "d", hash: HASHES[1] });
    assert.equal(node.of("getblock").length, 3);
    assert.deepEqual(light.take(), []);
  });
});

Deno.test("RelayHub closes a connection whose send buffer stays over maxBufferedBytes", async () => {
  await withHub({ maxBufferedBytes: 1_000 }, (hub) => {
    const src = join(hub, "node");
    const slow = join(hub, "node");
    const fine = join(hub, "node");
    slow.socket.bufferedAmount = 900;
    src.send({ type: "inv", txs: [txid(1)] });
    assert.ok(!slow.closed, "under the limit: still open");
    assert.equal(slow.of("inv").length, 1);
    slow.socket.bufferedAmount = 5_000;
    src.send({ type: "inv", txs: [txid(2)] });
    assert.ok(slow.closed);
    assert.equal(slow.socket.closeInfo?.code, 1008);
    assert.equal(slow.of("inv").length, 1, "nothing more was queued on it");
    assert.equal(fine.of("inv").length, 2);
    assert.equal(hub.stats.disconnects, 1);
    assert.equal(hub.connectionsByRole().node, 2);
    src.assertServed();
  });
});

Deno.test("RelayHub refuses connections beyond maxConnections", async () => {
  await withHub({ maxConnections: 2 }, (hub) => {
    join(hub, "node");
    join(hub, "light");
    const socket = new FakeSocket();
    assert.equal(hub.accept(socket, { address: "x" }), undefined);
    assert.equal(socket.closeInfo?.code, 1013);
  });
});

// ---- publish token ---------------------------------------------------------------------

Deno.test("RelayHub drops inv and headers from a node without the publish token but serves its requests", async () => {
  await withHub({ publishToken: "s3cret" }, (hub) => {
    const publisher = join(hub, "node", { token: "s3cret" });
    const outsider = join(hub, "node");
    const wrong = join(hub, "node", { token: "guess" });
    const light = join(hub, "light", { token: "s3cret" });
    assert.equal(publisher.handle.state().canPublish, true);
    assert.equal(outsider.handle.state().canPublish, false);
    assert.equal(light.handle.state().canPublish, false, "light clients never publish");
    for (const c of [outsider, wrong, light]) {
      c.send({ type: "inv", txs: [txid(1)] });
      c.send({ type: "headers", headers: [HEADERS[0]] });
      assert.ok(!c.closed);
    }
    assert.equal(hub.headers.height, 0);
    assert.deepEqual(publisher.take(), []);
    // Its requests are served...
    outsider.send({ type: "getblock", id: "O", hash: HASHES[1] });
    const fwd = publisher.one("getblock");
    publisher.send({ type: "block", id: fwd.id, block: "00" });
    assert.deepEqual(outsider.take(), [{ type: "block", id: "O", block: "00" }]);
    // ...and the publisher's announcements still reach it.
    publisher.send({ type: "inv", txs: [txid(2)] });
    assert.deepEqual(outsider.take(), [{ type: "inv", txs: [txid(2)] }]);
    publisher.send({ type: "headers", headers: [HEADERS[0]] });
    assert.equal(hub.headers.height, 1);
  });
});

Deno.test("RelayHub does not announce headers it pulled from a node without the publish token", async () => {
  // A node without the token that claims a higher height in hello is asked for headers, and
  // what it answers is relayed to everyone: announcing through the relay without the token.
  await withHub({ publishToken: "s3cret" }, (hub) => {
    const publisher = join(hub, "node", { token: "s3cret" });
    const light = join(hub, "light");
    const outsider = join(hub, "node", { height: 1 });
    const sync = outsider.of("getheaders")[0];
    if (sync !== undefined) outsider.send({ type: "headers", id: sync.id, headers: [HEADERS[0]] });
    assert.deepEqual(publisher.of("headers"), [], "a node without the token published through the relay");
    assert.deepEqual(light.of("headers"), [], "a node without the token published through the relay");
  });
});

Deno.test("relays sharing a publish token relay each other's announcements", () => {
  // Both hubs require the token of nodes; the hub that dials should present it (or relays be
  // trusted), else federation silently stops relaying in both directions.
  const a = newHub({ publishToken: "s3cret" });
  const b = newHub({ publishToken: "s3cret" });
  const wire = new Wire();
  try {
    wire.link(b, a);
    wire.drain();
    const onA = join(a, "node", { token: "s3cret" });
    const onB = join(b, "node", { token: "s3cret" });
    onB.send({ type: "inv", txs: [txid(1)] });
    onA.send({ type: "inv", txs: [txid(2)] });
    wire.drain();
    assert.deepEqual(onA.of("inv"), [{ type: "inv", txs: [txid(1)] }], "from b's node to a's node");
    assert.deepEqual(onB.of("inv"), [{ type: "inv", txs: [txid(2)] }], "from a's node to b's node");
  } finally {
    a.close();
    b.close();
  }
});

// ---- state across a hub restart (Durable Object hibernation) ---------------------------

Deno.test("RelayHub.accept with a saved state restores the role and publish right without a new hello", async () => {
  const first = newHub({ publishToken: "s3cret" });
  let saved: { node: ConnectionState; light: ConnectionState; outsider: ConnectionState };
  try {
    const node = join(first, "node", { token: "s3cret", agent: "edgeledger-node/9" });
    const light = join(first, "light");
    const outsider = join(first, "node");
    // Attachments are structured-cloned: a JSON round trip keeps what matters.
    saved = JSON.parse(JSON.stringify({
      node: node.handle.state(),
      light: light.handle.state(),
      outsider: outsider.handle.state(),
    }));
    assert.deepEqual(saved.node, {
      role: "node",
      address: "198.51.100.1",
      outbound: false,
      canPublish: true,
      agent: "edgeledger-node/9",
    });
  } finally {
    first.close();
  }
  await withHub({ publishToken: "s3cret" }, (hub) => {
    const node = new Client(hub, { state: saved.node });
    const light = new Client(hub, { state: saved.light });
    const outsider = new Client(hub, { state: saved.outsider });
    for (const c of [node, light, outsider]) assert.deepEqual(c.take(), [], "no hello after a restore");
    assert.deepEqual(hub.connectionsByRole(), { node: 2, relay: 0, light: 1, pending: 0 });
    assert.deepEqual(node.handle.state(), saved.node);
    assert.deepEqual(light.handle.state(), saved.light);
    // The restored node publishes without a hello; the restored outsider still cannot.
    node.send({ type: "inv", txs: [txid(8)] });
    assert.deepEqual(outsider.take(), [{ type: "inv", txs: [txid(8)] }]);
    outsider.send({ type: "inv", txs: [txid(9)] });
    assert.deepEqual(node.take(), []);
    node.send({ type: "headers", headers: [HEADERS[0]] });
    assert.deepEqual(light.take(), [{ type: "headers", headers: [HEADERS[0]] }]);
    // Requests route between restored connections.
    light.send({ type: "getblock", id: "L", hash: HASHES[1] });
    const fwd = [node, outsider].flatMap((c) => c.take()).find((m) => m.type === "getblock") as MessageOf<"getblock">;
    assert.ok(fwd !== undefined);
    for (const c of [node, outsider]) c.send({ type: "block", id: fwd.id, block: "00" });
    assert.deepEqual(light.take(), [{ type: "block", id: "L", block: "00" }]);
    // A restored connection has had its hello: another one is a protocol error.
    light.send(hello("light"));
    assert.equal(light.one("error").code, "HANDSHAKE");
  });
});

Deno.test("RelayHub.accept with a state that has no role yet waits for hello", async () => {
  await withHub({}, (hub) => {
    const c = new Client(hub, { state: { address: "x", outbound: false } });
    assert.deepEqual(c.take(), []);
    c.send({ type: "inv", txs: [txid(1)] });
    assert.equal(c.one("error").code, "HANDSHAKE");
  });
});

// ---- header store ----------------------------------------------------------------------

Deno.test("RelayHub writes verified headers to its store and a new hub restores them with load()", async () => {
  const store = new MemoryStore();
  const first = newHub({}, { store });
  try {
    const node = join(first, "node", { height: 7 });
    const sync = node.one("getheaders");
    node.send({ type: "headers", id: sync.id, headers: HEADERS.slice(0, 7) });
    node.send({ type: "headers", headers: [HEADERS[7]] });
    await first.flush();
  } finally {
    first.close();
  }
  assert.ok(store.writes >= 1);
  assert.equal(store.tip, 8);
  const second = newHub({}, { store });
  try {
    assert.equal(await second.load(), 8);
    assert.equal(second.headers.height, 8);
    assert.equal(second.headers.tip.hex, HASHES[8]);
    const light = join(second, "light");
    light.send({ type: "getheaders", id: "G", locator: [GENESIS] });
    assert.deepEqual(light.take(), [{ type: "headers", id: "G", headers: HEADERS.slice(0, 8) }]);
    // The restored chain keeps extending.
    const node = join(second, "node");
    node.send({ type: "headers", headers: [HEADERS[8]] });
    assert.equal(second.headers.height, 9);
  } finally {
    second.close();
  }
});

Deno.test("RelayHub.load() stops at a stored header that no longer verifies", async () => {
  const store = new MemoryStore();
  await store.write({ from: 1, headers: HEADERS.slice(0, 6), tip: 6 });
  store.byHeight.set(4, hexHeader(withBadPow(CHAIN.blocks[4].header)));
  const hub = newHub({}, { store });
  try {
    assert.equal(await hub.load(), 3);
    assert.equal(hub.headers.height, 3);
    assert.equal(hub.headers.tip.hex, HASHES[3]);
  } finally {
    hub.close();
  }
  const empty = newHub({}, { store: new MemoryStore() });
  try {
    assert.equal(await empty.load(), 0);
    assert.equal(empty.headers.height, 0);
  } finally {
    empty.close();
  }
});

Deno.test("RelayHub.status() and metrics() report connections, the best header and counters", async () => {
  await withHub({}, (hub) => {
    const node = join(hub, "node");
    join(hub, "light");
    node.send({ type: "headers", headers: [HEADERS[0]] });
    node.send({ type: "frobnicate" });
    const s = hub.status() as {
      connections: Record<string, number>;
      bestHeader: { height: number; hash: string };
      messagesIn: number;
      messagesOut: number;
      drops: number;
    };
    assert.deepEqual(s.connections, { node: 1, relay: 0, light: 1, pending: 0 });
    assert.deepEqual(s.bestHeader, { height: 1, hash: HASHES[1] });
    assert.equal(s.messagesIn, 4);
    assert.ok(s.messagesOut >= 4);
    assert.equal(s.drops, 1);
    const text = hub.metrics();
    assert.match(text, /^edgeledger_relay_connections\{role="node"\} 1$/m);
    assert.match(text, /^edgeledger_relay_best_header_height 1$/m);
    assert.match(text, /^# TYPE edgeledger_relay_messages_in_total counter$/m);
    for (const line of text.trimEnd().split("\n")) {
      assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{\w+="[^"]*"\})? \d+)$/, line);
    }
  });
});
