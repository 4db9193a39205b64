/**
 * `deno task wallet` (full-node/wallet.ts), run as a real subprocess against a real regtest
 * node subprocess. Exit codes: 0 success, 1 runtime error (key file, node, insufficient
 * funds), 2 command-line mistake (flags, addresses, amounts).
 *
 * Run: deno test -A tests/wallet_test.ts
 */
import assert from "node:assert/strict";
import { equalBytes } from "../protocol/bytes.ts";
import { decodeAddress } from "../protocol/keys.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";

const WALLET = new URL("../full-node/wallet.ts", import.meta.url).pathname;
const BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

interface WalletRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function wallet(...args: string[]): Promise<WalletRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WALLET, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Run the wallet, expect exit 0 and one JSON object on stdout. */
async function walletJson(...args: string[]): Promise<Record<string, unknown>> {
  const run = await wallet(...args);
  assert.equal(run.code, 0, `wallet ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** Expect a failure with `code` and a single `error: ...` line on stderr matching `pattern`. */
function assertFails(run: WalletRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `expected exit ${code}, got ${run.code}: ${run.stderr}`);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0], /^error: /);
  assert.match(lines[0], pattern);
}

/** The same address with its last checksum character changed. */
function breakChecksum(address: string): string {
  const last = address.at(-1)!;
  const other = BECH32_CHARSET[(BECH32_CHARSET.indexOf(last) + 1) % BECH32_CHARSET.length];
  return address.slice(0, -1) + other;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "edgeledger-wallet-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function withNode(fn: (node: NodeProcess) => Promise<void>): Promise<void> {
  const node = await startNode({ network: "regtest" });
  try {
    await fn(node);
  } finally {
    await node.kill("SIGTERM");
    await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
  }
}

async function unitsOf(node: NodeProcess, address: string): Promise<bigint> {
  return BigInt((await walletJson("balance", address, "--node", node.url)).balanceUnits as string);
}

Deno.test("wallet new creates a 0600 key file, prints a devnet address and refuses to overwrite it", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/alice.key`;
    const created = await walletJson("new", "--file", file);
    assert.equal(created.network, "devnet");
    assert.match(created.address as string, /^eld1/);
    assert.doesNotThrow(() => decodeAddress(created.address as string, DEVNET.addressPrefix));
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    const before = await Deno.readTextFile(file);

    assertFails(await wallet("new", "--file", file), 1, /already exists/);
    assert.equal(await Deno.readTextFile(file), before);
  });
});

Deno.test("wallet address prints the address wallet new printed, with the prefix of --network", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bob.key`;
    const created = await walletJson("new", "--file", file, "--network", "regtest");
    assert.match(created.address as string, /^elr1/);
    const regtest = await walletJson("address", "--file", file, "--network", "regtest");
    assert.equal(regtest.address, created.address);
    const devnet = await walletJson("address", "--file", file);
    assert.equal(devnet.network, "devnet");
    assert.ok(equalBytes(
      decodeAddress(devnet.address as string, DEVNET.addressPrefix),
      decodeAddress(regtest.address as string, REGTEST.addressPrefix),
    ));
  });
});

Deno.test("wallet address fails with exit 1 when the key file is missing or not a key file", async () => {
  await withTempDir(async (dir) => {
    assertFails(await wallet("address", "--file", `${dir}/missing.key`), 1, /does not exist/);
    await Deno.writeTextFile(`${dir}/junk.key`, "not json");
    assertFails(await wallet("address", "--file", `${dir}/junk.key`), 1, /not valid/);
  });
});

Deno.test("wallet --help and each command's --help print usage and exit 0", async () => {
  for (
    const args of [["--help"], ["-h"], ["new", "--help"], ["address", "-h"], ["balance", "--help"], ["send", "-h"]]
  ) {
    const run = await wallet(...args);
    assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stdout, /^Usage: deno task wallet/, args.join(" "));
  }
  assert.match((await wallet("send", "--help")).stdout, /--amount AMOUNT/);
});

Deno.test("wallet rejects an unknown command, an unknown flag or a missing argument with exit 2", async () => {
  assertFails(await wallet(), 2, /missing command/);
  assertFails(await wallet("spend"), 2, /unknown command "spend"/);
  assertFails(await wallet("--file", "x"), 2, /expected a command/);
  assertFails(await wallet("new"), 2, /missing --file/);
  assertFails(await wallet("new", "--file", "x", "--bogus"), 2, /Unknown option '--bogus'/);
  assertFails(await wallet("new", "--file", "x", "--network", "mainnet"), 2, /--network: Unknown network "mainnet"/);
  assertFails(await wallet("balance"), 2, /missing ADDRESS/);
  assertFails(await wallet("balance", "a", "b"), 2, /unexpected argument "b"/);
  assertFails(await wallet("balance", "x", "--node", "ftp://host"), 2, /--node/);
  assertFails(await wallet("send", "--file", "x", "--to", "y"), 2, /missing --amount/);
});

Deno.test("wallet send rejects amounts that are not whole coins with up to 8 decimals with exit 2", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/k.key`;
    const to = (await walletJson("new", "--file", file, "--network", "regtest")).address as string;
    for (const amount of ["1.123456789", "-1", "abc", "1e5", "", "0", "18446744073709551616"]) {
      const run = await wallet("send", "--file", file, "--to", to, `--amount=${amount}`);
      assertFails(run, 2, amount === "" ? /missing --amount/ : /--amount/);
    }
    assertFails(await wallet("send", "--file", file, "--to", to, "--amount", "-1"), 2, /--amount/);
    assertFails(await wallet("send", "--file", file, "--to", to, "--amount", "1", "--fee", "abc"), 2, /--fee/);
  });
});

Deno.test("wallet rejects a malformed address or a bad checksum with exit 2 before contacting a node", async () => {
  await withTempDir(async (dir) => {
    const address = (await walletJson("new", "--file", `${dir}/k.key`, "--network", "regtest")).address as string;
    // No node listens on port 1: the address must be refused before any request.
    const node = ["--node", "http://127.0.0.1:1"];
    assertFails(await wallet("balance", breakChecksum(address), ...node), 2, /bad checksum/);
    assertFails(await wallet("balance", "notanaddress", ...node), 2, /not a valid address/);
    assertFails(await wallet("balance", address.replace(/^elr/, "xyz"), ...node), 2, /bad checksum|prefix/);
    const send = ["send", "--file", `${dir}/k.key`, "--amount", "1", ...node];
    assertFails(await wallet(...send, "--to", breakChecksum(address)), 2, /--to: bad checksum/);
  });
});

Deno.test("wallet reports an unreachable node or a non-JSON answer with exit 1", async () => {
  await withTempDir(async (dir) => {
    const address = (await walletJson("new", "--file", `${dir}/k.key`, "--network", "regtest")).address as string;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const freePort = listener.addr.port;
    listener.close();
    assertFails(await wallet("balance", address, "--node", `http://127.0.0.1:${freePort}`), 1, /cannot reach the node/);

    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("<html>hi</html>"));
    try {
      const url = `http://127.0.0.1:${server.addr.port}`;
      assertFails(await wallet("balance", address, "--node", url), 1, /not JSON/);
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("wallet against a regtest node: balances, payments and network checks", async (t) => {
  await withTempDir(async (dir) => {
    await withNode(async (node) => {
      const minerKey = `${node.dataDir}/miner.key`;
      const miner = (await walletJson("address", "--file", minerKey, "--network", "regtest")).address as string;

      await t.step("balance of the miner address grows as blocks are mined", async () => {
        const first = await waitFor(async () => {
          const units = await unitsOf(node, miner);
          return units > 0n ? units : false;
        }, { what: "a first coinbase" });
        await waitFor(async () => (await unitsOf(node, miner)) > first, { what: "the miner balance to grow" });
        const b = await walletJson("balance", miner, "--node", node.url);
        assert.deepEqual(Object.keys(b).sort(), [
          "address",
          "balance",
          "balanceUnits",
          "height",
          "nonce",
          "pendingTxs",
        ]);
        assert.equal(b.address, miner);
        assert.match(b.balance as string, /^\d+(\.\d{1,8})?$/);
        assert.equal(typeof b.height, "number");
        assert.equal(typeof b.pendingTxs, "number");
        const upper = await walletJson("balance", miner.toUpperCase(), "--node", node.url);
        assert.equal(upper.address, miner, "an uppercase address is printed in its canonical lowercase form");
      });

      await t.step("send pays a fresh address, with consecutive nonces for back-to-back payments", async () => {
        const to = (await walletJson("new", "--file", `${dir}/recipient.key`, "--network", "regtest"))
          .address as string;
        await waitFor(async () => (await unitsOf(node, miner)) >= 200_000_000n, { what: "2 coins for the miner" });
        const nonce = BigInt((await walletJson("balance", miner, "--node", node.url)).nonce as string);

        const first = await walletJson("send", "--file", minerKey, "--to", to, "--amount", "1.5", "--node", node.url);
        assert.match(first.txid as string, /^[0-9a-f]{64}$/);
        assert.deepEqual({ ...first, txid: undefined }, {
          txid: undefined,
          from: miner,
          to,
          amount: "1.5",
          fee: "0.0001",
          nonce: nonce.toString(),
        });
        // Sent at once: the nonce must come from nextNonce, which counts the pending first payment.
        const second = await walletJson(
          "send",
          ...["--file", minerKey, "--to", to, "--amount", "0.25", "--fee", "0.001", "--node", node.url],
        );
        assert.equal(second.nonce, (nonce + 1n).toString());
        assert.equal(second.fee, "0.001");

        await waitFor(async () => (await unitsOf(node, to)) === 175_000_000n, { what: "the payments to be mined" });
        const b = await walletJson("balance", to, "--node", node.url);
        assert.equal(b.balance, "1.75");
        assert.equal(b.balanceUnits, "175000000");
        assert.equal(b.nonce, "0");
        const confirmed = await node.get<{ status: string }>(`/tx/${first.txid}`);
        assert.equal(confirmed.status, "confirmed");
      });

      await t.step("send from an empty account fails with insufficient funds and exit 1", async () => {
        const empty = `${dir}/empty.key`;
        await walletJson("new", "--file", empty);
        const run = await wallet("send", "--file", empty, "--to", miner, "--amount", "1", "--node", node.url);
        assertFails(run, 1, /insufficient funds: balance 0, need 1\.0001$/);
      });

      await t.step("an address of another network is refused with exit 2", async () => {
        const devnet = (await walletJson("address", "--file", minerKey)).address as string;
        assertFails(
          await wallet("balance", devnet, "--node", node.url),
          2,
          /address is for prefix "eld", this network uses "elr" \(the node is on regtest\)/,
        );
        const run = await wallet("send", "--file", minerKey, "--to", devnet, "--amount", "1", "--node", node.url);
        assertFails(run, 2, /--to: address is for prefix "eld"/);
      });

      await t.step("a transaction the node refuses is reported with its code and exit 1", async () => {
        const run = await wallet(
          "send",
          "--file",
          minerKey,
          "--to",
          miner,
          "--amount",
          "1",
          "--fee",
          "0",
          "--node",
          node.url,
        );
        assertFails(run, 1, /the node refused the transaction: .*\(FEE_TOO_LOW\)/);
      });
    });
  });
});
