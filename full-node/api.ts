/**
 * The node's HTTP API (Hono): status, headers, blocks, transactions, accounts, proofs,
 * transaction submission and Prometheus metrics. Every failure is JSON `{ error, code }`
 * with a 4xx status; the process keeps serving.
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import { formatAmount } from "../protocol/amount.ts";
import { headerToJson } from "../protocol/json.ts";
import { bytesToHex, hexToBytes } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { encodeHeader } from "../protocol/header.ts";
import { decodeAddress, encodeAddress } from "../protocol/keys.ts";
import { encodeSmtProof } from "../protocol/smt.ts";
import { decodeTx, encodeTx, type Transaction, type TransferTx, txId } from "../protocol/tx.ts";
import type { NetworkParams } from "../protocol/params.ts";
import type { FullNode } from "./node.ts";

/** JSON view of a transaction (amounts as decimal strings of base units). */
export function txJson(tx: Transaction, params: NetworkParams): Record<string, unknown> {
  const base = { txid: bytesToHex(txId(tx)), kind: tx.kind, network: tx.network };
  if (tx.kind === "coinbase") {
    return {
      ...base,
      height: tx.height,
      recipient: encodeAddress(tx.recipient, params.addressPrefix),
      amount: tx.amount.toString(),
      extra: bytesToHex(tx.extra),
    };
  }
  return {
    ...base,
    sender: encodeAddress(tx.sender, params.addressPrefix),
    recipient: encodeAddress(tx.recipient, params.addressPrefix),
    amount: tx.amount.toString(),
    fee: tx.fee.toString(),
    nonce: tx.nonce.toString(),
    signature: bytesToHex(tx.signature),
  };
}

class HttpError extends Error {
  constructor(readonly status: 400 | 404 | 413 | 503, readonly code: string, message: string) {
    super(message);
  }
}

const hash = z.string().regex(/^[0-9a-fA-F]{64}$/, "expected 64 hex characters");
const u64 = z.union([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)])
  .transform((v) => BigInt(v));
const TxBody = z.union([
  z.object({ tx: z.string().min(2).max(1024) }).strict(),
  z.object({
    sender: z.string().max(128),
    recipient: z.string().max(128),
    amount: u64,
    fee: u64,
    nonce: u64,
    signature: z.string().regex(/^[0-9a-fA-F]{128}$/),
  }).strict(),
]);

function parseHash(value: string, what: string): Uint8Array {
  if (!hash.safeParse(value).success) {
    throw new HttpError(400, ErrorCode.MALFORMED, `${what} must be 64 hex characters`);
  }
  return hexToBytes(value.toLowerCase());
}

function parseAddress(value: string, params: NetworkParams): Uint8Array {
  try {
    return decodeAddress(value, params.addressPrefix);
  } catch (err) {
    throw new HttpError(400, (err as ValidationError).code ?? ErrorCode.BAD_ADDRESS, (err as Error).message);
  }
}

function parseIntParam(value: string | undefined, what: string, min: number, max: number, fallback?: number): number {
  if (value === undefined || value === "") {
    if (fallback !== undefined) return fallback;
    throw new HttpError(400, ErrorCode.MALFORMED, `${what} is required`);
  }
  if (!/^\d{1,10}$/.test(value)) {
    throw new HttpError(400, ErrorCode.MALFORMED, `${what} must be a non-negative integer`);
  }
  const n = Number(value);
  if (n < min || n > max) throw new HttpError(400, ErrorCode.MALFORMED, `${what} must be between ${min} and ${max}`);
  return n;
}

/** Parse a POST /tx body: a hex string, `{ tx: hex }`, or a JSON transfer. */
function parseTxBody(text: string, contentType: string, params: NetworkParams): TransferTx {
  let tx: Transaction;
  const trimmed = text.trim();
  if (!contentType.includes("json") && /^[0-9a-fA-F]+$/.test(trimmed)) {
    tx = decodeTxHex(trimmed);
  } else {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new HttpError(400, ErrorCode.MALFORMED, "body must be a hex transaction or JSON");
    }
    const parsed = TxBody.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HttpError(
        400,
        ErrorCode.MALFORMED,
        `invalid body: ${issue.path.join(".") || "body"}: ${issue.message}`,
      );
    }
    const body = parsed.data;
    if ("tx" in body) tx = decodeTxHex(body.tx);
    else {
      tx = {
        kind: "transfer",
        network: params.networkId,
        sender: parseAddress(body.sender, params),
        recipient: parseAddress(body.recipient, params),
        amount: body.amount,
        fee: body.fee,
        nonce: body.nonce,
        signature: hexToBytes(body.signature.toLowerCase()),
      };
    }
  }
  if (tx.kind !== "transfer") throw new HttpError(400, ErrorCode.BAD_COINBASE, "a coinbase cannot be submitted");
  return tx;
}

function decodeTxHex(text: string): Transaction {
  try {
    return decodeTx(hexToBytes(text.toLowerCase()));
  } catch (err) {
    throw new HttpError(400, ErrorCode.MALFORMED, `transaction does not decode: ${(err as Error).message}`);
  }
}

const MAX_TX_BODY = 16_384;

/** Read a request body as text, refusing more than `max` bytes as they arrive. */
async function readBody(req: Request, max: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) throw new HttpError(413, ErrorCode.MESSAGE_TOO_LARGE, `body over ${max} bytes`);
  if (req.body === null) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) throw new HttpError(413, ErrorCode.MESSAGE_TOO_LARGE, `body over ${max} bytes`);
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof HttpError) {
      reader.cancel().catch(() => {});
      throw err;
    }
    throw new HttpError(400, ErrorCode.MALFORMED, "the request body ended early");
  }
  const all = new Uint8Array(size);
  let o = 0;
  for (const ch of chunks) {
    all.set(ch, o);
    o += ch.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new HttpError(400, ErrorCode.MALFORMED, "body is not UTF-8");
  }
}

/**
 * Build the Hono app for `node`. The WebSocket route is added by the runtime adapter.
 *
 * @example
 * ```ts
 * const app = createApi(node);
 * Deno.serve({ port: 7700 }, app.fetch);
 * ```
 */
export function createApi(node: FullNode): Hono {
  const app = new Hono();
  const { chain, mempool, params } = node;

  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.message, code: err.code }, err.status);
    if (err instanceof ValidationError) return c.json({ error: err.message, code: err.code }, 400);
    if (err instanceof RangeError || err instanceof TypeError) {
      return c.json({ error: err.message, code: ErrorCode.MALFORMED }, 400);
    }
    node.logger.error(`HTTP ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}`);
    return c.json({ error: "internal error", code: "INTERNAL" }, 500);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}`, code: "NOT_FOUND" }, 404));

  app.get("/", (c) =>
    c.json({
      name: "edgeledger full node",
      network: params.name,
      endpoints: [
        "GET /status",
        "GET /headers?from=H&count=N",
        "GET /block/:hashOrHeight",
        "GET /tx/:txid",
        "GET /account/:address",
        "GET /proof/tx/:txid",
        "GET /proof/account/:address",
        "GET /proof/history/:height",
        "POST /tx",
        "GET /metrics",
        "GET /ws (WebSocket)",
      ],
    }));

  app.get("/status", (c) => c.json(node.status()));

  app.get("/headers", (c) => {
    const from = parseIntParam(c.req.query("from"), "from", 0, 0xffff_ffff, 0);
    const count = parseIntParam(c.req.query("count"), "count", 1, 2000, 100);
    const headers: string[] = [];
    for (let h = from; h < from + count && h <= chain.height; h++) {
      headers.push(bytesToHex(encodeHeader(chain.atHeight(h)!.header)));
    }
    return c.json({ from, count: headers.length, headers });
  });

  app.get("/block/:id", (c) => {
    const id = c.req.param("id");
    const entry = /^\d{1,10}$/.test(id) ? chain.atHeight(Number(id)) : chain.entry(parseHash(id, "block hash").slice());
    const block = entry === undefined ? undefined : chain.block(entry.hash);
    if (entry === undefined || block === undefined) throw new HttpError(404, "NOT_FOUND", `no block ${id}`);
    return c.json({
      hash: entry.hex,
      height: entry.height,
      mainChain: chain.isMain(entry),
      confirmations: chain.isMain(entry) ? chain.height - entry.height + 1 : 0,
      header: headerToJson(block.header),
      headerHex: bytesToHex(encodeHeader(block.header)),
      txs: block.txs.map((tx) => txJson(tx, params)),
    });
  });

  app.get("/tx/:txid", (c) => {
    const txid = parseHash(c.req.param("txid"), "txid");
    const pooled = mempool.get(txid);
    if (pooled !== undefined) {
      return c.json({ status: "mempool", tx: txJson(pooled.tx, params), hex: bytesToHex(encodeTx(pooled.tx)) });
    }
    const found = chain.transaction(txid);
    if (found === undefined) throw new HttpError(404, "NOT_FOUND", `no transaction ${bytesToHex(txid)}`);
    return c.json({
      status: "confirmed",
      blockHash: found.entry.hex,
      height: found.entry.height,
      index: found.index,
      confirmations: chain.height - found.entry.height + 1,
      tx: txJson(found.tx, params),
      hex: bytesToHex(encodeTx(found.tx)),
    });
  });

  app.get("/account/:address", (c) => {
    const address = c.req.param("address");
    const key = parseAddress(address, params);
    const account = chain.account(key);
    const pending = mempool.pendingOf(key);
    return c.json({
      address,
      balance: account.balance.toString(),
      balanceCoins: formatAmount(account.balance),
      nonce: account.nonce.toString(),
      pendingTxs: pending.length,
      nextNonce: (account.nonce + BigInt(pending.length)).toString(),
      height: chain.height,
    });
  });

  app.get("/proof/tx/:txid", (c) => {
    const txid = parseHash(c.req.param("txid"), "txid");
    const p = chain.proveTransaction(txid);
    if (p === undefined) throw new HttpError(404, "NOT_FOUND", `transaction ${bytesToHex(txid)} is not confirmed`);
    return c.json({
      tx: bytesToHex(encodeTx(p.tx)),
      header: bytesToHex(encodeHeader(p.header)),
      index: p.index,
      size: p.size,
      proof: p.proof.map(bytesToHex),
    });
  });

  app.get("/proof/account/:address", (c) => {
    const key = parseAddress(c.req.param("address"), params);
    const p = chain.proveAccount(key);
    return c.json({
      header: bytesToHex(encodeHeader(p.header)),
      account: p.value === undefined ? null : bytesToHex(p.value),
      proof: bytesToHex(encodeSmtProof(p.proof)),
    });
  });

  app.get("/proof/history/:height", (c) => {
    const height = parseIntParam(c.req.param("height"), "height", 0, 0xffff_ffff);
    const p = chain.proveHistory(height);
    if (p === undefined) {
      throw new HttpError(404, "NOT_FOUND", `height ${height} is not below the tip (height ${chain.height})`);
    }
    return c.json({
      header: bytesToHex(encodeHeader(p.header)),
      at: bytesToHex(encodeHeader(p.at)),
      proof: p.proof.map(bytesToHex),
    });
  });

  app.post("/tx", async (c) => {
    const text = await readBody(c.req.raw, MAX_TX_BODY);
    const tx = parseTxBody(text, c.req.header("content-type") ?? "", params);
    const txid = node.peers.submitTransaction(tx);
    return c.json({ txid, status: "accepted" }, 202);
  });

  app.get("/metrics", (c) => c.text(node.metrics(), 200, { "content-type": "text/plain; version=0.0.4" }));

  return app;
}
