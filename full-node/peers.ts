/**
 * Peers over WebSocket, for the node's own `/ws` endpoint and its outbound `--connect`
 * connections: the `hello` handshake, headers-first sync with block locators, block download
 * from several peers at once with timeouts and re-requests, announcements of new blocks
 * (unsolicited `headers`) and transactions (`inv`) fetched only when unknown, per-peer
 * de-duplication, the request types light clients and relays use, and peer policy: a peer
 * that sends an invalid block or header, a malformed or oversized message, or floods, is
 * disconnected and refused for a while.
 *
 * Sockets are abstract ({@link PeerSocket}), so runtime adapters stay thin.
 *
 * @module
 */

import { nanoid } from "nanoid";
import { decodeBlock, encodeBlock } from "../protocol/block.ts";
import { bytesToHex, hexToBytes } from "../protocol/bytes.ts";
import { DecodeError, ErrorCode, ValidationError } from "../protocol/errors.ts";
import { decodeHeader, encodeHeader, hashHeader, HEADER_BYTES } from "../protocol/header.ts";
import { decodeAddress } from "../protocol/keys.ts";
import {
  errorMessage,
  type HelloMessage,
  MAX_HEADERS_PER_MESSAGE,
  type Message,
  type MessageOf,
  parseMessage,
  PROTOCOL_VERSION,
} from "../protocol/messages.ts";
import { encodeSmtProof } from "../protocol/smt.ts";
import { decodeTx, encodeTx, type TransferTx } from "../protocol/tx.ts";
import type { Chain, ChainEntry } from "./chain.ts";
import { HeaderStatus } from "./store.ts";
import type { Logger } from "./logger.ts";
import { silentLogger } from "./logger.ts";
import type { Mempool } from "./mempool.ts";

/** The part of a WebSocket the peer logic needs. */
export interface PeerSocket {
  /** Send one text frame. */
  send(data: string): void;
  /** Close the connection. */
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet sent, when the runtime reports it. */
  readonly bufferedAmount?: number;
}

/** Options of {@link PeerManager}. */
export interface PeerManagerOptions {
  /** Software name sent in `hello`. */
  agent: string;
  /** How long a misbehaving address is refused (ms). */
  banMs?: number;
  /** Also ban loopback addresses (off by default, as Bitcoin Core does not punish local peers). */
  banLoopback?: boolean;
  /** Request timeout (ms). */
  requestTimeoutMs?: number;
  /** Blocks requested from one peer at a time. */
  blocksInFlightPerPeer?: number;
  /** Token bucket: messages per second a peer may send on average. */
  messagesPerSecond?: number;
  /** Token bucket: burst size. */
  messageBurst?: number;
  /** Most inbound peers. */
  maxInbound?: number;
  /** Shared secret a peer must present to publish (optional). */
  token?: string;
}

/** Dependencies of {@link PeerManager}. */
export interface PeerManagerDeps {
  /** The chain. */
  chain: Chain;
  /** The mempool. */
  mempool: Mempool;
  /** Logger. */
  logger?: Logger;
  /** Clock (ms). */
  clock?: () => number;
  /** Opens an outbound connection; defaults to the global WebSocket. */
  dial?: (url: string) => WebSocket;
}

/** The node's own relay hub as a peer: misbehaviour is reported to it, never punished here. */
export interface LocalLink {
  /** The answer to our request `requestId` was invalid: the hub cuts off whoever gave it. */
  reportAnswer(requestId: string, code: string, reason: string): void;
}

/** Public view of a connected peer. */
export interface PeerInfo {
  /** Local id. */
  id: number;
  /** Remote address (IP for inbound, URL for outbound). */
  address: string;
  /** Who opened the connection. */
  direction: "inbound" | "outbound";
  /** Role from hello. */
  role?: string;
  /** Agent from hello. */
  agent?: string;
  /** Best height the peer announced. */
  height: number;
  /** Blocks requested from it and not yet received. */
  blocksInFlight: number;
}

class BoundedSet {
  readonly #items = new Map<string, true>();
  constructor(readonly max: number) {}
  has(k: string): boolean {
    return this.#items.has(k);
  }
  add(k: string): void {
    if (this.#items.has(k)) return;
    if (this.#items.size >= this.max) this.#items.delete(this.#items.keys().next().value!);
    this.#items.set(k, true);
  }
}

interface PendingRequest {
  resolve: (msg: Message) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One connection. */
class Peer {
  readonly id: number;
  readonly address: string;
  readonly direction: "inbound" | "outbound";
  readonly socket: PeerSocket;
  hello: HelloMessage | undefined;
  height = 0;
  tokens: number;
  lastRefill: number;
  readonly known = new BoundedSet(20_000);
  readonly pending = new Map<string, PendingRequest>();
  readonly blocksInFlight = new Set<string>();
  /** Blocks this peer answered `null` for. */
  readonly lacking = new BoundedSet(10_000);
  syncingHeaders = false;
  closed = false;
  /** Set for the in-process link to the node's own relay hub (its /ws endpoint). */
  local: LocalLink | undefined;

  constructor(
    id: number,
    address: string,
    direction: "inbound" | "outbound",
    socket: PeerSocket,
    burst: number,
    now: number,
  ) {
    this.id = id;
    this.address = address;
    this.direction = direction;
    this.socket = socket;
    this.tokens = burst;
    this.lastRefill = now;
  }

  send(msg: Message): void {
    if (this.closed) return;
    try {
      this.socket.send(JSON.stringify(msg));
    } catch {
      // The socket is closing; its close handler cleans up.
    }
  }
}

function isLoopback(address: string): boolean {
  return address === "127.0.0.1" || address === "::1" || address.startsWith("127.") || address === "localhost";
}

const hex = bytesToHex;

/**
 * Every peer connection of a node and the sync logic over them.
 *
 * @example
 * ```ts
 * const peers = new PeerManager({ agent: "edgeledger/0.1" }, { chain, mempool });
 * peers.connect("ws://127.0.0.1:7701/ws");
 * ```
 */
export class PeerManager {
  readonly #o: Required<Omit<PeerManagerOptions, "token">> & { token?: string };
  readonly #chain: Chain;
  readonly #mempool: Mempool;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #dial: (url: string) => WebSocket;
  readonly #peers = new Map<number, Peer>();
  readonly #bans = new Map<string, number>();
  readonly #outbound = new Map<
    string,
    { attempt: number; timer?: ReturnType<typeof setTimeout>; socket?: WebSocket }
  >();
  /** Transactions rejected since the last tip (a new tip may make them valid: cleared then). */
  #recentRejects = new BoundedSet(10_000);
  readonly #txRequests = new Set<string>();
  /** hex -> when requested, for re-requests after a timeout. */
  readonly #blockRequests = new Map<string, { peer: number; at: number }>();
  #nextId = 1;
  #closed = false;
  #downloadTimer: ReturnType<typeof setInterval>;
  /** Counters for metrics. */
  readonly stats = { messagesIn: 0, messagesOut: 0, bans: 0, disconnects: 0 };

  /** Create the manager and subscribe to chain and mempool events. */
  constructor(options: PeerManagerOptions, deps: PeerManagerDeps) {
    this.#o = {
      banMs: 10 * 60_000,
      banLoopback: false,
      requestTimeoutMs: 15_000,
      blocksInFlightPerPeer: 16,
      messagesPerSecond: 500,
      messageBurst: 2_000,
      maxInbound: 125,
      ...options,
    };
    this.#chain = deps.chain;
    this.#mempool = deps.mempool;
    this.#log = deps.logger ?? silentLogger;
    this.#clock = deps.clock ?? Date.now;
    this.#dial = deps.dial ?? ((url) => new WebSocket(url));
    this.#chain.listen({ tip: (entry) => this.#announceTip(entry) });
    this.#downloadTimer = setInterval(() => this.#scheduleDownloads(), 1_000);
  }

  /** Connected peers that completed the handshake. */
  get count(): number {
    let n = 0;
    for (const p of this.#peers.values()) if (p.hello !== undefined && p.local === undefined) n++;
    return n;
  }

  /** Public view of every connection. */
  list(): PeerInfo[] {
    return [...this.#peers.values()].filter((p) => p.local === undefined).map((p) => ({
      id: p.id,
      address: p.address,
      direction: p.direction,
      role: p.hello?.role,
      agent: p.hello?.agent,
      height: p.height,
      blocksInFlight: p.blocksInFlight.size,
    }));
  }

  /** Whether `address` is currently refused. */
  isBanned(address: string): boolean {
    const until = this.#bans.get(address);
    if (until === undefined) return false;
    if (until > this.#clock()) return true;
    this.#bans.delete(address);
    return false;
  }

  /**
   * Take over a connected socket. Returns the callbacks the adapter must call for each text
   * frame and on close; returns undefined (and closes the socket) for a banned address.
   */
  attach(
    socket: PeerSocket,
    info: { address: string; direction: "inbound" | "outbound"; local?: LocalLink },
  ): { receive(data: unknown): void; closed(): void } | undefined {
    if (this.#closed || this.isBanned(info.address)) {
      socket.close(1008, "banned");
      return undefined;
    }
    if (info.direction === "inbound") {
      let inbound = 0;
      for (const p of this.#peers.values()) if (p.direction === "inbound") inbound++;
      if (inbound >= this.#o.maxInbound) {
        socket.close(1013, "too many peers");
        return undefined;
      }
    }
    const peer = new Peer(this.#nextId++, info.address, info.direction, socket, this.#o.messageBurst, this.#clock());
    peer.local = info.local;
    this.#peers.set(peer.id, peer);
    this.#log.debug(`peer ${peer.id} ${peer.direction} ${peer.address} connected`);
    this.#sendHello(peer);
    return {
      receive: (data) => this.#receive(peer, data),
      closed: () => this.#closedPeer(peer),
    };
  }

  /** Dial `url` and keep reconnecting with exponential backoff and jitter. */
  connect(url: string): void {
    if (this.#outbound.has(url)) return;
    this.#outbound.set(url, { attempt: 0 });
    this.#dialOut(url);
  }

  #dialOut(url: string): void {
    const state = this.#outbound.get(url);
    if (state === undefined || this.#closed) return;
    if (this.isBanned(url)) return this.#retry(url);
    let socket: WebSocket;
    try {
      socket = this.#dial(url);
    } catch (err) {
      this.#log.warn(`cannot connect to ${url}: ${(err as Error).message}`);
      return this.#retry(url);
    }
    state.socket = socket;
    let handlers: ReturnType<PeerManager["attach"]>;
    socket.onopen = () => {
      state.attempt = 0;
      handlers = this.attach(socket, { address: url, direction: "outbound" });
    };
    socket.onmessage = (e) => handlers?.receive(e.data);
    socket.onerror = (e) => {
      if (handlers === undefined) {
        this.#log.debug(`connection to ${url} failed: ${(e as ErrorEvent).message ?? "error"}`);
      }
    };
    socket.onclose = () => {
      handlers?.closed();
      handlers = undefined;
      state.socket = undefined;
      this.#retry(url);
    };
  }

  #retry(url: string): void {
    const state = this.#outbound.get(url);
    if (state === undefined || this.#closed) return;
    const base = Math.min(30_000, 500 * 2 ** state.attempt);
    state.attempt = Math.min(state.attempt + 1, 10);
    const delay = base / 2 + Math.random() * base / 2;
    state.timer = setTimeout(() => this.#dialOut(url), delay);
  }

  /** Close every connection and stop reconnecting. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#downloadTimer);
    for (const state of this.#outbound.values()) {
      clearTimeout(state.timer);
      try {
        state.socket?.close(1001, "shutting down");
      } catch {
        // already closed
      }
    }
    for (const p of this.#peers.values()) this.#disconnect(p, 1001, "shutting down");
    this.#outbound.clear();
  }

  #sendHello(peer: Peer): void {
    peer.send({
      type: "hello",
      version: PROTOCOL_VERSION,
      network: this.#chain.params.name,
      genesis: this.#chain.params.genesisHash,
      role: "node",
      agent: this.#o.agent,
      height: this.#chain.height,
      ...(this.#o.token !== undefined && peer.direction === "outbound" ? { token: this.#o.token } : {}),
    });
  }

  #disconnect(peer: Peer, code: number, reason: string): void {
    if (peer.closed) return;
    try {
      peer.socket.close(code, reason.slice(0, 120));
    } catch {
      // already closing
    }
    this.#closedPeer(peer);
  }

  #closedPeer(peer: Peer): void {
    if (!this.#peers.has(peer.id)) return;
    peer.closed = true;
    this.#peers.delete(peer.id);
    this.stats.disconnects++;
    for (const req of peer.pending.values()) {
      clearTimeout(req.timer);
      req.reject(new Error("peer disconnected"));
    }
    for (const h of peer.blocksInFlight) this.#blockRequests.delete(h);
    this.#log.debug(`peer ${peer.id} ${peer.address} disconnected`);
  }

  /**
   * Disconnect a peer that broke the rules and refuse its address for a while. Through the
   * node's own hub, the connection that answered `requestId` is cut off instead.
   */
  #misbehave(peer: Peer, reason: string, code: string = ErrorCode.BAD_MESSAGE, requestId?: string): void {
    if (peer.local !== undefined) {
      this.#log.warn(`a peer behind this node's endpoint misbehaved: ${reason}`);
      if (requestId !== undefined) peer.local.reportAnswer(requestId, code, reason);
      return;
    }
    this.#log.warn(`peer ${peer.id} ${peer.address} misbehaved: ${reason}`);
    peer.send(errorMessage(code, reason));
    this.ban(peer.address);
    this.#disconnect(peer, 1008, reason);
  }

  /** Refuse `address` for a while (loopback addresses only with banLoopback). */
  ban(address: string): void {
    if (isLoopback(address) && !this.#o.banLoopback) return;
    this.#bans.set(address, this.#clock() + this.#o.banMs);
    this.stats.bans++;
  }

  #takeToken(peer: Peer): boolean {
    const now = this.#clock();
    peer.tokens = Math.min(
      this.#o.messageBurst,
      peer.tokens + ((now - peer.lastRefill) * this.#o.messagesPerSecond) / 1000,
    );
    peer.lastRefill = now;
    if (peer.tokens < 1) return false;
    peer.tokens--;
    return true;
  }

  #receive(peer: Peer, data: unknown): void {
    if (peer.closed) return;
    this.stats.messagesIn++;
    if (peer.local === undefined && !this.#takeToken(peer)) return this.#misbehave(peer, "too many messages");
    if (typeof data !== "string") return this.#misbehave(peer, "binary frames are not part of the protocol");
    let msg: Message;
    try {
      msg = parseMessage(data, this.#chain.params.maxMessageBytes);
    } catch (err) {
      const e = err as ValidationError;
      if (e.code === ErrorCode.UNKNOWN_TYPE) return peer.send(errorMessage(e.code, e.message));
      return this.#misbehave(peer, e.message, e.code);
    }
    // Answers to our own requests do not count against the sender's rate limit.
    if ("id" in msg && typeof msg.id === "string" && peer.pending.has(msg.id)) peer.tokens += 1;
    if (msg.type === "ping") {
      return peer.send({ type: "pong", ...(msg.nonce !== undefined ? { nonce: msg.nonce } : {}) });
    }
    if (msg.type === "pong") return;
    if (msg.type === "hello") return this.#onHello(peer, msg);
    if (peer.hello === undefined) return this.#misbehave(peer, `"${msg.type}" before "hello"`, ErrorCode.HANDSHAKE);
    try {
      this.#dispatch(peer, msg);
    } catch (err) {
      if (err instanceof ValidationError && err.ban) return this.#misbehave(peer, err.message, err.code);
      this.#log.debug(`peer ${peer.id}: ${msg.type} failed: ${(err as Error).message}`);
      if ("id" in msg && typeof msg.id === "string" && !(msg.type in RESPONSES)) {
        const code = err instanceof ValidationError ? err.code : "INTERNAL";
        peer.send(errorMessage(code, (err as Error).message, msg.id));
      }
    }
  }

  #onHello(peer: Peer, msg: HelloMessage): void {
    if (peer.hello !== undefined) return this.#misbehave(peer, "second hello", ErrorCode.HANDSHAKE);
    const params = this.#chain.params;
    if (msg.network !== params.name || msg.genesis !== params.genesisHash) {
      peer.send(errorMessage(
        ErrorCode.HANDSHAKE,
        `wrong network: this node is on ${params.name} with genesis ${params.genesisHash}`,
      ));
      return this.#disconnect(peer, 1008, "wrong network");
    }
    if (msg.version < PROTOCOL_VERSION) {
      peer.send(errorMessage(ErrorCode.HANDSHAKE, `protocol version ${msg.version} is too old`));
      return this.#disconnect(peer, 1008, "old version");
    }
    peer.hello = msg;
    peer.height = msg.height;
    this.#log.info(
      `peer ${peer.id} ${peer.address} ready: ${msg.role} ${msg.agent.slice(0, 40)} at height ${msg.height}`,
    );
    if (msg.role !== "light") {
      this.#requestHeaders(peer);
      // Tell the new peer what we hold, so pending transactions reach nodes that mine.
      const txs: string[] = [];
      for (const e of this.#mempool.entries()) {
        txs.push(e.hex);
        peer.known.add(e.hex);
        if (txs.length >= 1000) break;
      }
      if (txs.length > 0) peer.send({ type: "inv", txs });
    }
  }

  // ---- requests we make --------------------------------------------------------------

  #request<T extends Message["type"]>(peer: Peer, msg: Message & { id: string }, expect: T): Promise<MessageOf<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        peer.pending.delete(msg.id);
        reject(new Error(`${msg.type} timed out`));
      }, this.#o.requestTimeoutMs);
      peer.pending.set(msg.id, {
        resolve: (reply) => {
          if (reply.type === "error") reject(new Error(`${reply.code}: ${reply.message}`));
          else if (reply.type !== expect) {
            reject(new ValidationError(ErrorCode.BAD_MESSAGE, `expected ${expect}`, { ban: true }));
          } else resolve(reply as MessageOf<T>);
        },
        reject,
        timer,
      });
      peer.send(msg);
    });
  }

  #requestHeaders(peer: Peer, locator?: Uint8Array[]): void {
    if (peer.syncingHeaders || peer.closed) return;
    peer.syncingHeaders = true;
    const id = nanoid();
    this.#request(peer, { type: "getheaders", id, locator: (locator ?? this.#chain.locator()).map(hex) }, "headers")
      .then((reply) => {
        peer.syncingHeaders = false;
        return this.#onHeaders(peer, reply, true);
      })
      .catch((err) => {
        peer.syncingHeaders = false;
        if (err instanceof ValidationError && err.ban) return this.#misbehave(peer, err.message, err.code, id);
        this.#log.debug(`headers from peer ${peer.id}: ${(err as Error).message}`);
      });
  }

  #onHeaders(peer: Peer, msg: MessageOf<"headers">, solicited: boolean): void {
    if (msg.headers.length === 0) return;
    const headers = msg.headers.map((h) => decodeHeader(hexToBytes(h)));
    for (let i = 1; i < headers.length; i++) {
      if (headers[i].height !== headers[i - 1].height + 1) {
        throw new ValidationError(ErrorCode.BAD_HEIGHT, "headers are not in chain order", { ban: true });
      }
    }
    const { entries, unconnected } = this.#chain.acceptHeaders(headers);
    if (unconnected) {
      // An announcement that does not connect to our tree: ask for the path to it.
      if (!solicited) this.#requestHeaders(peer);
      return;
    }
    const last = entries[entries.length - 1];
    if (last !== undefined) {
      peer.height = Math.max(peer.height, last.height);
      for (const e of entries) peer.known.add(e.hex);
    }
    if (solicited && msg.headers.length >= MAX_HEADERS_PER_MESSAGE && last !== undefined) {
      this.#requestHeaders(peer, [last.hash]);
    }
    this.#scheduleDownloads();
  }

  /** Entries on the best header chain whose block data we still need, lowest first. */
  /**
   * Blocks to download, lowest first: a window along the best header chain, plus the first
   * missing block of every other branch with more work than our tip (so a header whose block
   * nobody serves cannot stall us when another branch of equal work is on offer).
   */
  #wantedBlocks(limit: number): ChainEntry[] {
    const out: ChainEntry[] = [];
    for (let e: ChainEntry | undefined = this.#chain.bestHeader; e !== undefined; e = e.parent) {
      if (e.status === HeaderStatus.DATA || this.#chain.isMain(e)) break;
      out.push(e);
    }
    out.reverse();
    const wanted = out.slice(0, limit);
    const seen = new Set(wanted);
    for (const e of this.#chain.frontier()) if (!seen.has(e)) wanted.push(e);
    return wanted;
  }

  #scheduleDownloads(): void {
    if (this.#closed) return;
    const now = this.#clock();
    for (const [h, req] of this.#blockRequests) {
      if (now - req.at > this.#o.requestTimeoutMs) {
        this.#blockRequests.delete(h);
        this.#peers.get(req.peer)?.blocksInFlight.delete(h);
      }
    }
    const wanted = this.#wantedBlocks(1024);
    if (wanted.length === 0) return;
    const peers = [...this.#peers.values()].filter((p) => p.hello !== undefined && p.hello.role !== "light");
    for (const e of wanted) {
      if (this.#blockRequests.has(e.hex)) continue;
      // Ask a peer that announced the block first, then any peer high enough; never one that
      // already said it does not have it.
      const candidates = peers
        .filter((p) =>
          !p.lacking.has(e.hex) && p.blocksInFlight.size < this.#o.blocksInFlightPerPeer &&
          (p.known.has(e.hex) || p.height >= e.height)
        )
        .sort((a, b) =>
          Number(b.known.has(e.hex)) - Number(a.known.has(e.hex)) || a.blocksInFlight.size - b.blocksInFlight.size
        );
      const peer = candidates[0];
      if (peer === undefined) continue;
      this.#fetchBlock(peer, e);
    }
  }

  #fetchBlock(peer: Peer, entry: ChainEntry): void {
    peer.blocksInFlight.add(entry.hex);
    this.#blockRequests.set(entry.hex, { peer: peer.id, at: this.#clock() });
    let retryNow = true;
    const id = nanoid();
    this.#request(peer, { type: "getblock", id, hash: entry.hex }, "block")
      .then(async (reply) => {
        if (reply.block === null) {
          // Through our own hub "null" means no connected peer has it yet: ask again later.
          if (peer.local === undefined) peer.lacking.add(entry.hex);
          throw new Error(`peer does not have block ${entry.hex.slice(0, 16)}`);
        }
        await this.#onBlock(peer, hexToBytes(reply.block), entry);
      })
      .catch((err) => {
        if (err instanceof ValidationError && err.ban) return this.#misbehave(peer, err.message, err.code, id);
        // Timeouts and refusals are retried by the periodic scheduler, not in a tight loop.
        retryNow = false;
        this.#log.debug(`block ${entry.hex.slice(0, 16)} from peer ${peer.id}: ${(err as Error).message}`);
      })
      .finally(() => {
        peer.blocksInFlight.delete(entry.hex);
        this.#blockRequests.delete(entry.hex);
        if (retryNow) this.#scheduleDownloads();
      });
  }

  async #onBlock(peer: Peer, bytes: Uint8Array, expected?: ChainEntry): Promise<void> {
    let block;
    try {
      block = decodeBlock(bytes, this.#chain.params);
    } catch (err) {
      // If the bytes carry the requested header, the block itself is invalid (its header
      // commits to its transactions); otherwise the peer sent something else. Either way the
      // peer goes, and an invalid block is remembered so nobody is asked for it again.
      if (expected !== undefined && bytes.length >= HEADER_BYTES) {
        try {
          if (bytesToHex(hashHeader(decodeHeader(bytes.subarray(0, HEADER_BYTES)))) === expected.hex) {
            this.#chain.rejectBlock(expected);
          }
        } catch {
          // not even a header
        }
      }
      throw err instanceof DecodeError ? err : new DecodeError((err as Error).message);
    }
    const entry = await this.#chain.processBlock(block, bytes);
    if (entry.status !== "orphan") {
      peer.known.add(entry.entry.hex);
      if (expected !== undefined && entry.entry.hex !== expected.hex) {
        throw new ValidationError(ErrorCode.BAD_MESSAGE, "peer answered with another block", { ban: true });
      }
    }
  }

  // ---- announcements -----------------------------------------------------------------

  #announceTip(entry: ChainEntry): void {
    this.#recentRejects = new BoundedSet(10_000);
    const msg: Message = { type: "headers", headers: [hex(encodeHeader(entry.header))] };
    for (const p of this.#peers.values()) {
      if (p.hello === undefined || p.known.has(entry.hex)) continue;
      p.known.add(entry.hex);
      p.send(msg);
    }
  }

  /** Announce a transaction accepted into the mempool to every peer but its source. */
  announceTx(txid: string, from?: number): void {
    for (const p of this.#peers.values()) {
      if (p.hello === undefined || p.id === from || p.known.has(txid)) continue;
      p.known.add(txid);
      p.send({ type: "inv", txs: [txid] });
    }
  }

  /** Add a transaction from any source to the mempool and announce it. Throws ValidationError. */
  submitTransaction(tx: TransferTx, from?: number): string {
    const entry = this.#mempool.add(tx);
    this.announceTx(entry.hex, from);
    return entry.hex;
  }

  #onInvTxs(peer: Peer, txids: string[]): void {
    for (const txid of txids) {
      peer.known.add(txid);
      if (this.#mempool.has(txid) || this.#recentRejects.has(txid) || this.#txRequests.has(txid)) continue;
      if (this.#txRequests.size > 5_000) return;
      this.#txRequests.add(txid);
      const id = nanoid();
      this.#request(peer, { type: "gettx", id, txid }, "tx")
        .then((reply) => {
          if (reply.tx === null) return;
          const tx = decodeTx(hexToBytes(reply.tx));
          if (tx.kind !== "transfer") {
            throw new ValidationError(ErrorCode.BAD_COINBASE, "a coinbase was relayed", { ban: true });
          }
          try {
            this.submitTransaction(tx, peer.id);
          } catch (err) {
            this.#recentRejects.add(txid);
            if (err instanceof ValidationError && err.ban) throw err;
          }
        })
        .catch((err) => {
          if (err instanceof ValidationError && err.ban) return this.#misbehave(peer, err.message, err.code, id);
        })
        .finally(() => this.#txRequests.delete(txid));
    }
  }

  // ---- dispatch ----------------------------------------------------------------------

  #dispatch(peer: Peer, msg: Message): void {
    if ("id" in msg && msg.id !== undefined && msg.type in RESPONSES) {
      const pending = peer.pending.get(msg.id);
      if (pending !== undefined) {
        peer.pending.delete(msg.id);
        clearTimeout(pending.timer);
        pending.resolve(msg);
        return;
      }
      if (msg.type !== "headers") return; // a late answer to a request that timed out
    }
    const chain = this.#chain;
    switch (msg.type) {
      case "headers":
        return this.#onHeaders(peer, msg, false);
      case "inv":
        if (msg.txs !== undefined) this.#onInvTxs(peer, msg.txs);
        if (msg.blocks !== undefined && msg.blocks.some((h) => chain.entry(h) === undefined)) {
          this.#requestHeaders(peer);
        }
        return;
      case "getheaders": {
        const headers = chain.headersAfter(msg.locator.map((h) => hexToBytes(h)), {
          stop: msg.stop === undefined ? undefined : hexToBytes(msg.stop),
          limit: Math.min(msg.limit ?? MAX_HEADERS_PER_MESSAGE, MAX_HEADERS_PER_MESSAGE),
        });
        return peer.send({ type: "headers", id: msg.id, headers: headers.map((h) => hex(encodeHeader(h))) });
      }
      case "getblock": {
        const bytes = chain.blockBytes(hexToBytes(msg.hash));
        return peer.send({ type: "block", id: msg.id, block: bytes === undefined ? null : hex(bytes) });
      }
      case "gettx": {
        const pooled = this.#mempool.get(msg.txid);
        const tx = pooled?.tx ?? chain.transaction(hexToBytes(msg.txid))?.tx;
        return peer.send({ type: "tx", id: msg.id, tx: tx === undefined ? null : hex(encodeTx(tx)) });
      }
      case "sendtx": {
        let tx;
        try {
          tx = decodeTx(hexToBytes(msg.tx));
        } catch (err) {
          return peer.send(errorMessage(ErrorCode.MALFORMED, (err as Error).message, msg.id));
        }
        if (tx.kind !== "transfer") {
          return peer.send(errorMessage(ErrorCode.BAD_COINBASE, "cannot send a coinbase", msg.id));
        }
        try {
          const txid = this.submitTransaction(tx, peer.id);
          return peer.send({ type: "txack", id: msg.id, txid });
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          return peer.send(errorMessage(err.code, err.message, msg.id));
        }
      }
      case "gettxproof": {
        const found = chain.proveTransaction(hexToBytes(msg.txid));
        if (found === undefined) return peer.send(errorMessage("NOT_FOUND", "transaction is not confirmed", msg.id));
        return peer.send({
          type: "txproof",
          id: msg.id,
          tx: hex(encodeTx(found.tx)),
          header: hex(encodeHeader(found.header)),
          index: found.index,
          size: found.size,
          proof: found.proof.map(hex),
        });
      }
      case "getaccountproof": {
        let key: Uint8Array;
        try {
          key = decodeAddress(msg.address, chain.params.addressPrefix);
        } catch (err) {
          return peer.send(errorMessage((err as ValidationError).code, (err as Error).message, msg.id));
        }
        const p = chain.proveAccount(key);
        return peer.send({
          type: "accountproof",
          id: msg.id,
          header: hex(encodeHeader(p.header)),
          account: p.value === undefined ? null : hex(p.value),
          proof: hex(encodeSmtProof(p.proof)),
        });
      }
      case "gethistoryproof": {
        const at = msg.at === undefined ? chain.tip : chain.entry(msg.at);
        const p = at === undefined ? undefined : chain.proveHistory(msg.height, at);
        if (p === undefined) {
          return peer.send(errorMessage("NOT_FOUND", "no such height below that header on the main chain", msg.id));
        }
        return peer.send({
          type: "historyproof",
          id: msg.id,
          header: hex(encodeHeader(p.header)),
          at: hex(encodeHeader(p.at)),
          proof: p.proof.map(hex),
        });
      }
      case "getcheckpoint": {
        const cp = chain.checkpoint(msg.height);
        if (cp === undefined) return peer.send(errorMessage("NOT_FOUND", `no block at height ${msg.height}`, msg.id));
        return peer.send({
          type: "checkpoint",
          id: msg.id,
          header: hex(encodeHeader(cp.header)),
          ancestors: cp.ancestors.map((h) => hex(encodeHeader(h))),
          history: hex(cp.history),
          ...(cp.anchor ? { anchor: hex(encodeHeader(cp.anchor)), anchorProof: cp.anchorProof!.map(hex) } : {}),
        });
      }
      case "error":
        this.#log.debug(`peer ${peer.id} reported ${msg.code}: ${msg.message}`);
        return;
      default:
        // A response nobody asked for (block, tx, txack, proofs): ignore it.
        return;
    }
  }

  /** Relay a block that arrived from elsewhere (for tests and the HTTP API). */
  async submitBlock(bytes: Uint8Array): Promise<void> {
    const block = decodeBlock(bytes, this.#chain.params);
    await this.#chain.processBlock(block, encodeBlock(block));
  }
}

/** Message types that answer a request. */
const RESPONSES: Record<string, true> = {
  headers: true,
  block: true,
  tx: true,
  txack: true,
  txproof: true,
  accountproof: true,
  historyproof: true,
  checkpoint: true,
  error: true,
};
