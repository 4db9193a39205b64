/**
 * Errors of the light client.
 *
 * @module
 */

/**
 * An answer failed verification. `what` names the check that failed; `relay` the relay that
 * served it. The client never returns an unverified answer.
 *
 * @example
 * ```ts
 * try { await client.getAccount(address); } catch (e) { if (e instanceof VerificationError) console.error(e.what); }
 * ```
 */
export class VerificationError extends Error {
  /** The check that failed, e.g. "account proof", "block on best chain". */
  readonly what: string;
  /** URL of the relay that served the bad answer, if one did. */
  readonly relay?: string;
  /** Create the error. */
  constructor(what: string, message: string, relay?: string) {
    super(relay === undefined ? `${what}: ${message}` : `${what}: ${message} (from ${relay})`);
    this.name = "VerificationError";
    this.what = what;
    this.relay = relay;
  }
}

/**
 * No relay gave a usable answer (all unreachable, silent, or reporting an error).
 *
 * @example
 * ```ts
 * if (err instanceof RelayUnavailableError) console.error("try again later");
 * ```
 */
export class RelayUnavailableError extends Error {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "RelayUnavailableError";
  }
}

/**
 * A relay answered a request with an `error` message.
 *
 * @example
 * ```ts
 * if (err instanceof RelayError && err.code === "NOT_FOUND") { ... }
 * ```
 */
export class RelayError extends Error {
  /** The error code the relay sent. */
  readonly code: string;
  /** Create the error. */
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.name = "RelayError";
    this.code = code;
  }
}
