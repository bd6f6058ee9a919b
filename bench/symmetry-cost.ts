// What a state costs under symmetry: the same instance unreduced and with --reduce symmetry, alternately in one
// process (a busy machine slows both alike), as CPU microseconds (user + system of this process, so waiting for
// a CPU on a loaded machine does not count) per stored state and per transition, and the
// ratios reduced/unreduced of the medians. The representative's own share is the per-transition ratio's excess
// over 1 (each transition is stepped, encoded and fingerprinted either way; reduced, its representative is taken).
//
//   node bin/run-ts.js bench/symmetry-cost.ts [--rounds 3]
import { parseArgs } from 'node:util';
import { checkModel } from '../explorer/index.ts';
import type { ModelDefinition } from '../explorer/model.ts';
import type { ReductionName } from '../explorer/reduce/index.ts';
import bcachefsFreeze from '../machines/bcachefs-freeze/index.ts';
import sbFreeze from '../machines/sb-freeze/index.ts';

const { values: o } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const instances: Array<[string, ModelDefinition, Record<string, number>, string]> = [
  ['sb-freeze generic writers=faulters=intwriters=3, umountWriters=1', sbFreeze, { writers: 3, faulters: 3, intwriters: 3, umountWriters: 1 }, 'generic'],
  ['bcachefs-freeze merged writers=intwriters=3', bcachefsFreeze, { writers: 3, intwriters: 3 }, 'merged'],
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('| instance | states none / symmetry | us per state none / symmetry (ratio) | us per transition none / symmetry (ratio) |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, model, params, variant] of instances) {
  const perState: Record<string, number[]> = { none: [], symmetry: [] };
  const perTransition: Record<string, number[]> = { none: [], symmetry: [] };
  const states: Record<string, number> = {};
  for (let r = 0; r < Number(o.rounds); r++) {
    for (const mode of r % 2 === 0 ? ['none', 'symmetry'] : ['symmetry', 'none']) {
      const reduce: ReductionName[] = mode === 'none' ? [] : ['symmetry'];
      const cpu0 = process.cpuUsage();
      const res = checkModel({ model, params, variant, reduce, timeoutSeconds: 600 });
      const cpu = process.cpuUsage(cpu0);
      const seconds = (cpu.user + cpu.system) / 1e6;
      if (res.verdict.status !== 'pass') throw new Error(`${name} ${mode}: ${res.verdict.status}`);
      states[mode] = res.stats.states;
      perState[mode].push((seconds * 1e6) / res.stats.states);
      perTransition[mode].push((seconds * 1e6) / res.stats.transitions);
      process.stderr.write(`round ${r + 1} ${name} ${mode}: ${res.stats.states} states ${seconds.toFixed(2)} CPU s\n`);
    }
  }
  const cell = (m: Record<string, number[]>) => `${median(m.none).toFixed(1)} / ${median(m.symmetry).toFixed(1)} (${(median(m.symmetry) / median(m.none)).toFixed(2)}x)`;
  console.log(`| ${name} | ${states.none} / ${states.symmetry} | ${cell(perState)} | ${cell(perTransition)} |`);
}
