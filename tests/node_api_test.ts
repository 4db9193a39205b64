/**
 * Every HTTP endpoint of one real regtest full node (a subprocess with its own SQLite file),
 * including proofs checked with the protocol verifiers, every POST /tx rejection rule, and a
 * list of hostile requests none of which may produce a 5xx.
 *
 * The node runs in three phases on one data directory: mining (to fund its miner), not mining
 * (so the mempool holds still while its contents are checked), mining again (so the pending
 * transactions, reloaded from SQLite, confirm).
 */

import assert from "node:assert/strict";
import { bytesToHex, hexToBytes } from "../protocol/bytes.ts";
import { decodeHeader, hashHeader } from "../protocol/header.ts";
import { verifyHistoryProof } from "../protocol/history.ts";
import { bech32mEncode, encodeAddress, generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";
import { hashLeaf, verifyInclusion } from "../protocol/merkle.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { decodeSmtProof, verifySmtProof } from "../protocol/smt.ts";
import { type Account, accountKey, decodeAccount } from "../protocol/state.ts";
import {
  type CoinbaseTx,
  decodeTx,
  encodeTx,
  signTransfer,
  type Transaction,
  type TransferTx,
  txId,
} from "../protocol/tx.ts";
import { type HttpResult, minerKey, postTx, rawRequest, request, stopNodes } from "./helpers/node_client.ts";
import { type NodeProcess, startNode, waitFor } from "./helpers/node_process.ts";

const COIN = 100_000_000n;
const SUBSIDY = 50n * COIN;
const LONG = 60_000;
const HEX64 = /^[0-9a-f]{64}$/;

interface StatusJson {
  network: string;
  height: number;
  tipHash: string;
  stateRoot: string;
  peers: number;
  mempool: number;
  mining: boolean;
  hashrate: number;
}

interface BlockJson {
  hash: string;
  height: number;
  mainChain: boolean;
  confirmations: number;
  header: Record<string, unknown>;
  headerHex: string;
  txs: { txid: string; kind: string; recipient: string; amount: string }[];
}

interface TxJson {
  status: "mempool" | "confirmed";
  blockHash?: string;
  height?: number;
  index?: number;
  confirmations?: number;
  tx: Record<string, unknown>;
  hex: string;
}

interface AccountJson {
  address: string;
  balance: string;
  balanceCoins: string;
  nonce: string;
  pendingTxs: number;
  nextNonce: string;
  height: number;
}

/** Assert a failed request: status, JSON `{ error, code }`, and the code. */
function assertError(res: HttpResult, status: number, code: string | string[], what: string): void {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${res.text.slice(0, 300)}`);
  assert.ok(res.contentType.includes("application/json"), `${what}: content-type ${res.contentType}`);
  assert.equal(typeof res.json?.error, "string", `${what}: no "error" in ${res.text.slice(0, 300)}`);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(res.json?.code as string), `${what}: expected code ${codes.join("|")}, got ${res.text}`);
}

function postBody(node: NodeProcess, body: BodyInit, contentType = "text/plain"): Promise<HttpResult> {
  return request(`${node.url}/tx`, { method: "POST", headers: { "content-type": contentType }, body });
}

function get(node: NodeProcess, path: string): Promise<HttpResult> {
  return request(node.url + path);
}

async function getJson<T>(node: NodeProcess, path: string): Promise<T> {
  const res = await get(node, path);
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.ok(res.contentType.includes("application/json"), `${path}: content-type ${res.contentType}`);
  return res.json as T;
}

/** Check GET /proof/account/:address with verifySmtProof; returns the decoded account or undefined. */
async function checkAccountProof(
  node: NodeProcess,
  publicKey: Uint8Array,
  tipHash?: string,
): Promise<Account | undefined> {
  const address = encodeAddress(publicKey, REGTEST.addressPrefix);
  const p = await getJson<{ header: string; account: string | null; proof: string }>(node, `/proof/account/${address}`);
  const header = decodeHeader(hexToBytes(p.header));
  if (tipHash !== undefined) assert.equal(bytesToHex(hashHeader(header)), tipHash);
  const value = p.account === null ? undefined : hexToBytes(p.account);
  const proof = decodeSmtProof(hexToBytes(p.proof));
  const key = accountKey(publicKey);
  assert.ok(verifySmtProof(header.stateRoot, key, value, proof), `account proof of ${address} does not verify`);
  // The same proof must not prove the opposite claim.
  if (value === undefined) {
    assert.equal(verifySmtProof(header.stateRoot, key, new Uint8Array(16), proof), false);
  } else {
    assert.equal(verifySmtProof(header.stateRoot, key, undefined, proof), false);
    const tweaked = value.slice();
    tweaked[0] ^= 1;
    assert.equal(verifySmtProof(header.stateRoot, key, tweaked, proof), false);
  }
  // The header is a block the node serves.
  const block = await getJson<BlockJson>(node, `/block/${bytesToHex(hashHeader(header))}`);
  assert.equal(block.headerHex, p.header);
  return value === undefined ? undefined : decodeAccount(value);
}

/** Check GET /proof/tx/:txid with verifyInclusion against the header's txRoot. */
async function checkTxProof(node: NodeProcess, txid: string): Promise<void> {
  const p = await getJson<{ tx: string; header: string; index: number; size: number; proof: string[] }>(
    node,
    `/proof/tx/${txid}`,
  );
  assert.equal(bytesToHex(txId(decodeTxHex(p.tx))), txid);
  const header = decodeHeader(hexToBytes(p.header));
  const proof = p.proof.map((h) => hexToBytes(h));
  const leaf = hashLeaf(hexToBytes(txid));
  assert.ok(verifyInclusion(leaf, p.index, p.size, proof, header.txRoot), `inclusion proof of ${txid} does not verify`);
  if (p.size > 1) assert.equal(verifyInclusion(leaf, (p.index + 1) % p.size, p.size, proof, header.txRoot), false);
  const block = await getJson<BlockJson>(node, `/block/${bytesToHex(hashHeader(header))}`);
  assert.equal(block.mainChain, true);
  assert.equal(block.txs[p.index].txid, txid);
  assert.equal(block.txs.length, p.size);
}

function decodeTxHex(hex: string): Transaction {
  return decodeTx(hexToBytes(hex));
}

/** Check GET /proof/history/:height with verifyHistoryProof. */
async function checkHistoryProof(node: NodeProcess, height: number): Promise<void> {
  const p = await getJson<{ header: string; at: string; proof: string[] }>(node, `/proof/history/${height}`);
  const header = decodeHeader(hexToBytes(p.header));
  const at = decodeHeader(hexToBytes(p.at));
  assert.equal(header.height, height);
  assert.ok(at.height > height);
  const proof = p.proof.map((h) => hexToBytes(h));
  const hash = hashHeader(header);
  assert.ok(verifyHistoryProof(hash, height, at.height, proof, at.historyRoot), `history proof of ${height} fails`);
  if (at.height > 1) {
    assert.equal(verifyHistoryProof(hash, (height + 1) % at.height, at.height, proof, at.historyRoot), false);
  }
  const block = await getJson<BlockJson>(node, `/block/${height}`);
  assert.equal(block.hash, bytesToHex(hash));
  assert.equal((await getJson<BlockJson>(node, `/block/${bytesToHex(hashHeader(at))}`)).mainChain, true);
}

Deno.test("the HTTP API serves every endpoint, verifiable proofs and clear errors, and never a 5xx", async (t) => {
  let node: NodeProcess | undefined;
  const dataDir = await Deno.makeTempDir({ prefix: "edgeledger-api-" });
  try {
    // ---- phase 1: mining -------------------------------------------------------------
    node = await startNode({ dataDir, args: ["--pace-ms", "300"] });
    const mining = node;
    await waitFor(async () => (await mining.status()).height >= 6, { timeoutMs: LONG, what: "height >= 6" });

    await t.step("GET /status while mining has every field", async () => {
      const s = await getJson<StatusJson>(mining, "/status");
      assert.equal(s.network, "regtest");
      assert.ok(Number.isInteger(s.height) && s.height >= 6);
      assert.match(s.tipHash, HEX64);
      assert.match(s.stateRoot, HEX64);
      assert.equal(s.peers, 0);
      assert.equal(s.mempool, 0);
      assert.equal(s.mining, true);
      assert.ok(typeof s.hashrate === "number" && s.hashrate >= 0);
    });

    await t.step("GET /metrics is Prometheus text with edgeledger_height", async () => {
      const res = await get(mining, "/metrics");
      assert.equal(res.status, 200);
      assert.ok(res.contentType.startsWith("text/plain"), res.contentType);
      assert.match(res.text, /^# TYPE edgeledger_height gauge$/m);
      const height = Number(/^edgeledger_height (\d+)$/m.exec(res.text)?.[1]);
      assert.ok(height >= 6);
      for (const line of res.text.trimEnd().split("\n")) {
        assert.match(line, /^(# (HELP|TYPE) edgeledger_\w+ .+|edgeledger_\w+ \d+(\.\d+)?)$/, `bad line: ${line}`);
      }
    });

    // ---- phase 2: not mining, so the chain and the mempool hold still -----------------
    assert.equal(await mining.kill("SIGTERM"), 0);
    node = await startNode({ dataDir, mine: false });
    const n = node;
    const status = await getJson<StatusJson>(n, "/status");
    const H = status.height;
    assert.equal(status.mining, false);
    assert.equal(status.hashrate, 0);
    const miner = await minerKey(n);
    const minerAddress = encodeAddress(miner.publicKey, REGTEST.addressPrefix);

    await t.step("GET /headers: defaults, ranges, the 2000 cap and past the tip", async () => {
      const all = await getJson<{ from: number; count: number; headers: string[] }>(n, "/headers");
      assert.equal(all.from, 0);
      assert.equal(all.count, H + 1);
      assert.equal(all.headers.length, H + 1);
      assert.equal(bytesToHex(hashHeader(decodeHeader(hexToBytes(all.headers[0])))), REGTEST.genesisHash);
      for (let i = 1; i < all.headers.length; i++) {
        const h = decodeHeader(hexToBytes(all.headers[i]));
        assert.equal(h.height, i);
        assert.equal(bytesToHex(h.prevHash), bytesToHex(hashHeader(decodeHeader(hexToBytes(all.headers[i - 1])))));
      }
      assert.equal(bytesToHex(hashHeader(decodeHeader(hexToBytes(all.headers[H])))), status.tipHash);
      const two = await getJson<{ from: number; count: number; headers: string[] }>(n, "/headers?from=2&count=2");
      assert.deepEqual([two.from, two.count], [2, 2]);
      assert.deepEqual(two.headers, all.headers.slice(2, 4));
      assert.equal((await getJson<{ count: number }>(n, "/headers?count=2000")).count, H + 1);
      assert.equal((await getJson<{ count: number }>(n, "/headers?from=0&count=1")).count, 1);
      for (const from of [H + 1, H + 1000, 0xffff_ffff]) {
        const past = await getJson<{ count: number; headers: string[] }>(n, `/headers?from=${from}`);
        assert.deepEqual([past.count, past.headers], [0, []], `from=${from}`);
      }
      for (
        const q of [
          "count=2001",
          "count=0",
          "count=-1",
          "count=abc",
          "from=-1",
          "from=x",
          "from=4294967296",
          "count=1.5",
        ]
      ) {
        assertError(await get(n, `/headers?${q}`), 400, "MALFORMED", `/headers?${q}`);
      }
    });

    await t.step("GET /block/:height and /block/:hash agree; unknown is 404, garbage 400", async () => {
      const genesis = await getJson<BlockJson>(n, "/block/0");
      assert.equal(genesis.hash, REGTEST.genesisHash);
      for (const h of [1, H]) {
        const byHeight = await getJson<BlockJson>(n, `/block/${h}`);
        const byHash = await getJson<BlockJson>(n, `/block/${byHeight.hash}`);
        assert.deepEqual(byHash, byHeight);
        assert.deepEqual(await getJson<BlockJson>(n, `/block/${byHeight.hash.toUpperCase()}`), byHeight);
        assert.equal(byHeight.height, h);
        assert.equal(byHeight.mainChain, true);
        assert.equal(byHeight.confirmations, H - h + 1);
        const header = decodeHeader(hexToBytes(byHeight.headerHex));
        assert.equal(bytesToHex(hashHeader(header)), byHeight.hash);
        assert.equal(byHeight.header.height, h);
        assert.equal(byHeight.header.stateRoot, bytesToHex(header.stateRoot));
        assert.equal(byHeight.txs[0].kind, "coinbase");
        assert.equal(byHeight.txs[0].recipient, minerAddress);
        assert.equal(byHeight.txs[0].amount, SUBSIDY.toString());
      }
      assert.equal((await getJson<BlockJson>(n, `/block/${H}`)).header.stateRoot, status.stateRoot);
      for (const id of [`${H + 1}`, "4294967295", "9999999999", "00".repeat(32), "ab".repeat(32)]) {
        assertError(await get(n, `/block/${id}`), 404, "NOT_FOUND", `/block/${id}`);
      }
      for (const id of ["xyz", "-1", "1.0", "12345678901", "ab".repeat(31), "ab".repeat(33), "g".repeat(64)]) {
        assertError(await get(n, `/block/${id}`), 400, "MALFORMED", `/block/${id}`);
      }
    });

    await t.step("GET /account/:address: balance and nonce strings; bad addresses are 400", async () => {
      const a = await getJson<AccountJson>(n, `/account/${minerAddress}`);
      assert.equal(a.address, minerAddress);
      assert.equal(a.balance, (SUBSIDY * BigInt(H)).toString());
      assert.equal(a.nonce, "0");
      assert.equal(a.nextNonce, "0");
      assert.equal(a.pendingTxs, 0);
      assert.equal(a.height, H);
      const nobody = encodeAddress(publicKeyFromSecret(generateSecretKey()), REGTEST.addressPrefix);
      const empty = await getJson<AccountJson>(n, `/account/${nobody}`);
      assert.deepEqual([empty.balance, empty.nonce], ["0", "0"]);
      const last = minerAddress[minerAddress.length - 1];
      const badChecksum = minerAddress.slice(0, -1) + (last === "q" ? "p" : "q");
      assertError(await get(n, `/account/${badChecksum}`), 400, "BAD_ADDRESS_CHECKSUM", "bad checksum");
      const devnet = encodeAddress(miner.publicKey, DEVNET.addressPrefix);
      assertError(await get(n, `/account/${devnet}`), 400, "WRONG_NETWORK", "devnet address");
      const short = bech32mEncode(REGTEST.addressPrefix, new Uint8Array(31));
      for (const bad of ["garbage", "elr1", short, "x".repeat(200), minerAddress.toUpperCase().slice(0, -1) + "q"]) {
        assertError(await get(n, `/account/${bad}`), 400, ["BAD_ADDRESS", "BAD_ADDRESS_CHECKSUM"], `/account/${bad}`);
      }
    });

    await t.step("GET /proof/account verifies for a present and an absent account", async () => {
      const present = await checkAccountProof(n, miner.publicKey, status.tipHash);
      assert.equal(present?.balance, SUBSIDY * BigInt(H));
      assert.equal(present?.nonce, 0n);
      assert.equal(await checkAccountProof(n, publicKeyFromSecret(generateSecretKey()), status.tipHash), undefined);
      assertError(await get(n, "/proof/account/nope"), 400, "BAD_ADDRESS", "/proof/account/nope");
    });

    await t.step("GET /proof/history/:height verifies for several heights; 404 at and past the tip", async () => {
      for (const h of new Set([0, 1, Math.floor(H / 2), H - 2, H - 1])) await checkHistoryProof(n, h);
      for (const h of [H, H + 1, 0xffff_ffff]) {
        assertError(await get(n, `/proof/history/${h}`), 404, "NOT_FOUND", `/proof/history/${h}`);
      }
      for (const h of ["x", "-1", "1.5", "99999999999"]) {
        assertError(await get(n, `/proof/history/${h}`), 400, "MALFORMED", `/proof/history/${h}`);
      }
    });

    await t.step("GET /tx and /proof/tx of a coinbase; unknown 404, bad hex 400", async () => {
      const b1 = await getJson<BlockJson>(n, "/block/1");
      const coinbase = b1.txs[0].txid;
      const tx = await getJson<TxJson>(n, `/tx/${coinbase}`);
      assert.equal(tx.status, "confirmed");
      assert.deepEqual([tx.blockHash, tx.height, tx.index, tx.confirmations], [b1.hash, 1, 0, H]);
      assert.equal(bytesToHex(txId(decodeTxHex(tx.hex))), coinbase);
      await checkTxProof(n, coinbase);
      const unknown = "11".repeat(32);
      assertError(await get(n, `/tx/${unknown}`), 404, "NOT_FOUND", "unknown txid");
      assertError(await get(n, `/proof/tx/${unknown}`), 404, "NOT_FOUND", "proof of unknown txid");
      for (const bad of ["zz", "11".repeat(31), "11".repeat(33), "xx".repeat(32)]) {
        assertError(await get(n, `/tx/${bad}`), 400, "MALFORMED", `/tx/${bad}`);
        assertError(await get(n, `/proof/tx/${bad}`), 400, "MALFORMED", `/proof/tx/${bad}`);
      }
    });

    // Three transfers from the miner, posted three ways.
    const recipientKey = publicKeyFromSecret(generateSecretKey());
    const recipient = encodeAddress(recipientKey, REGTEST.addressPrefix);
    const transfer = (nonce: bigint, over: Partial<TransferTx> = {}) =>
      signTransfer({
        network: over.network ?? REGTEST.networkId,
        recipient: over.recipient ?? recipientKey,
        amount: over.amount ?? COIN,
        fee: over.fee ?? 1_000n,
        nonce,
      }, miner.secretKey);
    const sent = [transfer(0n), transfer(1n, { amount: 2n * COIN, fee: 2_000n }), transfer(2n, { amount: 3n * COIN })];
    const sentIds = sent.map((tx) => bytesToHex(txId(tx)));

    await t.step("POST /tx accepts hex, JSON { tx } and JSON transfer fields (202 + txid)", async () => {
      const r0 = await postTx(n.url, sent[0]);
      assert.equal(r0.status, 202, r0.text);
      assert.deepEqual(r0.json, { txid: sentIds[0], status: "accepted" });
      const r1 = await postBody(n, JSON.stringify({ tx: bytesToHex(encodeTx(sent[1])) }), "application/json");
      assert.equal(r1.status, 202, r1.text);
      assert.equal(r1.json?.txid, sentIds[1]);
      const t2 = sent[2];
      const r2 = await postBody(
        n,
        JSON.stringify({
          sender: minerAddress,
          recipient,
          amount: t2.amount.toString(),
          fee: Number(t2.fee),
          nonce: t2.nonce.toString(),
          signature: bytesToHex(t2.signature),
        }),
        "application/json",
      );
      assert.equal(r2.status, 202, r2.text);
      assert.equal(r2.json?.txid, sentIds[2]);
      for (const txid of sentIds) {
        const tx = await getJson<TxJson>(n, `/tx/${txid}`);
        assert.equal(tx.status, "mempool");
        assert.equal(tx.blockHash, undefined);
        assertError(await get(n, `/proof/tx/${txid}`), 404, "NOT_FOUND", "proof of a pending transaction");
      }
      assert.equal((await getJson<StatusJson>(n, "/status")).mempool, 3);
      const a = await getJson<AccountJson>(n, `/account/${minerAddress}`);
      assert.deepEqual([a.nonce, a.nextNonce, a.pendingTxs], ["0", "3", 3]);
    });

    await t.step("POST /tx rejects each broken transaction with 400 and the rule's code", async () => {
      const hex0 = bytesToHex(encodeTx(sent[0]));
      const badSig = transfer(3n);
      badSig.signature = badSig.signature.slice();
      badSig.signature[10] ^= 0x01;
      const coinbase: CoinbaseTx = {
        kind: "coinbase",
        network: REGTEST.networkId,
        height: H + 1,
        recipient: miner.publicKey,
        amount: SUBSIDY,
        extra: new Uint8Array(0),
      };
      const cases: [string, () => Promise<HttpResult>, number, string | string[]][] = [
        ["garbage", () => postBody(n, "hello, node"), 400, "MALFORMED"],
        ["empty", () => postBody(n, ""), 400, "MALFORMED"],
        ["whitespace", () => postBody(n, "  \n"), 400, "MALFORMED"],
        ["truncated hex", () => postBody(n, hex0.slice(0, -2)), 400, "MALFORMED"],
        ["odd-length hex", () => postBody(n, hex0.slice(0, -1)), 400, "MALFORMED"],
        ["trailing byte", () => postBody(n, hex0 + "00"), 400, "MALFORMED"],
        ["unknown kind", () => postBody(n, "07" + hex0.slice(2)), 400, "MALFORMED"],
        ["JSON null", () => postBody(n, "null", "application/json"), 400, "MALFORMED"],
        [
          "JSON extra field",
          () => postBody(n, JSON.stringify({ tx: hex0, x: 1 }), "application/json"),
          400,
          "MALFORMED",
        ],
        [
          "JSON tx not hex",
          () => postBody(n, JSON.stringify({ tx: "zz".repeat(80) }), "application/json"),
          400,
          "MALFORMED",
        ],
        ["bad signature", () => postTx(n.url, badSig), 400, "BAD_SIGNATURE"],
        ["nonce gap", () => postTx(n.url, transfer(5n)), 400, ["NONCE_TOO_HIGH", "BAD_NONCE"]],
        [
          "insufficient funds",
          () => postTx(n.url, transfer(3n, { amount: SUBSIDY * BigInt(H) })),
          400,
          "INSUFFICIENT_FUNDS",
        ],
        [
          "unfunded sender",
          () =>
            postTx(
              n.url,
              signTransfer(
                { network: REGTEST.networkId, recipient: recipientKey, amount: 1n, fee: 1_000n, nonce: 0n },
                generateSecretKey(),
              ),
            ),
          400,
          "INSUFFICIENT_FUNDS",
        ],
        ["fee too low", () => postTx(n.url, transfer(3n, { fee: 999n })), 400, "FEE_TOO_LOW"],
        ["zero amount", () => postTx(n.url, transfer(3n, { amount: 0n })), 400, "BAD_AMOUNT"],
        ["duplicate", () => postTx(n.url, sent[0]), 400, "ALREADY_KNOWN"],
        [
          "duplicate as JSON",
          () => postBody(n, JSON.stringify({ tx: hex0 }), "application/json"),
          400,
          "ALREADY_KNOWN",
        ],
        ["wrong network", () => postTx(n.url, transfer(3n, { network: DEVNET.networkId })), 400, "WRONG_NETWORK"],
        ["coinbase", () => postBody(n, bytesToHex(encodeTx(coinbase))), 400, "BAD_COINBASE"],
        [
          "coinbase as JSON",
          () => postBody(n, JSON.stringify({ tx: bytesToHex(encodeTx(coinbase)) }), "application/json"),
          400,
          "BAD_COINBASE",
        ],
        [
          "fields with a devnet sender",
          () =>
            postBody(
              n,
              JSON.stringify({
                sender: encodeAddress(miner.publicKey, DEVNET.addressPrefix),
                recipient,
                amount: "1",
                fee: "1000",
                nonce: "3",
                signature: "00".repeat(64),
              }),
              "application/json",
            ),
          400,
          "WRONG_NETWORK",
        ],
        ["oversized", () => postBody(n, "ab".repeat(10_000)), 413, "MESSAGE_TOO_LARGE"],
        [
          "oversized JSON",
          () => postBody(n, JSON.stringify({ tx: "ab".repeat(10_000) }), "application/json"),
          413,
          "MESSAGE_TOO_LARGE",
        ],
      ];
      for (const [what, send, status, code] of cases) assertError(await send(), status, code, what);
      // None of them changed the mempool.
      assert.equal((await getJson<StatusJson>(n, "/status")).mempool, 3);
    });

    await t.step("unknown routes are 404 JSON", async () => {
      for (const path of ["/nope", "/block", "/tx", "/status/extra", "/proof", "/proof/block/1"]) {
        assertError(await get(n, path), 404, "NOT_FOUND", path);
      }
      assertError(await request(`${n.url}/status`, { method: "POST", body: "{}" }), 404, "NOT_FOUND", "POST /status");
      assertError(await request(`${n.url}/tx`, { method: "GET" }), 404, "NOT_FOUND", "GET /tx");
    });

    // ---- phase 3: mining again; the pending transactions are reloaded and confirm ------
    assert.equal(await n.kill("SIGTERM"), 0);
    node = await startNode({ dataDir, args: ["--pace-ms", "300"] });
    const m = node;

    await t.step(
      "pending transactions survive a restart and confirm; /tx and /proof/tx then show the block",
      async () => {
        for (const txid of sentIds) {
          const tx = await waitFor(async () => {
            const r = await getJson<TxJson>(m, `/tx/${txid}`);
            return r.status === "confirmed" ? r : undefined;
          }, { timeoutMs: LONG, what: `${txid.slice(0, 16)} confirmed` });
          assert.match(tx.blockHash!, HEX64);
          assert.ok(tx.height! > H);
          assert.ok(tx.index! >= 1);
          const block = await getJson<BlockJson>(m, `/block/${tx.blockHash}`);
          assert.equal(block.txs[tx.index!].txid, txid);
          await checkTxProof(m, txid);
        }
        assert.match(m.log(), /reloaded 3 mempool transaction\(s\)/);
        await waitFor(async () => {
          const a = await getJson<AccountJson>(m, `/account/${recipient}`);
          return a.balance === (6n * COIN).toString() && a.nonce === "0";
        }, { timeoutMs: LONG, what: "the recipient credited with 6 coins" });
        const sender = await getJson<AccountJson>(m, `/account/${minerAddress}`);
        assert.deepEqual([sender.nonce, sender.pendingTxs], ["3", 0]);
        // The recipient now has a state entry: prove it (the tip may move between requests).
        await waitFor(async () => (await checkAccountProof(m, recipientKey))?.balance === 6n * COIN, {
          timeoutMs: LONG,
          what: "a verified proof of the recipient's account",
        });
      },
    );

    await t.step("POST /tx of an already confirmed transaction is BAD_NONCE", async () => {
      assertError(await postTx(m.url, sent[0]), 400, "BAD_NONCE", "replayed transaction");
    });

    await t.step("history proofs verify while the tip moves", async () => {
      const tipHeight = (await m.status()).height;
      for (const h of [0, 2, H, tipHeight - 1]) await checkHistoryProof(m, h);
    });

    await t.step("no hostile request gets a 5xx and the node keeps answering", async () => {
      const url = m.url;
      const long = "9".repeat(8_000);
      const json = "application/json";
      const fetches: [string, string, RequestInit?][] = [
        ["huge from", `/headers?from=${long}`],
        ["huge count", `/headers?count=${long}`],
        ["huge query key", `/status?${"a".repeat(50_000)}=1`],
        ["repeated params", `/headers?from=1&from=2&count=3&count=4`],
        ["array param", `/headers?from[]=1`],
        ["hex count", `/headers?count=0x10`],
        ["exponent count", `/headers?count=1e3`],
        ["bad percent in query", `/headers?from=%ZZ&count=%`],
        ["nul in path", `/block/%00`],
        ["invalid UTF-8 escape", `/block/%ff%fe`],
        ["truncated escape", `/tx/%E0%A4%A`],
        ["emoji address", `/account/%F0%9F%92%A9`],
        ["long address", `/account/elr1${"q".repeat(5_000)}`],
        ["long block id", `/block/${long}`],
        ["long height", `/proof/history/${long}`],
        ["negative zero", `/block/-0`],
        ["spaces", `/block/%201`],
        ["dot segments", `/block/..%2f..%2fetc%2fpasswd`],
        ["double slash", `//status`],
        ["trailing slash", `/status/`],
        ["empty param", `/tx/`],
        ["proof of nothing", `/proof/account/`],
        ["unicode digits", `/block/%D9%A1`],
        ["PUT /tx", `/tx`, { method: "PUT", body: "00" }],
        ["DELETE /status", `/status`, { method: "DELETE" }],
        ["PATCH /block/1", `/block/1`, { method: "PATCH", body: "x" }],
        ["OPTIONS /", `/`, { method: "OPTIONS" }],
        ["HEAD /status", `/status`, { method: "HEAD" }],
        ["deep JSON", `/tx`, {
          method: "POST",
          headers: { "content-type": json },
          body: "[".repeat(8_000) + "]".repeat(8_000),
        }],
        ["JSON proto", `/tx`, { method: "POST", headers: { "content-type": json }, body: `{"__proto__":{"tx":"00"}}` }],
        ["JSON tx number", `/tx`, { method: "POST", headers: { "content-type": json }, body: `{"tx":123}` }],
        ["JSON tx null", `/tx`, { method: "POST", headers: { "content-type": json }, body: `{"tx":null}` }],
        [
          "JSON amount 2^64",
          `/tx`,
          {
            method: "POST",
            headers: { "content-type": json },
            body: JSON.stringify({
              sender: minerAddress,
              recipient,
              amount: "18446744073709551616",
              fee: "1000",
              nonce: "3",
              signature: "00".repeat(64),
            }),
          },
        ],
        [
          "JSON huge numbers",
          `/tx`,
          {
            method: "POST",
            headers: { "content-type": json },
            body:
              `{"sender":"${minerAddress}","recipient":"${recipient}","amount":1e308,"fee":-1,"nonce":0.5,"signature":"${
                "00".repeat(64)
              }"}`,
          },
        ],
        [
          "zero signature",
          `/tx`,
          {
            method: "POST",
            headers: { "content-type": json },
            body: JSON.stringify({
              sender: minerAddress,
              recipient,
              amount: "1",
              fee: "1000",
              nonce: "3",
              signature: "00".repeat(64),
            }),
          },
        ],
        ["JSON with hex content type", `/tx`, { method: "POST", headers: { "content-type": json }, body: "1234" }],
        ["binary body", `/tx`, { method: "POST", body: new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]) }],
        ["all-zero transfer", `/tx`, { method: "POST", body: "00".repeat(157) }],
        ["all-ff transfer", `/tx`, { method: "POST", body: "00" + "ff".repeat(156) }],
        ["form body", `/tx`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "tx=00",
        }],
        [
          "streamed oversize body",
          `/tx`,
          {
            method: "POST",
            body: new ReadableStream({
              start(c) {
                for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode("ab".repeat(500)));
                c.close();
              },
            }),
          },
        ],
      ];
      const enc = new TextEncoder();
      const bytes = (...parts: (string | number[])[]) => {
        const chunks = parts.map((p) => typeof p === "string" ? enc.encode(p) : new Uint8Array(p));
        const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
        let o = 0;
        for (const c of chunks) {
          out.set(c, o);
          o += c.length;
        }
        return out;
      };
      const end = " HTTP/1.1\r\nhost: x\r\nconnection: close\r\n";
      const raws: [string, Uint8Array][] = [
        ["raw non-UTF-8 path", bytes("GET /block/", [0xff, 0xfe], end + "\r\n")],
        ["raw non-UTF-8 address", bytes("GET /account/", [0xc3, 0x28], end + "\r\n")],
        ["raw unknown method", bytes("BREW /status" + end + "\r\n")],
        ["raw dot segments", bytes("GET /../../../etc/passwd" + end + "\r\n")],
        ["raw absolute URI", bytes("GET http://evil.example/status" + end + "\r\n")],
        ["raw lying content-length", bytes("POST /tx" + end + "content-length: 99999999999\r\n\r\nab")],
        ["raw non-numeric content-length", bytes("POST /tx" + end + "content-length: abc\r\n\r\nab")],
        ["raw non-UTF-8 body", bytes("POST /tx" + end + "content-length: 4\r\n\r\n", [0xff, 0xfe, 0xfd, 0xfc])],
        ["raw non-UTF-8 header", bytes("GET /status" + end + "x-junk: ", [0xff, 0xc0], "\r\n\r\n")],
        ["raw 100 kB query", bytes("GET /headers?from=" + "9".repeat(100_000) + end + "\r\n")],
        ["raw 100 kB header", bytes("GET /status" + end + "x-big: " + "a".repeat(100_000) + "\r\n\r\n")],
        ["raw HTTP/1.0 without host", bytes("GET /status HTTP/1.0\r\n\r\n")],
        ["raw malformed request line", bytes("GET\r\n\r\n")],
        [
          "raw chunked oversize",
          bytes(
            "POST /tx" + end + "transfer-encoding: chunked\r\n\r\n" +
              ("3e8\r\n" + "a".repeat(1000) + "\r\n").repeat(20) + "0\r\n\r\n",
          ),
        ],
      ];
      const failures: string[] = [];
      for (const [what, path, init] of fetches) {
        let status: number | string;
        try {
          status = (await request(url + path, init)).status;
        } catch (err) {
          status = `no response (${(err as Error).message.slice(0, 80)})`;
        }
        if (typeof status !== "number" || status >= 500) failures.push(`${what}: ${status}`);
      }
      for (const [what, raw] of raws) {
        const status = await rawRequest(m.port, raw);
        if (status !== undefined && status >= 500) failures.push(`${what}: ${status}`);
      }
      assert.deepEqual(
        failures,
        [],
        `5xx responses:\n${failures.join("\n")}\n${m.log().split("\n").filter((l) => l.includes("HTTP")).join("\n")}`,
      );
      assert.ok(fetches.length + raws.length >= 50);
      const after = await getJson<StatusJson>(m, "/status");
      assert.equal(after.network, "regtest");
      assert.ok(!/ error /.test(m.log()), `the node logged errors:\n${m.log()}`);
    });

    const postTxHead = "POST /tx HTTP/1.1\r\nhost: x\r\nconnection: close\r\n";
    await t.step("POST /tx with a body the client cuts short is not a 5xx and logs no error", async () => {
      const enc = new TextEncoder();
      const logBefore = m.log().length;
      const cut: [string, string][] = [
        ["chunked body cut off", postTxHead + "transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n"],
        ["content-length longer than the body", postTxHead + "content-length: 100\r\n\r\nabc"],
      ];
      const failures: string[] = [];
      for (const [what, raw] of cut) {
        // The client half-closes: it sends no more, but still reads the answer.
        const status = await rawRequest(m.port, enc.encode(raw), { closeWrite: true });
        if (status !== undefined && status >= 500) failures.push(`${what}: ${status}`);
      }
      const logged = m.log().slice(logBefore).split("\n").filter((l) => / error /.test(l));
      assert.deepEqual(failures, [], `5xx responses:\n${failures.join("\n")}\n${logged.join("\n")}`);
      assert.deepEqual(logged, []);
      assert.equal((await getJson<StatusJson>(m, "/status")).network, "regtest");
    });

    await t.step(
      "POST /tx answers 413 to a streamed body once it passes the limit, without waiting for its end",
      async () => {
        // 40 kB of chunks and no final chunk: the body never ends, so only a server that counts
        // while reading can answer; one that buffers the whole body first never does.
        const chunks = ("3e8\r\n" + "a".repeat(1000) + "\r\n").repeat(40);
        const raw = new TextEncoder().encode(postTxHead + "transfer-encoding: chunked\r\n\r\n" + chunks);
        assert.equal(await rawRequest(m.port, raw, { timeoutMs: 10_000 }), 413);
        assert.equal((await getJson<StatusJson>(m, "/status")).network, "regtest");
      },
    );
  } finally {
    await stopNodes([node]);
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
