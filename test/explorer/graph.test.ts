// Distinct-state counts must equal @xstate/graph's getAdjacencyMap, an independent traversal.
import { getAdjacencyMap } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import abba from '../../machines/abba/index.ts';
import philosophers from '../../machines/philosophers/index.ts';
import { checkModel } from '../../explorer/index.ts';
import { referenceKey } from '../../explorer/reference.ts';
import type { ModelDefinition } from '../../explorer/model.ts';
import { featureMachine } from '../helpers/features.ts';
import { compileMachine } from '../../explorer/compile/index.ts';
import { PackedSystem } from '../../explorer/packed.ts';
import { StateSpace } from '../../explorer/space/index.ts';
import { search } from '../../explorer/search.ts';

function graphCount(machine: any): number {
  const adj = getAdjacencyMap(machine, { serializeState: (s: any) => referenceKey(s) } as any);
  return Object.keys(adj).length;
}

const cases: Array<[ModelDefinition, string, Record<string, number>]> = [
  [philosophers, 'naive', { n: 4 }],
  [philosophers, 'naive', { n: 6 }],
  [philosophers, 'ordered', { n: 5 }],
  [abba, 'abba', {}],
  [abba, 'ordered', {}],
];

describe('state counts agree with @xstate/graph', () => {
  for (const [model, variant, params] of cases) {
    it(`${model.name}/${variant} ${JSON.stringify(params)}`, () => {
      const ours = checkModel({ model, variant, params, stopAtFirst: false }).stats.states;
      expect(ours).toBe(graphCount(model.create({ params, variant })));
    });
  }
  it('the all-features machine', () => {
    const m = featureMachine();
    const ours = search(new StateSpace(new PackedSystem(compileMachine(m))), { stopAtFirst: false, deadlock: false }).stats.states;
    expect(ours).toBe(graphCount(m));
  });
  it('philosophers at N = 4, 6, 8 has 34, 198, 1154 states', () => {
    const counts = [4, 6, 8].map((n) => checkModel({ model: philosophers, params: { n }, stopAtFirst: false }).stats.states);
    expect(counts).toEqual([34, 198, 1154]);
  });
});
