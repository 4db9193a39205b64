/**
 * The ledger state as key-value entries of the sparse Merkle tree (docs/protocol.md §10).
 *
 * key 0x00 ‖ publicKey (33 bytes)  -> account: balance u64 ‖ nonce u64
 * key 0x01 ‖ height u32            -> maturing coinbase: recipient 32 ‖ amount u64
 *
 * An account with balance 0 and nonce 0 is absent.
 *
 * @module
 */

import { abytes, aint, bytesToHex, U32_MAX } from "./bytes.ts";
import { type ByteReader, ByteWriter, decodeAll } from "./encoding.ts";
import type { SparseMerkleTree } from "./smt.ts";

/** An account's state. */
export interface Account {
  /** Spendable balance in base units. */
  balance: bigint;
  /** Number of transfers sent; the next transfer must carry this nonce. */
  nonce: bigint;
}

/** A coinbase payout that becomes spendable after the maturity period. */
export interface MaturingReward {
  /** Miner's public key. */
  recipient: Uint8Array;
  /** Amount in base units. */
  amount: bigint;
}

/**
 * Synchronous read/write view of the state entries. `set(key, undefined)` deletes.
 * The full node backs it with the sparse Merkle tree in SQLite; tests use a Map.
 */
export interface StateView {
  /** Value under `key`, if any. */
  get(key: Uint8Array): Uint8Array | undefined;
  /** Set or (with undefined) delete the value under `key`. */
  set(key: Uint8Array, value: Uint8Array | undefined): void;
}

/**
 * State key of an account.
 *
 * @example
 * ```ts
 * accountKey(publicKey).length; // 33
 * ```
 */
export function accountKey(publicKey: Uint8Array): Uint8Array {
  abytes(publicKey, 32, "publicKey");
  const k = new Uint8Array(33);
  k.set(publicKey, 1);
  return k;
}

/**
 * State key of the coinbase reward of block `height` while it matures.
 *
 * @example
 * ```ts
 * rewardKey(100);
 * ```
 */
export function rewardKey(height: number): Uint8Array {
  aint(height, 0, U32_MAX, "height");
  return new ByteWriter(5).u8(1).u32(height).finish();
}

/**
 * Encode an account value.
 *
 * @example
 * ```ts
 * encodeAccount({ balance: 5n, nonce: 0n });
 * ```
 */
export function encodeAccount(a: Account): Uint8Array {
  return new ByteWriter(16).u64(a.balance).u64(a.nonce).finish();
}

/**
 * Strictly decode an account value.
 *
 * @example
 * ```ts
 * decodeAccount(bytes).balance;
 * ```
 */
export function decodeAccount(bytes: Uint8Array): Account {
  return decodeAll(bytes, (r: ByteReader) => ({ balance: r.u64(), nonce: r.u64() }), "account");
}

/**
 * Encode a maturing reward value.
 *
 * @example
 * ```ts
 * encodeReward({ recipient, amount: 50n });
 * ```
 */
export function encodeReward(r: MaturingReward): Uint8Array {
  return new ByteWriter(40).bytes(r.recipient, 32).u64(r.amount).finish();
}

/**
 * Strictly decode a maturing reward value.
 *
 * @example
 * ```ts
 * decodeReward(bytes).amount;
 * ```
 */
export function decodeReward(bytes: Uint8Array): MaturingReward {
  return decodeAll(bytes, (r: ByteReader) => ({ recipient: r.bytes(32).slice(), amount: r.u64() }), "reward");
}

/**
 * Read an account (absent accounts read as zero balance and nonce).
 *
 * @example
 * ```ts
 * getAccount(view, publicKey).nonce;
 * ```
 */
export function getAccount(view: StateView, publicKey: Uint8Array): Account {
  const v = view.get(accountKey(publicKey));
  return v === undefined ? { balance: 0n, nonce: 0n } : decodeAccount(v);
}

/**
 * Write an account; a zero account is deleted so absence is canonical.
 *
 * @example
 * ```ts
 * putAccount(view, publicKey, { balance: 5n, nonce: 1n });
 * ```
 */
export function putAccount(view: StateView, publicKey: Uint8Array, a: Account): void {
  view.set(accountKey(publicKey), a.balance === 0n && a.nonce === 0n ? undefined : encodeAccount(a));
}

/**
 * A {@link StateView} over a Map, for tests and scratch work.
 *
 * @example
 * ```ts
 * const view = new MapStateView();
 * ```
 */
export class MapStateView implements StateView {
  /** Entries keyed by hex of the state key. */
  readonly entries: Map<string, Uint8Array> = new Map();
  /** {@inheritDoc StateView.get} */
  get(key: Uint8Array): Uint8Array | undefined {
    return this.entries.get(bytesToHex(key));
  }
  /** {@inheritDoc StateView.set} */
  set(key: Uint8Array, value: Uint8Array | undefined): void {
    if (value === undefined) this.entries.delete(bytesToHex(key));
    else this.entries.set(bytesToHex(key), value);
  }
}

/**
 * A {@link StateView} writing straight through to a sparse Merkle tree, whose root is then
 * the block's stateRoot.
 *
 * @example
 * ```ts
 * const tree = new SparseMerkleTree();
 * applyBlock(new TreeStateView(tree), block, params);
 * equalBytes(tree.root(), block.header.stateRoot);
 * ```
 */
export class TreeStateView implements StateView {
  readonly #tree: SparseMerkleTree;
  /** View `tree`. */
  constructor(tree: SparseMerkleTree) {
    this.#tree = tree;
  }
  /** {@inheritDoc StateView.get} */
  get(key: Uint8Array): Uint8Array | undefined {
    return this.#tree.get(key);
  }
  /** {@inheritDoc StateView.set} */
  set(key: Uint8Array, value: Uint8Array | undefined): void {
    if (value === undefined) this.#tree.delete(key);
    else this.#tree.set(key, value);
  }
}
