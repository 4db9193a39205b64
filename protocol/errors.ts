/**
 * Typed errors for consensus, encoding and peer policy. Every rule failure carries a
 * stable `code` and a `ban` decision, so one place maps failures to peer policy.
 *
 * @module
 */

/** Stable codes for every consensus, encoding and policy failure. */
export const ErrorCode = {
  // encoding
  MALFORMED: "MALFORMED",
  // header
  BAD_VERSION: "BAD_VERSION",
  BAD_HEIGHT: "BAD_HEIGHT",
  BAD_PREV: "BAD_PREV",
  BAD_POW: "BAD_POW",
  BAD_BITS: "BAD_BITS",
  TIME_TOO_OLD: "TIME_TOO_OLD",
  TIME_TOO_NEW: "TIME_TOO_NEW",
  BAD_HISTORY_ROOT: "BAD_HISTORY_ROOT",
  BAD_GENESIS: "BAD_GENESIS",
  // block
  BAD_TX_ROOT: "BAD_TX_ROOT",
  BAD_STATE_ROOT: "BAD_STATE_ROOT",
  BLOCK_TOO_LARGE: "BLOCK_TOO_LARGE",
  TOO_MANY_TXS: "TOO_MANY_TXS",
  BAD_COINBASE: "BAD_COINBASE",
  BAD_COINBASE_AMOUNT: "BAD_COINBASE_AMOUNT",
  DUPLICATE_TX: "DUPLICATE_TX",
  // transaction
  WRONG_NETWORK: "WRONG_NETWORK",
  BAD_SIGNATURE: "BAD_SIGNATURE",
  BAD_NONCE: "BAD_NONCE",
  INSUFFICIENT_FUNDS: "INSUFFICIENT_FUNDS",
  BAD_AMOUNT: "BAD_AMOUNT",
  OVERFLOW: "OVERFLOW",
  BAD_ADDRESS: "BAD_ADDRESS",
  BAD_ADDRESS_CHECKSUM: "BAD_ADDRESS_CHECKSUM",
  // policy (not consensus: never a reason to ban)
  FEE_TOO_LOW: "FEE_TOO_LOW",
  MEMPOOL_FULL: "MEMPOOL_FULL",
  ALREADY_KNOWN: "ALREADY_KNOWN",
  NONCE_TOO_HIGH: "NONCE_TOO_HIGH",
  // wire
  BAD_MESSAGE: "BAD_MESSAGE",
  UNKNOWN_TYPE: "UNKNOWN_TYPE",
  MESSAGE_TOO_LARGE: "MESSAGE_TOO_LARGE",
  HANDSHAKE: "HANDSHAKE",
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * A rule failure. `ban` says whether the peer that sent the object should be disconnected:
 * true for anything a correct peer never sends (bad PoW, bad encoding), false for things an
 * honest peer can send in good faith (a transaction whose nonce was just used, a future time).
 *
 * @example
 * ```ts
 * throw new ValidationError("BAD_POW", "hash above target", { ban: true });
 * ```
 */
export class ValidationError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Whether the sender should be disconnected and refused for a while. */
  readonly ban: boolean;
  /** Create a rule failure. */
  constructor(code: ErrorCode, message: string, options: { ban: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ValidationError";
    this.code = code;
    this.ban = options.ban;
  }
}

/**
 * Strict decoding failed: truncated input, trailing bytes, non-minimal varint, a length over
 * its cap or an out-of-range value. Always a reason to ban: a correct peer never sends it.
 *
 * @example
 * ```ts
 * throw new DecodeError("trailing bytes after header");
 * ```
 */
export class DecodeError extends ValidationError {
  /** Create a decoding failure. */
  constructor(message: string) {
    super(ErrorCode.MALFORMED, message, { ban: true });
    this.name = "DecodeError";
  }
}
