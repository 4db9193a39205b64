/**
 * Drive a real headless Chromium (Debian's `chromium`) over the DevTools protocol with a plain
 * WebSocket: launch it on a fresh profile, open a page, evaluate expressions in it, close it.
 *
 * @module
 */

/** Where Chromium is: $CHROMIUM, /usr/bin/chromium, or `chromium` / `chromium-browser` on PATH. */
export function findChromium(): string | undefined {
  const candidates = [Deno.env.get("CHROMIUM"), "/usr/bin/chromium"];
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    candidates.push(`${dir}/chromium`, `${dir}/chromium-browser`);
  }
  for (const path of candidates) {
    if (path === undefined || path === "") continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** `promise`, or undefined after `ms`; the timer never outlives the call. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A DevTools protocol event. */
export interface CdpEvent {
  /** Method name, e.g. "Runtime.consoleAPICalled". */
  method: string;
  /** Event parameters. */
  params: Record<string, unknown>;
  /** Session the event belongs to (flattened sessions). */
  sessionId?: string;
}

/** A page attached over a flattened DevTools session. */
export interface ChromiumPage {
  /** DevTools session id. */
  sessionId: string;
  /** Send a command in this page's session. */
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  /**
   * Evaluate `expression` in the page (awaiting a returned promise) and return its value
   * (JSON-serialisable values only). A thrown exception rejects with its description.
   */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Console messages and uncaught exceptions of the page so far, one per line. */
  console(): string[];
}

/** A running headless Chromium. */
export interface Chromium {
  /** The browser's DevTools WebSocket URL. */
  wsUrl: string;
  /** Everything Chromium wrote to stderr so far. */
  log(): string;
  /** Send a browser-level command. */
  send<T = Record<string, unknown>>(
    method: string,
    params?: Record<string, unknown>,
    sessionId?: string,
  ): Promise<T>;
  /** Open a new tab at `url` and attach to it. */
  newPage(url: string): Promise<ChromiumPage>;
  /** Close the browser (gracefully, then SIGKILL) and delete its profile directory. */
  close(): Promise<void>;
}

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /** Chromium executable (default {@link findChromium}). */
  executable?: string;
  /** How long to wait for DevTools to listen (default 60 s). */
  startTimeoutMs?: number;
  /** Per-command timeout (default 60 s). */
  commandTimeoutMs?: number;
}

/** Launch headless Chromium on a temporary profile with DevTools on a free port. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Chromium> {
  const executable = options.executable ?? findChromium();
  if (executable === undefined) throw new Error("chromium not found (apt-get install -y chromium)");
  const profile = await Deno.makeTempDir({ prefix: "edgeledger-chromium-" });
  const child = new Deno.Command(executable, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const { promise: listening, resolve, reject } = Promise.withResolvers<string>();
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]);
    }
    reject(new Error(`chromium exited before DevTools listened:\n${text.slice(-4000)}`));
  })().catch(() => {});

  let killed = false;
  const kill = async () => {
    if (!killed) {
      killed = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }
    await child.status;
  };
  const cleanup = async () => {
    await kill();
    // Helpers that outlived the browser would keep stderr open: do not wait for them forever.
    await within(reading, 5_000);
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };

  let socket: WebSocket;
  let wsUrl: string;
  const timer = setTimeout(
    () => reject(new Error(`chromium did not start in ${(options.startTimeoutMs ?? 60_000) / 1000} s:\n${text}`)),
    options.startTimeoutMs ?? 60_000,
  );
  try {
    wsUrl = await listening;
    socket = new WebSocket(wsUrl);
    await new Promise<void>((res, rej) => {
      socket.onopen = () => res();
      socket.onerror = (e) => rej(new Error(`DevTools socket: ${(e as ErrorEvent).message ?? "error"}`));
    });
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    clearTimeout(timer);
  }

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  const listeners = new Set<(e: CdpEvent) => void>();
  socket.onmessage = (e) => {
    const msg = JSON.parse(String(e.data));
    if (typeof msg.id === "number") {
      const p = pending.get(msg.id);
      if (p === undefined) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message} ${msg.error.data ?? ""}`.trim()));
      else p.resolve(msg.result);
    } else if (typeof msg.method === "string") {
      for (const l of listeners) l(msg as CdpEvent);
    }
  };
  socket.onclose = () => {
    for (const p of pending.values()) p.reject(new Error(`${p.method}: DevTools connection closed`));
    pending.clear();
  };

  const commandTimeoutMs = options.commandTimeoutMs ?? 60_000;
  const send = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((res, rej) => {
      const timeout = setTimeout(() => {
        pending.delete(id);
        rej(new Error(`${method}: no answer from chromium in ${commandTimeoutMs / 1000} s`));
      }, commandTimeoutMs);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timeout);
          res(v as T);
        },
        reject: (e) => {
          clearTimeout(timeout);
          rej(e);
        },
        method,
      });
      try {
        socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      } catch (err) {
        pending.get(id)?.reject(err as Error);
        pending.delete(id);
      }
    });
  };

  return {
    wsUrl,
    log: () => text,
    send,
    async newPage(url: string): Promise<ChromiumPage> {
      const { targetId } = await send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
      const lines: string[] = [];
      listeners.add((e) => {
        if (e.sessionId !== sessionId) return;
        if (e.method === "Runtime.consoleAPICalled") {
          const args = (e.params.args as { value?: unknown; description?: string }[]) ?? [];
          lines.push(
            `console.${e.params.type}: ${args.map((a) => a.description ?? JSON.stringify(a.value)).join(" ")}`,
          );
        } else if (e.method === "Runtime.exceptionThrown") {
          const d = e.params.exceptionDetails as { text?: string; exception?: { description?: string } };
          lines.push(`exception: ${d.exception?.description ?? d.text}`);
        }
      });
      await send("Runtime.enable", {}, sessionId);
      await send("Page.enable", {}, sessionId);
      const nav = await send<{ errorText?: string }>("Page.navigate", { url }, sessionId);
      if (nav.errorText) throw new Error(`navigating to ${url}: ${nav.errorText}`);
      return {
        sessionId,
        send: (method, params) => send(method, params, sessionId),
        async evaluate<T>(expression: string): Promise<T> {
          const r = await send<{
            result: { value?: unknown; type: string };
            exceptionDetails?: { text?: string; exception?: { description?: string } };
          }>("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true }, sessionId);
          if (r.exceptionDetails) {
            const d = r.exceptionDetails;
            throw new Error(`in the page: ${d.exception?.description ?? d.text}`);
          }
          return r.result.value as T;
        },
        console: () => [...lines],
      };
    },
    async close() {
      try {
        await within(send("Browser.close").catch(() => {}), 5_000);
        if (await within(child.status.then(() => true), 5_000) !== true) await kill();
      } finally {
        try {
          socket.close();
        } catch {
          // already closed
        }
        await cleanup();
      }
    },
  };
}
