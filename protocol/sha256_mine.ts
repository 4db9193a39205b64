/**
 * Fast proof-of-work nonce search over 156-byte block headers.
 *
 * The block hash is a single SHA-256 of the 156-byte header. SHA-256 pads
 * 156 bytes to three 64-byte chunks and the nonce lives in the third one, so
 * the state after the first two chunks (the midstate) is computed once per
 * header and each nonce costs only part of one compression:
 *
 * - the third chunk's words W0..W4 (header bytes 128..147), W6 (the high 32
 *   bits of the nonce, bytes 152..155) and the padding words W7..W15 do not
 *   change while scanning, so rounds 0..4, the constant half of round 5 and
 *   every message-schedule term that does not depend on W5 are precomputed;
 * - W5 is bytes 148..151 read big-endian, i.e. the byte-swapped low 32 bits of
 *   the little-endian u64 nonce;
 * - the hot loop is fully unrolled over local int32 variables, and only the
 *   `a` register of the last round is computed: the digest's first word
 *   `H0 = midstate[0] + a` is its most significant 32 bits, so a nonce whose
 *   H0 exceeds the target's top 32 bits is rejected without building the
 *   digest. Survivors are re-hashed in full and compared exactly.
 *
 * Pure TypeScript without I/O or `Deno.*` APIs, so it runs unchanged in Deno,
 * browsers and Web Workers.
 *
 * @module
 */

import { IV, sha256Compress } from "./sha256.ts";

/** Length in bytes of a serialized block header. */
const HEADER_LENGTH = 156;
/** Exclusive upper bound of a proof-of-work target (2^256). */
const TARGET_LIMIT = 1n << 256n;
/**
 * Nonces per call of the hot loop. Small batches keep every value that crosses
 * the call boundary a small integer (a V8 "Smi"), so the optimized loop never
 * deoptimizes on a start, count or target that happens to be stored as a heap
 * number, and the loop is entered through regular (not on-stack-replacement)
 * optimized code. The per-call setup is ~1% of a batch.
 */
const MAX_BATCH = 0x10000;

/** SHA-256 round constants as int32. */
const K = Int32Array.from([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** Big-endian 32-bit word of `bytes` at `offset`, as int32. */
function readWordBE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 24) | (bytes[offset + 1] << 16) |
    (bytes[offset + 2] << 8) | bytes[offset + 3];
}

/** Reverses the byte order of a 32-bit word (int32 in, int32 out). */
function byteSwap32(n: number): number {
  return (n << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24);
}

/** Midstate as int32 words; `header` must already be validated. */
function midstateWords(header: Uint8Array): Int32Array {
  const state = IV.slice();
  const w = new Int32Array(16);
  for (let chunk = 0; chunk < 128; chunk += 64) {
    for (let i = 0; i < 16; i++) w[i] = readWordBE(header, chunk + 4 * i);
    sha256Compress(state, w);
  }
  return state;
}

/**
 * The padded third chunk (header bytes 128..155, 0x80, zeros, bit length
 * 1248) as 16 int32 words. W5, the low nonce word, is left as in `header`.
 */
function thirdChunkWords(header: Uint8Array): Int32Array {
  const w = new Int32Array(16);
  for (let i = 0; i < 7; i++) w[i] = readWordBE(header, 128 + 4 * i);
  w[7] = 0x80000000 | 0;
  w[15] = HEADER_LENGTH * 8;
  return w;
}

/** Full digest of the header whose third chunk is `chunk` with W5 = bswap(nonceLow). */
function digestThirdChunk(
  mid: Int32Array,
  chunk: Int32Array,
  nonceLow: number,
): Uint8Array {
  const state = mid.slice();
  const w = chunk.slice();
  w[5] = byteSwap32(nonceLow | 0);
  sha256Compress(state, w);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = state[i];
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = v >>> 16;
    out[4 * i + 2] = v >>> 8;
    out[4 * i + 3] = v;
  }
  return out;
}

/** Digest read as a big-endian unsigned 256-bit integer; `hash` is 32 bytes. */
function digestToBigInt(hash: Uint8Array): bigint {
  const view = new DataView(hash.buffer, hash.byteOffset, 32);
  return (view.getBigUint64(0) << 192n) | (view.getBigUint64(8) << 128n) |
    (view.getBigUint64(16) << 64n) | view.getBigUint64(24);
}

function checkHeader(header: unknown, name: string): asserts header is Uint8Array {
  if (!(header instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array`);
  }
  if (header.length !== HEADER_LENGTH) {
    throw new RangeError(
      `${name} must be exactly ${HEADER_LENGTH} bytes, got ${header.length}`,
    );
  }
}

function checkTarget(target: unknown, name: string): asserts target is bigint {
  if (typeof target !== "bigint") {
    throw new TypeError(`${name} must be a bigint`);
  }
  if (target <= 0n || target >= TARGET_LIMIT) {
    throw new RangeError(`${name} must satisfy 0 < ${name} < 2^256`);
  }
}

function checkU32(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number`);
  }
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(
      `${name} must be an integer in 0..4294967295, got ${value}`,
    );
  }
}

/** Validates an optional midstate and returns it as int32 words (a copy). */
function midstateOrCompute(
  header: Uint8Array,
  midstate: unknown,
  name: string,
): Int32Array {
  if (midstate === undefined) return midstateWords(header);
  if (!(midstate instanceof Uint32Array)) {
    throw new TypeError(`${name} must be a Uint32Array`);
  }
  if (midstate.length !== 8) {
    throw new RangeError(
      `${name} must have 8 words, got ${midstate.length}`,
    );
  }
  return Int32Array.from(midstate, (v) => v | 0);
}

/**
 * Returns the SHA-256 state (8 words) after compressing the first 128 bytes
 * of a 156-byte block header. It depends only on bytes 0..127, so it stays
 * valid while the time, bits or nonce fields change, and it can be handed to
 * {@linkcode searchNonces} and {@linkcode hashHeaderWithNonce} to skip
 * recomputing it.
 *
 * @param header The serialized 156-byte block header (not modified).
 * @returns A new `Uint32Array` of 8 state words.
 * @throws {TypeError} If `header` is not a `Uint8Array`.
 * @throws {RangeError} If `header` is not exactly 156 bytes long.
 *
 * @example Compute the midstate once per header
 * ```ts
 * import { headerMidstate } from "./sha256_mine.ts";
 *
 * const header = new Uint8Array(156);
 * const midstate = headerMidstate(header);
 * console.log(midstate.length); // 8
 * ```
 */
export function headerMidstate(header: Uint8Array): Uint32Array {
  checkHeader(header, "header");
  return new Uint32Array(midstateWords(header).buffer);
}

/**
 * Computes the block hash, SHA-256(header), for `header` with the low 32 bits
 * of its nonce (bytes 148..151, little-endian) replaced by `nonceLow`; every
 * other byte, including the high 32 bits of the nonce, is taken from
 * `header`. Uses the midstate and compresses only the third chunk.
 *
 * @param header The serialized 156-byte block header (not modified).
 * @param nonceLow The low 32 bits of the nonce, an integer in 0..2^32-1.
 * @param midstate Optional `headerMidstate(header)`; it must belong to
 *   `header`'s first 128 bytes, otherwise the result is meaningless.
 * @returns A new 32-byte digest.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `header` is not 156 bytes, `nonceLow` is not a u32
 *   or `midstate` does not have 8 words.
 *
 * @example Hash a header with a chosen nonce
 * ```ts
 * import { hashHeaderWithNonce } from "./sha256_mine.ts";
 *
 * const header = new Uint8Array(156);
 * const hash = hashHeaderWithNonce(header, 42);
 * console.log(hash.length); // 32
 * ```
 */
export function hashHeaderWithNonce(
  header: Uint8Array,
  nonceLow: number,
  midstate?: Uint32Array,
): Uint8Array {
  checkHeader(header, "header");
  checkU32(nonceLow, "nonceLow");
  const mid = midstateOrCompute(header, midstate, "midstate");
  return digestThirdChunk(mid, thirdChunkWords(header), nonceLow);
}

/**
 * Proof-of-work check: whether the 32-byte `hash`, read as a big-endian
 * unsigned 256-bit integer, is less than or equal to `target`.
 *
 * @param hash A 32-byte SHA-256 digest.
 * @param target The target, a bigint with 0 < target < 2^256.
 * @returns `true` if `hash <= target`.
 * @throws {TypeError} If `hash` is not a `Uint8Array` or `target` not a bigint.
 * @throws {RangeError} If `hash` is not 32 bytes or `target` is out of range.
 *
 * @example Compare a digest with a target
 * ```ts
 * import { meetsTarget } from "./sha256_mine.ts";
 *
 * const hash = new Uint8Array(32);
 * hash[0] = 0x0f;
 * console.log(meetsTarget(hash, 1n << 252n)); // true
 * console.log(meetsTarget(hash, 1n << 248n)); // false
 * ```
 */
export function meetsTarget(hash: Uint8Array, target: bigint): boolean {
  if (!(hash instanceof Uint8Array)) {
    throw new TypeError("hash must be a Uint8Array");
  }
  if (hash.length !== 32) {
    throw new RangeError(`hash must be exactly 32 bytes, got ${hash.length}`);
  }
  checkTarget(target, "target");
  return digestToBigInt(hash) <= target;
}

/** Options for {@linkcode searchNonces}. */
export interface SearchNoncesOptions {
  /** First low-32 nonce value to try, an integer in 0..2^32-1. */
  start: number;
  /** How many consecutive values to try; `start + count` must not exceed 2^32. */
  count: number;
  /**
   * Optional `headerMidstate(header)`, to avoid recomputing it per call. It
   * must belong to `header`'s first 128 bytes, otherwise results are
   * meaningless.
   */
  midstate?: Uint32Array;
}

/**
 * Searches the low 32 bits of the nonce for a proof of work. Tries the
 * values `start, start + 1, …, start + count - 1` in order as the low 32 bits
 * of the nonce (bytes 148..151, little-endian), keeping the high 32 bits of
 * the nonce and every other byte as in `header`, and returns the first value
 * whose block hash meets `target` (see {@linkcode meetsTarget}), or -1 if none
 * does. `header` is not modified; to use the result, write it into bytes
 * 148..151 little-endian.
 *
 * @param header The serialized 156-byte block header (not modified).
 * @param target The target, a bigint with 0 < target < 2^256.
 * @param options The nonce range and an optional precomputed midstate.
 * @returns The first qualifying low-32 nonce value, or -1.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `header` is not 156 bytes, `target` is out of
 *   range, `options.start`/`options.count` are not non-negative integers,
 *   the range runs past 2^32 - 1, or `options.midstate` does not have 8 words.
 *
 * @example Mine an easy target
 * ```ts
 * import { headerMidstate, searchNonces } from "./sha256_mine.ts";
 *
 * const header = new Uint8Array(156);
 * const midstate = headerMidstate(header);
 * const nonce = searchNonces(header, 1n << 248n, {
 *   start: 0,
 *   count: 1 << 16,
 *   midstate,
 * });
 * if (nonce >= 0) new DataView(header.buffer).setUint32(148, nonce, true);
 * ```
 */
export function searchNonces(
  header: Uint8Array,
  target: bigint,
  options: SearchNoncesOptions,
): number {
  checkHeader(header, "header");
  checkTarget(target, "target");
  if (typeof options !== "object" || options === null) {
    throw new TypeError("options must be an object");
  }
  const { start, count, midstate } = options;
  checkU32(start, "options.start");
  if (typeof count !== "number") {
    throw new TypeError("options.count must be a number");
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `options.count must be a non-negative integer, got ${count}`,
    );
  }
  if (start + count > 0x100000000) {
    throw new RangeError(
      `options.start + options.count must not exceed 2^32 (nonce range ` +
        `${start}..${start + count - 1} wraps past 4294967295)`,
    );
  }
  const mid = midstateOrCompute(header, midstate, "options.midstate");
  if (count === 0) return -1;

  const chunk = thirdChunkWords(header);
  const topWord = Number(target >> 224n);
  const topHi = topWord >>> 16, topLo = topWord & 0xffff;
  let next = start;
  let remaining = count;
  while (remaining > 0) {
    const batch = (remaining < MAX_BATCH ? remaining : MAX_BATCH) | 0;
    const offset = scanCandidates(mid, chunk, next >>> 16, next & 0xffff, batch, topHi, topLo);
    if (offset < 0) {
      next += batch;
      remaining -= batch;
      continue;
    }
    const hit = next + offset;
    if (digestToBigInt(digestThirdChunk(mid, chunk, hit)) <= target) {
      return hit;
    }
    remaining -= offset + 1;
    next = hit + 1;
  }
  return -1;
}

// The rest of this file is the hot loop. It was written out mechanically from
// the round and message-schedule definitions of FIPS 180-4 §6.2.2 (rounds
// 6..63 unrolled with renamed registers; schedule terms that do not depend on
// W5 hoisted out of the loop). tests/sha256_mine_test.ts cross-checks it
// against @noble/hashes; keep those tests passing after any edit.
//
// Round t: T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]; T2 = Σ0(a) + Maj(a, b, c);
// the register that held `h` becomes the new `a` and `d` becomes the new `e`.
// Maj(a, b, c) is computed as b ^ ((a ^ b) & (b ^ c)), reusing the previous
// round's (a ^ b) as this round's (b ^ c). `kwN` = K[N] + W[N] for constant
// words; `cN` is the W5-independent part of a varying schedule word W[N].

/**
 * Scans the low nonces `start + i` for `i` in `0..count-1`, where
 * `start = startHi * 2^16 + startLo`, and returns the first `i` whose digest's
 * first word H0 satisfies H0 <= top (unsigned), where
 * `top = topHi * 2^16 + topLo`; returns -1 if there is none. All arguments
 * after `cw` are integers below 2^16 (`count` at most 2^16) so they are always
 * Smis. The comparison flips the sign bit of both sides (`topFlip`) so a
 * signed int32 comparison gives the unsigned order.
 */
function scanCandidates(
  mid: Int32Array,
  cw: Int32Array,
  startHi: number,
  startLo: number,
  count: number,
  topHi: number,
  topLo: number,
): number {
  const w0 = cw[0] | 0, w1 = cw[1] | 0, w2 = cw[2] | 0, w3 = cw[3] | 0, w4 = cw[4] | 0;
  const w6 = cw[6] | 0, w7 = -2147483648, w8 = 0, w9 = 0, w10 = 0, w11 = 0;
  const w12 = 0, w13 = 0, w14 = 0, w15 = 1248;
  let pa = mid[0] | 0, pb = mid[1] | 0, pc = mid[2] | 0, pd = mid[3] | 0;
  let pe = mid[4] | 0, pf = mid[5] | 0, pg = mid[6] | 0, ph = mid[7] | 0;
  for (let t = 0; t < 5; t++) {
    const t1 =
      (ph + ((pe >>> 6 | pe << 26) ^ (pe >>> 11 | pe << 21) ^ (pe >>> 25 | pe << 7)) + (pg ^ (pe & (pf ^ pg))) + K[t] +
        cw[t]) | 0;
    const t2 =
      (((pa >>> 2 | pa << 30) ^ (pa >>> 13 | pa << 19) ^ (pa >>> 22 | pa << 10)) + ((pa & pb) | (pc & (pa | pb)))) | 0;
    ph = pg;
    pg = pf;
    pf = pe;
    pe = (pd + t1) | 0;
    pd = pc;
    pc = pb;
    pb = pa;
    pa = (t1 + t2) | 0;
  }
  const t1c = (ph + ((pe >>> 6 | pe << 26) ^ (pe >>> 11 | pe << 21) ^ (pe >>> 25 | pe << 7)) + (pg ^ (pe & (pf ^ pg))) +
    1508970993) | 0;
  const t2c =
    (((pa >>> 2 | pa << 30) ^ (pa >>> 13 | pa << 19) ^ (pa >>> 22 | pa << 10)) + ((pa & pb) | (pc & (pa | pb)))) | 0;
  const a6c = (t1c + t2c) | 0, e6c = (pd + t1c) | 0;
  const b6 = pa, c6 = pb, d6 = pc, f6 = pe, g6 = pf, h6 = pg;
  const w16 = (((w1 >>> 7 | w1 << 25) ^ (w1 >>> 18 | w1 << 14) ^ (w1 >>> 3)) + w0) | 0;
  const w17 = (((w15 >>> 17 | w15 << 15) ^ (w15 >>> 19 | w15 << 13) ^ (w15 >>> 10)) +
    ((w2 >>> 7 | w2 << 25) ^ (w2 >>> 18 | w2 << 14) ^ (w2 >>> 3)) + w1) | 0;
  const w18 = (((w16 >>> 17 | w16 << 15) ^ (w16 >>> 19 | w16 << 13) ^ (w16 >>> 10)) +
    ((w3 >>> 7 | w3 << 25) ^ (w3 >>> 18 | w3 << 14) ^ (w3 >>> 3)) + w2) | 0;
  const w19 = (((w17 >>> 17 | w17 << 15) ^ (w17 >>> 19 | w17 << 13) ^ (w17 >>> 10)) +
    ((w4 >>> 7 | w4 << 25) ^ (w4 >>> 18 | w4 << 14) ^ (w4 >>> 3)) + w3) | 0;
  const c20 = (((w18 >>> 17 | w18 << 15) ^ (w18 >>> 19 | w18 << 13) ^ (w18 >>> 10)) + w4) | 0;
  const c21 = (((w19 >>> 17 | w19 << 15) ^ (w19 >>> 19 | w19 << 13) ^ (w19 >>> 10)) +
    ((w6 >>> 7 | w6 << 25) ^ (w6 >>> 18 | w6 << 14) ^ (w6 >>> 3))) | 0;
  const c22 = (w15 + ((w7 >>> 7 | w7 << 25) ^ (w7 >>> 18 | w7 << 14) ^ (w7 >>> 3)) + w6) | 0;
  const c23 = (w16 + w7) | 0;
  const c24 = w17 | 0;
  const c25 = w18 | 0;
  const c26 = w19 | 0;
  const c30 = ((w15 >>> 7 | w15 << 25) ^ (w15 >>> 18 | w15 << 14) ^ (w15 >>> 3)) | 0;
  const c31 = (((w16 >>> 7 | w16 << 25) ^ (w16 >>> 18 | w16 << 14) ^ (w16 >>> 3)) + w15) | 0;
  const c32 = (((w17 >>> 7 | w17 << 25) ^ (w17 >>> 18 | w17 << 14) ^ (w17 >>> 3)) + w16) | 0;
  const c33 = (((w18 >>> 7 | w18 << 25) ^ (w18 >>> 18 | w18 << 14) ^ (w18 >>> 3)) + w17) | 0;
  const c34 = (((w19 >>> 7 | w19 << 25) ^ (w19 >>> 18 | w19 << 14) ^ (w19 >>> 3)) + w18) | 0;
  const c35 = w19 | 0;
  const kw6 = ((-1841331548) + w6) | 0;
  const kw7 = ((-1424204075) + w7) | 0;
  const kw8 = ((-670586216) + w8) | 0;
  const kw9 = (310598401 + w9) | 0;
  const kw10 = (607225278 + w10) | 0;
  const kw11 = (1426881987 + w11) | 0;
  const kw12 = (1925078388 + w12) | 0;
  const kw13 = ((-2132889090) + w13) | 0;
  const kw14 = ((-1680079193) + w14) | 0;
  const kw15 = ((-1046744716) + w15) | 0;
  const kw16 = ((-459576895) + w16) | 0;
  const kw17 = ((-272742522) + w17) | 0;
  const kw18 = (264347078 + w18) | 0;
  const kw19 = (604807628 + w19) | 0;
  const mid0 = mid[0] | 0;
  const topFlip = (((topHi << 16) | topLo) ^ -2147483648) | 0;
  for (let i = 0; i < count; i++) {
    const n = (((startHi << 16) | startLo) + i) | 0;
    const w5 = (n << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24);
    let a = (a6c + w5) | 0, b = b6, c = c6, d = d6;
    let e = (e6c + w5) | 0, f = f6, g = g6, h = h6;
    const xp = b ^ c;
    const x6 = a ^ b;
    h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ (e & (f ^ g))) + kw6) | 0;
    d = (d + h) | 0;
    h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ (x6 & xp))) | 0;
    const x7 = h ^ a;
    g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ (d & (e ^ f))) + kw7) | 0;
    c = (c + g) | 0;
    g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ (x7 & x6))) | 0;
    const x8 = g ^ h;
    f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ (c & (d ^ e))) + kw8) | 0;
    b = (b + f) | 0;
    f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ (x8 & x7))) | 0;
    const x9 = f ^ g;
    e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ (b & (c ^ d))) + kw9) | 0;
    a = (a + e) | 0;
    e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ (x9 & x8))) | 0;
    const x10 = e ^ f;
    d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ (a & (b ^ c))) + kw10) | 0;
    h = (h + d) | 0;
    d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ (x10 & x9))) | 0;
    const x11 = d ^ e;
    c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ (h & (a ^ b))) + kw11) | 0;
    g = (g + c) | 0;
    c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ (x11 & x10))) | 0;
    const x12 = c ^ d;
    b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ (g & (h ^ a))) + kw12) | 0;
    f = (f + b) | 0;
    b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ (x12 & x11))) | 0;
    const x13 = b ^ c;
    a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ (f & (g ^ h))) + kw13) | 0;
    e = (e + a) | 0;
    a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ (x13 & x12))) | 0;
    const x14 = a ^ b;
    h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ (e & (f ^ g))) + kw14) | 0;
    d = (d + h) | 0;
    h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ (x14 & x13))) | 0;
    const x15 = h ^ a;
    g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ (d & (e ^ f))) + kw15) | 0;
    c = (c + g) | 0;
    g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ (x15 & x14))) | 0;
    const x16 = g ^ h;
    f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ (c & (d ^ e))) + kw16) | 0;
    b = (b + f) | 0;
    f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ (x16 & x15))) | 0;
    const x17 = f ^ g;
    e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ (b & (c ^ d))) + kw17) | 0;
    a = (a + e) | 0;
    e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ (x17 & x16))) | 0;
    const x18 = e ^ f;
    d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ (a & (b ^ c))) + kw18) | 0;
    h = (h + d) | 0;
    d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ (x18 & x17))) | 0;
    const x19 = d ^ e;
    c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ (h & (a ^ b))) + kw19) | 0;
    g = (g + c) | 0;
    c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ (x19 & x18))) | 0;
    const w20 = (c20 + ((w5 >>> 7 | w5 << 25) ^ (w5 >>> 18 | w5 << 14) ^ (w5 >>> 3))) | 0;
    const x20 = c ^ d;
    b =
      (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ (g & (h ^ a))) + 770255983 + w20) |
      0;
    f = (f + b) | 0;
    b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ (x20 & x19))) | 0;
    const w21 = (c21 + w5) | 0;
    const x21 = b ^ c;
    a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ (f & (g ^ h))) + 1249150122 +
      w21) | 0;
    e = (e + a) | 0;
    a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ (x21 & x20))) | 0;
    const w22 = (c22 + ((w20 >>> 17 | w20 << 15) ^ (w20 >>> 19 | w20 << 13) ^ (w20 >>> 10))) | 0;
    const x22 = a ^ b;
    h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ (e & (f ^ g))) + 1555081692 +
      w22) | 0;
    d = (d + h) | 0;
    h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ (x22 & x21))) | 0;
    const w23 = (c23 + ((w21 >>> 17 | w21 << 15) ^ (w21 >>> 19 | w21 << 13) ^ (w21 >>> 10))) | 0;
    const x23 = h ^ a;
    g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ (d & (e ^ f))) + 1996064986 +
      w23) | 0;
    c = (c + g) | 0;
    g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ (x23 & x22))) | 0;
    const w24 = (c24 + ((w22 >>> 17 | w22 << 15) ^ (w22 >>> 19 | w22 << 13) ^ (w22 >>> 10))) | 0;
    const x24 = g ^ h;
    f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ (c & (d ^ e))) + (-1740746414) +
      w24) | 0;
    b = (b + f) | 0;
    f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ (x24 & x23))) | 0;
    const w25 = (c25 + ((w23 >>> 17 | w23 << 15) ^ (w23 >>> 19 | w23 << 13) ^ (w23 >>> 10))) | 0;
    const x25 = f ^ g;
    e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ (b & (c ^ d))) + (-1473132947) +
      w25) | 0;
    a = (a + e) | 0;
    e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ (x25 & x24))) | 0;
    const w26 = (c26 + ((w24 >>> 17 | w24 << 15) ^ (w24 >>> 19 | w24 << 13) ^ (w24 >>> 10))) | 0;
    const x26 = e ^ f;
    d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ (a & (b ^ c))) + (-1341970488) +
      w26) | 0;
    h = (h + d) | 0;
    d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ (x26 & x25))) | 0;
    const w27 = (((w25 >>> 17 | w25 << 15) ^ (w25 >>> 19 | w25 << 13) ^ (w25 >>> 10)) + w20) | 0;
    const x27 = d ^ e;
    c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ (h & (a ^ b))) + (-1084653625) +
      w27) | 0;
    g = (g + c) | 0;
    c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ (x27 & x26))) | 0;
    const w28 = (((w26 >>> 17 | w26 << 15) ^ (w26 >>> 19 | w26 << 13) ^ (w26 >>> 10)) + w21) | 0;
    const x28 = c ^ d;
    b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ (g & (h ^ a))) + (-958395405) +
      w28) | 0;
    f = (f + b) | 0;
    b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ (x28 & x27))) | 0;
    const w29 = (((w27 >>> 17 | w27 << 15) ^ (w27 >>> 19 | w27 << 13) ^ (w27 >>> 10)) + w22) | 0;
    const x29 = b ^ c;
    a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ (f & (g ^ h))) + (-710438585) +
      w29) | 0;
    e = (e + a) | 0;
    a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ (x29 & x28))) | 0;
    const w30 = (c30 + ((w28 >>> 17 | w28 << 15) ^ (w28 >>> 19 | w28 << 13) ^ (w28 >>> 10)) + w23) | 0;
    const x30 = a ^ b;
    h =
      (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ (e & (f ^ g))) + 113926993 + w30) |
      0;
    d = (d + h) | 0;
    h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ (x30 & x29))) | 0;
    const w31 = (c31 + ((w29 >>> 17 | w29 << 15) ^ (w29 >>> 19 | w29 << 13) ^ (w29 >>> 10)) + w24) | 0;
    const x31 = h ^ a;
    g =
      (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ (d & (e ^ f))) + 338241895 + w31) |
      0;
    c = (c + g) | 0;
    g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ (x31 & x30))) | 0;
    const w32 = (c32 + ((w30 >>> 17 | w30 << 15) ^ (w30 >>> 19 | w30 << 13) ^ (w30 >>> 10)) + w25) | 0;
    const x32 = g ^ h;
    f =
      (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ (c & (d ^ e))) + 666307205 + w32) |
      0;
    b = (b + f) | 0;
    f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ (x32 & x31))) | 0;
    const w33 = (c33 + ((w31 >>> 17 | w31 << 15) ^ (w31 >>> 19 | w31 << 13) ^ (w31 >>> 10)) + w26) | 0;
    const x33 = f ^ g;
    e =
      (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ (b & (c ^ d))) + 773529912 + w33) |
      0;
    a = (a + e) | 0;
    e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ (x33 & x32))) | 0;
    const w34 = (c34 + ((w32 >>> 17 | w32 << 15) ^ (w32 >>> 19 | w32 << 13) ^ (w32 >>> 10)) + w27) | 0;
    const x34 = e ^ f;
    d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ (a & (b ^ c))) + 1294757372 +
      w34) | 0;
    h = (h + d) | 0;
    d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ (x34 & x33))) | 0;
    const w35 = (c35 + ((w33 >>> 17 | w33 << 15) ^ (w33 >>> 19 | w33 << 13) ^ (w33 >>> 10)) + w28 +
      ((w20 >>> 7 | w20 << 25) ^ (w20 >>> 18 | w20 << 14) ^ (w20 >>> 3))) | 0;
    const x35 = d ^ e;
    c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ (h & (a ^ b))) + 1396182291 +
      w35) | 0;
    g = (g + c) | 0;
    c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ (x35 & x34))) | 0;
    const w36 = (((w34 >>> 17 | w34 << 15) ^ (w34 >>> 19 | w34 << 13) ^ (w34 >>> 10)) + w29 +
      ((w21 >>> 7 | w21 << 25) ^ (w21 >>> 18 | w21 << 14) ^ (w21 >>> 3)) + w20) | 0;
    const x36 = c ^ d;
    b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ (g & (h ^ a))) + 1695183700 +
      w36) | 0;
    f = (f + b) | 0;
    b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ (x36 & x35))) | 0;
    const w37 = (((w35 >>> 17 | w35 << 15) ^ (w35 >>> 19 | w35 << 13) ^ (w35 >>> 10)) + w30 +
      ((w22 >>> 7 | w22 << 25) ^ (w22 >>> 18 | w22 << 14) ^ (w22 >>> 3)) + w21) | 0;
    const x37 = b ^ c;
    a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ (f & (g ^ h))) + 1986661051 +
      w37) | 0;
    e = (e + a) | 0;
    a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ (x37 & x36))) | 0;
    const w38 = (((w36 >>> 17 | w36 << 15) ^ (w36 >>> 19 | w36 << 13) ^ (w36 >>> 10)) + w31 +
      ((w23 >>> 7 | w23 << 25) ^ (w23 >>> 18 | w23 << 14) ^ (w23 >>> 3)) + w22) | 0;
    const x38 = a ^ b;
    h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ (e & (f ^ g))) + (-2117940946) +
      w38) | 0;
    d = (d + h) | 0;
    h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ (x38 & x37))) | 0;
    const w39 = (((w37 >>> 17 | w37 << 15) ^ (w37 >>> 19 | w37 << 13) ^ (w37 >>> 10)) + w32 +
      ((w24 >>> 7 | w24 << 25) ^ (w24 >>> 18 | w24 << 14) ^ (w24 >>> 3)) + w23) | 0;
    const x39 = h ^ a;
    g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ (d & (e ^ f))) + (-1838011259) +
      w39) | 0;
    c = (c + g) | 0;
    g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ (x39 & x38))) | 0;
    const w40 = (((w38 >>> 17 | w38 << 15) ^ (w38 >>> 19 | w38 << 13) ^ (w38 >>> 10)) + w33 +
      ((w25 >>> 7 | w25 << 25) ^ (w25 >>> 18 | w25 << 14) ^ (w25 >>> 3)) + w24) | 0;
    const x40 = g ^ h;
    f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ (c & (d ^ e))) + (-1564481375) +
      w40) | 0;
    b = (b + f) | 0;
    f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ (x40 & x39))) | 0;
    const w41 = (((w39 >>> 17 | w39 << 15) ^ (w39 >>> 19 | w39 << 13) ^ (w39 >>> 10)) + w34 +
      ((w26 >>> 7 | w26 << 25) ^ (w26 >>> 18 | w26 << 14) ^ (w26 >>> 3)) + w25) | 0;
    const x41 = f ^ g;
    e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ (b & (c ^ d))) + (-1474664885) +
      w41) | 0;
    a = (a + e) | 0;
    e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ (x41 & x40))) | 0;
    const w42 = (((w40 >>> 17 | w40 << 15) ^ (w40 >>> 19 | w40 << 13) ^ (w40 >>> 10)) + w35 +
      ((w27 >>> 7 | w27 << 25) ^ (w27 >>> 18 | w27 << 14) ^ (w27 >>> 3)) + w26) | 0;
    const x42 = e ^ f;
    d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ (a & (b ^ c))) + (-1035236496) +
      w42) | 0;
    h = (h + d) | 0;
    d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ (x42 & x41))) | 0;
    const w43 = (((w41 >>> 17 | w41 << 15) ^ (w41 >>> 19 | w41 << 13) ^ (w41 >>> 10)) + w36 +
      ((w28 >>> 7 | w28 << 25) ^ (w28 >>> 18 | w28 << 14) ^ (w28 >>> 3)) + w27) | 0;
    const x43 = d ^ e;
    c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ (h & (a ^ b))) + (-949202525) +
      w43) | 0;
    g = (g + c) | 0;
    c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ (x43 & x42))) | 0;
    const w44 = (((w42 >>> 17 | w42 << 15) ^ (w42 >>> 19 | w42 << 13) ^ (w42 >>> 10)) + w37 +
      ((w29 >>> 7 | w29 << 25) ^ (w29 >>> 18 | w29 << 14) ^ (w29 >>> 3)) + w28) | 0;
    const x44 = c ^ d;
    b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ (g & (h ^ a))) + (-778901479) +
      w44) | 0;
    f = (f + b) | 0;
    b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ (x44 & x43))) | 0;
    const w45 = (((w43 >>> 17 | w43 << 15) ^ (w43 >>> 19 | w43 << 13) ^ (w43 >>> 10)) + w38 +
      ((w30 >>> 7 | w30 << 25) ^ (w30 >>> 18 | w30 << 14) ^ (w30 >>> 3)) + w29) | 0;
    const x45 = b ^ c;
    a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ (f & (g ^ h))) + (-694614492) +
      w45) | 0;
    e = (e + a) | 0;
    a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ (x45 & x44))) | 0;
    const w46 = (((w44 >>> 17 | w44 << 15) ^ (w44 >>> 19 | w44 << 13) ^ (w44 >>> 10)) + w39 +
      ((w31 >>> 7 | w31 << 25) ^ (w31 >>> 18 | w31 << 14) ^ (w31 >>> 3)) + w30) | 0;
    const x46 = a ^ b;
    h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ (e & (f ^ g))) + (-200395387) +
      w46) | 0;
    d = (d + h) | 0;
    h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ (x46 & x45))) | 0;
    const w47 = (((w45 >>> 17 | w45 << 15) ^ (w45 >>> 19 | w45 << 13) ^ (w45 >>> 10)) + w40 +
      ((w32 >>> 7 | w32 << 25) ^ (w32 >>> 18 | w32 << 14) ^ (w32 >>> 3)) + w31) | 0;
    const x47 = h ^ a;
    g =
      (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ (d & (e ^ f))) + 275423344 + w47) |
      0;
    c = (c + g) | 0;
    g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ (x47 & x46))) | 0;
    const w48 = (((w46 >>> 17 | w46 << 15) ^ (w46 >>> 19 | w46 << 13) ^ (w46 >>> 10)) + w41 +
      ((w33 >>> 7 | w33 << 25) ^ (w33 >>> 18 | w33 << 14) ^ (w33 >>> 3)) + w32) | 0;
    const x48 = g ^ h;
    f =
      (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ (c & (d ^ e))) + 430227734 + w48) |
      0;
    b = (b + f) | 0;
    f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ (x48 & x47))) | 0;
    const w49 = (((w47 >>> 17 | w47 << 15) ^ (w47 >>> 19 | w47 << 13) ^ (w47 >>> 10)) + w42 +
      ((w34 >>> 7 | w34 << 25) ^ (w34 >>> 18 | w34 << 14) ^ (w34 >>> 3)) + w33) | 0;
    const x49 = f ^ g;
    e =
      (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ (b & (c ^ d))) + 506948616 + w49) |
      0;
    a = (a + e) | 0;
    e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ (x49 & x48))) | 0;
    const w50 = (((w48 >>> 17 | w48 << 15) ^ (w48 >>> 19 | w48 << 13) ^ (w48 >>> 10)) + w43 +
      ((w35 >>> 7 | w35 << 25) ^ (w35 >>> 18 | w35 << 14) ^ (w35 >>> 3)) + w34) | 0;
    const x50 = e ^ f;
    d =
      (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ (a & (b ^ c))) + 659060556 + w50) |
      0;
    h = (h + d) | 0;
    d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ (x50 & x49))) | 0;
    const w51 = (((w49 >>> 17 | w49 << 15) ^ (w49 >>> 19 | w49 << 13) ^ (w49 >>> 10)) + w44 +
      ((w36 >>> 7 | w36 << 25) ^ (w36 >>> 18 | w36 << 14) ^ (w36 >>> 3)) + w35) | 0;
    const x51 = d ^ e;
    c =
      (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ (h & (a ^ b))) + 883997877 + w51) |
      0;
    g = (g + c) | 0;
    c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ (x51 & x50))) | 0;
    const w52 = (((w50 >>> 17 | w50 << 15) ^ (w50 >>> 19 | w50 << 13) ^ (w50 >>> 10)) + w45 +
      ((w37 >>> 7 | w37 << 25) ^ (w37 >>> 18 | w37 << 14) ^ (w37 >>> 3)) + w36) | 0;
    const x52 = c ^ d;
    b =
      (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ (g & (h ^ a))) + 958139571 + w52) |
      0;
    f = (f + b) | 0;
    b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ (x52 & x51))) | 0;
    const w53 = (((w51 >>> 17 | w51 << 15) ^ (w51 >>> 19 | w51 << 13) ^ (w51 >>> 10)) + w46 +
      ((w38 >>> 7 | w38 << 25) ^ (w38 >>> 18 | w38 << 14) ^ (w38 >>> 3)) + w37) | 0;
    const x53 = b ^ c;
    a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ (f & (g ^ h))) + 1322822218 +
      w53) | 0;
    e = (e + a) | 0;
    a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ (x53 & x52))) | 0;
    const w54 = (((w52 >>> 17 | w52 << 15) ^ (w52 >>> 19 | w52 << 13) ^ (w52 >>> 10)) + w47 +
      ((w39 >>> 7 | w39 << 25) ^ (w39 >>> 18 | w39 << 14) ^ (w39 >>> 3)) + w38) | 0;
    const x54 = a ^ b;
    h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ (e & (f ^ g))) + 1537002063 +
      w54) | 0;
    d = (d + h) | 0;
    h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ (x54 & x53))) | 0;
    const w55 = (((w53 >>> 17 | w53 << 15) ^ (w53 >>> 19 | w53 << 13) ^ (w53 >>> 10)) + w48 +
      ((w40 >>> 7 | w40 << 25) ^ (w40 >>> 18 | w40 << 14) ^ (w40 >>> 3)) + w39) | 0;
    const x55 = h ^ a;
    g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ (d & (e ^ f))) + 1747873779 +
      w55) | 0;
    c = (c + g) | 0;
    g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ (x55 & x54))) | 0;
    const w56 = (((w54 >>> 17 | w54 << 15) ^ (w54 >>> 19 | w54 << 13) ^ (w54 >>> 10)) + w49 +
      ((w41 >>> 7 | w41 << 25) ^ (w41 >>> 18 | w41 << 14) ^ (w41 >>> 3)) + w40) | 0;
    const x56 = g ^ h;
    f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ (c & (d ^ e))) + 1955562222 +
      w56) | 0;
    b = (b + f) | 0;
    f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ (x56 & x55))) | 0;
    const w57 = (((w55 >>> 17 | w55 << 15) ^ (w55 >>> 19 | w55 << 13) ^ (w55 >>> 10)) + w50 +
      ((w42 >>> 7 | w42 << 25) ^ (w42 >>> 18 | w42 << 14) ^ (w42 >>> 3)) + w41) | 0;
    const x57 = f ^ g;
    e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ (b & (c ^ d))) + 2024104815 +
      w57) | 0;
    a = (a + e) | 0;
    e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ (x57 & x56))) | 0;
    const w58 = (((w56 >>> 17 | w56 << 15) ^ (w56 >>> 19 | w56 << 13) ^ (w56 >>> 10)) + w51 +
      ((w43 >>> 7 | w43 << 25) ^ (w43 >>> 18 | w43 << 14) ^ (w43 >>> 3)) + w42) | 0;
    const x58 = e ^ f;
    d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ (a & (b ^ c))) + (-2067236844) +
      w58) | 0;
    h = (h + d) | 0;
    d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ (x58 & x57))) | 0;
    const w59 = (((w57 >>> 17 | w57 << 15) ^ (w57 >>> 19 | w57 << 13) ^ (w57 >>> 10)) + w52 +
      ((w44 >>> 7 | w44 << 25) ^ (w44 >>> 18 | w44 << 14) ^ (w44 >>> 3)) + w43) | 0;
    const x59 = d ^ e;
    c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ (h & (a ^ b))) + (-1933114872) +
      w59) | 0;
    g = (g + c) | 0;
    c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ (x59 & x58))) | 0;
    const w60 = (((w58 >>> 17 | w58 << 15) ^ (w58 >>> 19 | w58 << 13) ^ (w58 >>> 10)) + w53 +
      ((w45 >>> 7 | w45 << 25) ^ (w45 >>> 18 | w45 << 14) ^ (w45 >>> 3)) + w44) | 0;
    const x60 = c ^ d;
    b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ (g & (h ^ a))) + (-1866530822) +
      w60) | 0;
    f = (f + b) | 0;
    b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ (x60 & x59))) | 0;
    const w61 = (((w59 >>> 17 | w59 << 15) ^ (w59 >>> 19 | w59 << 13) ^ (w59 >>> 10)) + w54 +
      ((w46 >>> 7 | w46 << 25) ^ (w46 >>> 18 | w46 << 14) ^ (w46 >>> 3)) + w45) | 0;
    const x61 = b ^ c;
    a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ (f & (g ^ h))) + (-1538233109) +
      w61) | 0;
    e = (e + a) | 0;
    a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ (x61 & x60))) | 0;
    const w62 = (((w60 >>> 17 | w60 << 15) ^ (w60 >>> 19 | w60 << 13) ^ (w60 >>> 10)) + w55 +
      ((w47 >>> 7 | w47 << 25) ^ (w47 >>> 18 | w47 << 14) ^ (w47 >>> 3)) + w46) | 0;
    const x62 = a ^ b;
    h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ (e & (f ^ g))) + (-1090935817) +
      w62) | 0;
    d = (d + h) | 0;
    h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ (x62 & x61))) | 0;
    const w63 = (((w61 >>> 17 | w61 << 15) ^ (w61 >>> 19 | w61 << 13) ^ (w61 >>> 10)) + w56 +
      ((w48 >>> 7 | w48 << 25) ^ (w48 >>> 18 | w48 << 14) ^ (w48 >>> 3)) + w47) | 0;
    const x63 = h ^ a;
    const t1 =
      (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ (d & (e ^ f))) + (-965641998) +
        w63) | 0;
    const a64 = (t1 + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ (x63 & x62))) | 0;
    if ((((mid0 + a64) ^ -2147483648) | 0) <= topFlip) return i;
  }
  return -1;
}
