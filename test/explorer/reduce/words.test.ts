// A reduced search steps on the packed words too: symmetry's representative works on the successor's words
// and needs no decoded context, so under symmetry alone a state is decoded only where a step falls back; the
// state counts are those of the same search with every step on the decoded context.
import { describe, expect, it } from 'vitest';
import { instantiate, resolveParams } from '../../../explorer/index.ts';
import { PackedSystem } from '../../../explorer/packed.ts';
import { planReductions } from '../../../explorer/reduce/index.ts';
import { search } from '../../../explorer/search.ts';
import { StateSpace } from '../../../explorer/space/index.ts';
import sbFreeze from '../../../machines/sb-freeze/index.ts';

function reducedRun(lowered: boolean, reduce: Array<'symmetry' | 'por'>) {
  const params = resolveParams(sbFreeze, { writers: 3, umountWriters: 1, faulters: 2, intwriters: 2 });
  const { system } = instantiate(sbFreeze, params, 'generic').packed;
  const packed = new PackedSystem(system, { lowered });
  let decodes = 0;
  const decodeOwn = packed.decodeOwn.bind(packed);
  packed.decodeOwn = () => (decodes++, decodeOwn());
  const space = new StateSpace(packed);
  const plan = planReductions(space, { model: sbFreeze, options: { params, variant: 'generic' }, reduce, invariants: [], assertions: false }).apply();
  expect(plan.ran).toEqual(reduce);
  const r = search(space, { stopAtFirst: false, deadlock: true });
  return { states: r.stats.states, transitions: r.stats.transitions, counts: { ...space.words.counts }, decodes };
}

describe('reduced searches on the words', () => {
  it('symmetry: the same states as on the decoded context, stepped on the words, no state decoded for the reduction', () => {
    const words = reducedRun(true, ['symmetry']);
    const decoded = reducedRun(false, ['symmetry']);
    expect(words.states).toBe(decoded.states);
    expect(words.transitions).toBe(decoded.transitions);
    expect(decoded.counts.lowered).toBe(0);
    // sb-freeze is declared throughout: the steps on the words (the compiled step only where the machine
    // finishes), and a state decoded only for such a step, not for the reduction
    expect(words.counts.lowered).toBeGreaterThan(words.transitions * 0.99);
    expect(words.decodes).toBeLessThanOrEqual(words.counts.fallback);
  });

  it('symmetry and partial order: the same states, steps on the words, each expanded state decoded once for the ample set', () => {
    const words = reducedRun(true, ['symmetry', 'por']);
    const decoded = reducedRun(false, ['symmetry', 'por']);
    expect(words.states).toBe(decoded.states);
    expect(words.transitions).toBe(decoded.transitions);
    expect(words.counts.lowered).toBeGreaterThan(0);
    expect(words.decodes).toBeLessThanOrEqual(words.states);
  });
});
