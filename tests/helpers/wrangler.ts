/**
 * Run the Cloudflare relay for integration tests: `deno task relay:cf` (which is
 * `wrangler dev`, running the Worker and its Durable Object in a local workerd) as a
 * subprocess on a free port, in its own process group so that stopping it also stops wrangler's
 * children and the workerd processes. Nothing reaches the network: local mode, no metrics, no
 * cf.json download, no interactive session.
 *
 * @module
 */

const ROOT = new URL("../..", import.meta.url).pathname;

/** Wrangler, as pinned by the `relay:cf` and `deploy:cf` tasks in deno.json. */
export const WRANGLER = "npm:wrangler@4.164.0";

/** Environment that keeps wrangler offline and non-interactive. */
export const WRANGLER_ENV: Record<string, string> = {
  CI: "1",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

/** A running `wrangler dev`. */
export interface WranglerDev {
  /** HTTP base URL, e.g. http://127.0.0.1:40123 */
  httpUrl: string;
  /** WebSocket endpoint, e.g. ws://127.0.0.1:40123/ws */
  wsUrl: string;
  /** Port it serves on. */
  port: number;
  /** Directory of the local Durable Object storage. */
  persistTo: string;
  /** How long it took until GET /status answered (ms). */
  startupMs: number;
  /** Everything wrangler printed so far. */
  log(): string;
  /** Stop wrangler and everything it started; removes `persistTo` unless it was given. */
  stop(): Promise<void>;
}

/** Options of {@link startWranglerDev}. */
export interface WranglerDevOptions {
  /** Storage directory to reuse (a fresh temporary one, removed on stop, by default). */
  persistTo?: string;
  /** Worker variables (default NETWORK=regtest). */
  vars?: Record<string, string>;
  /** How long to wait for GET /status (default 180 s: the first start installs and compiles). */
  timeoutMs?: number;
}

/** A port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Send `signal` to the process group led by `pid`; false when it is gone. */
function killGroup(pid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Read a stream into `sink` until it ends. */
async function drain(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
}

/**
 * Start `deno task relay:cf --port <free> --ip 127.0.0.1 --var NETWORK:regtest ...` and wait
 * until it serves GET /status.
 *
 * @example
 * ```ts
 * const relay = await startWranglerDev();
 * const status = await (await fetch(`${relay.httpUrl}/status`)).json();
 * await relay.stop();
 * ```
 */
export async function startWranglerDev(options: WranglerDevOptions = {}): Promise<WranglerDev> {
  const ownDir = options.persistTo === undefined;
  const persistTo = options.persistTo ?? await Deno.makeTempDir({ prefix: "edgeledger-wrangler-" });
  const port = freePort();
  const vars = { NETWORK: "regtest", ...options.vars };
  const args = [
    "task",
    "--quiet",
    "relay:cf",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(freePort()),
    "--local",
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: WRANGLER_ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true, // its own process group: stop() signals wrangler, its children and workerd at once
  }).spawn();
  let text = "";
  const output = Promise.all([
    drain(child.stdout, (s) => text += s),
    drain(child.stderr, (s) => text += s),
  ]).catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  const stop = async () => {
    if (!exited) {
      killGroup(child.pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 5_000);
      await status;
      clearTimeout(timer);
    }
    // Whatever outlived its parent in the group (workerd) goes too.
    killGroup(child.pid, "SIGKILL");
    await output;
    if (ownDir) await Deno.remove(persistTo, { recursive: true }).catch(() => {});
  };

  const httpUrl = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 180_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`wrangler dev exited before serving:\n${text}`);
    }
    try {
      const res = await fetch(`${httpUrl}/status`, { signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not serve /status in ${options.timeoutMs ?? 180_000} ms:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    port,
    persistTo,
    startupMs: Date.now() - started,
    log: () => text,
    stop,
  };
}

/**
 * Build the Worker as `deno task deploy:cf` would, without uploading:
 * `wrangler deploy --dry-run --outdir <outdir>`.
 *
 * @example
 * ```ts
 * const { success, output } = await wranglerDryRun(await Deno.makeTempDir());
 * ```
 */
export async function wranglerDryRun(outdir: string): Promise<{ success: boolean; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "deploy:cf", "--dry-run", "--outdir", outdir],
    cwd: ROOT,
    env: WRANGLER_ENV,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { success: out.success, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}
