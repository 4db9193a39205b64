/**
 * The edgeledger protocol: canonical encodings, consensus rules, Merkle trees, keys, proof
 * of work, network parameters and wire messages. Pure: no I/O, no clock, no runtime APIs,
 * so full nodes, edge relays and light clients (in Deno, browsers and Workers) share it.
 *
 * @example
 * ```ts
 * import { DEVNET, genesisBlock, hashHeader, bytesToHex } from "./mod.ts";
 * bytesToHex(hashHeader(genesisBlock(DEVNET).header)) === DEVNET.genesisHash; // true
 * ```
 *
 * @module
 */

export * from "./bytes.ts";
export * from "./encoding.ts";
export * from "./errors.ts";
export * from "./hash.ts";
export * from "./merkle.ts";
export * from "./smt.ts";
export * from "./keys.ts";
export * from "./tx.ts";
export * from "./header.ts";
export * from "./block.ts";
export * from "./history.ts";
export * from "./pow.ts";
export * from "./params.ts";
export * from "./state.ts";
export * from "./validation.ts";
export * from "./header_chain.ts";
export * from "./amount.ts";
export * from "./json.ts";
export * from "./messages.ts";
