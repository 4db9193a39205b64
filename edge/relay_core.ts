/**
 * The relay core: a runtime-agnostic WebSocket hub for edgeledger (no Deno or Cloudflare
 * APIs). Adapters hand it sockets; it speaks the wire protocol of docs/protocol.md §13.
 *
 * - Connections announce a role in `hello` (node, relay, light); another network or genesis is
 *   refused; `ping` is answered at any time.
 * - Announcements (`inv`, unsolicited `headers`) from nodes and relays go to every node and
 *   relay connection except their source; new best headers also go to light clients. Each
 *   object is relayed once: de-duplication by hash in a bounded, time-limited memory, so
 *   relays in a mesh or a loop never echo.
 * - Every header that passes through is verified ({@link HeaderChain}); the best chain is kept
 *   and `getheaders` is answered from it. A header that fails the checks is dropped and its
 *   sender disconnected.
 * - Requests the relay cannot answer (blocks, transactions, proofs, submissions) are forwarded
 *   to a connected node and the response routed back by request id; on timeout they are retried
 *   on another node, and the client gets an `error` if none answers. A request that came from
 *   a relay is only forwarded to nodes (one relay hop), so federated relays never loop requests.
 * - Limits: maximum frame size, a token bucket per connection, a cap on requests in flight,
 *   and backpressure (a connection whose send buffer stays full is closed). Optionally a shared
 *   secret that a node must present in `hello` to publish.
 *
 * @module
 */

import { nanoid } from "nanoid";
import { bytesToHex, hexToBytes } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { decodeHeader, encodeHeader, hashHeader } from "../protocol/header.ts";
import {
  checkpointToJson,
  HeaderChain,
  headerChange,
  type HeaderEntry,
  type HeaderStore,
  restoreHeaderChain,
} from "../protocol/header_chain.ts";

export type { HeaderStore } from "../protocol/header_chain.ts";
import {
  errorMessage,
  type HelloMessage,
  MAX_HEADERS_PER_MESSAGE,
  type Message,
  parseMessage,
  PROTOCOL_VERSION,
  RESPONSE_OF,
  type Role,
} from "../protocol/messages.ts";
import type { NetworkParams } from "../protocol/params.ts";

/** Version string announced in `hello`. */
export const RELAY_AGENT = "edgeledger-relay/0.1.0";

/** The part of a WebSocket the hub needs; adapters wrap their runtime's socket. */
export interface RelaySocket {
  /** Send one text frame. */
  send(data: string): void;
  /** Close the connection. */
  close(code?: number, reason?: string): void;
  /** Bytes queued and not yet sent, when the runtime reports it. */
  readonly bufferedAmount?: number;
}

/** What the adapter must do with each socket the hub accepted. */
export interface RelayConnectionHandle {
  /** Local connection id. */
  readonly id: number;
  /** Feed one received frame (string, or anything else, which is rejected). */
  receive(data: unknown): void;
  /** The socket closed. */
  closed(): void;
  /** Per-connection state worth keeping across a restart of the hub (Durable Object hibernation). */
  state(): ConnectionState;
}

/** Per-connection state an adapter may persist (Cloudflare socket attachments). */
export interface ConnectionState {
  /** Role from hello, once received. */
  role?: Role;
  /** Remote address. */
  address: string;
  /** Whether this side dialled out. */
  outbound: boolean;
  /** May publish announcements (token presented when required). */
  canPublish?: boolean;
  /** Remote agent. */
  agent?: string;
}

/** Options of {@link RelayHub}. */
export interface RelayOptions {
  /** Network parameters. */
  params: NetworkParams;
  /** Largest accepted frame in bytes (default: the network's maxMessageBytes). */
  maxFrameBytes?: number;
  /** Token bucket refill, messages per second per connection. */
  messagesPerSecond?: number;
  /** Token bucket size. */
  messageBurst?: number;
  /** Requests one connection may have in flight. */
  maxInFlight?: number;
  /** How long to wait for a node before retrying elsewhere (ms). */
  requestTimeoutMs?: number;
  /** Close a connection whose send buffer exceeds this many bytes. */
  maxBufferedBytes?: number;
  /** How long a hash stays in the de-duplication memory (ms). */
  dedupeTtlMs?: number;
  /** Most hashes in the de-duplication memory. */
  dedupeMax?: number;
  /** Shared secret a node must present in hello to publish. */
  publishToken?: string;
  /** Keep about this many recent headers in the cache. */
  maxHeaders?: number;
  /** Most connections. */
  maxConnections?: number;
  /** Agent string. */
  agent?: string;
  /** Role announced in hello: "relay", or "node" when the hub is a full node's own endpoint. */
  role?: "relay" | "node";
}

/** Dependencies of {@link RelayHub}. */
export interface RelayDeps {
  /** Clock (ms). */
  clock?: () => number;
  /** Header cache persistence. */
  store?: HeaderStore;
  /** Where diagnostics go. */
  log?: (level: "info" | "warn" | "debug", message: string) => void;
  /** Told about every connection cut off for misbehaviour (a host keeps its own ban list). */
  onMisbehave?: (address: string, code: string) => void;
}

class Connection {
  role: Role | undefined;
  hello: HelloMessage | undefined;
  canPublish = false;
  tokens: number;
  lastRefill: number;
  inFlight = 0;
  closed = false;
  height = 0;
  /** An in-process peer of the host (a full node's own chain): not rate-limited, asked first. */
  trusted = false;
  constructor(
    readonly id: number,
    readonly socket: RelaySocket,
    readonly address: string,
    readonly outbound: boolean,
    burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.lastRefill = now;
  }
}

interface RoutedRequest {
  from: Connection;
  originalId: string;
  type: string;
  message: Message & { id: string };
  tried: Set<number>;
  timer: ReturnType<typeof setTimeout>;
  fromRelay: boolean;
}

/** Counters reported by `/status` and `/metrics`. */
export interface RelayStats {
  /** Frames received. */
  messagesIn: number;
  /** Frames sent. */
  messagesOut: number;
  /** Frames dropped: duplicates, rate-limited, invalid. */
  drops: number;
  /** Connections closed by the relay for misbehaviour or backpressure. */
  disconnects: number;
  /** Requests forwarded to nodes. */
  routed: number;
  /** Requests that no node answered. */
  unanswered: number;
  /** Headers verified. */
  headersVerified: number;
  /** Headers rejected. */
  headersRejected: number;
}

/**
 * Runtime-agnostic relay.
 *
 * @example
 * ```ts
 * const hub = new RelayHub({ params: REGTEST });
 * const handle = hub.accept(socketWrapper, { address: "203.0.113.7" });
 * socket.onmessage = (e) => handle?.receive(e.data);
 * socket.onclose = () => handle?.closed();
 * ```
 */
export class RelayHub {
  readonly params: NetworkParams;
  readonly #o: Required<Omit<RelayOptions, "publishToken" | "params">> & { publishToken?: string };
  readonly #clock: () => number;
  readonly #store: HeaderStore | undefined;
  readonly #log: (level: "info" | "warn" | "debug", message: string) => void;
  readonly #connections = new Map<number, Connection>();
  readonly #seen = new Map<string, number>();
  readonly #routes = new Map<string, RoutedRequest>();
  /** Who answered each recently routed request ("requester:id"), for reportAnswer. */
  readonly #answeredBy = new Map<string, Connection>();
  readonly #onMisbehave: ((address: string, code: string) => void) | undefined;
  #chain: HeaderChain;
  #nextId = 1;
  #syncing = new Set<number>();
  #persistQueue: Promise<void> = Promise.resolve();
  #lastBaseHeight: number;
  /** Counters. */
  readonly stats: RelayStats = {
    messagesIn: 0,
    messagesOut: 0,
    drops: 0,
    disconnects: 0,
    routed: 0,
    unanswered: 0,
    headersVerified: 0,
    headersRejected: 0,
  };

  /** Create a hub with an empty header cache (call {@link load} to restore a saved one). */
  constructor(options: RelayOptions, deps: RelayDeps = {}) {
    this.params = options.params;
    this.#o = {
      maxFrameBytes: options.params.maxMessageBytes,
      messagesPerSecond: 500,
      messageBurst: 1_000,
      maxInFlight: 32,
      requestTimeoutMs: 10_000,
      maxBufferedBytes: 8 * 1024 * 1024,
      dedupeTtlMs: 10 * 60_000,
      dedupeMax: 100_000,
      maxHeaders: 200_000,
      maxConnections: 10_000,
      agent: RELAY_AGENT,
      role: "relay",
      ...options,
    };
    this.#clock = deps.clock ?? Date.now;
    this.#store = deps.store;
    this.#log = deps.log ?? (() => {});
    this.#onMisbehave = deps.onMisbehave;
    this.#chain = new HeaderChain({ params: this.params, maxHeaders: this.#o.maxHeaders });
    this.#lastBaseHeight = this.#chain.base.height;
  }

  /** The verified header chain. */
  get headers(): HeaderChain {
    return this.#chain;
  }

  /** Restore the header cache from the store (re-verifying every header). */
  async load(): Promise<number> {
    const saved = await this.#store?.load();
    if (saved === undefined) return 0;
    const { chain, restored } = restoreHeaderChain(saved, {
      params: this.params,
      now: this.#clock(),
      maxHeaders: this.#o.maxHeaders,
    });
    this.#chain = chain;
    this.#lastBaseHeight = chain.base.height;
    return restored;
  }

  /** Number of open connections by role ("pending" before hello). */
  connectionsByRole(): Record<string, number> {
    const out: Record<string, number> = { node: 0, relay: 0, light: 0, pending: 0 };
    for (const c of this.#connections.values()) out[c.role ?? "pending"]++;
    return out;
  }

  /** JSON status. */
  status(): Record<string, unknown> {
    const tip = this.#chain.tip;
    return {
      network: this.params.name,
      role: "relay",
      agent: this.#o.agent,
      connections: this.connectionsByRole(),
      bestHeader: { height: tip.height, hash: tip.hex },
      headersCached: this.#chain.size,
      messagesIn: this.stats.messagesIn,
      messagesOut: this.stats.messagesOut,
      drops: this.stats.drops,
      stats: this.stats,
    };
  }

  /** Prometheus text exposition. */
  metrics(): string {
    const lines: string[] = [];
    const m = (name: string, type: string, help: string, value: number, labels = "") => {
      lines.push(`# HELP edgeledger_relay_${name} ${help}`, `# TYPE edgeledger_relay_${name} ${type}`);
      lines.push(`edgeledger_relay_${name}${labels} ${value}`);
    };
    const roles = this.connectionsByRole();
    lines.push(
      "# HELP edgeledger_relay_connections Open connections by role.",
      "# TYPE edgeledger_relay_connections gauge",
    );
    for (const [role, n] of Object.entries(roles)) lines.push(`edgeledger_relay_connections{role="${role}"} ${n}`);
    m("best_header_height", "gauge", "Height of the best verified header.", this.#chain.height);
    m("messages_in_total", "counter", "Frames received.", this.stats.messagesIn);
    m("messages_out_total", "counter", "Frames sent.", this.stats.messagesOut);
    m("drops_total", "counter", "Frames dropped.", this.stats.drops);
    m("disconnects_total", "counter", "Connections closed for misbehaviour or backpressure.", this.stats.disconnects);
    m("requests_routed_total", "counter", "Requests forwarded to nodes.", this.stats.routed);
    m("requests_unanswered_total", "counter", "Requests no node answered.", this.stats.unanswered);
    m("headers_verified_total", "counter", "Headers verified.", this.stats.headersVerified);
    m("headers_rejected_total", "counter", "Headers rejected.", this.stats.headersRejected);
    return lines.join("\n") + "\n";
  }

  /**
   * Take over a socket. `state` restores a connection after a hub restart (hibernation);
   * otherwise the hub starts the handshake. Returns undefined (socket closed) when full.
   */
  accept(
    socket: RelaySocket,
    info: { address: string; outbound?: boolean; state?: ConnectionState; trusted?: boolean },
  ): RelayConnectionHandle | undefined {
    if (this.#connections.size >= this.#o.maxConnections) {
      try {
        socket.close(1013, "relay full");
      } catch {
        // already closed
      }
      return undefined;
    }
    const c = new Connection(
      this.#nextId++,
      socket,
      info.address,
      info.outbound ?? info.state?.outbound ?? false,
      this.#o.messageBurst,
      this.#clock(),
    );
    c.trusted = info.trusted ?? false;
    this.#connections.set(c.id, c);
    if (info.state?.role !== undefined) {
      c.role = info.state.role;
      c.canPublish = info.state.canPublish ?? false;
      c.hello = {
        type: "hello",
        version: PROTOCOL_VERSION,
        network: this.params.name,
        genesis: this.params.genesisHash,
        role: info.state.role,
        agent: info.state.agent ?? "",
        height: 0,
      };
    } else if (c.outbound) {
      this.#sendHello(c);
    }
    return {
      id: c.id,
      receive: (data) => this.#receive(c, data),
      closed: () => this.#closed(c),
      state: () => ({
        role: c.role,
        address: c.address,
        outbound: c.outbound,
        canPublish: c.canPublish,
        agent: c.hello?.agent,
      }),
    };
  }

  /** Close everything (tests, shutdown). */
  close(): void {
    for (const c of this.#connections.values()) this.#drop(c, 1001, "relay shutting down", false);
    for (const r of this.#routes.values()) clearTimeout(r.timer);
    this.#routes.clear();
  }

  #sendHello(c: Connection): void {
    this.#send(c, {
      type: "hello",
      version: PROTOCOL_VERSION,
      network: this.params.name,
      genesis: this.params.genesisHash,
      role: this.#o.role,
      agent: this.#o.agent,
      height: this.#chain.height,
      // Present the shared secret only to relays we chose to dial (federation), never to
      // whoever connects to us.
      ...(c.outbound && this.#o.publishToken !== undefined ? { token: this.#o.publishToken } : {}),
    });
  }

  #send(c: Connection, msg: Message): void {
    this.#sendText(c, JSON.stringify(msg));
  }

  #sendText(c: Connection, text: string): void {
    if (c.closed) return;
    const buffered = c.socket.bufferedAmount ?? 0;
    if (buffered > this.#o.maxBufferedBytes) {
      // A consumer that cannot keep up is closed rather than letting memory grow.
      this.stats.drops++;
      this.#drop(c, 1008, "send buffer full", true);
      return;
    }
    try {
      c.socket.send(text);
      this.stats.messagesOut++;
    } catch {
      this.#closed(c);
    }
  }

  #drop(c: Connection, code: number, reason: string, counted: boolean): void {
    if (c.closed) return;
    if (counted) this.stats.disconnects++;
    try {
      c.socket.close(code, reason.slice(0, 120));
    } catch {
      // already closing
    }
    this.#closed(c);
  }

  #misbehave(c: Connection, code: string, reason: string): void {
    this.#log("warn", `connection ${c.id} (${c.address}) cut off: ${code}: ${reason}`);
    this.#send(c, errorMessage(code, reason));
    this.#drop(c, 1008, reason, true);
    this.#onMisbehave?.(c.address, code);
  }

  /**
   * The requester `connectionId` found the answer to its request `requestId` invalid (a
   * block that does not validate, say): cut off the connection that gave that answer.
   * Returns whether it was found.
   */
  reportAnswer(connectionId: number, requestId: string, code: string, reason: string): boolean {
    const key = `${connectionId}:${requestId}`;
    const answerer = this.#answeredBy.get(key);
    this.#answeredBy.delete(key);
    if (answerer === undefined || answerer.closed) return false;
    this.#misbehave(answerer, code, reason);
    return true;
  }

  #closed(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    this.#connections.delete(c.id);
    this.#syncing.delete(c.id);
    for (const [id, r] of this.#routes) {
      if (r.from === c) {
        clearTimeout(r.timer);
        this.#routes.delete(id);
      }
    }
  }

  #takeToken(c: Connection): boolean {
    const now = this.#clock();
    c.tokens = Math.min(this.#o.messageBurst, c.tokens + ((now - c.lastRefill) * this.#o.messagesPerSecond) / 1000);
    c.lastRefill = now;
    if (c.tokens < 1) return false;
    c.tokens--;
    return true;
  }

  /** Remember `key`; false when it was seen within the TTL (drop it). */
  #firstSight(key: string): boolean {
    const now = this.#clock();
    const at = this.#seen.get(key);
    if (at !== undefined && now - at < this.#o.dedupeTtlMs) return false;
    this.#seen.delete(key);
    this.#seen.set(key, now);
    if (this.#seen.size > this.#o.dedupeMax) {
      for (const [k, t] of this.#seen) {
        if (this.#seen.size <= this.#o.dedupeMax * 0.9 && now - t < this.#o.dedupeTtlMs) break;
        this.#seen.delete(k);
      }
    }
    return true;
  }

  #receive(c: Connection, data: unknown): void {
    if (c.closed) return;
    this.stats.messagesIn++;
    if (typeof data !== "string") return this.#misbehave(c, ErrorCode.BAD_MESSAGE, "binary frames are not accepted");
    if (data.length > this.#o.maxFrameBytes) {
      return this.#misbehave(c, ErrorCode.MESSAGE_TOO_LARGE, `frame over ${this.#o.maxFrameBytes} bytes`);
    }
    if (!c.trusted && !this.#takeToken(c)) {
      this.stats.drops++;
      return this.#misbehave(c, "RATE_LIMITED", "too many messages");
    }
    let msg: Message;
    try {
      msg = parseMessage(data, this.#o.maxFrameBytes);
    } catch (err) {
      const e = err as ValidationError;
      this.stats.drops++;
      if (e.code === ErrorCode.UNKNOWN_TYPE) return this.#send(c, errorMessage(e.code, e.message));
      return this.#misbehave(c, e.code ?? ErrorCode.BAD_MESSAGE, e.message);
    }
    // Answers to requests routed through us do not count against the sender's rate limit.
    const answerId = (msg as { id?: string }).id;
    if (answerId !== undefined && !(msg.type in RESPONSE_OF) && this.#routes.has(answerId)) c.tokens += 1;
    if (msg.type === "ping") {
      return this.#send(c, { type: "pong", ...(msg.nonce !== undefined ? { nonce: msg.nonce } : {}) });
    }
    if (msg.type === "pong") return;
    if (msg.type === "hello") return this.#onHello(c, msg);
    if (c.role === undefined) return this.#misbehave(c, ErrorCode.HANDSHAKE, `"${msg.type}" before "hello"`);
    try {
      this.#dispatch(c, msg);
    } catch (err) {
      if (err instanceof ValidationError && err.ban) return this.#misbehave(c, err.code, err.message);
      this.stats.drops++;
      this.#log("debug", `connection ${c.id}: ${msg.type}: ${(err as Error).message}`);
    }
  }

  #onHello(c: Connection, msg: HelloMessage): void {
    if (c.role !== undefined) return this.#misbehave(c, ErrorCode.HANDSHAKE, "second hello");
    if (msg.network !== this.params.name || msg.genesis !== this.params.genesisHash) {
      this.#send(
        c,
        errorMessage(
          ErrorCode.HANDSHAKE,
          `wrong network: this relay serves ${this.params.name} (genesis ${this.params.genesisHash})`,
        ),
      );
      return this.#drop(c, 1008, "wrong network", false);
    }
    if (msg.version < PROTOCOL_VERSION) {
      this.#send(c, errorMessage(ErrorCode.HANDSHAKE, `protocol version ${msg.version} is too old`));
      return this.#drop(c, 1008, "old version", false);
    }
    c.hello = msg;
    c.role = msg.role;
    c.height = msg.height;
    const token = this.#o.publishToken;
    // A relay we dialled ourselves is trusted to publish; others need the token when one is set.
    c.canPublish = msg.role !== "light" && (token === undefined || msg.token === token || c.outbound);
    if (!c.outbound) this.#sendHello(c);
    if (c.canPublish && msg.height > this.#chain.height) this.#syncHeaders(c);
  }

  // ---- header cache ------------------------------------------------------------------

  /** Ask `c` for the headers after our best chain. */
  #syncHeaders(c: Connection, locator: Uint8Array[] = this.#chain.locator()): void {
    if (this.#syncing.has(c.id) || c.closed) return;
    this.#syncing.add(c.id);
    const id = `relay-${nanoid()}`;
    const timer = setTimeout(() => {
      this.#routes.delete(id);
      this.#syncing.delete(c.id);
    }, this.#o.requestTimeoutMs);
    this.#routes.set(id, {
      from: SELF,
      originalId: id,
      type: "getheaders",
      message: { type: "getheaders", id, locator: locator.map(bytesToHex) },
      tried: new Set([c.id]),
      timer,
      fromRelay: false,
    });
    this.#send(c, { type: "getheaders", id, locator: locator.map(bytesToHex) });
  }

  /** Verify headers; relay what is new. Returns false when they do not connect. */
  #acceptHeaders(c: Connection, hexes: string[], solicited: boolean): void {
    if (hexes.length === 0) return;
    const headers = hexes.map((h) => decodeHeader(hexToBytes(h)));
    const before = this.#chain.tip;
    const fresh: string[] = [];
    for (let i = 0; i < headers.length; i++) {
      let result;
      try {
        result = this.#chain.add(headers[i], this.#clock());
      } catch (err) {
        this.stats.headersRejected++;
        if (err instanceof ValidationError && !err.ban) {
          this.stats.drops++;
          return; // e.g. a time too far ahead: drop, but the sender may be honest
        }
        throw err;
      }
      if (result.status === "orphan") {
        if (!solicited) this.#syncHeaders(c);
        break;
      }
      if (result.status === "added") {
        this.stats.headersVerified++;
        c.height = Math.max(c.height, headers[i].height);
        fresh.push(hexes[i]);
      }
    }
    if (fresh.length > 0) this.#persist(before);
    if (solicited && hexes.length >= MAX_HEADERS_PER_MESSAGE) {
      this.#syncing.delete(c.id);
      this.#syncHeaders(c, [hashHeader(headers[headers.length - 1]), ...this.#chain.locator()]);
    }
    if (fresh.length === 0 || !c.canPublish) return;
    // Relay the new headers once: to nodes and relays as announcements, to light clients
    // only when they are on the best chain.
    const key = `h:${fresh[fresh.length - 1]}`;
    if (!this.#firstSight(key)) return;
    // A fresh announcement goes on as it came; after a bulk sync only the newest header is
    // announced, and whoever lacks its ancestors asks for them with getheaders.
    const announce: Message = { type: "headers", headers: solicited ? fresh.slice(-1) : fresh };
    const text = JSON.stringify(announce);
    const tipMoved = this.#chain.tip !== before;
    for (const other of this.#connections.values()) {
      if (other === c || other.role === undefined) continue;
      if (other.role === "light" && !tipMoved) continue;
      this.#sendText(other, text);
    }
  }

  #persist(before: HeaderEntry): void {
    const store = this.#store;
    if (store === undefined) return;
    const change = headerChange(this.#chain, before, this.#lastBaseHeight);
    this.#lastBaseHeight = this.#chain.base.height;
    this.#persistQueue = this.#persistQueue
      .then(() => store.write(change))
      .catch((err) => this.#log("warn", `saving headers failed: ${(err as Error).message}`));
  }

  /** Resolves when pending header writes are done. */
  flush(): Promise<void> {
    return this.#persistQueue;
  }

  // ---- dispatch ----------------------------------------------------------------------

  #dispatch(c: Connection, msg: Message): void {
    switch (msg.type) {
      case "headers": {
        if (msg.id !== undefined) {
          const route = this.#routes.get(msg.id);
          if (route?.from === SELF) {
            this.#routes.delete(msg.id);
            clearTimeout(route.timer);
            this.#syncing.delete(c.id);
            return this.#acceptHeaders(c, msg.headers, true);
          }
          return this.#answer(c, msg);
        }
        if (!c.canPublish) return void this.stats.drops++;
        return this.#acceptHeaders(c, msg.headers, false);
      }
      case "inv": {
        if (!c.canPublish) return void this.stats.drops++;
        const blocks = (msg.blocks ?? []).filter((h) => this.#firstSight(`b:${h}`));
        const txs = (msg.txs ?? []).filter((h) => this.#firstSight(`t:${h}`));
        if (blocks.length === 0 && txs.length === 0) return void this.stats.drops++;
        const out: Message = {
          type: "inv",
          ...(blocks.length > 0 ? { blocks } : {}),
          ...(txs.length > 0 ? { txs } : {}),
        };
        const text = JSON.stringify(out);
        for (const other of this.#connections.values()) {
          if (other !== c && (other.role === "node" || other.role === "relay")) this.#sendText(other, text);
        }
        return;
      }
      case "getheaders": {
        const headers = this.#chain.headersAfter(msg.locator.map((h) => hexToBytes(h)), {
          stop: msg.stop === undefined ? undefined : hexToBytes(msg.stop),
          limit: Math.min(msg.limit ?? MAX_HEADERS_PER_MESSAGE, MAX_HEADERS_PER_MESSAGE),
        });
        if (headers !== undefined) {
          return this.#send(c, {
            type: "headers",
            id: msg.id,
            headers: headers.map((h) => bytesToHex(encodeHeader(h))),
          });
        }
        return this.#route(c, msg);
      }
      case "getcheckpoint": {
        // Above height 1 a checkpoint must prove its anchor (block 1), which only nodes can.
        const entry = msg.height < 2 ? this.#chain.atHeight(msg.height) : undefined;
        if (entry !== undefined) {
          const cp = checkpointToJson(this.#chain.checkpoint(entry));
          return this.#send(c, {
            type: "checkpoint",
            id: msg.id,
            header: cp.header,
            ancestors: cp.ancestors,
            history: cp.history,
          });
        }
        return this.#route(c, msg);
      }
      case "getblock":
      case "gettx":
      case "sendtx":
      case "gettxproof":
      case "getaccountproof":
      case "gethistoryproof":
        return this.#route(c, msg);
      case "checkpoint":
      case "block":
      case "tx":
      case "txack":
      case "txproof":
      case "accountproof":
      case "historyproof":
        return this.#answer(c, msg);
      case "error": {
        const route = msg.id === undefined ? undefined : this.#routes.get(msg.id);
        if (route?.from === SELF) {
          // Our own header sync failed: forget it so the next announcement can retry.
          clearTimeout(route.timer);
          this.#routes.delete(msg.id!);
          this.#syncing.delete(c.id);
          return;
        }
        if (route !== undefined) return this.#answer(c, msg);
        return;
      }
      default:
        return void this.stats.drops++;
    }
  }

  /** Forward a request to a node (not its sender) under a fresh id. */
  #route(c: Connection, msg: Message & { id: string }): void {
    if (c.inFlight >= this.#o.maxInFlight) {
      this.stats.drops++;
      return this.#send(
        c,
        errorMessage("TOO_MANY_REQUESTS", `more than ${this.#o.maxInFlight} requests in flight`, msg.id),
      );
    }
    const route: RoutedRequest = {
      from: c,
      originalId: msg.id,
      type: msg.type,
      message: msg,
      tried: new Set([c.id]),
      timer: 0 as unknown as ReturnType<typeof setTimeout>,
      fromRelay: c.role === "relay",
    };
    c.inFlight++;
    this.#forward(route);
  }

  #pickNode(route: RoutedRequest): Connection | undefined {
    let best: Connection | undefined;
    for (const other of this.#connections.values()) {
      if (route.tried.has(other.id) || other.role === undefined || other.role === "light") continue;
      if (other.role === "relay" && route.fromRelay) continue; // one relay hop: no loops
      // Prefer the host's own node, then nodes over relays.
      if (
        best === undefined || (!best.trusted && other.trusted) ||
        (!best.trusted && best.role === "relay" && other.role === "node")
      ) best = other;
    }
    return best;
  }

  #forward(route: RoutedRequest): void {
    const target = this.#pickNode(route);
    if (target === undefined) {
      this.stats.unanswered++;
      route.from.inFlight = Math.max(0, route.from.inFlight - 1);
      return this.#send(
        route.from,
        errorMessage("UNAVAILABLE", `no node answered ${route.type}`, route.originalId),
      );
    }
    route.tried.add(target.id);
    const id = `r${this.#nextId++}-${nanoid(10)}`;
    route.timer = setTimeout(() => {
      this.#routes.delete(id);
      this.#forward(route);
    }, this.#o.requestTimeoutMs);
    this.#routes.set(id, route);
    this.stats.routed++;
    this.#send(target, { ...route.message, id } as Message);
  }

  /** A response from a node: route it back to the requester under its original id. */
  #answer(c: Connection, msg: Message): void {
    const id = (msg as { id?: string }).id;
    const route = id === undefined ? undefined : this.#routes.get(id);
    if (route === undefined || !route.tried.has(c.id) || route.from === SELF) return void this.stats.drops++;
    const expected = RESPONSE_OF[route.type as keyof typeof RESPONSE_OF];
    if (msg.type !== expected && msg.type !== "error") return void this.stats.drops++;
    clearTimeout(route.timer);
    this.#routes.delete(id!);
    const missing = (msg.type === "block" && msg.block === null) || (msg.type === "tx" && msg.tx === null);
    if (missing && this.#pickNode(route) !== undefined) return this.#forward(route);
    if (msg.type === "error" && (msg.code === "UNAVAILABLE" || msg.code === "NOT_FOUND") && route.type !== "sendtx") {
      // Another node may know it: try the next one before giving up.
      if (this.#pickNode(route) !== undefined) return this.#forward(route);
    }
    if (msg.type === "headers") {
      try {
        this.#acceptHeaders(c, msg.headers, true);
      } catch (err) {
        // An invalid header is not passed on: cut the node off and ask another one.
        if (!(err instanceof ValidationError) || err.ban) {
          this.#misbehave(c, (err as ValidationError).code ?? ErrorCode.MALFORMED, (err as Error).message);
          return this.#forward(route);
        }
      }
    }
    route.from.inFlight = Math.max(0, route.from.inFlight - 1);
    if (msg.type !== "error") {
      if (this.#answeredBy.size >= 5_000) this.#answeredBy.delete(this.#answeredBy.keys().next().value!);
      this.#answeredBy.set(`${route.from.id}:${route.originalId}`, c);
    }
    this.#send(route.from, { ...msg, id: route.originalId } as Message);
  }
}

/** Marker for requests the hub itself made. */
const SELF = new Connection(0, { send() {}, close() {} }, "self", false, 0, 0);
