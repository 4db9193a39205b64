/**
 * One WebSocket connection from a light client to a relay or node: `hello` handshake,
 * requests matched to responses by id with a timeout, unsolicited header announcements, and
 * reconnection with exponential backoff and jitter. Uses only the standard WebSocket, so it
 * runs in Deno, browsers and Workers.
 *
 * @module
 */

import { nanoid } from "nanoid";
import {
  type HelloMessage,
  type Message,
  type MessageOf,
  parseMessage,
  PROTOCOL_VERSION,
  RESPONSE_OF,
  type ResponseTypes,
} from "../protocol/messages.ts";
import type { NetworkParams } from "../protocol/params.ts";
import { RelayError, RelayUnavailableError } from "./errors.ts";

/** Agent announced by the light client. */
export const LIGHT_AGENT = "edgeledger-light/0.1.0";

/** The WebSocket constructor to use (injectable for tests). */
export type WebSocketFactory = (url: string) => WebSocket;

type Pending = { resolve: (m: Message) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

/** Options of {@link RelayConnection}. */
export interface RelayConnectionOptions {
  /** Network parameters. */
  params: NetworkParams;
  /** Request timeout (ms). */
  requestTimeoutMs: number;
  /** Creates sockets. */
  createSocket: WebSocketFactory;
  /** Unsolicited `headers` announcements. */
  onHeaders: (conn: RelayConnection, headers: string[]) => void;
  /** The handshake completed (again, after a reconnect). */
  onReady: (conn: RelayConnection) => void;
}

/**
 * A reconnecting connection to one relay.
 *
 * @example
 * ```ts
 * const conn = new RelayConnection("wss://relay.example/ws", options);
 * await conn.ready();
 * const reply = await conn.request({ type: "getheaders", locator }, "headers");
 * ```
 */
export class RelayConnection {
  readonly url: string;
  readonly #o: RelayConnectionOptions;
  #socket: WebSocket | undefined;
  #hello: HelloMessage | undefined;
  readonly #pending = new Map<string, Pending>();
  #attempt = 0;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** Last error seen (for messages). */
  lastError: string | undefined;

  /** Start connecting. */
  constructor(url: string, options: RelayConnectionOptions) {
    this.url = url;
    this.#o = options;
    this.#dial();
  }

  /** The remote side's hello, once received. */
  get hello(): HelloMessage | undefined {
    return this.#hello;
  }

  /** Whether the handshake is complete and the socket open. */
  get isReady(): boolean {
    return this.#hello !== undefined && this.#socket?.readyState === 1;
  }

  /** Resolve once ready; reject after `timeoutMs`. */
  ready(timeoutMs = this.#o.requestTimeoutMs): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new RelayUnavailableError(`${this.url} did not answer${this.lastError ? `: ${this.lastError}` : ""}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push({ resolve: done, reject });
    });
  }

  #dial(): void {
    if (this.#closed) return;
    let socket: WebSocket;
    try {
      socket = this.#o.createSocket(this.url);
    } catch (err) {
      this.lastError = (err as Error).message;
      return this.#retry();
    }
    this.#socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify(
        {
          type: "hello",
          version: PROTOCOL_VERSION,
          network: this.#o.params.name,
          genesis: this.#o.params.genesisHash,
          role: "light",
          agent: LIGHT_AGENT,
          height: 0,
        } satisfies HelloMessage,
      ));
    };
    socket.onmessage = (e) => this.#onMessage(e.data);
    socket.onerror = (e) => {
      this.lastError = (e as ErrorEvent).message ?? "connection error";
    };
    socket.onclose = () => {
      if (this.#socket === socket) this.#socket = undefined;
      this.#hello = undefined;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new RelayUnavailableError(`${this.url} disconnected`));
      }
      this.#pending.clear();
      this.#retry();
    };
  }

  #retry(): void {
    if (this.#closed) return;
    const base = Math.min(30_000, 250 * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 10);
    this.#timer = setTimeout(() => this.#dial(), base / 2 + (Math.random() * base) / 2);
  }

  #onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let msg: Message;
    try {
      msg = parseMessage(data, this.#o.params.maxMessageBytes);
    } catch {
      return; // malformed frames from a relay are ignored; answers are verified anyway
    }
    if (msg.type === "hello") {
      if (msg.network !== this.#o.params.name || msg.genesis !== this.#o.params.genesisHash) {
        this.lastError = `relay is on ${msg.network}, not ${this.#o.params.name}`;
        this.#socket?.close(1008, "wrong network");
        return;
      }
      this.#hello = msg;
      this.#attempt = 0;
      for (const w of this.#waiters.splice(0)) w.resolve();
      this.#o.onReady(this);
      return;
    }
    if (msg.type === "ping") {
      this.#socket?.send(JSON.stringify({ type: "pong", ...(msg.nonce ? { nonce: msg.nonce } : {}) }));
      return;
    }
    if (msg.type === "error" && msg.id === undefined) {
      this.lastError = `${msg.code}: ${msg.message}`;
      return;
    }
    const id = (msg as { id?: string }).id;
    if (id !== undefined) {
      const pending = this.#pending.get(id);
      if (pending !== undefined) {
        this.#pending.delete(id);
        clearTimeout(pending.timer);
        pending.resolve(msg);
      }
      return;
    }
    if (msg.type === "headers") this.#o.onHeaders(this, msg.headers);
  }

  /** Send a request and wait for its response (an `error` reply rejects with {@link RelayError}). */
  async request<T extends keyof ResponseTypes>(
    msg: Omit<MessageOf<T>, "id"> & { type: T },
  ): Promise<MessageOf<ResponseTypes[T]>> {
    await this.ready();
    const id = nanoid();
    const expected = RESPONSE_OF[msg.type as T];
    const reply = await new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RelayUnavailableError(`${this.url} did not answer ${msg.type} in ${this.#o.requestTimeoutMs} ms`));
      }, this.#o.requestTimeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#socket!.send(JSON.stringify({ ...msg, id }));
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new RelayUnavailableError(`${this.url}: ${(err as Error).message}`));
      }
    });
    if (reply.type === "error") throw new RelayError(reply.code, reply.message);
    if (reply.type !== expected) throw new RelayError("BAD_MESSAGE", `expected ${expected}, got ${reply.type}`);
    return reply as MessageOf<ResponseTypes[T]>;
  }

  /** Close for good. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#waiters.splice(0)) w.reject(new RelayUnavailableError("closed"));
    try {
      this.#socket?.close(1000, "client closed");
    } catch {
      // already closed
    }
  }
}
