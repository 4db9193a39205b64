/**
 * edgeledger: a proof-of-work ledger network that runs on the edge.
 *
 * This module is the public API for scripts. It exports the protocol core: canonical
 * encodings, consensus validation, RFC 6962 Merkle proofs, sparse Merkle account proofs,
 * BIP340 keys and bech32m addresses, proof of work with aserti3-2d, network parameters and
 * the wire messages spoken by nodes, relays and light clients.
 *
 * @example Verify that a transaction is in a block
 * ```ts
 * import { hashLeaf, hexToBytes, verifyInclusion } from "./mod.ts";
 *
 * const ok = verifyInclusion(hashLeaf(hexToBytes(txidHex)), index, size, proof, header.txRoot);
 * ```
 *
 * @example Make and sign a payment
 * ```ts
 * import { DEVNET, decodeAddress, encodeTx, generateSecretKey, signTransfer } from "./mod.ts";
 *
 * const secretKey = generateSecretKey();
 * const tx = signTransfer({
 *   network: DEVNET.networkId,
 *   recipient: decodeAddress("eld1...", DEVNET.addressPrefix),
 *   amount: 150_000_000n,
 *   fee: 1_000n,
 *   nonce: 0n,
 * }, secretKey);
 * const bytes = encodeTx(tx);
 * ```
 *
 * @module
 */

export * from "./protocol/mod.ts";
export {
  type AccountResult,
  LightClient,
  type LightClientOptions,
  type Misbehavior,
  RelayError,
  RelayUnavailableError,
  type SyncProgress,
  type Tip,
  type TransactionResult,
  VerificationError,
  type WebSocketFactory,
} from "./light-client/mod.ts";
