/**
 * edgeledger light client: verify headers, payments and balances without the chain, talking
 * only to relays it does not trust. Runs in Deno, browsers and Workers.
 *
 * @example Check a balance and a payment
 * ```ts
 * import { LightClient } from "./light-client/mod.ts";
 *
 * const client = await LightClient.connect({ relays: ["wss://relay.example/ws"], network: "devnet" });
 * const { balance, height } = await client.getAccount("eld1...");
 * const { confirmed, confirmations } = await client.getTransaction("ab12...");
 * client.close();
 * ```
 *
 * @module
 */

export {
  type AccountResult,
  LightClient,
  type LightClientOptions,
  type Misbehavior,
  type SyncProgress,
  type Tip,
  type TransactionResult,
} from "./client.ts";
export { RelayError, RelayUnavailableError, VerificationError } from "./errors.ts";
export {
  type Checkpoint,
  type CheckpointJson,
  HeaderChain,
  type HeaderChange,
  type HeaderEntry,
  type HeaderStore,
  MemoryHeaderStore,
  type SavedHeaders,
} from "../protocol/header_chain.ts";
export type { WebSocketFactory } from "./connection.ts";
export type { NetworkName, NetworkParams } from "../protocol/params.ts";
