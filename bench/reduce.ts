// Reductions at scale: states, transitions and seconds with --reduce none / symmetry / symmetry,por, for
// sb-freeze with 1..N identical syscall writers and for the scale-tier instances of issue 14.
// Usage: node bin/run-ts.js bench/reduce.ts [--writers 8] [--cap 3000000] [--scale]. Prints markdown tables.
import { parseArgs } from 'node:util';
import { checkModel } from '../explorer/index.ts';
import type { ModelDefinition } from '../explorer/model.ts';
import type { ReductionName } from '../explorer/reduce/index.ts';
import sbFreeze from '../machines/sb-freeze/index.ts';
import bcachefsFreeze from '../machines/bcachefs-freeze/index.ts';
import xfsInodegc from '../machines/xfs-inodegc/index.ts';

const { values: o } = parseArgs({
  options: { writers: { type: 'string', default: '8' }, cap: { type: 'string', default: '3000000' }, timeout: { type: 'string', default: '300' }, scale: { type: 'boolean', default: false } },
});
const cap = Number(o.cap);
const timeoutSeconds = Number(o.timeout);

function run(model: ModelDefinition, params: Record<string, any>, variant: string, reduce: ReductionName[]): string {
  const r = checkModel({ model, params, variant, reduce, maxStates: cap, timeoutSeconds });
  const v = r.verdict.status === 'violation' ? `${r.verdict.kind}` : r.verdict.status;
  const s = r.verdict.status === 'incomplete' ? `> ${r.stats.states}` : String(r.stats.states);
  return `${s} (${v}, ${r.stats.seconds.toFixed(1)} s)`;
}

const modes: ReductionName[][] = [[], ['symmetry'], ['symmetry', 'por']];
console.log('| writers | none | symmetry | symmetry, por |');
console.log('| ---: | ---: | ---: | ---: |');
for (let n = 1; n <= Number(o.writers); n++) {
  const params = { writers: n, umountWriters: 0, faulters: 0, intwriters: 0 };
  console.log(`| ${n} | ${modes.map((m) => run(sbFreeze, params, 'generic', m)).join(' | ')} |`);
}
if (o.scale) {
  const scale: Array<[string, ModelDefinition, Record<string, any>, string]> = [
    ['sb-freeze generic writers=faulters=intwriters=3, umountWriters=1', sbFreeze, { writers: 3, faulters: 3, intwriters: 3, umountWriters: 1 }, 'generic'],
    ['sb-freeze generic writers=faulters=intwriters=4, umountWriters=1', sbFreeze, { writers: 4, faulters: 4, intwriters: 4, umountWriters: 1 }, 'generic'],
    ['sb-freeze generic writers=8, faulters=intwriters=2, umountWriters=1', sbFreeze, { writers: 8, faulters: 2, intwriters: 2, umountWriters: 1 }, 'generic'],
    ['bcachefs-freeze merged writers=intwriters=3', bcachefsFreeze, { writers: 3, intwriters: 3 }, 'merged'],
    ['xfs-inodegc mainline evictors=4, cpus=2, shrinkers=1', xfsInodegc, { evictors: 4, cpus: 2, shrinkers: 1 }, 'mainline'],
  ];
  console.log('\n| instance | none | symmetry, por |');
  console.log('| --- | ---: | ---: |');
  for (const [name, model, params, variant] of scale) console.log(`| ${name} | ${run(model, params, variant, [])} | ${run(model, params, variant, ['symmetry', 'por'])} |`);
}
