/**
 * Send a payment through a relay: sign it locally with a key file made by
 * `deno task wallet new --file alice.key`, take the nonce from a verified account proof,
 * submit it, and wait until it is confirmed on the verified best chain.
 *
 *   deno run -A examples/send_payment.ts --relay ws://127.0.0.1:8787/ws --network regtest --key alice.key --to ADDRESS --amount 1.5
 *
 * Prints one JSON line with the txid and the height of the block that confirmed it. One
 * payment per block from a key: the nonce is the confirmed one. Exits 2 on bad input, 1 when
 * the payment could not be made or verified.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LightClient } from "../light-client/mod.ts";
import {
  decodeAddress,
  encodeAddress,
  formatAmount,
  getNetwork,
  hexToBytes,
  parseAmount,
  publicKeyFromSecret,
  signTransfer,
} from "../mod.ts";

const USAGE =
  "usage: send_payment.ts --relay URL --key FILE --to ADDRESS --amount COINS [--fee COINS] [--network NAME]";

function parseInput() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      relay: { type: "string", multiple: true },
      network: { type: "string", default: "devnet" },
      key: { type: "string" },
      to: { type: "string" },
      amount: { type: "string" },
      fee: { type: "string", default: "0.0001" },
      "no-wait": { type: "boolean" },
    },
  });
  if (!values.relay?.length || !values.key || !values.to || !values.amount) {
    throw new Error("--relay, --key, --to and --amount are required");
  }
  const params = getNetwork(values.network);
  return {
    relays: values.relay,
    params,
    key: values.key,
    to: values.to,
    recipient: decodeAddress(values.to, params.addressPrefix), // malformed or another network's: throws
    amount: parseAmount(values.amount),
    fee: parseAmount(values.fee),
    wait: !values["no-wait"],
  };
}

let input: ReturnType<typeof parseInput>;
try {
  input = parseInput();
} catch (err) {
  console.error(`error: ${(err as Error).message}\n${USAGE}`);
  Deno.exit(2);
}
const { params, amount, fee } = input;

let client: LightClient | undefined;
try {
  // The key file format of `deno task wallet new`: { "type": "edgeledger-secret-key", "secretKey": "<hex>" }.
  const secretKey = hexToBytes(JSON.parse(await Deno.readTextFile(input.key)).secretKey, "secretKey");
  const from = encodeAddress(publicKeyFromSecret(secretKey), params.addressPrefix);
  client = await LightClient.connect({ relays: input.relays, network: params });
  const sender = await client.getAccount(from); // verified against the tip's stateRoot
  if (sender.balance < amount + fee) {
    throw new Error(`insufficient funds: ${from} has ${formatAmount(sender.balance)}`);
  }
  const tx = signTransfer({
    network: params.networkId,
    recipient: input.recipient,
    amount,
    fee,
    nonce: sender.nonce,
  }, secretKey);
  const txid = await client.sendTransaction(tx);
  console.error(`sent ${formatAmount(amount)} from ${from} to ${input.to}: ${txid}`);
  // Re-check at every new verified tip (or every 10 s) until a proof of inclusion verifies.
  const c = client;
  const nextTip = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      c.addEventListener("tip", () => (clearTimeout(timer), resolve()), { once: true });
    });
  let height: number | undefined;
  while (input.wait && height === undefined) {
    await nextTip();
    height = (await client.getTransaction(txid)).height;
  }
  const nonce = tx.nonce.toString();
  console.log(JSON.stringify({ txid, from, to: input.to, amount: formatAmount(amount), nonce, height }));
} catch (err) {
  // VerificationError: a relay lied; RelayUnavailableError: nobody answered; RelayError: refused.
  console.error(`error: ${(err as Error).message}`);
  Deno.exitCode = 1;
} finally {
  client?.close();
}
