// The distributed search against the one-process search: states/s of `check --nats` with 1, 2 and 3 local
// `interleave worker` processes on a local nats-server (loopback), and of the same check in one process.
// Usage: node bin/run-ts.js bench/distributed.ts [--specs a.json,b.json] [--peers 1,2,3]. Prints a markdown table.
// Every process shares this machine's cores, so more workers than cores measures the protocol, not a speed-up.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { BIN, LocalNats } from '../test/helpers/nats.ts';

const { values: o } = parseArgs({
  options: { specs: { type: 'string', default: 'specs/btrfs-send-merged-2rounds.json,specs/philosophers-10.json' }, peers: { type: 'string', default: '1,2,3' } },
});
const specs = o.specs.split(',');
const peerCounts = o.peers.split(',').map(Number);

function check(spec: string, extra: string[]): { states: number; transitions: number; seconds: number; verdict: string } {
  const r = spawnSync(process.execPath, [BIN, 'check', spec, '--json', '--no-save', ...extra], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const res = JSON.parse(r.stdout).results[0];
  if (!res?.stats) throw new Error(`${spec} ${extra.join(' ')}: ${r.stdout}${r.stderr}`);
  return { states: res.stats.states, transitions: res.stats.transitions, seconds: res.stats.seconds, verdict: res.verdict.status };
}

const nats = await new LocalNats().start();
try {
  for (let i = 0; i < Math.max(...peerCounts); i++) await nats.worker();
  console.log(`${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the start`);
  console.log('');
  console.log('| spec | search | states | transitions | seconds | states/s | vs one process |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const spec of specs) {
    const one = check(spec, []);
    const rate = (r: { states: number; seconds: number }) => r.states / r.seconds;
    const row = (what: string, r: ReturnType<typeof check>) =>
      console.log(`| ${spec.replace(/^specs\//, '')} | ${what} | ${r.states.toLocaleString('en')} | ${r.transitions.toLocaleString('en')} | ${r.seconds.toFixed(2)} | ${Math.round(rate(r)).toLocaleString('en')} | ${(rate(r) / rate(one)).toFixed(2)}x |`);
    row('one process', one);
    for (const n of peerCounts) row(`--nats, ${n} worker${n > 1 ? 's' : ''}`, check(spec, ['--nats', nats.url, '--peers', String(n)]));
  }
  console.log('');
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end`);
} finally {
  await nats.stop();
}
