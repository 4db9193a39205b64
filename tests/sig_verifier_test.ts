/**
 * The signature verifier: a batch verified by a pool of real Web Workers gives the same
 * verdicts as verification on the calling thread, later lookups come from the cache, and
 * close() terminates the workers (Deno's test sanitizers fail a test that leaves one alive).
 */

import assert from "node:assert/strict";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { REGTEST } from "../protocol/params.ts";
import { signTransfer, type TransferTx, txId, verifyTransferSignature } from "../protocol/tx.ts";
import { type SignatureItem, SignatureVerifier } from "../full-node/sig_verifier.ts";
import { rng } from "./helpers/random.ts";

/** `count` transfers from a few senders; those at indexes where `corrupt(i)` holds have a bad signature. */
function batch(count: number, corrupt: (i: number) => boolean): { items: SignatureItem[]; bad: Set<number> } {
  const r = rng(7);
  const keys = Array.from({ length: 8 }, () => generateSecretKey());
  const recipient = publicKeyFromSecret(generateSecretKey());
  const items: SignatureItem[] = [];
  const bad = new Set<number>();
  for (let i = 0; i < count; i++) {
    let tx: TransferTx = signTransfer({
      network: REGTEST.networkId,
      recipient,
      amount: BigInt(1 + r.int(1_000_000)),
      fee: 1_000n,
      nonce: BigInt(i),
    }, keys[i % keys.length]);
    if (corrupt(i)) {
      bad.add(i);
      const signature = tx.signature.slice();
      switch (i % 4) {
        case 0: // one flipped bit in s
          signature[32 + r.int(32)] ^= 1 << r.int(8);
          break;
        case 1: // one flipped bit in R
          signature[r.int(32)] ^= 1 << r.int(8);
          break;
        case 2: // all zero
          signature.fill(0);
          break;
        default: // another transaction's valid signature
          signature.set(items[0].tx.signature);
      }
      tx = { ...tx, signature };
    }
    items.push({ tx, txid: txId(tx) });
  }
  return { items, bad };
}

Deno.test("SignatureVerifier.prepare() with two workers gives exactly the inline verdicts, then answers from the cache", async () => {
  const { items, bad } = batch(200, (i) => i % 7 === 3 || i % 11 === 5);
  assert.ok(bad.size > 20);
  const inline = new SignatureVerifier({ workers: 0 });
  const expected = items.map(({ tx, txid }) => inline.isValid(tx, txid));
  assert.equal(inline.verified, 200);
  // The inline verdicts are the protocol's verdicts, and the corrupted ones are exactly the bad ones.
  items.forEach(({ tx }, i) => {
    assert.equal(expected[i], verifyTransferSignature(tx), `inline verdict of #${i}`);
    assert.equal(expected[i], !bad.has(i), `#${i} corrupted: ${bad.has(i)}`);
  });

  const pooled = new SignatureVerifier({ workers: 2, parallelThreshold: 16 });
  try {
    await pooled.prepare(items);
    assert.equal(pooled.verified, 200, "every signature was verified once, by the workers");
    assert.equal(pooled.cacheHits, 0);
    const verdicts = items.map(({ tx, txid }) => pooled.isValid(tx, txid));
    assert.deepEqual(verdicts, expected);
    assert.equal(pooled.verified, 200, "isValid() verified nothing again");
    assert.ok(pooled.cacheHits >= 200 - bad.size, "every valid signature was a cache hit");
    // A second prepare() of the same batch has nothing unseen and sends nothing to the workers.
    await pooled.prepare(items);
    assert.equal(pooled.verified, 200);
    assert.deepEqual(items.map(({ tx, txid }) => pooled.isValid(tx, txid)), expected);
    assert.equal(pooled.verified, 200);
  } finally {
    pooled.close();
  }
});

Deno.test("SignatureVerifier.prepare() leaves a batch below parallelThreshold to isValid()", async () => {
  const { items } = batch(15, (i) => i === 4);
  const verifier = new SignatureVerifier({ workers: 2, parallelThreshold: 16 });
  try {
    await verifier.prepare(items);
    assert.equal(verifier.verified, 0, "no worker was used for 15 signatures");
    const verdicts = items.map(({ tx, txid }) => verifier.isValid(tx, txid));
    assert.deepEqual(verdicts, items.map((_, i) => i !== 4));
    assert.equal(verifier.verified, 15);
    assert.equal(verifier.cacheHits, 0);
  } finally {
    verifier.close();
  }
});

Deno.test("SignatureVerifier.prepare() only sends signatures it has not seen", async () => {
  const { items } = batch(40, (i) => i === 0);
  const verifier = new SignatureVerifier({ workers: 2, parallelThreshold: 16 });
  try {
    // 30 seen inline first: only 10 unseen remain, below the threshold.
    for (const { tx, txid } of items.slice(0, 30)) verifier.isValid(tx, txid);
    assert.equal(verifier.verified, 30);
    await verifier.prepare(items);
    assert.equal(verifier.verified, 30);
    for (const { tx, txid } of items.slice(30)) assert.ok(verifier.isValid(tx, txid));
    assert.equal(verifier.verified, 40);
  } finally {
    verifier.close();
  }
});

Deno.test("SignatureVerifier.close() while prepare() runs resolves it; isValid() still answers correctly", async () => {
  const { items, bad } = batch(64, (i) => i % 5 === 0);
  const verifier = new SignatureVerifier({ workers: 2, parallelThreshold: 16 });
  const pending = verifier.prepare(items);
  verifier.close();
  await pending;
  items.forEach(({ tx, txid }, i) => assert.equal(verifier.isValid(tx, txid), !bad.has(i), `#${i}`));
});

Deno.test("SignatureVerifier can be closed twice and used again after close()", async () => {
  const { items, bad } = batch(32, (i) => i === 31);
  const verifier = new SignatureVerifier({ workers: 1, parallelThreshold: 16 });
  verifier.close();
  try {
    await verifier.prepare(items);
    assert.equal(verifier.verified, 32);
    items.forEach(({ tx, txid }, i) => assert.equal(verifier.isValid(tx, txid), !bad.has(i)));
  } finally {
    verifier.close();
    verifier.close();
  }
});

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * A script for a child process: verify a batch of 64 with two workers, print the verdict
 * count, and close the verifier unless told not to. A live worker keeps a Deno process
 * running, so the child exits on its own only when close() terminated every worker.
 */
function childScript(close: boolean): string {
  const verifier = new URL("../full-node/sig_verifier.ts", import.meta.url).href;
  const keys = new URL("../protocol/keys.ts", import.meta.url).href;
  const tx = new URL("../protocol/tx.ts", import.meta.url).href;
  return `
    const { SignatureVerifier } = await import(${JSON.stringify(verifier)});
    const { generateSecretKey, publicKeyFromSecret } = await import(${JSON.stringify(keys)});
    const { signTransfer, txId } = await import(${JSON.stringify(tx)});
    const sk = generateSecretKey();
    const recipient = publicKeyFromSecret(generateSecretKey());
    const items = [];
    for (let i = 0; i < 64; i++) {
      const tx = signTransfer({ network: 1, recipient, amount: 1n, fee: 1n, nonce: BigInt(i) }, sk);
      items.push({ tx, txid: txId(tx) });
    }
    const v = new SignatureVerifier({ workers: 2, parallelThreshold: 16 });
    await v.prepare(items);
    const ok = items.filter(({ tx, txid }) => v.isValid(tx, txid)).length;
    ${close ? "v.close();" : ""}
    console.log("verified " + v.verified + " valid " + ok);
  `;
}

/** Run `script` with `deno eval`; returns its output and whether it exited on its own within `graceMs` of printing. */
async function runChild(script: string, graceMs: number): Promise<{ out: string; exited: boolean; code: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  const printed = Promise.withResolvers<void>();
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      out += decoder.decode(chunk, { stream: true });
      if (out.includes("\n")) printed.resolve();
    }
    printed.resolve();
  })();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // Signing and verifying 64 transfers on a busy machine: allow a lot of time.
    const started = setTimeout(() => printed.reject(new Error("child printed nothing in 120 s")), 120_000);
    try {
      await printed.promise;
    } finally {
      clearTimeout(started);
    }
    const grace = new Promise<"alive">((resolve) => timer = setTimeout(() => resolve("alive"), graceMs));
    exited = (await Promise.race([child.status.then(() => "exited" as const), grace])) === "exited";
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }
  const status = await child.status;
  await reading;
  const err = await stderr;
  if (err.includes("error")) throw new Error(`child failed:\n${err}`);
  return { out, exited, code: status.code };
}

Deno.test("SignatureVerifier.close() terminates its workers: a process that closed it exits by itself", async () => {
  const closed = await runChild(childScript(true), 60_000);
  assert.match(closed.out, /verified 64 valid 64/);
  assert.ok(closed.exited, "the process stayed alive after close(): a worker is still running");
  assert.equal(closed.code, 0);
});

Deno.test("SignatureVerifier left open keeps its workers alive (control for the close() test)", async () => {
  const open = await runChild(childScript(false), 3_000);
  assert.match(open.out, /verified 64 valid 64/);
  assert.ok(!open.exited, "without close() the workers keep the process alive");
});

Deno.test("SignatureVerifier counts a cached invalid verdict as a cache hit", () => {
  const { items } = batch(2, (i) => i === 1);
  const verifier = new SignatureVerifier({ workers: 0 });
  for (const { tx, txid } of items) verifier.isValid(tx, txid);
  assert.equal(verifier.verified, 2);
  for (const { tx, txid } of items) verifier.isValid(tx, txid);
  assert.equal(verifier.verified, 2, "nothing verified twice");
  // Both second lookups were answered from the cache (`cacheHits`: "Lookups answered from the cache").
  assert.equal(verifier.cacheHits, 2);
});
