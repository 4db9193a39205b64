/**
 * Amounts as users write them: whole coins with up to 8 decimals ("1.5"), converted exactly
 * to and from base units (bigint). No floating point anywhere.
 *
 * @module
 */

import { U64_MAX } from "./bytes.ts";

/** Decimal places of a coin. */
export const COIN_DECIMALS = 8;
const COIN = 10n ** BigInt(COIN_DECIMALS);

/**
 * Parse "12", "0.5" or "1.00000001" coins into base units. Throws `RangeError` with a clear
 * message for anything else (signs, exponents, too many decimals, above 2^64-1).
 *
 * @example
 * ```ts
 * parseAmount("1.5"); // 150_000_000n
 * ```
 */
export function parseAmount(text: string): bigint {
  if (typeof text !== "string") throw new TypeError(`Expected an amount string, got ${typeof text}`);
  const m = /^(\d{1,20})(?:\.(\d{1,8}))?$/.exec(text.trim());
  if (m === null) {
    throw new RangeError(
      `"${text.slice(0, 40)}" is not an amount: use whole coins with up to ${COIN_DECIMALS} decimals, like 1.5`,
    );
  }
  const value = BigInt(m[1]) * COIN + BigInt((m[2] ?? "").padEnd(COIN_DECIMALS, "0"));
  if (value > U64_MAX) throw new RangeError(`amount ${text} is too large`);
  return value;
}

/**
 * Format base units as coins with the trailing zeros of the fraction removed.
 *
 * @example
 * ```ts
 * formatAmount(150_000_000n); // "1.5"
 * ```
 */
export function formatAmount(units: bigint): string {
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  const whole = abs / COIN;
  const frac = (abs % COIN).toString().padStart(COIN_DECIMALS, "0").replace(/0+$/, "");
  return `${sign}${whole}${frac ? "." + frac : ""}`;
}
