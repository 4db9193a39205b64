/**
 * The full node: wires the SQLite store, chain, mempool, signature verifier, miner, peers and
 * HTTP/WebSocket server together, prints a status line, and shuts down cleanly.
 *
 * @module
 */

import { encodeAddress } from "../protocol/keys.ts";
import { bytesToHex } from "../protocol/bytes.ts";
import type { NetworkParams } from "../protocol/params.ts";
import { type TransferTx, txId } from "../protocol/tx.ts";
import { createApi } from "./api.ts";
import { Chain, StateMismatchError } from "./chain.ts";
import { loadOrCreateKeyFile } from "./keyfile.ts";
import { createLogger, type Logger, type LogLevel } from "./logger.ts";
import { Mempool } from "./mempool.ts";
import { Miner } from "./miner.ts";
import { PeerManager } from "./peers.ts";
import { RelayHub } from "../edge/relay_core.ts";
import { SignatureVerifier } from "./sig_verifier.ts";
import { NodeStore } from "./store.ts";

/** Software name announced to peers. */
export const AGENT = "edgeledger-node/0.1.0";

/** Everything `deno task node` can configure. */
export interface FullNodeOptions {
  /** Network parameters. */
  params: NetworkParams;
  /** Data directory (created when missing). */
  dataDir: string;
  /** HTTP and WebSocket listen address. */
  hostname: string;
  /** Listen port; 0 picks a free one. */
  port: number;
  /** Outbound peers (ws:// or wss:// URLs). */
  connect: string[];
  /** Whether to mine. */
  mine: boolean;
  /** Miner key file (created when missing). */
  minerKeyFile: string;
  /** Mining worker threads. */
  threads: number;
  /** Log level. */
  logLevel: LogLevel;
  /** Rebuild state from stored blocks before starting. */
  reindex?: boolean;
  /** Print a status line this often (ms); 0 disables it. */
  statusIntervalMs?: number;
  /** Also ban misbehaving loopback peers. */
  banLoopback?: boolean;
  /** Minimum spacing between mined blocks (ms). */
  paceMs?: number;
  /** Signature verification workers. */
  verifyWorkers?: number;
}

/** A running full node. */
export class FullNode {
  readonly params: NetworkParams;
  readonly options: FullNodeOptions;
  readonly logger: Logger;
  readonly store: NodeStore;
  readonly verifier: SignatureVerifier;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly peers: PeerManager;
  /** The relay core serving this node's `/ws` endpoint. */
  readonly hub: RelayHub;
  readonly miner: Miner | undefined;
  readonly minerAddress: string | undefined;
  #server: Deno.HttpServer | undefined;
  #statusTimer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  readonly startedAt = Date.now();

  private constructor(
    options: FullNodeOptions,
    parts: {
      logger: Logger;
      store: NodeStore;
      verifier: SignatureVerifier;
      chain: Chain;
      mempool: Mempool;
      peers: PeerManager;
      hub: RelayHub;
      miner?: Miner;
      minerAddress?: string;
    },
  ) {
    this.options = options;
    this.params = options.params;
    this.logger = parts.logger;
    this.store = parts.store;
    this.verifier = parts.verifier;
    this.chain = parts.chain;
    this.mempool = parts.mempool;
    this.peers = parts.peers;
    this.hub = parts.hub;
    this.miner = parts.miner;
    this.minerAddress = parts.minerAddress;
  }

  /** Open the data directory, load the chain, start serving, connecting and mining. */
  static async start(options: FullNodeOptions, logger?: Logger): Promise<FullNode> {
    const log = logger ?? createLogger(options.logLevel);
    const params = options.params;
    await Deno.mkdir(options.dataDir, { recursive: true });
    const store = NodeStore.open(`${options.dataDir}/chain.sqlite`);
    const verifier = new SignatureVerifier({ workers: options.verifyWorkers });
    const chain = new Chain({ params }, { store, verifier, logger: log });
    try {
      try {
        chain.init();
      } catch (err) {
        // --reindex is the repair for exactly this refusal: rebuild instead of stopping.
        if (!(options.reindex && err instanceof StateMismatchError)) throw err;
        log.warn(`${err.message.split(";")[0]}; rebuilding`);
      }
      if (options.reindex) {
        log.info("reindexing: rebuilding state from the stored blocks");
        let last = 0;
        await chain.reindex((height, total) => {
          if (Date.now() - last > 2000) {
            last = Date.now();
            log.info(`reindex ${height}/${total}`);
          }
        });
        log.info(`reindex done at height ${chain.height}`);
      }
    } catch (err) {
      verifier.close();
      store.close();
      throw err;
    }
    const mempool = new Mempool({ params }, { account: (pk) => chain.account(pk), verifier, store, logger: log });
    const returned: TransferTx[] = [];
    const relay: { announce?: (txids: string[]) => void } = {};
    chain.listen({
      connected: (_entry, block) => mempool.blockConnected(block),
      disconnected: (_entry, block) => {
        for (const tx of block.txs) if (tx.kind === "transfer") returned.push(tx);
      },
      tip: () => {
        if (returned.length === 0) return mempool.revalidate();
        const back = returned.splice(0);
        mempool.reorganise(back);
        // Transactions a reorganisation returned are news to peers on the winning branch.
        relay.announce?.(back.map((tx) => bytesToHex(txId(tx))).filter((id) => mempool.has(id)));
      },
    });
    // A crash between the halves of a reorganisation leaves a better stored chain: finish it.
    await chain.activateBestChain();
    const loaded = mempool.load();
    if (loaded > 0) log.info(`reloaded ${loaded} mempool transaction(s)`);
    const peers = new PeerManager({ agent: AGENT, banLoopback: options.banLoopback }, { chain, mempool, logger: log });
    // The /ws endpoint is the relay core: it verifies headers, relays, rate-limits and routes
    // requests to this node, which is linked to it in process like any other node.
    const hub = new RelayHub({ params, agent: AGENT, role: "node", maxHeaders: 20_000, maxConnections: 125 }, {
      onMisbehave: (address) => peers.ban(address),
      log: (level, message) => level === "debug" ? log.debug(message) : log.info(message),
    });
    linkHubToPeers(hub, peers);
    relay.announce = (txids) => txids.forEach((id) => peers.announceTx(id));
    let miner: Miner | undefined;
    let minerAddress: string | undefined;
    if (options.mine) {
      const key = await loadOrCreateKeyFile(options.minerKeyFile);
      minerAddress = encodeAddress(key.publicKey, params.addressPrefix);
      if (key.created) log.info(`created miner key ${options.minerKeyFile} (mode 0600)`);
      miner = new Miner({ miner: key.publicKey, threads: options.threads, paceMs: options.paceMs }, {
        chain,
        mempool,
        logger: log,
      });
    }
    const node = new FullNode(options, {
      logger: log,
      store,
      verifier,
      chain,
      mempool,
      peers,
      hub,
      miner,
      minerAddress,
    });
    await node.#serve();
    for (const url of options.connect) peers.connect(url);
    miner?.start();
    if (minerAddress) log.info(`mining to ${minerAddress} with ${options.threads} worker(s)`);
    const interval = options.statusIntervalMs ?? 5000;
    if (interval > 0) node.#statusTimer = setInterval(() => log.info(node.statusLine()), interval);
    return node;
  }

  async #serve(): Promise<void> {
    const app = createApi(this);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#server = Deno.serve({
      hostname: this.options.hostname,
      port: this.options.port,
      onListen: ({ hostname, port }) => {
        this.logger.info(
          `${this.params.name} node listening on http://${hostname}:${port} (WebSocket ws://${hostname}:${port}/ws)`,
        );
        resolve();
      },
    }, (req, info) => {
      if (new URL(req.url).pathname === "/ws" && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
        return this.#upgrade(req, (info.remoteAddr as Deno.NetAddr).hostname);
      }
      return app.fetch(req);
    });
    await promise;
  }

  #upgrade(req: Request, address: string): Response {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 120 });
    if (this.peers.isBanned(address)) {
      // Refused for a while after misbehaving: say so in the close frame.
      socket.onopen = () => socket.close(1008, "banned");
      return response;
    }
    let handle: ReturnType<RelayHub["accept"]>;
    socket.onopen = () => {
      handle = this.hub.accept({
        send: (data) => socket.send(data),
        close: (code, reason) => socket.close(code, reason),
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
      }, { address });
    };
    socket.onmessage = (e) => handle?.receive(e.data);
    socket.onclose = () => handle?.closed();
    socket.onerror = () => {};
    return response;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return (this.#server?.addr as Deno.NetAddr | undefined)?.port ?? this.options.port;
  }

  /** Outbound peers plus inbound connections past hello (the hub's link to this node excluded). */
  peerCount(): number {
    const roles = this.hub.connectionsByRole();
    return this.peers.count + Math.max(0, roles.node - 1) + roles.relay + roles.light;
  }

  /** JSON status for `GET /status`. */
  status(): Record<string, unknown> {
    const tip = this.chain.tip;
    const best = this.chain.bestHeader;
    return {
      network: this.params.name,
      height: tip.height,
      tipHash: tip.hex,
      stateRoot: bytesToHex(tip.header.stateRoot),
      time: tip.header.time,
      bits: tip.header.bits,
      work: tip.work.toString(),
      bestHeaderHeight: best.height,
      syncProgress: best.height === 0 ? 1 : Math.min(1, tip.height / best.height),
      peers: this.peerCount(),
      peerList: this.peers.list(),
      inbound: this.hub.connectionsByRole(),
      mempool: this.mempool.size,
      mining: this.miner?.running ?? false,
      minerAddress: this.minerAddress ?? null,
      hashrate: Math.round(this.miner?.hashrate ?? 0),
      blocksMined: this.miner?.blocksMined ?? 0,
      orphans: this.chain.orphanCount,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      agent: AGENT,
    };
  }

  /** One status line: height, tip, peers, mempool, hashrate, sync progress. */
  statusLine(): string {
    const tip = this.chain.tip;
    const best = this.chain.bestHeader;
    const rate = this.miner?.hashrate ?? 0;
    const parts = [
      `height ${tip.height}`,
      `tip ${tip.hex.slice(0, 16)}`,
      `peers ${this.peerCount()}`,
      `mempool ${this.mempool.size}`,
      this.miner ? `hashrate ${(rate / 1e6).toFixed(2)} MH/s` : "not mining",
    ];
    if (best.height > tip.height) {
      const p = tip.height / best.height;
      const filled = Math.round(p * 20);
      parts.push(
        `sync [${"#".repeat(filled)}${".".repeat(20 - filled)}] ${
          (p * 100).toFixed(1)
        }% (${tip.height}/${best.height})`,
      );
    } else parts.push("synced");
    return parts.join("  ");
  }

  /** Prometheus text exposition for `GET /metrics`. */
  metrics(): string {
    const s = this.chain.stats;
    const p = this.peers.stats;
    const lines: string[] = [];
    const metric = (name: string, type: "gauge" | "counter", help: string, value: number | bigint) => {
      lines.push(
        `# HELP edgeledger_${name} ${help}`,
        `# TYPE edgeledger_${name} ${type}`,
        `edgeledger_${name} ${value}`,
      );
    };
    metric("height", "gauge", "Height of the main-chain tip.", this.chain.height);
    metric("best_header_height", "gauge", "Height of the most-work header known.", this.chain.bestHeader.height);
    metric("peers", "gauge", "Connected peers that completed the handshake.", this.peerCount());
    metric("mempool_transactions", "gauge", "Transactions in the mempool.", this.mempool.size);
    metric("hashrate", "gauge", "Nonces per second over the last seconds.", Math.round(this.miner?.hashrate ?? 0));
    metric("blocks_mined_total", "counter", "Blocks this node mined.", this.miner?.blocksMined ?? 0);
    metric("blocks_connected_total", "counter", "Blocks connected to the main chain.", s.blocksConnected);
    metric("blocks_disconnected_total", "counter", "Blocks disconnected by reorganisations.", s.blocksDisconnected);
    metric("reorgs_total", "counter", "Reorganisations.", s.reorgs);
    metric("invalid_blocks_total", "counter", "Blocks rejected as invalid.", s.invalidBlocks);
    metric("orphan_blocks", "gauge", "Blocks waiting for their parent.", this.chain.orphanCount);
    metric("messages_in_total", "counter", "WebSocket messages received.", p.messagesIn);
    metric("peer_bans_total", "counter", "Peers banned for misbehaviour.", p.bans);
    metric("peer_disconnects_total", "counter", "Peer disconnections.", p.disconnects);
    metric("signatures_verified_total", "counter", "Signatures verified.", this.verifier.verified);
    metric(
      "signature_cache_hits_total",
      "counter",
      "Signature checks answered from the cache.",
      this.verifier.cacheHits,
    );
    return lines.join("\n") + "\n";
  }

  /** Stop mining, close peers and the server, let the current write finish, close the database. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#statusTimer);
    this.miner?.stop();
    this.hub.close();
    this.peers.close();
    await this.chain.idle();
    await this.#server?.shutdown();
    this.verifier.close();
    this.store.close();
    this.logger.info("stopped");
  }
}

/**
 * Link the node's peer manager to its relay hub through an in-process socket pair: the hub
 * sees a trusted node, the peer manager a relay whose misbehaving peers it reports by request.
 */
function linkHubToPeers(hub: RelayHub, peers: PeerManager): void {
  const deliver: { toPeers?: (data: string) => void; toHub?: (data: string) => void } = {};
  const hubHandle = hub.accept({
    send: (data) => queueMicrotask(() => deliver.toPeers?.(data)),
    close: () => {},
  }, { address: "local", outbound: true, trusted: true });
  if (hubHandle === undefined) throw new Error("the relay hub refused the node's own link");
  const peerHandle = peers.attach({
    send: (data) => queueMicrotask(() => deliver.toHub?.(data)),
    close: () => {},
  }, {
    address: "local",
    direction: "outbound",
    local: { reportAnswer: (id, code, reason) => hub.reportAnswer(hubHandle.id, id, code, reason) },
  });
  if (peerHandle === undefined) throw new Error("the peer manager refused the hub link");
  deliver.toPeers = (data) => peerHandle.receive(data);
  deliver.toHub = (data) => hubHandle.receive(data);
}
