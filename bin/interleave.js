#!/usr/bin/env node
// Entry point: runs the CLI from the compiled build in dist/ when it matches the sources, else from the
// TypeScript sources through the loaders (bin/tree.mjs decides; INTERLEAVE_FROM=auto|dist|src overrides).
import { setFlagsFromString } from 'node:v8';
import { ROOT } from './register.mjs';
import { chooseTree } from './tree.mjs';
// A reader that stops early (interleave list | head) closes the pipe: stop quietly, not with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
// The V8 flags set here, at run time, are listed on globalThis for the parallel search: a worker thread's heap
// set-up puts the young generation's growth factor back to V8's own, for every thread, so explorer/parallel/pool.ts
// sets these again once a worker has started.
const setAtRunTime = [];
globalThis[Symbol.for('interleave.v8flags')] = setAtRunTime;
function setFlag(flag) {
  setFlagsFromString(flag);
  setAtRunTime.push(flag);
}
// A young generation that stays at V8's initial size (1 MB semi-spaces) instead of growing to 16 MB: a search
// makes short-lived objects (decoded contexts) at a high rate, and the larger young generation only held more of
// them and promoted more into the old generation (peak RSS 150 -> 102 MB on the kernel specs' largest runs, the
// same CPU or less: BENCHMARKS.md "Memory at scale"). V8 raises a growth factor below 2 given on the command line
// back to 2 when it sets up the heap, so it is set here, after; a user's own young-generation flags win.
if (!process.execArgv.some((a) => a.includes('semi-space'))) setFlag('--semi-space-growth-factor=1');
// Hot functions optimised sooner: V8 tiers a function up after its interrupt budget (about 132 KB of bytecode
// run) is spent; the search's linked guards and actions are many small closures, each warming up on its own, so
// a run of a few seconds spent much of itself in the interpreter. A budget of 20 KB: 0.80-0.84x the search's
// wall time on the kernel models' 30k-60k-state specs (the optimising compiler runs on the other core), the same
// on a 300k-state one (BENCHMARKS.md "Start-up of the word path"). A user's own budget wins.
if (!process.execArgv.some((a) => a.includes('interrupt-budget'))) setFlag('--interrupt-budget=20000');
// Less inlining per optimised function (400 bytes of callees' bytecode instead of V8's 920): the search's hot
// functions compile in about half the time, so a search of under a second spends less of itself waiting for
// the optimising compiler (it compiles on the other core while the search runs unoptimised). Alternating, on
// the kernel models' largest specs: 0.80x the search's time on xfs-inodegc, 0.86x on bcachefs-fiemap, 0.93x on
// file-write-freeze, 0.95-1.03x on the 150k-300k-state specs (BENCHMARKS.md "Less inlining"). 200 cost
// sb-freeze's 292k-state run 1.35-1.5x: the long runs want the inlining. A user's own inlining flags win.
if (!process.execArgv.some((a) => a.includes('inlined-bytecode'))) setFlag('--max-inlined-bytecode-size-cumulative=400');
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
