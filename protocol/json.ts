/**
 * JSON views of consensus objects for APIs and command lines: hashes as hex, u64 values as
 * decimal strings (JSON numbers cannot hold them exactly).
 *
 * @module
 */

import { bytesToHex } from "./bytes.ts";
import type { BlockHeader } from "./header.ts";

/** JSON view of a header, field for field. */
export interface HeaderJson {
  /** Version. */
  version: number;
  /** Height. */
  height: number;
  /** Parent hash, hex. */
  prevHash: string;
  /** Transaction root, hex. */
  txRoot: string;
  /** State root, hex. */
  stateRoot: string;
  /** History root, hex. */
  historyRoot: string;
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** Compact target. */
  bits: number;
  /** Nonce, decimal. */
  nonce: string;
}

/**
 * The JSON view of a header.
 *
 * @example
 * ```ts
 * headerToJson(header).prevHash; // "00000a3f..."
 * ```
 */
export function headerToJson(header: BlockHeader): HeaderJson {
  return {
    version: header.version,
    height: header.height,
    prevHash: bytesToHex(header.prevHash),
    txRoot: bytesToHex(header.txRoot),
    stateRoot: bytesToHex(header.stateRoot),
    historyRoot: bytesToHex(header.historyRoot),
    time: header.time,
    bits: header.bits,
    nonce: header.nonce.toString(),
  };
}
