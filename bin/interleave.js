#!/usr/bin/env node
// Entry point: runs the CLI from the compiled build in dist/ when it matches the sources, else from the
// TypeScript sources through the loaders (bin/tree.mjs decides; INTERLEAVE_FROM=auto|dist|src overrides).
import { ROOT } from './register.mjs';
import { chooseTree } from './tree.mjs';
// A reader that stops early (interleave list | head) closes the pipe: stop quietly, not with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const tree = chooseTree(ROOT, process.env.INTERLEAVE_FROM || 'auto');
if (tree.error) {
  process.stderr.write(`${tree.error}\n`);
  process.exit(2);
}
let main;
if (tree.dist) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { registerLoaders } = await import('./register.mjs');
  await registerLoaders();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
