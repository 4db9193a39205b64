/**
 * Valid header trees without blocks, for header-chain tests: a header only needs prevHash
 * linkage, its height, the required bits, a time above the median time past, the historyRoot
 * of its branch and PoW. Much faster than {@link TestChain} (no state tree), and any node can
 * be extended, so forks branch from any height.
 *
 * @module
 */

import { bytesToHex } from "../../protocol/bytes.ts";
import { type BlockHeader, hashHeader } from "../../protocol/header.ts";
import { HistoryAccumulator } from "../../protocol/history.ts";
import { genesisBlock, type NetworkParams, REGTEST } from "../../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../../protocol/pow.ts";
import { medianTime, nextBits } from "../../protocol/validation.ts";

/** A generated header and what its children are built from. */
export interface GenNode {
  /** The header. */
  readonly header: BlockHeader;
  /** Its hash. */
  readonly hash: Uint8Array;
  /** Hex of the hash. */
  readonly hex: string;
  /** Parent node; undefined at genesis. */
  readonly parent: GenNode | undefined;
  /** Accumulator over blocks 0..height of this branch (this block included): the child's historyRoot. */
  readonly history: HistoryAccumulator;
  /** Time of block 1 on this branch (undefined at genesis). */
  readonly anchorTime: number | undefined;
}

/** Options of {@link HeaderGen.child}. */
export interface ChildOptions {
  /** Header time; default parent time + idealBlockTimeMs. */
  time?: number;
  /** Fields to force (applied before mining, so PoW still holds unless `badPow`). */
  overrides?: Partial<BlockHeader>;
  /** Pick a nonce whose hash does NOT meet the target. */
  badPow?: boolean;
}

/** Find a nonce for `header` whose hash meets its target (or, with `bad`, does not). */
export function mineHeader(header: BlockHeader, bad = false): BlockHeader {
  const target = bitsToTarget(header.bits);
  const h = { ...header, nonce: 0n };
  while (hashMeetsTarget(hashHeader(h), target) === bad) h.nonce++;
  return h;
}

/** Generator of valid header trees rooted at the genesis of `params`. */
export class HeaderGen {
  /** Network parameters. */
  readonly params: NetworkParams;
  /** The genesis node. */
  readonly genesis: GenNode;
  #salt = 0;

  /** Start at the genesis block of `params` (regtest by default). */
  constructor(params: NetworkParams = REGTEST) {
    this.params = params;
    const header = genesisBlock(params).header;
    const hash = hashHeader(header);
    const history = new HistoryAccumulator();
    history.append(hash);
    this.genesis = { header, hash, hex: bytesToHex(hash), parent: undefined, history, anchorTime: undefined };
  }

  /** Median of the times of the last medianTimeSpan blocks ending at `node`. */
  medianTimePast(node: GenNode): number {
    const times: number[] = [];
    for (
      let n: GenNode | undefined = node;
      n !== undefined && times.length < this.params.medianTimeSpan;
      n = n.parent
    ) {
      times.push(n.header.time);
    }
    return medianTime(times);
  }

  /** The bits a child of `parent` must carry. */
  bitsAfter(parent: GenNode): number {
    return nextBits(this.params, parent.header, parent.anchorTime);
  }

  /** A mined child of `parent`: valid unless `options` say otherwise. Each child gets a unique txRoot. */
  child(parent: GenNode, options: ChildOptions = {}): GenNode {
    const salt = new Uint8Array(32);
    new DataView(salt.buffer).setUint32(0, ++this.#salt);
    const draft: BlockHeader = {
      version: 1,
      height: parent.header.height + 1,
      prevHash: parent.hash,
      txRoot: salt,
      stateRoot: new Uint8Array(32),
      historyRoot: parent.history.root(),
      time: options.time ?? parent.header.time + this.params.idealBlockTimeMs,
      bits: this.bitsAfter(parent),
      nonce: 0n,
      ...options.overrides,
    };
    const header = mineHeader(draft, options.badPow);
    const hash = hashHeader(header);
    const history = parent.history.clone();
    history.append(hash);
    const anchorTime = header.height === 1 ? header.time : parent.anchorTime;
    return { header, hash, hex: bytesToHex(hash), parent, history, anchorTime };
  }

  /** `n` valid children in a line after `parent`, `step` ms apart (default idealBlockTimeMs). */
  extend(parent: GenNode, n: number, step: number = this.params.idealBlockTimeMs): GenNode[] {
    const out: GenNode[] = [];
    let p = parent;
    for (let i = 0; i < n; i++) {
      p = this.child(p, { time: p.header.time + step });
      out.push(p);
    }
    return out;
  }
}

/** The branch ending at `node`, oldest first, from genesis (or from just after `after`). */
export function branchOf(node: GenNode, after?: GenNode): GenNode[] {
  const out: GenNode[] = [];
  for (let n: GenNode | undefined = node; n !== undefined && n !== after; n = n.parent) out.push(n);
  return out.reverse();
}

/** The headers of `nodes`. */
export function headersOf(nodes: readonly GenNode[]): BlockHeader[] {
  return nodes.map((n) => n.header);
}
