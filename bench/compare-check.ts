// Compares `interleave check --json` over every bundled spec with a saved baseline: verdicts (status,
// kind, name, bound), states, transitions, depths and the counterexample files, byte for byte. For
// refactors of the explorer that must not change a single result.
//
//   node bin/interleave.js check --json > /tmp/base.json; cp -r counterexamples /tmp/base-cx   (old tree)
//   node bin/run-ts.js bench/compare-check.ts /tmp/base.json /tmp/base-cx                       (new tree)
//
// Exit 0: identical; 1: differences (listed); 2: bad arguments.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Row {
  spec: string;
  verdict: { status: string; kind?: string; name?: string; bound?: unknown };
  stats?: { states: number; transitions: number; depth: number };
  counterexample: string | null;
}

const [baseFile, baseCx] = process.argv.slice(2);
if (!baseFile || !existsSync(baseFile)) {
  console.error('usage: node bin/run-ts.js bench/compare-check.ts BASELINE.json [BASELINE-COUNTEREXAMPLES-DIR]');
  process.exit(2);
}
const base: Row[] = JSON.parse(readFileSync(baseFile, 'utf8')).results;
let out: string;
try {
  out = execFileSync(process.execPath, ['bin/interleave.js', 'check', '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
} catch (e) {
  out = (e as { stdout?: string }).stdout ?? '';
}
const now: Row[] = JSON.parse(out).results;
const bySpec = new Map(now.map((r) => [r.spec, r]));
const diffs: string[] = [];
const pick = (r: Row) =>
  JSON.stringify({ verdict: { ...r.verdict, message: undefined }, states: r.stats?.states, transitions: r.stats?.transitions, depth: r.stats?.depth, counterexample: r.counterexample });
for (const b of base) {
  const n = bySpec.get(b.spec);
  if (!n) {
    diffs.push(`${b.spec}: missing from the new run`);
    continue;
  }
  if (pick(b) !== pick(n)) diffs.push(`${b.spec}:\n  before ${pick(b)}\n  after  ${pick(n)}`);
  if (baseCx && b.counterexample) {
    const name = b.counterexample.split('/').pop()!;
    const before = readFileSync(join(baseCx, name));
    const after = existsSync(n.counterexample ?? '') ? readFileSync(n.counterexample!) : null;
    if (!after || !before.equals(after)) diffs.push(`${b.spec}: counterexample ${name} differs`);
  }
}
for (const n of now) if (!base.some((b) => b.spec === n.spec)) diffs.push(`${n.spec}: new spec (not in the baseline)`);
if (diffs.length) {
  console.log(diffs.join('\n'));
  console.log(`${diffs.length} difference(s) over ${base.length} specs`);
  process.exit(1);
}
console.log(`identical: ${base.length} specs (verdicts, states, transitions, depths${baseCx ? ', counterexample bytes' : ''})`);
