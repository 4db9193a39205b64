/**
 * Published test vectors (see tests/vectors/README.md for sources and conversions).
 *
 * Run: deno test -A tests/vectors_test.ts   (needs --allow-read for the vector files)
 */
import assert from "node:assert/strict";
import { bytesToHex, equalBytes, hexToBytes } from "../protocol/bytes.ts";
import { ErrorCode, ValidationError } from "../protocol/errors.ts";
import {
  bech32mDecode,
  bech32mDecodeWords,
  bech32mEncode,
  publicKeyFromSecret,
  signMessage,
  verifySignature,
} from "../protocol/keys.ts";
import { asertNextBits, bitsToTarget, targetToBits } from "../protocol/pow.ts";
import {
  consistencyProof,
  hashChildren,
  hashLeaf,
  inclusionProof,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from "../protocol/merkle.ts";
import bech32mVectors from "./vectors/bech32m.json" with { type: "json" };
import rfc6962 from "./vectors/rfc6962.json" with { type: "json" };
import compactVectors from "./vectors/compact_bits.json" with { type: "json" };

const VECTORS = new URL("./vectors/", import.meta.url);
const readVector = (name: string) => Deno.readTextFileSync(new URL(name, VECTORS));
const hex32 = (n: number) => "0x" + n.toString(16).padStart(8, "0");
/**
 * Rejections the API documents for bech32m: `RangeError`/`TypeError` for malformed strings, and
 * (protocol/keys.ts) a `ValidationError` with code BAD_ADDRESS_CHECKSUM when only the checksum is
 * wrong. Any other error (or no error) fails the vector.
 */
const isBech32Rejection = (e: unknown) =>
  e instanceof RangeError || e instanceof TypeError ||
  (e instanceof ValidationError && e.code === ErrorCode.BAD_ADDRESS_CHECKSUM);

// ---------------------------------------------------------------------------------------------
// BIP340 Schnorr signatures (tests/vectors/bip340.csv, verbatim from bitcoin/bips).
// Columns: index,secret key,public key,aux_rand,message,signature,verification result,comment
// Rows with an empty secret key are verification-only. Messages may be empty (vector 15) or
// not 32 bytes long (16-18); all hex is upper case.
// ---------------------------------------------------------------------------------------------

interface Bip340Vector {
  index: number;
  secretKey: string;
  publicKey: string;
  auxRand: string;
  message: string;
  signature: string;
  valid: boolean;
  comment: string;
}

function parseBip340(csv: string): Bip340Vector[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.length > 0);
  assert.equal(
    lines[0],
    "index,secret key,public key,aux_rand,message,signature,verification result,comment",
  );
  return lines.slice(1).map((line) => {
    const f = line.split(",");
    assert.ok(f.length >= 8, `malformed BIP340 row: ${line}`);
    assert.ok(f[6] === "TRUE" || f[6] === "FALSE", `bad verification result in row: ${line}`);
    return {
      index: Number(f[0]),
      secretKey: f[1],
      publicKey: f[2],
      auxRand: f[3],
      message: f[4],
      signature: f[5],
      valid: f[6] === "TRUE",
      comment: f.slice(7).join(","), // comments contain no commas today; keep any that appear
    };
  });
}

const bip340 = parseBip340(readVector("bip340.csv"));

Deno.test("BIP340 vector file holds all 19 vectors (0-18, incl. variable-length messages)", () => {
  assert.deepEqual(bip340.map((v) => v.index), Array.from({ length: 19 }, (_, i) => i));
  assert.deepEqual(bip340.slice(15).map((v) => v.message.length / 2), [0, 1, 17, 100]);
});

for (const v of bip340) {
  const what = v.valid ? "accepts" : "rejects";
  const note = v.comment ? ` (${v.comment})` : "";
  Deno.test(`verifySignature() ${what} BIP340 vector ${v.index}${note}`, () => {
    const result = verifySignature(hexToBytes(v.signature), hexToBytes(v.message), hexToBytes(v.publicKey));
    assert.equal(result, v.valid);
  });

  if (v.secretKey !== "") {
    Deno.test(`publicKeyFromSecret() derives the x-only key of BIP340 vector ${v.index}`, () => {
      assert.equal(bytesToHex(publicKeyFromSecret(hexToBytes(v.secretKey))).toLowerCase(), v.publicKey.toLowerCase());
    });
    Deno.test(`signMessage() reproduces the signature of BIP340 vector ${v.index}${note}`, () => {
      const sig = signMessage(hexToBytes(v.message), hexToBytes(v.secretKey), hexToBytes(v.auxRand));
      assert.equal(bytesToHex(sig).toLowerCase(), v.signature.toLowerCase());
    });
  }
}

// ---------------------------------------------------------------------------------------------
// BIP350 Bech32m generic string vectors (tests/vectors/bech32m.json).
// Valid strings must decode; their prefix is the part before the LAST '1', lower-cased.
// Vector "11lll...ludsr8" has 82 data words whose 2 padding bits are non-zero, so it cannot be
// converted to bytes: validity is therefore tested with bech32mDecodeWords(). Strings whose words
// do convert cleanly (padding < 5 bits, all zero) are also checked through bech32mDecode() /
// bech32mEncode() round-trip. The 90-character "an83..." vector is valid and the 91-character
// "an84..." vector is invalid: the BIP173 90-character length limit applies.
// ---------------------------------------------------------------------------------------------

/** 5-bit words -> bytes, or null when the padding is >= 5 bits or non-zero (BIP173 rule). */
function wordsToBytesStrict(words: readonly number[]): Uint8Array | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (bits >= 5 || ((acc << (8 - bits)) & 0xff) !== 0) return null;
  return Uint8Array.from(out);
}

bech32mVectors.valid.forEach((str, i) => {
  const sep = str.lastIndexOf("1");
  const hrp = str.slice(0, sep).toLowerCase();
  const dataLength = str.length - sep - 1 - 6;

  Deno.test(`bech32mDecodeWords() accepts BIP350 valid string ${i} "${str}"`, () => {
    const { prefix, words } = bech32mDecodeWords(str);
    assert.equal(prefix, hrp);
    assert.equal(words.length, dataLength);
    assert.ok(words.every((w) => Number.isInteger(w) && w >= 0 && w < 32));
  });

  // Only decidable after decoding words; skip the byte-level check for non-convertible data.
  Deno.test(`bech32mDecode()/bech32mEncode() round-trip BIP350 valid string ${i} when its data is whole bytes`, () => {
    const bytes = wordsToBytesStrict(bech32mDecodeWords(str).words);
    if (bytes === null) return; // e.g. "11lll...": not representable as bytes
    const { prefix, data } = bech32mDecode(str);
    assert.equal(prefix, hrp);
    assert.ok(equalBytes(data, bytes));
    assert.equal(bech32mEncode(prefix, data), str.toLowerCase());
  });
});

bech32mVectors.invalid.forEach(({ string: str, reason }, i) => {
  // Show the out-of-range characters of vectors 0-2 (0x20, 0x7f, 0x80) as \uXXXX escapes.
  const shown = `"${str.replace(/[^\x21-\x7e]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"))}"`;
  Deno.test(`bech32mDecodeWords() and bech32mDecode() reject BIP350 invalid string ${i} ${shown} (${reason})`, () => {
    assert.throws(() => bech32mDecodeWords(str), isBech32Rejection);
    assert.throws(() => bech32mDecode(str), isBech32Rejection);
  });
});

// ---------------------------------------------------------------------------------------------
// Bitcoin compact target (nBits) vectors (tests/vectors/compact_bits.json), from Bitcoin Core
// arith_uint256 SetCompact/GetCompact. Semantics:
//  * exponent = bits >>> 24, mantissa = bits & 0x007fffff, sign bit = 0x00800000;
//  * the value is NEGATIVE only if the sign bit is set AND the decoded value is non-zero
//    (0x00923456, 0x01803456, 0x04800000, ... decode to 0 and are NOT negative);
//  * OVERFLOW when the mantissa is non-zero and the value would not fit in 256 bits;
//  * "compact" is upstream's GetCompact(); for negative rows it is GetCompact(true), i.e. it
//    carries the sign bit, so targetToBits(magnitude) must equal compact without 0x00800000.
// ---------------------------------------------------------------------------------------------

for (const v of compactVectors) {
  const bits = v.bits;
  if (v.overflow) {
    Deno.test(`bitsToTarget() rejects overflowing compact ${hex32(bits)} with RangeError`, () => {
      assert.throws(() => bitsToTarget(bits), RangeError);
    });
    continue;
  }
  const target = BigInt("0x" + v.target);
  if (v.negative) {
    Deno.test(`bitsToTarget() rejects negative compact ${hex32(bits)} with RangeError`, () => {
      assert.throws(() => bitsToTarget(bits), RangeError);
    });
    Deno.test(`targetToBits() encodes the magnitude of negative compact ${hex32(bits)} as ${hex32(v.compact! & ~0x00800000)}`, () => {
      assert.equal(targetToBits(target), v.compact! & ~0x00800000);
    });
    continue;
  }
  Deno.test(`bitsToTarget() decodes compact ${hex32(bits)} to 0x${target.toString(16)}`, () => {
    assert.equal(bitsToTarget(bits), target);
  });
  Deno.test(`targetToBits() re-encodes 0x${target.toString(16)} (from ${hex32(bits)}) as ${hex32(v.compact!)}`, () => {
    assert.equal(targetToBits(target), v.compact);
  });
}

// ---------------------------------------------------------------------------------------------
// aserti3-2d (BCH ASERT) difficulty vectors (tests/vectors/aserti3_2d/run01..run12).
//
// File format: "## key: value" header lines (description, anchor height, anchor parent time,
// anchor nBits, start height, start time, iterations), a "# iteration,height,time,target"
// line, then one line per vector: `iteration height time nBits`.
//
// Semantics (BCHN contrib/testgen/gen_asert_test_vectors.cpp, src/pow.cpp CalculateASERT):
//  * `height` h and `time` t are the height and timestamp of the PARENT block (pindexPrev);
//    `nBits` is the required nBits of the block at height h + 1.
//  * timeDelta   = t - anchorParentTime   (anchor parent time = timestamp of the anchor's parent)
//  * heightDelta = h - anchorHeight
//  * asertNextBits must itself add the +1:
//      exponent = ((timeDelta - idealBlockTime * (heightDelta + 1)) * 65536) / halfLife
//    with C++ truncating division (BigInt `/`), then integer part = exponent >> 16 (floor,
//    arithmetic shift), frac = exponent & 0xffff, factor = 65536 + ((195766423245049*frac +
//    971821376*frac^2 + 5127*frac^3 + 2^47) >> 48), target = anchorTarget * factor shifted by
//    (integer part - 16); 0 becomes 1; clamp to powLimit; result = GetCompact(target).
//  * Parameters are BCH mainnet (not in the file headers): idealBlockTime 600 s, halfLife
//    172800 s (2 days), powLimit 0x00000000ffff...ff whose compact form is 0x1d00ffff. Clamping
//    to bitsToTarget(0x1d00ffff) instead gives identical nBits for all 14000 vectors.
//  * Times go backwards in run11/run12 (negative solve times); run10 heights exceed 2^63, so
//    heights and times are handled as bigint.
// ---------------------------------------------------------------------------------------------

interface AsertRun {
  name: string;
  description: string;
  anchorHeight: bigint;
  anchorParentTime: bigint;
  anchorBits: number;
  startHeight: bigint;
  startTime: bigint;
  iterations: number;
  rows: { iteration: number; height: bigint; time: bigint; bits: number }[];
}

function parseAsertRun(name: string, text: string): AsertRun {
  const header = new Map<string, string>();
  const rows: AsertRun["rows"] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("##")) {
      const colon = line.indexOf(":");
      header.set(line.slice(2, colon).trim(), line.slice(colon + 1).trim());
      continue;
    }
    if (line.startsWith("#")) continue;
    const [iteration, height, time, bits] = line.split(/\s+/);
    rows.push({ iteration: Number(iteration), height: BigInt(height), time: BigInt(time), bits: Number(bits) });
  }
  const get = (...keys: string[]) => {
    for (const k of keys) if (header.has(k)) return header.get(k)!;
    throw new Error(`${name}: missing header ${keys.join(" / ")}`);
  };
  return {
    name,
    description: get("description"),
    anchorHeight: BigInt(get("anchor height")),
    // Older copies of these files call it "anchor ancestor time"; same value.
    anchorParentTime: BigInt(get("anchor parent time", "anchor ancestor time")),
    anchorBits: Number(get("anchor nBits")),
    startHeight: BigInt(get("start height")),
    startTime: BigInt(get("start time")),
    iterations: Number(get("iterations")),
    rows,
  };
}

const ASERT_PARAMS = { idealBlockTime: 600n, halfLife: 172_800n, powLimitBits: 0x1d00ffff } as const;
const asertRuns = [...Deno.readDirSync(new URL("aserti3_2d/", VECTORS))]
  .filter((e) => e.isFile && /^run\d+$/.test(e.name))
  .map((e) => e.name)
  .sort()
  .map((name) => parseAsertRun(name, readVector(`aserti3_2d/${name}`)));

Deno.test("aserti3-2d vector set holds run01..run12 with the row counts their headers declare", () => {
  assert.deepEqual(
    asertRuns.map((r) => r.name),
    Array.from({ length: 12 }, (_, i) => `run${String(i + 1).padStart(2, "0")}`),
  );
  for (const r of asertRuns) {
    assert.equal(r.rows.length, r.iterations, r.name);
    assert.equal(r.rows[0].height, r.startHeight, r.name);
    assert.equal(r.rows[0].time, r.startTime, r.name);
  }
});

for (const run of asertRuns) {
  Deno.test(`asertNextBits() matches aserti3-2d ${run.description}`, async (t) => {
    for (const row of run.rows) {
      const expected = hex32(row.bits);
      await t.step(
        `${run.name} #${row.iteration}: parent height ${row.height}, time ${row.time} -> ${expected}`,
        () => {
          const got = asertNextBits({
            anchorBits: run.anchorBits,
            timeDelta: row.time - run.anchorParentTime,
            heightDelta: row.height - run.anchorHeight,
            ...ASERT_PARAMS,
          });
          assert.equal(hex32(got), expected);
        },
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// RFC 6962 Merkle tree vectors (tests/vectors/rfc6962.json, from transparency-dev/merkle).
// leaves are leaf DATA; roots[n] is the root of the first n leaves (n = 0..8, roots[0] =
// SHA-256 of the empty string); inclusion.leafIndex is 0-based (converted from upstream's
// 1-based leafIdx). Checks marked "tampered" are derived from the vectors (one flipped bit).
// ---------------------------------------------------------------------------------------------

const mLeaves = rfc6962.leaves.map((h) => hexToBytes(h));
const mRoots = rfc6962.roots.map((h) => hexToBytes(h));
const flipFirstBit = (proof: Uint8Array[]) =>
  proof.map((p, i) => (i === 0 ? Uint8Array.from(p, (b, j) => (j === 0 ? b ^ 1 : b)) : p));

Deno.test("hashChildren(hashLeaf(l0), hashLeaf(l1)) equals the RFC 6962 root of size 2", () => {
  assert.equal(bytesToHex(hashLeaf(mLeaves[0])), rfc6962.roots[1]);
  assert.equal(bytesToHex(hashChildren(hashLeaf(mLeaves[0]), hashLeaf(mLeaves[1]))), rfc6962.roots[2]);
});

rfc6962.roots.forEach((root, n) => {
  Deno.test(`merkleRoot() of the first ${n} RFC 6962 reference leaves equals ${root.slice(0, 16)}…`, () => {
    assert.equal(bytesToHex(merkleRoot(mLeaves.slice(0, n))), root);
  });
});

for (const v of rfc6962.inclusion) {
  const label = `leaf ${v.leafIndex} (0-based) in tree of size ${v.treeSize}`;
  const proof = v.proof.map((h) => hexToBytes(h));
  const tree = mLeaves.slice(0, v.treeSize);
  const leafHash = hashLeaf(mLeaves[v.leafIndex]);
  Deno.test(`inclusionProof() reproduces the RFC 6962 proof for ${label}`, () => {
    assert.deepEqual(inclusionProof(tree, v.leafIndex).map(bytesToHex), v.proof);
  });
  Deno.test(`verifyInclusion() accepts the RFC 6962 proof for ${label}`, () => {
    assert.equal(verifyInclusion(leafHash, v.leafIndex, v.treeSize, proof, mRoots[v.treeSize]), true);
  });
  if (proof.length > 0) {
    Deno.test(`verifyInclusion() rejects a tampered RFC 6962 proof for ${label}`, () => {
      assert.equal(verifyInclusion(leafHash, v.leafIndex, v.treeSize, flipFirstBit(proof), mRoots[v.treeSize]), false);
    });
  }
}

for (const v of rfc6962.consistency) {
  const label = `sizes ${v.size1} -> ${v.size2}`;
  const proof = v.proof.map((h) => hexToBytes(h));
  Deno.test(`consistencyProof() reproduces the RFC 6962 proof for ${label}`, () => {
    assert.deepEqual(consistencyProof(mLeaves.slice(0, v.size2), v.size1).map(bytesToHex), v.proof);
  });
  Deno.test(`verifyConsistency() accepts the RFC 6962 proof for ${label}`, () => {
    assert.equal(verifyConsistency(v.size1, v.size2, proof, mRoots[v.size1], mRoots[v.size2]), true);
  });
  if (proof.length > 0) {
    Deno.test(`verifyConsistency() rejects a tampered RFC 6962 proof for ${label}`, () => {
      assert.equal(verifyConsistency(v.size1, v.size2, flipFirstBit(proof), mRoots[v.size1], mRoots[v.size2]), false);
    });
  }
}
