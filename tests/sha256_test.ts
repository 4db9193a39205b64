/**
 * protocol/sha256.ts against published FIPS 180 vectors and against @noble/hashes (the
 * reference implementation, used only here) for every short length, random long lengths,
 * subarrays, midstates and the tagged-hash / multi-part wrappers in protocol/hash.ts.
 *
 * Run: deno test -A tests/sha256_test.ts
 */
import assert from "node:assert/strict";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "../protocol/bytes.ts";
import { sha256Parts, taggedHash } from "../protocol/hash.ts";
import { sha256, sha256Compress, sha256Midstate, sha256Resume } from "../protocol/sha256.ts";
import { rng } from "./helpers/random.ts";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// SHA-256 examples published by NIST: FIPS 180-2 Appendix B.1 ("abc"), B.2 (448-bit) and
// B.3 (one million "a"); the empty string and the 896-bit message (the FIPS 180-2 Appendix C.2
// SHA-512 input) from the NIST CSRC "Examples with Intermediate Values" / SHA-2 test vectors.
const NIST_VECTORS: { label: string; message: () => Uint8Array; digest: string }[] = [
  {
    label: "empty string",
    message: () => new Uint8Array(0),
    digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  },
  {
    label: '"abc" (FIPS 180-2 B.1)',
    message: () => utf8("abc"),
    digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  },
  {
    label: "448-bit message (FIPS 180-2 B.2)",
    message: () => utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    digest: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  },
  {
    label: "896-bit message",
    message: () =>
      utf8(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      ),
    digest: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
  },
  {
    label: 'one million "a" (FIPS 180-2 B.3)',
    message: () => new Uint8Array(1_000_000).fill(0x61),
    digest: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  },
];

for (const v of NIST_VECTORS) {
  Deno.test(`sha256() matches the NIST vector: ${v.label}`, () => {
    assert.equal(bytesToHex(sha256(v.message())), v.digest);
  });
}

Deno.test("sha256() equals @noble/hashes for every length 0..300", () => {
  const r = rng(1804);
  for (let n = 0; n <= 300; n++) {
    const data = r.bytes(n);
    assert.equal(bytesToHex(sha256(data)), bytesToHex(nobleSha256(data)), `length ${n}`);
  }
});

Deno.test("sha256() equals @noble/hashes for random lengths up to 100 KB", () => {
  const r = rng(256);
  for (let i = 0; i < 40; i++) {
    const data = r.bytes(r.int(100 * 1024 + 1));
    assert.equal(bytesToHex(sha256(data)), bytesToHex(nobleSha256(data)), `length ${data.length}`);
  }
});

Deno.test("sha256() hashes only the bytes of a subarray with a non-zero byteOffset", () => {
  const r = rng(7);
  const backing = r.bytes(400);
  for (const [start, end] of [[1, 34], [3, 68], [5, 5], [7, 163], [13, 400], [64, 128]]) {
    const view = backing.subarray(start, end);
    assert.equal(bytesToHex(sha256(view)), bytesToHex(nobleSha256(backing.slice(start, end))), `[${start}, ${end})`);
  }
});

Deno.test("sha256() does not modify its input", () => {
  const data = rng(9).bytes(157);
  const copy = data.slice();
  sha256(data);
  assert.deepEqual(data, copy);
});

Deno.test("sha256() returns a fresh array on every call", () => {
  const data = utf8("abc");
  const first = sha256(data);
  assert.equal(first.length, 32);
  assert.equal(first.byteOffset, 0);
  assert.equal(first.buffer.byteLength, 32);
  first.fill(0);
  const second = sha256(data);
  assert.equal(bytesToHex(second), NIST_VECTORS[1].digest);
  assert.notEqual(first.buffer, second.buffer);
});

Deno.test("sha256() rejects a non-Uint8Array with TypeError", () => {
  for (const bad of [undefined, null, "abc", [1, 2, 3], new Uint16Array(2), new ArrayBuffer(4)]) {
    assert.throws(() => sha256(bad as unknown as Uint8Array), TypeError);
  }
});

/** "abc" padded to one block (FIPS 180-4 §5.1.1) as 16 big-endian words. */
function abcBlock(): Uint32Array {
  const block = new Uint32Array(16);
  block[0] = 0x61626380;
  block[15] = 24;
  return block;
}

const IV_WORDS = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

function wordsToHex(words: Uint32Array | Int32Array): string {
  return Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, "0")).join("");
}

Deno.test('sha256Compress() of the padded "abc" block from the IV gives the FIPS 180-2 B.1 digest', () => {
  const unsigned = Uint32Array.from(IV_WORDS);
  const block = abcBlock();
  sha256Compress(unsigned, block);
  assert.equal(wordsToHex(unsigned), NIST_VECTORS[1].digest);
  assert.deepEqual(block, abcBlock());

  const signed = Int32Array.from(IV_WORDS);
  sha256Compress(signed, new Int32Array(abcBlock().buffer));
  assert.equal(wordsToHex(signed), NIST_VECTORS[1].digest);
});

Deno.test("sha256Compress() reads only the first 16 words of a longer block", () => {
  const state = Uint32Array.from(IV_WORDS);
  const long = new Uint32Array(64).fill(0xdeadbeef);
  long.set(abcBlock());
  sha256Compress(state, long);
  assert.equal(wordsToHex(state), NIST_VECTORS[1].digest);
});

Deno.test("sha256Compress() works on word views with a non-zero byteOffset", () => {
  const stateBuf = new Uint32Array(9);
  stateBuf.set(IV_WORDS, 1);
  const blockBuf = new Uint32Array(17);
  blockBuf.set(abcBlock(), 1);
  sha256Compress(stateBuf.subarray(1), blockBuf.subarray(1));
  assert.equal(wordsToHex(stateBuf.subarray(1)), NIST_VECTORS[1].digest);
  assert.equal(stateBuf[0], 0);
});

Deno.test("sha256Compress() rejects wrong types with TypeError and wrong sizes with RangeError", () => {
  const ok = Uint32Array.from(IV_WORDS);
  assert.throws(() => sha256Compress([...IV_WORDS] as unknown as Uint32Array, abcBlock()), TypeError);
  assert.throws(() => sha256Compress(ok, new Uint8Array(64) as unknown as Uint32Array), TypeError);
  assert.throws(() => sha256Compress(new Uint32Array(7), abcBlock()), RangeError);
  assert.throws(() => sha256Compress(new Uint32Array(9), abcBlock()), RangeError);
  assert.throws(() => sha256Compress(ok, new Uint32Array(15)), RangeError);
  assert.equal(wordsToHex(ok), wordsToHex(Uint32Array.from(IV_WORDS)));
});

Deno.test("sha256Resume(sha256Midstate(prefix), data) equals SHA-256(prefix ‖ data)", () => {
  const r = rng(64);
  for (const prefixLength of [0, 64, 128, 640]) {
    const prefix = r.bytes(prefixLength);
    const midstate = sha256Midstate(prefix);
    for (const n of [0, 1, 31, 55, 56, 63, 64, 65, 157, 1000]) {
      const data = r.bytes(n);
      const whole = new Uint8Array(prefixLength + n);
      whole.set(prefix);
      whole.set(data, prefixLength);
      assert.equal(bytesToHex(sha256Resume(midstate, data)), bytesToHex(nobleSha256(whole)), `${prefixLength}+${n}`);
    }
  }
});

Deno.test("sha256Midstate() rejects a prefix that is not a whole number of blocks", () => {
  assert.throws(() => sha256Midstate(new Uint8Array(63)), RangeError);
  assert.throws(() => sha256Midstate(new Uint8Array(65)), RangeError);
  assert.throws(() => sha256Midstate("x".repeat(64) as unknown as Uint8Array), TypeError);
});

Deno.test("sha256Resume() rejects a malformed midstate with TypeError", () => {
  const data = new Uint8Array(1);
  const good = sha256Midstate(new Uint8Array(64));
  for (
    const bad of [
      undefined,
      null,
      {},
      { state: new Uint32Array(8), length: 64 },
      { state: new Int32Array(7), length: 64 },
      { state: new Int32Array(8), length: 63 },
      { state: new Int32Array(8), length: -64 },
    ]
  ) {
    assert.throws(() => sha256Resume(bad as unknown as typeof good, data), TypeError);
  }
  assert.throws(() => sha256Resume(good, [1] as unknown as Uint8Array), TypeError);
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

Deno.test("sha256Parts() equals SHA-256 of the concatenation, for small and large totals", () => {
  const r = rng(3);
  const cases: Uint8Array[][] = [
    [],
    [new Uint8Array(0)],
    [new Uint8Array([1]), new Uint8Array([2])],
    [r.bytes(1), r.bytes(32)],
    [r.bytes(1), r.bytes(32), r.bytes(32)],
    [r.bytes(300), r.bytes(5000)], // grows the reused buffer
    [r.bytes(70_000), r.bytes(10)], // above the reuse limit
    [r.bytes(3), r.bytes(4)], // small again after the large ones
  ];
  for (const parts of cases) {
    const lengths = parts.map((p) => p.length).join("+");
    assert.equal(bytesToHex(sha256Parts(parts)), bytesToHex(nobleSha256(concat(parts))), lengths);
  }
});

Deno.test("sha256Parts() rejects a non-array or a non-Uint8Array part with TypeError", () => {
  assert.throws(() => sha256Parts(new Uint8Array(3) as unknown as Uint8Array[]), TypeError);
  assert.throws(() => sha256Parts([new Uint8Array(1), "x" as unknown as Uint8Array]), TypeError);
});

Deno.test("taggedHash() is SHA-256(SHA-256(tag) ‖ SHA-256(tag) ‖ data...)", () => {
  const r = rng(340);
  for (const tag of ["edgeledger/tx", "BIP0340/challenge", "", "ünïcödé"]) {
    const t = nobleSha256(utf8(tag));
    for (const parts of [[], [r.bytes(32)], [r.bytes(32), r.bytes(33), r.bytes(100)], [r.bytes(157)]]) {
      const expected = nobleSha256(concat([t, t, ...parts]));
      assert.equal(bytesToHex(taggedHash(tag, ...parts)), bytesToHex(expected), `${tag} ${parts.length}`);
    }
  }
});

Deno.test("taggedHash() rejects a non-string tag with TypeError", () => {
  assert.throws(() => taggedHash(7 as unknown as string, new Uint8Array(1)), TypeError);
});
