/**
 * Consensus validation as pure functions (docs/protocol.md §11): header checks, block
 * checks, and applying a block to a state view. Every failure is a {@link ValidationError}
 * with a code and a ban decision. Time is a parameter; nothing here reads a clock.
 *
 * @module
 */

import { equalBytes, U64_MAX } from "./bytes.ts";
import { type Block, computeTxRoot, encodeBlock } from "./block.ts";
import { ErrorCode, ValidationError } from "./errors.ts";
import { type BlockHeader, hashHeader } from "./header.ts";
import { blockSubsidy, type NetworkParams } from "./params.ts";
import { asertNextBits, bitsToTarget, hashMeetsTarget } from "./pow.ts";
import { decodeReward, encodeReward, getAccount, putAccount, rewardKey, type StateView } from "./state.ts";
import { type TransferTx, txId, verifyTransferSignature } from "./tx.ts";

/** Current header version. */
export const HEADER_VERSION = 1;

function fail(code: ErrorCode, message: string, ban = true): never {
  throw new ValidationError(code, message, { ban });
}

/**
 * Compact target required of the child of `parent` (docs/protocol.md §11.2). Block 1 uses the
 * genesis bits; later blocks follow aserti3-2d anchored at block 1 of their own branch (anchor
 * parent time = block 1's time - idealBlockTime), so a chain started long after its genesis
 * time is on schedule from its first block. Networks without retargeting use powLimitBits.
 * `anchorTime` is the time of block 1 on the parent's branch (required when parent.height >= 1).
 *
 * @example
 * ```ts
 * const bits = nextBits(params, { height: tip.height, time: tip.time }, block1.time);
 * ```
 */
export function nextBits(
  params: NetworkParams,
  parent: { height: number; time: number },
  anchorTime?: number,
): number {
  if (!params.retarget) return params.powLimitBits;
  if (parent.height === 0) return params.genesis.bits;
  if (anchorTime === undefined) throw new RangeError(`"anchorTime" (the time of block 1) is required above height 1`);
  const anchorParentTime = anchorTime - params.idealBlockTimeMs;
  return asertNextBits({
    anchorBits: params.genesis.bits,
    timeDelta: BigInt(parent.time - anchorParentTime),
    heightDelta: BigInt(parent.height - 1),
    idealBlockTime: BigInt(params.idealBlockTimeMs),
    halfLife: BigInt(params.halfLifeMs),
    powLimitBits: params.powLimitBits,
  });
}

/**
 * Median of `times` (the times of the last `medianTimeSpan` blocks ending at the parent;
 * fewer near genesis). The element at index floor(n/2) of the sorted list.
 *
 * @example
 * ```ts
 * medianTime([5, 1, 3]); // 3
 * ```
 */
export function medianTime(times: readonly number[]): number {
  if (times.length === 0) throw new RangeError(`Expected "times" to be non-empty`);
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Context-free header checks: version, a valid target no easier than powLimit, and PoW.
 *
 * @example
 * ```ts
 * checkHeaderPow(header, hashHeader(header), params);
 * ```
 */
export function checkHeaderPow(header: BlockHeader, hash: Uint8Array, params: NetworkParams): void {
  if (header.version !== HEADER_VERSION) {
    fail(ErrorCode.BAD_VERSION, `header version ${header.version} is not ${HEADER_VERSION}`);
  }
  let target: bigint;
  try {
    target = bitsToTarget(header.bits);
  } catch (err) {
    fail(ErrorCode.BAD_BITS, (err as Error).message);
  }
  if (target <= 0n || target > bitsToTarget(params.powLimitBits)) {
    fail(ErrorCode.BAD_BITS, `bits 0x${header.bits.toString(16)} are outside (0, powLimit]`);
  }
  if (!hashMeetsTarget(hash, target)) fail(ErrorCode.BAD_POW, `block hash is above the target of its bits`);
}

/** What a header is checked against: facts about its parent's chain. */
export interface HeaderContext {
  /** The parent header. */
  parent: BlockHeader;
  /** The parent's hash. */
  parentHash: Uint8Array;
  /** Median time of the last `medianTimeSpan` blocks ending at the parent. */
  medianTimePast: number;
  /** Root over the hashes of blocks 0..parent.height: what the header's historyRoot must be. */
  historyRoot: Uint8Array;
  /** Local time in ms, for the future-drift rule. */
  now: number;
  /** Time of block 1 on the parent's branch (the aserti3-2d anchor); needed when parent.height >= 1. */
  anchorTime?: number;
}

/**
 * Full header check against its parent: linkage, height, required bits, PoW,
 * median-time-past, future drift and historyRoot.
 *
 * @example
 * ```ts
 * checkHeader(header, { parent, parentHash, medianTimePast, historyRoot, now: Date.now() }, params);
 * ```
 */
export function checkHeader(
  header: BlockHeader,
  ctx: HeaderContext,
  params: NetworkParams,
  hash: Uint8Array = hashHeader(header),
): void {
  if (header.height !== ctx.parent.height + 1) {
    fail(ErrorCode.BAD_HEIGHT, `height ${header.height} does not follow parent height ${ctx.parent.height}`);
  }
  if (!equalBytes(header.prevHash, ctx.parentHash)) fail(ErrorCode.BAD_PREV, `prevHash does not match the parent`);
  const expected = nextBits(params, ctx.parent, ctx.anchorTime);
  if (header.bits !== expected) {
    fail(ErrorCode.BAD_BITS, `bits 0x${header.bits.toString(16)} differ from the required 0x${expected.toString(16)}`);
  }
  checkHeaderPow(header, hash, params);
  if (header.time <= ctx.medianTimePast) {
    fail(ErrorCode.TIME_TOO_OLD, `time ${header.time} is not after the median time past ${ctx.medianTimePast}`);
  }
  if (header.time > ctx.now + params.maxFutureDriftMs) {
    fail(ErrorCode.TIME_TOO_NEW, `time ${header.time} is more than ${params.maxFutureDriftMs} ms ahead`, false);
  }
  if (!equalBytes(header.historyRoot, ctx.historyRoot)) {
    fail(ErrorCode.BAD_HISTORY_ROOT, `historyRoot does not commit to the chain of the parent`);
  }
}

/** Options of {@link checkBlockBody}. */
export interface BlockBodyOptions {
  /** Signature check, for a cache or a pool of workers; defaults to verifying in place. */
  isSignatureValid?: (tx: TransferTx, txid: Uint8Array) => boolean;
  /** Encoded size if the caller already has it. */
  size?: number;
}

/**
 * Context-free block checks: size, transaction count, one coinbase first with this height,
 * network ids, no duplicate transactions, txRoot, and signatures. Returns the txids.
 *
 * @example
 * ```ts
 * const txids = checkBlockBody(block, params);
 * ```
 */
export function checkBlockBody(block: Block, params: NetworkParams, options: BlockBodyOptions = {}): Uint8Array[] {
  const { header, txs } = block;
  const size = options.size ?? encodeBlock(block).length;
  if (size > params.maxBlockBytes) {
    fail(ErrorCode.BLOCK_TOO_LARGE, `block is ${size} bytes, over ${params.maxBlockBytes}`);
  }
  if (txs.length === 0) fail(ErrorCode.BAD_COINBASE, `block has no coinbase`);
  if (txs.length > params.maxBlockTxs) {
    fail(ErrorCode.TOO_MANY_TXS, `block has ${txs.length} transactions, over ${params.maxBlockTxs}`);
  }
  const coinbase = txs[0];
  if (coinbase.kind !== "coinbase") fail(ErrorCode.BAD_COINBASE, `first transaction is not a coinbase`);
  if (coinbase.height !== header.height) {
    fail(ErrorCode.BAD_COINBASE, `coinbase height ${coinbase.height} is not ${header.height}`);
  }
  const txids: Uint8Array[] = new Array(txs.length);
  const seen = new Set<string>();
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i];
    if (tx.network !== params.networkId) fail(ErrorCode.WRONG_NETWORK, `transaction ${i} is for network ${tx.network}`);
    if (i > 0 && tx.kind !== "transfer") fail(ErrorCode.BAD_COINBASE, `transaction ${i} is a second coinbase`);
    txids[i] = txId(tx);
    const key = String.fromCharCode.apply(null, txids[i] as unknown as number[]);
    if (seen.has(key)) fail(ErrorCode.DUPLICATE_TX, `transaction ${i} appears twice`);
    seen.add(key);
  }
  if (!equalBytes(computeTxRoot(txids), header.txRoot)) {
    fail(ErrorCode.BAD_TX_ROOT, `txRoot does not match the transactions`);
  }
  const isValid = options.isSignatureValid ?? ((tx: TransferTx) => verifyTransferSignature(tx));
  for (let i = 1; i < txs.length; i++) {
    if (!isValid(txs[i] as TransferTx, txids[i])) {
      fail(ErrorCode.BAD_SIGNATURE, `transaction ${i} has an invalid signature`);
    }
  }
  return txids;
}

/**
 * Stateless checks of a transfer for the mempool: network, amount, signature.
 * Errors are not ban-worthy except a bad signature.
 *
 * @example
 * ```ts
 * checkTransfer(tx, params);
 * ```
 */
export function checkTransfer(tx: TransferTx, params: NetworkParams, verify = true): void {
  if (tx.network !== params.networkId) {
    fail(ErrorCode.WRONG_NETWORK, `transaction is for network ${tx.network}, not ${params.name}`, false);
  }
  if (tx.amount <= 0n) fail(ErrorCode.BAD_AMOUNT, `amount must be positive`, false);
  if (verify && !verifyTransferSignature(tx)) fail(ErrorCode.BAD_SIGNATURE, `invalid signature`);
}

function credit(view: StateView, publicKey: Uint8Array, amount: bigint): void {
  const account = getAccount(view, publicKey);
  const balance = account.balance + amount;
  if (balance > U64_MAX) fail(ErrorCode.OVERFLOW, `balance would exceed 2^64-1`, false);
  putAccount(view, publicKey, { balance, nonce: account.nonce });
}

/**
 * Apply one transfer to `view`: nonce, funds, overflow. Returns its fee. Failures are not
 * ban-worthy on their own (an honest peer can relay a transaction another one outdated);
 * {@link applyBlock} makes them so.
 *
 * @example
 * ```ts
 * const fee = applyTransfer(view, tx, params);
 * ```
 */
export function applyTransfer(view: StateView, tx: TransferTx, params: NetworkParams): bigint {
  checkTransfer(tx, params, false);
  const sender = getAccount(view, tx.sender);
  if (tx.nonce !== sender.nonce) {
    fail(ErrorCode.BAD_NONCE, `nonce ${tx.nonce} is not the account's next nonce ${sender.nonce}`, false);
  }
  if (sender.balance < tx.amount + tx.fee) {
    fail(
      ErrorCode.INSUFFICIENT_FUNDS,
      `balance ${sender.balance} is less than amount plus fee ${tx.amount + tx.fee}`,
      false,
    );
  }
  if (sender.nonce === U64_MAX) fail(ErrorCode.OVERFLOW, `account nonce is exhausted`, false);
  putAccount(view, tx.sender, { balance: sender.balance - tx.amount - tx.fee, nonce: sender.nonce + 1n });
  credit(view, tx.recipient, tx.amount);
  return tx.fee;
}

/**
 * Step 1 of applying block `height`: credit the coinbase of block height - coinbaseMaturity
 * to its recipient and delete its maturing entry (nothing on networks without maturity).
 *
 * @example
 * ```ts
 * matureReward(view, 11, DEVNET); // credits the coinbase of block 1
 * ```
 */
export function matureReward(view: StateView, height: number, params: NetworkParams): void {
  const m = params.coinbaseMaturity;
  if (m === 0 || height < m) return;
  const key = rewardKey(height - m);
  const value = view.get(key);
  if (value === undefined) return;
  const reward = decodeReward(value);
  view.set(key, undefined);
  credit(view, reward.recipient, reward.amount);
}

/**
 * Apply a block (already checked by {@link checkBlockBody}) to `view`: mature the reward of
 * block height - coinbaseMaturity, apply the transfers in order, check the coinbase amount
 * equals subsidy plus fees, then credit the coinbase (or park it until it matures). The
 * caller compares the resulting state root with header.stateRoot. Any failure bans the sender.
 *
 * @example
 * ```ts
 * applyBlock(view, block, params);
 * ```
 */
export function applyBlock(view: StateView, block: Block, params: NetworkParams): { fees: bigint } {
  try {
    const height = block.header.height;
    const m = params.coinbaseMaturity;
    matureReward(view, height, params);
    let fees = 0n;
    for (let i = 1; i < block.txs.length; i++) fees += applyTransfer(view, block.txs[i] as TransferTx, params);
    const coinbase = block.txs[0];
    if (coinbase.kind !== "coinbase") fail(ErrorCode.BAD_COINBASE, `first transaction is not a coinbase`);
    const expected = blockSubsidy(params, height) + fees;
    if (coinbase.amount !== expected) {
      fail(ErrorCode.BAD_COINBASE_AMOUNT, `coinbase pays ${coinbase.amount}, expected subsidy plus fees ${expected}`);
    }
    if (m === 0) credit(view, coinbase.recipient, coinbase.amount);
    else if (coinbase.amount > 0n) view.set(rewardKey(height), encodeReward(coinbase));
    return { fees };
  } catch (err) {
    if (err instanceof ValidationError && !err.ban) throw new ValidationError(err.code, err.message, { ban: true });
    throw err;
  }
}

/**
 * Heights of a block locator for a chain whose tip is at `tipHeight`: the last 10 one by
 * one, then doubling steps back, always ending with genesis (docs/protocol.md §13).
 *
 * @example
 * ```ts
 * locatorHeights(20); // [20, 19, ..., 11, 9, 5, 0]
 * ```
 */
export function locatorHeights(tipHeight: number): number[] {
  if (!Number.isInteger(tipHeight) || tipHeight < 0) {
    throw new RangeError(`Expected "tipHeight" >= 0, got ${tipHeight}`);
  }
  const heights: number[] = [];
  let step = 1;
  let h = tipHeight;
  while (h > 0) {
    heights.push(h);
    if (heights.length >= 10) step *= 2;
    h -= step;
  }
  heights.push(0);
  return heights;
}
