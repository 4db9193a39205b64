/**
 * Block header: fixed 156 bytes (docs/protocol.md §7).
 *
 *   version u32 ‖ height u32 ‖ prevHash 32 ‖ txRoot 32 ‖ stateRoot 32 ‖ historyRoot 32 ‖
 *   time u64 (ms) ‖ bits u32 ‖ nonce u64
 *
 * Block hash = SHA-256(header), one hash. The nonce sits in the last 64-byte chunk, so a
 * miner re-hashes only that chunk from a saved midstate.
 *
 * @module
 */

import { abigint, abytes, aint, U32_MAX, U64_MAX } from "./bytes.ts";
import { type ByteReader, ByteWriter, decodeAll } from "./encoding.ts";
import { DecodeError } from "./errors.ts";
import { sha256 } from "./hash.ts";

/** Encoded header size in bytes. */
export const HEADER_BYTES = 156;
/** Byte offset of the nonce within the encoded header. */
export const NONCE_OFFSET = 148;
/** Byte offset of the time within the encoded header. */
export const TIME_OFFSET = 136;

/** A block header. `time` is milliseconds since the Unix epoch (u64 on the wire, < 2^53). */
export interface BlockHeader {
  /** Header version; 1. */
  version: number;
  /** Height of this block; genesis is 0. */
  height: number;
  /** Hash of the parent block; zero for genesis. */
  prevHash: Uint8Array;
  /** RFC 6962 root over the block's txids. */
  txRoot: Uint8Array;
  /** Sparse Merkle root of the state after this block. */
  stateRoot: Uint8Array;
  /** RFC 6962 root over the hashes of blocks 0..height-1. */
  historyRoot: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** Compact target. */
  bits: number;
  /** Nonce (u64). */
  nonce: bigint;
}

/**
 * Write a header to `w` (the one place a header's bytes are defined).
 *
 * @example
 * ```ts
 * writeHeader(new ByteWriter(156), header);
 * ```
 */
export function writeHeader(w: ByteWriter, h: BlockHeader): ByteWriter {
  aint(h.version, 0, U32_MAX, "version");
  aint(h.height, 0, U32_MAX, "height");
  aint(h.time, 0, Number.MAX_SAFE_INTEGER, "time");
  aint(h.bits, 0, U32_MAX, "bits");
  abigint(h.nonce, 0n, U64_MAX, "nonce");
  return w.u32(h.version).u32(h.height)
    .bytes(h.prevHash, 32, "prevHash").bytes(h.txRoot, 32, "txRoot").bytes(h.stateRoot, 32, "stateRoot")
    .bytes(h.historyRoot, 32, "historyRoot")
    .u64(BigInt(h.time)).u32(h.bits).u64(h.nonce);
}

/**
 * Read a header from `r`.
 *
 * @example
 * ```ts
 * const header = readHeader(new ByteReader(bytes));
 * ```
 */
export function readHeader(r: ByteReader): BlockHeader {
  const version = r.u32();
  const height = r.u32();
  const prevHash = r.bytes(32, "prevHash").slice();
  const txRoot = r.bytes(32, "txRoot").slice();
  const stateRoot = r.bytes(32, "stateRoot").slice();
  const historyRoot = r.bytes(32, "historyRoot").slice();
  const time = r.u64();
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`header time ${time} is out of range`);
  const bits = r.u32();
  const nonce = r.u64();
  return { version, height, prevHash, txRoot, stateRoot, historyRoot, time: Number(time), bits, nonce };
}

/**
 * The 156-byte canonical encoding of a header.
 *
 * @example
 * ```ts
 * encodeHeader(header).length; // 156
 * ```
 */
export function encodeHeader(header: BlockHeader): Uint8Array {
  return writeHeader(new ByteWriter(HEADER_BYTES), header).finish();
}

/**
 * Strictly decode a 156-byte header; throws {@link DecodeError}.
 *
 * @example
 * ```ts
 * const header = decodeHeader(bytes);
 * ```
 */
export function decodeHeader(bytes: Uint8Array): BlockHeader {
  abytes(bytes, undefined, "bytes");
  if (bytes.length !== HEADER_BYTES) throw new DecodeError(`header must be ${HEADER_BYTES} bytes, got ${bytes.length}`);
  return decodeAll(bytes, readHeader, "header");
}

/**
 * Block hash: SHA-256 of the encoded header.
 *
 * @example
 * ```ts
 * const hash = hashHeader(header);
 * ```
 */
export function hashHeader(header: BlockHeader): Uint8Array {
  return sha256(encodeHeader(header));
}
