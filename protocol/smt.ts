/**
 * Compact sparse Merkle tree over 256-bit paths (docs/protocol.md §5).
 *
 * - path = SHA-256(key), bits most significant first
 * - leaf = SHA-256(0x00 ‖ path ‖ SHA-256(value))
 * - node = SHA-256(0x01 ‖ left ‖ right)
 * - an empty subtree is 32 zero bytes
 * - a subtree holding exactly one leaf is that leaf's hash, so each leaf sits at the
 *   shallowest depth where it is alone and the root depends only on the set of entries.
 *
 * Updates cost O(log n) hashes. Proofs carry only the non-empty siblings plus a bitmap.
 *
 * @module
 */

import { abytes, equalBytes, ZERO_HASH } from "./bytes.ts";
import { type ByteReader, ByteWriter, decodeAll } from "./encoding.ts";
import { DecodeError } from "./errors.ts";
import { sha256 } from "./hash.ts";

/**
 * Synchronous content-addressed node store. A node is stored under its hash as
 * `0x01 ‖ left ‖ right` (internal) or `0x00 ‖ path ‖ value` (leaf).
 */
export interface SmtStore {
  /** The encoded node stored under `hash`, if any. */
  get(hash: Uint8Array): Uint8Array | undefined;
  /** Store an encoded node under its hash. */
  set(hash: Uint8Array, node: Uint8Array): void;
  /** Forget a node that is no longer referenced by the current tree. */
  delete(hash: Uint8Array): void;
}

/**
 * In-memory {@link SmtStore}.
 *
 * @example
 * ```ts
 * const tree = new SparseMerkleTree(new MemorySmtStore());
 * ```
 */
export class MemorySmtStore implements SmtStore {
  readonly #nodes = new Map<string, Uint8Array>();
  /** {@inheritDoc SmtStore.get} */
  get(hash: Uint8Array): Uint8Array | undefined {
    return this.#nodes.get(key(hash));
  }
  /** {@inheritDoc SmtStore.set} */
  set(hash: Uint8Array, node: Uint8Array): void {
    this.#nodes.set(key(hash), node);
  }
  /** {@inheritDoc SmtStore.delete} */
  delete(hash: Uint8Array): void {
    this.#nodes.delete(key(hash));
  }
  /** Number of stored nodes. */
  get size(): number {
    return this.#nodes.size;
  }
}

function key(hash: Uint8Array): string {
  return String.fromCharCode.apply(null, hash as unknown as number[]);
}

/**
 * Proof about one key: the non-empty siblings from the root down, a bitmap saying which of
 * the `depth` siblings are non-empty, and, for a non-membership proof that ends at another
 * leaf, that leaf's path and value hash.
 */
export interface SmtProof {
  /** Depth of the terminal (the leaf, the empty subtree, or the other leaf). 0..256. */
  depth: number;
  /** Bit i (MSB first within each byte) set when the sibling at depth i is non-empty. */
  bitmap: Uint8Array;
  /** The non-empty siblings, root side first. */
  siblings: Uint8Array[];
  /** For non-membership ending at a different leaf: that leaf. */
  leaf?: { path: Uint8Array; valueHash: Uint8Array };
}

/** Maximum size of an encoded proof (256 siblings + bitmap + terminal). */
export const MAX_SMT_PROOF_BYTES: number = 2 + 32 + 256 * 32 + 1 + 64;

const LEAF = 0;
const NODE = 1;

function bitAt(path: Uint8Array, depth: number): number {
  return (path[depth >> 3] >> (7 - (depth & 7))) & 1;
}

function isZero(h: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (h[i] !== 0) return false;
  return true;
}

const leafBuf = new Uint8Array(65);
const nodeBuf = new Uint8Array(65);
nodeBuf[0] = 1;

/**
 * Hash of the leaf for `path` holding a value whose SHA-256 is `valueHash`.
 *
 * @example
 * ```ts
 * smtLeafHash(sha256(key), sha256(value));
 * ```
 */
export function smtLeafHash(path: Uint8Array, valueHash: Uint8Array): Uint8Array {
  abytes(path, 32, "path");
  abytes(valueHash, 32, "valueHash");
  leafBuf.set(path, 1);
  leafBuf.set(valueHash, 33);
  return sha256(leafBuf);
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeBuf.set(left, 1);
  nodeBuf.set(right, 33);
  return sha256(nodeBuf);
}

/**
 * A compact sparse Merkle tree over a synchronous node store.
 *
 * @example
 * ```ts
 * const tree = new SparseMerkleTree();
 * tree.set(key, value);
 * const proof = tree.prove(key);
 * verifySmtProof(tree.root(), key, value, proof); // true
 * ```
 */
export class SparseMerkleTree {
  readonly #store: SmtStore;
  #root: Uint8Array;

  /** Open the tree with root `root` (empty by default) over `store` (in memory by default). */
  constructor(store: SmtStore = new MemorySmtStore(), root: Uint8Array = ZERO_HASH) {
    abytes(root, 32, "root");
    this.#store = store;
    this.#root = root.slice();
  }

  /** The current root: 32 zero bytes for an empty tree. */
  root(): Uint8Array {
    return this.#root.slice();
  }

  #load(hash: Uint8Array): Uint8Array {
    const node = this.#store.get(hash);
    if (node === undefined) throw new Error(`sparse Merkle tree node missing from store`);
    return node;
  }

  /** The value stored under `key`, or undefined. */
  get(key: Uint8Array): Uint8Array | undefined {
    abytes(key, undefined, "key");
    const path = sha256(key);
    let h = this.#root;
    for (let depth = 0; depth <= 256; depth++) {
      if (isZero(h)) return undefined;
      const node = this.#load(h);
      if (node[0] === LEAF) {
        return equalBytes(node.subarray(1, 33), path) ? node.slice(33) : undefined;
      }
      h = bitAt(path, depth) ? node.subarray(33, 65) : node.subarray(1, 33);
    }
    throw new Error("sparse Merkle tree deeper than 256");
  }

  /** Insert or replace the value under `key`. */
  set(key: Uint8Array, value: Uint8Array): void {
    abytes(key, undefined, "key");
    abytes(value, undefined, "value");
    const path = sha256(key);
    const leafHash = smtLeafHash(path, sha256(value));
    const leafNode = new Uint8Array(33 + value.length);
    leafNode[0] = LEAF;
    leafNode.set(path, 1);
    leafNode.set(value, 33);
    this.#root = this.#insert(this.#root, 0, path, leafHash, leafNode);
  }

  #insert(h: Uint8Array, depth: number, path: Uint8Array, leafHash: Uint8Array, leafNode: Uint8Array): Uint8Array {
    if (isZero(h)) {
      this.#store.set(leafHash, leafNode);
      return leafHash;
    }
    const node = this.#load(h);
    if (node[0] === LEAF) {
      const otherPath = node.subarray(1, 33);
      if (equalBytes(otherPath, path)) {
        if (!equalBytes(h, leafHash)) {
          this.#store.delete(h);
          this.#store.set(leafHash, leafNode);
        }
        return leafHash;
      }
      this.#store.set(leafHash, leafNode);
      return this.#split(h.slice(), otherPath, depth, path, leafHash);
    }
    const bit = bitAt(path, depth);
    const left = node.subarray(1, 33);
    const right = node.subarray(33, 65);
    const child = bit ? right : left;
    const updated = this.#insert(child, depth + 1, path, leafHash, leafNode);
    if (equalBytes(updated, child)) return h;
    this.#store.delete(h);
    return this.#putNode(bit ? left : updated, bit ? updated : right);
  }

  /** Place two leaves under new internal nodes from `depth` to the first bit where their paths differ. */
  #split(
    otherHash: Uint8Array,
    otherPath: Uint8Array,
    depth: number,
    path: Uint8Array,
    leafHash: Uint8Array,
  ): Uint8Array {
    let d = depth;
    while (bitAt(path, d) === bitAt(otherPath, d)) d++;
    let h = bitAt(path, d) ? this.#putNode(otherHash, leafHash) : this.#putNode(leafHash, otherHash);
    for (let j = d - 1; j >= depth; j--) {
      h = bitAt(path, j) ? this.#putNode(ZERO_HASH, h) : this.#putNode(h, ZERO_HASH);
    }
    return h;
  }

  #putNode(left: Uint8Array, right: Uint8Array): Uint8Array {
    const h = nodeHash(left, right);
    const node = new Uint8Array(65);
    node[0] = NODE;
    node.set(left, 1);
    node.set(right, 33);
    this.#store.set(h, node);
    return h;
  }

  #isLeaf(h: Uint8Array): boolean {
    return !isZero(h) && this.#load(h)[0] === LEAF;
  }

  /** Remove `key`; returns whether it was present. */
  delete(key: Uint8Array): boolean {
    abytes(key, undefined, "key");
    const path = sha256(key);
    const before = this.#root;
    this.#root = this.#remove(this.#root, 0, path);
    return !equalBytes(before, this.#root);
  }

  #remove(h: Uint8Array, depth: number, path: Uint8Array): Uint8Array {
    if (isZero(h)) return h;
    const node = this.#load(h);
    if (node[0] === LEAF) {
      if (!equalBytes(node.subarray(1, 33), path)) return h;
      this.#store.delete(h);
      return ZERO_HASH;
    }
    const bit = bitAt(path, depth);
    const left = node.subarray(1, 33);
    const right = node.subarray(33, 65);
    const child = bit ? right : left;
    const sibling = bit ? left : right;
    const updated = this.#remove(child, depth + 1, path);
    if (equalBytes(updated, child)) return h;
    this.#store.delete(h);
    // A subtree left holding a single leaf collapses to that leaf.
    if (isZero(updated) && this.#isLeaf(sibling)) return sibling;
    if (isZero(sibling) && (isZero(updated) || this.#isLeaf(updated))) return updated;
    return this.#putNode(bit ? sibling : updated, bit ? updated : sibling);
  }

  /** A membership proof if `key` is present, otherwise a non-membership proof. */
  prove(key: Uint8Array): SmtProof {
    abytes(key, undefined, "key");
    const path = sha256(key);
    const bitmap = new Uint8Array(32);
    const siblings: Uint8Array[] = [];
    let h = this.#root;
    let depth = 0;
    for (;;) {
      if (isZero(h)) break;
      const node = this.#load(h);
      if (node[0] === LEAF) {
        const otherPath = node.subarray(1, 33);
        if (!equalBytes(otherPath, path)) {
          const proof = finish();
          proof.leaf = { path: otherPath.slice(), valueHash: sha256(node.subarray(33)) };
          return proof;
        }
        break;
      }
      const bit = bitAt(path, depth);
      const sibling = bit ? node.subarray(1, 33) : node.subarray(33, 65);
      if (!isZero(sibling)) {
        bitmap[depth >> 3] |= 0x80 >> (depth & 7);
        siblings.push(sibling.slice());
      }
      h = bit ? node.subarray(33, 65) : node.subarray(1, 33);
      depth++;
    }
    return finish();
    function finish(): SmtProof {
      return { depth, bitmap: bitmap.slice(0, Math.ceil(depth / 8)), siblings };
    }
  }
}

/**
 * Verify a sparse Merkle proof: membership of `key` with `value`, or, when `value` is
 * undefined, non-membership of `key`. Returns `false` for any malformed input; never throws.
 *
 * @example
 * ```ts
 * verifySmtProof(header.stateRoot, accountKey, accountValue, proof);
 * ```
 */
export function verifySmtProof(
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array | undefined,
  proof: SmtProof,
): boolean {
  try {
    if (!(root instanceof Uint8Array) || root.length !== 32) return false;
    if (!(key instanceof Uint8Array)) return false;
    if (value !== undefined && !(value instanceof Uint8Array)) return false;
    if (!isWellFormed(proof)) return false;
    const path = sha256(key);
    const { depth, bitmap, siblings, leaf } = proof;
    let cur: Uint8Array;
    if (value !== undefined) {
      if (leaf !== undefined) return false;
      cur = smtLeafHash(path, sha256(value));
    } else if (leaf !== undefined) {
      if (equalBytes(leaf.path, path)) return false;
      for (let i = 0; i < depth; i++) if (bitAt(leaf.path, i) !== bitAt(path, i)) return false;
      cur = smtLeafHash(leaf.path, leaf.valueHash);
    } else {
      cur = ZERO_HASH;
    }
    let s = siblings.length;
    for (let i = depth - 1; i >= 0; i--) {
      const present = (bitmap[i >> 3] >> (7 - (i & 7))) & 1;
      const sib = present ? siblings[--s] : ZERO_HASH;
      cur = bitAt(path, i) ? nodeHash(sib, cur) : nodeHash(cur, sib);
    }
    return s === 0 && equalBytes(cur, root);
  } catch {
    return false;
  }
}

function isWellFormed(proof: SmtProof): boolean {
  if (typeof proof !== "object" || proof === null) return false;
  const { depth, bitmap, siblings, leaf } = proof;
  if (typeof depth !== "number" || !Number.isInteger(depth) || depth < 0 || depth > 256) return false;
  if (!(bitmap instanceof Uint8Array) || bitmap.length !== Math.ceil(depth / 8)) return false;
  if (!Array.isArray(siblings)) return false;
  let count = 0;
  for (let i = 0; i < bitmap.length * 8; i++) {
    if ((bitmap[i >> 3] >> (7 - (i & 7))) & 1) {
      if (i >= depth) return false;
      count++;
    }
  }
  if (siblings.length !== count) return false;
  for (const s of siblings) if (!(s instanceof Uint8Array) || s.length !== 32 || isZero(s)) return false;
  if (leaf !== undefined) {
    if (typeof leaf !== "object" || leaf === null) return false;
    if (!(leaf.path instanceof Uint8Array) || leaf.path.length !== 32) return false;
    if (!(leaf.valueHash instanceof Uint8Array) || leaf.valueHash.length !== 32) return false;
  }
  return true;
}

/**
 * Canonical encoding of a proof: depth u16 ‖ bitmap ‖ siblings ‖ terminal flag u8
 * (0 = none, 1 = other leaf) ‖ [path ‖ valueHash].
 *
 * @example
 * ```ts
 * decodeSmtProof(encodeSmtProof(proof));
 * ```
 */
export function encodeSmtProof(proof: SmtProof): Uint8Array {
  if (!isWellFormed(proof)) throw new RangeError(`Expected "proof" to be a well-formed SmtProof`);
  const w = new ByteWriter(3 + proof.bitmap.length + 32 * proof.siblings.length + 64);
  w.u16(proof.depth).bytes(proof.bitmap);
  for (const s of proof.siblings) w.bytes(s, 32);
  if (proof.leaf) w.u8(1).bytes(proof.leaf.path, 32).bytes(proof.leaf.valueHash, 32);
  else w.u8(0);
  return w.finish();
}

/**
 * Strictly decode {@link encodeSmtProof} output; throws {@link DecodeError}.
 *
 * @example
 * ```ts
 * const proof = decodeSmtProof(bytes);
 * ```
 */
export function decodeSmtProof(bytes: Uint8Array): SmtProof {
  return decodeAll(bytes, (r: ByteReader) => {
    const depth = r.u16();
    if (depth > 256) throw new DecodeError(`proof depth ${depth} exceeds 256`);
    const bitmap = r.bytes(Math.ceil(depth / 8), "bitmap").slice();
    let count = 0;
    for (let i = 0; i < bitmap.length * 8; i++) {
      if ((bitmap[i >> 3] >> (7 - (i & 7))) & 1) {
        if (i >= depth) throw new DecodeError("proof bitmap has bits beyond its depth");
        count++;
      }
    }
    const siblings: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const s = r.bytes(32, "sibling").slice();
      if (isZero(s)) throw new DecodeError("proof lists an empty sibling");
      siblings.push(s);
    }
    const flag = r.u8();
    const proof: SmtProof = { depth, bitmap, siblings };
    if (flag === 1) {
      proof.leaf = { path: r.bytes(32, "leaf path").slice(), valueHash: r.bytes(32, "leaf value hash").slice() };
    } else if (flag !== 0) throw new DecodeError(`unknown proof terminal flag ${flag}`);
    return proof;
  }, "sparse Merkle proof");
}
