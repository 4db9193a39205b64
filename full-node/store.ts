/**
 * The full node's SQLite database (node:sqlite): blocks, the header tree with cumulative
 * work, the main-chain index, the transaction index, accounts, sparse Merkle tree nodes,
 * undo data, the history accumulator per header, the mempool and metadata.
 *
 * Every write that changes the chain tip happens inside {@link NodeStore.transaction}, so a
 * SIGKILL at any instant leaves the database at the last committed tip.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SmtStore } from "../protocol/smt.ts";

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
-- Every valid-looking header we know, with cumulative work (hex) and status.
CREATE TABLE IF NOT EXISTS headers (
  hash BLOB PRIMARY KEY,
  height INTEGER NOT NULL,
  header BLOB NOT NULL,
  work TEXT NOT NULL,
  status INTEGER NOT NULL,
  history BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (hash BLOB PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS main (height INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txindex (txid BLOB PRIMARY KEY, block BLOB NOT NULL, idx INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (key BLOB PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS smt (hash BLOB PRIMARY KEY, node BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS undo (hash BLOB PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mempool (txid BLOB PRIMARY KEY, tx BLOB NOT NULL, added INTEGER NOT NULL);
`;

/** Header status values stored in the `headers` table. */
export const HeaderStatus = {
  /** Header valid, block data not (yet) stored. */
  HEADER: 0,
  /** Block data stored; not known to be invalid. */
  DATA: 1,
  /** The block or an ancestor failed validation. */
  INVALID: 2,
} as const;
/** One of {@link HeaderStatus}. */
export type HeaderStatus = typeof HeaderStatus[keyof typeof HeaderStatus];

/** A row of the `headers` table. */
export interface HeaderRow {
  /** Block hash. */
  hash: Uint8Array;
  /** Height. */
  height: number;
  /** Encoded 156-byte header. */
  header: Uint8Array;
  /** Cumulative chain work, hex. */
  work: string;
  /** {@link HeaderStatus}. */
  status: HeaderStatus;
}

type Row = Record<string, unknown>;

/**
 * The node's database. Statements are prepared once.
 *
 * @example
 * ```ts
 * const store = NodeStore.open(".edgeledger/devnet/chain.sqlite");
 * store.transaction(() => store.setMeta("tip", hash));
 * ```
 */
export class NodeStore {
  readonly db: DatabaseSync;
  readonly #s: Record<string, StatementSync>;
  #depth = 0;

  private constructor(db: DatabaseSync) {
    this.db = db;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      getMeta: p("SELECT value FROM meta WHERE key = ?"),
      setMeta: p("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"),
      deleteMeta: p("DELETE FROM meta WHERE key = ?"),
      putHeader: p(
        "INSERT OR REPLACE INTO headers (hash, height, header, work, status, history) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      setStatus: p("UPDATE headers SET status = ? WHERE hash = ?"),
      getHistory: p("SELECT history FROM headers WHERE hash = ?"),
      allHeaders: p("SELECT hash, height, header, work, status FROM headers ORDER BY height"),
      putBlock: p("INSERT OR REPLACE INTO blocks (hash, data) VALUES (?, ?)"),
      getBlock: p("SELECT data FROM blocks WHERE hash = ?"),
      hasBlock: p("SELECT 1 AS x FROM blocks WHERE hash = ?"),
      setMain: p("INSERT OR REPLACE INTO main (height, hash) VALUES (?, ?)"),
      deleteMain: p("DELETE FROM main WHERE height = ?"),
      getMain: p("SELECT hash FROM main WHERE height = ?"),
      mainRange: p("SELECT hash FROM main WHERE height >= ? AND height < ? ORDER BY height"),
      putTx: p("INSERT OR REPLACE INTO txindex (txid, block, idx) VALUES (?, ?, ?)"),
      deleteTx: p("DELETE FROM txindex WHERE txid = ?"),
      getTx: p("SELECT block, idx FROM txindex WHERE txid = ?"),
      getAccount: p("SELECT value FROM accounts WHERE key = ?"),
      putAccount: p("INSERT OR REPLACE INTO accounts (key, value) VALUES (?, ?)"),
      deleteAccount: p("DELETE FROM accounts WHERE key = ?"),
      countAccounts: p("SELECT COUNT(*) AS n FROM accounts"),
      getNode: p("SELECT node FROM smt WHERE hash = ?"),
      putNode: p("INSERT OR REPLACE INTO smt (hash, node) VALUES (?, ?)"),
      deleteNode: p("DELETE FROM smt WHERE hash = ?"),
      putUndo: p("INSERT OR REPLACE INTO undo (hash, data) VALUES (?, ?)"),
      getUndo: p("SELECT data FROM undo WHERE hash = ?"),
      deleteUndo: p("DELETE FROM undo WHERE hash = ?"),
      addMempool: p("INSERT OR REPLACE INTO mempool (txid, tx, added) VALUES (?, ?, ?)"),
      removeMempool: p("DELETE FROM mempool WHERE txid = ?"),
      allMempool: p("SELECT tx FROM mempool ORDER BY added"),
    };
  }

  /** Open (creating if needed) the database at `path`; ":memory:" for tests. */
  static open(path: string): NodeStore {
    const db = new DatabaseSync(path);
    // WAL keeps readers off the writer's back; synchronous=FULL makes each commit durable.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF;");
    db.exec(SCHEMA);
    const store = new NodeStore(db);
    const version = store.getMeta("schema");
    if (version === undefined) store.setMeta("schema", new Uint8Array([SCHEMA_VERSION]));
    else if (version[0] !== SCHEMA_VERSION) {
      db.close();
      throw new Error(`database schema ${version[0]} is not ${SCHEMA_VERSION}; remove the data directory or reindex`);
    }
    return store;
  }

  /** Close the database. */
  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /**
   * Run `fn` in one SQLite transaction: all of its writes commit together or not at all.
   * Nested calls join the outer transaction.
   */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.db.exec("BEGIN IMMEDIATE");
    this.#depth++;
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    } finally {
      this.#depth--;
    }
  }

  /** Value of a metadata key. */
  getMeta(key: string): Uint8Array | undefined {
    return (this.#s.getMeta.get(key) as Row | undefined)?.value as Uint8Array | undefined;
  }

  /** Set a metadata key. */
  setMeta(key: string, value: Uint8Array): void {
    this.#s.setMeta.run(key, value);
  }

  /** Remove a metadata key. */
  deleteMeta(key: string): void {
    this.#s.deleteMeta.run(key);
  }

  /** Store a header with its cumulative work, status and history accumulator state. */
  putHeader(row: HeaderRow, history: Uint8Array): void {
    this.#s.putHeader.run(row.hash, row.height, row.header, row.work, row.status, history);
  }

  /** Change a header's status. */
  setStatus(hash: Uint8Array, status: HeaderStatus): void {
    this.#s.setStatus.run(status, hash);
  }

  /** Encoded history accumulator including the block itself (what its child commits to). */
  getHistory(hash: Uint8Array): Uint8Array | undefined {
    return (this.#s.getHistory.get(hash) as Row | undefined)?.history as Uint8Array | undefined;
  }

  /** Every stored header, lowest height first. */
  allHeaders(): HeaderRow[] {
    return this.#s.allHeaders.all() as unknown as HeaderRow[];
  }

  /** Store block data. */
  putBlock(hash: Uint8Array, data: Uint8Array): void {
    this.#s.putBlock.run(hash, data);
  }

  /** Block data by hash. */
  getBlock(hash: Uint8Array): Uint8Array | undefined {
    return (this.#s.getBlock.get(hash) as Row | undefined)?.data as Uint8Array | undefined;
  }

  /** Whether block data is stored. */
  hasBlock(hash: Uint8Array): boolean {
    return this.#s.hasBlock.get(hash) !== undefined;
  }

  /** Set the main-chain hash at `height`. */
  setMain(height: number, hash: Uint8Array): void {
    this.#s.setMain.run(height, hash);
  }

  /** Remove the main-chain entry at `height`. */
  deleteMain(height: number): void {
    this.#s.deleteMain.run(height);
  }

  /** Main-chain hash at `height`. */
  getMain(height: number): Uint8Array | undefined {
    return (this.#s.getMain.get(height) as Row | undefined)?.hash as Uint8Array | undefined;
  }

  /** Main-chain hashes for heights [from, to). */
  mainRange(from: number, to: number): Uint8Array[] {
    return (this.#s.mainRange.all(from, to) as Row[]).map((r) => r.hash as Uint8Array);
  }

  /** Index a main-chain transaction. */
  putTx(txid: Uint8Array, block: Uint8Array, index: number): void {
    this.#s.putTx.run(txid, block, index);
  }

  /** Remove a transaction from the index. */
  deleteTx(txid: Uint8Array): void {
    this.#s.deleteTx.run(txid);
  }

  /** Block hash and index of a main-chain transaction. */
  getTx(txid: Uint8Array): { block: Uint8Array; index: number } | undefined {
    const row = this.#s.getTx.get(txid) as Row | undefined;
    return row === undefined ? undefined : { block: row.block as Uint8Array, index: Number(row.idx) };
  }

  /** State entry (account or maturing reward). */
  getState(key: Uint8Array): Uint8Array | undefined {
    return (this.#s.getAccount.get(key) as Row | undefined)?.value as Uint8Array | undefined;
  }

  /** Set or delete a state entry. */
  setState(key: Uint8Array, value: Uint8Array | undefined): void {
    if (value === undefined) this.#s.deleteAccount.run(key);
    else this.#s.putAccount.run(key, value);
  }

  /** Number of state entries. */
  countState(): number {
    return Number((this.#s.countAccounts.get() as Row).n);
  }

  /** Store undo data of a connected block. */
  putUndo(hash: Uint8Array, data: Uint8Array): void {
    this.#s.putUndo.run(hash, data);
  }

  /** Undo data of a connected block. */
  getUndo(hash: Uint8Array): Uint8Array | undefined {
    return (this.#s.getUndo.get(hash) as Row | undefined)?.data as Uint8Array | undefined;
  }

  /** Remove undo data. */
  deleteUndo(hash: Uint8Array): void {
    this.#s.deleteUndo.run(hash);
  }

  /** Persist a mempool transaction. */
  addMempool(txid: Uint8Array, tx: Uint8Array, added: number): void {
    this.#s.addMempool.run(txid, tx, added);
  }

  /** Forget a mempool transaction. */
  removeMempool(txid: Uint8Array): void {
    this.#s.removeMempool.run(txid);
  }

  /** Persisted mempool transactions, oldest first. */
  allMempool(): Uint8Array[] {
    return (this.#s.allMempool.all() as Row[]).map((r) => r.tx as Uint8Array);
  }

  /** Delete all derived state (accounts, tree, undo, main chain, tx index) for a reindex. */
  clearState(): void {
    this.db.exec("DELETE FROM accounts; DELETE FROM smt; DELETE FROM undo; DELETE FROM main; DELETE FROM txindex;");
    this.deleteMeta("tip");
  }

  /** A sparse Merkle node store over the `smt` table. */
  smtStore(): SmtStore {
    const s = this.#s;
    // Nodes are content-addressed (hash -> fixed bytes), so a read cache can never go stale,
    // even across a rolled-back transaction.
    const cache = new Map<string, Uint8Array>();
    const key = (h: Uint8Array) => String.fromCharCode.apply(null, h as unknown as number[]);
    return {
      get(hash) {
        const k = key(hash);
        let node = cache.get(k);
        if (node === undefined) {
          node = (s.getNode.get(hash) as Row | undefined)?.node as Uint8Array | undefined;
          if (node === undefined) return undefined;
          if (cache.size >= 200_000) cache.clear();
          cache.set(k, node);
        }
        return node;
      },
      set(hash, node) {
        s.putNode.run(hash, node);
      },
      delete(hash) {
        s.deleteNode.run(hash);
      },
    };
  }
}
