/**
 * `deno task bench [filter]`: runs every benchmark (or those whose name contains `filter`)
 * and writes bench/results.json as `{ machine, results }`, merging with figures already there
 * so a filtered run updates only its own entries.
 *
 * @module
 */

import os from "node:os";
import type { Benchmark } from "./harness.ts";
import { round3 } from "./harness.ts";
import { lightBenchmarks } from "./light_bench.ts";
import { nodeBenchmarks } from "./node_bench.ts";
import { protocolBenchmarks } from "./protocol_bench.ts";
import { relayBenchmarks } from "./relay_bench.ts";

const benchmarks: Benchmark[] = [...protocolBenchmarks, ...nodeBenchmarks, ...relayBenchmarks, ...lightBenchmarks];

const filter = Deno.args[0] ?? "";
const resultsPath = new URL("./results.json", import.meta.url);

let previous: Record<string, number> = {};
try {
  previous = JSON.parse(await Deno.readTextFile(resultsPath)).results ?? {};
} catch {
  // first run
}

const results: Record<string, number> = { ...previous };
for (const b of benchmarks) {
  if (!b.name.includes(filter)) continue;
  const value = round3(await b.run());
  results[b.name] = value;
  console.log(`${b.name.padEnd(48)} ${value.toLocaleString("en-US").padStart(16)} ${b.unit}`);
}

const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.cpus().length,
  memoryBytes: os.totalmem(),
  os: `${Deno.build.os} ${Deno.build.arch}`,
  deno: Deno.version.deno,
  v8: Deno.version.v8,
  date: new Date().toISOString(),
};
const sorted = Object.fromEntries(Object.entries(results).sort(([a], [b]) => a.localeCompare(b)));
await Deno.writeTextFile(resultsPath, JSON.stringify({ machine, results: sorted }, null, 2) + "\n");
console.log(`wrote ${resultsPath.pathname}`);
