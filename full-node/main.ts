/**
 * `deno task node`: run a full node. With no flags it mines a devnet chain into
 * ./.edgeledger/devnet and serves http://127.0.0.1:7700.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { getNetwork } from "../protocol/params.ts";
import { StateMismatchError } from "./chain.ts";
import { LOG_LEVELS, type LogLevel } from "./logger.ts";
import { FullNode, type FullNodeOptions } from "./node.ts";

const HELP = `Usage: deno task node [options]

Run an edgeledger full node: mine, validate and store the whole ledger, sync with peers over
WebSockets, and serve headers, blocks and proofs over HTTP.

Options:
  --network NAME       devnet (default) or regtest
  --data-dir DIR       where the chain is stored (default ./.edgeledger/<network>)
  --listen HOST:PORT   HTTP and WebSocket address (default 127.0.0.1:7700)
  --connect URL        a peer's or relay's WebSocket endpoint, ws:// or wss://;
                       repeat for several; reconnects with backoff
  --no-mine            validate and relay only
  --miner-key FILE     key the coinbase pays (default <data-dir>/miner.key, created
                       on first run with mode 0600)
  --threads N          mining workers (default 1)
  --log-level LEVEL    error, warn, info (default) or debug
  --reindex            rebuild the state from the stored blocks, then run
  --pace-ms MS         leave at least MS between mined blocks (regtest default:
                       its block time, 1000)
  --ban-loopback       also ban misbehaving peers on 127.0.0.1/::1 (normally they are
                       only disconnected, as local peers usually are your own)
  -h, --help           show this help

Endpoints: GET /status, /headers, /block/:id, /tx/:txid, /account/:address,
/proof/tx/:txid, /proof/account/:address, /proof/history/:height, /metrics;
POST /tx; WebSocket /ws.`;

/** A command-line mistake: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Parse and check the command line. */
export function parseNodeArgs(args: string[]): FullNodeOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        network: { type: "string" },
        "data-dir": { type: "string" },
        listen: { type: "string" },
        connect: { type: "string", multiple: true },
        "no-mine": { type: "boolean" },
        "miner-key": { type: "string" },
        threads: { type: "string" },
        "log-level": { type: "string" },
        reindex: { type: "boolean" },
        "pace-ms": { type: "string" },
        "ban-loopback": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0]);
  }
  const v = parsed.values;
  if (v.help) return "help";
  let params;
  try {
    params = getNetwork(v.network ?? "devnet");
  } catch (err) {
    throw new UsageError(`--network: ${(err as Error).message}`);
  }
  const listen = v.listen ?? `127.0.0.1:${params.defaultPort}`;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
  if (m === null || Number(m[2]) > 65535) throw new UsageError(`--listen: expected HOST:PORT, got "${listen}"`);
  const hostname = m[1].replace(/^\[|\]$/g, "");
  const connect = v.connect ?? [];
  for (const url of connect) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new UsageError(`--connect: "${url}" is not a URL`);
    }
    if (u.protocol !== "ws:" && u.protocol !== "wss:") {
      throw new UsageError(`--connect: "${url}" must start with ws:// or wss://`);
    }
  }
  const threads = v.threads === undefined ? 1 : Number(v.threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new UsageError(`--threads: expected a whole number from 1 to 256, got "${v.threads}"`);
  }
  const logLevel = (v["log-level"] ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(", ")}`);
  const paceMs = v["pace-ms"] === undefined ? undefined : Number(v["pace-ms"]);
  if (paceMs !== undefined && (!Number.isInteger(paceMs) || paceMs < 0)) {
    throw new UsageError(`--pace-ms: expected milliseconds`);
  }
  const dataDir = v["data-dir"] ?? `./.edgeledger/${params.name}`;
  return {
    params,
    dataDir,
    hostname,
    port: Number(m[2]),
    connect,
    mine: !v["no-mine"],
    minerKeyFile: v["miner-key"] ?? `${dataDir}/miner.key`,
    threads,
    logLevel,
    reindex: v.reindex ?? false,
    paceMs,
    banLoopback: v["ban-loopback"] ?? false,
  };
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseNodeArgs(Deno.args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message} (see --help)`);
      return 2;
    }
    throw err;
  }
  if (options === "help") {
    console.log(HELP);
    return 0;
  }
  let node: FullNode;
  try {
    node = await FullNode.start(options);
  } catch (err) {
    if (err instanceof StateMismatchError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    if (err instanceof Deno.errors.AddrInUse) {
      console.error(`error: ${options.hostname}:${options.port} is already in use; choose another with --listen`);
      return 1;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
  const { promise, resolve } = Promise.withResolvers<void>();
  const shutdown = () => resolve();
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
  await promise;
  node.logger.info("shutting down");
  await node.stop();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
