/**
 * Mining Web Worker: searches nonces for one job at a time from the header's saved midstate
 * and reports progress, a find, or nothing when a newer job replaces the current one.
 *
 * in:  { job, header (156 bytes), target, highNonce } | { stop: true }
 * out: { job, hashes } progress, { job, found: nonceLow, high: highNonce, hashes }
 *
 * @module
 */

import { headerMidstate, searchNonces } from "../protocol/sha256_mine.ts";

interface Job {
  job: number;
  header: Uint8Array;
  target: bigint;
  highNonce: number;
}

const scope = self as unknown as { onmessage: unknown; postMessage(data: unknown): void };
const CHUNK = 1 << 18;
let current: Job | undefined;

scope.onmessage = (event: MessageEvent<Job | { stop: true }>) => {
  if ("stop" in event.data) {
    current = undefined;
    return;
  }
  const job = event.data;
  new DataView(job.header.buffer, job.header.byteOffset).setUint32(152, job.highNonce, true);
  const start = current === undefined;
  current = job;
  if (start) setTimeout(run, 0);
};

function run(): void {
  const job = current;
  if (job === undefined) return;
  const midstate = headerMidstate(job.header);
  let low = 0;
  const step = () => {
    if (current !== job) {
      if (current !== undefined) setTimeout(run, 0);
      return;
    }
    const count = Math.min(CHUNK, 0x1_0000_0000 - low);
    const found = searchNonces(job.header, job.target, { start: low, count, midstate });
    if (found >= 0) {
      scope.postMessage({ job: job.job, found, high: job.highNonce, hashes: found - low + 1 });
      current = undefined;
      return;
    }
    scope.postMessage({ job: job.job, hashes: count });
    low += count;
    if (low >= 0x1_0000_0000) {
      current = undefined; // space exhausted: the miner refreshes the template
      return;
    }
    // Yield so a newer job or a stop can arrive between chunks.
    setTimeout(step, 0);
  };
  step();
}
