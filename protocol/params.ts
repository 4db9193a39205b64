/**
 * Network parameters as data (docs/protocol.md §12). Consensus code reads every constant
 * from here; nothing is scattered through the code.
 *
 * @module
 */

import { hexToBytes, ZERO_HASH } from "./bytes.ts";
import type { Block } from "./block.ts";
import { computeTxRoot } from "./block.ts";
import type { BlockHeader } from "./header.ts";
import { sha256 } from "./hash.ts";
import { type CoinbaseTx, txId } from "./tx.ts";

/** Names of the built-in networks. */
export type NetworkName = "devnet" | "regtest";

/** Everything that distinguishes one network from another. */
export interface NetworkParams {
  /** Network name. */
  readonly name: NetworkName;
  /** u32 id inside every transaction (no cross-network replay). */
  readonly networkId: number;
  /** bech32m human-readable prefix of addresses. */
  readonly addressPrefix: string;
  /** Base units per coin (8 decimals). */
  readonly coin: bigint;
  /** Compact form of the easiest allowed target. */
  readonly powLimitBits: number;
  /** false: every block uses powLimitBits (regtest); true: aserti3-2d. */
  readonly retarget: boolean;
  /** aserti3-2d target spacing, ms. */
  readonly idealBlockTimeMs: number;
  /** aserti3-2d half-life, ms. */
  readonly halfLifeMs: number;
  /** Subsidy of the first halving era, base units. */
  readonly initialSubsidy: bigint;
  /** Blocks per halving era. */
  readonly halvingInterval: number;
  /** Blocks before a coinbase can be spent (0: at once). */
  readonly coinbaseMaturity: number;
  /** How far a header's time may run ahead of the local clock, ms. */
  readonly maxFutureDriftMs: number;
  /** Number of previous blocks whose median time a new block must exceed. */
  readonly medianTimeSpan: number;
  /** Largest encoded block. */
  readonly maxBlockBytes: number;
  /** Most transactions per block, coinbase included. */
  readonly maxBlockTxs: number;
  /** Largest wire message (one WebSocket text frame). */
  readonly maxMessageBytes: number;
  /** Default TCP port of a full node. */
  readonly defaultPort: number;
  /** The genesis block's chosen fields. */
  readonly genesis: { readonly time: number; readonly bits: number; readonly nonce: bigint; readonly message: string };
  /** Hex of the genesis block hash, checked by a test against {@link genesisBlock}. */
  readonly genesisHash: string;
}

const COIN = 100_000_000n;

/** devnet: the default network of `deno task node`; about one block every 10 s on one laptop core. */
export const DEVNET: NetworkParams = Object.freeze({
  name: "devnet",
  networkId: 0x454c_4401,
  addressPrefix: "eld",
  coin: COIN,
  powLimitBits: 0x2000ffff,
  retarget: true,
  idealBlockTimeMs: 10_000,
  halfLifeMs: 600_000,
  initialSubsidy: 50n * COIN,
  halvingInterval: 210_000,
  coinbaseMaturity: 10,
  maxFutureDriftMs: 600_000,
  medianTimeSpan: 11,
  maxBlockBytes: 1_000_000,
  maxBlockTxs: 6_000,
  maxMessageBytes: 3 * 1024 * 1024,
  defaultPort: 7700,
  genesis: Object.freeze({
    time: Date.UTC(2026, 10, 25),
    bits: 0x1d500000,
    nonce: 84175482n,
    message: "edgeledger devnet genesis 2026-11-25",
  }),
  genesisHash: "0000003dfb22067ae3520f53bb467a4223b956830291b320a4b12843739a27b1",
});

/** regtest: trivial fixed difficulty and spendable coinbases, for tests. */
export const REGTEST: NetworkParams = Object.freeze({
  name: "regtest",
  networkId: 0x454c_5201,
  addressPrefix: "elr",
  coin: COIN,
  powLimitBits: 0x207fffff,
  retarget: false,
  idealBlockTimeMs: 1_000,
  halfLifeMs: 3_600_000,
  initialSubsidy: 50n * COIN,
  halvingInterval: 150,
  coinbaseMaturity: 0,
  maxFutureDriftMs: 600_000,
  medianTimeSpan: 11,
  maxBlockBytes: 1_000_000,
  maxBlockTxs: 6_000,
  maxMessageBytes: 3 * 1024 * 1024,
  defaultPort: 7700,
  genesis: Object.freeze({
    time: Date.UTC(2026, 10, 25),
    bits: 0x207fffff,
    nonce: 2n,
    message: "edgeledger regtest genesis 2026-11-25",
  }),
  genesisHash: "4242838b652ca7d087689e053109b56b0fc47dfdc7c3dd4baa75de323217ec9d",
});

/** The built-in networks by name. */
export const NETWORKS: Readonly<Record<NetworkName, NetworkParams>> = Object.freeze({
  devnet: DEVNET,
  regtest: REGTEST,
});

/**
 * Look up a network by name; throws `RangeError` naming the known networks.
 *
 * @example
 * ```ts
 * const params = getNetwork("regtest");
 * ```
 */
export function getNetwork(name: string): NetworkParams {
  if (!Object.hasOwn(NETWORKS, name)) {
    throw new RangeError(`Unknown network "${name}"; expected one of ${Object.keys(NETWORKS).join(", ")}`);
  }
  return NETWORKS[name as NetworkName];
}

/**
 * The genesis block, built from the network's chosen fields. Its coinbase pays nothing and
 * its transactions are not applied: the state after genesis is empty (stateRoot zero).
 *
 * @example
 * ```ts
 * const genesis = genesisBlock(DEVNET);
 * ```
 */
export function genesisBlock(params: NetworkParams): Block {
  const coinbase: CoinbaseTx = {
    kind: "coinbase",
    network: params.networkId,
    height: 0,
    recipient: ZERO_HASH.slice(),
    amount: 0n,
    extra: new TextEncoder().encode(params.genesis.message),
  };
  const header: BlockHeader = {
    version: 1,
    height: 0,
    prevHash: ZERO_HASH.slice(),
    txRoot: computeTxRoot([txId(coinbase)]),
    stateRoot: ZERO_HASH.slice(),
    historyRoot: sha256(new Uint8Array(0)),
    time: params.genesis.time,
    bits: params.genesis.bits,
    nonce: params.genesis.nonce,
  };
  return { header, txs: [coinbase] };
}

/**
 * The genesis hash of a network as bytes.
 *
 * @example
 * ```ts
 * genesisHash(DEVNET).length; // 32
 * ```
 */
export function genesisHash(params: NetworkParams): Uint8Array {
  return hexToBytes(params.genesisHash, "genesisHash");
}

/**
 * Block subsidy at `height`: initialSubsidy halved every halvingInterval blocks.
 *
 * @example
 * ```ts
 * blockSubsidy(DEVNET, 1); // 5_000_000_000n
 * ```
 */
export function blockSubsidy(params: NetworkParams, height: number): bigint {
  const era = Math.floor(height / params.halvingInterval);
  return era >= 64 ? 0n : params.initialSubsidy >> BigInt(era);
}
