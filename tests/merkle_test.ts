/**
 * protocol/merkle.ts against an independent recursive RFC 6962 §2.1 reference (MTH, PATH, SUBPROOF)
 * for every tree size 1..100, every leaf index and every old size, then hostile proofs.
 *
 * Run: deno test -A tests/merkle_test.ts
 */
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, equalBytes } from "../protocol/bytes.ts";
import {
  consistencyProof,
  hashChildren,
  hashLeaf,
  inclusionProof,
  inclusionProofOfLeafHashes,
  merkleRoot,
  merkleRootOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "../protocol/merkle.ts";
import { rng } from "./helpers/random.ts";

// ---------------------------------------------------------------------------------------------
// Reference: RFC 6962 §2.1, written from the text, recursive, sharing nothing with merkle.ts.
// D[n] is always a prefix of LEAVES, so MTH(D[n][lo:hi]) = MTH(LEAVES[lo:hi]) and is memoised
// per range across all sizes.
// ---------------------------------------------------------------------------------------------

const MAX = 100;
const random = rng(6962);
// Leaf 0 is empty; the rest are 1..64 random bytes. All distinct, so no two leaf hashes coincide.
const LEAVES: Uint8Array[] = Array.from({ length: MAX }, (_, i) => random.bytes(i === 0 ? 0 : 1 + random.int(64)));
assert.equal(new Set(LEAVES.map(bytesToHex)).size, MAX, "reference leaves must be distinct");
const EMPTY_ROOT = sha256(new Uint8Array(0));

function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The largest power of two smaller than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const mthMemo = new Map<string, Uint8Array>();
/** MTH(D[lo:hi]). */
function mth(lo: number, hi: number): Uint8Array {
  const id = `${lo}:${hi}`;
  let h = mthMemo.get(id);
  if (h !== undefined) return h;
  const n = hi - lo;
  if (n === 0) h = sha256(new Uint8Array(0));
  else if (n === 1) h = sha256(cat([0], LEAVES[lo]));
  else {
    const k = splitPoint(n);
    h = sha256(cat([1], mth(lo, lo + k), mth(lo + k, hi)));
  }
  mthMemo.set(id, h);
  return h;
}

/** PATH(m, D[lo:hi]) and its shape: for each element, leaf side first, whether it is a right (R) or left (L) sibling. */
function refPath(m: number, lo: number, hi: number): { proof: Uint8Array[]; shape: string } {
  const n = hi - lo;
  if (n === 1) return { proof: [], shape: "" };
  const k = splitPoint(n);
  if (m < k) {
    const inner = refPath(m, lo, lo + k);
    return { proof: [...inner.proof, mth(lo + k, hi)], shape: inner.shape + "R" };
  }
  const inner = refPath(m - k, lo + k, hi);
  return { proof: [...inner.proof, mth(lo, lo + k)], shape: inner.shape + "L" };
}

/**
 * SUBPROOF(m, D[lo:hi], b) and a signature of how a verifier must combine it: the terminal (T when
 * MTH(D[m]-part) is listed, E when it is the old root itself) then one letter per level, inner first.
 */
function refSubproof(m: number, lo: number, hi: number, b: boolean): { proof: Uint8Array[]; sig: string } {
  const n = hi - lo;
  if (m === n) return b ? { proof: [], sig: "E" } : { proof: [mth(lo, hi)], sig: "T" };
  const k = splitPoint(n);
  if (m <= k) {
    const inner = refSubproof(m, lo, lo + k, b);
    return { proof: [...inner.proof, mth(lo + k, hi)], sig: inner.sig + "L" };
  }
  const inner = refSubproof(m - k, lo + k, hi, false);
  return { proof: [...inner.proof, mth(lo, lo + k)], sig: inner.sig + "R" };
}

const refRoot = (n: number) => mth(0, n);
const refInclusion = (m: number, n: number) => refPath(m, 0, n);
const refConsistency = (m: number, n: number) => refSubproof(m, 0, n, true);

// Shared data: the leaf hashes and the module's roots for every size.
const LEAF_HASHES = LEAVES.map(hashLeaf);
const ROOTS: Uint8Array[] = [];
for (let n = 0; n <= MAX; n++) ROOTS.push(merkleRoot(LEAVES.slice(0, n)));

const hexList = (hs: readonly Uint8Array[]) => hs.map(bytesToHex);
const flip = (h: Uint8Array, bit: number) => {
  const c = h.slice();
  c[bit >> 3] ^= 0x80 >> (bit & 7);
  return c;
};

/** Every (n, i) inclusion proof from the module, computed once. */
const INCLUSION: Uint8Array[][][] = [[]];
for (let n = 1; n <= MAX; n++) {
  const leaves = LEAVES.slice(0, n);
  INCLUSION.push(Array.from({ length: n }, (_, i) => inclusionProof(leaves, i)));
}
/** Every (m, n) consistency proof from the module, computed once; CONSISTENCY[n][m]. */
const CONSISTENCY: Uint8Array[][][] = [[]];
for (let n = 1; n <= MAX; n++) {
  const leaves = LEAVES.slice(0, n);
  const row: Uint8Array[][] = [[]];
  for (let m = 1; m <= n; m++) row.push(consistencyProof(leaves, m));
  CONSISTENCY.push(row);
}

// ---------------------------------------------------------------------------------------------
// Hashing and roots
// ---------------------------------------------------------------------------------------------

Deno.test("hashLeaf() is SHA-256(0x00 ‖ data) and hashChildren() is SHA-256(0x01 ‖ left ‖ right)", () => {
  for (const leaf of LEAVES.slice(0, 10)) assert.deepEqual(hashLeaf(leaf), sha256(cat([0], leaf)));
  const [a, b] = [LEAF_HASHES[1], LEAF_HASHES[2]];
  assert.deepEqual(hashChildren(a, b), sha256(cat([1], a, b)));
  assert.notDeepEqual(hashChildren(a, b), hashChildren(b, a));
});

Deno.test("hashChildren() rejects 31- and 33-byte inputs with RangeError and non-bytes with TypeError", () => {
  const h = LEAF_HASHES[0];
  assert.throws(() => hashChildren(new Uint8Array(31), h), RangeError);
  assert.throws(() => hashChildren(h, new Uint8Array(33)), RangeError);
  assert.throws(() => hashChildren(null as unknown as Uint8Array, h), TypeError);
  assert.throws(() => hashLeaf("ab" as unknown as Uint8Array), TypeError);
});

Deno.test("merkleRoot([]) is SHA-256 of the empty string", () => {
  assert.equal(bytesToHex(merkleRoot([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.deepEqual(merkleRoot([]), EMPTY_ROOT);
  assert.deepEqual(merkleRootOfLeafHashes([]), EMPTY_ROOT);
});

Deno.test("merkleRoot() equals the RFC 6962 MTH for every size 0..100", () => {
  for (let n = 0; n <= MAX; n++) assert.deepEqual(ROOTS[n], refRoot(n), `size ${n}`);
});

Deno.test("merkleRootOfLeafHashes() equals merkleRoot() for every size 0..100", () => {
  for (let n = 0; n <= MAX; n++) assert.deepEqual(merkleRootOfLeafHashes(LEAF_HASHES.slice(0, n)), ROOTS[n]);
});

Deno.test("merkleRoot() returns a fresh array that callers may mutate", () => {
  const a = merkleRoot([]);
  a.fill(0);
  assert.deepEqual(merkleRoot([]), EMPTY_ROOT);
  const b = merkleRoot(LEAVES.slice(0, 3));
  b.fill(0);
  assert.deepEqual(merkleRoot(LEAVES.slice(0, 3)), refRoot(3));
});

Deno.test("merkleRoot() throws TypeError for a non-array or a non-bytes leaf", () => {
  assert.throws(() => merkleRoot(null as unknown as Uint8Array[]), TypeError);
  assert.throws(() => merkleRoot("ab" as unknown as Uint8Array[]), TypeError);
  assert.throws(() => merkleRoot([LEAVES[1], "x" as unknown as Uint8Array]), {
    name: "TypeError",
    message: /leaves\[1\]/,
  });
});

// ---------------------------------------------------------------------------------------------
// Inclusion: exhaustive agreement with the reference
// ---------------------------------------------------------------------------------------------

Deno.test("inclusionProof() equals the RFC 6962 PATH for every size 1..100 and every index", () => {
  for (let n = 1; n <= MAX; n++) {
    for (let i = 0; i < n; i++) {
      assert.deepEqual(hexList(INCLUSION[n][i]), hexList(refInclusion(i, n).proof), `size ${n} index ${i}`);
    }
  }
});

Deno.test("inclusionProofOfLeafHashes() equals inclusionProof() for every size 1..40 and 100, and every index", () => {
  for (const n of [...Array.from({ length: 40 }, (_, i) => i + 1), MAX]) {
    const hashes = LEAF_HASHES.slice(0, n);
    for (let i = 0; i < n; i++) assert.deepEqual(inclusionProofOfLeafHashes(hashes, i), INCLUSION[n][i]);
  }
});

Deno.test("verifyInclusion() accepts every proof for every size 1..100 and every index", () => {
  for (let n = 1; n <= MAX; n++) {
    for (let i = 0; i < n; i++) {
      assert.ok(verifyInclusion(LEAF_HASHES[i], i, n, INCLUSION[n][i], ROOTS[n]), `size ${n} index ${i}`);
    }
  }
});

Deno.test("inclusionProof() rejects an index outside [0, size) and a non-integer index", () => {
  const leaves = LEAVES.slice(0, 5);
  assert.throws(() => inclusionProof(leaves, 5), { name: "RangeError", message: /"index"/ });
  assert.throws(() => inclusionProof(leaves, -1), RangeError);
  assert.throws(() => inclusionProof([], 0), RangeError);
  assert.throws(() => inclusionProof(leaves, 1.5), TypeError);
  assert.throws(() => inclusionProof(leaves, NaN), TypeError);
});

// ---------------------------------------------------------------------------------------------
// Inclusion: hostile proofs
// ---------------------------------------------------------------------------------------------

/** Run `fn` over every (size, index) pair with a non-empty proof. */
function eachInclusion(fn: (n: number, i: number, proof: Uint8Array[]) => void): void {
  for (let n = 2; n <= MAX; n++) for (let i = 0; i < n; i++) fn(n, i, INCLUSION[n][i]);
}

Deno.test("verifyInclusion() rejects a proof one hash short (last or first dropped), for every size and index", () => {
  eachInclusion((n, i, proof) => {
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, proof.slice(0, -1), ROOTS[n]), false, `${n}/${i} last`);
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, proof.slice(1), ROOTS[n]), false, `${n}/${i} first`);
  });
});

Deno.test("verifyInclusion() rejects a proof with one extra hash, appended or prepended, for every size and index", () => {
  const extra = random.bytes(32);
  eachInclusion((n, i, proof) => {
    for (const p of [[...proof, extra], [...proof, proof[proof.length - 1]], [extra, ...proof], [...proof, ROOTS[n]]]) {
      assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, p, ROOTS[n]), false, `${n}/${i}`);
    }
  });
  // Size 1 has an empty proof; any hash is one too many.
  assert.equal(verifyInclusion(LEAF_HASHES[0], 0, 1, [extra], ROOTS[1]), false);
});

Deno.test("verifyInclusion() rejects a flipped bit in each proof position, for every size and index", () => {
  eachInclusion((n, i, proof) => {
    for (let pos = 0; pos < proof.length; pos++) {
      const bad = proof.slice();
      bad[pos] = flip(bad[pos], (n * 31 + i * 7 + pos) % 256);
      assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, bad, ROOTS[n]), false, `${n}/${i} pos ${pos}`);
    }
  });
});

Deno.test("verifyInclusion() rejects every single-bit flip of every proof hash, the leaf hash and the root (size 77, index 42)", () => {
  const [n, i] = [77, 42];
  const proof = INCLUSION[n][i];
  for (let pos = 0; pos < proof.length; pos++) {
    for (let bit = 0; bit < 256; bit++) {
      const bad = proof.slice();
      bad[pos] = flip(bad[pos], bit);
      assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, bad, ROOTS[n]), false);
    }
  }
  for (let bit = 0; bit < 256; bit++) {
    assert.equal(verifyInclusion(flip(LEAF_HASHES[i], bit), i, n, proof, ROOTS[n]), false);
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, proof, flip(ROOTS[n], bit)), false);
  }
});

Deno.test("verifyInclusion() rejects proofs with two hashes swapped or the order reversed", () => {
  eachInclusion((n, i, proof) => {
    if (proof.length < 2) return;
    const swapped = proof.slice();
    [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, swapped, ROOTS[n]), false);
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, proof.slice().reverse(), ROOTS[n]), false);
  });
});

Deno.test("verifyInclusion() rejects every wrong index for every size 1..64", () => {
  for (let n = 1; n <= 64; n++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        assert.equal(verifyInclusion(LEAF_HASHES[i], j, n, INCLUSION[n][i], ROOTS[n]), false, `${n}: ${i} as ${j}`);
      }
    }
  }
});

Deno.test("verifyInclusion() rejects the leaf hash of another leaf, the raw leaf data and the root of another size", () => {
  eachInclusion((n, i, proof) => {
    const other = (i + 1) % n;
    assert.equal(verifyInclusion(LEAF_HASHES[other], i, n, proof, ROOTS[n]), false);
    assert.equal(verifyInclusion(sha256(LEAVES[i]), i, n, proof, ROOTS[n]), false);
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, proof, ROOTS[n - 1]), false);
  });
});

Deno.test("verifyInclusion() rejects index >= size", () => {
  for (let n = 1; n <= 20; n++) {
    for (const index of [n, n + 1, 2 * n, Number.MAX_SAFE_INTEGER]) {
      assert.equal(verifyInclusion(LEAF_HASHES[0], index, n, INCLUSION[n][0], ROOTS[n]), false, `${index} of ${n}`);
    }
  }
});

Deno.test("verifyInclusion() rejects size 0, whatever the root", () => {
  for (const root of [EMPTY_ROOT, LEAF_HASHES[0], ROOTS[1]]) {
    assert.equal(verifyInclusion(LEAF_HASHES[0], 0, 0, [], root), false);
    assert.equal(verifyInclusion(root, 0, 0, [], root), false);
  }
});

Deno.test("verifyInclusion() returns false for negative, NaN, fractional, infinite, unsafe or non-number sizes and indexes", () => {
  const bad: unknown[] = [
    -1,
    -0.5,
    NaN,
    1.5,
    2.000001,
    Infinity,
    -Infinity,
    2 ** 53,
    2 ** 64,
    1e300,
    "4",
    4n,
    null,
    {},
  ];
  const [n, i] = [13, 6];
  const proof = INCLUSION[n][i];
  for (const v of bad) {
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, v as number, proof, ROOTS[n]), false, `size ${String(v)}`);
    assert.equal(verifyInclusion(LEAF_HASHES[i], v as number, n, proof, ROOTS[n]), false, `index ${String(v)}`);
  }
  // A huge but safe size: the proof runs out long before the path reaches the root.
  assert.equal(verifyInclusion(LEAF_HASHES[i], i, Number.MAX_SAFE_INTEGER, proof, ROOTS[n]), false);
});

Deno.test("verifyInclusion() returns false for 31- and 33-byte hashes in any position", () => {
  const [n, i] = [10, 3];
  const proof = INCLUSION[n][i];
  for (const len of [0, 31, 33, 64]) {
    const h = new Uint8Array(len);
    assert.equal(verifyInclusion(h, i, n, proof, ROOTS[n]), false);
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, proof, h), false);
    for (let pos = 0; pos < proof.length; pos++) {
      const bad = proof.slice();
      bad[pos] = len > 32 ? cat(proof[pos], new Uint8Array(len - 32)) : proof[pos].slice(0, len);
      assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, bad, ROOTS[n]), false);
    }
  }
});

Deno.test("verifyInclusion() returns false for a non-array, array-like, sparse, oversized or throwing proof", () => {
  const [n, i] = [10, 3];
  const proof = INCLUSION[n][i];
  const sparse = proof.slice();
  delete sparse[1];
  const badProofs: unknown[] = [
    null,
    undefined,
    "proof",
    42,
    {},
    proof[0], // a single 32-byte Uint8Array, not an array of them
    { ...proof, length: proof.length },
    sparse,
    [...proof, null],
    [undefined, ...proof],
    proof.map((p) => Array.from(p)),
    Array.from({ length: 65 }, () => proof[0]),
    new Proxy(proof, {
      get() {
        throw new Error("hostile getter");
      },
    }),
  ];
  for (const p of badProofs) {
    assert.equal(verifyInclusion(LEAF_HASHES[i], i, n, p as Uint8Array[], ROOTS[n]), false);
  }
});

Deno.test("verifyInclusion() returns false (never throws) with null, undefined or a wrong type in every argument", () => {
  const [n, i] = [10, 3];
  const good: unknown[] = [LEAF_HASHES[i], i, n, INCLUSION[n][i], ROOTS[n]];
  assert.equal(verifyInclusion(...(good as Parameters<typeof verifyInclusion>)), true);
  for (let pos = 0; pos < good.length; pos++) {
    for (const v of [null, undefined, "x", {}, [], true, Symbol("s"), () => 0, new ArrayBuffer(32)]) {
      const args = good.slice();
      args[pos] = v;
      assert.equal(verifyInclusion(...(args as Parameters<typeof verifyInclusion>)), false, `arg ${pos}`);
    }
  }
  assert.equal((verifyInclusion as (...a: unknown[]) => boolean)(), false);
});

// RFC 6962 roots do not commit to the tree size: a verifier must take the size from an
// authenticated source (a header). Checking a proof under another size succeeds exactly when that
// size gives the leaf the same audit-path shape, e.g. index 0 in sizes 3 and 4 (both "RR").
Deno.test("verifyInclusion() accepts a proof under another size exactly when the audit path has the same shape", () => {
  assert.equal(verifyInclusion(LEAF_HASHES[0], 0, 4, INCLUSION[3][0], ROOTS[3]), true);
  let accepted = 0;
  for (let n = 1; n <= 40; n++) {
    for (let i = 0; i < n; i++) {
      const shape = refInclusion(i, n).shape;
      for (let m = i + 1; m <= 64; m++) {
        if (m === n) continue;
        const expected = refInclusion(i, m).shape === shape;
        if (expected) accepted++;
        assert.equal(
          verifyInclusion(LEAF_HASHES[i], i, m, INCLUSION[n][i], ROOTS[n]),
          expected,
          `${i} of ${n} as ${m}`,
        );
      }
    }
  }
  assert.ok(accepted > 0);
});

// ---------------------------------------------------------------------------------------------
// Consistency: exhaustive agreement with the reference
// ---------------------------------------------------------------------------------------------

Deno.test("consistencyProof() equals the RFC 6962 PROOF for every size 1..100 and every old size 1..n", () => {
  for (let n = 1; n <= MAX; n++) {
    for (let m = 1; m <= n; m++) {
      assert.deepEqual(hexList(CONSISTENCY[n][m]), hexList(refConsistency(m, n).proof), `${m} -> ${n}`);
    }
  }
});

Deno.test("verifyConsistency() accepts every proof for every size 1..100 and every old size 1..n", () => {
  for (let n = 1; n <= MAX; n++) {
    for (let m = 1; m <= n; m++) {
      assert.ok(verifyConsistency(m, n, CONSISTENCY[n][m], ROOTS[m], ROOTS[n]), `${m} -> ${n}`);
    }
  }
});

Deno.test("consistencyProof() rejects old size 0, old size above the tree size and a non-integer old size", () => {
  const leaves = LEAVES.slice(0, 5);
  assert.throws(() => consistencyProof(leaves, 0), { name: "RangeError", message: /"oldSize"/ });
  assert.throws(() => consistencyProof(leaves, 6), RangeError);
  assert.throws(() => consistencyProof([], 0), RangeError);
  assert.throws(() => consistencyProof(leaves, 2.5), TypeError);
});

// ---------------------------------------------------------------------------------------------
// Consistency: hostile proofs
// ---------------------------------------------------------------------------------------------

/** Run `fn` over every (oldSize, newSize) pair with a non-empty proof. */
function eachConsistency(fn: (m: number, n: number, proof: Uint8Array[]) => void): void {
  for (let n = 2; n <= MAX; n++) for (let m = 1; m < n; m++) fn(m, n, CONSISTENCY[n][m]);
}

Deno.test("verifyConsistency() rejects a proof one hash short (last or first dropped), for every pair of sizes", () => {
  eachConsistency((m, n, proof) => {
    assert.equal(verifyConsistency(m, n, proof.slice(0, -1), ROOTS[m], ROOTS[n]), false, `${m} -> ${n} last`);
    assert.equal(verifyConsistency(m, n, proof.slice(1), ROOTS[m], ROOTS[n]), false, `${m} -> ${n} first`);
  });
});

Deno.test("verifyConsistency() rejects a proof with one extra hash, appended or prepended, for every pair of sizes", () => {
  const extra = random.bytes(32);
  eachConsistency((m, n, proof) => {
    for (const p of [[...proof, extra], [extra, ...proof], [ROOTS[m], ...proof], [...proof, proof[proof.length - 1]]]) {
      assert.equal(verifyConsistency(m, n, p, ROOTS[m], ROOTS[n]), false, `${m} -> ${n}`);
    }
  });
});

Deno.test("verifyConsistency() rejects a flipped bit in each proof position, for every pair of sizes", () => {
  eachConsistency((m, n, proof) => {
    for (let pos = 0; pos < proof.length; pos++) {
      const bad = proof.slice();
      bad[pos] = flip(bad[pos], (m * 13 + n * 29 + pos) % 256);
      assert.equal(verifyConsistency(m, n, bad, ROOTS[m], ROOTS[n]), false, `${m} -> ${n} pos ${pos}`);
    }
  });
});

Deno.test("verifyConsistency() rejects every single-bit flip of every proof hash and of both roots (7 -> 93)", () => {
  const [m, n] = [7, 93];
  const proof = CONSISTENCY[n][m];
  for (let pos = 0; pos < proof.length; pos++) {
    for (let bit = 0; bit < 256; bit++) {
      const bad = proof.slice();
      bad[pos] = flip(bad[pos], bit);
      assert.equal(verifyConsistency(m, n, bad, ROOTS[m], ROOTS[n]), false);
    }
  }
  for (let bit = 0; bit < 256; bit++) {
    assert.equal(verifyConsistency(m, n, proof, flip(ROOTS[m], bit), ROOTS[n]), false);
    assert.equal(verifyConsistency(m, n, proof, ROOTS[m], flip(ROOTS[n], bit)), false);
  }
});

Deno.test("verifyConsistency() rejects swapped roots and the roots of neighbouring sizes", () => {
  eachConsistency((m, n, proof) => {
    assert.equal(verifyConsistency(m, n, proof, ROOTS[n], ROOTS[m]), false);
    assert.equal(verifyConsistency(m, n, proof, ROOTS[m - 1], ROOTS[n]), false);
    assert.equal(verifyConsistency(m, n, proof, ROOTS[m], ROOTS[n - 1]), false);
  });
});

Deno.test("verifyConsistency() rejects old size 0, even against the empty root and an empty proof", () => {
  for (let n = 0; n <= 5; n++) {
    assert.equal(verifyConsistency(0, n, [], EMPTY_ROOT, ROOTS[n]), false);
    assert.equal(verifyConsistency(0, n, [ROOTS[n]], EMPTY_ROOT, ROOTS[n]), false);
  }
  assert.equal(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT), false);
});

Deno.test("verifyConsistency() rejects old size above new size, including the reversed proof of every pair", () => {
  eachConsistency((m, n, proof) => {
    assert.equal(verifyConsistency(n, m, proof, ROOTS[n], ROOTS[m]), false, `${n} -> ${m}`);
    assert.equal(verifyConsistency(n, m, [], ROOTS[n], ROOTS[m]), false);
  });
});

Deno.test("verifyConsistency() with equal sizes accepts only an empty proof and identical roots", () => {
  for (let n = 1; n <= 20; n++) {
    assert.equal(verifyConsistency(n, n, [], ROOTS[n], ROOTS[n]), true);
    assert.equal(verifyConsistency(n, n, [ROOTS[n]], ROOTS[n], ROOTS[n]), false);
    assert.equal(verifyConsistency(n, n, [], ROOTS[n], ROOTS[n + 1]), false);
  }
});

Deno.test("verifyConsistency() rejects an empty proof for different sizes", () => {
  eachConsistency((m, n) => assert.equal(verifyConsistency(m, n, [], ROOTS[m], ROOTS[n]), false));
});

Deno.test("verifyConsistency() returns false for negative, NaN, fractional, infinite, unsafe or non-number sizes", () => {
  const bad: unknown[] = [-1, NaN, 1.5, Infinity, -Infinity, 2 ** 53, 1e300, "5", 5n, null, {}];
  const [m, n] = [5, 12];
  const proof = CONSISTENCY[n][m];
  for (const v of bad) {
    assert.equal(verifyConsistency(v as number, n, proof, ROOTS[m], ROOTS[n]), false, `old ${String(v)}`);
    assert.equal(verifyConsistency(m, v as number, proof, ROOTS[m], ROOTS[n]), false, `new ${String(v)}`);
  }
  assert.equal(verifyConsistency(m, Number.MAX_SAFE_INTEGER, proof, ROOTS[m], ROOTS[n]), false);
});

Deno.test("verifyConsistency() returns false for 31- and 33-byte hashes in any position", () => {
  const [m, n] = [5, 12];
  const proof = CONSISTENCY[n][m];
  for (const len of [0, 31, 33]) {
    const h = new Uint8Array(len);
    assert.equal(verifyConsistency(m, n, proof, h, ROOTS[n]), false);
    assert.equal(verifyConsistency(m, n, proof, ROOTS[m], h), false);
    for (let pos = 0; pos < proof.length; pos++) {
      const bad = proof.slice();
      bad[pos] = len > 32 ? cat(proof[pos], new Uint8Array(len - 32)) : proof[pos].slice(0, len);
      assert.equal(verifyConsistency(m, n, bad, ROOTS[m], ROOTS[n]), false);
    }
  }
});

Deno.test("verifyConsistency() returns false for a non-array, array-like, sparse, oversized or throwing proof", () => {
  const [m, n] = [5, 12];
  const proof = CONSISTENCY[n][m];
  const sparse = proof.slice();
  delete sparse[0];
  const badProofs: unknown[] = [
    null,
    undefined,
    "proof",
    proof[0],
    { ...proof, length: proof.length },
    sparse,
    [...proof, undefined],
    Array.from({ length: 65 }, () => proof[0]),
    new Proxy(proof, {
      get() {
        throw new Error("hostile getter");
      },
    }),
  ];
  for (const p of badProofs) {
    assert.equal(verifyConsistency(m, n, p as Uint8Array[], ROOTS[m], ROOTS[n]), false);
  }
});

Deno.test("verifyConsistency() returns false (never throws) with null, undefined or a wrong type in every argument", () => {
  const [m, n] = [5, 12];
  const good: unknown[] = [m, n, CONSISTENCY[n][m], ROOTS[m], ROOTS[n]];
  assert.equal(verifyConsistency(...(good as Parameters<typeof verifyConsistency>)), true);
  for (let pos = 0; pos < good.length; pos++) {
    for (const v of [null, undefined, "x", {}, [], true, Symbol("s"), new ArrayBuffer(32)]) {
      const args = good.slice();
      args[pos] = v;
      assert.equal(verifyConsistency(...(args as Parameters<typeof verifyConsistency>)), false, `arg ${pos}`);
    }
  }
  assert.equal((verifyConsistency as (...a: unknown[]) => boolean)(), false);
});

// As with inclusion, the sizes are not committed by the roots: a proof checks under other sizes
// exactly when the RFC 6962 SUBPROOF recursion has the same signature (same left/right steps and the
// same terminal), e.g. 2 -> 3 and 2 -> 4 (both "EL").
Deno.test("verifyConsistency() accepts a proof under other sizes exactly when the SUBPROOF signature matches", () => {
  assert.equal(verifyConsistency(2, 4, CONSISTENCY[3][2], ROOTS[2], ROOTS[3]), true);
  let accepted = 0;
  for (let n = 2; n <= 40; n++) {
    for (let m = 1; m < n; m++) {
      const { sig } = refConsistency(m, n);
      const proof = CONSISTENCY[n][m];
      for (let n2 = m; n2 <= 48; n2++) {
        if (n2 === n) continue;
        const expected = refConsistency(m, n2).sig === sig;
        if (expected) accepted++;
        assert.equal(verifyConsistency(m, n2, proof, ROOTS[m], ROOTS[n]), expected, `${m} -> ${n} as ${m} -> ${n2}`);
      }
      for (let m2 = 1; m2 <= n; m2++) {
        if (m2 === m) continue;
        const expected = refConsistency(m2, n).sig === sig;
        if (expected) accepted++;
        assert.equal(verifyConsistency(m2, n, proof, ROOTS[m], ROOTS[n]), expected, `${m} -> ${n} as ${m2} -> ${n}`);
      }
    }
  }
  assert.ok(accepted > 0);
});

Deno.test("reference sanity: the RFC 6962 reference agrees with itself on roots rebuilt from PATH", () => {
  // Guards the reference: folding each PATH by its shape must give MTH.
  for (let n = 1; n <= 40; n++) {
    for (let i = 0; i < n; i++) {
      const { proof, shape } = refInclusion(i, n);
      let h = mth(i, i + 1);
      for (let j = 0; j < proof.length; j++) {
        h = shape[j] === "R" ? sha256(cat([1], h, proof[j])) : sha256(cat([1], proof[j], h));
      }
      assert.ok(equalBytes(h, refRoot(n)), `${i} of ${n}`);
    }
  }
});
