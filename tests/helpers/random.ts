/**
 * Seeded deterministic randomness for tests (mulberry32), so every run sees the same data.
 *
 * @module
 */

/** A deterministic source of random bytes and integers. */
export interface Rng {
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
  /** A random integer in [0, max). */
  int(max: number): number;
}

/**
 * A mulberry32 generator seeded with `seed` (any 32-bit integer).
 *
 * @example
 * ```ts
 * const r = rng(1);
 * r.bytes(32); // the same 32 bytes on every run
 * r.int(10); // 0..9
 * ```
 */
export function rng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        const v = next();
        for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
      }
      return out;
    },
    int(max: number): number {
      if (!Number.isSafeInteger(max) || max <= 0) throw new RangeError(`Expected "max" to be a positive integer`);
      // Two draws give 53 bits, enough for any safe max without noticeable bias in tests.
      const r = (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53;
      return Math.floor(r * max);
    },
  };
}
