// Review: in-place array writes that cancel out within one expansion slip past verifyUnchanged (arrays are no longer frozen since b66ae4f).
// Was a real bug found in review, now fixed: this pins the fix.
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';
import { PackedSystem } from '../../explorer/packed.ts';
import { StateSpace } from '../../explorer/space/index.ts';
import { search } from '../../explorer/search.ts';

// State s enables t.push (push in place) then t.pop (pop in place). Expanding s: t.push makes xs [0,1] but returns the same array object, so the subtree cache copies
// the OLD words ([0]); t.pop then pops back to [0]. After the expansion ctx.xs is [0] again, so
// verifyUnchanged passes and two wrong successors are stored. With frozen arrays push throws at once.
const machine = () =>
  setup({}).createMachine({
    type: 'parallel',
    context: { xs: [0] as number[] },
    states: {
      t: {
        initial: 's',
        states: {
          s: {
            on: {
              't.push': { target: 'pushed', actions: assign({ xs: ({ context }) => (context.xs.push(1), context.xs) }) },
              't.pop': { target: 'popped', actions: assign({ xs: ({ context }) => (context.xs.pop(), context.xs) }) },
            },
          },
          pushed: { on: { 't.back': 's' } },
          popped: { on: { 't.back': 's' } },
        },
      },
    },
  } as any);

describe('review: in-place writes are never silently explored', () => {
  it('push in one event and pop in the next, same expansion: the run must stop with an error', () => {
    let states = -1;
    let error: unknown;
    try {
      states = search(new StateSpace(new PackedSystem(compileMachine(machine()))), { invariants: { short: (c: any) => c.xs.length <= 2 } }).stats.states;
    } catch (e) {
      error = e;
    }
    expect(error, `explored ${states} states silently`).toBeDefined();
  });
});
