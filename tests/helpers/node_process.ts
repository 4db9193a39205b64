/**
 * Start real full-node subprocesses (`deno run full-node/main.ts`) for integration tests:
 * a real SQLite file in a temporary directory, a real HTTP/WebSocket port, real signals.
 *
 * @module
 */

const MAIN = new URL("../../full-node/main.ts", import.meta.url).pathname;

/** A running node subprocess. */
export interface NodeProcess {
  /** HTTP base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** WebSocket endpoint, e.g. ws://127.0.0.1:40123/ws */
  wsUrl: string;
  /** Bound port. */
  port: number;
  /** Data directory. */
  dataDir: string;
  /** The child process. */
  child: Deno.ChildProcess;
  /** Everything the node wrote to stderr so far. */
  log(): string;
  /** GET a JSON endpoint. */
  get<T = Record<string, unknown>>(path: string): Promise<T>;
  /** Status JSON. */
  status(): Promise<{ height: number; tipHash: string; stateRoot: string; peers: number; mempool: number }>;
  /** Send a signal and wait for exit; returns the exit code. */
  kill(signal?: Deno.Signal): Promise<number>;
  /** Exit status promise. */
  exited: Promise<Deno.CommandStatus>;
}

/** Options of {@link startNode}. */
export interface StartNodeOptions {
  /** Data directory (a fresh temporary one by default). */
  dataDir?: string;
  /** Peers to connect to. */
  connect?: string[];
  /** Mine (default true). */
  mine?: boolean;
  /** Port (0 = any free port). */
  port?: number;
  /** Extra command-line arguments. */
  args?: string[];
  /** Network (default regtest). */
  network?: string;
}

/** Start a node and wait until it listens. */
export async function startNode(options: StartNodeOptions = {}): Promise<NodeProcess> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "edgeledger-node-" });
  const args = [
    "run",
    "-A",
    MAIN,
    "--network",
    options.network ?? "regtest",
    "--data-dir",
    dataDir,
    "--listen",
    `127.0.0.1:${options.port ?? 0}`,
    ...(options.mine === false ? ["--no-mine"] : []),
    ...(options.connect ?? []).flatMap((url) => ["--connect", url]),
    ...(options.args ?? []),
  ];
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "piped", stdin: "null" }).spawn();
  let text = "";
  const { promise: listening, resolve, reject } = Promise.withResolvers<number>();
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    }
    reject(new Error(`node exited before listening:\n${text}`));
  })();
  const exited = child.status;
  const timer = setTimeout(() => reject(new Error(`node did not start in 30 s:\n${text}`)), 30_000);
  let port: number;
  try {
    port = await listening;
  } finally {
    clearTimeout(timer);
  }
  const url = `http://127.0.0.1:${port}`;
  const node: NodeProcess = {
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    port,
    dataDir,
    child,
    log: () => text,
    async get<T>(path: string): Promise<T> {
      const res = await fetch(url + path);
      const body = await res.json();
      if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
      return body as T;
    },
    status() {
      return node.get("/status");
    },
    async kill(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      return (await exited).code;
    },
    exited,
  };
  return node;
}

/** Poll `check` until it returns true (or a value), failing after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | false | undefined> | T | false | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${options.what ?? "condition"}${last ? `: ${(last as Error).message}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}
