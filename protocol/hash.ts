/**
 * Hashing: SHA-256 and BIP340-style tagged hashes, over canonical bytes only.
 *
 * @module
 */

import { abytes } from "./bytes.ts";
import { sha256 as sha256Bytes, type Sha256Midstate, sha256Midstate, sha256Resume } from "./sha256.ts";

/**
 * SHA-256 of `data`.
 *
 * @example
 * ```ts
 * sha256(new Uint8Array()); // e3b0c442...
 * ```
 */
export function sha256(data: Uint8Array): Uint8Array {
  return sha256Bytes(data);
}

/** Joined parts up to this size reuse one buffer; larger ones get a temporary copy. */
const SCRATCH_LIMIT = 1 << 16;
let scratch = new Uint8Array(256);

/** `parts` concatenated, in a reused buffer valid until the next call; checks each part. */
function joined(parts: readonly Uint8Array[], name: string): Uint8Array {
  if (!Array.isArray(parts)) throw new TypeError(`Expected "${name}" to be an array of Uint8Array`);
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    abytes(parts[i], undefined, `${name}[${i}]`);
    total += parts[i].length;
  }
  let buf = scratch;
  if (total > buf.length) {
    if (total > SCRATCH_LIMIT) {
      buf = new Uint8Array(total);
    } else {
      buf = scratch = new Uint8Array(Math.min(SCRATCH_LIMIT, Math.max(total, 2 * buf.length)));
    }
  }
  let offset = 0;
  for (const part of parts) {
    buf.set(part, offset);
    offset += part.length;
  }
  return buf.subarray(0, total);
}

/**
 * SHA-256 of several parts, as if concatenated.
 *
 * @example
 * ```ts
 * sha256Parts([new Uint8Array([1]), new Uint8Array([2])]);
 * ```
 */
export function sha256Parts(parts: readonly Uint8Array[]): Uint8Array {
  return sha256Bytes(joined(parts, "parts"));
}

/** Per tag, the SHA-256 state after the 64-byte prefix SHA-256(tag) ‖ SHA-256(tag). */
const tagMidstates = new Map<string, Sha256Midstate>();

/**
 * BIP340 tagged hash: SHA-256(SHA-256(tag) ‖ SHA-256(tag) ‖ data).
 *
 * @example
 * ```ts
 * taggedHash("edgeledger/tx", new Uint8Array([1, 2, 3]));
 * ```
 */
export function taggedHash(tag: string, ...data: Uint8Array[]): Uint8Array {
  let midstate = tagMidstates.get(tag);
  if (midstate === undefined) {
    if (typeof tag !== "string") throw new TypeError(`Expected "tag" to be a string, got ${typeof tag}`);
    const t = sha256Bytes(new TextEncoder().encode(tag));
    const prefix = new Uint8Array(64);
    prefix.set(t, 0);
    prefix.set(t, 32);
    midstate = sha256Midstate(prefix);
    tagMidstates.set(tag, midstate);
  }
  return sha256Resume(midstate, data.length === 1 ? data[0] : joined(data, "data"));
}
