import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { hashHeaderWithNonce, headerMidstate, meetsTarget, searchNonces } from "../protocol/sha256_mine.ts";

const HEADER_LENGTH = 156;
const MAX_TARGET = (1n << 256n) - 1n;

/** Deterministic xorshift32 generator so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

function randomHeader(next: () => number): Uint8Array {
  const header = new Uint8Array(HEADER_LENGTH);
  for (let i = 0; i < HEADER_LENGTH; i++) header[i] = next() & 0xff;
  return header;
}

/** Reference: noble sha256 of a copy of `header` with the low nonce word set. */
function referenceHash(header: Uint8Array, nonceLow: number): Uint8Array {
  const copy = header.slice();
  new DataView(copy.buffer).setUint32(148, nonceLow, true);
  return sha256(copy);
}

/** Reference comparison, independent of the module: hex -> bigint. */
function referenceMeets(hash: Uint8Array, target: bigint): boolean {
  const hex = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
  return BigInt("0x" + hex) <= target;
}

function hashValue(hash: Uint8Array): bigint {
  return BigInt("0x" + Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join(""));
}

/** Target as 32 big-endian bytes (reference encoding for the brute force). */
function targetBytes(target: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, target >>= 8n) out[i] = Number(target & 0xffn);
  return out;
}

/** Brute-force reference for searchNonces: noble sha256 + lexicographic byte comparison. */
function bruteForce(header: Uint8Array, target: bigint, start: number, count: number): number {
  const limit = targetBytes(target);
  const copy = header.slice();
  const view = new DataView(copy.buffer);
  for (let n = start; n < start + count; n++) {
    view.setUint32(148, n, true);
    const hash = sha256(copy);
    let i = 0;
    while (i < 32 && hash[i] === limit[i]) i++;
    if (i === 32 || hash[i] < limit[i]) return n;
  }
  return -1;
}

function setHighNonce(header: Uint8Array, high: number): void {
  new DataView(header.buffer, header.byteOffset).setUint32(152, high, true);
}

Deno.test("midstate plus third-chunk compression equals noble sha256 of the header", () => {
  const next = rng(0x5eed1);
  const highWords = [0, 0xffffffff, 0x80000000, 1];
  for (let i = 0; i < 300; i++) {
    const header = randomHeader(next);
    if (i < highWords.length * 10) setHighNonce(header, highWords[i % highWords.length]);
    const midstate = headerMidstate(header);
    const nonces = [0, 0xffffffff, 1, 0x7fffffff, 0x80000000, next(), next()];
    for (const nonce of nonces) {
      const expected = referenceHash(header, nonce);
      assert.deepEqual(hashHeaderWithNonce(header, nonce, midstate), expected);
      assert.deepEqual(hashHeaderWithNonce(header, nonce), expected);
    }
  }
});

Deno.test("hashHeaderWithNonce replaces only the low nonce word of the header", () => {
  const header = randomHeader(rng(7));
  new DataView(header.buffer).setUint32(148, 0xdeadbeef, true);
  assert.deepEqual(hashHeaderWithNonce(header, 0xdeadbeef), sha256(header));
});

Deno.test("headerMidstate depends only on the first 128 header bytes", () => {
  const next = rng(0xabc);
  const header = randomHeader(next);
  const midstate = headerMidstate(header);
  assert.ok(midstate instanceof Uint32Array);
  assert.equal(midstate.length, 8);
  const tailChanged = header.slice();
  for (let i = 128; i < HEADER_LENGTH; i++) tailChanged[i] ^= 0xff;
  assert.deepEqual(headerMidstate(tailChanged), midstate);
  const bodyChanged = header.slice();
  bodyChanged[127] ^= 1;
  assert.notDeepEqual(headerMidstate(bodyChanged), midstate);
});

Deno.test("searchNonces returns exactly the first nonce meeting an easy target (brute-force cross-check)", () => {
  const next = rng(0xfeed);
  const target = 1n << 252n; // about 1 in 16 nonces qualifies
  for (let i = 0; i < 40; i++) {
    const header = randomHeader(next);
    const midstate = headerMidstate(header);
    let start = i === 0 ? 0 : next() % 0xfff00000;
    const end = start + 400;
    let hits = 0;
    while (start < end) {
      const count = end - start;
      const expected = bruteForce(header, target, start, count);
      assert.equal(searchNonces(header, target, { start, count, midstate }), expected);
      assert.equal(searchNonces(header, target, { start, count }), expected);
      if (expected === -1) break;
      hits++;
      start = expected + 1;
    }
    assert.ok(hits > 0, "expected at least one qualifying nonce in 400 tries");
  }
});

Deno.test("searchNonces checks the full digest when its top word equals the target's top word", () => {
  const next = rng(0x1234);
  for (let i = 0; i < 50; i++) {
    const header = randomHeader(next);
    const nonce = next();
    const value = hashValue(referenceHash(header, nonce));
    // The exact hash value qualifies, one less does not, although both share the top 32 bits.
    assert.equal(searchNonces(header, value, { start: nonce, count: 1 }), nonce);
    assert.equal(searchNonces(header, value - 1n, { start: nonce, count: 1 }), -1);
    // Same top word, all lower bits set: qualifies.
    const sameTop = value | ((1n << 224n) - 1n);
    assert.equal(searchNonces(header, sameTop, { start: nonce, count: 1 }), nonce);
    // Scanning a range whose only qualifying candidate sits at its end.
    if (nonce >= 20) {
      const expected = bruteForce(header, value, nonce - 20, 21);
      assert.equal(searchNonces(header, value, { start: nonce - 20, count: 21 }), expected);
    }
  }
});

Deno.test("searchNonces keeps scanning up to the range end after a candidate fails the full comparison", () => {
  const next = rng(0x2468);
  let checked = 0;
  for (let i = 0; checked < 10 && i < 10_000; i++) {
    const header = randomHeader(next);
    const first = next() % 0xfff00000;
    const topWord = new DataView(referenceHash(header, first).buffer).getUint32(0);
    if (topWord === 0 || topWord >= 0x08000000) continue; // want a rare, non-trivial top word
    // Same top word as `first`'s digest, lower 224 bits zero: `first` passes the
    // 32-bit pre-filter but fails the full comparison.
    const target = BigInt(topWord) << 224n;
    assert.equal(searchNonces(header, target, { start: first, count: 1 }), -1);
    const last = bruteForce(header, target, first + 1, 4096);
    if (last === -1) continue;
    const count = last - first + 1;
    assert.equal(searchNonces(header, target, { start: first, count }), last);
    assert.equal(searchNonces(header, target, { start: first, count: count - 1 }), -1);
    checked++;
  }
  assert.equal(checked, 10);
});

Deno.test("searchNonces treats the digest's top word as unsigned", () => {
  const next = rng(0x777);
  // Targets just below and above 2^255 split digests on their top bit.
  const header = randomHeader(next);
  const belowHalf = (1n << 255n) - 1n;
  for (const target of [belowHalf, 1n << 255n, 0xc0000000n << 224n, 0x40000000n << 224n]) {
    const expected = bruteForce(header, target, 1000, 64);
    assert.equal(searchNonces(header, target, { start: 1000, count: 64 }), expected);
  }
});

Deno.test("searchNonces returns -1 when no nonce in the range qualifies", () => {
  const header = randomHeader(rng(99));
  assert.equal(searchNonces(header, 1n, { start: 0, count: 5000 }), -1);
  assert.equal(searchNonces(header, 1n, { start: 0xffffffff - 999, count: 1000 }), -1);
  assert.equal(searchNonces(header, MAX_TARGET, { start: 5, count: 0 }), -1);
  // A window that brute force confirms has no hit for a 1-in-256 target.
  const target = 1n << 248n;
  let start = 0;
  while (bruteForce(header, target, start, 20) !== -1) start += 20;
  assert.equal(searchNonces(header, target, { start, count: 20 }), -1);
});

Deno.test("searchNonces scans ranges longer than one internal batch of 65536 nonces", () => {
  const next = rng(0x51de);
  const header = randomHeader(next);
  assert.equal(searchNonces(header, 1n, { start: 0, count: 200_000 }), -1);
  assert.equal(searchNonces(header, 1n, { start: 0x100000000 - 200_000, count: 200_000 }), -1);
  assert.equal(searchNonces(header, MAX_TARGET, { start: 0x100000000 - 70_000, count: 70_000 }), 0x100000000 - 70_000);
  // A 1-in-2^17 target whose first hit lies beyond the first batch.
  const target = 1n << 239n;
  const start = 0x9000_0000;
  let found = 0;
  for (let i = 0; i < 4 && found === 0; i++) {
    const h = randomHeader(next);
    const expected = bruteForce(h, target, start, 300_000);
    if (expected - start <= 0x10000) continue;
    assert.equal(searchNonces(h, target, { start, count: 300_000 }), expected);
    assert.equal(searchNonces(h, target, { start, count: expected - start }), -1);
    found++;
  }
  assert.equal(found, 1, "expected a header whose first hit is past the first batch");
});

Deno.test("searchNonces with the maximum target returns the start nonce", () => {
  const header = randomHeader(rng(5));
  assert.equal(searchNonces(header, MAX_TARGET, { start: 0, count: 10 }), 0);
  assert.equal(searchNonces(header, MAX_TARGET, { start: 123456, count: 1 }), 123456);
  assert.equal(searchNonces(header, MAX_TARGET, { start: 0xffffffff, count: 1 }), 0xffffffff);
});

Deno.test("searchNonces reaches the top of the nonce range without wrapping", () => {
  const next = rng(0xbeef);
  const target = 1n << 252n;
  for (let i = 0; i < 10; i++) {
    const header = randomHeader(next);
    const start = 0x100000000 - 64;
    let from = start;
    while (from <= 0xffffffff) {
      const expected = bruteForce(header, target, from, 0x100000000 - from);
      assert.equal(searchNonces(header, target, { start: from, count: 0x100000000 - from }), expected);
      if (expected === -1) break;
      from = expected + 1;
    }
  }
});

Deno.test("searchNonces does not mutate the header", () => {
  const header = randomHeader(rng(31337));
  const before = header.slice();
  searchNonces(header, 1n << 252n, { start: 0, count: 200 });
  searchNonces(header, 1n, { start: 0, count: 200 });
  searchNonces(header, MAX_TARGET, { start: 77, count: 1, midstate: headerMidstate(header) });
  hashHeaderWithNonce(header, 5);
  assert.deepEqual(header, before);
});

Deno.test("meetsTarget compares the digest as a big-endian unsigned 256-bit integer", () => {
  const zero = new Uint8Array(32);
  assert.equal(meetsTarget(zero, 1n), true);
  const one = new Uint8Array(32);
  one[31] = 1;
  assert.equal(meetsTarget(one, 1n), true);
  const two = new Uint8Array(32);
  two[31] = 2;
  assert.equal(meetsTarget(two, 1n), false);
  const high = new Uint8Array(32);
  high[0] = 0x80;
  assert.equal(meetsTarget(high, (1n << 255n) - 1n), false);
  assert.equal(meetsTarget(high, 1n << 255n), true);
  assert.equal(meetsTarget(new Uint8Array(32).fill(0xff), MAX_TARGET), true);
  const next = rng(4242);
  for (let i = 0; i < 200; i++) {
    const hash = sha256(Uint8Array.of(i));
    const target = (BigInt(next()) << 224n) | (BigInt(next()) << 100n) | 1n;
    assert.equal(meetsTarget(hash, target), referenceMeets(hash, target));
    const value = hashValue(hash);
    assert.equal(meetsTarget(hash, value), true);
    if (value > 1n) assert.equal(meetsTarget(hash, value - 1n), false);
  }
});

Deno.test("searchNonces rejects invalid arguments with the argument name", () => {
  const header = new Uint8Array(HEADER_LENGTH);
  const ok = { start: 0, count: 1 };
  const call = (h: unknown, t: unknown, o: unknown) => () =>
    searchNonces(h as Uint8Array, t as bigint, o as { start: number; count: number });

  assert.throws(call(new Uint8Array(155), 1n, ok), { name: "RangeError", message: /header/ });
  assert.throws(call(new Uint8Array(157), 1n, ok), { name: "RangeError", message: /header/ });
  assert.throws(call(Array.from(header), 1n, ok), { name: "TypeError", message: /header/ });

  assert.throws(call(header, 0n, ok), { name: "RangeError", message: /target/ });
  assert.throws(call(header, -1n, ok), { name: "RangeError", message: /target/ });
  assert.throws(call(header, 1n << 256n, ok), { name: "RangeError", message: /target/ });
  assert.throws(call(header, 1, ok), { name: "TypeError", message: /target/ });

  assert.throws(call(header, 1n, null), { name: "TypeError", message: /options/ });
  assert.throws(call(header, 1n, { start: 0, count: -1 }), { name: "RangeError", message: /options\.count/ });
  assert.throws(call(header, 1n, { start: 0, count: 1.5 }), { name: "RangeError", message: /options\.count/ });
  assert.throws(call(header, 1n, { start: 0, count: "1" }), { name: "TypeError", message: /options\.count/ });
  assert.throws(call(header, 1n, { start: -1, count: 1 }), { name: "RangeError", message: /options\.start/ });
  assert.throws(call(header, 1n, { start: 0.5, count: 1 }), { name: "RangeError", message: /options\.start/ });
  assert.throws(call(header, 1n, { start: 0x100000000, count: 0 }), {
    name: "RangeError",
    message: /options\.start/,
  });
  assert.throws(call(header, 1n, { count: 1 }), { name: "TypeError", message: /options\.start/ });
  assert.throws(call(header, 1n, { start: 0xffffffff, count: 2 }), {
    name: "RangeError",
    message: /options\.start \+ options\.count/,
  });
  assert.throws(call(header, 1n, { start: 1, count: 0x100000000 }), {
    name: "RangeError",
    message: /options\.start \+ options\.count/,
  });
  assert.throws(call(header, 1n, { start: 0, count: 1, midstate: new Uint32Array(7) }), {
    name: "RangeError",
    message: /options\.midstate/,
  });
  assert.throws(call(header, 1n, { start: 0, count: 1, midstate: new Int32Array(8) }), {
    name: "TypeError",
    message: /options\.midstate/,
  });
  // The largest valid range ends exactly at 2^32 - 1.
  assert.equal(searchNonces(header, 1n, { start: 0xffffffff, count: 1 }), -1);
});

Deno.test("headerMidstate, hashHeaderWithNonce and meetsTarget reject invalid arguments", () => {
  assert.throws(() => headerMidstate(new Uint8Array(155)), { name: "RangeError", message: /header/ });
  assert.throws(() => headerMidstate("x" as unknown as Uint8Array), { name: "TypeError", message: /header/ });
  const header = new Uint8Array(HEADER_LENGTH);
  assert.throws(() => hashHeaderWithNonce(header, -1), { name: "RangeError", message: /nonceLow/ });
  assert.throws(() => hashHeaderWithNonce(header, 0x100000000), { name: "RangeError", message: /nonceLow/ });
  assert.throws(() => hashHeaderWithNonce(header, 0, new Uint32Array(9)), { name: "RangeError", message: /midstate/ });
  assert.throws(() => meetsTarget(new Uint8Array(31), 1n), { name: "RangeError", message: /hash/ });
  assert.throws(() => meetsTarget(new Uint8Array(32), 0n), { name: "RangeError", message: /target/ });
  assert.throws(() => meetsTarget(new Uint8Array(32), 1n << 256n), { name: "RangeError", message: /target/ });
});
