// Differential fuzz: random small models with declared footprints and a symmetric group, checked property by
// property reduced (symmetry, por, both) and unreduced: every verdict agrees, and every reduced counterexample
// replays on the unreduced model. bench/fuzz-reduce.ts runs thousands of seeds.
import { describe, expect, it } from 'vitest';
import { checkModel, instantiate, selectInvariants } from '../../../explorer/index.ts';
import type { ModelDefinition } from '../../../explorer/model.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import { compareReduced, randomModel } from '../../helpers/reduce-fuzz.ts';

const SEEDS = Number(process.env.FUZZ_SEEDS ?? 240);

/** The unreduced states reachable, with the same property checked but the search not stopped at a violation. */
function allReachable(model: ModelDefinition, property: string): number {
  const check = property === 'deadlock' ? { deadlock: true, assertions: false, invariants: false } : { deadlock: false, assertions: false, invariants: [property] };
  return checkModel({ model, check, stopAtFirst: false }).stats.states;
}

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
        // A reduced search stores a subset of the reachable states; stopped at its first violation, it may meet
        // one deeper than the unreduced one (ample sets do not keep shortest paths), so it is then bounded by
        // every reachable state, not by the unreduced search's prefix.
        const bound = plain.verdict.status === 'pass' ? plain.stats.states : allReachable(model, property);
        expect(reduced.stats.states, where).toBeLessThanOrEqual(bound);
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
