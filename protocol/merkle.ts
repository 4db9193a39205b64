/**
 * RFC 6962 Merkle trees (Certificate Transparency), used for the transaction root and the
 * history root. Proof verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.
 *
 * Verifiers take untrusted input and return `false` for anything malformed; they never throw.
 *
 * @module
 */

import { abytes, aint, equalBytes } from "./bytes.ts";
import { sha256, sha256Parts } from "./hash.ts";

const EMPTY_ROOT = sha256(new Uint8Array(0));
const MAX_PROOF_HASHES = 64;
const LEAF_PREFIX = new Uint8Array([0]);

/**
 * RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ data).
 *
 * @example
 * ```ts
 * const leafHash = hashLeaf(txid);
 * ```
 */
export function hashLeaf(data: Uint8Array): Uint8Array {
  abytes(data, undefined, "data");
  return sha256Parts([LEAF_PREFIX, data]);
}

const childBuf = new Uint8Array(65);
childBuf[0] = 1;

/**
 * RFC 6962 §2.1 interior node: SHA-256(0x01 ‖ left ‖ right).
 *
 * @example
 * ```ts
 * const node = hashChildren(hashLeaf(a), hashLeaf(b));
 * ```
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  abytes(left, 32, "left");
  abytes(right, 32, "right");
  childBuf.set(left, 1);
  childBuf.set(right, 33);
  return sha256(childBuf);
}

function checkLeaves(leaves: readonly Uint8Array[]): void {
  if (!Array.isArray(leaves)) throw new TypeError(`Expected "leaves" to be an array`);
  for (let i = 0; i < leaves.length; i++) abytes(leaves[i], undefined, `leaves[${i}]`);
}

/** Root over already-hashed leaves. Pairing bottom-up and promoting an odd last node is the RFC 6962 split. */
function rootOfHashes(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT.slice();
  let level = hashes;
  while (level.length > 1) {
    const next: Uint8Array[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0; i + 1 < level.length; i += 2) next[i >> 1] = hashChildren(level[i], level[i + 1]);
    if (level.length % 2 === 1) next[next.length - 1] = level[level.length - 1];
    level = next;
  }
  return level[0];
}

/**
 * RFC 6962 Merkle Tree Hash over leaf *data* (each leaf is hashed with {@link hashLeaf}).
 * The empty tree's root is SHA-256 of the empty string.
 *
 * @example
 * ```ts
 * const root = merkleRoot([txidA, txidB, txidC]);
 * ```
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  checkLeaves(leaves);
  return rootOfHashes(leaves.map(hashLeaf));
}

/**
 * Merkle Tree Hash over leaves that are already leaf hashes.
 *
 * @example
 * ```ts
 * merkleRootOfLeafHashes(txids.map(hashLeaf));
 * ```
 */
export function merkleRootOfLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  for (let i = 0; i < leafHashes.length; i++) abytes(leafHashes[i], 32, `leafHashes[${i}]`);
  return rootOfHashes(leafHashes.slice());
}

/**
 * RFC 6962 §2.1.1 audit path for the leaf at `index`, leaf-side first.
 *
 * @example
 * ```ts
 * const proof = inclusionProof(txids, 2);
 * verifyInclusion(hashLeaf(txids[2]), 2, txids.length, proof, merkleRoot(txids)); // true
 * ```
 */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  checkLeaves(leaves);
  return inclusionProofOfLeafHashes(leaves.map(hashLeaf), index);
}

/**
 * {@link inclusionProof} over leaves that are already leaf hashes.
 *
 * @example
 * ```ts
 * inclusionProofOfLeafHashes(txids.map(hashLeaf), 0);
 * ```
 */
export function inclusionProofOfLeafHashes(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  aint(index, 0, leafHashes.length - 1, "index");
  const proof: Uint8Array[] = [];
  let level = leafHashes.slice();
  let i = index;
  while (level.length > 1) {
    const sibling = i ^ 1;
    if (sibling < level.length) proof.push(level[sibling]);
    const next: Uint8Array[] = new Array(Math.ceil(level.length / 2));
    for (let j = 0; j + 1 < level.length; j += 2) next[j >> 1] = hashChildren(level[j], level[j + 1]);
    if (level.length % 2 === 1) next[next.length - 1] = level[level.length - 1];
    level = next;
    i >>= 1;
  }
  return proof;
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === 32;
}

function isProof(proof: unknown): proof is Uint8Array[] {
  return Array.isArray(proof) && proof.length <= MAX_PROOF_HASHES && proof.every(isHash);
}

function isSize(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

const half = (n: number) => Math.floor(n / 2);
const odd = (n: number) => n % 2 === 1;

/**
 * RFC 9162 §2.1.3.2: verify that `leafHash` is the leaf at `index` in the tree of `size`
 * leaves with root `root`. Returns `false` for any malformed input; never throws.
 *
 * @example
 * ```ts
 * verifyInclusion(hashLeaf(txid), index, size, proof, header.txRoot);
 * ```
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    if (!isHash(leafHash) || !isHash(root) || !isSize(index) || !isSize(size) || !isProof(proof)) return false;
    if (index >= size) return false;
    let fn = index;
    let sn = size - 1;
    let r = leafHash;
    for (const p of proof) {
      if (sn === 0) return false;
      if (odd(fn) || fn === sn) {
        r = hashChildren(p, r);
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        r = hashChildren(r, p);
      }
      fn = half(fn);
      sn = half(sn);
    }
    return sn === 0 && equalBytes(r, root);
  } catch {
    return false;
  }
}

/**
 * RFC 6962 §2.1.2 consistency proof that the first `oldSize` leaves are a prefix of `leaves`.
 * `oldSize` must be in [1, leaves.length].
 *
 * @example
 * ```ts
 * const proof = consistencyProof(hashes, 5);
 * verifyConsistency(5, hashes.length, proof, rootAt5, merkleRoot(hashes)); // true
 * ```
 */
export function consistencyProof(leaves: readonly Uint8Array[], oldSize: number): Uint8Array[] {
  checkLeaves(leaves);
  aint(oldSize, 1, leaves.length, "oldSize");
  const hashes = leaves.map(hashLeaf);
  const mth = (lo: number, hi: number) => rootOfHashes(hashes.slice(lo, hi));
  const proof: Uint8Array[] = [];
  // SUBPROOF(m, D[lo:hi], b), written as a loop: each step either descends left (pushing
  // the right subtree's hash) or right (pushing the left subtree's hash).
  const out: Uint8Array[] = [];
  let lo = 0;
  let hi = leaves.length;
  let m = oldSize;
  let complete = true;
  while (m !== hi - lo) {
    const n = hi - lo;
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (m <= k) {
      out.push(mth(lo + k, hi));
      hi = lo + k;
    } else {
      out.push(mth(lo, lo + k));
      lo += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) proof.push(mth(lo, hi));
  // The recursion appends outer hashes after inner ones: reverse the collected hashes.
  for (let i = out.length - 1; i >= 0; i--) proof.push(out[i]);
  return proof;
}

/**
 * RFC 9162 §2.1.4.2: verify that the tree of `oldSize` leaves with `oldRoot` is a prefix of
 * the tree of `newSize` leaves with `newRoot`. `oldSize` 0 is rejected. Never throws.
 *
 * @example
 * ```ts
 * verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot);
 * ```
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  try {
    if (!isSize(oldSize) || !isSize(newSize) || !isProof(proof) || !isHash(oldRoot) || !isHash(newRoot)) {
      return false;
    }
    if (oldSize === 0 || oldSize > newSize) return false;
    if (oldSize === newSize) return proof.length === 0 && equalBytes(oldRoot, newRoot);
    if (proof.length === 0) return false;
    const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (odd(fn)) {
      fn = half(fn);
      sn = half(sn);
    }
    let fr = path[0];
    let sr = path[0];
    for (let i = 1; i < path.length; i++) {
      const c = path[i];
      if (sn === 0) return false;
      if (odd(fn) || fn === sn) {
        fr = hashChildren(c, fr);
        sr = hashChildren(c, sr);
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        sr = hashChildren(sr, c);
      }
      fn = half(fn);
      sn = half(sn);
    }
    return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
  } catch {
    return false;
  }
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1) {
    if (odd(n)) return false;
    n = half(n);
  }
  return n === 1;
}
