/**
 * Check a payment with nothing but relay URLs: is transaction TXID in a block on the verified
 * best chain, with how many confirmations, paying whom how much?
 *
 *   deno run -A examples/check_payment.ts --relay ws://127.0.0.1:8787/ws --network regtest TXID
 *
 * Exits 0 when the payment has at least --confirmations (default 1) verified confirmations,
 * 3 when it has fewer, 1 when verification failed or no relay answered, 2 on bad input.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LightClient } from "../light-client/mod.ts";
import { encodeAddress, formatAmount, getNetwork, type NetworkParams } from "../mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    relay: { type: "string", multiple: true },
    network: { type: "string", default: "devnet" },
    confirmations: { type: "string", default: "1" },
  },
});
const txid = positionals[0] ?? "";
const wanted = Number(values.confirmations);
let params: NetworkParams;
try {
  if (!values.relay?.length) throw new Error("--relay is required");
  if (!/^[0-9a-fA-F]{64}$/.test(txid)) throw new Error(`TXID must be 64 hex digits, got "${txid.slice(0, 80)}"`);
  if (!Number.isInteger(wanted) || wanted < 1) throw new Error("--confirmations must be a whole number from 1");
  params = getNetwork(values.network);
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  console.error("usage: check_payment.ts --relay ws://HOST:PORT/ws [--network NAME] [--confirmations N] TXID");
  Deno.exit(2);
}

let client: LightClient | undefined;
try {
  client = await LightClient.connect({ relays: values.relay, network: params });
  const r = await client.getTransaction(txid);
  const tx = r.tx;
  console.log(JSON.stringify(
    {
      txid: txid.toLowerCase(),
      confirmed: r.confirmed,
      confirmations: r.confirmations,
      height: r.height,
      blockHash: r.blockHash,
      to: tx && encodeAddress(tx.recipient, params.addressPrefix),
      amount: tx && formatAmount(tx.amount),
    },
    null,
    2,
  ));
  Deno.exitCode = r.confirmations >= wanted ? 0 : 3;
} catch (err) {
  // VerificationError: a relay lied; RelayUnavailableError: nobody answered.
  console.error(`error: ${(err as Error).message}`);
  Deno.exitCode = 1;
} finally {
  client?.close();
}
