/**
 * A hostile relay for light-client tests: a real WebSocket server (Deno.serve on
 * 127.0.0.1:0) that proxies every frame between a light client and a real relay, with hooks
 * that rewrite, replace or withhold frames by message type in either direction, and a way to
 * push frames of its own (announcements). Plus small forgers of the things a hostile relay
 * serves: headers that fail only their proof of work, valid headers of a competing branch,
 * and tampered proofs.
 *
 * @module
 */

import { bytesToHex, hexToBytes } from "../../protocol/bytes.ts";
import { type BlockHeader, decodeHeader, encodeHeader, hashHeader } from "../../protocol/header.ts";
import type { HistoryAccumulator } from "../../protocol/history.ts";
import type { NetworkParams } from "../../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../../protocol/pow.ts";
import { decodeSmtProof, encodeSmtProof } from "../../protocol/smt.ts";

/** One parsed JSON frame. */
export type Frame = { type: string; id?: string } & Record<string, unknown>;

/** What a hook sees besides the frame. */
export interface HookContext {
  /** For a response: the client's request with the same id (as the client sent it). */
  request?: Frame;
  /** Number of the client connection (1, 2, ...). */
  connection: number;
  /** Send a frame to this connection's client. */
  toClient(frame: Frame): void;
  /** Send a frame to this connection's upstream relay. */
  toUpstream(frame: Frame): void;
}

/**
 * Rewrites one frame: return the frame to send (the same or another), `null` to withhold it,
 * or `undefined` to pass it on unchanged.
 */
export type Hook = (frame: Frame, context: HookContext) => Frame | null | undefined | Promise<Frame | null | undefined>;

/** Hooks by message type; tests may change them while the relay runs. */
export type Hooks = Partial<Record<string, Hook>>;

/** Options of {@link startHostileRelay}. */
export interface HostileRelayOptions {
  /** The real relay's WebSocket URL. */
  upstream: string;
  /** Hooks on frames from the relay to the client, by type. */
  responses?: Hooks;
  /** Hooks on frames from the client to the relay, by type. */
  requests?: Hooks;
  /** Never send the client anything, not even `hello` (a relay that accepts and stays silent). */
  silent?: boolean;
}

/** A running hostile relay. */
export interface HostileRelay {
  /** ws://127.0.0.1:PORT/ws */
  url: string;
  /** Bound port. */
  port: number;
  /** Hooks on relay-to-client frames (mutable). */
  responses: Hooks;
  /** Hooks on client-to-relay frames (mutable). */
  requests: Hooks;
  /** How many frames each hook changed or withheld, by direction and type ("response:accountproof"). */
  tampered: Map<string, number>;
  /** Send `frame` to every connected client. */
  announce(frame: Frame): void;
  /** Close every connection and stop serving. */
  stop(): Promise<void>;
}

interface Link {
  number: number;
  client: WebSocket;
  upstream: WebSocket;
  /** Frames for the upstream socket before it opened. */
  backlog: string[];
  /** Client requests by id. */
  requests: Map<string, Frame>;
  /** Keeps frames in order while async hooks run. */
  chain: Promise<void>;
}

function sendOpen(socket: WebSocket, text: string): void {
  if (socket.readyState !== WebSocket.OPEN) return;
  try {
    socket.send(text);
  } catch {
    // closing
  }
}

/**
 * Start a hostile relay in front of `options.upstream`.
 *
 * @example
 * ```ts
 * const hostile = await startHostileRelay({ upstream: relayWs });
 * hostile.responses.accountproof = (m) => ({ ...m, account: null });
 * const client = await LightClient.connect({ relays: [hostile.url], network: "regtest" });
 * ```
 */
export async function startHostileRelay(options: HostileRelayOptions): Promise<HostileRelay> {
  const responses: Hooks = { ...options.responses };
  const requests: Hooks = { ...options.requests };
  const tampered = new Map<string, number>();
  const links = new Set<Link>();
  let next = 1;

  const count = (key: string) => tampered.set(key, (tampered.get(key) ?? 0) + 1);

  const pass = async (link: Link, text: string, direction: "request" | "response"): Promise<void> => {
    let frame: Frame;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = { type: "" };
    }
    const target = direction === "request" ? link.upstream : link.client;
    if (direction === "request" && typeof frame.id === "string") link.requests.set(frame.id, frame);
    const hook = typeof frame.type === "string"
      ? (direction === "request" ? requests : responses)[frame.type]
      : undefined;
    if (hook === undefined) {
      if (direction === "request" && link.upstream.readyState !== WebSocket.OPEN) link.backlog.push(text);
      else sendOpen(target, text);
      return;
    }
    const context: HookContext = {
      request: direction === "response" && typeof frame.id === "string" ? link.requests.get(frame.id) : undefined,
      connection: link.number,
      toClient: (f) => sendOpen(link.client, JSON.stringify(f)),
      toUpstream: (f) => {
        if (link.upstream.readyState === WebSocket.OPEN) sendOpen(link.upstream, JSON.stringify(f));
        else link.backlog.push(JSON.stringify(f));
      },
    };
    const out = await hook(structuredClone(frame), context);
    if (out === undefined) {
      if (direction === "request") context.toUpstream(frame);
      else context.toClient(frame);
      return;
    }
    count(`${direction}:${frame.type}`);
    if (out === null) return;
    if (direction === "request") context.toUpstream(out);
    else context.toClient(out);
  };

  const enqueue = (link: Link, text: string, direction: "request" | "response") => {
    link.chain = link.chain.then(() => pass(link, text, direction)).catch(() => {});
  };

  const { promise: listening, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => resolve(port),
  }, (req) => {
    if (new URL(req.url).pathname !== "/ws" || req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("hostile relay: WebSocket only at /ws", { status: 426 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    const upstream = new WebSocket(options.upstream);
    const link: Link = {
      number: next++,
      client: socket,
      upstream,
      backlog: [],
      requests: new Map(),
      chain: Promise.resolve(),
    };
    links.add(link);
    upstream.onopen = () => {
      for (const text of link.backlog.splice(0)) sendOpen(upstream, text);
    };
    upstream.onmessage = (e) => {
      if (options.silent || typeof e.data !== "string") return;
      enqueue(link, e.data, "response");
    };
    socket.onmessage = (e) => {
      if (typeof e.data !== "string") return;
      enqueue(link, e.data, "request");
    };
    const closeBoth = () => {
      links.delete(link);
      for (const s of [socket, upstream]) {
        try {
          if (s.readyState === WebSocket.OPEN || s.readyState === WebSocket.CONNECTING) s.close(1000, "proxy closed");
        } catch {
          // already closed
        }
      }
    };
    socket.onclose = closeBoth;
    upstream.onclose = closeBoth;
    socket.onerror = () => {};
    upstream.onerror = () => {};
    return response;
  });
  const port = await listening;

  return {
    url: `ws://127.0.0.1:${port}/ws`,
    port,
    responses,
    requests,
    tampered,
    announce(frame) {
      const text = JSON.stringify(frame);
      for (const link of links) sendOpen(link.client, text);
    },
    async stop() {
      for (const link of [...links]) {
        for (const s of [link.client, link.upstream]) {
          try {
            s.close(1001, "hostile relay stopping");
          } catch {
            // already closed
          }
        }
      }
      links.clear();
      await server.shutdown();
    },
  };
}

// ---- forgers -------------------------------------------------------------------------

/** Hex of an encoded header. */
export function headerHex(header: BlockHeader): string {
  return bytesToHex(encodeHeader(header));
}

/**
 * The same header with the smallest larger nonce whose hash misses the target: everything
 * else (linkage, bits, time, historyRoot) stays valid, so only the proof-of-work check fails.
 *
 * @example
 * ```ts
 * const bad = withBadPow(tip.header);
 * ```
 */
export function withBadPow(header: BlockHeader): BlockHeader {
  const out = { ...header, nonce: header.nonce + 1n };
  const target = bitsToTarget(out.bits);
  while (hashMeetsTarget(hashHeader(out), target)) out.nonce++;
  return out;
}

/**
 * Valid headers (proof of work, linkage, bits, increasing time, historyRoot) extending
 * `parent`, whose accumulator `history` must already include the parent's hash (what the
 * first new header commits to). `history` is advanced. Roots default to zero; pass
 * `stateRoot`/`txRoot` to plant a self-consistent fake state or block.
 *
 * @example
 * ```ts
 * const branch = forgeHeaders(fork.header, chain.historyOf(fork), 3, { params: REGTEST });
 * ```
 */
export function forgeHeaders(
  parent: BlockHeader,
  history: HistoryAccumulator,
  count: number,
  options: { params: NetworkParams; stateRoot?: Uint8Array; txRoot?: Uint8Array; timeStepMs?: number },
): BlockHeader[] {
  const out: BlockHeader[] = [];
  const target = bitsToTarget(options.params.powLimitBits);
  let prev = parent;
  let prevHash = hashHeader(parent);
  for (let i = 0; i < count; i++) {
    const header: BlockHeader = {
      version: 1,
      height: prev.height + 1,
      prevHash,
      txRoot: options.txRoot ?? new Uint8Array(32),
      stateRoot: options.stateRoot ?? new Uint8Array(32),
      historyRoot: history.root(),
      time: prev.time + (options.timeStepMs ?? 1),
      bits: options.params.powLimitBits,
      nonce: 0n,
    };
    let hash = hashHeader(header);
    while (!hashMeetsTarget(hash, target)) {
      header.nonce++;
      hash = hashHeader(header);
    }
    history.append(hash);
    out.push(header);
    prev = header;
    prevHash = hash;
  }
  return out;
}

/** Flip one bit of a hex string of bytes, at byte `index` (default the last one). */
export function flipHexBit(hex: string, index = hex.length / 2 - 1): string {
  const bytes = hexToBytes(hex);
  bytes[index] ^= 0x01;
  return bytesToHex(bytes);
}

/** An encoded sparse Merkle proof (hex) with one bit of its first sibling flipped. */
export function tamperSmtProof(hex: string): string {
  const proof = decodeSmtProof(hexToBytes(hex));
  if (proof.siblings.length === 0) throw new Error("the proof has no sibling to tamper with");
  proof.siblings[0] = hexToBytes(flipHexBit(bytesToHex(proof.siblings[0]), 0));
  return bytesToHex(encodeSmtProof(proof));
}

/** Decode a header from wire hex. */
export function parseHeader(hex: string): BlockHeader {
  return decodeHeader(hexToBytes(hex));
}
