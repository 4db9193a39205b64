/**
 * Hashing: SHA-256 and BIP340-style tagged hashes, over canonical bytes only.
 *
 * @module
 */

import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * SHA-256 of `data`.
 *
 * @example
 * ```ts
 * sha256(new Uint8Array()); // e3b0c442...
 * ```
 */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/**
 * SHA-256 of several parts, without concatenating them first.
 *
 * @example
 * ```ts
 * sha256Parts([new Uint8Array([1]), new Uint8Array([2])]);
 * ```
 */
export function sha256Parts(parts: readonly Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

const tagPrefixes = new Map<string, Uint8Array>();

/**
 * BIP340 tagged hash: SHA-256(SHA-256(tag) ‖ SHA-256(tag) ‖ data).
 *
 * @example
 * ```ts
 * taggedHash("edgeledger/tx", new Uint8Array([1, 2, 3]));
 * ```
 */
export function taggedHash(tag: string, ...data: Uint8Array[]): Uint8Array {
  let prefix = tagPrefixes.get(tag);
  if (prefix === undefined) {
    const t = nobleSha256(utf8ToBytes(tag));
    prefix = new Uint8Array(64);
    prefix.set(t, 0);
    prefix.set(t, 32);
    tagPrefixes.set(tag, prefix);
  }
  const h = nobleSha256.create().update(prefix);
  for (const d of data) h.update(d);
  return h.digest();
}
