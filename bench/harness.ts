/**
 * Tiny benchmark harness: each benchmark returns one figure; `bench/main.ts` collects them
 * into bench/results.json. Benchmarks are separate from tests and never asserted on.
 *
 * @module
 */

/** One named figure producer. */
export interface Benchmark {
  /** Result key, e.g. `mining.nonces_per_second`. */
  name: string;
  /** Unit, for the console. */
  unit: string;
  /** Measure and return the figure. */
  run(): number | Promise<number>;
}

/**
 * Run `fn` repeatedly for about `seconds` after a short warm-up and return calls per second.
 *
 * @example
 * ```ts
 * const perSecond = await rate(() => sha256(data), { seconds: 1 });
 * ```
 */
export async function rate(
  fn: () => unknown,
  options: { seconds?: number; batch?: number } = {},
): Promise<number> {
  const seconds = options.seconds ?? 1.5;
  const batch = options.batch ?? 1;
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) for (let i = 0; i < batch; i++) await fn();
  let calls = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) await fn();
    calls += batch;
  }
  return calls / ((performance.now() - start) / 1000);
}

/**
 * Round a figure to 3 significant digits for stable, readable results.
 *
 * @example
 * ```ts
 * round3(123456.7); // 123000
 * ```
 */
export function round3(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(3)) : x;
}
