/**
 * Deno adapter of the relay: a Hono app on `Deno.serve`. Run locally with
 * `deno task relay [--listen HOST:PORT] [--network devnet|regtest] [--upstream URL]...`;
 * the same file is the Deno Deploy entry point, configured there by environment variables
 * (NETWORK, UPSTREAM as a comma-separated list, RELAY_TOKEN).
 *
 * Several isolates may serve one Deploy app: when BroadcastChannel is available the isolates
 * form one relay by exchanging frames over a channel per network (each isolate sees the others
 * as one relay connection). Where it is not, each isolate is a relay of its own: clients
 * connected to different isolates only meet through upstream relays or nodes.
 *
 * The header cache lives in Deno KV when `Deno.openKv` is available (Deploy, or locally with
 * `--kv FILE` and `--unstable-kv`), in memory otherwise.
 *
 * @module
 */

import { Hono } from "hono";
import { parseArgs } from "node:util";
import { getNetwork, type NetworkParams } from "../protocol/params.ts";
import type { CheckpointJson } from "../protocol/header_chain.ts";
import { hexToBytes } from "../protocol/bytes.ts";
import { decodeHeader } from "../protocol/header.ts";
import { type HeaderStore, RelayHub, type RelayOptions, type RelaySocket } from "./relay_core.ts";

/** Options of {@link startDenoRelay}. */
export interface DenoRelayOptions extends Omit<RelayOptions, "params"> {
  /** Network. */
  params: NetworkParams;
  /** Listen address. */
  hostname: string;
  /** Listen port (0 picks one). */
  port: number;
  /** Relays (or nodes) to dial and keep dialling. */
  upstream?: string[];
  /** Deno KV path for the header cache ("" for the default KV, undefined for memory). */
  kvPath?: string;
  /** Join other isolates over BroadcastChannel. */
  broadcast?: boolean;
  /** Quiet logging. */
  quiet?: boolean;
}

/** A running Deno relay. */
export interface DenoRelay {
  /** The hub. */
  hub: RelayHub;
  /** Bound port. */
  port: number;
  /** Stop serving and close everything. */
  stop(): Promise<void>;
}

/** Header cache in Deno KV: one key per best-chain height plus the base checkpoint. */
export function kvHeaderStore(kv: Deno.Kv, network: string): HeaderStore {
  const prefix = ["edgeledger", network];
  return {
    async load() {
      const base = (await kv.get<CheckpointJson>([...prefix, "base"])).value ?? undefined;
      const tip = (await kv.get<number>([...prefix, "tip"])).value;
      if (tip === null) return undefined;
      const headers: string[] = [];
      for await (const entry of kv.list<string>({ prefix: [...prefix, "h"] })) headers.push(entry.value);
      return { base, headers };
    },
    async write({ base, from, headers, tip }) {
      let op = kv.atomic();
      let n = 0;
      const commit = async () => {
        const r = await op.commit();
        if (!r.ok) throw new Error("KV commit failed");
        op = kv.atomic();
        n = 0;
      };
      if (base !== undefined) {
        op.set([...prefix, "base"], base);
        // Heights at or below the new base are no longer part of the saved chain.
        const baseHeight = decodeHeader(hexToBytes(base.header)).height;
        for await (const entry of kv.list({ start: [...prefix, "h", 0], end: [...prefix, "h", baseHeight + 1] })) {
          await kv.delete(entry.key);
        }
      }
      for (let i = 0; i < headers.length; i++) {
        op.set([...prefix, "h", from + i], headers[i]);
        if (++n >= 500) await commit();
      }
      op.set([...prefix, "tip"], tip);
      await commit();
      for await (
        const entry of kv.list({ start: [...prefix, "h", tip + 1], end: [...prefix, "h", Number.MAX_SAFE_INTEGER] })
      ) {
        await kv.delete(entry.key);
      }
    },
  };
}

function wrap(socket: WebSocket): RelaySocket {
  return {
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
  };
}

/** Keep a WebSocket to `url` open, re-dialling with exponential backoff and jitter. */
function dialForever(hub: RelayHub, url: string, log: (m: string) => void): () => void {
  let stopped = false;
  let attempt = 0;
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const dial = () => {
    if (stopped) return;
    try {
      socket = new WebSocket(url);
    } catch (err) {
      log(`upstream ${url}: ${(err as Error).message}`);
      return retry();
    }
    let handle: ReturnType<RelayHub["accept"]>;
    socket.onopen = () => {
      attempt = 0;
      handle = hub.accept(wrap(socket!), { address: url, outbound: true });
      log(`connected to upstream ${url}`);
    };
    socket.onmessage = (e) => handle?.receive(e.data);
    socket.onerror = () => {};
    socket.onclose = () => {
      handle?.closed();
      handle = undefined;
      retry();
    };
  };
  const retry = () => {
    if (stopped) return;
    const base = Math.min(30_000, 500 * 2 ** attempt);
    attempt = Math.min(attempt + 1, 10);
    timer = setTimeout(dial, base / 2 + Math.random() * base / 2);
  };
  dial();
  return () => {
    stopped = true;
    clearTimeout(timer);
    try {
      socket?.close(1001, "relay shutting down");
    } catch {
      // already closed
    }
  };
}

/** Join other isolates of the same app: the channel acts as one relay connection. */
function joinIsolates(hub: RelayHub, network: string): () => void {
  const channel = new BroadcastChannel(`edgeledger-relay-${network}`);
  const handle = hub.accept({ send: (data) => channel.postMessage(data), close: () => {} }, {
    address: "isolates",
    state: { role: "relay", address: "isolates", outbound: true, canPublish: true, agent: "isolate" },
  });
  channel.onmessage = (e) => handle?.receive(e.data);
  return () => {
    handle?.closed();
    channel.close();
  };
}

/**
 * Build the Hono app: `/ws` (WebSocket), `/status` (JSON), `/metrics` (Prometheus).
 *
 * @example
 * ```ts
 * Deno.serve(createRelayApp(hub).fetch);
 * ```
 */
export function createRelayApp(hub: RelayHub): Hono<{ Bindings: { remoteAddr?: string } }> {
  const app = new Hono<{ Bindings: { remoteAddr?: string } }>();
  app.get("/", (c) =>
    c.json({
      name: "edgeledger relay",
      network: hub.params.name,
      endpoints: ["GET /ws (WebSocket)", "GET /status", "GET /metrics"],
    }));
  app.get("/status", (c) => c.json(hub.status()));
  app.get("/metrics", (c) => c.text(hub.metrics(), 200, { "content-type": "text/plain; version=0.0.4" }));
  app.get("/ws", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json({ error: "expected a WebSocket upgrade", code: "BAD_REQUEST" }, 426);
    }
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 120 });
    let handle: ReturnType<RelayHub["accept"]>;
    socket.onopen = () => {
      handle = hub.accept(wrap(socket), { address: c.env?.remoteAddr ?? "unknown" });
    };
    socket.onmessage = (e) => handle?.receive(e.data);
    socket.onclose = () => handle?.closed();
    socket.onerror = () => {};
    return response;
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.path}`, code: "NOT_FOUND" }, 404));
  app.onError((err, c) => c.json({ error: (err as Error).message, code: "INTERNAL" }, 500));
  return app;
}

/** Start a relay on Deno. */
export async function startDenoRelay(options: DenoRelayOptions): Promise<DenoRelay> {
  const log = (m: string) =>
    options.quiet ? undefined : console.error(`${new Date().toISOString().slice(11, 19)} relay ${m}`);
  let kv: Deno.Kv | undefined;
  if (options.kvPath !== undefined && typeof Deno.openKv === "function") {
    kv = await Deno.openKv(options.kvPath === "" ? undefined : options.kvPath);
  }
  const hub = new RelayHub(options, {
    store: kv === undefined ? undefined : kvHeaderStore(kv, options.params.name),
    log: (level, message) => level !== "debug" && log(message),
  });
  const restored = await hub.load();
  if (restored > 0) log(`restored ${restored} headers from Deno KV (height ${hub.headers.height})`);
  const app = createRelayApp(hub);
  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: ({ hostname, port }) => {
      log(
        `${options.params.name} relay listening on http://${hostname}:${port} (WebSocket ws://${hostname}:${port}/ws)`,
      );
      resolve(port);
    },
  }, (req, info) => app.fetch(req, { remoteAddr: (info.remoteAddr as Deno.NetAddr).hostname }));
  const port = await promise;
  const stops = (options.upstream ?? []).map((url) => dialForever(hub, url, log));
  if (options.broadcast && typeof BroadcastChannel === "function") stops.push(joinIsolates(hub, options.params.name));
  return {
    hub,
    port,
    async stop() {
      for (const stop of stops) stop();
      hub.close();
      await server.shutdown();
      await hub.flush();
      kv?.close();
    },
  };
}

const HELP = `Usage: deno task relay [options]

Run an edgeledger edge relay on Deno: relays blocks and transactions between nodes, keeps a
verified header cache for light clients, and routes requests to nodes.

Options:
  --listen HOST:PORT   address to serve on (default 127.0.0.1:8787)
  --network NAME       devnet (default) or regtest
  --upstream URL       another relay's (or node's) ws:// or wss:// endpoint; repeatable
  --token SECRET       nodes must present this in hello to publish
  --kv FILE            keep the header cache in Deno KV at FILE (needs --unstable-kv)
  --broadcast          join other isolates over BroadcastChannel
  -h, --help           show this help

On Deno Deploy the same file reads NETWORK, UPSTREAM (comma-separated) and RELAY_TOKEN.`;

async function main(): Promise<number> {
  const deploy = Deno.env.get("DENO_DEPLOYMENT_ID") !== undefined;
  let values;
  try {
    values = parseArgs({
      args: Deno.args,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: "string" },
        network: { type: "string" },
        upstream: { type: "string", multiple: true },
        token: { type: "string" },
        kv: { type: "string" },
        broadcast: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    console.error(`error: ${(err as Error).message.split("\n")[0]} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let params: NetworkParams;
  try {
    params = getNetwork(values.network ?? Deno.env.get("NETWORK") ?? "devnet");
  } catch (err) {
    console.error(`error: --network: ${(err as Error).message}`);
    return 2;
  }
  const listen = values.listen ?? (deploy ? "0.0.0.0:8000" : "127.0.0.1:8787");
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(listen);
  if (m === null || Number(m[2]) > 65535) {
    console.error(`error: --listen: expected HOST:PORT, got "${listen}"`);
    return 2;
  }
  const upstream = values.upstream ?? (Deno.env.get("UPSTREAM")?.split(",").filter(Boolean) ?? []);
  for (const url of upstream) {
    if (!/^wss?:\/\//.test(url)) {
      console.error(`error: --upstream: "${url}" must start with ws:// or wss://`);
      return 2;
    }
  }
  const relay = await startDenoRelay({
    params,
    hostname: m[1].replace(/^\[|\]$/g, ""),
    port: Number(m[2]),
    upstream,
    publishToken: values.token ?? Deno.env.get("RELAY_TOKEN"),
    kvPath: values.kv ?? (deploy ? "" : undefined),
    broadcast: values.broadcast ?? deploy,
  });
  const { promise, resolve } = Promise.withResolvers<void>();
  if (!deploy) {
    Deno.addSignalListener("SIGINT", () => resolve());
    Deno.addSignalListener("SIGTERM", () => resolve());
  }
  await promise;
  await relay.stop();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
