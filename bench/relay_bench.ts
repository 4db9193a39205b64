/**
 * Relay benchmarks (issue 4): the Deno relay as a subprocess, real WebSockets on loopback.
 *
 * - `relay.deliveries_per_second`: one node-role publisher sends unique `inv` announcements
 *   (three txids, a 222-byte frame as relayed) to 100 node-role subscribers; frames delivered
 *   per second, in windows so no socket's buffer grows without bound.
 * - `relay.fanout_p99_ms`: one announcement at a time to 1,000 subscribers; p99 over 200
 *   publishes of the time from sending it to its delivery to the last subscriber.
 * - `relay.idle_connection_bytes`: growth of the relay's resident memory (VmRSS) per idle
 *   WebSocket that has said hello, over 2,000 connections.
 * - `relay.max_connections`: WebSockets held open at once (handshake done, counted by the relay's
 *   /status and open on the client side), up to 20,000 or the open-files limit of this process
 *   (`ulimit -n`) less a reserve, since every client socket is a file here too.
 *
 * The relay runs `startDenoRelay` with the per-connection rate limit and the connection cap
 * lifted (one publisher sends far more than 200 frames a second; the default cap is 10,000
 * connections): these measure the relay's machinery, not its policy.
 *
 * @module
 */

import { REGTEST } from "../protocol/params.ts";
import type { Benchmark } from "./harness.ts";

const ROOT = new URL("../", import.meta.url);

/** A relay subprocess for benchmarks. */
interface BenchRelay {
  wsUrl: string;
  httpUrl: string;
  pid: number;
  stop(): Promise<void>;
}

/** Start the Deno relay in its own process with limits lifted for measurement. */
async function startBenchRelay(): Promise<BenchRelay> {
  const code = `
    import { startDenoRelay } from ${JSON.stringify(new URL("edge/deno.ts", ROOT).href)};
    import { REGTEST } from ${JSON.stringify(new URL("protocol/params.ts", ROOT).href)};
    const relay = await startDenoRelay({
      params: REGTEST, hostname: "127.0.0.1", port: 0, quiet: true,
      messagesPerSecond: 1e9, messageBurst: 1e9, maxConnections: 1_000_000,
    });
    console.error("listening on http://127.0.0.1:" + relay.port);
    await new Promise((resolve) => Deno.addSignalListener("SIGTERM", resolve));
    await relay.stop();
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("deno.json", ROOT).pathname, code],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const port = await new Promise<number>((resolve, reject) => {
    (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        text += decoder.decode(chunk, { stream: true });
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      }
      reject(new Error(`relay exited before listening:\n${text}`));
    })();
  });
  return {
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 10_000);
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
      await child.status;
      clearTimeout(timer);
    },
  };
}

function hello(role: "node" | "light"): string {
  return JSON.stringify({
    type: "hello",
    version: 1,
    network: "regtest",
    genesis: REGTEST.genesisHash,
    role,
    agent: "relay-bench",
    height: 0,
  });
}

/** Open a WebSocket, send hello and resolve once the relay's hello arrived. */
function connect(url: string, role: "node" | "light", onFrame?: (data: string) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let ready = false;
    ws.onopen = () => ws.send(hello(role));
    ws.onmessage = (e) => {
      if (!ready) {
        ready = true;
        resolve(ws);
        return;
      }
      onFrame?.(e.data as string);
    };
    ws.onerror = () => {};
    ws.onclose = (e) => {
      if (!ready) reject(new Error(`closed before hello: ${e.code} ${e.reason}`));
    };
  });
}

/** Open `n` connections, `parallel` at a time. */
async function connectMany(
  url: string,
  n: number,
  role: "node" | "light",
  onFrame?: (i: number, data: string) => void,
  parallel = 200,
): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, n - i) }, (_, k) => {
        const index = i + k;
        return connect(url, role, onFrame && ((d) => onFrame(index, d)));
      }),
    );
    out.push(...batch);
  }
  return out;
}

async function closeMany(sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map((ws) =>
    new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(resolve, 5_000);
      ws.addEventListener("close", () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        ws.close();
      } catch {
        clearTimeout(timer);
        resolve();
      }
    })
  ));
}

let counter = 0;
function uniqueHash(): string {
  counter++;
  return (Date.now().toString(16) + counter.toString(16).padStart(16, "0")).padStart(64, "0");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Frames per second delivered from one publisher to 100 subscribers. */
async function deliveriesPerSecond(): Promise<number> {
  const relay = await startBenchRelay();
  const sockets: WebSocket[] = [];
  try {
    let delivered = 0;
    const subscribers = await connectMany(relay.wsUrl, 100, "node", () => delivered++);
    sockets.push(...subscribers);
    const publisher = await connect(relay.wsUrl, "node");
    sockets.push(publisher);
    const window = 200;
    const send = () => {
      for (let i = 0; i < window; i++) {
        publisher.send(JSON.stringify({ type: "inv", txs: [uniqueHash(), uniqueHash(), uniqueHash()] }));
      }
    };
    // Warm-up.
    for (let round = 0; round < 5; round++) {
      const target = delivered + window * subscribers.length;
      send();
      await until(() => delivered >= target, 60_000, "warm-up deliveries");
    }
    const start = performance.now();
    const startCount = delivered;
    while (performance.now() - start < 5_000) {
      const target = delivered + window * subscribers.length;
      send();
      await until(() => delivered >= target, 60_000, "deliveries");
    }
    return (delivered - startCount) / ((performance.now() - start) / 1000);
  } finally {
    await closeMany(sockets);
    await relay.stop();
  }
}

/** p99 of publish-to-last-delivery over 200 announcements to 1,000 subscribers, in ms. */
async function fanoutP99(): Promise<number> {
  const relay = await startBenchRelay();
  const sockets: WebSocket[] = [];
  try {
    let current = "";
    let got = 0;
    let done: (() => void) | undefined;
    const n = 1_000;
    const subscribers = await connectMany(relay.wsUrl, n, "node", (_, data) => {
      if (data.includes(current) && ++got === n) done?.();
    });
    sockets.push(...subscribers);
    const publisher = await connect(relay.wsUrl, "node");
    sockets.push(publisher);
    const samples: number[] = [];
    for (let i = 0; i < 220; i++) {
      current = uniqueHash();
      got = 0;
      const { promise, resolve } = Promise.withResolvers<void>();
      let last = 0;
      done = () => {
        last = performance.now();
        resolve();
      };
      const timer = setTimeout(() => resolve(), 60_000);
      const t = performance.now();
      publisher.send(JSON.stringify({ type: "inv", txs: [current] }));
      await promise;
      clearTimeout(timer);
      if (last === 0) throw new Error(`fan-out ${i} reached ${got} of ${n} subscribers`);
      if (i >= 20) samples.push(last - t); // the first 20 warm up
    }
    samples.sort((a, b) => a - b);
    return samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.99) - 1)];
  } finally {
    await closeMany(sockets);
    await relay.stop();
  }
}

async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Resident memory per idle WebSocket (after hello), over 2,000 connections. */
async function idleConnectionBytes(): Promise<number> {
  const relay = await startBenchRelay();
  const sockets: WebSocket[] = [];
  try {
    // Warm the relay's code paths with a few connections first, then measure.
    await closeMany(await connectMany(relay.wsUrl, 50, "light"));
    await sleep(1_000);
    const before = await rssBytes(relay.pid);
    const n = 2_000;
    sockets.push(...await connectMany(relay.wsUrl, n, "light"));
    await sleep(2_000);
    const after = await rssBytes(relay.pid);
    return Math.max(0, after - before) / n;
  } finally {
    await closeMany(sockets);
    await relay.stop();
  }
}

async function openFilesLimit(): Promise<number> {
  const out = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  return text === "unlimited" ? Infinity : Number(text);
}

/**
 * Connections held open at once: open in batches of 500 until one fails, the cap (20,000, or
 * the open-files limit less a reserve) is reached, or two minutes pass; the figure is the
 * smaller of the relay's count in /status and the sockets still open here.
 */
async function maxConnections(): Promise<number> {
  const limit = await openFilesLimit();
  const cap = Math.min(20_000, limit - 200);
  console.error(
    `relay.max_connections: ulimit -n is ${limit}; cap ${cap}` +
      (cap < 20_000 ? " (limited by the open-files limit of the client process)" : ""),
  );
  const relay = await startBenchRelay();
  const sockets: WebSocket[] = [];
  try {
    const deadline = performance.now() + 120_000;
    while (sockets.length < cap && performance.now() < deadline) {
      const n = Math.min(500, cap - sockets.length);
      const results = await Promise.allSettled(
        Array.from({ length: n }, () => connect(relay.wsUrl, "light")),
      );
      let failed = false;
      for (const r of results) {
        if (r.status === "fulfilled") sockets.push(r.value);
        else failed = true;
      }
      if (failed) break;
    }
    await sleep(1_000);
    const status = await (await fetch(`${relay.httpUrl}/status`)).json();
    const held = Object.values(status.connections as Record<string, number>).reduce((a, b) => a + b, 0);
    const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
    return Math.min(held, open);
  } finally {
    await closeMany(sockets);
    await relay.stop();
  }
}

/** Benchmarks of issue 4 (edge relay). */
export const relayBenchmarks: Benchmark[] = [
  { name: "relay.deliveries_per_second", unit: "frames/s", run: deliveriesPerSecond },
  { name: "relay.fanout_p99_ms", unit: "ms", run: fanoutP99 },
  { name: "relay.idle_connection_bytes", unit: "bytes", run: idleConnectionBytes },
  { name: "relay.max_connections", unit: "connections", run: maxConnections },
];
