/**
 * The light client in a real browser: `deno task build:web` bundles it, a local page
 * (tests/fixtures/light_page.html, served by Deno.serve on 127.0.0.1) imports the bundle as a
 * module, and Debian's headless Chromium, driven over the DevTools protocol, connects it to a
 * real Deno relay fed by a real regtest node. The account proof it verifies must give the
 * balance the node's HTTP API reports at the same height. Skipped when Chromium is missing
 * (`.ci/run` installs it).
 */

import assert from "node:assert/strict";
import { encodeAddress } from "../protocol/keys.ts";
import { REGTEST } from "../protocol/params.ts";
import { type DenoRelay, startDenoRelay } from "../edge/deno.ts";
import { readKeyFile } from "../full-node/keyfile.ts";
import { type Chromium, findChromium, launchChromium } from "./helpers/chromium.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PAGE = new URL("./fixtures/light_page.html", import.meta.url);
/** Generous: two cores shared with other test runs; nothing here asserts a duration. */
const LONG = 180_000;
const CHROMIUM = findChromium();

if (CHROMIUM === undefined) console.error("light_browser_test: chromium not found; apt-get install -y chromium");

interface PageResult {
  ok: boolean;
  error?: string;
  name?: string;
  restoredHeight: number;
  tip: { height: number; hash: string; work: string };
  account: { address: string; balance: string; nonce: string; height: number; exists: boolean };
  storedHeaders: number;
  denoGlobal: boolean;
}

interface AccountJson {
  balance: string;
  nonce: string;
  height: number;
}

/** Run `deno task build:web` and return the two bundles. */
async function buildWeb(): Promise<{ client: string; storage: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build:web"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(LONG),
    env: { NO_COLOR: "1" },
  }).output();
  const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `deno task build:web failed:\n${log}`);
  return {
    client: await Deno.readTextFile(`${ROOT}dist/light-client.js`),
    storage: await Deno.readTextFile(`${ROOT}dist/light-client-storage.js`),
  };
}

Deno.test({
  name: "the bundled light client verifies an account proof in headless Chromium, agreeing with the node",
  ignore: CHROMIUM === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bundle = await buildWeb();
    for (const [name, text] of Object.entries(bundle)) {
      assert.doesNotMatch(text, /\bDeno\s*\./, `the ${name} bundle uses no Deno APIs`);
      assert.match(text, /^export\s*\{/m, `the ${name} bundle is an ES module`);
    }
    const html = await Deno.readTextFile(PAGE);
    const files: Record<string, [string, string]> = {
      "/": [html, "text/html; charset=utf-8"],
      "/light-client.js": [bundle.client, "text/javascript; charset=utf-8"],
      "/light-client-storage.js": [bundle.storage, "text/javascript; charset=utf-8"],
    };
    const { promise: listening, resolve } = Promise.withResolvers<number>();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => resolve(port),
    }, (req) => {
      const file = files[new URL(req.url).pathname];
      if (file === undefined) return new Response("not found", { status: 404 });
      return new Response(file[0], { headers: { "content-type": file[1], "cache-control": "no-store" } });
    });
    let relay: DenoRelay | undefined;
    let node: NodeProcess | undefined;
    let browser: Chromium | undefined;
    try {
      const pagePort = await listening;
      relay = await startDenoRelay({ params: REGTEST, hostname: "127.0.0.1", port: 0, quiet: true });
      const ws = `ws://127.0.0.1:${relay.port}/ws`;
      node = await startNode({ connect: [ws], args: ["--pace-ms", "2000"] });
      const n = node;
      const r = relay;
      await waitFor(async () => (await n.status()).height >= 3, { timeoutMs: LONG, what: "height 3" });
      await waitFor(() => r.hub.headers.height >= 3, { timeoutMs: LONG, what: "the relay's header cache" });
      const miner = encodeAddress((await readKeyFile(`${n.dataDir}/miner.key`)).publicKey, REGTEST.addressPrefix);

      browser = await launchChromium({ executable: CHROMIUM, startTimeoutMs: LONG, commandTimeoutMs: LONG });
      const query = new URLSearchParams({ relay: ws, address: miner, network: "regtest" });
      const page = await browser.newPage(`http://127.0.0.1:${pagePort}/?${query}`);
      const context = () => `\npage console:\n${page.console().join("\n")}\nchromium:\n${browser?.log().slice(-2000)}`;

      // The page runs the check on load and writes the JSON result into the DOM and a global.
      const first = await waitFor(
        () => page.evaluate<PageResult | null>("globalThis.lightResult ?? null").then((v) => v ?? undefined),
        { timeoutMs: LONG, intervalMs: 250, what: "the page's result" },
      ).catch((err) => {
        throw new Error(`${(err as Error).message}${context()}`);
      });
      assert.equal(first.ok, true, `${JSON.stringify(first)}${context()}`);
      assert.equal(first.denoGlobal, false, "the page runs without Deno");
      assert.equal(first.account.address, miner);
      assert.equal(first.account.exists, true);
      assert.ok(first.account.height >= 3);
      assert.ok(first.storedHeaders >= first.tip.height, "IndexedDB holds the verified headers");
      const dom = await page.evaluate<string>(`document.getElementById("result").textContent`);
      assert.deepEqual(JSON.parse(dom), first);
      const block = await n.get<{ hash: string }>(`/block/${first.tip.height}`);
      assert.equal(first.tip.hash, block.hash, "the browser's tip is the node's block at that height");

      // Compare with the node at one height: read the node just before and after a fresh check.
      const agreed = await waitFor(async () => {
        const before = await n.get<AccountJson>(`/account/${miner}`);
        const result = await page.evaluate<PageResult>(
          `lightCheck(${JSON.stringify(ws)}, ${JSON.stringify(miner)}, "regtest")`,
        );
        const after = await n.get<AccountJson>(`/account/${miner}`);
        assert.equal(result.ok, true, JSON.stringify(result));
        const same = [before, after].find((a) => a.height === result.account.height);
        if (same === undefined) return undefined;
        assert.equal(result.account.balance, same.balance, `balance at height ${same.height}`);
        assert.equal(result.account.nonce, same.nonce, `nonce at height ${same.height}`);
        return result;
      }, { timeoutMs: LONG, what: "the browser's and the node's balance at one height" });
      assert.ok(agreed.restoredHeight >= first.tip.height, "the second check started from IndexedDB headers");
    } finally {
      await browser?.close();
      await node?.kill("SIGKILL");
      await relay?.stop();
      await server.shutdown();
      if (node !== undefined) await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
    }
  },
});
