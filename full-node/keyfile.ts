/**
 * Key files: one secret key per file, JSON, created with mode 0600. The miner key and
 * wallet keys use the same format.
 *
 * ```json
 * { "type": "edgeledger-secret-key", "secretKey": "<64 hex>" }
 * ```
 *
 * @module
 */

import { bytesToHex, hexToBytes } from "../protocol/bytes.ts";
import { generateSecretKey, publicKeyFromSecret } from "../protocol/keys.ts";

const TYPE = "edgeledger-secret-key";

/** A loaded key. */
export interface KeyPair {
  /** 32-byte secret key. */
  secretKey: Uint8Array;
  /** 32-byte x-only public key. */
  publicKey: Uint8Array;
}

/** Read a key file; throws an Error naming the file and what is wrong. */
export async function readKeyFile(path: string): Promise<KeyPair> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new Error(`key file ${path} does not exist`);
    throw new Error(`cannot read key file ${path}: ${(err as Error).message}`);
  }
  let secretKey: Uint8Array;
  try {
    const json = JSON.parse(text);
    if (json?.type !== TYPE || typeof json.secretKey !== "string") throw new Error("not an edgeledger key file");
    secretKey = hexToBytes(json.secretKey, "secretKey");
    return { secretKey, publicKey: publicKeyFromSecret(secretKey) };
  } catch (err) {
    throw new Error(`key file ${path} is not valid: ${(err as Error).message}`);
  }
}

/**
 * Create a new key file with mode 0600; refuses to overwrite an existing file. The key is
 * written to a temporary file, synced, then linked into place, so a crash never leaves an
 * empty or partial key file.
 */
export async function createKeyFile(path: string): Promise<KeyPair> {
  const secretKey = generateSecretKey();
  const text = JSON.stringify({ type: TYPE, secretKey: bytesToHex(secretKey) }) + "\n";
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
  } catch (err) {
    throw new Error(`cannot create key file ${path}: ${(err as Error).message}`);
  }
  try {
    await file.write(new TextEncoder().encode(text));
    await file.sync();
  } finally {
    file.close();
  }
  try {
    await Deno.chmod(tmp, 0o600).catch(() => {});
    // link() fails if `path` exists: the same refusal to overwrite, atomically.
    await Deno.link(tmp, path);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new Error(`key file ${path} already exists; not overwriting it`);
    }
    throw new Error(`cannot create key file ${path}: ${(err as Error).message}`);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  return { secretKey, publicKey: publicKeyFromSecret(secretKey) };
}

/** Read `path`, creating it first when it does not exist. */
export async function loadOrCreateKeyFile(path: string): Promise<KeyPair & { created: boolean }> {
  try {
    return { ...(await readKeyFile(path)), created: false };
  } catch (err) {
    if (!(err as Error).message.includes("does not exist")) throw err;
    return { ...(await createKeyFile(path)), created: true };
  }
}
