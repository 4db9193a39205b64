/**
 * Wire messages (docs/protocol.md §13): JSON text frames, each an object with a string
 * `type`, validated by zod with size caps. Consensus objects travel as lower-case hex of
 * their canonical encoding. Requests carry an `id` that their response echoes.
 *
 * @module
 */

import { z } from "zod";
import { ErrorCode, ValidationError } from "./errors.ts";

/** Wire protocol version carried in `hello`. */
export const PROTOCOL_VERSION = 1;
/** Most headers in one `headers` message. */
export const MAX_HEADERS_PER_MESSAGE = 2000;
/** Most hashes in one block locator. */
export const MAX_LOCATOR_HASHES = 64;
/** Most hashes per kind in one `inv`. */
export const MAX_INV_ITEMS = 1000;

const hex = (chars: number) => z.string().length(chars).regex(/^[0-9a-f]*$/, "expected lower-case hex");
const hexUpTo = (chars: number) =>
  z.string().max(chars).regex(/^(?:[0-9a-f]{2})*$/, "expected lower-case hex of whole bytes");
const hash = hex(64);
const header = hex(312);
const id = z.string().min(1).max(64);
const height = z.number().int().min(0).max(0xffff_ffff);

/** A connection role announced in `hello`. */
export type Role = "node" | "relay" | "light";
const role = z.enum(["node", "relay", "light"]);

/** Handshake: the first message each side sends. */
export interface HelloMessage {
  /** Message type. */
  type: "hello";
  /** Wire protocol version ({@link PROTOCOL_VERSION}). */
  version: number;
  /** Network name. */
  network: string;
  /** Hex of the genesis block hash. */
  genesis: string;
  /** What the sender is. */
  role: Role;
  /** Software name and version. */
  agent: string;
  /** Sender's best height. */
  height: number;
  /** Optional shared secret a node presents to a relay to publish. */
  token?: string;
}
/** Liveness probe, answered at any time, even before `hello`. */
export interface PingMessage {
  /** Message type. */
  type: "ping";
  /** Echoed in the `pong`. */
  nonce?: string;
}
/** Answer to `ping`. */
export interface PongMessage {
  /** Message type. */
  type: "pong";
  /** The ping's nonce. */
  nonce?: string;
}
/** A failure: the answer to a request (`id` set) or a notice before disconnecting. */
export interface ErrorMessage {
  /** Message type. */
  type: "error";
  /** Id of the failed request. */
  id?: string;
  /** An {@link ErrorCode} or relay code. */
  code: string;
  /** Human-readable reason. */
  message: string;
}
/** Announcement of new blocks and transactions by hash. */
export interface InvMessage {
  /** Message type. */
  type: "inv";
  /** Block hashes. */
  blocks?: string[];
  /** Transaction ids. */
  txs?: string[];
}
/** Request for headers after the first locator hash found on the responder's best chain. */
export interface GetHeadersMessage {
  /** Message type. */
  type: "getheaders";
  /** Request id. */
  id: string;
  /** Block hashes, newest first, ending near genesis (Bitcoin block locator). */
  locator: string[];
  /** Stop after this hash. */
  stop?: string;
  /** Most headers wanted (default and cap 2000). */
  limit?: number;
}
/** Headers in chain order: a response (`id` set) or an unsolicited new-tip announcement. */
export interface HeadersMessage {
  /** Message type. */
  type: "headers";
  /** Id of the `getheaders` answered. */
  id?: string;
  /** Hex of 156-byte headers. */
  headers: string[];
}
/** Request for a block by hash. */
export interface GetBlockMessage {
  /** Message type. */
  type: "getblock";
  /** Request id. */
  id: string;
  /** Block hash. */
  hash: string;
}
/** A block, or null when unknown. */
export interface BlockMessage {
  /** Message type. */
  type: "block";
  /** Request id. */
  id: string;
  /** Hex of the encoded block. */
  block: string | null;
}
/** Request for a transaction by id (mempool or chain). */
export interface GetTxMessage {
  /** Message type. */
  type: "gettx";
  /** Request id. */
  id: string;
  /** Transaction id. */
  txid: string;
}
/** A transaction, or null when unknown. */
export interface TxMessage {
  /** Message type. */
  type: "tx";
  /** Request id. */
  id: string;
  /** Hex of the encoded transaction. */
  tx: string | null;
}
/** Submit a transaction; answered by `txack` or `error`. */
export interface SendTxMessage {
  /** Message type. */
  type: "sendtx";
  /** Request id. */
  id: string;
  /** Hex of the encoded transaction. */
  tx: string;
}
/** A submitted transaction was accepted. */
export interface TxAckMessage {
  /** Message type. */
  type: "txack";
  /** Request id. */
  id: string;
  /** Its txid. */
  txid: string;
}
/** Request for an inclusion proof of a confirmed transaction. */
export interface GetTxProofMessage {
  /** Message type. */
  type: "gettxproof";
  /** Request id. */
  id: string;
  /** Transaction id. */
  txid: string;
}
/** RFC 6962 inclusion proof of `tx` at `index` among `size` txids under `header.txRoot`. */
export interface TxProofMessage {
  /** Message type. */
  type: "txproof";
  /** Request id. */
  id: string;
  /** Hex of the transaction. */
  tx: string;
  /** Hex of the header of the block holding it. */
  header: string;
  /** Index of the transaction in the block. */
  index: number;
  /** Number of transactions in the block. */
  size: number;
  /** Audit path, leaf side first. */
  proof: string[];
}
/** Request for an account's state with a sparse Merkle proof against the tip. */
export interface GetAccountProofMessage {
  /** Message type. */
  type: "getaccountproof";
  /** Request id. */
  id: string;
  /** bech32m address. */
  address: string;
}
/** Account state (null when absent) with a proof against `header.stateRoot`. */
export interface AccountProofMessage {
  /** Message type. */
  type: "accountproof";
  /** Request id. */
  id: string;
  /** Hex of the header whose stateRoot the proof is against. */
  header: string;
  /** Hex of the encoded account value, or null for an absent account. */
  account: string | null;
  /** Hex of the encoded sparse Merkle proof. */
  proof: string;
}
/** Request for the header at `height` with a proof against a later header's historyRoot. */
export interface GetHistoryProofMessage {
  /** Message type. */
  type: "gethistoryproof";
  /** Request id. */
  id: string;
  /** Height of the wanted header. */
  height: number;
  /** Hash of the later header to prove against (default: the responder's tip). */
  at?: string;
}
/** The header at a height with an RFC 6962 proof against `at.historyRoot`. */
export interface HistoryProofMessage {
  /** Message type. */
  type: "historyproof";
  /** Request id. */
  id: string;
  /** Hex of the proven header. */
  header: string;
  /** Hex of the later header whose historyRoot commits to it. */
  at: string;
  /** Audit path, leaf side first. */
  proof: string[];
}

/** Request for a checkpoint (anchor data) at a best-chain height. */
export interface GetCheckpointMessage {
  /** Message type. */
  type: "getcheckpoint";
  /** Request id. */
  id: string;
  /** Height of the wanted checkpoint. */
  height: number;
}
/** Anchor data at a height: verifiable from the header's hash alone (see verifyCheckpoint). */
export interface CheckpointMessage {
  /** Message type. */
  type: "checkpoint";
  /** Request id. */
  id: string;
  /** Hex of the header. */
  header: string;
  /** Hex of up to 10 ancestors, oldest first. */
  ancestors: string[];
  /** Hex of the history accumulator over blocks 0..height-1. */
  history: string;
  /** Hex of block 1's header (the difficulty anchor), above height 1. */
  anchor?: string;
  /** Proof of block 1 against the header's historyRoot. */
  anchorProof?: string[];
}

/** Any wire message. */
export type Message =
  | HelloMessage
  | PingMessage
  | PongMessage
  | ErrorMessage
  | InvMessage
  | GetHeadersMessage
  | HeadersMessage
  | GetBlockMessage
  | BlockMessage
  | GetTxMessage
  | TxMessage
  | SendTxMessage
  | TxAckMessage
  | GetTxProofMessage
  | TxProofMessage
  | GetAccountProofMessage
  | AccountProofMessage
  | GetHistoryProofMessage
  | HistoryProofMessage
  | GetCheckpointMessage
  | CheckpointMessage;

const schemas = [
  z.object({
    type: z.literal("hello"),
    version: z.number().int().min(1).max(0xffff),
    network: z.string().min(1).max(32),
    genesis: hash,
    role,
    agent: z.string().max(128),
    height,
    token: z.string().max(256).optional(),
  }).strict(),
  z.object({ type: z.literal("ping"), nonce: z.string().max(64).optional() }).strict(),
  z.object({ type: z.literal("pong"), nonce: z.string().max(64).optional() }).strict(),
  z.object({
    type: z.literal("error"),
    id: id.optional(),
    code: z.string().min(1).max(64),
    message: z.string().max(1024),
  }).strict(),
  z.object({
    type: z.literal("inv"),
    blocks: z.array(hash).max(MAX_INV_ITEMS).optional(),
    txs: z.array(hash).max(MAX_INV_ITEMS).optional(),
  }).strict(),
  z.object({
    type: z.literal("getheaders"),
    id,
    locator: z.array(hash).min(1).max(MAX_LOCATOR_HASHES),
    stop: hash.optional(),
    limit: z.number().int().min(1).max(MAX_HEADERS_PER_MESSAGE).optional(),
  }).strict(),
  // Without an id: an unsolicited announcement of new best headers.
  z.object({ type: z.literal("headers"), id: id.optional(), headers: z.array(header).max(MAX_HEADERS_PER_MESSAGE) })
    .strict(),
  z.object({ type: z.literal("getblock"), id, hash }).strict(),
  z.object({ type: z.literal("block"), id, block: hexUpTo(2 * 1_048_576).nullable() }).strict(),
  z.object({ type: z.literal("gettx"), id, txid: hash }).strict(),
  z.object({ type: z.literal("tx"), id, tx: hexUpTo(1024).nullable() }).strict(),
  // Submit a transaction; answered by `txack` or `error` with the same id.
  z.object({ type: z.literal("sendtx"), id, tx: hexUpTo(1024) }).strict(),
  z.object({ type: z.literal("txack"), id, txid: hash }).strict(),
  z.object({ type: z.literal("gettxproof"), id, txid: hash }).strict(),
  z.object({
    type: z.literal("txproof"),
    id,
    tx: hexUpTo(1024),
    header,
    index: z.number().int().min(0),
    size: z.number().int().min(1),
    proof: z.array(hash).max(64),
  }).strict(),
  z.object({ type: z.literal("getaccountproof"), id, address: z.string().min(1).max(128) }).strict(),
  z.object({
    type: z.literal("accountproof"),
    id,
    header,
    account: hex(32).nullable(),
    proof: hexUpTo(2 * 8300),
  }).strict(),
  z.object({
    type: z.literal("gethistoryproof"),
    id,
    height,
    at: hash.optional(),
  }).strict(),
  z.object({
    type: z.literal("historyproof"),
    id,
    header,
    at: header,
    proof: z.array(hash).max(64),
  }).strict(),
  z.object({ type: z.literal("getcheckpoint"), id, height }).strict(),
  z.object({
    type: z.literal("checkpoint"),
    id,
    header,
    ancestors: z.array(header).max(10),
    history: hexUpTo(2 * 1100),
    anchor: header.optional(),
    anchorProof: z.array(hash).max(64).optional(),
  }).strict(),
] as const;

/** zod schema of every wire message. */
const messageSchema = z.discriminatedUnion("type", schemas);
/** The wire message whose `type` is `T`. */
export type MessageOf<T extends Message["type"]> = Extract<Message, { type: T }>;

/** Every known message type. */
export const MESSAGE_TYPES: ReadonlySet<string> = new Set(schemas.map((s) => s.shape.type.value));

// Compile-time proof that the schemas and the documented interfaces agree both ways.
type Inferred = z.infer<typeof messageSchema>;
const _sameShape: [Inferred] extends [Message] ? ([Message] extends [Inferred] ? true : false) : false = true;
void _sameShape;

/** Request types and the response type that answers each. */
export interface ResponseTypes {
  /** Headers after a locator. */
  getheaders: "headers";
  /** A block. */
  getblock: "block";
  /** A transaction. */
  gettx: "tx";
  /** Acceptance of a submitted transaction. */
  sendtx: "txack";
  /** A transaction inclusion proof. */
  gettxproof: "txproof";
  /** An account proof. */
  getaccountproof: "accountproof";
  /** A history proof. */
  gethistoryproof: "historyproof";
  /** A checkpoint. */
  getcheckpoint: "checkpoint";
}

/** Request types and the response type that answers each. */
export const RESPONSE_OF: Readonly<ResponseTypes> = {
  getheaders: "headers",
  getblock: "block",
  gettx: "tx",
  sendtx: "txack",
  gettxproof: "txproof",
  getaccountproof: "accountproof",
  gethistoryproof: "historyproof",
  getcheckpoint: "checkpoint",
};

/**
 * Parse and validate one text frame. Throws a {@link ValidationError}:
 * `MESSAGE_TOO_LARGE` over `maxBytes`, `BAD_MESSAGE` for malformed JSON or a schema failure
 * (ban-worthy), `UNKNOWN_TYPE` for a well-formed object of an unknown type (not ban-worthy).
 *
 * @example
 * ```ts
 * const msg = parseMessage('{"type":"ping"}', 1 << 20); // { type: "ping" }
 * ```
 */
export function parseMessage(text: string, maxBytes: number): Message {
  if (typeof text !== "string") throw new ValidationError(ErrorCode.BAD_MESSAGE, "frames must be text", { ban: true });
  // UTF-16 length bounds the UTF-8 size from below; check it before parsing anything.
  if (text.length > maxBytes) {
    throw new ValidationError(ErrorCode.MESSAGE_TOO_LARGE, `message of ${text.length} characters exceeds ${maxBytes}`, {
      ban: true,
    });
  }
  // Frames are UTF-8 on the wire: count bytes exactly when the text could exceed the cap.
  if (text.length * 3 > maxBytes && utf8Length(text) > maxBytes) {
    throw new ValidationError(ErrorCode.MESSAGE_TOO_LARGE, `message exceeds ${maxBytes} bytes`, { ban: true });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError(ErrorCode.BAD_MESSAGE, "message is not valid JSON", { ban: true });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationError(ErrorCode.BAD_MESSAGE, "message must be a JSON object", { ban: true });
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string") {
    throw new ValidationError(ErrorCode.BAD_MESSAGE, `message has no string "type"`, { ban: true });
  }
  if (!MESSAGE_TYPES.has(type)) {
    throw new ValidationError(ErrorCode.UNKNOWN_TYPE, `unknown message type "${type.slice(0, 32)}"`, { ban: false });
  }
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join(".") : "message";
    throw new ValidationError(ErrorCode.BAD_MESSAGE, `invalid ${type}: ${where}: ${issue.message}`, { ban: true });
  }
  return parsed.data;
}

/**
 * Serialize a message to a text frame (validated first, so nothing malformed leaves).
 *
 * @example
 * ```ts
 * socket.send(encodeMessage({ type: "ping" }));
 * ```
 */
export function encodeMessage(msg: Message): string {
  return JSON.stringify(messageSchema.parse(msg));
}

/**
 * The `error` message answering a failed request.
 *
 * @example
 * ```ts
 * errorMessage("UNKNOWN_TYPE", "unknown message type", requestId);
 * ```
 */
export function errorMessage(code: string, message: string, id?: string): MessageOf<"error"> {
  return id === undefined ? { type: "error", code, message: message.slice(0, 1024) } : {
    type: "error",
    id,
    code,
    message: message.slice(0, 1024),
  };
}

/** UTF-8 length of a string without encoding it (lone surrogates count as U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
