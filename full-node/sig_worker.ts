/**
 * Web Worker verifying batches of BIP340 signatures for {@link SignatureVerifier}.
 * Input: `{ id, items }` where items packs 128-byte records signature ‖ message ‖ publicKey.
 * Output: `{ id, results }` with one byte per record, 1 for valid.
 *
 * @module
 */

import { verifySignature } from "../protocol/keys.ts";

const RECORD = 128;

const scope = self as unknown as { onmessage: unknown; postMessage(data: unknown, transfer: Transferable[]): void };

scope.onmessage = (event: MessageEvent<{ id: number; items: Uint8Array }>) => {
  const { id, items } = event.data;
  const count = items.length / RECORD;
  const results = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const o = i * RECORD;
    results[i] =
      verifySignature(items.subarray(o, o + 64), items.subarray(o + 64, o + 96), items.subarray(o + 96, o + 128))
        ? 1
        : 0;
  }
  scope.postMessage({ id, results }, [results.buffer as ArrayBuffer]);
};
