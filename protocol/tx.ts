/**
 * Transactions in the account model (docs/protocol.md §6).
 *
 * transfer: kind u8 = 0 ‖ network u32 ‖ sender 32 ‖ recipient 32 ‖ amount u64 ‖ fee u64 ‖
 *           nonce u64 ‖ signature 64                                         (157 bytes)
 * coinbase: kind u8 = 1 ‖ network u32 ‖ height u32 ‖ recipient 32 ‖ amount u64 ‖
 *           extra (varint length ≤ 64 ‖ bytes)
 *
 * The signature is BIP340 over taggedHash("edgeledger/tx", unsigned transfer bytes), which
 * include the network id, so a transaction cannot be replayed on another network.
 * txid = SHA-256 of the full encoding.
 *
 * @module
 */

import { abigint, abytes, aint, U32_MAX, U64_MAX } from "./bytes.ts";
import { type ByteReader, ByteWriter, decodeAll } from "./encoding.ts";
import { DecodeError } from "./errors.ts";
import { sha256, taggedHash } from "./hash.ts";
import { publicKeyFromSecret, signMessage, verifySignature } from "./keys.ts";

/** Tag of the transaction signature hash. */
export const TX_SIGHASH_TAG = "edgeledger/tx";
/** Size of an encoded transfer. */
export const TRANSFER_BYTES = 157;
/** Longest coinbase `extra` field. */
export const MAX_COINBASE_EXTRA = 64;

/** A signed payment from `sender` to `recipient`. */
export interface TransferTx {
  /** Discriminant. */
  kind: "transfer";
  /** Network id (see params). */
  network: number;
  /** Sender's x-only public key. */
  sender: Uint8Array;
  /** Recipient's x-only public key. */
  recipient: Uint8Array;
  /** Amount in base units. */
  amount: bigint;
  /** Fee in base units, paid to the miner. */
  fee: bigint;
  /** Sender's account nonce; must equal the account's nonce when applied. */
  nonce: bigint;
  /** BIP340 signature over {@link txSigHash}. */
  signature: Uint8Array;
}

/** The first transaction of every block: subsidy plus fees to the miner. */
export interface CoinbaseTx {
  /** Discriminant. */
  kind: "coinbase";
  /** Network id. */
  network: number;
  /** Height of the block; makes every coinbase unique. */
  height: number;
  /** Miner's x-only public key. */
  recipient: Uint8Array;
  /** Subsidy plus the block's fees. */
  amount: bigint;
  /** Free-form miner data, at most 64 bytes. */
  extra: Uint8Array;
}

/** Any transaction. */
export type Transaction = TransferTx | CoinbaseTx;

/** A transfer before signing. */
export type UnsignedTransfer = Omit<TransferTx, "kind" | "signature">;

function writeUnsignedTransfer(w: ByteWriter, tx: UnsignedTransfer): ByteWriter {
  aint(tx.network, 0, U32_MAX, "network");
  abigint(tx.amount, 0n, U64_MAX, "amount");
  abigint(tx.fee, 0n, U64_MAX, "fee");
  abigint(tx.nonce, 0n, U64_MAX, "nonce");
  return w.u8(0).u32(tx.network).bytes(tx.sender, 32, "sender").bytes(tx.recipient, 32, "recipient")
    .u64(tx.amount).u64(tx.fee).u64(tx.nonce);
}

/**
 * Write a transaction to `w`.
 *
 * @example
 * ```ts
 * writeTx(new ByteWriter(), tx);
 * ```
 */
export function writeTx(w: ByteWriter, tx: Transaction): ByteWriter {
  if (tx.kind === "transfer") return writeUnsignedTransfer(w, tx).bytes(tx.signature, 64, "signature");
  if (tx.kind === "coinbase") {
    aint(tx.network, 0, U32_MAX, "network");
    aint(tx.height, 0, U32_MAX, "height");
    abigint(tx.amount, 0n, U64_MAX, "amount");
    abytes(tx.extra, undefined, "extra");
    if (tx.extra.length > MAX_COINBASE_EXTRA) {
      throw new RangeError(`Expected "extra" to be at most ${MAX_COINBASE_EXTRA} bytes, got ${tx.extra.length}`);
    }
    return w.u8(1).u32(tx.network).u32(tx.height).bytes(tx.recipient, 32, "recipient").u64(tx.amount).varBytes(
      tx.extra,
    );
  }
  throw new TypeError(`Unknown transaction kind ${(tx as { kind: unknown }).kind}`);
}

/**
 * Read a transaction from `r`.
 *
 * @example
 * ```ts
 * const tx = readTx(new ByteReader(bytes));
 * ```
 */
export function readTx(r: ByteReader): Transaction {
  const kind = r.u8();
  if (kind === 0) {
    const network = r.u32();
    const sender = r.bytes(32, "sender").slice();
    const recipient = r.bytes(32, "recipient").slice();
    const amount = r.u64();
    const fee = r.u64();
    const nonce = r.u64();
    const signature = r.bytes(64, "signature").slice();
    return { kind: "transfer", network, sender, recipient, amount, fee, nonce, signature };
  }
  if (kind === 1) {
    const network = r.u32();
    const height = r.u32();
    const recipient = r.bytes(32, "recipient").slice();
    const amount = r.u64();
    const extra = r.varBytes(MAX_COINBASE_EXTRA, "coinbase extra").slice();
    return { kind: "coinbase", network, height, recipient, amount, extra };
  }
  throw new DecodeError(`unknown transaction kind ${kind}`);
}

/**
 * Canonical encoding of a transaction.
 *
 * @example
 * ```ts
 * const bytes = encodeTx(tx);
 * ```
 */
export function encodeTx(tx: Transaction): Uint8Array {
  return writeTx(new ByteWriter(TRANSFER_BYTES), tx).finish();
}

/**
 * Strictly decode one transaction; throws {@link DecodeError}.
 *
 * @example
 * ```ts
 * const tx = decodeTx(bytes);
 * ```
 */
export function decodeTx(bytes: Uint8Array): Transaction {
  return decodeAll(bytes, readTx, "transaction");
}

/**
 * Transaction id: SHA-256 of the canonical encoding.
 *
 * @example
 * ```ts
 * const txid = txId(tx);
 * ```
 */
export function txId(tx: Transaction): Uint8Array {
  return sha256(encodeTx(tx));
}

/**
 * The 32-byte message a transfer's signature covers:
 * taggedHash("edgeledger/tx", unsigned encoding), which includes the network id.
 *
 * @example
 * ```ts
 * verifySignature(tx.signature, txSigHash(tx), tx.sender);
 * ```
 */
export function txSigHash(tx: UnsignedTransfer): Uint8Array {
  return taggedHash(TX_SIGHASH_TAG, writeUnsignedTransfer(new ByteWriter(93), tx).finish());
}

/**
 * Build and sign a transfer; `sender` is derived from `secretKey`.
 *
 * @example
 * ```ts
 * const tx = signTransfer({ network, recipient, amount: 5n, fee: 1n, nonce: 0n }, secretKey);
 * ```
 */
export function signTransfer(fields: Omit<UnsignedTransfer, "sender">, secretKey: Uint8Array): TransferTx {
  const sender = publicKeyFromSecret(secretKey);
  const unsigned: UnsignedTransfer = { ...fields, sender };
  const signature = signMessage(txSigHash(unsigned), secretKey);
  return { kind: "transfer", ...unsigned, signature };
}

/**
 * Whether a transfer's signature is valid. Never throws.
 *
 * @example
 * ```ts
 * verifyTransferSignature(tx); // boolean
 * ```
 */
export function verifyTransferSignature(tx: TransferTx): boolean {
  try {
    return verifySignature(tx.signature, txSigHash(tx), tx.sender);
  } catch {
    return false;
  }
}
