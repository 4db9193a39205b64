/**
 * Benchmarks of the protocol core: the mining loop, signature verification (both candidate
 * libraries), SHA-256 of short inputs (ours and noble), RFC 6962 roots and sparse Merkle tree
 * updates.
 *
 * @module
 */

import { schnorr } from "@noble/curves/secp256k1.js";
import * as secp from "@noble/secp256k1";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type Benchmark, rate } from "./harness.ts";
import { sha256 as ourSha256 } from "../protocol/sha256.ts";
import { merkleRoot } from "../protocol/merkle.ts";
import { headerMidstate, searchNonces } from "../protocol/sha256_mine.ts";
import { SparseMerkleTree } from "../protocol/smt.ts";
import { verifySignature } from "../protocol/keys.ts";

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function signedItems(count: number): [Uint8Array, Uint8Array, Uint8Array][] {
  const items: [Uint8Array, Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < count; i++) {
    const sk = schnorr.utils.randomSecretKey();
    const msg = randomBytes(32);
    items.push([schnorr.sign(msg, sk), msg, schnorr.getPublicKey(sk)]);
  }
  return items;
}

/** Benchmarks of issue 2 (protocol core). */
export const protocolBenchmarks: Benchmark[] = [
  {
    name: "mining.nonces_per_second",
    unit: "nonces/s",
    run() {
      // One worker's loop: midstate saved once, a target never met so every nonce is tried.
      const header = randomBytes(156);
      const midstate = headerMidstate(header);
      const count = 1 << 22;
      searchNonces(header, 1n, { start: 0, count: 1 << 20, midstate });
      let best = 0;
      for (let round = 0; round < 3; round++) {
        const t = performance.now();
        searchNonces(header, 1n, { start: round * count, count, midstate });
        best = Math.max(best, count / ((performance.now() - t) / 1000));
      }
      return best;
    },
  },
  {
    name: "signature.verify_per_second",
    unit: "verifies/s",
    run() {
      // The library behind protocol/keys.ts (@noble/curves).
      const items = signedItems(64);
      let i = 0;
      return rate(() => {
        const [s, m, p] = items[i++ % items.length];
        if (!verifySignature(s, m, p)) throw new Error("signature must verify");
      }, { batch: 16 });
    },
  },
  {
    name: "signature.verify_per_second.noble_secp256k1",
    unit: "verifies/s",
    run() {
      // The other candidate, measured so the choice stays justified.
      secp.hashes.sha256 = sha256;
      secp.hashes.hmacSha256 = (k: Uint8Array, m: Uint8Array) => hmac(sha256, k, m);
      const items = signedItems(64);
      let i = 0;
      return rate(() => {
        const [s, m, p] = items[i++ % items.length];
        if (!secp.schnorr.verify(s, m, p)) throw new Error("signature must verify");
      }, { batch: 16 });
    },
  },
  {
    name: "hash.sha256_65_bytes_per_second",
    unit: "hashes/s",
    async run() {
      // One RFC 6962 node / sparse-tree leaf: 65 bytes, two compressions and a 32-byte result.
      // 1000 hashes per timed call, so the harness's per-call await does not dominate.
      const data = randomBytes(65);
      return 1000 * await rate(() => {
        for (let i = 0; i < 1000; i++) ourSha256(data);
      });
    },
  },
  {
    name: "hash.sha256_65_bytes_per_second.noble",
    unit: "hashes/s",
    async run() {
      // @noble/hashes on the same input, the implementation protocol/sha256.ts replaced.
      const data = randomBytes(65);
      return 1000 * await rate(() => {
        for (let i = 0; i < 1000; i++) sha256(data);
      });
    },
  },
  {
    name: "merkle.root_10k_leaves_per_second",
    unit: "roots/s",
    run() {
      const leaves = Array.from({ length: 10_000 }, () => randomBytes(32));
      return rate(() => merkleRoot(leaves));
    },
  },
  {
    name: "smt.updates_per_second",
    unit: "updates/s",
    run() {
      // Random-key updates in a tree that already holds 100,000 accounts.
      const tree = new SparseMerkleTree();
      const value = new Uint8Array(16);
      const keys = Array.from({ length: 100_000 }, () => randomBytes(33));
      for (const k of keys) tree.set(k, value);
      let i = 0;
      return rate(() => {
        value[0] = i & 0xff;
        tree.set(keys[(i++ * 7919) % keys.length], value);
      }, { batch: 64 });
    },
  },
];
