/**
 * A scripted peer for integration tests: a real WebSocket (the global `WebSocket`) that speaks
 * the wire protocol of docs/protocol.md §13 from a {@link TestChain} it serves, and can also
 * send anything at all (bad blocks, raw frames) so a test can check the node's peer policy.
 *
 * It sends `hello` on open, answers `ping`, `getheaders` (locator → headers after the fork
 * point) and `getblock`, records every message it receives, and exposes {@link RawPeer.closed}
 * so a test can assert that the node disconnected it.
 *
 * @module
 */

import { type Block, encodeBlock } from "../../protocol/block.ts";
import { bytesToHex } from "../../protocol/bytes.ts";
import { encodeHeader, hashHeader } from "../../protocol/header.ts";
import {
  type HelloMessage,
  MAX_HEADERS_PER_MESSAGE,
  type Message,
  type MessageOf,
  PROTOCOL_VERSION,
} from "../../protocol/messages.ts";
import { REGTEST } from "../../protocol/params.ts";
import { TestChain } from "./chain.ts";

/** How the node closed the connection. */
export interface CloseInfo {
  /** WebSocket close code (1008 for policy violations). */
  code: number;
  /** Close reason. */
  reason: string;
}

/** Options of {@link RawPeer.connect}. */
export interface RawPeerOptions {
  /** The chain served to the node (shared with other peers if wanted); a fresh regtest chain by default. */
  chain?: TestChain;
  /** Fields of our `hello` to override (network, genesis, height...); `false` sends no hello. */
  hello?: Partial<HelloMessage> | false;
  /** How long to wait for the socket to open (ms). */
  openTimeoutMs?: number;
}

/** A message we received, with its raw text. */
export interface Received {
  /** The parsed object (not validated; whatever the node sent). */
  msg: Message;
  /** The text frame as received. */
  text: string;
}

/** Reject after `ms` with a message naming `what`. */
function timeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A peer driven by a test.
 *
 * @example
 * ```ts
 * const chain = new TestChain();
 * chain.mine({ miner: publicKey });
 * const peer = await RawPeer.connect(node.wsUrl, { chain });
 * await peer.ready; // the node's hello arrived
 * peer.announce(chain.build({ miner: publicKey })); // serve it and send unsolicited headers
 * const err = await peer.next((m) => m.type === "error");
 * const { code } = await peer.closedWithin(10_000);
 * ```
 */
export class RawPeer {
  /** The served chain. */
  readonly chain: TestChain;
  /** The socket. */
  readonly socket: WebSocket;
  /** Every message received, in order. */
  readonly received: Received[] = [];
  /** Text frames that were not JSON objects with a string `type` (the node should send none). */
  readonly garbage: string[] = [];
  /** Resolves with how the connection ended (never rejects). */
  readonly closed: Promise<CloseInfo>;
  /** Resolves with the node's `hello`; rejects if the connection closes first. */
  readonly ready: Promise<MessageOf<"hello">>;
  /** Extra blocks served by hash (for example an invalid block this peer announced). */
  readonly #extra = new Map<string, Block>();
  #isClosed = false;
  #waiters: { check: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  #nonce = 0;

  private constructor(socket: WebSocket, chain: TestChain) {
    this.socket = socket;
    this.chain = chain;
    const { promise: closed, resolve: onClose } = Promise.withResolvers<CloseInfo>();
    this.closed = closed;
    socket.onerror = () => {}; // a close event always follows
    socket.onclose = (e) => {
      this.#isClosed = true;
      onClose({ code: e.code, reason: e.reason });
    };
    socket.onmessage = (e) => this.#onMessage(e.data);
    this.ready = new Promise((resolve, reject) => {
      this.#waiters.push({ check: (m) => m.type === "hello", resolve: (m) => resolve(m as MessageOf<"hello">) });
      this.closed.then((c) => reject(new Error(`closed before the node's hello: ${c.code} ${c.reason}`)));
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
  }

  /** Open a connection to `url` (a node's `ws://.../ws`) and send `hello`. Resolves once open. */
  static async connect(url: string, options: RawPeerOptions = {}): Promise<RawPeer> {
    const chain = options.chain ?? new TestChain();
    const socket = new WebSocket(url);
    const opened = new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve());
      socket.addEventListener("close", (e) => reject(new Error(`connection to ${url} closed: ${e.code} ${e.reason}`)));
    });
    opened.catch(() => {});
    const peer = new RawPeer(socket, chain);
    try {
      await timeout(opened, options.openTimeoutMs ?? 15_000, `a connection to ${url}`);
    } catch (err) {
      await peer.close();
      throw err;
    }
    if (options.hello !== false) {
      peer.send({
        type: "hello",
        version: PROTOCOL_VERSION,
        network: REGTEST.name,
        genesis: REGTEST.genesisHash,
        role: "node",
        agent: "edgeledger-test-raw-peer",
        height: chain.height,
        ...options.hello,
      });
    }
    return peer;
  }

  /**
   * Wait for the node's `hello`, and for a `pong` that shows our hello and anything before it
   * were processed: after this the node sends nothing unprompted until something changes.
   */
  async handshake(timeoutMs = 30_000): Promise<void> {
    await timeout(this.ready, timeoutMs, "the node's hello");
    // A pong after our hello means the node has processed the hello too.
    await this.ping(timeoutMs);
  }

  /** Whether the connection has closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Messages received so far, optionally of one type. */
  messages<T extends Message["type"]>(type?: T): MessageOf<T>[] {
    return this.received.map((r) => r.msg).filter((m) => type === undefined || m.type === type) as MessageOf<T>[];
  }

  /** `error` messages received so far. */
  get errors(): MessageOf<"error">[] {
    return this.messages("error");
  }

  /** Send one message as a JSON text frame (not validated, so tests can send broken ones). */
  send(msg: Message | Record<string, unknown>): void {
    this.sendRaw(JSON.stringify(msg));
  }

  /** Send an arbitrary text frame. */
  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Serve `block` on `getblock` without adding it to the chain (e.g. an invalid one). */
  serve(block: Block): string {
    const hex = bytesToHex(hashHeader(block.header));
    this.#extra.set(hex, block);
    return hex;
  }

  /** Serve `block` and announce it with an unsolicited `headers` message. Returns its hash. */
  announce(block: Block): string {
    const hex = this.serve(block);
    this.send({ type: "headers", headers: [bytesToHex(encodeHeader(block.header))] });
    return hex;
  }

  /** Announce the tip of the served chain. */
  announceTip(): string {
    return this.announce(this.chain.blocks[this.chain.blocks.length - 1]);
  }

  /**
   * The first received message (already received or still to come) for which `check` is true.
   * Rejects after `timeoutMs`, or when the connection closes without one.
   */
  next(check: (m: Message) => boolean, timeoutMs = 30_000): Promise<Message> {
    const found = this.received.find((r) => check(r.msg));
    if (found !== undefined) return Promise.resolve(found.msg);
    const { promise, resolve, reject } = Promise.withResolvers<Message>();
    const waiter = { check, resolve };
    this.#waiters.push(waiter);
    this.closed.then((c) => {
      // Let a message delivered just before the close event settle the waiter first.
      setTimeout(() => reject(new Error(`connection closed (${c.code} ${c.reason}) while waiting for a message`)), 0);
    });
    return timeout(promise, timeoutMs, "a message from the node").finally(() => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
    });
  }

  /** Send `ping` and resolve with the matching `pong`. */
  async ping(timeoutMs = 30_000): Promise<MessageOf<"pong">> {
    const nonce = `raw-${++this.#nonce}-${Math.random().toString(36).slice(2, 10)}`;
    this.send({ type: "ping", nonce });
    return await this.next((m) => m.type === "pong" && m.nonce === nonce, timeoutMs) as MessageOf<"pong">;
  }

  /** Resolve with how the connection closed, failing if it is still open after `timeoutMs`. */
  closedWithin(timeoutMs = 30_000): Promise<CloseInfo> {
    return timeout(this.closed, timeoutMs, "the node to close the connection");
  }

  /** Close our side (idempotent) and wait for the close to complete. */
  async close(): Promise<void> {
    if (!this.#isClosed) {
      try {
        this.socket.close(1000, "test done");
      } catch {
        // already closing
      }
    }
    await timeout(this.closed, 10_000, "the socket to close").catch(() => {});
  }

  #onMessage(data: unknown): void {
    if (typeof data !== "string") {
      this.garbage.push(`<binary frame>`);
      return;
    }
    let msg: Message;
    try {
      msg = JSON.parse(data);
      if (typeof msg !== "object" || msg === null || typeof msg.type !== "string") throw new Error("not a message");
    } catch {
      this.garbage.push(data);
      return;
    }
    this.received.push({ msg, text: data });
    this.#answer(msg);
    for (const w of [...this.#waiters]) {
      if (w.check(msg)) {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        w.resolve(msg);
      }
    }
  }

  #answer(msg: Message): void {
    if (this.#isClosed || this.socket.readyState !== WebSocket.OPEN) return;
    switch (msg.type) {
      case "ping":
        return this.send({ type: "pong", ...(msg.nonce !== undefined ? { nonce: msg.nonce } : {}) });
      case "getheaders":
        return this.send({ type: "headers", id: msg.id, headers: this.#headersAfter(msg) });
      case "getblock": {
        const block = this.#block(msg.hash);
        return this.send({
          type: "block",
          id: msg.id,
          block: block === undefined ? null : bytesToHex(encodeBlock(block)),
        });
      }
      case "gettx":
        return this.send({ type: "tx", id: msg.id, tx: null });
      default:
        return;
    }
  }

  /** Headers of the served chain after the first locator hash on it (docs/protocol.md §13). */
  #headersAfter(msg: MessageOf<"getheaders">): string[] {
    const hashes = this.chain.hashes.map(bytesToHex);
    let start = 1;
    for (const h of msg.locator) {
      const i = hashes.indexOf(h);
      if (i >= 0) {
        start = i + 1;
        break;
      }
    }
    const limit = Math.min(msg.limit ?? MAX_HEADERS_PER_MESSAGE, MAX_HEADERS_PER_MESSAGE);
    const out: string[] = [];
    for (let i = start; i < this.chain.blocks.length && out.length < limit; i++) {
      out.push(bytesToHex(encodeHeader(this.chain.blocks[i].header)));
      if (msg.stop !== undefined && hashes[i] === msg.stop) break;
    }
    return out;
  }

  #block(hash: string): Block | undefined {
    const extra = this.#extra.get(hash);
    if (extra !== undefined) return extra;
    const i = this.chain.hashes.findIndex((h) => bytesToHex(h) === hash);
    return i < 0 ? undefined : this.chain.blocks[i];
  }
}
