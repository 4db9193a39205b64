/**
 * An in-memory regtest chain for tests: builds, mines and validates blocks with the pure
 * protocol functions, keeping state in a sparse Merkle tree.
 *
 * @module
 */

import { type Block, encodeBlock } from "../../protocol/block.ts";
import { computeTxRoot } from "../../protocol/block.ts";
import { type BlockHeader, hashHeader } from "../../protocol/header.ts";
import { HistoryAccumulator } from "../../protocol/history.ts";
import { blockSubsidy, genesisBlock, type NetworkParams, REGTEST } from "../../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../../protocol/pow.ts";
import { SparseMerkleTree } from "../../protocol/smt.ts";
import { MapStateView, TreeStateView } from "../../protocol/state.ts";
import { type CoinbaseTx, type TransferTx, txId } from "../../protocol/tx.ts";
import { applyBlock, checkBlockBody, checkHeader, medianTime, nextBits } from "../../protocol/validation.ts";
import { equalBytes, hexToBytes } from "../../protocol/bytes.ts";

/** Build a tree holding the entries of a MapStateView. */
function treeOf(view: MapStateView): SparseMerkleTree {
  const tree = new SparseMerkleTree();
  for (const [k, v] of view.entries) tree.set(hexToBytes(k), v);
  return tree;
}

function copyView(view: MapStateView): MapStateView {
  const out = new MapStateView();
  for (const [k, v] of view.entries) out.entries.set(k, v);
  return out;
}

/** A chain held in memory. */
export class TestChain {
  readonly params: NetworkParams;
  readonly blocks: Block[] = [];
  readonly hashes: Uint8Array[] = [];
  state: MapStateView = new MapStateView();
  readonly history: HistoryAccumulator[] = [];

  constructor(params: NetworkParams = REGTEST) {
    this.params = params;
    const genesis = genesisBlock(params);
    this.blocks.push(genesis);
    this.hashes.push(hashHeader(genesis.header));
    this.history.push(new HistoryAccumulator());
  }

  get tip(): BlockHeader {
    return this.blocks[this.blocks.length - 1].header;
  }

  get height(): number {
    return this.tip.height;
  }

  /** Root over hashes of blocks 0..height (the historyRoot the next block must carry). */
  nextHistory(): HistoryAccumulator {
    const acc = this.history[this.history.length - 1].clone();
    acc.append(this.hashes[this.hashes.length - 1]);
    return acc;
  }

  medianTimePast(): number {
    const times = this.blocks.slice(-this.params.medianTimeSpan).map((b) => b.header.time);
    return medianTime(times);
  }

  /** A valid, mined next block paying the coinbase to `miner`. */
  build(options: { miner: Uint8Array; txs?: TransferTx[]; time?: number; extra?: Uint8Array }): Block {
    const height = this.height + 1;
    const txs = options.txs ?? [];
    const fees = txs.reduce((sum, tx) => sum + tx.fee, 0n);
    const coinbase: CoinbaseTx = {
      kind: "coinbase",
      network: this.params.networkId,
      height,
      recipient: options.miner,
      amount: blockSubsidy(this.params, height) + fees,
      extra: options.extra ?? new Uint8Array(0),
    };
    const block: Block = {
      header: {
        version: 1,
        height,
        prevHash: this.hashes[this.hashes.length - 1],
        txRoot: computeTxRoot([coinbase, ...txs].map(txId)),
        stateRoot: new Uint8Array(32),
        historyRoot: this.nextHistory().root(),
        time: options.time ?? Math.max(this.tip.time + 1000, this.medianTimePast() + 1),
        bits: nextBits(this.params, this.tip, this.blocks[1]?.header.time),
        nonce: 0n,
      },
      txs: [coinbase, ...txs],
    };
    const scratch = copyView(this.state);
    try {
      applyBlock(scratch, block, this.params);
      block.header.stateRoot = treeOf(scratch).root();
    } catch {
      // An invalid block, built on purpose by a test: leave stateRoot zero.
    }
    mine(block.header);
    return block;
  }

  /** Validate `block` fully against the tip; throws ValidationError. Returns the new state. */
  validate(block: Block, now = Date.now()): MapStateView {
    const hash = hashHeader(block.header);
    checkHeader(
      block.header,
      {
        parent: this.tip,
        parentHash: this.hashes[this.hashes.length - 1],
        medianTimePast: this.medianTimePast(),
        historyRoot: this.nextHistory().root(),
        now,
        anchorTime: this.blocks[1]?.header.time,
      },
      this.params,
      hash,
    );
    checkBlockBody(block, this.params, { size: encodeBlock(block).length });
    const scratch = copyView(this.state);
    applyBlock(scratch, block, this.params);
    const tree = treeOf(scratch);
    if (!equalBytes(tree.root(), block.header.stateRoot)) {
      throw Object.assign(new Error("state root mismatch"), { code: "BAD_STATE_ROOT" });
    }
    return scratch;
  }

  /** Validate and append. */
  connect(block: Block, now = Date.now()): void {
    this.state = this.validate(block, now);
    this.history.push(this.nextHistory());
    this.blocks.push(block);
    this.hashes.push(hashHeader(block.header));
  }

  /** Build and connect. */
  mine(options: { miner: Uint8Array; txs?: TransferTx[]; time?: number }): Block {
    const block = this.build(options);
    this.connect(block);
    return block;
  }

  /** The sparse Merkle tree of the current state. */
  tree(): SparseMerkleTree {
    return treeOf(this.state);
  }

  /** View usable by protocol functions (a copy; writes do not change the chain). */
  view(): TreeStateView {
    return new TreeStateView(this.tree());
  }
}

/** Find a nonce meeting the header's bits (fast on regtest). */
export function mine(header: BlockHeader): void {
  const target = bitsToTarget(header.bits);
  for (header.nonce = 0n;; header.nonce++) {
    if (hashMeetsTarget(hashHeader(header), target)) return;
  }
}
