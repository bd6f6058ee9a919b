// The warm comparison of `npm run bench -- --old DIR` (bench/run.ts): runs `interleave check FILE --json --quiet
// --no-save` RUNS times in one process of the tree at TREE (its TypeScript sources, through that tree's
// bin/run-ts.js), printing one line per run, {"states": n, "seconds": s} (the search's own figures). The first
// runs warm V8 up (the optimised code of the search's hot functions); the last ones measure the search itself.
//
//   node TREE/bin/run-ts.js bench/warm-harness.ts TREE FILE RUNS
import { pathToFileURL } from 'node:url';

const [tree, file, runs] = process.argv.slice(2);
const { main } = await import(pathToFileURL(`${tree}/cli/main.ts`).href);
const write = process.stdout.write.bind(process.stdout);
for (let r = 0; r < Number(runs); r++) {
  let out = '';
  (process.stdout as { write: unknown }).write = (chunk: unknown) => ((out += String(chunk)), true);
  try {
    await main(['check', file, '--json', '--quiet', '--no-save']);
  } finally {
    (process.stdout as { write: unknown }).write = write;
  }
  const stats = JSON.parse(out).results[0].stats;
  write(`${JSON.stringify({ states: stats.states, seconds: stats.seconds })}\n`);
}
