// Review (perf commit c0d2dfc): guard and assign args objects are now reused per guard/action and
// refilled per call. Pin (passing) of the observable divergence from XState, which builds a fresh
// { context, event } per call: a model function that keeps its args object (memo, logging, a closure)
// later sees it rewritten. What the functions see during the call is unchanged.
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';

describe('review: reused args objects (pin)', () => {
  it('a named guard gets the same args object on every call; a kept one shows the latest context', () => {
    const kept: any[] = [];
    const m = setup({
      guards: {
        g: (args: any) => {
          kept.push(args);
          return true;
        },
      },
    }).createMachine({
      type: 'parallel',
      context: { n: 0 },
      states: {
        t: {
          initial: 'a',
          states: { a: { on: { 't.go': { guard: 'g', target: 'a', actions: assign({ n: ({ context }) => context.n + 1 }) } } } },
        },
      },
    } as any);
    const sys = compileMachine(m);
    const e = sys.events.indexOf('t.go');
    const r1 = sys.step(sys.initialLeaves, sys.initialContext, e)!;
    sys.step(r1.leaves, r1.context, e);
    expect(kept.length).toBe(2);
    expect(kept[0]).toBe(kept[1]); // XState: two distinct objects
    expect(kept[0].context.n).toBe(1); // XState: the first call's args still say n = 0
    expect(Object.keys(kept[0]).sort()).toEqual(['context', 'event']);
  });

  it('single-key and multi-key assign functions see the pre-action context (XState resolveAssign)', () => {
    const m = setup({}).createMachine({
      type: 'parallel',
      context: { a: 1, b: 2 },
      states: {
        t: {
          initial: 's',
          states: {
            s: {
              on: {
                't.go': {
                  target: 's',
                  actions: [
                    assign({ a: ({ context }) => context.b, b: ({ context }) => context.a }),
                    assign({ a: ({ context }) => context.a * 10 }),
                  ],
                },
              },
            },
          },
        },
      },
    } as any);
    const sys = compileMachine(m);
    const r = sys.step(sys.initialLeaves, sys.initialContext, sys.events.indexOf('t.go'))!;
    expect(r.context).toEqual({ a: 20, b: 1 });
    expect(Object.keys(r.context)).toEqual(['a', 'b']);
  });
});
