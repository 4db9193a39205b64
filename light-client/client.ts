/**
 * The light client: answers "was I paid?" and "what is my balance?" with proof, talking only
 * to relays (or nodes) it does not trust. Every header is verified by the consensus header
 * rules; transactions by RFC 6962 inclusion proofs against a header on the best chain;
 * accounts by sparse Merkle proofs against the best tip's stateRoot; old headers by history
 * proofs against the tip's historyRoot. Anything that fails throws a {@link VerificationError}.
 *
 * Depends only on protocol/ and the standard WebSocket: runs in Deno, browsers and Workers.
 *
 * @module
 */

import { bytesToHex, hexToBytes } from "../protocol/bytes.ts";
import { ValidationError } from "../protocol/errors.ts";
import { type BlockHeader, decodeHeader, hashHeader } from "../protocol/header.ts";
import {
  type Checkpoint,
  checkpointFromJson,
  HeaderChain,
  headerChange,
  type HeaderEntry,
  type HeaderStore,
  restoreHeaderChain,
  verifyCheckpoint,
} from "../protocol/header_chain.ts";
import { verifyHistoryProof } from "../protocol/history.ts";
import { decodeAddress } from "../protocol/keys.ts";
import { hashLeaf, verifyInclusion } from "../protocol/merkle.ts";
import { MAX_HEADERS_PER_MESSAGE } from "../protocol/messages.ts";
import { getNetwork, type NetworkName, type NetworkParams } from "../protocol/params.ts";
import { decodeSmtProof, verifySmtProof } from "../protocol/smt.ts";
import { accountKey, decodeAccount } from "../protocol/state.ts";
import { decodeTx, encodeTx, type Transaction, txId } from "../protocol/tx.ts";
import { RelayConnection, type WebSocketFactory } from "./connection.ts";
import { RelayError, RelayUnavailableError, VerificationError } from "./errors.ts";

/** Options of {@link LightClient.connect}. */
export interface LightClientOptions {
  /** WebSocket URLs of relays or nodes (`wss://relay.example/ws`). */
  relays: string[];
  /** Network name or parameters (default devnet). */
  network?: NetworkName | NetworkParams;
  /** Start from a trusted checkpoint: full anchor data, or `{ height, hash }` fetched and verified. */
  checkpoint?: Checkpoint | { height: number; hash: string };
  /** Where verified headers are kept between runs (memory by default). */
  storage?: HeaderStore;
  /** Keep about this many recent headers (default 10,000); older ones are proven on demand. */
  maxHeaders?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
  /** Sync headers before `connect` resolves (default true). */
  sync?: boolean;
  /** Creates WebSockets (default: the global WebSocket). */
  createSocket?: WebSocketFactory;
  /** Clock (ms), for the future-drift rule. */
  clock?: () => number;
}

/** The verified best tip. */
export interface Tip {
  /** Height. */
  height: number;
  /** Block hash (hex). */
  hash: string;
  /** Cumulative work (from the checkpoint's stated work when started from one). */
  work: bigint;
  /** Header time (ms). */
  time: number;
}

/** A verified transaction lookup. */
export interface TransactionResult {
  /** Whether the transaction is in a block on the best chain. */
  confirmed: boolean;
  /** Height of that block. */
  height?: number;
  /** Hash of that block. */
  blockHash?: string;
  /** Blocks on top of it, counting its own (0 when unconfirmed). */
  confirmations: number;
  /** The transaction (its txid checked), when a relay returned it. */
  tx?: Transaction;
}

/** A verified account lookup. */
export interface AccountResult {
  /** Balance in base units. */
  balance: bigint;
  /** Nonce (number of transfers sent). */
  nonce: bigint;
  /** Height of the tip the proof was checked against. */
  height: number;
  /** Whether the account exists at all (proven absent otherwise). */
  exists: boolean;
}

/** Payload of the "progress" event. */
export interface SyncProgress {
  /** Verified height. */
  height: number;
  /** Best height a relay announced. */
  target: number;
}

/** Payload of the "misbehavior" event. */
export interface Misbehavior {
  /** Relay URL. */
  relay: string;
  /** What it did wrong. */
  reason: string;
}

function checkCheckpointShape(cp: { height: number; hash: string }): void {
  if (
    !Number.isInteger(cp.height) || cp.height < 0 || typeof cp.hash !== "string" || !/^[0-9a-fA-F]{64}$/.test(cp.hash)
  ) {
    throw new TypeError(`checkpoint must be HEIGHT:HASH with a whole height and a 64-hex-digit hash`);
  }
}

function hashOf(header: BlockHeader): string {
  return bytesToHex(hashHeader(header));
}

/**
 * A light client over one or more untrusted relays.
 *
 * Events: `tip` (detail: {@link Tip}), `progress` (detail: {@link SyncProgress}),
 * `misbehavior` (detail: {@link Misbehavior}).
 *
 * @example
 * ```ts
 * const client = await LightClient.connect({ relays: ["wss://relay.example/ws"], network: "devnet" });
 * const { balance } = await client.getAccount("eld1...");
 * const { confirmed, confirmations } = await client.getTransaction(txid);
 * client.close();
 * ```
 */
export class LightClient extends EventTarget {
  /** Parameters of the network the client follows. */
  readonly params: NetworkParams;
  readonly #connections: RelayConnection[];
  readonly #clock: () => number;
  readonly #store: HeaderStore | undefined;
  #chain: HeaderChain;
  #savedBaseHeight: number;
  #syncing: Promise<void> | undefined;
  #closed = false;
  #watchers = new Set<() => void>();
  readonly #bad = new Map<string, number>();

  private constructor(params: NetworkParams, chain: HeaderChain, options: LightClientOptions) {
    super();
    this.params = params;
    this.#chain = chain;
    this.#savedBaseHeight = chain.base.height;
    this.#clock = options.clock ?? Date.now;
    this.#store = options.storage;
    const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url));
    this.#connections = options.relays.map((url) =>
      new RelayConnection(url, {
        params,
        requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
        createSocket,
        onHeaders: (conn, headers) => this.#onAnnouncement(conn, headers),
        onReady: (conn) => {
          if ((conn.hello?.height ?? 0) > this.#chain.height) void this.sync().catch(() => {});
        },
      })
    );
  }

  /**
   * Connect to the relays, restore stored headers, resolve the checkpoint, and (by default)
   * sync headers. Throws {@link RelayUnavailableError} when no relay answers and
   * {@link VerificationError} when a checkpoint does not verify.
   */
  static async connect(options: LightClientOptions): Promise<LightClient> {
    if (!Array.isArray(options.relays) || options.relays.length === 0) {
      throw new TypeError(`Expected "relays" to list at least one WebSocket URL`);
    }
    for (const url of options.relays) {
      if (typeof url !== "string" || !/^wss?:\/\/[^\s]+$/.test(url)) {
        throw new TypeError(`Expected relay URLs starting with ws:// or wss://, got "${String(url).slice(0, 80)}"`);
      }
    }
    const params = typeof options.network === "object" ? options.network : getNetwork(options.network ?? "devnet");
    const clock = options.clock ?? Date.now;
    const saved = await options.storage?.load();
    const trusted = options.checkpoint !== undefined && "header" in options.checkpoint ? options.checkpoint : undefined;
    const { chain } = restoreHeaderChain(saved, {
      params,
      now: clock(),
      maxHeaders: options.maxHeaders ?? 10_000,
      checkpoint: trusted,
    });
    const client = new LightClient(params, chain, options);
    try {
      await client.#waitForAnyRelay();
      const cp = options.checkpoint;
      if (cp !== undefined && !("header" in cp)) {
        checkCheckpointShape(cp);
        if (client.#chain.base.height < cp.height) await client.#startFromCheckpoint(cp, options.maxHeaders ?? 10_000);
      }
      if (options.sync !== false) await client.sync();
      if (cp !== undefined && !("header" in cp) && cp.height <= client.#chain.height) {
        // Already past the checkpoint (restored headers, or it was at or below our base):
        // the best chain must still contain it.
        const header = await client.getHeader(cp.height);
        if (hashOf(header) !== cp.hash.toLowerCase()) {
          throw new VerificationError(
            "checkpoint",
            `the best chain has ${hashOf(header)} at height ${cp.height}, not ${cp.hash}`,
          );
        }
      }
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  async #waitForAnyRelay(): Promise<void> {
    try {
      await Promise.any(this.#connections.map((c) => c.ready()));
    } catch {
      const reasons = this.#connections.map((c) => `${c.url}${c.lastError ? ` (${c.lastError})` : ""}`).join(", ");
      throw new RelayUnavailableError(`no relay answered: ${reasons}`);
    }
  }

  async #startFromCheckpoint(cp: { height: number; hash: string }, maxHeaders: number): Promise<void> {
    const checkpoint = await this.#ask("checkpoint", async (conn) => {
      const r = await conn.request({ type: "getcheckpoint", height: cp.height });
      const parsed = checkpointFromJson({
        header: r.header,
        ancestors: r.ancestors,
        history: r.history,
        ...(r.anchor !== undefined ? { anchor: r.anchor } : {}),
        ...(r.anchorProof !== undefined ? { anchorProof: r.anchorProof } : {}),
      });
      try {
        verifyCheckpoint(parsed, cp.hash, this.params.medianTimeSpan);
      } catch (err) {
        throw new VerificationError("checkpoint", (err as Error).message, conn.url);
      }
      return parsed;
    });
    this.#chain = new HeaderChain({ params: this.params, checkpoint, maxHeaders });
    this.#savedBaseHeight = -1;
  }

  /** Stop every connection and watcher. */
  close(): void {
    this.#closed = true;
    for (const c of this.#connections) c.close();
    this.#watchers.clear();
  }

  /** Relays whose handshake is complete. */
  get connectedRelays(): string[] {
    return this.#connections.filter((c) => c.isReady).map((c) => c.url);
  }

  /** The verified header chain (read-only use). */
  get headers(): HeaderChain {
    return this.#chain;
  }

  #emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #report(relay: string, reason: string): void {
    this.#bad.set(relay, (this.#bad.get(relay) ?? 0) + 1);
    this.#emit<Misbehavior>("misbehavior", { relay, reason });
  }

  /** Relays to ask, healthiest first. */
  #order(): RelayConnection[] {
    return [...this.#connections].sort((a, b) =>
      Number(b.isReady) - Number(a.isReady) || (this.#bad.get(a.url) ?? 0) - (this.#bad.get(b.url) ?? 0)
    );
  }

  /**
   * Ask relays in turn until one gives an answer that `verify` accepts. Invalid answers are
   * reported and the next relay is tried. Throws the verification failure when every relay
   * answered wrongly, or {@link RelayUnavailableError} when none answered.
   */
  async #ask<T>(what: string, verify: (conn: RelayConnection) => Promise<T>): Promise<T> {
    let failure: Error | undefined;
    const notes: string[] = [];
    for (const conn of this.#order()) {
      try {
        return await verify(conn);
      } catch (err) {
        if (err instanceof VerificationError) {
          this.#report(conn.url, err.message);
          failure = err;
        } else if (err instanceof RelayError && err.code === "NOT_FOUND") {
          failure ??= err;
        } else if (err instanceof ValidationError) {
          this.#report(conn.url, err.message);
          failure = new VerificationError(what, err.message, conn.url);
        } else {
          notes.push(`${conn.url}: ${(err as Error).message}`);
        }
      }
    }
    throw failure ?? new RelayUnavailableError(`no relay answered ${what}: ${notes.join("; ")}`);
  }

  // ---- headers -----------------------------------------------------------------------

  /** Sync headers from every connected relay until none has more; emits `progress`. */
  sync(): Promise<void> {
    this.#syncing ??= this.#doSync().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #doSync(): Promise<void> {
    const before = this.#chain.tip;
    for (const conn of this.#order()) {
      if (this.#closed) return;
      if (!conn.isReady) continue;
      try {
        await this.#syncFrom(conn);
      } catch (err) {
        if (err instanceof ValidationError || err instanceof VerificationError) this.#report(conn.url, err.message);
      }
    }
    if (this.#chain.tip !== before) await this.#tipMoved(before);
  }

  async #syncFrom(conn: RelayConnection): Promise<void> {
    let locator = this.#chain.locator();
    for (;;) {
      const reply = await conn.request({ type: "getheaders", locator: locator.map(bytesToHex) });
      if (reply.headers.length === 0) return;
      const headers = reply.headers.map((h) => decodeHeader(hexToBytes(h)));
      const before = this.#chain.size;
      const result = this.#chain.addAll(headers, this.#clock());
      this.#emit<SyncProgress>("progress", {
        height: this.#chain.height,
        target: Math.max(this.#chain.height, conn.hello?.height ?? 0, headers[headers.length - 1].height),
      });
      if (result.orphan) throw new VerificationError("headers", "headers do not connect to the best chain", conn.url);
      if (reply.headers.length < MAX_HEADERS_PER_MESSAGE) return;
      if (this.#chain.size === before) {
        // A full batch that teaches nothing would keep us asking forever.
        throw new VerificationError("headers", "a full batch of headers added nothing new", conn.url);
      }
      locator = [hashHeader(headers[headers.length - 1]), ...this.#chain.locator()];
    }
  }

  #onAnnouncement(conn: RelayConnection, hexes: string[]): void {
    if (this.#closed) return;
    const before = this.#chain.tip;
    try {
      const result = this.#chain.addAll(hexes.map((h) => decodeHeader(hexToBytes(h))), this.#clock());
      if (result.orphan) void this.sync().catch(() => {});
    } catch (err) {
      if (err instanceof ValidationError && err.ban) {
        this.#report(conn.url, `announced an invalid header: ${err.message}`);
      }
      return;
    }
    if (this.#chain.tip !== before) void this.#tipMoved(before);
  }

  async #tipMoved(before: HeaderEntry): Promise<void> {
    const tip = await this.tip();
    this.#emit<Tip>("tip", tip);
    for (const w of this.#watchers) w();
    if (this.#store !== undefined) {
      const change = headerChange(this.#chain, before, this.#savedBaseHeight);
      this.#savedBaseHeight = this.#chain.base.height;
      await this.#store.write(change).catch(() => {});
    }
  }

  /** The verified best tip. */
  tip(): Promise<Tip> {
    const t = this.#chain.tip;
    return Promise.resolve({ height: t.height, hash: t.hex, work: t.work, time: t.header.time });
  }

  /** Make sure `header` is on the best chain, syncing or proving it through history as needed. */
  async #onBestChain(header: BlockHeader, relay: string): Promise<void> {
    const hex = hashOf(header);
    let entry = this.#chain.get(hex);
    if (entry === undefined && header.height > this.#chain.height) {
      await this.sync();
      entry = this.#chain.get(hex);
    }
    if (entry !== undefined) {
      if (!this.#chain.isMain(entry)) {
        throw new VerificationError(
          "best chain",
          `block ${hex.slice(0, 16)} at height ${header.height} is not on the best chain`,
          relay,
        );
      }
      return;
    }
    if (header.height < this.#chain.base.height) {
      const proven = await this.getHeader(header.height);
      if (hashOf(proven) === hex) return;
    }
    throw new VerificationError(
      "best chain",
      `block ${hex.slice(0, 16)} at height ${header.height} is not on the best chain`,
      relay,
    );
  }

  /**
   * The header at `height` on the best chain: from the held headers, or proven against the
   * tip's historyRoot when older than the retained window.
   */
  async getHeader(height: number): Promise<BlockHeader> {
    if (!Number.isInteger(height) || height < 0) {
      throw new RangeError(`Expected "height" to be a whole number, got ${height}`);
    }
    if (height > this.#chain.height) await this.sync();
    if (height > this.#chain.height) {
      throw new RangeError(`height ${height} is above the verified tip ${this.#chain.height}`);
    }
    const held = this.#chain.atHeight(height);
    if (held !== undefined) return held.header;
    const tip = this.#chain.tip;
    return await this.#ask("history proof", async (conn) => {
      const r = await conn.request({ type: "gethistoryproof", height, at: tip.hex });
      const header = decodeHeader(hexToBytes(r.header));
      const at = decodeHeader(hexToBytes(r.at));
      if (hashOf(at) !== tip.hex) {
        throw new VerificationError("history proof", "proof is not against the verified tip", conn.url);
      }
      if (header.height !== height) {
        throw new VerificationError("history proof", `header is for height ${header.height}`, conn.url);
      }
      const ok = verifyHistoryProof(
        hashHeader(header),
        height,
        tip.height,
        r.proof.map((h) => hexToBytes(h)),
        tip.header.historyRoot,
      );
      if (!ok) throw new VerificationError("history proof", "proof does not match the tip's historyRoot", conn.url);
      return header;
    });
  }

  // ---- transactions ------------------------------------------------------------------

  /**
   * Whether `txid` is confirmed on the best chain, verified by an RFC 6962 inclusion proof
   * against a header on the best chain.
   */
  async getTransaction(txid: string): Promise<TransactionResult> {
    if (typeof txid !== "string" || !/^[0-9a-fA-F]{64}$/.test(txid)) {
      throw new TypeError(`Expected "txid" to be 64 hex digits, got "${String(txid).slice(0, 80)}"`);
    }
    const id = txid.toLowerCase();
    try {
      return await this.#ask("transaction proof", async (conn) => {
        const r = await conn.request({ type: "gettxproof", txid: id });
        const tx = decodeTx(hexToBytes(r.tx));
        if (bytesToHex(txId(tx)) !== id) {
          throw new VerificationError("transaction proof", "the proof is for another transaction", conn.url);
        }
        const header = decodeHeader(hexToBytes(r.header));
        const proof = r.proof.map((h) => hexToBytes(h));
        if (!verifyInclusion(hashLeaf(hexToBytes(id)), r.index, r.size, proof, header.txRoot)) {
          throw new VerificationError(
            "transaction proof",
            "the inclusion proof does not match the block's txRoot",
            conn.url,
          );
        }
        await this.#onBestChain(header, conn.url);
        return {
          confirmed: true,
          height: header.height,
          blockHash: hashOf(header),
          confirmations: this.#chain.height - header.height + 1,
          tx,
        };
      });
    } catch (err) {
      if (!(err instanceof RelayError && err.code === "NOT_FOUND")) throw err;
    }
    // Not confirmed anywhere we can prove: report it unconfirmed, with the transaction if a
    // relay has it pending (its txid is checked, the rest cannot be proven yet).
    for (const conn of this.#order()) {
      try {
        const r = await conn.request({ type: "gettx", txid: id });
        if (r.tx === null) continue;
        const tx = decodeTx(hexToBytes(r.tx));
        if (bytesToHex(txId(tx)) === id) return { confirmed: false, confirmations: 0, tx };
        this.#report(conn.url, "gettx answered with another transaction");
      } catch {
        // try the next relay
      }
    }
    return { confirmed: false, confirmations: 0 };
  }

  /** Submit a signed transaction (object, bytes or hex) through a relay; returns its txid. */
  async sendTransaction(tx: Transaction | Uint8Array | string): Promise<string> {
    const bytes = typeof tx === "string" ? hexToBytes(tx, "tx") : tx instanceof Uint8Array ? tx : encodeTx(tx);
    const decoded = decodeTx(bytes);
    if (decoded.kind !== "transfer") throw new TypeError("only transfers can be sent");
    if (decoded.network !== this.params.networkId) {
      throw new TypeError(`transaction is for network id ${decoded.network}, not ${this.params.name}`);
    }
    const txid = bytesToHex(txId(decoded));
    let lastError: Error | undefined;
    for (const conn of this.#order()) {
      try {
        const r = await conn.request({ type: "sendtx", tx: bytesToHex(bytes) });
        if (r.txid !== txid) {
          this.#report(conn.url, "acknowledged another txid");
          continue;
        }
        return txid;
      } catch (err) {
        lastError = err as Error;
        if (err instanceof RelayError && err.code !== "UNAVAILABLE") throw err; // the node rejected it
      }
    }
    throw lastError ?? new RelayUnavailableError("no relay accepted the transaction");
  }

  // ---- accounts ----------------------------------------------------------------------

  /**
   * Balance and nonce of `address`, verified by a sparse Merkle proof against the best tip's
   * stateRoot; an absent account is proven absent.
   */
  async getAccount(address: string): Promise<AccountResult> {
    const publicKey = decodeAddress(address, this.params.addressPrefix);
    const key = accountKey(publicKey);
    return await this.#ask("account proof", async (conn) => {
      let r = await conn.request({ type: "getaccountproof", address });
      let header = decodeHeader(hexToBytes(r.header));
      if (header.height > this.#chain.height || this.#chain.get(hashOf(header)) === undefined) await this.sync();
      if (hashOf(header) !== this.#chain.tip.hex && header.height < this.#chain.height) {
        // The relay's node may lag by a block: ask once more before calling it stale.
        r = await conn.request({ type: "getaccountproof", address });
        header = decodeHeader(hexToBytes(r.header));
      }
      const tip = this.#chain.tip;
      if (hashOf(header) !== tip.hex) {
        const known = this.#chain.get(hashOf(header));
        throw new VerificationError(
          "account proof",
          known !== undefined && this.#chain.isMain(known)
            ? `stale stateRoot: the proof is against height ${header.height}, the verified tip is ${tip.height}`
            : `the proof is against block ${hashOf(header).slice(0, 16)}, which is not the verified tip`,
          conn.url,
        );
      }
      const value = r.account === null ? undefined : hexToBytes(r.account);
      let proofOk = false;
      try {
        proofOk = verifySmtProof(tip.header.stateRoot, key, value, decodeSmtProof(hexToBytes(r.proof)));
      } catch {
        proofOk = false;
      }
      if (!proofOk) {
        throw new VerificationError("account proof", "the proof does not match the tip's stateRoot", conn.url);
      }
      const account = value === undefined ? { balance: 0n, nonce: 0n } : decodeAccount(value);
      return { ...account, height: tip.height, exists: value !== undefined };
    });
  }

  /**
   * Call `callback` with the verified account now and whenever it changes at a new tip.
   * Returns a function that stops watching.
   */
  watch(address: string, callback: (account: AccountResult) => void): () => void {
    decodeAddress(address, this.params.addressPrefix);
    let last: string | undefined;
    let running = false;
    const check = async () => {
      if (running || this.#closed) return;
      running = true;
      try {
        const account = await this.getAccount(address);
        const key = `${account.balance}:${account.nonce}`;
        if (key !== last) {
          last = key;
          callback(account);
        }
      } catch {
        // unverifiable right now: try again at the next tip
      } finally {
        running = false;
      }
    };
    this.#watchers.add(check);
    void check();
    return () => this.#watchers.delete(check);
  }
}
