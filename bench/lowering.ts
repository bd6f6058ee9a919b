// Word step on and off (INTERLEAVE_LOWER) in one process, alternating: the CPU seconds (the machine is shared:
// wall time is noise) of a model's check with the lowered transitions on the packed words and with every step on the decoded context.
//
//   node bin/run-ts.js bench/lowering.ts --model philosophers --param n=14 --rounds 3 [--variant naive]
//   node bin/run-ts.js bench/lowering.ts --spec specs/sb-freeze-generic-large.json --rounds 3
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadAllBundled } from '../cli/models.ts';
import { checkModel } from '../explorer/index.ts';

const { values: o } = parseArgs({ options: { model: { type: 'string', default: 'philosophers' }, variant: { type: 'string' }, param: { type: 'string', multiple: true, default: [] }, rounds: { type: 'string', default: '3' }, spec: { type: 'string' } } });
const spec = o.spec ? JSON.parse(readFileSync(o.spec, 'utf8')) : null;
const model = (await loadAllBundled()).find((m) => m.name === (spec?.model ?? o.model));
if (!model) {
  console.error(`no bundled model ${o.model}`);
  process.exit(2);
}
const params = spec?.params ?? Object.fromEntries(o.param.map((kv) => kv.split('=')).map(([k, v]) => [k, Number.isNaN(Number(v)) ? v : Number(v)]));
const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
for (let r = 0; r < Number(o.rounds); r++) {
  for (const which of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
    process.env.INTERLEAVE_LOWER = which === 'on' ? '1' : '0';
    const cpu0 = process.cpuUsage();
    const res = checkModel({ model, params, variant: spec?.variant ?? o.variant, check: { ...spec?.check, stopAtFirst: false } } as any);
    const s = (res as any).outcome?.stats ?? (res as any).stats;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    times[which].push(cpuSeconds);
    process.stderr.write(`round ${r + 1} ${which}: ${s.states} states ${s.transitions} transitions, search ${s.seconds.toFixed(3)} s wall, ${cpuSeconds.toFixed(3)} s CPU\n`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`lowering on/off CPU seconds of the check (medians): ${median(times.on).toFixed(3)} / ${median(times.off).toFixed(3)} = ${(median(times.on) / median(times.off)).toFixed(3)}`);
