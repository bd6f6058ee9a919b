// Review: a self-targeting transition without reenter (a spin loop `spin: { on: { ev: 'spin' } }`) must not re-enter ancestors.
// Was a real bug found in review, now fixed: this pins the fix.
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';
import { PackedSystem } from '../../explorer/packed.ts';
import { StateSpace } from '../../explorer/space/index.ts';
import { canonicalJson, createReferenceStepper } from '../../explorer/reference.ts';
import { search } from '../../explorer/search.ts';

// compile/nodes.ts properAncestors(target, domain) walks to the root when target === domain (XState's
// getProperAncestors returns [] in that case), so the entry set gets every ancestor of the state.
const machine = () =>
  setup({}).createMachine({
    type: 'parallel',
    context: { entered: 0, spins: 0 },
    states: {
      t: {
        initial: 'work',
        states: {
          work: {
            initial: 'spin',
            entry: assign({ entered: ({ context }) => context.entered + 1 }),
            states: {
              spin: { on: { 't.try': { target: 'spin', guard: ({ context }: any) => context.spins < 2, actions: assign({ spins: ({ context }) => context.spins + 1 }) } } },
            },
          },
        },
      },
    },
  } as any);

describe('review: self-target without reenter', () => {
  it('runs no entry action of any ancestor (as XState)', () => {
    const m = machine();
    const ref = createReferenceStepper(m);
    const refNext = ref.step(ref.initial(), 't.try')!;
    expect(refNext.context).toEqual({ entered: 1, spins: 1 });
    const sys = compileMachine(m);
    const r = sys.step(sys.initialLeaves, sys.initialContext, sys.events.indexOf('t.try'))!;
    expect(canonicalJson(r.context)).toBe(canonicalJson(refNext.context));
  });

  it('verdict: the invariant enteredOnce holds in XState, so the search must pass (it reports a violation)', () => {
    const res = search(new StateSpace(new PackedSystem(compileMachine(machine()))), { deadlock: false, invariants: { enteredOnce: (c: any) => c.entered === 1 } });
    expect(res.status).toBe('pass');
  });
});
