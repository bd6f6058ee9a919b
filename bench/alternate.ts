// Old against new, alternately in one run: `check --json --no-save` of the same specs in two checkouts,
// round after round (old, new, old, new...), so that a busy machine slows both alike. Reports each spec's
// search seconds (stats.seconds: the search, not start-up) per run, and the ratio new/old of the medians.
//
//   node bin/run-ts.js bench/alternate.ts --old /work/main --new . --rounds 3 [--phil 14,16] [SPEC ...]
//
// Philosophers N (naive, whole space) are written as temporary specs; SPEC paths are relative to each
// checkout, or absolute (default: the three largest kernel specs).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { old: { type: 'string' }, new: { type: 'string', default: '.' }, rounds: { type: 'string', default: '3' }, phil: { type: 'string', default: '14' } },
});
if (!o.old) {
  console.error('usage: node bin/run-ts.js bench/alternate.ts --old DIR [--new DIR] [--rounds N] [--phil 14,16] [SPEC ...]');
  process.exit(2);
}
const trees = { old: resolve(o.old), new: resolve(o.new) };
const scratch = mkdtempSync(join(tmpdir(), 'interleave-alternate-'));
const specs: Array<{ name: string; path: (tree: string) => string }> = [];
for (const n of o.phil.split(',').filter(Boolean).map(Number)) {
  const file = join(scratch, `philosophers-${n}.json`);
  writeFileSync(file, JSON.stringify({ description: `philosophers ${n}`, model: 'philosophers', variant: 'naive', params: { n }, check: { stopAtFirst: false }, bounds: { timeoutSeconds: 600 }, expect: { status: 'violation', kind: 'deadlock' } }));
  specs.push({ name: `philosophers-${n}`, path: () => file });
}
const kernel = positionals.length ? positionals : ['specs/btrfs-send-merged-2rounds.json', 'specs/bcachefs-freeze-intwrite-trans-large.json', 'specs/sb-freeze-generic-large.json'];
// a relative SPEC is taken in each checkout; an absolute one (a scratch spec) is the same file for both
for (const k of kernel) specs.push({ name: k.replace(/^.*\//, '').replace(/\.json$/, ''), path: (tree) => resolve(tree, k) });

function seconds(tree: string, spec: string): number {
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(tree, 'bin', 'interleave.js'), 'check', spec, '--json', '--no-save'], { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 26 });
  } catch (e) {
    out = (e as { stdout?: string }).stdout ?? '';
  }
  return JSON.parse(out).results[0].stats.seconds;
}

const times: Record<string, { old: number[]; new: number[] }> = {};
for (let r = 0; r < Number(o.rounds); r++) {
  for (const s of specs) {
    times[s.name] ??= { old: [], new: [] };
    for (const which of r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      const t = seconds(trees[which], s.path(trees[which]));
      times[s.name][which].push(t);
      process.stderr.write(`round ${r + 1} ${s.name} ${which}: ${t.toFixed(3)} s\n`);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('| spec | old (s, per run) | new (s, per run) | new/old (medians) |');
console.log('| --- | --- | --- | --- |');
for (const [name, t] of Object.entries(times)) {
  console.log(`| ${name} | ${t.old.map((x) => x.toFixed(2)).join(', ')} | ${t.new.map((x) => x.toFixed(2)).join(', ')} | ${(median(t.new) / median(t.old)).toFixed(3)} |`);
}
