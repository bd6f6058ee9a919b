// --check-footprints: every bundled model's declared footprints hold on its reachable states (small params),
// its symmetry groups are automorphisms there, and wrong declarations are caught with the culprit named.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { instantiate, resolveParams, selectInvariants } from '../../../explorer/index.ts';
import { checkFootprints, FootprintError } from '../../../explorer/reduce/check.ts';
import type { ModelDefinition } from '../../../explorer/model.ts';
import { undeclaredSet, workers, wrongFootprint } from '../../fixtures/reduce/models.ts';

function run(model: ModelDefinition, variant = model.defaultVariant, given: Record<string, unknown> = model.smallParams ?? {}, maxStates = 800) {
  const params = resolveParams(model, given);
  const packed = instantiate(model, params, variant).packed;
  return checkFootprints(packed, {
    model,
    options: { params, variant },
    invariants: selectInvariants(model, params, variant, true),
    assertions: model.assertions,
    maxStates,
  });
}

const bundled = readdirSync(new URL('../../../machines', import.meta.url)).filter((n) => n !== 'kernel');

describe('check-footprints', () => {
  for (const name of bundled) {
    it(`${name}: every variant's declared footprints and symmetry hold`, async () => {
      const model: ModelDefinition = (await import(`../../../machines/${name}/index.ts`)).default;
      for (const variant of Object.keys(model.variants)) {
        const r = run(model, variant);
        expect(r.states).toBeGreaterThan(1);
      }
    });
  }

  it('sb-freeze: the writer groups are automorphisms (transpositions of writers, faulters and fs-internal writers)', async () => {
    const model: ModelDefinition = (await import('../../../machines/sb-freeze/index.ts')).default;
    const r = run(model, 'generic', { writers: 3, faulters: 2, intwriters: 2, umountWriters: 1 }, 300);
    expect(r.symmetryChecks).toBe(r.states * 3);
  });

  it('a model with a symmetric group and declared footprints passes completely', () => {
    const r = run(workers, 'main', { n: 3 });
    expect(r.complete).toBe(true);
    expect(r.symmetryChecks).toBe(r.states * 2);
    expect(r.undeclared).toEqual([]);
    expect(r.checked).toBeGreaterThan(0);
  });

  it('names the guard, the state and the path read outside the declaration', () => {
    expect(() => run(wrongFootprint)).toThrow(FootprintError);
    expect(() => run(wrongFootprint)).toThrow(/guard flagSet at a\.s on a\.go reads other, outside its declared footprint/);
  });

  it('catches a sorted thread list that is not declared as a set (the swap is not an automorphism)', () => {
    expect(() => run(undeclaredSet)).toThrow(/symmetry at swap .* the swapped successor differs/);
  });
});
