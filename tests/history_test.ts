/**
 * protocol/history.ts: the peak accumulator tracks the RFC 6962 root, encodes strictly, and
 * verifyHistoryProof() accepts exactly the inclusion proofs of earlier blocks.
 *
 * Run: deno test -A tests/history_test.ts
 */
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "../protocol/bytes.ts";
import { ByteWriter } from "../protocol/encoding.ts";
import { DecodeError } from "../protocol/errors.ts";
import { HistoryAccumulator, verifyHistoryProof } from "../protocol/history.ts";
import { hashLeaf, inclusionProof, merkleRoot } from "../protocol/merkle.ts";
import { rng } from "./helpers/random.ts";

const MAX = 130;
const random = rng(8);
const HASHES: Uint8Array[] = Array.from({ length: MAX + 8 }, () => random.bytes(32));
const EMPTY_ROOT = sha256(new Uint8Array(0));

/** The accumulator after each number of appends 0..MAX, and its root. */
const ACCS: HistoryAccumulator[] = [];
{
  const acc = new HistoryAccumulator();
  for (let n = 0; n <= MAX; n++) {
    ACCS.push(acc.clone());
    if (n < MAX) acc.append(HASHES[n]);
  }
}
const ROOTS = ACCS.map((a) => a.root());

function popcount(n: number): number {
  let c = 0;
  for (; n > 0; n = Math.floor(n / 2)) c += n % 2;
  return c;
}

const cat = (...parts: Uint8Array[]) => {
  const w = new ByteWriter();
  for (const p of parts) w.bytes(p);
  return w.finish();
};

/** The RFC 6962 audit-path shape of leaf i in a tree of n leaves (R/L per level, leaf side first). */
function pathShape(i: number, n: number): string {
  if (n === 1) return "";
  let k = 1;
  while (k * 2 < n) k *= 2;
  return i < k ? pathShape(i, k) + "R" : pathShape(i - k, n - k) + "L";
}

// ---------------------------------------------------------------------------------------------
// Accumulator
// ---------------------------------------------------------------------------------------------

Deno.test('an empty HistoryAccumulator has size 0, no peaks and root SHA-256("")', () => {
  const acc = new HistoryAccumulator();
  assert.equal(acc.size, 0);
  assert.deepEqual(acc.peaks(), []);
  assert.deepEqual(acc.root(), EMPTY_ROOT);
});

Deno.test("HistoryAccumulator.root() equals merkleRoot() of the appended hashes for every size 0..130", () => {
  for (let n = 0; n <= MAX; n++) {
    assert.equal(ACCS[n].size, n);
    assert.deepEqual(ROOTS[n], merkleRoot(HASHES.slice(0, n)), `size ${n}`);
  }
});

Deno.test("HistoryAccumulator.peaks() are the roots of the perfect subtrees of each size, lowest level first", () => {
  for (let n = 0; n <= MAX; n++) {
    const ranges: [number, number][] = [];
    let lo = 0;
    for (let level = 31; level >= 0; level--) {
      if (Math.floor(n / 2 ** level) % 2 === 1) {
        ranges.push([lo, lo + 2 ** level]);
        lo += 2 ** level;
      }
    }
    const expected = ranges.reverse().map(([a, b]) => merkleRoot(HASHES.slice(a, b)));
    assert.deepEqual(ACCS[n].peaks(), expected, `size ${n}`);
    assert.equal(expected.length, popcount(n));
  }
});

Deno.test("an accumulator restored from size and peaks has the same root and keeps appending correctly, for every size 0..130", () => {
  for (let n = 0; n <= MAX; n++) {
    const restored = new HistoryAccumulator({ size: n, peaks: ACCS[n].peaks() });
    assert.equal(restored.size, n);
    assert.deepEqual(restored.root(), ROOTS[n]);
    for (let j = 0; j < 5; j++) restored.append(HASHES[n + j]);
    assert.deepEqual(restored.root(), merkleRoot(HASHES.slice(0, n + 5)), `size ${n} + 5`);
  }
});

Deno.test("root() and peaks() return copies that callers may mutate", () => {
  for (const n of [1, 2, 7]) {
    const acc = ACCS[n].clone();
    acc.root().fill(0);
    for (const p of acc.peaks()) p.fill(0);
    assert.deepEqual(acc.root(), ROOTS[n]);
  }
});

Deno.test("the constructor copies the peaks it is given", () => {
  const peaks = ACCS[5].peaks();
  const acc = new HistoryAccumulator({ size: 5, peaks });
  peaks[0].fill(0);
  peaks.pop();
  assert.deepEqual(acc.root(), ROOTS[5]);
});

Deno.test("clone() is independent of the original in both directions", () => {
  const original = ACCS[6].clone();
  const copy = original.clone();
  copy.append(HASHES[6]);
  assert.equal(original.size, 6);
  assert.deepEqual(original.root(), ROOTS[6]);
  assert.deepEqual(copy.root(), ROOTS[7]);
  original.append(HASHES[100]);
  original.append(HASHES[101]);
  assert.equal(copy.size, 7);
  assert.deepEqual(copy.root(), ROOTS[7]);
});

Deno.test("the constructor rejects a peak count that does not match the size", () => {
  const cases: [number, number][] = [[0, 1], [1, 0], [1, 2], [2, 0], [3, 1], [3, 3], [4, 2], [7, 2], [130, 3], [
    2 ** 32,
    0,
  ]];
  for (const [size, count] of cases) {
    const peaks = Array.from({ length: count }, () => random.bytes(32));
    assert.throws(() => new HistoryAccumulator({ size, peaks }), RangeError, `size ${size}, ${count} peaks`);
  }
});

Deno.test("the constructor rejects bad sizes and bad peaks", () => {
  const one = [random.bytes(32)];
  assert.throws(() => new HistoryAccumulator({ size: -1, peaks: one }), RangeError);
  assert.throws(() => new HistoryAccumulator({ size: 2 ** 32 + 1, peaks: [one[0], one[0]] }), RangeError);
  assert.throws(() => new HistoryAccumulator({ size: 1.5, peaks: one }), TypeError);
  assert.throws(() => new HistoryAccumulator({ size: NaN, peaks: [] }), TypeError);
  assert.throws(() => new HistoryAccumulator({ size: "1" as unknown as number, peaks: one }), TypeError);
  assert.throws(() => new HistoryAccumulator({ size: 1, peaks: [new Uint8Array(31)] }), RangeError);
  assert.throws(() => new HistoryAccumulator({ size: 1, peaks: [new Uint8Array(33)] }), RangeError);
  assert.throws(() => new HistoryAccumulator({ size: 1, peaks: [null as unknown as Uint8Array] }), TypeError);
  assert.throws(
    () => new HistoryAccumulator({ size: 1, peaks: [Array.from(one[0]) as unknown as Uint8Array] }),
    TypeError,
  );
  for (const peaks of [null, "peaks", { length: 1, 0: one[0] }]) {
    assert.throws(
      () => new HistoryAccumulator({ size: 1, peaks: peaks as unknown as Uint8Array[] }),
      (e) => e instanceof RangeError || e instanceof TypeError,
    );
  }
});

Deno.test("append() rejects a block hash that is not 32 bytes and leaves the accumulator unchanged", () => {
  const acc = ACCS[3].clone();
  for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0)]) {
    assert.throws(() => acc.append(bad), RangeError);
  }
  for (const bad of [null, "00".repeat(32), Array.from(HASHES[0])]) {
    assert.throws(() => acc.append(bad as unknown as Uint8Array), TypeError);
  }
  assert.equal(acc.size, 3);
  assert.deepEqual(acc.root(), ROOTS[3]);
});

Deno.test("a full accumulator (size 2^32) refuses to append and is unchanged", () => {
  const peak = random.bytes(32);
  const acc = new HistoryAccumulator({ size: 2 ** 32, peaks: [peak] });
  assert.deepEqual(acc.root(), peak);
  assert.throws(() => acc.append(HASHES[0]), RangeError);
  assert.equal(acc.size, 2 ** 32);
  assert.deepEqual(acc.root(), peak);
});

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

Deno.test("encode() is the size varint followed by the peaks, and decode() round-trips it, for every size 0..130", () => {
  for (let n = 0; n <= MAX; n++) {
    const bytes = ACCS[n].encode();
    assert.deepEqual(bytes, cat(new ByteWriter().varint(n).finish(), ...ACCS[n].peaks()), `size ${n}`);
    const back = HistoryAccumulator.decode(bytes);
    assert.equal(back.size, n);
    assert.deepEqual(back.peaks(), ACCS[n].peaks());
    assert.deepEqual(back.root(), ROOTS[n]);
  }
  assert.equal(bytesToHex(new HistoryAccumulator().encode()), "00");
});

Deno.test("encode()/decode() round-trip large sizes across every varint width up to 2^32", () => {
  for (const size of [0xfc, 0xfd, 0xffff, 0x10000, 0x12345678, 2 ** 32 - 1, 2 ** 32]) {
    const peaks = Array.from({ length: popcount(size) }, () => random.bytes(32));
    const acc = new HistoryAccumulator({ size, peaks });
    const back = HistoryAccumulator.decode(acc.encode());
    assert.equal(back.size, size);
    assert.deepEqual(back.peaks(), peaks);
    assert.deepEqual(back.root(), acc.root());
  }
});

Deno.test("HistoryAccumulator.decode() rejects an encoding truncated at every length", () => {
  const bytes = ACCS[127].encode(); // 7 peaks
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => HistoryAccumulator.decode(bytes.subarray(0, n)), DecodeError, `length ${n}`);
  }
});

Deno.test("HistoryAccumulator.decode() rejects trailing bytes, including one peak too many", () => {
  for (const n of [0, 1, 5, 64, 127]) {
    const bytes = ACCS[n].encode();
    assert.throws(() => HistoryAccumulator.decode(cat(bytes, new Uint8Array(1))), DecodeError);
    assert.throws(() => HistoryAccumulator.decode(cat(bytes, random.bytes(32))), DecodeError);
  }
});

Deno.test("HistoryAccumulator.decode() rejects a size whose peak count differs from the peaks present", () => {
  // Size 3 needs 2 peaks; size 4 needs 1.
  const [p, q] = [random.bytes(32), random.bytes(32)];
  assert.throws(() => HistoryAccumulator.decode(cat(new Uint8Array([3]), p)), DecodeError);
  assert.throws(() => HistoryAccumulator.decode(cat(new Uint8Array([4]), p, q)), DecodeError);
  assert.throws(() => HistoryAccumulator.decode(cat(new Uint8Array([0]), p)), DecodeError);
  assert.throws(() => HistoryAccumulator.decode(new Uint8Array([1])), DecodeError);
});

Deno.test("HistoryAccumulator.decode() rejects a non-minimal size, a size over 2^32 and random bytes", () => {
  const p = random.bytes(32);
  const bad = [
    cat(new Uint8Array([0xfd, 0x01, 0x00]), p), // 1 in 3 bytes
    cat(new Uint8Array([0xfe, 0x01, 0x00, 0x00, 0x00]), p), // 1 in 5 bytes
    cat(new ByteWriter().u8(0xff).u64(2n ** 32n + 1n).finish(), p, p),
    cat(new ByteWriter().u8(0xff).u64(2n ** 53n).finish(), p),
    new ByteWriter().u8(0xff).u64(2n ** 64n - 1n).finish(),
    new Uint8Array(0),
  ];
  for (const bytes of bad) assert.throws(() => HistoryAccumulator.decode(bytes), DecodeError, bytesToHex(bytes));
  const r = rng(9);
  for (let i = 0; i < 300; i++) {
    const bytes = r.bytes(r.int(200));
    try {
      const acc = HistoryAccumulator.decode(bytes);
      assert.deepEqual(acc.encode(), bytes);
    } catch (err) {
      assert.ok(err instanceof DecodeError, `random input ${i}: ${err}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// verifyHistoryProof
// ---------------------------------------------------------------------------------------------

const PROOF_MAX = 40;
/** PROOFS[n][k] = inclusionProof(HASHES.slice(0, n), k) for every k < n <= 40. */
const PROOFS: Uint8Array[][][] = Array.from(
  { length: PROOF_MAX + 1 },
  (_, n) => Array.from({ length: n }, (__, k) => inclusionProof(HASHES.slice(0, n), k)),
);

function eachProof(fn: (k: number, n: number, proof: Uint8Array[]) => void): void {
  for (let n = 1; n <= PROOF_MAX; n++) for (let k = 0; k < n; k++) fn(k, n, PROOFS[n][k]);
}

Deno.test("verifyHistoryProof() accepts the inclusion proof of every height k below every later height n <= 40", () => {
  eachProof((k, n, proof) => {
    assert.ok(verifyHistoryProof(HASHES[k], k, n, proof, ROOTS[n]), `${k} under ${n}`);
  });
});

Deno.test("verifyHistoryProof() rejects every wrong height below the later height, and heights at or above it", () => {
  eachProof((k, n, proof) => {
    for (let h = 0; h < n; h++) {
      if (h !== k) assert.equal(verifyHistoryProof(HASHES[k], h, n, proof, ROOTS[n]), false, `${k} as ${h} under ${n}`);
    }
    for (const h of [n, n + 1, 2 ** 32]) assert.equal(verifyHistoryProof(HASHES[k], h, n, proof, ROOTS[n]), false);
  });
});

Deno.test("verifyHistoryProof() rejects a later height equal to the height, and one below it", () => {
  eachProof((k, n, proof) => {
    assert.equal(verifyHistoryProof(HASHES[k], k, k, proof, ROOTS[n]), false);
    if (k > 0) assert.equal(verifyHistoryProof(HASHES[k], k, k - 1, proof, ROOTS[n]), false);
  });
});

// The root does not commit to the number of leaves (RFC 6962); laterHeight must come from the
// authenticated header. A proof checks under another laterHeight exactly when the leaf's audit path
// has the same shape there, e.g. height 0 under later heights 3 and 4.
Deno.test("verifyHistoryProof() rejects a wrong laterHeight except where the audit path has the same shape", () => {
  assert.equal(verifyHistoryProof(HASHES[0], 0, 4, PROOFS[3][0], ROOTS[3]), true);
  assert.equal(verifyHistoryProof(HASHES[0], 0, 5, PROOFS[4][0], ROOTS[4]), false);
  let rejected = 0;
  eachProof((k, n, proof) => {
    for (let later = k + 1; later <= 64; later++) {
      if (later === n) continue;
      const expected = pathShape(k, later) === pathShape(k, n);
      if (!expected) rejected++;
      assert.equal(verifyHistoryProof(HASHES[k], k, later, proof, ROOTS[n]), expected, `${k} under ${n} as ${later}`);
    }
  });
  assert.ok(rejected > 10000);
});

Deno.test("verifyHistoryProof() rejects the history root of any other size, a flipped root bit and the zero root", () => {
  eachProof((k, n, proof) => {
    for (let m = 0; m <= PROOF_MAX; m++) {
      if (m !== n) assert.equal(verifyHistoryProof(HASHES[k], k, n, proof, ROOTS[m]), false);
    }
    const flipped = ROOTS[n].slice();
    flipped[(k * 7) % 32] ^= 1 << (n % 8);
    assert.equal(verifyHistoryProof(HASHES[k], k, n, proof, flipped), false);
    assert.equal(verifyHistoryProof(HASHES[k], k, n, proof, new Uint8Array(32)), false);
  });
});

Deno.test("verifyHistoryProof() rejects another block's hash, a flipped bit and the leaf hash passed as the block hash", () => {
  eachProof((k, n, proof) => {
    const flipped = HASHES[k].slice();
    flipped[31] ^= 0x80;
    for (const wrong of [HASHES[(k + 1) % n === k ? n : (k + 1) % n], flipped, hashLeaf(HASHES[k]), HASHES[MAX]]) {
      assert.equal(verifyHistoryProof(wrong, k, n, proof, ROOTS[n]), false);
    }
  });
});

Deno.test("verifyHistoryProof() rejects proofs one hash short, one hash long, reordered or with a flipped bit", () => {
  eachProof((k, n, proof) => {
    const bad: Uint8Array[][] = [[...proof, HASHES[MAX]], [HASHES[MAX], ...proof]];
    if (proof.length > 0) {
      bad.push(proof.slice(0, -1), proof.slice(1));
      const flipped = proof.slice();
      flipped[k % proof.length] = flipped[k % proof.length].slice();
      flipped[k % proof.length][n % 32] ^= 4;
      bad.push(flipped);
    }
    if (proof.length > 1) bad.push(proof.slice().reverse());
    for (const p of bad) assert.equal(verifyHistoryProof(HASHES[k], k, n, p, ROOTS[n]), false, `${k} under ${n}`);
  });
});

Deno.test("verifyHistoryProof() returns false (never throws) for malformed arguments", () => {
  const [k, n] = [5, 23];
  const good: unknown[] = [HASHES[k], k, n, PROOFS[n][k], ROOTS[n]];
  assert.equal(verifyHistoryProof(...(good as Parameters<typeof verifyHistoryProof>)), true);
  const proof = PROOFS[n][k];
  const replacements: unknown[][] = [
    [null, undefined, new Uint8Array(31), new Uint8Array(33), bytesToHex(HASHES[k]), Array.from(HASHES[k])],
    [null, undefined, -1, 1.5, NaN, Infinity, "5", 5n],
    [null, undefined, 0, -1, 23.5, NaN, Infinity, 2 ** 53, "23", 23n],
    [
      null,
      undefined,
      "proof",
      {},
      proof[0],
      [...proof.slice(0, -1), proof.at(-1)!.subarray(1)],
      [...proof, null],
      Array.from({ length: 65 }, () => proof[0]),
      new Proxy(proof, {
        get() {
          throw new Error("hostile getter");
        },
      }),
    ],
    [null, undefined, ROOTS[n].subarray(1), new Uint8Array(33), bytesToHex(ROOTS[n])],
  ];
  replacements.forEach((values, pos) => {
    for (const v of values) {
      const args = good.slice();
      args[pos] = v;
      assert.equal(verifyHistoryProof(...(args as Parameters<typeof verifyHistoryProof>)), false, `arg ${pos}`);
    }
  });
});
