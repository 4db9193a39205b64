/**
 * Wire messages: JSON text frames validated by zod (protocol/messages.ts).
 *
 * Run: deno test -A tests/messages_test.ts
 */
import assert from "node:assert/strict";
import { bytesToHex } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import { type BlockHeader, encodeHeader } from "../protocol/header.ts";
import { encodeAddress } from "../protocol/keys.ts";
import {
  encodeMessage,
  errorMessage,
  MAX_HEADERS_PER_MESSAGE,
  MAX_INV_ITEMS,
  MAX_LOCATOR_HASHES,
  type Message,
  MESSAGE_TYPES,
  parseMessage,
  PROTOCOL_VERSION,
  RESPONSE_OF,
} from "../protocol/messages.ts";
import { DEVNET } from "../protocol/params.ts";
import { encodeTx, signTransfer } from "../protocol/tx.ts";
import { type Rng, rng } from "./helpers/random.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const MAX = DEVNET.maxMessageBytes;

const r0 = rng(0x3e55);
const hash = (r: Rng = r0) => bytesToHex(r.bytes(32));
const header = (r: Rng = r0): string => {
  const h: BlockHeader = {
    version: 1,
    height: r.int(100_000),
    prevHash: r.bytes(32),
    txRoot: r.bytes(32),
    stateRoot: r.bytes(32),
    historyRoot: r.bytes(32),
    time: 1_764_028_800_000 + r.int(1e9),
    bits: 0x207fffff,
    nonce: BigInt(r.int(2 ** 40)),
  };
  return bytesToHex(encodeHeader(h));
};
const txHex = bytesToHex(
  encodeTx(
    signTransfer({ network: DEVNET.networkId, recipient: r0.bytes(32), amount: 5n, fee: 1n, nonce: 0n }, r0.bytes(32)),
  ),
);

/** One or more valid examples of every message type. */
const EXAMPLES: Message[] = [
  {
    type: "hello",
    version: PROTOCOL_VERSION,
    network: "devnet",
    genesis: hash(),
    role: "node",
    agent: "edgeledger/0.1.0",
    height: 0,
  },
  {
    type: "hello",
    version: 0xffff,
    network: "regtest",
    genesis: hash(),
    role: "light",
    agent: "",
    height: 0xffff_ffff,
    token: "secret",
  },
  { type: "hello", version: 1, network: "devnet", genesis: hash(), role: "relay", agent: "relay", height: 7 },
  { type: "ping" },
  { type: "ping", nonce: "n-1" },
  { type: "pong" },
  { type: "pong", nonce: "n-1" },
  { type: "error", code: "BAD_MESSAGE", message: "invalid getblock: hash: expected lower-case hex" },
  { type: "error", id: "req-1", code: "UNKNOWN_TYPE", message: "" },
  { type: "inv" },
  { type: "inv", blocks: [hash()], txs: [hash(), hash()] },
  { type: "inv", blocks: [], txs: [] },
  { type: "getheaders", id: "1", locator: [hash()] },
  {
    type: "getheaders",
    id: "x".repeat(64),
    locator: Array.from({ length: MAX_LOCATOR_HASHES }, () => hash()),
    stop: hash(),
    limit: MAX_HEADERS_PER_MESSAGE,
  },
  { type: "headers", headers: [header()] },
  { type: "headers", id: "2", headers: [] },
  { type: "headers", id: "3", headers: [header(), header(), header()] },
  { type: "getblock", id: "4", hash: hash() },
  { type: "block", id: "4", block: header() + "01" + txHex },
  { type: "block", id: "5", block: null },
  { type: "gettx", id: "6", txid: hash() },
  { type: "tx", id: "6", tx: txHex },
  { type: "tx", id: "7", tx: null },
  { type: "sendtx", id: "8", tx: txHex },
  { type: "txack", id: "8", txid: hash() },
  { type: "gettxproof", id: "9", txid: hash() },
  { type: "txproof", id: "9", tx: txHex, header: header(), index: 3, size: 7, proof: [hash(), hash(), hash()] },
  { type: "txproof", id: "10", tx: txHex, header: header(), index: 0, size: 1, proof: [] },
  { type: "getaccountproof", id: "11", address: encodeAddress(r0.bytes(32), DEVNET.addressPrefix) },
  {
    type: "accountproof",
    id: "11",
    header: header(),
    account: bytesToHex(r0.bytes(16)),
    proof: bytesToHex(r0.bytes(300)),
  },
  { type: "accountproof", id: "12", header: header(), account: null, proof: "" },
  { type: "gethistoryproof", id: "13", height: 5 },
  { type: "gethistoryproof", id: "14", height: 0, at: hash() },
  { type: "historyproof", id: "13", header: header(), at: header(), proof: [hash(), hash()] },
  { type: "getcheckpoint", id: "15", height: 7 },
  { type: "checkpoint", id: "15", header: header(), ancestors: [header(), header()], history: "0a" + hash() },
];

function example<T extends Message["type"]>(type: T): Extract<Message, { type: T }> {
  const found = EXAMPLES.find((m) => m.type === type);
  if (!found) throw new Error(`no example of ${type}`);
  return structuredClone(found) as Extract<Message, { type: T }>;
}

/** JSON of `type`'s first example with `change` applied (`undefined` deletes a field). */
function variant(type: Message["type"], change: Record<string, unknown>): string {
  const msg: Record<string, unknown> = { ...example(type), ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete msg[k];
  return JSON.stringify(msg);
}

function expectRejection(text: unknown, code: ErrorCode, ban: boolean, label: string, maxBytes = MAX): void {
  try {
    const parsed = parseMessage(text as string, maxBytes);
    assert.fail(`${label}: expected ${code}, parsed ${JSON.stringify(parsed).slice(0, 200)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof ValidationError, `${label}: expected ValidationError, got ${err}`);
    assert.equal(err.code, code, `${label}: ${err.message}`);
    assert.equal(err.ban, ban, `${label}: ban`);
  }
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

Deno.test("the examples cover every message type", () => {
  assert.deepEqual(new Set(EXAMPLES.map((m) => m.type)), new Set(MESSAGE_TYPES));
  assert.equal(MESSAGE_TYPES.size, 21);
  for (const [request, response] of Object.entries(RESPONSE_OF)) {
    assert.ok(MESSAGE_TYPES.has(request), request);
    assert.ok(MESSAGE_TYPES.has(response), response);
  }
});

Deno.test("every message type round-trips through encodeMessage() and parseMessage()", () => {
  for (const msg of EXAMPLES) {
    const text = encodeMessage(msg);
    const parsed = parseMessage(text, MAX);
    assert.deepEqual(parsed, msg, msg.type);
    assert.equal(encodeMessage(parsed), text, msg.type);
    // A peer's own serialization (any key order, any whitespace) parses to the same message.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(msg).reverse()), null, 2);
    assert.deepEqual(parseMessage(reordered, MAX), msg, `${msg.type} reordered`);
  }
});

Deno.test("parseMessage() accepts a frame of exactly maxBytes", () => {
  const text = encodeMessage({ type: "ping", nonce: "n" });
  assert.deepEqual(parseMessage(text, text.length), { type: "ping", nonce: "n" });
});

Deno.test("parseMessage() accepts the largest lists: 2000 headers, 64 locator hashes, 1000 inv items", () => {
  const headers = Array.from({ length: MAX_HEADERS_PER_MESSAGE }, () => header());
  assert.equal(parseMessage(JSON.stringify({ type: "headers", headers }), MAX).type, "headers");
  const items = Array.from({ length: MAX_INV_ITEMS }, () => hash());
  assert.equal(parseMessage(JSON.stringify({ type: "inv", blocks: items, txs: items }), MAX).type, "inv");
});

Deno.test("errorMessage() builds a valid error message and caps its text at 1024 characters", () => {
  assert.deepEqual(parseMessage(encodeMessage(errorMessage("BAD_MESSAGE", "bad")), MAX), {
    type: "error",
    code: "BAD_MESSAGE",
    message: "bad",
  });
  const long = errorMessage("UNKNOWN_TYPE", "x".repeat(5000), "req-9");
  assert.equal(long.message.length, 1024);
  assert.equal(long.id, "req-9");
  assert.deepEqual(parseMessage(encodeMessage(long), MAX), long);
});

Deno.test("encodeMessage() refuses to serialize an invalid message", () => {
  assert.throws(() => encodeMessage({ type: "getblock", id: "1", hash: "AB".repeat(32) }));
  assert.throws(() => encodeMessage({ type: "nope" } as Any));
  assert.throws(() => encodeMessage({ type: "ping", extra: 1 } as Any));
});

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

Deno.test("parseMessage() rejects non-JSON, non-object and untyped frames with BAD_MESSAGE and a ban", () => {
  const r = rng(0xbad1);
  const cases: [string, unknown][] = [
    ["empty", ""],
    ["whitespace", "   "],
    ["null", "null"],
    ["[]", "[]"],
    ['[{"type":"ping"}]', '[{"type":"ping"}]'],
    ["42", "42"],
    ["true", "true"],
    ['"ping"', '"ping"'],
    ["truncated JSON", '{"type":"ping"'],
    ["single quotes", "{'type':'ping'}"],
    ["trailing comma", '{"type":"ping",}'],
    ["two objects", '{"type":"ping"}{"type":"ping"}'],
    ["NaN", '{"type":"gethistoryproof","id":"1","height":NaN}'],
    ["missing type", "{}"],
    ["missing type with fields", '{"id":"1","hash":"00"}'],
    ['{"type":5}', '{"type":5}'],
    ['{"type":null}', '{"type":null}'],
    ['{"type":["ping"]}', '{"type":["ping"]}'],
    ['{"type":{"toString":"ping"}}', '{"type":{"toString":"ping"}}'],
    ["binary frame", new TextEncoder().encode('{"type":"ping"}')],
    ["null value", null],
    ["undefined", undefined],
    ["object value", { type: "ping" }],
  ];
  for (let i = 0; i < 50; i++) {
    cases.push([`random latin1 ${i}`, String.fromCharCode(...r.bytes(1 + r.int(300)))]);
  }
  for (const [label, text] of cases) expectRejection(text, ErrorCode.BAD_MESSAGE, true, label);
});

Deno.test("parseMessage() rejects an unknown type with UNKNOWN_TYPE and no ban", () => {
  for (
    const type of ["nope", "", "PING", "Ping", " ping", "ping ", "getblocks", "__proto__", "constructor", "toString"]
  ) {
    expectRejection(JSON.stringify({ type }), ErrorCode.UNKNOWN_TYPE, false, JSON.stringify(type));
    expectRejection(
      JSON.stringify({ type, id: "1", extra: [1, 2] }),
      ErrorCode.UNKNOWN_TYPE,
      false,
      `${type} + fields`,
    );
  }
  // The error message quotes at most 32 characters of the unknown type.
  try {
    parseMessage(JSON.stringify({ type: "z".repeat(10_000) }), MAX);
    assert.fail("accepted");
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    assert.ok(err.message.length < 100, err.message);
  }
});

Deno.test("parseMessage() rejects extra fields on every message type (strict objects)", () => {
  for (const msg of EXAMPLES) {
    expectRejection(JSON.stringify({ ...msg, extra: 1 }), ErrorCode.BAD_MESSAGE, true, `${msg.type} + extra`);
    expectRejection(JSON.stringify({ ...msg, Type: msg.type }), ErrorCode.BAD_MESSAGE, true, `${msg.type} + Type`);
  }
  expectRejection('{"type":"ping","__proto__":{"nonce":"x"}}', ErrorCode.BAD_MESSAGE, true, "__proto__ key");
  expectRejection('{"type":"ping","constructor":1}', ErrorCode.BAD_MESSAGE, true, "constructor key");
});

Deno.test("parseMessage() rejects a missing required field on every message type", () => {
  const optional = new Set(["token", "nonce", "blocks", "txs", "stop", "limit", "at"]);
  for (const msg of EXAMPLES) {
    for (const key of Object.keys(msg)) {
      if (key === "type" || optional.has(key) || (key === "id" && (msg.type === "headers" || msg.type === "error"))) {
        continue;
      }
      const without: Record<string, unknown> = { ...msg };
      delete without[key];
      expectRejection(JSON.stringify(without), ErrorCode.BAD_MESSAGE, true, `${msg.type} without ${key}`);
    }
  }
});

Deno.test("parseMessage() rejects malformed hex, hashes and headers", () => {
  const h = hash();
  const hdr = header();
  const cases: [string, string][] = [
    ["upper-case hash", variant("getblock", { hash: h.toUpperCase() })],
    ["one upper-case hex digit", variant("getblock", { hash: "A" + h.slice(1) })],
    ["hash with 0x prefix", variant("getblock", { hash: "0x" + h.slice(2) })],
    ["non-hex hash", variant("getblock", { hash: "g" + h.slice(1) })],
    ["hash of 63 chars", variant("getblock", { hash: h.slice(1) })],
    ["hash of 65 chars", variant("getblock", { hash: h + "0" })],
    ["hash of 62 chars", variant("getblock", { hash: h.slice(2) })],
    ["hash of 66 chars", variant("getblock", { hash: h + "00" })],
    ["empty hash", variant("getblock", { hash: "" })],
    ["hash as bytes", variant("getblock", { hash: Array.from({ length: 32 }, () => 0) })],
    ["txid of 63 chars", variant("gettx", { txid: h.slice(1) })],
    ["txack txid upper-case", variant("txack", { txid: h.toUpperCase() })],
    ["hello genesis of 65 chars", variant("hello", { genesis: h + "0" })],
    ["inv with a short hash", variant("inv", { blocks: [h.slice(1)] })],
    ["getheaders stop upper-case", variant("getheaders", { stop: h.toUpperCase() })],
    ["upper-case tx hex", variant("sendtx", { tx: txHex.toUpperCase() })],
    ["odd-length tx hex", variant("sendtx", { tx: txHex.slice(1) })],
    ["odd-length tx hex (3)", variant("sendtx", { tx: "abc" })],
    ["non-hex tx", variant("sendtx", { tx: "zz" })],
    ["tx over 512 bytes", variant("sendtx", { tx: "00".repeat(513) })],
    ["odd-length block hex", variant("block", { block: "abc" })],
    ["upper-case block hex", variant("block", { block: "AB" })],
    ["header of 310 chars", variant("headers", { headers: [hdr.slice(2)] })],
    ["header of 311 chars", variant("headers", { headers: [hdr.slice(1)] })],
    ["header of 314 chars", variant("headers", { headers: [hdr + "00"] })],
    ["header of 0 chars", variant("headers", { headers: [""] })],
    ["upper-case header", variant("headers", { headers: [hdr.toUpperCase()] })],
    ["txproof header of 310 chars", variant("txproof", { header: hdr.slice(2) })],
    ["historyproof at of 314 chars", variant("historyproof", { at: hdr + "00" })],
    ["accountproof account of 30 chars", variant("accountproof", { account: "00".repeat(15) })],
    ["accountproof odd proof", variant("accountproof", { proof: "0" })],
  ];
  for (const [label, text] of cases) expectRejection(text, ErrorCode.BAD_MESSAGE, true, label);
});

Deno.test("parseMessage() rejects lists that are too short or too long", () => {
  const hashes = (n: number) => Array.from({ length: n }, () => hash());
  const cases: [string, string][] = [
    ["locator with 0 hashes", variant("getheaders", { locator: [] })],
    ["locator with 65 hashes", variant("getheaders", { locator: hashes(MAX_LOCATOR_HASHES + 1) })],
    ["headers with 2001 entries", variant("headers", { headers: Array(MAX_HEADERS_PER_MESSAGE + 1).fill(header()) })],
    ["inv with 1001 blocks", variant("inv", { blocks: hashes(MAX_INV_ITEMS + 1) })],
    ["inv with 1001 txs", variant("inv", { txs: hashes(MAX_INV_ITEMS + 1) })],
    ["txproof with 65 hashes", variant("txproof", { proof: hashes(65) })],
    ["historyproof with 65 hashes", variant("historyproof", { proof: hashes(65) })],
    ["locator as a string", variant("getheaders", { locator: hash() })],
    ["headers as an object", variant("headers", { headers: { 0: header() } })],
  ];
  for (const [label, text] of cases) expectRejection(text, ErrorCode.BAD_MESSAGE, true, label);
});

Deno.test("parseMessage() rejects ids of 0 and 65 characters and non-string ids", () => {
  for (const type of ["getheaders", "getblock", "sendtx", "gethistoryproof", "headers", "error"] as const) {
    for (const id of ["", "x".repeat(65), 1, null, ["1"]]) {
      expectRejection(variant(type, { id }), ErrorCode.BAD_MESSAGE, true, `${type} id ${JSON.stringify(id)}`);
    }
  }
});

Deno.test("parseMessage() rejects negative, fractional, huge and non-number heights and counts", () => {
  const cases: [string, string][] = [];
  for (const height of [-1, -0.5, 0.5, 1.5, 2 ** 32, 1e300, "1", null, true]) {
    cases.push([`hello height ${height}`, variant("hello", { height })]);
    cases.push([`gethistoryproof height ${height}`, variant("gethistoryproof", { height })]);
  }
  cases.push([
    "height 1e400 (Infinity)",
    variant("gethistoryproof", { height: 0 }).replace('"height":0', '"height":1e400'),
  ]);
  cases.push(["height -1e400", variant("gethistoryproof", { height: 0 }).replace('"height":0', '"height":-1e400')]);
  for (const limit of [0, -1, 1.5, MAX_HEADERS_PER_MESSAGE + 1]) {
    cases.push([`getheaders limit ${limit}`, variant("getheaders", { limit })]);
  }
  for (
    const [field, value] of [["index", -1], ["index", 0.5], ["size", 0], ["size", -3], ["index", 2 ** 53]] as const
  ) {
    cases.push([`txproof ${field} ${value}`, variant("txproof", { [field]: value })]);
  }
  for (const version of [0, -1, 1.5, 0x10000, "1"]) {
    cases.push([`hello version ${version}`, variant("hello", { version })]);
  }
  for (const [label, text] of cases) expectRejection(text, ErrorCode.BAD_MESSAGE, true, label);
});

Deno.test("parseMessage() rejects bad enums and over-long strings", () => {
  const cases: [string, string][] = [
    ["hello role miner", variant("hello", { role: "miner" })],
    ["hello role Node", variant("hello", { role: "Node" })],
    ["hello empty network", variant("hello", { network: "" })],
    ["hello network of 33 chars", variant("hello", { network: "n".repeat(33) })],
    ["hello agent of 129 chars", variant("hello", { agent: "a".repeat(129) })],
    ["hello token of 257 chars", variant("hello", { token: "t".repeat(257) })],
    ["ping nonce of 65 chars", variant("ping", { nonce: "n".repeat(65) })],
    ["ping nonce as a number", variant("ping", { nonce: 5 })],
    ["error empty code", variant("error", { code: "" })],
    ["error message of 1025 chars", variant("error", { message: "m".repeat(1025) })],
    ["getaccountproof empty address", variant("getaccountproof", { address: "" })],
    ["getaccountproof address of 129 chars", variant("getaccountproof", { address: "a".repeat(129) })],
    ["sendtx tx null", variant("sendtx", { tx: null })],
    ["type with trailing NUL", variant("ping", { type: "ping\u0000" })],
  ];
  for (const [label, text] of cases) {
    const expected = label === "type with trailing NUL" ? ErrorCode.UNKNOWN_TYPE : ErrorCode.BAD_MESSAGE;
    expectRejection(text, expected, expected === ErrorCode.BAD_MESSAGE, label);
  }
});

Deno.test("parseMessage() rejects deeply nested JSON without overflowing the stack", () => {
  const depth = 1_000_000;
  const nested = "[".repeat(depth) + "]".repeat(depth);
  expectRejection(`{"type":"ping","nonce":${nested}}`, ErrorCode.BAD_MESSAGE, true, "nested nonce");
  expectRejection(`{"type":"ping","extra":${nested}}`, ErrorCode.BAD_MESSAGE, true, "nested extra field");
  expectRejection(`{"type":"nope","x":${nested}}`, ErrorCode.UNKNOWN_TYPE, false, "nested unknown type");
  expectRejection(`{"type":"ping","nonce":${"[".repeat(depth)}`, ErrorCode.BAD_MESSAGE, true, "unclosed nesting");
});

Deno.test("parseMessage() rejects a frame over maxBytes with MESSAGE_TOO_LARGE before parsing it", () => {
  const text = encodeMessage({ type: "ping", nonce: "n" });
  expectRejection(text, ErrorCode.MESSAGE_TOO_LARGE, true, "one over", text.length - 1);
  expectRejection(text, ErrorCode.MESSAGE_TOO_LARGE, true, "maxBytes 0", 0);
  // Over the network cap: the size check comes first, whatever the content.
  expectRejection("x".repeat(MAX + 1), ErrorCode.MESSAGE_TOO_LARGE, true, "maxMessageBytes + 1 of garbage");
  const big = JSON.stringify({ type: "block", id: "1", block: "00".repeat(MAX / 2) });
  expectRejection(big, ErrorCode.MESSAGE_TOO_LARGE, true, "valid-looking block over maxMessageBytes");
});

Deno.test("parseMessage() rejects a frame whose UTF-8 size exceeds maxBytes even when its UTF-16 length does not", () => {
  // 60 three-byte characters: 86 UTF-16 code units but 206 bytes on the wire (WebSocket text frames are UTF-8).
  const text = JSON.stringify({ type: "ping", nonce: "€".repeat(60) });
  assert.equal(text.length, 86);
  assert.equal(new TextEncoder().encode(text).length, 206);
  expectRejection(text, ErrorCode.MESSAGE_TOO_LARGE, true, "206 UTF-8 bytes with maxBytes 100", 100);
});

// ---------------------------------------------------------------------------------------------
// Fuzz
// ---------------------------------------------------------------------------------------------

const FUZZ_ALPHABET = '{}[]":,0123456789abcdefABCDEF-+.eE tfnulrsxyz\\/\n\t\u0000€😀\ud800';

function mutate(r: Rng, text: string): string {
  let out = text;
  const edits = 1 + r.int(3);
  for (let i = 0; i < edits; i++) {
    const pos = r.int(out.length + 1);
    const ch = r.int(4) === 0 ? String.fromCharCode(r.int(0x10000)) : FUZZ_ALPHABET[r.int(FUZZ_ALPHABET.length)];
    switch (r.int(3)) {
      case 0: // replace
        out = out.slice(0, pos) + ch + out.slice(pos + 1);
        break;
      case 1: // insert
        out = out.slice(0, pos) + ch + out.slice(pos);
        break;
      default: // delete
        out = out.slice(0, pos) + out.slice(pos + 1);
    }
  }
  return out;
}

Deno.test("parseMessage() throws only ValidationError for 2,000 random mutations of valid messages", () => {
  const r = rng(0xf022);
  const texts = EXAMPLES.map((m) => encodeMessage(m));
  const codes = new Set<string>([ErrorCode.BAD_MESSAGE, ErrorCode.UNKNOWN_TYPE, ErrorCode.MESSAGE_TOO_LARGE]);
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const source = texts[r.int(texts.length)];
    const text = mutate(r, source);
    const maxBytes = r.int(10) === 0 ? r.int(source.length + 2) : MAX;
    let parsed: Message;
    try {
      parsed = parseMessage(text, maxBytes);
    } catch (err) {
      assert.ok(err instanceof ValidationError, `mutation ${i} ${JSON.stringify(text)} threw ${err}`);
      assert.ok(codes.has(err.code), `mutation ${i}: code ${err.code}`);
      assert.equal(err.ban, err.code !== ErrorCode.UNKNOWN_TYPE, `mutation ${i}: ban for ${err.code}`);
      continue;
    }
    // Whatever is accepted is a valid message that serializes again.
    accepted++;
    assert.ok(MESSAGE_TYPES.has(parsed.type), `mutation ${i}`);
    assert.doesNotThrow(() => encodeMessage(parsed), `mutation ${i} ${JSON.stringify(text)}`);
  }
  // Sanity: the fuzzer exercises both outcomes.
  assert.ok(accepted > 0 && accepted < 2000, `accepted ${accepted}`);
});
