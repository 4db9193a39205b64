/**
 * protocol/smt.ts: the compact sparse Merkle tree's root depends only on its entries, its store
 * holds no garbage, updates are O(log n), and its proofs (and their encoding) reject tampering.
 *
 * Run: deno test -A tests/smt_test.ts
 */
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, equalBytes, ZERO_HASH } from "../protocol/bytes.ts";
import { DecodeError } from "../protocol/errors.ts";
import {
  decodeSmtProof,
  encodeSmtProof,
  MAX_SMT_PROOF_BYTES,
  MemorySmtStore,
  smtLeafHash,
  type SmtProof,
  type SmtStore,
  SparseMerkleTree,
  verifySmtProof,
} from "../protocol/smt.ts";
import { rng } from "./helpers/random.ts";

// ---------------------------------------------------------------------------------------------
// Independent helpers: hashing straight from the module header, bit access, tree walking
// ---------------------------------------------------------------------------------------------

const text = new TextEncoder();
const key = (s: string) => text.encode(s);

function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** leaf = SHA-256(0x00 ‖ path ‖ SHA-256(value)), path = SHA-256(key). */
const refLeaf = (k: Uint8Array, v: Uint8Array) => sha256(cat([0], sha256(k), sha256(v)));
/** node = SHA-256(0x01 ‖ left ‖ right). */
const refNode = (l: Uint8Array, r: Uint8Array) => sha256(cat([1], l, r));
const bitAt = (path: Uint8Array, d: number) => (path[d >> 3] >> (7 - (d & 7))) & 1;
const isZero = (h: Uint8Array) => h.every((b) => b === 0);

function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  while (d < 256 && bitAt(a, d) === bitAt(b, d)) d++;
  return d;
}

/** The first key `${label}-${i}` whose path satisfies `ok`. */
function searchKey(label: string, ok: (path: Uint8Array) => boolean): Uint8Array {
  for (let i = 0; i < 1 << 22; i++) {
    const k = key(`${label}-${i}`);
    if (ok(sha256(k))) return k;
  }
  throw new Error(`no key found for ${label}`);
}

/** Two keys whose paths share at least `bits` leading bits (birthday search over `bits`-bit prefixes). */
function searchPair(bits: number): [Uint8Array, Uint8Array] {
  const seen = new Map<number, Uint8Array>();
  for (let i = 0; i < 1 << 22; i++) {
    const k = key(`pair-${i}`);
    const p = sha256(k);
    const prefix = ((p[0] << 16) | (p[1] << 8) | p[2]) >>> (24 - bits);
    const other = seen.get(prefix);
    if (other) return [other, k];
    seen.set(prefix, k);
  }
  throw new Error("no pair found");
}

/**
 * Walk every node reachable from `root`, checking each stored node against its hash, the
 * compactness rule (no internal node with an empty child next to a leaf or another empty child)
 * and that each leaf lies on its own path. Returns the number of nodes and the entries found.
 */
function walk(store: SmtStore, root: Uint8Array): { nodes: number; entries: Map<string, Uint8Array> } {
  const entries = new Map<string, Uint8Array>();
  let nodes = 0;
  const isLeaf = (h: Uint8Array) => !isZero(h) && store.get(h)![0] === 0;
  const visit = (h: Uint8Array, prefix: number[]) => {
    if (isZero(h)) return;
    const node = store.get(h);
    assert.ok(node !== undefined, `node ${bytesToHex(h)} missing from the store`);
    nodes++;
    if (node[0] === 0) {
      const path = node.subarray(1, 33);
      const value = node.subarray(33);
      assert.deepEqual(sha256(cat([0], path, sha256(value))), h, "leaf stored under the wrong hash");
      prefix.forEach((b, d) => assert.equal(bitAt(path, d), b, "leaf off its path"));
      entries.set(bytesToHex(path), value.slice());
      return;
    }
    assert.equal(node[0], 1);
    assert.equal(node.length, 65);
    assert.deepEqual(sha256(node), h, "internal node stored under the wrong hash");
    const [l, r] = [node.subarray(1, 33), node.subarray(33, 65)];
    assert.ok(!(isZero(l) && (isZero(r) || isLeaf(r))), "internal node should have collapsed");
    assert.ok(!(isZero(r) && isLeaf(l)), "internal node should have collapsed");
    assert.ok(prefix.length < 256);
    visit(l, [...prefix, 0]);
    visit(r, [...prefix, 1]);
  };
  visit(root, []);
  return { nodes, entries };
}

/** A tree built fresh from `entries` in a fixed (sorted) order. */
function fresh(entries: Map<string, [Uint8Array, Uint8Array]>): SparseMerkleTree {
  const tree = new SparseMerkleTree();
  for (const id of [...entries.keys()].sort()) {
    const [k, v] = entries.get(id)!;
    tree.set(k, v);
  }
  return tree;
}

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const r = rng(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A store wrapper counting writes and deletes. */
class CountingStore implements SmtStore {
  readonly inner: MemorySmtStore = new MemorySmtStore();
  sets = 0;
  deletes = 0;
  get(h: Uint8Array): Uint8Array | undefined {
    return this.inner.get(h);
  }
  set(h: Uint8Array, node: Uint8Array): void {
    this.sets++;
    this.inner.set(h, node);
  }
  delete(h: Uint8Array): void {
    this.deletes++;
    this.inner.delete(h);
  }
}

// ---------------------------------------------------------------------------------------------
// Shared data: random keys plus keys whose paths share long prefixes
// ---------------------------------------------------------------------------------------------

const random = rng(256);
const RANDOM_ENTRIES: [Uint8Array, Uint8Array][] = Array.from(
  { length: 64 },
  () => [random.bytes(1 + random.int(40)), random.bytes(random.int(50))],
);

// A and B share a long path prefix of P bits (they split at bit P). C is absent and follows A one bit
// further, so its path ends at A's leaf; E is absent and leaves A's path at bit P - 1, one level above
// the A/B split, so its path ends in an empty subtree next to the A/B chain.
const [KEY_A, KEY_B] = searchPair(14);
const PATH_A = sha256(KEY_A);
const PATH_B = sha256(KEY_B);
const P = commonPrefix(PATH_A, PATH_B);
const KEY_C = searchKey("c", (p) => commonPrefix(p, PATH_A) > P);
const KEY_E = searchKey("e", (p) => commonPrefix(p, PATH_A) === P - 1);
const VALUE_A = key("value of A");
const VALUE_B = key("value of B");

/** The tree T: 64 random entries plus A and B. */
function treeT(store: SmtStore = new MemorySmtStore()): SparseMerkleTree {
  const tree = new SparseMerkleTree(store);
  for (const [k, v] of RANDOM_ENTRIES) tree.set(k, v);
  tree.set(KEY_A, VALUE_A);
  tree.set(KEY_B, VALUE_B);
  return tree;
}

// ---------------------------------------------------------------------------------------------
// Roots
// ---------------------------------------------------------------------------------------------

Deno.test("the empty tree's root is 32 zero bytes", () => {
  const tree = new SparseMerkleTree();
  assert.deepEqual(tree.root(), new Uint8Array(32));
  assert.deepEqual(new SparseMerkleTree(new MemorySmtStore()).root(), ZERO_HASH);
});

Deno.test("a single-leaf tree's root is smtLeafHash(sha256(key), sha256(value))", () => {
  for (const [k, v] of RANDOM_ENTRIES.slice(0, 10)) {
    const tree = new SparseMerkleTree();
    tree.set(k, v);
    assert.deepEqual(tree.root(), smtLeafHash(sha256(k), sha256(v)));
    assert.deepEqual(tree.root(), refLeaf(k, v));
  }
});

Deno.test("two leaves sharing a P-bit path prefix hang under one split node and P zero-sibling nodes", () => {
  assert.ok(P >= 14, `searched pair shares ${P} bits`);
  const tree = new SparseMerkleTree();
  tree.set(KEY_A, VALUE_A);
  tree.set(KEY_B, VALUE_B);
  const [la, lb] = [refLeaf(KEY_A, VALUE_A), refLeaf(KEY_B, VALUE_B)];
  let h = bitAt(PATH_A, P) ? refNode(lb, la) : refNode(la, lb);
  for (let d = P - 1; d >= 0; d--) h = bitAt(PATH_A, d) ? refNode(ZERO_HASH, h) : refNode(h, ZERO_HASH);
  assert.deepEqual(tree.root(), h);
});

Deno.test("root() returns a copy that callers may mutate", () => {
  const tree = treeT();
  const before = tree.root();
  tree.root().fill(7);
  assert.deepEqual(tree.root(), before);
});

Deno.test("the root is independent of insertion order over 5 random permutations", () => {
  const entries: [Uint8Array, Uint8Array][] = [
    ...RANDOM_ENTRIES,
    ...Array.from({ length: 136 }, () => [random.bytes(32), random.bytes(8)] as [Uint8Array, Uint8Array]),
    [KEY_A, VALUE_A],
    [KEY_B, VALUE_B],
    [KEY_C, key("c")],
    [KEY_E, key("e")],
  ];
  const expected = fresh(new Map(entries.map(([k, v]) => [bytesToHex(k), [k, v]]))).root();
  for (let seed = 1; seed <= 5; seed++) {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store);
    for (const [k, v] of shuffle(entries, seed)) tree.set(k, v);
    assert.deepEqual(tree.root(), expected, `permutation ${seed}`);
    assert.equal(walk(store, tree.root()).nodes, store.size);
  }
});

Deno.test("the root after 3000 interleaved sets, replacements, deletes and re-inserts equals a fresh tree of the final entries", () => {
  const r = rng(3000);
  const pool: Uint8Array[] = [
    ...Array.from({ length: 150 }, () => r.bytes(1 + r.int(33))),
    KEY_A,
    KEY_B,
    KEY_C,
    KEY_E,
  ];
  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store);
  const model = new Map<string, [Uint8Array, Uint8Array]>();
  for (let op = 1; op <= 3000; op++) {
    const k = pool[r.int(pool.length)];
    const id = bytesToHex(k);
    if (r.int(3) === 0) {
      assert.equal(tree.delete(k), model.delete(id), `op ${op}: delete result`);
    } else {
      const v = r.bytes(r.int(20));
      tree.set(k, v);
      model.set(id, [k, v]);
    }
    if (op % 250 === 0) {
      assert.deepEqual(tree.root(), fresh(model).root(), `op ${op}: root`);
      const { nodes, entries } = walk(store, tree.root());
      assert.equal(store.size, nodes, `op ${op}: store holds unreachable nodes`);
      assert.equal(entries.size, model.size);
    }
  }
  for (const [k, v] of model.values()) assert.deepEqual(tree.get(k), v);
  // Delete everything in random order: back to the empty root and an empty store.
  for (const [k] of shuffle([...model.values()], 99)) assert.equal(tree.delete(k), true);
  assert.deepEqual(tree.root(), ZERO_HASH);
  assert.equal(store.size, 0);
});

// ---------------------------------------------------------------------------------------------
// get / set / delete
// ---------------------------------------------------------------------------------------------

Deno.test("get() returns each stored value and undefined for absent keys, including ones whose path hits another leaf", () => {
  const tree = treeT();
  for (const [k, v] of RANDOM_ENTRIES) assert.deepEqual(tree.get(k), v);
  assert.deepEqual(tree.get(KEY_A), VALUE_A);
  assert.equal(tree.get(KEY_C), undefined);
  assert.equal(tree.get(KEY_E), undefined);
  assert.equal(tree.get(key("absent")), undefined);
  assert.equal(new SparseMerkleTree().get(KEY_A), undefined);
});

Deno.test("get() returns a copy of the value", () => {
  const tree = treeT();
  tree.get(KEY_A)!.fill(0);
  assert.deepEqual(tree.get(KEY_A), VALUE_A);
});

Deno.test("set() on an existing key replaces its value and gives the root of a tree built with the new value", () => {
  const store = new MemorySmtStore();
  const tree = treeT(store);
  const size = store.size;
  tree.set(KEY_A, key("new value"));
  assert.deepEqual(tree.get(KEY_A), key("new value"));
  assert.equal(store.size, size);
  const other = new SparseMerkleTree();
  for (const [k, v] of RANDOM_ENTRIES) other.set(k, v);
  other.set(KEY_B, VALUE_B);
  other.set(KEY_A, key("new value"));
  assert.deepEqual(tree.root(), other.root());
});

Deno.test("set() with the value already stored writes nothing and leaves the root unchanged", () => {
  const store = new CountingStore();
  const tree = treeT(store);
  const [root, sets, deletes] = [tree.root(), store.sets, store.deletes];
  tree.set(KEY_A, VALUE_A.slice());
  assert.deepEqual(tree.root(), root);
  assert.equal(store.sets, sets);
  assert.equal(store.deletes, deletes);
});

Deno.test("delete() of an absent key returns false and leaves the root and the store unchanged", () => {
  const store = new MemorySmtStore();
  const tree = treeT(store);
  const [root, size] = [tree.root(), store.size];
  for (const k of [KEY_C, KEY_E, key("absent"), new Uint8Array(0)]) {
    assert.equal(tree.delete(k), false);
    assert.deepEqual(tree.root(), root);
    assert.equal(store.size, size);
  }
  assert.equal(new SparseMerkleTree().delete(KEY_A), false);
});

Deno.test("delete() of a present key returns true, forgets it and restores the root of the tree without it", () => {
  const tree = treeT();
  const without = new SparseMerkleTree();
  for (const [k, v] of RANDOM_ENTRIES) without.set(k, v);
  without.set(KEY_B, VALUE_B);
  assert.equal(tree.delete(KEY_A), true);
  assert.equal(tree.get(KEY_A), undefined);
  assert.deepEqual(tree.root(), without.root());
  assert.equal(tree.delete(KEY_A), false);
});

Deno.test("deleting one of two deep leaves collapses the chain back to a single-leaf root", () => {
  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store);
  tree.set(KEY_A, VALUE_A);
  tree.set(KEY_B, VALUE_B);
  assert.equal(store.size, P + 1 + 2);
  tree.delete(KEY_A);
  assert.deepEqual(tree.root(), refLeaf(KEY_B, VALUE_B));
  assert.equal(store.size, 1);
});

Deno.test("an empty key and an empty value are ordinary entries", () => {
  const tree = new SparseMerkleTree();
  tree.set(new Uint8Array(0), new Uint8Array(0));
  assert.deepEqual(tree.get(new Uint8Array(0)), new Uint8Array(0));
  assert.deepEqual(tree.root(), refLeaf(new Uint8Array(0), new Uint8Array(0)));
  assert.ok(verifySmtProof(tree.root(), new Uint8Array(0), new Uint8Array(0), tree.prove(new Uint8Array(0))));
});

Deno.test("a tree reopened over the same store and root reads and updates the same entries", () => {
  // One writer per store: an update deletes the nodes it replaces, so the first handle is dropped.
  const store = new MemorySmtStore();
  const again = new SparseMerkleTree(store, treeT(store).root());
  assert.deepEqual(again.get(KEY_B), VALUE_B);
  again.set(KEY_C, key("c"));
  const expected = treeT();
  expected.set(KEY_C, key("c"));
  assert.deepEqual(again.root(), expected.root());
  assert.equal(store.size, walk(store, again.root()).nodes);
});

Deno.test("SparseMerkleTree rejects a root that is not 32 bytes and keys or values that are not bytes", () => {
  assert.throws(() => new SparseMerkleTree(new MemorySmtStore(), new Uint8Array(31)), RangeError);
  assert.throws(() => new SparseMerkleTree(new MemorySmtStore(), new Uint8Array(33)), RangeError);
  const tree = new SparseMerkleTree();
  assert.throws(() => tree.set("k" as unknown as Uint8Array, new Uint8Array(1)), TypeError);
  assert.throws(() => tree.set(new Uint8Array(1), null as unknown as Uint8Array), TypeError);
  assert.throws(() => tree.get(undefined as unknown as Uint8Array), TypeError);
  assert.throws(() => tree.delete([1] as unknown as Uint8Array), TypeError);
  assert.throws(() => tree.prove({} as unknown as Uint8Array), TypeError);
});

// ---------------------------------------------------------------------------------------------
// Store hygiene and update cost
// ---------------------------------------------------------------------------------------------

Deno.test("MemorySmtStore holds exactly the nodes reachable from the root after a random mix of sets and deletes", () => {
  const r = rng(77);
  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store);
  const keys = Array.from({ length: 300 }, () => r.bytes(8));
  for (let i = 0; i < 1500; i++) {
    const k = keys[r.int(keys.length)];
    if (r.int(4) === 0) tree.delete(k);
    else tree.set(k, r.bytes(1 + r.int(4)));
    if (i % 100 === 99) assert.equal(store.size, walk(store, tree.root()).nodes, `after op ${i}`);
  }
  const { nodes, entries } = walk(store, tree.root());
  assert.equal(store.size, nodes);
  for (const k of keys) {
    const v = tree.get(k);
    assert.equal(entries.has(bytesToHex(sha256(k))), v !== undefined);
  }
});

Deno.test("one set() into a tree of 1000 random keys writes fewer than 40 nodes", () => {
  const r = rng(1000);
  const store = new CountingStore();
  const tree = new SparseMerkleTree(store);
  for (let i = 0; i < 1000; i++) tree.set(r.bytes(32), r.bytes(8));
  let max = 0;
  for (let i = 0; i < 200; i++) {
    const before = store.sets;
    tree.set(r.bytes(32), r.bytes(8));
    max = Math.max(max, store.sets - before);
  }
  assert.ok(max < 40, `max nodes written by one set: ${max}`);
  // A replacement writes the leaf and the path above it, and deletes as many as it writes.
  const k = r.bytes(32);
  tree.set(k, new Uint8Array([1]));
  const [sets, deletes] = [store.sets, store.deletes];
  tree.set(k, new Uint8Array([2]));
  assert.ok(store.sets - sets < 40);
  assert.equal(store.sets - sets, store.deletes - deletes);
});

// ---------------------------------------------------------------------------------------------
// Proofs
// ---------------------------------------------------------------------------------------------

/** Proof levels from the root down: the sibling at each depth, or null when empty. */
function levels(proof: SmtProof): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = [];
  let s = 0;
  for (let d = 0; d < proof.depth; d++) out.push(bitAt(proof.bitmap, d) ? proof.siblings[s++] : null);
  return out;
}

function fromLevels(ls: readonly (Uint8Array | null)[], leaf?: SmtProof["leaf"]): SmtProof {
  const bitmap = new Uint8Array(Math.ceil(ls.length / 8));
  const siblings: Uint8Array[] = [];
  ls.forEach((s, d) => {
    if (s === null) return;
    bitmap[d >> 3] |= 0x80 >> (d & 7);
    siblings.push(s);
  });
  const proof: SmtProof = { depth: ls.length, bitmap, siblings };
  if (leaf) proof.leaf = leaf;
  return proof;
}

const flipBit = (h: Uint8Array, bit: number) => {
  const c = h.slice();
  c[bit >> 3] ^= 0x80 >> (bit & 7);
  return c;
};

/** Every tampered variant of a valid proof, labelled. Each must fail to verify. */
function tampered(proof: SmtProof): [string, SmtProof][] {
  const out: [string, SmtProof][] = [];
  const ls = levels(proof);
  const extra = random.bytes(32);
  const leaf = proof.leaf;
  proof.siblings.forEach((_, j) => {
    for (const bit of [0, 97, 255]) {
      const siblings = proof.siblings.slice();
      siblings[j] = flipBit(siblings[j], bit);
      out.push([`sibling ${j} bit ${bit} flipped`, { ...proof, siblings }]);
    }
    out.push([`sibling ${j} dropped`, { ...proof, siblings: proof.siblings.filter((__, i) => i !== j) }]);
  });
  out.push(["extra sibling appended", { ...proof, siblings: [...proof.siblings, extra] }]);
  out.push(["extra sibling prepended", { ...proof, siblings: [extra, ...proof.siblings] }]);
  ls.forEach((s, d) => {
    const bitmap = proof.bitmap.slice();
    bitmap[d >> 3] ^= 0x80 >> (d & 7);
    out.push([`bitmap bit ${d} flipped`, { ...proof, bitmap }]);
    // The same flip with the sibling list kept consistent, so only the hashing can catch it.
    const relevelled = ls.slice();
    relevelled[d] = s === null ? extra : null;
    out.push([`level ${d} ${s === null ? "given a sibling" : "emptied"}`, fromLevels(relevelled, leaf)]);
  });
  out.push(["depth + 1 (empty sibling)", fromLevels([...ls, null], leaf)]);
  out.push(["depth + 1 (extra sibling)", fromLevels([...ls, extra], leaf)]);
  if (ls.length > 0) out.push(["depth - 1", fromLevels(ls.slice(0, -1), leaf)]);
  out.push(["depth + 1 (bitmap untouched)", { ...proof, depth: proof.depth + 1 }]);
  if (proof.depth > 0) out.push(["depth - 1 (bitmap untouched)", { ...proof, depth: proof.depth - 1 }]);
  if (leaf) {
    out.push(["leaf value hash flipped", { ...proof, leaf: { ...leaf, valueHash: flipBit(leaf.valueHash, 5) } }]);
    for (const bit of new Set([0, Math.max(0, proof.depth - 1), proof.depth, 200, 255])) {
      out.push([`leaf path bit ${bit} flipped`, { ...proof, leaf: { ...leaf, path: flipBit(leaf.path, bit) } }]);
    }
    out.push(["leaf dropped", fromLevels(ls)]);
  } else {
    out.push(["leaf added", { ...proof, leaf: { path: flipBit(PATH_A, 255), valueHash: sha256(VALUE_A) } }]);
  }
  return out;
}

Deno.test("prove() gives verifying membership proofs for every key of T", () => {
  const tree = treeT();
  const root = tree.root();
  for (const [k, v] of [...RANDOM_ENTRIES, [KEY_A, VALUE_A], [KEY_B, VALUE_B]]) {
    const proof = tree.prove(k);
    assert.equal(proof.leaf, undefined);
    assert.ok(verifySmtProof(root, k, v, proof));
  }
});

Deno.test("prove() gives verifying non-membership proofs for 300 absent keys, of both terminal kinds", () => {
  const tree = treeT();
  const root = tree.root();
  const r = rng(300);
  let [empty, otherLeaf] = [0, 0];
  for (let i = 0; i < 300; i++) {
    const k = r.bytes(20);
    const proof = tree.prove(k);
    if (proof.leaf) otherLeaf++;
    else empty++;
    assert.ok(verifySmtProof(root, k, undefined, proof), `absent key ${i}`);
  }
  assert.ok(empty > 0 && otherLeaf > 0, `${empty} empty, ${otherLeaf} other-leaf`);
});

Deno.test("the deep proofs in T have the expected shape: A's membership, C's other-leaf and E's empty terminal", () => {
  const tree = treeT();
  const a = tree.prove(KEY_A);
  assert.equal(a.depth, P + 1);
  assert.deepEqual(a.siblings.at(-1), refLeaf(KEY_B, VALUE_B));
  const c = tree.prove(KEY_C);
  assert.equal(c.depth, P + 1);
  assert.deepEqual(c.leaf, { path: PATH_A, valueHash: sha256(VALUE_A) });
  assert.deepEqual(c.siblings, a.siblings);
  const e = tree.prove(KEY_E);
  assert.equal(e.leaf, undefined);
  assert.equal(e.depth, P);
  assert.ok(bitAt(e.bitmap, P - 1), "E's last sibling is the A/B chain");
  assert.ok(a.siblings.length >= 3 && e.siblings.length >= 2, "T's top levels give every proof several siblings");
});

Deno.test("the empty tree proves non-membership with a depth-0 proof", () => {
  const proof = new SparseMerkleTree().prove(KEY_A);
  assert.deepEqual(proof, { depth: 0, bitmap: new Uint8Array(0), siblings: [] });
  assert.ok(verifySmtProof(ZERO_HASH, KEY_A, undefined, proof));
  assert.equal(verifySmtProof(ZERO_HASH, KEY_A, VALUE_A, proof), false);
});

Deno.test("a single-leaf tree proves other keys absent with a depth-0 other-leaf proof", () => {
  const tree = new SparseMerkleTree();
  tree.set(KEY_A, VALUE_A);
  const proof = tree.prove(KEY_B);
  assert.equal(proof.depth, 0);
  assert.deepEqual(proof.leaf, { path: PATH_A, valueHash: sha256(VALUE_A) });
  assert.ok(verifySmtProof(tree.root(), KEY_B, undefined, proof));
  assert.ok(verifySmtProof(tree.root(), KEY_A, VALUE_A, tree.prove(KEY_A)));
});

const KINDS: [string, Uint8Array, Uint8Array | undefined][] = [
  ["membership proof of A", KEY_A, VALUE_A],
  ["other-leaf non-membership proof of C", KEY_C, undefined],
  ["empty-terminal non-membership proof of E", KEY_E, undefined],
];

for (const [kind, k, v] of KINDS) {
  Deno.test(`verifySmtProof() rejects every tampered variant of the ${kind}`, () => {
    const tree = treeT();
    const root = tree.root();
    const proof = tree.prove(k);
    assert.ok(verifySmtProof(root, k, v, proof));
    const variants = tampered(proof);
    assert.ok(variants.length > 20);
    for (const [what, bad] of variants) assert.equal(verifySmtProof(root, k, v, bad), false, what);
    // The original is untouched by building the variants.
    assert.ok(verifySmtProof(root, k, v, proof));
  });

  Deno.test(`verifySmtProof() rejects the ${kind} under a wrong root, wrong key or wrong value`, () => {
    const tree = treeT();
    const root = tree.root();
    const proof = tree.prove(k);
    for (const bit of [0, 128, 255]) assert.equal(verifySmtProof(flipBit(root, bit), k, v, proof), false);
    assert.equal(verifySmtProof(ZERO_HASH, k, v, proof), false);
    tree.set(key("one more"), key("entry"));
    assert.equal(verifySmtProof(tree.root(), k, v, proof), false, "root after another insert");
    for (const other of [KEY_A, KEY_B, KEY_C, KEY_E, key("absent")]) {
      if (other !== k) assert.equal(verifySmtProof(root, other, v, proof), false);
    }
    const wrongValues = v === undefined ? [VALUE_A, new Uint8Array(0)] : [VALUE_B, new Uint8Array(0), v.subarray(1)];
    for (const wrong of wrongValues) assert.equal(verifySmtProof(root, k, wrong, proof), false);
  });
}

Deno.test("verifySmtProof() rejects a membership proof used as non-membership and vice versa", () => {
  const tree = treeT();
  const root = tree.root();
  assert.equal(verifySmtProof(root, KEY_A, undefined, tree.prove(KEY_A)), false);
  assert.equal(verifySmtProof(root, KEY_C, VALUE_A, tree.prove(KEY_C)), false);
  assert.equal(verifySmtProof(root, KEY_E, VALUE_A, tree.prove(KEY_E)), false);
  // A's leaf data as C's value still fails: the leaf hash binds A's path, not C's.
  assert.equal(verifySmtProof(root, KEY_C, VALUE_A, { ...tree.prove(KEY_C), leaf: undefined }), false);
  // Non-membership of a present key, claimed through its own leaf or a neighbour's.
  const a = tree.prove(KEY_A);
  assert.equal(
    verifySmtProof(root, KEY_A, undefined, { ...a, leaf: { path: PATH_A, valueHash: sha256(VALUE_A) } }),
    false,
  );
  assert.equal(
    verifySmtProof(root, KEY_A, undefined, { ...a, leaf: { path: PATH_B, valueHash: sha256(VALUE_B) } }),
    false,
  );
  assert.equal(verifySmtProof(root, KEY_A, VALUE_A, tree.prove(KEY_C)), false);
});

Deno.test("verifySmtProof() returns false (never throws) for malformed proofs and arguments", () => {
  const tree = treeT();
  const root = tree.root();
  const a = tree.prove(KEY_A);
  const c = tree.prove(KEY_C);
  const badProofs: unknown[] = [
    null,
    undefined,
    "proof",
    {},
    [],
    { ...a, depth: -1 },
    { ...a, depth: 257 },
    { ...a, depth: 1.5 },
    { ...a, depth: NaN },
    { ...a, depth: String(a.depth) },
    { ...a, depth: BigInt(a.depth) },
    { ...a, bitmap: a.bitmap.subarray(1) },
    { ...a, bitmap: cat(a.bitmap, [0]) },
    { ...a, bitmap: Array.from(a.bitmap) },
    { ...a, bitmap: null },
    { ...a, siblings: null },
    { ...a, siblings: { ...a.siblings, length: a.siblings.length } },
    { ...a, siblings: a.siblings.map((s) => s.subarray(1)) },
    { ...a, siblings: a.siblings.map((s) => cat(s, [0])) },
    { ...a, siblings: a.siblings.map(() => new Uint8Array(32)) },
    { ...a, siblings: a.siblings.map(() => null) },
    { ...c, leaf: null },
    { ...c, leaf: "leaf" },
    { ...c, leaf: { path: PATH_A.subarray(1), valueHash: c.leaf!.valueHash } },
    { ...c, leaf: { path: PATH_A } },
    { ...c, leaf: { path: PATH_A, valueHash: cat(c.leaf!.valueHash, [0]) } },
    new Proxy(a, {
      get() {
        throw new Error("hostile getter");
      },
    }),
  ];
  for (const bad of badProofs) assert.equal(verifySmtProof(root, KEY_A, VALUE_A, bad as SmtProof), false);
  for (const bad of badProofs) assert.equal(verifySmtProof(root, KEY_C, undefined, bad as SmtProof), false);
  const badArgs: [unknown, unknown, unknown][] = [
    [root.subarray(1), KEY_A, VALUE_A],
    [cat(root, [0]), KEY_A, VALUE_A],
    [null, KEY_A, VALUE_A],
    [bytesToHex(root), KEY_A, VALUE_A],
    [root, "A", VALUE_A],
    [root, null, VALUE_A],
    [root, KEY_A, "value"],
    [root, KEY_A, null],
    [root, KEY_A, Array.from(VALUE_A)],
  ];
  for (const [r, k, v] of badArgs) {
    assert.equal(verifySmtProof(r as Uint8Array, k as Uint8Array, v as Uint8Array, a), false);
  }
});

Deno.test("verifySmtProof() rejects a bitmap bit set beyond the proof depth", () => {
  const tree = new SparseMerkleTree();
  tree.set(KEY_A, VALUE_A);
  tree.set(KEY_B, VALUE_B);
  // A's proof has depth P + 1 and E's has depth P: at least one leaves spare bits in its last byte.
  const [k, v] = (P + 1) % 8 !== 0 ? [KEY_A, VALUE_A] : [KEY_E, undefined];
  const proof = tree.prove(k);
  assert.ok(proof.depth % 8 !== 0);
  assert.ok(verifySmtProof(tree.root(), k, v, proof));
  const bitmap = proof.bitmap.slice();
  bitmap[bitmap.length - 1] |= 1;
  const bad = { ...proof, bitmap, siblings: [...proof.siblings, random.bytes(32)] };
  assert.equal(verifySmtProof(tree.root(), k, v, bad), false);
  assert.equal(verifySmtProof(tree.root(), k, v, { ...proof, bitmap }), false);
  assert.throws(() => encodeSmtProof(bad), RangeError);
});

// ---------------------------------------------------------------------------------------------
// Proof encoding
// ---------------------------------------------------------------------------------------------

Deno.test("encodeSmtProof()/decodeSmtProof() round-trip every kind of proof, which still verifies", () => {
  const tree = treeT();
  const root = tree.root();
  const r = rng(42);
  const queries: [Uint8Array, Uint8Array | undefined][] = [
    ...RANDOM_ENTRIES,
    [KEY_A, VALUE_A],
    [KEY_C, undefined],
    [KEY_E, undefined],
    ...Array.from({ length: 50 }, () => [r.bytes(16), undefined] as [Uint8Array, undefined]),
  ];
  for (const [k, v] of queries) {
    const proof = tree.prove(k);
    const bytes = encodeSmtProof(proof);
    assert.ok(bytes.length <= MAX_SMT_PROOF_BYTES);
    assert.equal(bytes.length, 2 + proof.bitmap.length + 32 * proof.siblings.length + 1 + (proof.leaf ? 64 : 0));
    const back = decodeSmtProof(bytes);
    assert.deepEqual(back, proof);
    assert.deepEqual(encodeSmtProof(back), bytes);
    assert.ok(verifySmtProof(root, k, v, back));
  }
  const empty = new SparseMerkleTree().prove(KEY_A);
  assert.equal(bytesToHex(encodeSmtProof(empty)), "000000");
  assert.deepEqual(decodeSmtProof(encodeSmtProof(empty)), empty);
});

Deno.test("a full depth-256 proof with an other-leaf terminal encodes to exactly MAX_SMT_PROOF_BYTES and round-trips", () => {
  const proof: SmtProof = {
    depth: 256,
    bitmap: new Uint8Array(32).fill(0xff),
    siblings: Array.from({ length: 256 }, () => random.bytes(32)),
    leaf: { path: random.bytes(32), valueHash: random.bytes(32) },
  };
  const bytes = encodeSmtProof(proof);
  assert.equal(bytes.length, MAX_SMT_PROOF_BYTES);
  assert.deepEqual(decodeSmtProof(bytes), proof);
});

/** Encoded proof of C in T: several siblings and an other-leaf terminal. */
function encodedC(): Uint8Array {
  return encodeSmtProof(treeT().prove(KEY_C));
}

Deno.test("decodeSmtProof() rejects an encoded proof truncated at every length", () => {
  const bytes = encodedC();
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decodeSmtProof(bytes.subarray(0, n)), DecodeError, `length ${n}`);
  }
});

Deno.test("decodeSmtProof() rejects trailing bytes", () => {
  for (const base of [encodedC(), encodeSmtProof(treeT().prove(KEY_A)), new Uint8Array(3)]) {
    assert.throws(() => decodeSmtProof(cat(base, [0])), DecodeError);
    assert.throws(() => decodeSmtProof(cat(base, new Uint8Array(64))), DecodeError);
  }
});

const hexBytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const SIB = "11".repeat(32);

const BAD_PROOF_BYTES: [string, string][] = [
  ["empty input", ""],
  ["depth 257", "0101" + "00".repeat(33) + "00"],
  ["depth 0xffff", "ffff" + "00".repeat(8192) + "00"],
  ["depth 3 with bitmap bit 3 set", "0300" + "10" + SIB + "00"],
  ["depth 3 with bitmap bit 7 set", "0300" + "01" + SIB + "00"],
  ["depth 9 with bitmap bit 9 set", "0900" + "0040" + SIB + "00"],
  ["depth 1 with its only sibling all zero", "0100" + "80" + "00".repeat(32) + "00"],
  ["depth 2 with a zero second sibling", "0200" + "c0" + SIB + "00".repeat(32) + "00"],
  ["terminal flag 2", "000002"],
  ["terminal flag 0xff", "0000ff"],
  ["terminal flag 1 without the leaf", "000001"],
  ["terminal flag 1 with half a leaf", "000001" + "22".repeat(32)],
  ["bitmap promising a sibling that is missing", "0100" + "80" + "00"],
];

for (const [what, h] of BAD_PROOF_BYTES) {
  Deno.test(`decodeSmtProof() rejects ${what} with DecodeError`, () => {
    assert.throws(() => decodeSmtProof(hexBytes(h)), DecodeError);
  });
}

Deno.test("decodeSmtProof() rejects 500 random byte strings with DecodeError or returns a well-formed proof", () => {
  const r = rng(500);
  for (let i = 0; i < 500; i++) {
    const bytes = r.bytes(r.int(120));
    try {
      const proof = decodeSmtProof(bytes);
      assert.deepEqual(encodeSmtProof(proof), bytes);
    } catch (err) {
      assert.ok(err instanceof DecodeError, `random input ${i}: ${err}`);
    }
  }
});

Deno.test("encodeSmtProof() throws RangeError for a malformed proof", () => {
  const a = treeT().prove(KEY_A);
  const bad: unknown[] = [
    null,
    {},
    { ...a, depth: 257 },
    { ...a, bitmap: new Uint8Array(0) },
    { ...a, siblings: a.siblings.slice(1) },
    { ...a, siblings: a.siblings.map(() => new Uint8Array(32)) },
    { ...a, leaf: { path: new Uint8Array(31), valueHash: new Uint8Array(32) } },
  ];
  for (const p of bad) assert.throws(() => encodeSmtProof(p as SmtProof), RangeError);
});

Deno.test("smtLeafHash() is SHA-256(0x00 ‖ path ‖ valueHash)", () => {
  for (const [k, v] of RANDOM_ENTRIES.slice(0, 5)) {
    assert.ok(equalBytes(smtLeafHash(sha256(k), sha256(v)), refLeaf(k, v)));
  }
});

// Regression: smtLeafHash() once copied unchecked arguments into a shared buffer, so a 31-byte path
// hashed differently depending on the previous call.
Deno.test("smtLeafHash() rejects a path or value hash that is not 32 bytes", () => {
  const good = new Uint8Array(32);
  const short = new Uint8Array(31);
  const hashAfter = (previous: Uint8Array) => {
    smtLeafHash(previous, good);
    try {
      return bytesToHex(smtLeafHash(short, good));
    } catch (err) {
      return (err as Error).name;
    }
  };
  assert.equal(
    hashAfter(new Uint8Array(32).fill(1)),
    hashAfter(new Uint8Array(32).fill(2)),
    "the same 31-byte path hashes differently depending on the previous call",
  );
  for (const len of [0, 31, 33, 64]) {
    assert.throws(() => smtLeafHash(new Uint8Array(len), good), RangeError, `path of ${len} bytes`);
    assert.throws(() => smtLeafHash(good, new Uint8Array(len)), RangeError, `value hash of ${len} bytes`);
  }
  assert.throws(() => smtLeafHash(null as unknown as Uint8Array, good), TypeError);
});
