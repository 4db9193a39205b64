/**
 * `deno task wallet`: keys, balances and payments against a full node's HTTP API.
 *
 * Every command prints one JSON object on stdout and exits 0. A command-line mistake (bad
 * flag, missing argument, bad address or amount) prints one `error: ...` line on stderr and
 * exits 2; anything that goes wrong at run time (key file, node unreachable, insufficient
 * funds, transaction refused) prints one `error: ...` line and exits 1.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import { formatAmount, parseAmount } from "../protocol/amount.ts";
import { bytesToHex } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { bech32mDecode, decodeAddress, encodeAddress } from "../protocol/keys.ts";
import { getNetwork, type NetworkParams, NETWORKS } from "../protocol/params.ts";
import { encodeTx, signTransfer, txId } from "../protocol/tx.ts";
import { createKeyFile, readKeyFile } from "./keyfile.ts";

const DEFAULT_NODE = "http://127.0.0.1:7700";
const DEFAULT_FEE = "0.0001";
const REQUEST_TIMEOUT_MS = 30_000;

const HELP = `Usage: deno task wallet <command> [options]

Keys, balances and payments against an edgeledger full node.

Commands:
  new       create a key file and print its address
  address   print the address of a key file
  balance   print the balance of an address
  send      sign a payment and submit it to a node

Run "deno task wallet <command> --help" for a command's options.
Amounts are whole coins with up to 8 decimals, like 1.5.
Exit codes: 0 success, 1 runtime error (node, key file, funds), 2 command-line mistake.`;

const COMMAND_HELP: Record<Command, string> = {
  new: `Usage: deno task wallet new --file FILE [--network NAME]

Create a key file (mode 0600; an existing file is never overwritten) and print its address.

Options:
  --file FILE       key file to create
  --network NAME    devnet (default) or regtest; only the printed address depends on it
  -h, --help        show this help`,
  address: `Usage: deno task wallet address --file FILE [--network NAME]

Print the address of a key file.

Options:
  --file FILE       key file to read
  --network NAME    devnet (default) or regtest
  -h, --help        show this help`,
  balance: `Usage: deno task wallet balance ADDRESS [--node URL]

Print the confirmed balance, nonce and pending transactions of ADDRESS. The network is the
node's; an address of another network is refused.

Options:
  --node URL        node HTTP API (default ${DEFAULT_NODE})
  -h, --help        show this help`,
  send: `Usage: deno task wallet send --file FILE --to ADDRESS --amount AMOUNT [--fee FEE] [--node URL]

Sign a payment from the key in FILE and submit it to the node. The network and the nonce come
from the node; the payment is refused here when the balance does not cover amount plus fee.

Options:
  --file FILE       sender's key file
  --to ADDRESS      recipient
  --amount AMOUNT   coins to send, like 1.5
  --fee FEE         coins paid to the miner (default ${DEFAULT_FEE})
  --node URL        node HTTP API (default ${DEFAULT_NODE})
  -h, --help        show this help`,
};

const COMMANDS = ["new", "address", "balance", "send"] as const;
type Command = typeof COMMANDS[number];

/** A command-line mistake: one line on stderr, exit code 2. */
class UsageError extends Error {}

/** A failure at run time (key file, node, funds): one line on stderr, exit code 1. */
class WalletError extends Error {}

type Json = Record<string, unknown>;

async function main(args: string[]): Promise<number> {
  try {
    const out = await run(args);
    console.log(typeof out === "string" ? out : JSON.stringify(out, null, 2));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${oneLine(err.message)} (see --help)`);
      return 2;
    }
    console.error(`error: ${oneLine((err as Error).message)}`);
    return 1;
  }
}

/** Run one command; returns the help text or the JSON result. */
function run(args: string[]): Promise<Json | string> | string {
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError("missing command: new, address, balance or send");
  if (first === "-h" || first === "--help") return HELP;
  if (first.startsWith("-")) throw new UsageError(`expected a command before "${clip(first)}"`);
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command "${clip(first)}"; expected new, address, balance or send`);
  }
  const command = first as Command;
  switch (command) {
    case "new": {
      const { values: v, help } = parse(rest, { file: { type: "string" }, network: { type: "string" } }, 0);
      if (help) return COMMAND_HELP.new;
      return newKey(required(v.file, "--file"), network(v.network));
    }
    case "address": {
      const { values: v, help } = parse(rest, { file: { type: "string" }, network: { type: "string" } }, 0);
      if (help) return COMMAND_HELP.address;
      return showAddress(required(v.file, "--file"), network(v.network));
    }
    case "balance": {
      const { values: v, positionals, help } = parse(rest, { node: { type: "string" } }, 1);
      if (help) return COMMAND_HELP.balance;
      if (positionals.length === 0) throw new UsageError("balance: missing ADDRESS");
      return balance(positionals[0], nodeUrl(v.node));
    }
    case "send": {
      const { values: v, help } = parse(rest, {
        file: { type: "string" },
        to: { type: "string" },
        amount: { type: "string" },
        fee: { type: "string" },
        node: { type: "string" },
      }, 0);
      if (help) return COMMAND_HELP.send;
      const amount = amountArg(required(v.amount, "--amount"), "--amount");
      if (amount === 0n) throw new UsageError("--amount: must be more than 0");
      return send({
        file: required(v.file, "--file"),
        to: required(v.to, "--to"),
        amount,
        fee: amountArg(v.fee ?? DEFAULT_FEE, "--fee"),
        node: nodeUrl(v.node),
      });
    }
  }
}

// ---- command-line parsing -----------------------------------------------------------

type StringOptions = Record<string, { type: "string" }>;

interface Parsed {
  /** Values of the string options. */
  values: Record<string, string | undefined>;
  /** Positional arguments. */
  positionals: string[];
  /** Whether -h or --help was given. */
  help: boolean;
}

function parse(args: string[], options: StringOptions, maxPositionals: number): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { help, ...values } = parsed.values as Record<string, string | undefined> & { help?: boolean };
  if (!help && parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument "${clip(parsed.positionals[maxPositionals])}"`);
  }
  return { values, positionals: parsed.positionals, help: help ?? false };
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`missing ${flag}`);
  return value;
}

function network(name: string | undefined): NetworkParams {
  try {
    return getNetwork(name ?? "devnet");
  } catch (err) {
    throw new UsageError(`--network: ${(err as Error).message}`);
  }
}

function nodeUrl(value: string | undefined): string {
  const text = value ?? DEFAULT_NODE;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--node: "${clip(text)}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--node: "${clip(text)}" must start with http:// or https://`);
  }
  return url.href.replace(/\/+$/, "");
}

function amountArg(text: string, flag: string): bigint {
  try {
    return parseAmount(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

/**
 * Check an address's encoding before asking the node anything: a malformed address or a bad
 * checksum is a command-line mistake whatever network the node is on.
 */
function checkAddressSyntax(address: string, what: string): void {
  let prefix: string;
  try {
    prefix = bech32mDecode(address).prefix;
  } catch (err) {
    const message = err instanceof ValidationError ? err.message : `not a valid address: ${(err as Error).message}`;
    throw new UsageError(`${what}: ${message}`);
  }
  const known = Object.values(NETWORKS).find((p) => p.addressPrefix === prefix);
  if (known === undefined) {
    const prefixes = Object.values(NETWORKS).map((p) => `"${p.addressPrefix}" (${p.name})`).join(", ");
    throw new UsageError(`${what}: address prefix "${clip(prefix)}" is not one of ${prefixes}`);
  }
  addressFor(address, known, what);
}

/** Decode `address` for `params`; a wrong prefix, length or checksum is a usage error. */
function addressFor(address: string, params: NetworkParams, what: string): Uint8Array {
  try {
    return decodeAddress(address, params.addressPrefix);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const hint = err.code === ErrorCode.WRONG_NETWORK ? ` (the node is on ${params.name})` : "";
    throw new UsageError(`${what}: ${err.message}${hint}`);
  }
}

// ---- node API -----------------------------------------------------------------------

const units = z.string().regex(/^\d{1,20}$/, "expected a decimal integer").transform((s) => BigInt(s));

const StatusReply = z.object({ network: z.string(), height: z.number().int().nonnegative() });
const AccountReply = z.object({
  balance: units,
  nonce: units,
  nextNonce: units,
  pendingTxs: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
});
const TxReply = z.object({ txid: z.string().regex(/^[0-9a-f]{64}$/) });
const ErrorReply = z.object({ error: z.string(), code: z.string() });

/** One HTTP request to the node; connection failures and non-JSON answers become {@link WalletError}. */
async function request(node: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const what = `${init.method ?? "GET"} ${node}${path}`;
  let res: Response;
  try {
    res = await fetch(node + path, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    if ((err as Error).name === "TimeoutError") {
      throw new WalletError(`${what}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`);
    }
    const cause = (err as Error).cause instanceof Error ? `: ${((err as Error).cause as Error).message}` : "";
    throw new WalletError(`cannot reach the node at ${node}: ${(err as Error).message}${cause}`);
  }
  const text = await res.text().catch((err) => {
    throw new WalletError(`${what}: reading the answer failed: ${(err as Error).message}`);
  });
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new WalletError(`${what}: HTTP ${res.status} with a body that is not JSON: ${JSON.stringify(clip(text))}`);
  }
}

/** Validate a successful JSON answer against `schema`, or report the node's `{ error, code }`. */
function expect<T>(reply: { status: number; body: unknown }, ok: number, schema: z.ZodType<T>, what: string): T {
  if (reply.status !== ok) {
    const err = ErrorReply.safeParse(reply.body);
    const detail = err.success ? `${err.data.error} (${err.data.code})` : `HTTP ${reply.status}`;
    throw new WalletError(`${what}: ${detail}`);
  }
  const parsed = schema.safeParse(reply.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WalletError(`${what}: unexpected answer: ${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  return parsed.data;
}

async function nodeNetwork(node: string): Promise<NetworkParams> {
  const status = expect(await request(node, "/status"), 200, StatusReply, `GET ${node}/status`);
  try {
    return getNetwork(status.network);
  } catch {
    throw new WalletError(
      `the node at ${node} is on network "${clip(status.network)}", which this wallet does not know`,
    );
  }
}

async function account(node: string, address: string): Promise<z.infer<typeof AccountReply>> {
  const path = `/account/${encodeURIComponent(address)}`;
  return expect(await request(node, path), 200, AccountReply, `GET ${node}${path}`);
}

// ---- commands -----------------------------------------------------------------------

async function newKey(file: string, params: NetworkParams): Promise<Json> {
  const { publicKey } = await wrap(createKeyFile(file));
  return { address: encodeAddress(publicKey, params.addressPrefix), network: params.name, file };
}

async function showAddress(file: string, params: NetworkParams): Promise<Json> {
  const { publicKey } = await wrap(readKeyFile(file));
  return { address: encodeAddress(publicKey, params.addressPrefix), network: params.name, file };
}

async function balance(address: string, node: string): Promise<Json> {
  checkAddressSyntax(address, "ADDRESS");
  const params = await nodeNetwork(node);
  addressFor(address, params, "ADDRESS");
  // bech32m allows an all-uppercase spelling; print the canonical lowercase one.
  const canonical = address.toLowerCase();
  const a = await account(node, canonical);
  return {
    address: canonical,
    balance: formatAmount(a.balance),
    balanceUnits: a.balance.toString(),
    nonce: a.nonce.toString(),
    pendingTxs: a.pendingTxs,
    height: a.height,
  };
}

async function send(o: { file: string; to: string; amount: bigint; fee: bigint; node: string }): Promise<Json> {
  checkAddressSyntax(o.to, "--to");
  const key = await wrap(readKeyFile(o.file));
  const params = await nodeNetwork(o.node);
  const recipient = addressFor(o.to, params, "--to");
  const from = encodeAddress(key.publicKey, params.addressPrefix);
  const sender = await account(o.node, from);
  // The confirmed balance; pending spends are checked again by the node's mempool.
  const need = o.amount + o.fee;
  if (sender.balance < need) {
    throw new WalletError(`insufficient funds: balance ${formatAmount(sender.balance)}, need ${formatAmount(need)}`);
  }
  const tx = signTransfer({
    network: params.networkId,
    recipient,
    amount: o.amount,
    fee: o.fee,
    nonce: sender.nextNonce,
  }, key.secretKey);
  const reply = await request(o.node, "/tx", {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: bytesToHex(encodeTx(tx)),
  });
  const accepted = expect(reply, 202, TxReply, "the node refused the transaction");
  const txid = bytesToHex(txId(tx));
  if (accepted.txid !== txid) throw new WalletError(`the node answered txid ${accepted.txid}, expected ${txid}`);
  return {
    txid,
    from,
    to: o.to.toLowerCase(),
    amount: formatAmount(o.amount),
    fee: formatAmount(o.fee),
    nonce: tx.nonce.toString(),
  };
}

/** Key-file errors already name the file; make them runtime errors. */
async function wrap<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    throw new WalletError((err as Error).message);
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
