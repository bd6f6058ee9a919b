// Runs `interleave swarm SPEC --jobs N` on every bundled spec that expects a violation and replays each
// merged counterexample: the issue-15 acceptance check, too slow for the test suite (one swarm of N
// processes per spec). Usage: node bin/run-ts.js scripts/swarm-specs.ts [--jobs 4] [--timeout 60] [--out DIR]
// Prints one line per spec and exits 1 if any swarm disagrees with its spec or a counterexample does not replay.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const jobs = arg('--jobs', '4');
const timeout = arg('--timeout', '60');
const out = arg('--out', 'swarm-results/specs');
const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'interleave.js');
const specs = readdirSync(join(root, 'specs'))
  .filter((f) => f.endsWith('.json') && JSON.parse(readFileSync(join(root, 'specs', f), 'utf8')).expect.status === 'violation')
  .sort();
let bad = 0;
for (const f of specs) {
  const t0 = performance.now();
  const s = spawnSync(process.execPath, [bin, 'swarm', join('specs', f), '--jobs', jobs, '--timeout', timeout, '--out', out, '--json'], { cwd: root, encoding: 'utf8' });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  let line = `${f}: exit ${s.status}, ${seconds}s`;
  try {
    const doc = JSON.parse(s.stdout);
    const from = doc.shards.find((x: { index: number }) => x.index === doc.from);
    line += `, ${doc.verdict.status} ${doc.verdict.kind ?? ''} from job ${doc.from} (${from?.job.strategy})`;
    const r = spawnSync(process.execPath, [bin, 'replay', doc.counterexample], { cwd: root, encoding: 'utf8' });
    line += `, replay: ${r.stdout.split(' ')[0]}`;
    if (s.status !== 0 || r.status !== 0) bad++;
  } catch {
    line += `: ${s.stderr.trim().split('\n').slice(-1)[0]}`;
    bad++;
  }
  console.log(line);
}
console.log(`${specs.length - bad} of ${specs.length} violation specs: the swarm found the expected kind and the counterexample replays`);
process.exitCode = bad ? 1 : 0;
