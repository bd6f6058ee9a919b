// The compiled engine must agree with XState's own transition() on every reachable state of every
// bundled model (at its small parameters), event by event.
import { describe, expect, it } from 'vitest';
import { resolveParams } from '../../explorer/index.ts';
import { loadAllBundled } from '../../cli/models.ts';
import { compareEverywhere } from '../helpers/differential.ts';

const models = await loadAllBundled();

describe('compiled engine agrees with XState transition() on every reachable state', () => {
  for (const model of models) {
    for (const variant of Object.keys(model.variants)) {
      it(`${model.name} / ${variant}`, () => {
        const params = resolveParams(model, model.smallParams ?? {});
        const machine = model.create({ params, variant });
        const states = compareEverywhere(machine);
        expect(states).toBeGreaterThan(1);
      }, 120_000);
    }
  }
});
