/**
 * Watch an address: print its verified balance now and every time a new tip changes it.
 *
 *   deno run -A examples/watch_address.ts --relay ws://127.0.0.1:8787/ws --network regtest ADDRESS
 *
 * One JSON line per change on stdout; stop with Ctrl-C.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LightClient } from "../light-client/mod.ts";
import { decodeAddress, formatAmount, getNetwork, type NetworkParams } from "../mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { relay: { type: "string", multiple: true }, network: { type: "string", default: "devnet" } },
});
const address = positionals[0] ?? "";
let params: NetworkParams;
try {
  if (!values.relay?.length) throw new Error("--relay is required");
  params = getNetwork(values.network);
  decodeAddress(address, params.addressPrefix); // malformed or another network's: throws
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  console.error("usage: watch_address.ts --relay ws://HOST:PORT/ws [--network NAME] ADDRESS");
  Deno.exit(2);
}

let client: LightClient;
try {
  client = await LightClient.connect({ relays: values.relay, network: params });
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  Deno.exit(1);
}
client.addEventListener("misbehavior", (e) => {
  const { relay, reason } = (e as CustomEvent<{ relay: string; reason: string }>).detail;
  console.error(`relay ${relay} misbehaved: ${reason}`);
});
client.watch(address, (account) => {
  console.log(JSON.stringify({
    address,
    height: account.height,
    balance: formatAmount(account.balance),
    nonce: account.nonce.toString(),
  }));
});
Deno.addSignalListener("SIGINT", () => {
  client.close();
  Deno.exit(0);
});
