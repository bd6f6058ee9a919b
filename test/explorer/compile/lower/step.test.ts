// The word step takes the fallback (the compiled step on the decoded context) where the compiler refused a
// guard or an action, and where a lowered action cannot compute a state exactly (BAIL), and gives the same
// successors as with lowering off, state by state.
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { compileMachine } from '../../../../explorer/compile/index.ts';
import { exploreWords } from '../../../helpers/explore-words.ts';

const machine = setup({
  types: {} as { context: { n: number; xs: number[]; s: string | null } },
  guards: {
    below: ({ context }, p: { max: number }) => context.n < p.max,
    // refused: a call
    hasZero: ({ context }) => context.xs.includes(0),
  },
  actions: {
    inc: assign({ n: ({ context }) => context.n + 1 }),
    mark: assign({
      xs: ({ context }, p: { at: number }) => {
        const xs = context.xs.slice();
        xs[p.at] = 1;
        return xs;
      },
    }),
    // lowered, but n / 2 is not an int32 when n is odd: BAIL (the array's encoding changes form)
    half: assign({
      xs: ({ context }) => {
        const xs = context.xs.slice();
        xs[1] = context.n / 2;
        return xs;
      },
    }),
    // refused: a call
    name: assign({ s: ({ context }) => String(context.n) }),
  },
}).createMachine({
  type: 'parallel',
  context: { n: 0, xs: [0, 0], s: null },
  states: {
    t: {
      initial: 'a',
      states: {
        // every transition here is lowered: states with t at a step on the words
        a: {
          on: {
            't.inc': { guard: { type: 'below', params: { max: 3 } }, actions: 'inc' },
            't.half': { actions: 'half', target: 'b' },
          },
        },
        // refused guard and refused action here: states with t at b take the compiled step
        b: {
          on: {
            't.mark': { guard: 'hasZero', actions: { type: 'mark', params: { at: 0 } } },
            't.name': { actions: 'name', target: 'a' },
            't.end': 'done',
          },
        },
        done: { type: 'final' },
      },
    },
  },
});

const explore = exploreWords;

describe('word step: fallback where the compiler refuses', () => {
  const system = compileMachine(machine);
  const byEvent = (ev: string) => system.threads[0].candidates.flat().flat().find((tr) => tr && system.events[tr.event] === ev)!;

  it('records what it lowered and why it refused', () => {
    expect(byEvent('t.inc').guardLowered?.plan).not.toBeNull();
    expect(byEvent('t.inc').sequenceLowered.plan).not.toBeNull();
    expect(byEvent('t.mark').guardLowered).toMatchObject({ plan: null, why: 'CallExpression' });
    expect(byEvent('t.mark').sequenceLowered.plan).not.toBeNull();
    expect(byEvent('t.half').sequenceLowered.plan).not.toBeNull();
    expect(byEvent('t.name').sequenceLowered).toMatchObject({ plan: null, why: 'CallExpression' });
  });

  it('takes both paths and reaches the same states by the same steps as with lowering off', () => {
    const on = explore(system, true);
    const off = explore(system, false);
    expect(on.states).toEqual(off.states);
    expect(on.edges).toEqual(off.edges);
    expect(off.counts.lowered).toBe(0);
    expect(on.counts.lowered).toBeGreaterThan(0);
    // states at b (refused guard and action) and t.half at odd n (BAIL) take the compiled step
    expect(on.counts.fallback).toBeGreaterThan(0);
    expect(on.counts.fallback).toBeLessThan(off.counts.fallback);
    // the BAIL case is reached: a state where xs holds a non-int32
    expect(on.states.some((s) => s.includes('0.5'))).toBe(true);
  });
});
