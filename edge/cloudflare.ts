/**
 * Cloudflare adapter of the relay: a Worker (Hono) that hands `/ws`, `/status` and `/metrics`
 * to one Durable Object per network, and that object ({@link RelayObject}), which runs the
 * relay core over the WebSocket Hibernation API with its header cache in the object's SQLite
 * storage. `deno task relay:cf` runs it locally in workerd (`wrangler dev`), `deno task deploy:cf`
 * deploys it; `wrangler.toml` holds the binding and the SQLite migration.
 *
 * Variables: NETWORK (devnet by default), RELAY_TOKEN (nodes must present it to publish) and
 * UPSTREAM (comma-separated ws:// or wss:// URLs of relays or nodes to dial).
 *
 * Platform notes:
 * - Sockets accepted from clients hibernate: when the object is idle it leaves memory and the
 *   sockets stay open. Each keeps its connection state (role, publish right) in its attachment,
 *   and the next event re-creates the hub's connections from `ctx.getWebSockets()`. What the hub
 *   holds only in memory (de-duplication memory, rate-limit buckets) starts afresh after that.
 * - Upstream sockets are dialled by the object and cannot hibernate: while one is open the
 *   object stays in memory. An alarm re-dials them (with backoff) and keeps them up across
 *   evictions and deploys; the object first starts on any request (e.g. `GET /status`).
 * - Limits: frames up to min(network maxMessageBytes, 32 MiB), at most 32,768 sockets per
 *   object, a header window sized for the 128 MB isolate memory. workerd reports no
 *   `bufferedAmount`, so the core's send-buffer backpressure cannot act here; outgoing frames
 *   are queued by the runtime.
 *
 * @module
 */

import { Hono } from "hono";
import { hexToBytes } from "../protocol/bytes.ts";
import { decodeHeader } from "../protocol/header.ts";
import type { CheckpointJson } from "../protocol/header_chain.ts";
import { getNetwork } from "../protocol/params.ts";
import {
  type ConnectionState,
  type HeaderStore,
  type RelayConnectionHandle,
  RelayHub,
  type RelaySocket,
} from "./relay_core.ts";

// ---- the part of the Workers runtime API this adapter uses (no @cloudflare/workers-types) ----

/** A WebSocket in workerd, with the hibernation extensions. */
export interface CfWebSocket {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Send a frame. */
  send(data: string | ArrayBuffer): void;
  /** Close the connection. */
  close(code?: number, reason?: string): void;
  /** Start delivering events of a socket that is not hibernatable (outbound sockets). */
  accept(): void;
  /** Listen to a socket that is not hibernatable. */
  addEventListener(type: "message" | "close" | "error", listener: (event: { data?: unknown }) => void): void;
  /** Keep a small structured-clonable value with the socket across hibernation. */
  serializeAttachment(value: unknown): void;
  /** The value last given to serializeAttachment. */
  deserializeAttachment(): unknown;
}

/** Durable Object SQLite storage (`ctx.storage.sql`). */
export interface SqlStorage {
  /** Run one statement with `?` bindings. */
  exec(query: string, ...bindings: unknown[]): { toArray(): Record<string, unknown>[] };
}

/** Durable Object storage (`ctx.storage`). */
export interface DurableObjectStorage {
  /** SQLite API of a SQLite-backed object. */
  readonly sql: SqlStorage;
  /** Run `fn` in one transaction. */
  transactionSync<T>(fn: () => T): T;
  /** Time of the scheduled alarm (ms), or null. */
  getAlarm(): Promise<number | null>;
  /** Schedule the alarm (replaces the one scheduled). */
  setAlarm(scheduledTime: number): Promise<void>;
}

/** Durable Object state (`ctx`). */
export interface DurableObjectState {
  /** Storage. */
  readonly storage: DurableObjectStorage;
  /** Hold other events until `fn` settles. */
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
  /** Accept a server socket with the Hibernation API. */
  acceptWebSocket(socket: CfWebSocket, tags?: string[]): void;
  /** Every hibernatable socket of this object. */
  getWebSockets(tag?: string): CfWebSocket[];
}

/** A Durable Object namespace binding. */
export interface DurableObjectNamespace {
  /** The id of the object with this name. */
  idFromName(name: string): unknown;
  /** A stub to send requests to. */
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** Bindings and variables of the Worker (wrangler.toml). */
export interface RelayEnv {
  /** The RelayObject namespace. */
  RELAY: DurableObjectNamespace;
  /** Network name (devnet by default). */
  NETWORK?: string;
  /** Shared secret nodes present in hello to publish. */
  RELAY_TOKEN?: string;
  /** Comma-separated ws:// or wss:// URLs to dial. */
  UPSTREAM?: string;
}

// ---- limits --------------------------------------------------------------------------------
// workerd treats every value export of the entry module as a handler or class: only the default
// export and RelayObject are exported.

/** Largest WebSocket message a Worker may receive. */
const CF_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
/** Most hibernatable WebSockets per Durable Object. */
const CF_MAX_SOCKETS = 32_768;
/** Headers kept in memory: about 1 KiB each, well inside the 128 MB isolate. */
const CF_MAX_HEADERS = 50_000;
/** How often the alarm checks upstream sockets. */
const UPSTREAM_CHECK_MS = 60_000;
/** How long to wait for an upstream's upgrade response. */
const DIAL_TIMEOUT_MS = 15_000;
const WS_OPEN = 1;

// ---- header cache in SQLite ----------------------------------------------------------------

/**
 * Header cache in a Durable Object's SQLite storage: one row per best-chain height plus the
 * base checkpoint and the tip height.
 *
 * @example
 * ```ts
 * const hub = new RelayHub({ params }, { store: sqlHeaderStore(ctx.storage) });
 * await hub.load();
 * ```
 */
function sqlHeaderStore(storage: DurableObjectStorage): HeaderStore {
  const { sql } = storage;
  sql.exec("CREATE TABLE IF NOT EXISTS relay_headers (height INTEGER PRIMARY KEY, header TEXT NOT NULL)");
  sql.exec("CREATE TABLE IF NOT EXISTS relay_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const meta = (key: string) =>
    sql.exec("SELECT value FROM relay_meta WHERE key = ?", key).toArray()[0]?.value as string;
  const setMeta = (key: string, value: string) =>
    sql.exec("INSERT OR REPLACE INTO relay_meta (key, value) VALUES (?, ?)", key, value);
  return {
    // deno-lint-ignore require-await
    async load() {
      const tip = meta("tip");
      if (tip === undefined) return undefined;
      const base = meta("base");
      const rows = sql.exec("SELECT header FROM relay_headers WHERE height <= ? ORDER BY height", Number(tip))
        .toArray();
      return {
        base: base === undefined ? undefined : JSON.parse(base) as CheckpointJson,
        headers: rows.map((r) => r.header as string),
      };
    },
    // deno-lint-ignore require-await
    async write({ base, from, headers, tip }) {
      storage.transactionSync(() => {
        if (base !== undefined) {
          setMeta("base", JSON.stringify(base));
          sql.exec("DELETE FROM relay_headers WHERE height <= ?", decodeHeader(hexToBytes(base.header)).height);
        }
        // The core re-sends up to 64 unchanged headers before the new ones; rows written are
        // what SQLite storage bills, so only rows that differ are written.
        const stored = new Map(
          sql.exec(
            "SELECT height, header FROM relay_headers WHERE height >= ? AND height < ?",
            from,
            from + headers.length,
          )
            .toArray().map((r) => [Number(r.height), r.header as string]),
        );
        for (let i = 0; i < headers.length; i++) {
          if (stored.get(from + i) === headers[i]) continue;
          sql.exec("INSERT OR REPLACE INTO relay_headers (height, header) VALUES (?, ?)", from + i, headers[i]);
        }
        sql.exec("DELETE FROM relay_headers WHERE height > ?", tip);
        setMeta("tip", String(tip));
      });
    },
  };
}

// ---- the Durable Object ----------------------------------------------------------------------

interface Attached {
  handle: RelayConnectionHandle;
  /** JSON of the state last written to the attachment. */
  saved: string;
}

interface Upstream {
  url: string;
  socket?: CfWebSocket;
  dialing: boolean;
  attempt: number;
  nextAt: number;
}

function log(level: string, message: string): void {
  if (level !== "debug") console.log(`relay ${message}`);
}

/**
 * One relay per network: the relay core over hibernatable WebSockets, with the header cache in
 * SQLite. Bound as `RELAY` in wrangler.toml with a `new_sqlite_classes` migration.
 *
 * @example
 * ```ts
 * const stub = env.RELAY.get(env.RELAY.idFromName("devnet"));
 * const status = await (await stub.fetch(new Request("https://relay/status"))).json();
 * ```
 */
export class RelayObject {
  /** The relay core. */
  readonly hub: RelayHub;
  readonly #ctx: DurableObjectState;
  readonly #sockets = new Map<CfWebSocket, Attached>();
  readonly #upstream: Upstream[];
  readonly #startedAt = new Date().toISOString();
  #restored = false;
  #socketsRestored = 0;

  /** Called by the runtime when the object starts (first request, alarm, or wake-up from hibernation). */
  constructor(ctx: DurableObjectState, env: RelayEnv) {
    this.#ctx = ctx;
    const params = getNetwork(env.NETWORK || "devnet");
    this.hub = new RelayHub({
      params,
      maxFrameBytes: Math.min(params.maxMessageBytes, CF_MAX_MESSAGE_BYTES),
      maxConnections: CF_MAX_SOCKETS,
      maxHeaders: CF_MAX_HEADERS,
      dedupeMax: 50_000,
      publishToken: env.RELAY_TOKEN || undefined,
    }, { store: sqlHeaderStore(ctx.storage), log });
    this.#upstream = parseUpstream(env.UPSTREAM).map((url) => ({ url, dialing: false, attempt: 0, nextAt: 0 }));
    ctx.blockConcurrencyWhile(async () => {
      const n = await this.hub.load();
      if (n > 0) log("info", `restored ${n} headers from storage (height ${this.hub.headers.height})`);
      if (this.#upstream.length > 0 && await ctx.storage.getAlarm() === null) await ctx.storage.setAlarm(Date.now());
    });
  }

  /** `/ws` (upgrade), `/status`, `/metrics`; the Worker has checked the method and upgrade header. */
  fetch(request: Request): Response {
    this.#restore();
    const path = new URL(request.url).pathname;
    if (path === "/status") {
      // When this instance started and how many sockets it took over (hibernation, eviction).
      const cloudflare = {
        objectStartedAt: this.#startedAt,
        socketsRestored: this.#socketsRestored,
        upstream: this.#upstream.map((up) => ({
          url: up.url,
          connected: up.socket !== undefined,
          attempt: up.attempt,
        })),
      };
      return Response.json({ ...this.hub.status(), cloudflare });
    }
    if (path === "/metrics") {
      return new Response(this.hub.metrics(), { headers: { "content-type": "text/plain; version=0.0.4" } });
    }
    if (path !== "/ws" || request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: `no route ${path}`, code: "NOT_FOUND" }, { status: 404 });
    }
    const [client, server] = Object.values(new WebSocketPair()) as [CfWebSocket, CfWebSocket];
    this.#ctx.acceptWebSocket(server);
    const state: ConnectionState = { address: request.headers.get("cf-connecting-ip") ?? "unknown", outbound: false };
    server.serializeAttachment(state);
    this.#attach(server, state);
    return new Response(null, { status: 101, webSocket: client } as ResponseInit);
  }

  /** A frame on a hibernatable socket. */
  webSocketMessage(ws: CfWebSocket, message: string | ArrayBuffer): void {
    this.#restore();
    const attached = this.#sockets.get(ws);
    if (attached === undefined) return; // closed by the hub, close handshake still running
    attached.handle.receive(message);
    if (this.#sockets.get(ws) !== attached) return;
    // State changes after hello; keep it with the socket so it survives hibernation.
    const state = attached.handle.state();
    const json = JSON.stringify(state);
    if (json !== attached.saved) {
      ws.serializeAttachment(state);
      attached.saved = json;
    }
  }

  /** The peer closed: answer its close frame (hibernatable sockets are still CLOSING here). */
  webSocketClose(ws: CfWebSocket, code: number, reason: string): void {
    this.#restore();
    this.#detach(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason); // 1005/1006 cannot be sent
    } catch {
      // already closed
    }
  }

  /** The socket failed. */
  webSocketError(ws: CfWebSocket): void {
    this.#restore();
    this.#detach(ws);
  }

  /** Re-dial upstream sockets that are down and check again later. */
  async alarm(): Promise<void> {
    this.#restore();
    const now = Date.now();
    let next = now + UPSTREAM_CHECK_MS;
    for (const up of this.#upstream) {
      if (up.socket === undefined && !up.dialing) {
        if (up.nextAt <= now) this.#dial(up);
        else next = Math.min(next, up.nextAt);
      }
    }
    if (this.#upstream.length > 0) await this.#ctx.storage.setAlarm(next);
  }

  /** Once per start: re-create the hub's connections from the sockets that outlived the last one. */
  #restore(): void {
    if (this.#restored) return;
    this.#restored = true;
    for (const ws of this.#ctx.getWebSockets()) {
      if (this.#sockets.has(ws) || ws.readyState !== WS_OPEN) continue;
      const state = ws.deserializeAttachment() as ConnectionState | null;
      this.#attach(ws, state ?? { address: "unknown", outbound: false });
      this.#socketsRestored++;
    }
    for (const up of this.#upstream) if (up.socket === undefined && !up.dialing) this.#dial(up);
  }

  #attach(ws: CfWebSocket, state: ConnectionState): void {
    const socket: RelaySocket = {
      send: (data) => ws.send(data),
      close: (code, reason) => {
        this.#sockets.delete(ws);
        ws.close(code, reason);
      },
    };
    const handle = this.hub.accept(socket, { address: state.address, state });
    if (handle !== undefined) this.#sockets.set(ws, { handle, saved: JSON.stringify(state) });
  }

  #detach(ws: CfWebSocket): void {
    this.#sockets.get(ws)?.handle.closed();
    this.#sockets.delete(ws);
  }

  /** Dial an upstream relay; such sockets keep the object in memory while open. */
  async #dial(up: Upstream): Promise<void> {
    up.dialing = true;
    try {
      const res = await fetch(up.url.replace(/^ws/i, "http"), {
        headers: { upgrade: "websocket" },
        signal: AbortSignal.timeout(DIAL_TIMEOUT_MS), // a peer that accepts and never answers
      });
      const ws = (res as Response & { webSocket?: CfWebSocket | null }).webSocket;
      if (ws === undefined || ws === null) throw new Error(`no WebSocket upgrade (HTTP ${res.status})`);
      ws.accept();
      up.socket = ws;
      up.attempt = 0;
      const handle = this.hub.accept({ send: (d) => ws.send(d), close: (c, r) => ws.close(c, r) }, {
        address: up.url,
        outbound: true,
      });
      log("info", `connected to upstream ${up.url}`);
      const down = () => {
        handle?.closed();
        if (up.socket !== ws) return;
        up.socket = undefined;
        this.#retryLater(up);
      };
      ws.addEventListener("message", (e) => handle?.receive(e.data));
      ws.addEventListener("close", down);
      ws.addEventListener("error", down);
    } catch (err) {
      log("warn", `upstream ${up.url}: ${(err as Error).message}`);
      this.#retryLater(up);
    } finally {
      up.dialing = false;
    }
  }

  /** Schedule a re-dial with exponential backoff and jitter, through the alarm. */
  #retryLater(up: Upstream): void {
    const base = Math.min(UPSTREAM_CHECK_MS, 1000 * 2 ** up.attempt);
    up.attempt = Math.min(up.attempt + 1, 10);
    up.nextAt = Date.now() + base / 2 + Math.random() * base / 2;
    const storage = this.#ctx.storage;
    storage.getAlarm().then((at) => at === null || at > up.nextAt ? storage.setAlarm(up.nextAt) : undefined)
      .catch((err) => log("warn", `setting the alarm failed: ${(err as Error).message}`));
  }
}

declare const WebSocketPair: { new (): Record<0 | 1, CfWebSocket> };

function parseUpstream(value: string | undefined): string[] {
  const urls = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const url of urls) {
    if (!/^wss?:\/\//i.test(url)) {
      throw new RangeError(`Expected "UPSTREAM" to hold ws:// or wss:// URLs, got "${url}"`);
    }
  }
  return urls;
}

// ---- the Worker ------------------------------------------------------------------------------

/**
 * The Worker's Hono app: `/ws`, `/status` and `/metrics` go to the network's RelayObject.
 *
 * @example
 * ```ts
 * const res = await createRelayWorker().fetch(new Request("http://relay/status"), env);
 * ```
 */
function createRelayWorker(): Hono<{ Bindings: RelayEnv }> {
  const app = new Hono<{ Bindings: RelayEnv }>();
  const network = (env: RelayEnv) => getNetwork(env.NETWORK || "devnet").name;
  const toRelay = (env: RelayEnv, request: Request) => env.RELAY.get(env.RELAY.idFromName(network(env))).fetch(request);
  app.get("/", (c) =>
    c.json({
      name: "edgeledger relay",
      network: network(c.env),
      endpoints: ["GET /ws (WebSocket)", "GET /status", "GET /metrics"],
    }));
  app.get("/status", (c) => toRelay(c.env, c.req.raw));
  app.get("/metrics", (c) => toRelay(c.env, c.req.raw));
  app.get("/ws", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json({ error: "expected a WebSocket upgrade", code: "BAD_REQUEST" }, 426);
    }
    return toRelay(c.env, c.req.raw);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.path}`, code: "NOT_FOUND" }, 404));
  app.onError((err, c) => c.json({ error: (err as Error).message, code: "INTERNAL" }, 500));
  return app;
}

/** The Worker entry point; the Workers module format requires a default export. */
export default createRelayWorker();
