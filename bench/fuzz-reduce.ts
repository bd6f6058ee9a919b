// The reduction differential fuzz at length: random models (test/helpers/reduce-fuzz.ts), property by property,
// reduced against unreduced. Usage: node bin/run-ts.js bench/fuzz-reduce.ts [--from 1] [--seeds 5000]. Exit 1 on a
// disagreement, printing the seed.
import { parseArgs } from 'node:util';
import { compareReduced, randomModel } from '../test/helpers/reduce-fuzz.ts';

const { values: o } = parseArgs({ options: { from: { type: 'string', default: '1' }, seeds: { type: 'string', default: '5000' } } });
const from = Number(o.from);
let bad = 0;
for (let seed = from; seed < from + Number(o.seeds); seed++) {
  for (const reduce of [['symmetry'], ['por'], ['symmetry', 'por']] as const) {
    for (const { property, plain, reduced } of compareReduced(randomModel(seed), [...reduce])) {
      if (plain.verdict.status !== reduced.verdict.status || plain.verdict.kind !== reduced.verdict.kind) {
        bad++;
        console.log(`seed ${seed} ${reduce.join('+')} ${property}: unreduced ${plain.verdict.status}, reduced ${reduced.verdict.status}`);
      }
    }
  }
  if (seed % 500 === 0) console.log(`${seed - from + 1} seeds, ${bad} disagreements`);
}
console.log(bad ? `${bad} disagreements` : 'all agree');
process.exit(bad ? 1 : 0);
