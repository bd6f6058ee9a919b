// Differential fuzz: random small models with declared footprints and a symmetric group, checked property by
// property reduced (symmetry, por, both) and unreduced: every verdict agrees, and every reduced counterexample
// replays on the unreduced model. bench/fuzz-reduce.ts runs thousands of seeds.
import { describe, expect, it } from 'vitest';
import { instantiate, selectInvariants } from '../../../explorer/index.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import { compareReduced, randomModel } from '../../helpers/reduce-fuzz.ts';

const SEEDS = Number(process.env.FUZZ_SEEDS ?? 240);

describe('reduction fuzz', () => {
  it(`${SEEDS} random models: reduced and unreduced verdicts agree, property by property`, () => {
    let reducedStates = 0;
    let plainStates = 0;
    let violations = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const model = randomModel(seed);
      const reduce = seed % 3 === 0 ? (['symmetry'] as const) : seed % 3 === 1 ? (['por'] as const) : (['symmetry', 'por'] as const);
      for (const { property, plain, reduced } of compareReduced(model, [...reduce])) {
        const where = `seed ${seed}, ${reduce.join('+')}, ${property}`;
        expect(reduced.verdict.status, where).toBe(plain.verdict.status);
        expect(reduced.verdict.kind, where).toBe(plain.verdict.kind);
        expect(reduced.stats.states, where).toBeLessThanOrEqual(plain.stats.states);
        if (property === 'deadlock') {
          reducedStates += reduced.stats.states;
          plainStates += plain.stats.states;
        }
        if (reduced.trace) {
          violations++;
          const space = instantiate(model, {}, 'main');
          const r = replayTrace(space, model, reduced.trace, selectInvariants(model, {}, 'main', true));
          expect(r.status, `${where}: ${r.reason}`).toBe('reproduced');
        }
      }
    }
    // the fuzz exercises both outcomes and actually reduces
    expect(violations).toBeGreaterThan(SEEDS / 4);
    expect(reducedStates).toBeLessThan(plainStates * 0.8);
  });
});
