/**
 * Keys, BIP340 signatures and bech32m addresses (protocol/keys.ts).
 *
 * Run: deno test -A tests/keys_test.ts
 */
import assert from "node:assert/strict";
import { bech32, bech32m } from "@scure/base";
import { bytesToHex, equalBytes, hexToBytes } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import {
  bech32mEncode,
  decodeAddress,
  encodeAddress,
  generateSecretKey,
  isValidPublicKey,
  publicKeyFromSecret,
  signMessage,
  verifySignature,
} from "../protocol/keys.ts";
import { DEVNET, REGTEST } from "../protocol/params.ts";
import { rng } from "./helpers/random.ts";

/** secp256k1 field prime p and group order n (SEC 2 §2.4.1). */
const P_HEX = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f";
const N_HEX = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
/** BIP340 test vector 5: an x coordinate with no point on the curve. */
const OFF_CURVE_KEY = "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34";

// deno-lint-ignore no-explicit-any
type Any = any;

function bigToBytes32(n: bigint): Uint8Array {
  return hexToBytes(n.toString(16).padStart(64, "0"));
}

function bytesToBig(b: Uint8Array): bigint {
  return BigInt("0x" + bytesToHex(b));
}

/** A signer with a key from the seeded PRNG (random 32 bytes are a valid key with overwhelming probability). */
function fixture(seed: number) {
  const r = rng(seed);
  const secretKey = r.bytes(32);
  const publicKey = publicKeyFromSecret(secretKey);
  const message = r.bytes(32);
  const signature = signMessage(message, secretKey, r.bytes(32));
  return { r, secretKey, publicKey, message, signature };
}

function assertAddressError(fn: () => unknown, code: ErrorCode, label: string): ValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, `${label}: expected ValidationError, got ${err}`);
    assert.equal(err.code, code, `${label}: ${err.message}`);
    assert.equal(err.ban, false, `${label}: an address typo is not ban-worthy`);
    return err;
  }
  assert.fail(`${label}: expected ${code}, nothing was thrown`);
}

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

Deno.test("signMessage() signatures verify for random messages of every length 0..200", () => {
  const r = rng(0x5161);
  for (let len = 0; len <= 200; len++) {
    const secretKey = r.bytes(32);
    const publicKey = publicKeyFromSecret(secretKey);
    assert.equal(publicKey.length, 32);
    assert.ok(isValidPublicKey(publicKey));
    const message = r.bytes(len);
    const signature = signMessage(message, secretKey, r.bytes(32));
    assert.equal(signature.length, 64, `length ${len}`);
    assert.ok(verifySignature(signature, message, publicKey), `length ${len}`);
    // The signature binds the exact message: one more byte, or one byte fewer, fails.
    const longer = new Uint8Array(len + 1);
    longer.set(message);
    assert.equal(verifySignature(signature, longer, publicKey), false, `length ${len} + 1`);
    if (len > 0) assert.equal(verifySignature(signature, message.subarray(0, len - 1), publicKey), false);
  }
});

Deno.test("generateSecretKey() keys sign and verify, and signMessage() defaults auxRand", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const secretKey = generateSecretKey();
    assert.equal(secretKey.length, 32);
    seen.add(bytesToHex(secretKey));
    const publicKey = publicKeyFromSecret(secretKey);
    const message = new TextEncoder().encode(`message ${i}`);
    assert.ok(verifySignature(signMessage(message, secretKey), message, publicKey));
  }
  assert.equal(seen.size, 8, "secret keys repeat");
});

Deno.test("signMessage() is deterministic for a fixed auxRand and varies with it", () => {
  const { r, secretKey, message } = fixture(7);
  const aux = r.bytes(32);
  assert.deepEqual(signMessage(message, secretKey, aux), signMessage(message, secretKey, aux));
  assert.notDeepEqual(signMessage(message, secretKey, aux), signMessage(message, secretKey, r.bytes(32)));
});

Deno.test("signMessage() and publicKeyFromSecret() reject wrong-length and wrong-type arguments", () => {
  const { secretKey, message } = fixture(8);
  assert.throws(() => publicKeyFromSecret(new Uint8Array(31)), RangeError);
  assert.throws(() => publicKeyFromSecret(new Uint8Array(33)), RangeError);
  assert.throws(() => publicKeyFromSecret("00".repeat(32) as Any), TypeError);
  assert.throws(() => signMessage(message, new Uint8Array(31)), RangeError);
  assert.throws(() => signMessage("hello" as Any, secretKey), TypeError);
  assert.throws(() => signMessage(message, secretKey, new Uint8Array(31)), RangeError);
});

Deno.test("publicKeyFromSecret() and signMessage() throw RangeError for a secret key of 0 or >= n", () => {
  const n = BigInt("0x" + N_HEX);
  const message = new Uint8Array(32);
  for (const k of [0n, n, n + 1n, (1n << 256n) - 1n]) {
    const secretKey = bigToBytes32(k);
    assert.throws(() => publicKeyFromSecret(secretKey), RangeError, `publicKeyFromSecret(${k.toString(16)})`);
    assert.throws(() => signMessage(message, secretKey), RangeError, `signMessage(${k.toString(16)})`);
  }
  // n - 1 is the largest valid secret key.
  assert.equal(publicKeyFromSecret(bigToBytes32(n - 1n)).length, 32);
});

Deno.test("verifySignature() returns false, never throws, for wrong lengths and wrong types", () => {
  const { signature, message, publicKey } = fixture(9);
  assert.ok(verifySignature(signature, message, publicKey));
  const notBytes: unknown[] = [
    null,
    undefined,
    "",
    bytesToHex(signature),
    0,
    1n,
    true,
    {},
    [],
    Array.from(signature),
    signature.buffer,
    new DataView(signature.buffer),
    new Uint16Array(32),
    new Int8Array(64),
    { length: 64 },
    Symbol("sig"),
    () => signature,
  ];
  const cases: [string, unknown, unknown, unknown][] = [];
  for (const len of [0, 1, 32, 63, 65, 128]) {
    cases.push([`signature of ${len} bytes`, new Uint8Array(len), message, publicKey]);
    cases.push([`public key of ${len} bytes`, signature, message, new Uint8Array(len === 32 ? 33 : len)]);
  }
  cases.push(["signature with a trailing byte", Uint8Array.of(...signature, 0), message, publicKey]);
  cases.push(["public key with a leading 02 (compressed)", signature, message, Uint8Array.of(2, ...publicKey)]);
  for (const v of notBytes) {
    const label = typeof v === "object" && v !== null ? v.constructor.name : String(typeof v);
    cases.push([`signature ${label}`, v, message, publicKey]);
    cases.push([`message ${label}`, signature, v, publicKey]);
    cases.push([`public key ${label}`, signature, message, v]);
  }
  cases.push(["all three undefined", undefined, undefined, undefined]);
  for (const [label, sig, msg, key] of cases) {
    let result: unknown;
    assert.doesNotThrow(() => {
      result = (verifySignature as Any)(sig, msg, key);
    }, label);
    assert.equal(result, false, label);
  }
  assert.doesNotThrow(() => (verifySignature as Any)());
  assert.equal((verifySignature as Any)(), false);
});

Deno.test("verifySignature() returns false for every single-bit flip of a valid signature", () => {
  const { signature, message, publicKey } = fixture(10);
  for (let bit = 0; bit < 512; bit++) {
    const bad = signature.slice();
    bad[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(verifySignature(bad, message, publicKey), false, `bit ${bit}`);
  }
});

Deno.test("verifySignature() returns false for every single-bit flip of the public key and sampled message bits", () => {
  const { signature, message, publicKey } = fixture(11);
  for (let bit = 0; bit < 256; bit++) {
    const badKey = publicKey.slice();
    badKey[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(verifySignature(signature, message, badKey), false, `key bit ${bit}`);
    const badMessage = message.slice();
    badMessage[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(verifySignature(signature, badMessage, publicKey), false, `message bit ${bit}`);
  }
});

Deno.test("verifySignature() returns false for a public key that is not on the curve", () => {
  const { signature, message } = fixture(12);
  const offCurve = [hexToBytes(OFF_CURVE_KEY), hexToBytes(P_HEX), new Uint8Array(32).fill(0xff), new Uint8Array(32)];
  // Small x with no y: x^3 + 7 is a non-residue mod p.
  for (let x = 1n; offCurve.length < 8; x++) {
    const key = bigToBytes32(x);
    if (!isValidPublicKey(key)) offCurve.push(key);
  }
  for (const key of offCurve) {
    assert.equal(isValidPublicKey(key), false, bytesToHex(key));
    let result: unknown;
    assert.doesNotThrow(() => {
      result = verifySignature(signature, message, key);
    }, bytesToHex(key));
    assert.equal(result, false, bytesToHex(key));
  }
});

Deno.test("verifySignature() returns false when s >= n", () => {
  const { signature, message, publicKey } = fixture(13);
  const n = BigInt("0x" + N_HEX);
  const s = bytesToBig(signature.subarray(32));
  const sValues = [n, n + 1n, (1n << 256n) - 1n];
  // s + n still fits in 32 bytes when s < 2^256 - n; it is the same residue, so only the range check rejects it.
  if (s + n < 1n << 256n) sValues.push(s + n);
  for (const bad of sValues) {
    const sig = signature.slice();
    sig.set(bigToBytes32(bad), 32);
    assert.equal(verifySignature(sig, message, publicKey), false, `s = ${bad.toString(16)}`);
  }
});

Deno.test("verifySignature() returns false when r >= p", () => {
  const { signature, message, publicKey } = fixture(14);
  const p = BigInt("0x" + P_HEX);
  const r = bytesToBig(signature.subarray(0, 32));
  const rValues = [p, p + 1n, (1n << 256n) - 1n];
  if (r + p < 1n << 256n) rValues.push(r + p);
  for (const bad of rValues) {
    const sig = signature.slice();
    sig.set(bigToBytes32(bad), 0);
    assert.equal(verifySignature(sig, message, publicKey), false, `r = ${bad.toString(16)}`);
  }
});

Deno.test("verifySignature() returns false for all-zero and all-ones signatures", () => {
  const { message, publicKey } = fixture(15);
  assert.equal(verifySignature(new Uint8Array(64), message, publicKey), false);
  assert.equal(verifySignature(new Uint8Array(64).fill(0xff), message, publicKey), false);
});

Deno.test("verifySignature() accepts subarray views at any offset", () => {
  const { signature, message, publicKey } = fixture(16);
  const buf = new Uint8Array(3 + 64 + 32 + 32);
  buf.set(signature, 3);
  buf.set(publicKey, 67);
  buf.set(message, 99);
  assert.ok(verifySignature(buf.subarray(3, 67), buf.subarray(99, 131), buf.subarray(67, 99)));
});

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

Deno.test("encodeAddress()/decodeAddress() round-trip random keys on both network prefixes", () => {
  const r = rng(0xadd7);
  for (const prefix of [DEVNET.addressPrefix, REGTEST.addressPrefix]) {
    for (let i = 0; i < 100; i++) {
      const publicKey = i === 0 ? new Uint8Array(32) : i === 1 ? new Uint8Array(32).fill(0xff) : r.bytes(32);
      const address = encodeAddress(publicKey, prefix);
      assert.ok(address.startsWith(prefix + "1"), address);
      assert.equal(address, address.toLowerCase());
      assert.equal(address.length, prefix.length + 1 + 52 + 6);
      assert.ok(equalBytes(decodeAddress(address, prefix), publicKey), address);
    }
  }
  assert.deepEqual([DEVNET.addressPrefix, REGTEST.addressPrefix], ["eld", "elr"]);
});

Deno.test("decodeAddress() accepts an all-upper-case address (BIP173 allows it)", () => {
  const r = rng(0x0cca5e);
  for (const prefix of ["eld", "elr"]) {
    const publicKey = r.bytes(32);
    const upper = encodeAddress(publicKey, prefix).toUpperCase();
    assert.ok(equalBytes(decodeAddress(upper, prefix), publicKey), upper);
  }
});

Deno.test("decodeAddress() rejects any one changed character with BAD_ADDRESS_CHECKSUM", () => {
  const r = rng(0xc5);
  const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  for (const prefix of ["eld", "elr"]) {
    const address = encodeAddress(r.bytes(32), prefix);
    // Every position after the separator, replaced by another valid bech32 character.
    for (let i = prefix.length + 1; i < address.length; i++) {
      const old = address[i];
      let c = CHARSET[r.int(CHARSET.length)];
      while (c === old) c = CHARSET[r.int(CHARSET.length)];
      const bad = address.slice(0, i) + c + address.slice(i + 1);
      assertAddressError(() => decodeAddress(bad, prefix), ErrorCode.BAD_ADDRESS_CHECKSUM, `${bad} (position ${i})`);
    }
  }
});

Deno.test("decodeAddress() rejects a bech32 (not bech32m) checksum with BAD_ADDRESS_CHECKSUM", () => {
  const publicKey = rng(0xb32).bytes(32);
  const address = bech32.encode("eld", bech32.toWords(publicKey));
  assertAddressError(() => decodeAddress(address, "eld"), ErrorCode.BAD_ADDRESS_CHECKSUM, address);
});

Deno.test("decodeAddress() rejects the other network's prefix with WRONG_NETWORK naming both prefixes", () => {
  const publicKey = rng(0x3e7).bytes(32);
  for (const [from, to] of [["elr", "eld"], ["eld", "elr"], ["bc", "eld"]]) {
    const address = encodeAddress(publicKey, from);
    const err = assertAddressError(() => decodeAddress(address, to), ErrorCode.WRONG_NETWORK, address);
    assert.ok(err.message.includes(`"${from}"`), err.message);
    assert.ok(err.message.includes(`"${to}"`), err.message);
  }
});

Deno.test("decodeAddress() rejects 31- and 33-byte payloads (and other lengths) with BAD_ADDRESS", () => {
  const r = rng(0x3133);
  for (const len of [0, 1, 20, 31, 33, 40]) {
    const address = bech32mEncode("eld", r.bytes(len));
    assertAddressError(() => decodeAddress(address, "eld"), ErrorCode.BAD_ADDRESS, `${len} bytes: ${address}`);
  }
});

Deno.test("decodeAddress() rejects non-zero padding bits with BAD_ADDRESS", () => {
  const words = bech32m.toWords(rng(0x9ad).bytes(32));
  // 32 bytes = 256 bits in 52 five-bit words; the last word's low 4 bits are padding.
  words[words.length - 1] |= 1;
  const address = bech32m.encode("eld", words);
  assertAddressError(() => decodeAddress(address, "eld"), ErrorCode.BAD_ADDRESS, address);
});

Deno.test("decodeAddress() rejects garbage, empty, mixed-case, over-long and non-string input with BAD_ADDRESS", () => {
  const r = rng(0x6a6);
  const good = encodeAddress(r.bytes(32), "eld");
  const mixed = good.slice(0, 10) + good.slice(10).toUpperCase();
  // A valid-checksum string of 98 characters: over the BIP173 limit of 90.
  const longWords = bech32m.toWords(r.bytes(55));
  const tooLong = bech32m.encode("eld", longWords, false);
  assert.ok(tooLong.length > 90, `${tooLong.length}`);
  const cases: [string, unknown][] = [
    ["empty", ""],
    ["separator only", "1"],
    ["prefix only", "eld"],
    ["prefix and separator", "eld1"],
    ["no separator", good.replace("1", "")],
    ["empty prefix", good.slice(3)],
    ["character outside the charset (b)", good.slice(0, -8) + "b" + good.slice(-7)],
    ["character outside the charset (i)", good.slice(0, -8) + "i" + good.slice(-7)],
    ["character outside the charset (o)", good.slice(0, -8) + "o" + good.slice(-7)],
    ["space", good.slice(0, 10) + " " + good.slice(11)],
    ["leading whitespace", " " + good],
    ["trailing newline", good + "\n"],
    ["non-ASCII", good.slice(0, -1) + "é"],
    ["NUL", good.slice(0, -1) + "\0"],
    ["mixed case", mixed],
    ["mixed-case prefix", "ElD" + good.slice(3)],
    ["too long (91+)", tooLong],
    ["too long (1000)", "eld1" + "q".repeat(996)],
    ["hex key", bytesToHex(r.bytes(32))],
    ["garbage", "not an address"],
    ["null", null],
    ["undefined", undefined],
    ["number", 42],
    ["bytes", r.bytes(32)],
    ["array", [good]],
    ["object", { address: good }],
    ["String object", new String(good)],
  ];
  for (let i = 0; i < 20; i++) {
    cases.push([`random printable ${i}`, String.fromCharCode(...Array.from(r.bytes(8 + i * 4), (b) => 33 + (b % 94)))]);
  }
  for (const [label, input] of cases) {
    assertAddressError(() => decodeAddress(input as string, "eld"), ErrorCode.BAD_ADDRESS, label);
  }
});

Deno.test("encodeAddress() rejects public keys that are not 32 bytes", () => {
  assert.throws(() => encodeAddress(new Uint8Array(31), "eld"), RangeError);
  assert.throws(() => encodeAddress(new Uint8Array(33), "eld"), RangeError);
  assert.throws(() => encodeAddress("00" as Any, "eld"), TypeError);
});
