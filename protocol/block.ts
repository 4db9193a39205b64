/**
 * Blocks: a header followed by a varint count and the transactions (docs/protocol.md §9).
 *
 * @module
 */

import { abytes } from "./bytes.ts";
import { type ByteReader, ByteWriter, decodeAll } from "./encoding.ts";
import { DecodeError } from "./errors.ts";
import { type BlockHeader, HEADER_BYTES, readHeader, writeHeader } from "./header.ts";
import { merkleRoot } from "./merkle.ts";
import { readTx, type Transaction, TRANSFER_BYTES, txId, writeTx } from "./tx.ts";

/** A block. */
export interface Block {
  /** The header. */
  header: BlockHeader;
  /** Transactions; the first is the coinbase. */
  txs: Transaction[];
}

/** Caps applied while decoding, before any allocation they bound. */
export interface BlockLimits {
  /** Largest encoded block in bytes. */
  maxBlockBytes: number;
  /** Most transactions in one block. */
  maxBlockTxs: number;
}

/**
 * Canonical encoding of a block.
 *
 * @example
 * ```ts
 * const bytes = encodeBlock(block);
 * ```
 */
export function encodeBlock(block: Block): Uint8Array {
  const w = new ByteWriter(HEADER_BYTES + 3 + block.txs.length * TRANSFER_BYTES);
  writeHeader(w, block.header).varint(block.txs.length);
  for (const tx of block.txs) writeTx(w, tx);
  return w.finish();
}

/**
 * Strictly decode a block within `limits`; throws {@link DecodeError}.
 *
 * @example
 * ```ts
 * const block = decodeBlock(bytes, params);
 * ```
 */
export function decodeBlock(bytes: Uint8Array, limits: BlockLimits): Block {
  abytes(bytes, undefined, "bytes");
  if (bytes.length > limits.maxBlockBytes) {
    throw new DecodeError(`block of ${bytes.length} bytes exceeds the cap ${limits.maxBlockBytes}`);
  }
  return decodeAll(bytes, (r: ByteReader) => {
    const header = readHeader(r);
    const count = r.varint(limits.maxBlockTxs, "transaction count");
    const txs: Transaction[] = [];
    for (let i = 0; i < count; i++) txs.push(readTx(r));
    return { header, txs };
  }, "block");
}

/**
 * txids of a block's transactions, in order.
 *
 * @example
 * ```ts
 * const ids = blockTxIds(block);
 * ```
 */
export function blockTxIds(block: Block): Uint8Array[] {
  return block.txs.map(txId);
}

/**
 * The txRoot a header must carry: RFC 6962 root over the txids (leaf data = txid).
 *
 * @example
 * ```ts
 * computeTxRoot(blockTxIds(block));
 * ```
 */
export function computeTxRoot(txids: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(txids);
}
