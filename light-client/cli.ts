/**
 * `deno task light`: ask untrusted relays about the chain and print only verified answers.
 *
 * Every command prints one JSON object on stdout. Exit codes: 0 for a verified answer; 1 when
 * an answer failed verification or no relay answered (one `error: ...` line on stderr); 2 for
 * a command-line mistake (bad flag, malformed txid or address, address of another network,
 * bad checkpoint); 3 from `tx` when the transaction is not confirmed on the verified best
 * chain (the JSON still says so, and whether a relay has it pending).
 *
 * @example
 * ```sh
 * deno task light balance elr1... --relay ws://127.0.0.1:8787/ws --network regtest
 * ```
 *
 * @module
 */

import { headerToJson } from "../protocol/json.ts";
import { parseArgs } from "node:util";
import { formatAmount } from "../protocol/amount.ts";
import { bytesToHex } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { type BlockHeader, encodeHeader, hashHeader } from "../protocol/header.ts";
import { bech32mDecode, decodeAddress, encodeAddress } from "../protocol/keys.ts";
import { getNetwork, type NetworkParams, NETWORKS } from "../protocol/params.ts";
import { type Transaction, txId } from "../protocol/tx.ts";
import { LightClient, type SyncProgress, type Tip } from "./client.ts";
import { RelayError } from "./errors.ts";
import { fileHeaderStore } from "./storage_deno.ts";

const COMMON_OPTIONS = `Options:
  --relay URL            a relay's (or node's) ws:// or wss:// endpoint; repeatable, at least one
  --network NAME         devnet (default) or regtest
  --checkpoint H:HASH    start from the block at height H with this hash instead of genesis
  --store FILE           keep verified headers in FILE (JSON) so the next run starts from them
  --timeout SECONDS      per-request timeout (default 10)
  -h, --help             show this help`;

const HELP = `Usage: deno task light <command> [arguments] --relay URL... [options]

Verified answers about the edgeledger chain from relays you do not trust: every header is
checked by the consensus rules, every transaction and balance by a Merkle proof.

Commands:
  tip               the verified best tip
  tx TXID           whether a transaction is confirmed on the best chain, with its proof checked
  balance ADDRESS   balance and nonce of an address, proven against the tip's stateRoot
  header HEIGHT     the best-chain header at HEIGHT (proven through history when old)
  sync              sync headers (progress bar on a terminal) and print the tip

${COMMON_OPTIONS}

Run "deno task light <command> --help" for a command.
Exit codes: 0 verified answer, 1 verification failed or no relay answered, 2 command-line
mistake, 3 transaction not confirmed (tx only).`;

const COMMANDS = ["tip", "tx", "balance", "header", "sync"] as const;
type Command = typeof COMMANDS[number];

const COMMAND_HELP: Record<Command, string> = {
  tip: `Usage: deno task light tip --relay URL... [options]

Print the verified best tip: height, hash, cumulative work and time.

${COMMON_OPTIONS}`,
  tx: `Usage: deno task light tx TXID --relay URL... [options]

Check that transaction TXID (64 hex digits) is in a block on the verified best chain (RFC 6962
inclusion proof against that block's txRoot) and print it with its confirmations. Exits 3,
with "confirmed": false, when no relay can prove it confirmed.

${COMMON_OPTIONS}`,
  balance: `Usage: deno task light balance ADDRESS --relay URL... [options]

Print the balance (coins and base units) and nonce of ADDRESS, verified by a sparse Merkle
proof against the best tip's stateRoot. An absent account is proven absent (balance 0).

${COMMON_OPTIONS}`,
  header: `Usage: deno task light header HEIGHT --relay URL... [options]

Print the best-chain header at HEIGHT: from the verified headers, or proven against the tip's
historyRoot when it is older than the ones kept.

${COMMON_OPTIONS}`,
  sync: `Usage: deno task light sync --relay URL... [options]

Sync and verify headers from the relays, showing a progress bar when stderr is a terminal,
then print the tip. With --store the headers are kept for the next run.

${COMMON_OPTIONS}`,
};

/** A command-line mistake: one line on stderr, exit code 2. */
class UsageError extends Error {}

/** A transaction that is not confirmed: its JSON on stdout, exit code 3. */
class NotConfirmed extends Error {
  constructor(readonly json: Json) {
    super("not confirmed");
  }
}

type Json = Record<string, unknown>;

interface Common {
  relays: string[];
  params: NetworkParams;
  checkpoint?: { height: number; hash: string };
  store?: string;
  timeoutMs: number;
}

async function main(args: string[]): Promise<number> {
  try {
    const out = await run(args);
    console.log(typeof out === "string" ? out : JSON.stringify(out, null, 2));
    return 0;
  } catch (err) {
    if (err instanceof NotConfirmed) {
      console.log(JSON.stringify(err.json, null, 2));
      return 3;
    }
    if (err instanceof UsageError) {
      console.error(`error: ${oneLine(err.message)} (see --help)`);
      return 2;
    }
    // VerificationError ("<what>: ..."), RelayUnavailableError, a relay's refusal, a height above the tip.
    const prefix = err instanceof RelayError ? "the relay answered " : "";
    console.error(`error: ${prefix}${oneLine((err as Error).message)}`);
    return 1;
  }
}

/** Run one command; returns the help text or the JSON result. */
async function run(args: string[]): Promise<Json | string> {
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError(`missing command: ${COMMANDS.join(", ")}`);
  if (first === "-h" || first === "--help") return HELP;
  if (first.startsWith("-")) throw new UsageError(`expected a command before "${clip(first)}"`);
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command "${clip(first)}"; expected ${COMMANDS.join(", ")}`);
  }
  const command = first as Command;
  const parsed = parse(rest, command === "tip" || command === "sync" ? 0 : 1);
  if (parsed === "help") return COMMAND_HELP[command];
  const { common, positionals } = parsed;
  const argument = (name: string) => {
    if (positionals.length === 0) throw new UsageError(`${command}: missing ${name}`);
    return positionals[0];
  };
  switch (command) {
    case "tip":
      return await withClient(common, {}, async (client) => tipJson(common.params, await client.tip()));
    case "sync":
      return await sync(common);
    case "tx": {
      const txid = argument("TXID");
      if (!/^[0-9a-fA-F]{64}$/.test(txid)) {
        throw new UsageError(`TXID: expected 64 hex digits, got "${clip(txid)}" (${txid.length} characters)`);
      }
      return await withClient(common, {}, (client) => transaction(client, txid.toLowerCase()));
    }
    case "balance": {
      const address = argument("ADDRESS");
      checkAddress(address, common.params);
      return await withClient(common, {}, async (client) => {
        const a = await client.getAccount(address);
        const tip = await client.tip();
        return {
          address: address.toLowerCase(),
          network: common.params.name,
          balance: formatAmount(a.balance),
          balanceUnits: a.balance.toString(),
          nonce: a.nonce.toString(),
          exists: a.exists,
          height: a.height,
          tipHash: tip.height === a.height ? tip.hash : undefined,
        };
      });
    }
    case "header": {
      const text = argument("HEIGHT");
      if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffff_ffff) {
        throw new UsageError(`HEIGHT: expected a block height (a whole number), got "${clip(text)}"`);
      }
      const height = Number(text);
      return await withClient(common, {}, async (client) => {
        return headerJson(await client.getHeader(height));
      });
    }
  }
}

// ---- command-line parsing -----------------------------------------------------------

function parse(args: string[], maxPositionals: number): { common: Common; positionals: string[] } | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        relay: { type: "string", multiple: true },
        network: { type: "string" },
        checkpoint: { type: "string" },
        store: { type: "string" },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument "${clip(parsed.positionals[maxPositionals])}"`);
  }
  let params: NetworkParams;
  try {
    params = getNetwork(v.network ?? "devnet");
  } catch (err) {
    throw new UsageError(`--network: ${(err as Error).message}`);
  }
  const relays = v.relay ?? [];
  if (relays.length === 0) throw new UsageError("missing --relay URL (a relay's ws:// or wss:// endpoint)");
  for (const url of relays) {
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      u = undefined;
    }
    if (u === undefined || (u.protocol !== "ws:" && u.protocol !== "wss:")) {
      throw new UsageError(`--relay: "${clip(url)}" is not a ws:// or wss:// URL`);
    }
  }
  let checkpoint: Common["checkpoint"];
  if (v.checkpoint !== undefined) {
    const m = /^(\d{1,10}):([0-9a-fA-F]{64})$/.exec(v.checkpoint);
    if (m === null || Number(m[1]) > 0xffff_ffff) {
      throw new UsageError(`--checkpoint: expected HEIGHT:HASH with a 64-hex-digit hash, got "${clip(v.checkpoint)}"`);
    }
    checkpoint = { height: Number(m[1]), hash: m[2].toLowerCase() };
  }
  if (v.store === "") throw new UsageError("--store: expected a file path");
  const timeout = v.timeout === undefined ? 10 : Number(v.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 3600) {
    throw new UsageError(`--timeout: expected seconds between 0 and 3600, got "${clip(v.timeout ?? "")}"`);
  }
  return {
    common: { relays, params, checkpoint, store: v.store, timeoutMs: Math.round(timeout * 1000) },
    positionals: parsed.positionals,
  };
}

/** A malformed address, a bad checksum or an address of another network is a command-line mistake. */
function checkAddress(address: string, params: NetworkParams): void {
  let prefix: string;
  try {
    prefix = bech32mDecode(address).prefix;
  } catch (err) {
    const message = err instanceof ValidationError ? err.message : `not a valid address: ${(err as Error).message}`;
    throw new UsageError(`ADDRESS: ${message}`);
  }
  const other = Object.values(NETWORKS).find((p) => p.addressPrefix === prefix.toLowerCase());
  if (other !== undefined && other.name !== params.name) {
    throw new UsageError(
      `ADDRESS: "${clip(address)}" is a ${other.name} address, not ${params.name} (use --network ${other.name})`,
    );
  }
  try {
    decodeAddress(address, params.addressPrefix);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const hint = err.code === ErrorCode.WRONG_NETWORK ? ` (--network is ${params.name})` : "";
    throw new UsageError(`ADDRESS: ${err.message}${hint}`);
  }
}

// ---- client -------------------------------------------------------------------------

async function withClient<T>(
  common: Common,
  options: { sync?: boolean },
  use: (client: LightClient) => Promise<T>,
): Promise<T> {
  const client = await LightClient.connect({
    relays: common.relays,
    network: common.params,
    checkpoint: common.checkpoint,
    storage: common.store === undefined ? undefined : fileHeaderStore(common.store),
    requestTimeoutMs: common.timeoutMs,
    sync: options.sync,
  });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

async function sync(common: Common): Promise<Json> {
  return await withClient(common, { sync: false }, async (client) => {
    const startHeight = client.headers.height;
    const bar = Deno.stderr.isTerminal() ? progressBar() : undefined;
    const onProgress = (e: Event) => bar?.update((e as CustomEvent<SyncProgress>).detail);
    client.addEventListener("progress", onProgress);
    try {
      await client.sync();
    } finally {
      client.removeEventListener("progress", onProgress);
      bar?.finish();
    }
    return { ...tipJson(common.params, await client.tip()), startHeight };
  });
}

async function transaction(client: LightClient, txid: string): Promise<Json> {
  const r = await client.getTransaction(txid);
  const json: Json = {
    txid,
    confirmed: r.confirmed,
    confirmations: r.confirmations,
    ...(r.confirmed ? { height: r.height, blockHash: r.blockHash } : { pending: r.tx !== undefined }),
    ...(r.tx !== undefined ? { tx: txJson(r.tx, client.params) } : {}),
  };
  if (!r.confirmed) throw new NotConfirmed(json);
  return json;
}

// ---- output -------------------------------------------------------------------------

function tipJson(params: NetworkParams, tip: Tip): Json {
  return {
    network: params.name,
    height: tip.height,
    hash: tip.hash,
    work: tip.work.toString(),
    time: tip.time,
    timeIso: new Date(tip.time).toISOString(),
  };
}

function headerJson(header: BlockHeader): Json {
  const bytes = encodeHeader(header);
  return {
    height: header.height,
    hash: bytesToHex(hashHeader(header)),
    header: { ...headerToJson(header) },
    headerHex: bytesToHex(bytes),
  };
}

function txJson(tx: Transaction, params: NetworkParams): Json {
  const base = { txid: bytesToHex(txId(tx)), kind: tx.kind, network: tx.network };
  const recipient = encodeAddress(tx.recipient, params.addressPrefix);
  if (tx.kind === "coinbase") {
    return {
      ...base,
      height: tx.height,
      recipient,
      amount: formatAmount(tx.amount),
      amountUnits: tx.amount.toString(),
      extra: bytesToHex(tx.extra),
    };
  }
  return {
    ...base,
    sender: encodeAddress(tx.sender, params.addressPrefix),
    recipient,
    amount: formatAmount(tx.amount),
    amountUnits: tx.amount.toString(),
    fee: formatAmount(tx.fee),
    feeUnits: tx.fee.toString(),
    nonce: tx.nonce.toString(),
  };
}

/** A one-line progress bar redrawn in place on a terminal. */
function progressBar(): { update(p: SyncProgress): void; finish(): void } {
  const encoder = new TextEncoder();
  let drawn = false;
  return {
    update({ height, target }) {
      const width = 30;
      const ratio = target > 0 ? Math.min(1, height / target) : 1;
      const full = Math.round(ratio * width);
      const line = `\rheaders [${"#".repeat(full)}${"-".repeat(width - full)}] ${height}/${target} ${
        Math.floor(ratio * 100)
      }%`;
      Deno.stderr.writeSync(encoder.encode(line));
      drawn = true;
    },
    finish() {
      if (drawn) Deno.stderr.writeSync(encoder.encode("\n"));
    },
  };
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
