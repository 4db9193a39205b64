/**
 * Placeholder for tasks whose parts land in later issues.
 *
 * @module
 */

const task = Deno.args[0] ?? "this task";
console.error(`edgeledger: \`deno task ${task}\` is not yet available (see the open issues).`);
Deno.exit(1);
