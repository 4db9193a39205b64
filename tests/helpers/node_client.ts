/**
 * Small HTTP helpers for tests that talk to real node subprocesses: requests that return the
 * status with the parsed body instead of throwing, raw HTTP/1.1 over TCP for requests `fetch`
 * refuses to send (non-UTF-8 paths, odd methods, lying headers), snapshots of several nodes'
 * tips, and cleanup of data directories.
 *
 * @module
 */

import { bytesToHex } from "../../protocol/bytes.ts";
import { readKeyFile } from "../../full-node/keyfile.ts";
import { encodeTx, type TransferTx } from "../../protocol/tx.ts";
import type { NodeProcess } from "./node_process.ts";

/** A response with its body parsed as JSON when it is JSON. */
export interface HttpResult {
  /** HTTP status. */
  status: number;
  /** Content-Type header ("" when absent). */
  contentType: string;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

/**
 * One client without keep-alive pooling: nodes are killed and restarted all the time, and a
 * fresh connection per request rules out reusing a socket a dead node left behind.
 */
const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });

/**
 * Send a request and never throw on a non-2xx status.
 *
 * @example
 * ```ts
 * const res = await request(node.url + "/status");
 * res.status; // 200
 * ```
 */
export async function request(url: string, init?: RequestInit): Promise<HttpResult> {
  const res = await fetch(url, { ...init, client });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, json };
}

/**
 * POST a transaction as lower-case hex in a text/plain body.
 *
 * @example
 * ```ts
 * const res = await postTx(node.url, tx);
 * res.json?.txid; // hex txid when res.status is 202
 * ```
 */
export function postTx(baseUrl: string, tx: TransferTx): Promise<HttpResult> {
  return request(`${baseUrl}/tx`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: bytesToHex(encodeTx(tx)),
  });
}

/**
 * Send raw bytes as one HTTP/1.1 request over TCP and return the status code of the reply,
 * or `undefined` when the server closed the connection without a status line or sent none in
 * `timeoutMs`. With `closeWrite` the client half-closes after sending, as a client that gives
 * up in the middle of a body does.
 *
 * @example
 * ```ts
 * await rawRequest(node.port, new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"));
 * ```
 */
export async function rawRequest(
  port: number,
  bytes: Uint8Array,
  options: { closeWrite?: boolean; timeoutMs?: number } = {},
): Promise<number | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed by the peer
    }
  };
  const timer = setTimeout(close, options.timeoutMs ?? 10_000);
  try {
    await conn.write(bytes);
    if (options.closeWrite) await conn.closeWrite();
    let text = "";
    const buf = new Uint8Array(4096);
    const decoder = new TextDecoder();
    while (!/\r\n/.test(text)) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    close();
  }
}

/**
 * GET a JSON endpoint of `node`; throws on a non-2xx status.
 *
 * @example
 * ```ts
 * const block = await getJson<{ hash: string }>(node, "/block/1");
 * ```
 */
export async function getJson<T = Record<string, unknown>>(node: NodeProcess, path: string): Promise<T> {
  const res = await request(node.url + path);
  if (res.status < 200 || res.status > 299 || res.json === undefined) {
    throw new Error(`${path}: ${res.status} ${res.text.slice(0, 300)}`);
  }
  return res.json as T;
}

/** One node's tip as reported by GET /status. */
export interface TipSnapshot {
  /** Height of the tip. */
  height: number;
  /** Hash of the tip. */
  tipHash: string;
  /** State root of the tip. */
  stateRoot: string;
}

/**
 * The tips of `nodes` when they all agree, else `undefined`: every /status is read twice and
 * the answer counts only when both rounds show the same tip everywhere, so a node that is
 * mid-way through a reorganisation cannot make a false match.
 *
 * @example
 * ```ts
 * const tip = await waitFor(() => agreedTip([a, b]), { what: "a common tip" });
 * ```
 */
export async function agreedTip(nodes: readonly NodeProcess[]): Promise<TipSnapshot | undefined> {
  const round = () => Promise.all(nodes.map((n) => getJson<TipSnapshot>(n, "/status")));
  const first = await round();
  const second = await round();
  const all = [...first, ...second];
  const t = all[0];
  const same = all.every((s) => s.tipHash === t.tipHash && s.stateRoot === t.stateRoot && s.height === t.height);
  return same ? { height: t.height, tipHash: t.tipHash, stateRoot: t.stateRoot } : undefined;
}

/**
 * The miner key of a node started by `startNode` (its `<dataDir>/miner.key`).
 *
 * @example
 * ```ts
 * const { secretKey, publicKey } = await minerKey(node);
 * ```
 */
export function minerKey(node: NodeProcess): Promise<{ secretKey: Uint8Array; publicKey: Uint8Array }> {
  return readKeyFile(`${node.dataDir}/miner.key`);
}

/**
 * Kill every node (SIGKILL when SIGTERM does not end it in 10 s) and remove their data
 * directories. Never throws.
 *
 * @example
 * ```ts
 * try { ... } finally { await stopNodes([a, b]); }
 * ```
 */
export async function stopNodes(
  nodes: readonly (NodeProcess | undefined)[],
  options: { keepData?: boolean } = {},
): Promise<void> {
  await Promise.all(nodes.map(async (node) => {
    if (node === undefined) return;
    const timer = setTimeout(() => {
      try {
        node.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 10_000);
    try {
      await node.kill("SIGTERM");
    } catch {
      // already gone
    } finally {
      clearTimeout(timer);
    }
    if (!options.keepData) await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
  }));
}
