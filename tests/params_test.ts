import assert from "node:assert/strict";
import { bytesToHex } from "../protocol/bytes.ts";
import { encodeBlock } from "../protocol/block.ts";
import { hashHeader } from "../protocol/header.ts";
import { blockSubsidy, DEVNET, genesisBlock, getNetwork, NETWORKS, REGTEST } from "../protocol/params.ts";
import { bitsToTarget, hashMeetsTarget } from "../protocol/pow.ts";
import { checkBlockBody, checkHeaderPow } from "../protocol/validation.ts";

const vectors = JSON.parse(await Deno.readTextFile(new URL("./vectors/genesis.json", import.meta.url)));

for (const params of Object.values(NETWORKS)) {
  Deno.test(`genesisBlock(${params.name}) hashes to the constant genesisHash`, () => {
    const genesis = genesisBlock(params);
    assert.equal(bytesToHex(hashHeader(genesis.header)), params.genesisHash);
  });

  Deno.test(`genesisBlock(${params.name}) encodes to the checked-in vector`, () => {
    assert.equal(bytesToHex(encodeBlock(genesisBlock(params))), vectors[params.name].block);
    assert.equal(params.genesisHash, vectors[params.name].hash);
  });

  Deno.test(`genesisBlock(${params.name}) meets its own proof of work and block rules`, () => {
    const genesis = genesisBlock(params);
    const hash = hashHeader(genesis.header);
    assert.ok(hashMeetsTarget(hash, bitsToTarget(genesis.header.bits)));
    checkHeaderPow(genesis.header, hash, params);
    checkBlockBody(genesis, params);
    assert.deepEqual(genesis.header.stateRoot, new Uint8Array(32));
  });
}

Deno.test("devnet and regtest differ in network id, prefix and genesis", () => {
  assert.notEqual(DEVNET.networkId, REGTEST.networkId);
  assert.notEqual(DEVNET.addressPrefix, REGTEST.addressPrefix);
  assert.notEqual(DEVNET.genesisHash, REGTEST.genesisHash);
});

Deno.test("getNetwork() returns known networks and names the choices for an unknown one", () => {
  assert.equal(getNetwork("devnet"), DEVNET);
  assert.equal(getNetwork("regtest"), REGTEST);
  assert.throws(() => getNetwork("mainnet"), /devnet, regtest/);
  assert.throws(() => getNetwork("__proto__"), RangeError);
});

Deno.test("blockSubsidy() halves every halvingInterval blocks and reaches zero", () => {
  assert.equal(blockSubsidy(REGTEST, 1), 50n * REGTEST.coin);
  assert.equal(blockSubsidy(REGTEST, 149), 50n * REGTEST.coin);
  assert.equal(blockSubsidy(REGTEST, 150), 25n * REGTEST.coin);
  assert.equal(blockSubsidy(REGTEST, 300), 1250000000n);
  assert.equal(blockSubsidy(REGTEST, 150 * 64), 0n);
  assert.equal(blockSubsidy(DEVNET, 210_000 * 33), 0n);
});

Deno.test("network parameter objects are frozen", () => {
  assert.throws(() => {
    (DEVNET as { maxBlockTxs: number }).maxBlockTxs = 1;
  }, TypeError);
});
