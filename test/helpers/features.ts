// Test helper: a small machine that uses every XState feature the compiler supports.
import { and, assign, not, or, setup } from 'xstate';

/** A model that uses every supported feature: nested compound states, transitions on ancestors,
 * entry and exit actions, reentering self-transitions, and/or/not guards, named actions with params. */
export function featureMachine() {
  return setup({
    types: {} as { context: { log: string[]; n: number; flag: boolean } },
    guards: {
      below: ({ context }, p: { max: number }) => context.n < p.max,
      isFlag: ({ context }) => context.flag,
    },
    actions: {
      note: assign({ log: ({ context }, p: { msg: string }) => [...context.log.slice(-3), p.msg] }),
      inc: assign({ n: ({ context }) => context.n + 1 }),
    },
  }).createMachine({
    type: 'parallel',
    context: { log: [], n: 0, flag: false },
    entry: { type: 'note', params: { msg: 'root-entry' } },
    states: {
      a: {
        initial: 'outer',
        states: {
          outer: {
            initial: 'inner1',
            entry: { type: 'note', params: { msg: 'outer-in' } },
            exit: { type: 'note', params: { msg: 'outer-out' } },
            on: { 'a.escape': { target: 'done', actions: { type: 'note', params: { msg: 'escape' } } } },
            states: {
              inner1: {
                entry: { type: 'note', params: { msg: 'i1-in' } },
                exit: { type: 'note', params: { msg: 'i1-out' } },
                on: {
                  'a.next': { target: 'inner2', guard: and([{ type: 'below', params: { max: 3 } }, not('isFlag')]), actions: 'inc' },
                  'a.again': { target: 'inner1', reenter: true, guard: { type: 'below', params: { max: 2 } }, actions: 'inc' },
                },
              },
              inner2: {
                on: {
                  'a.back': { target: 'inner1', guard: or(['isFlag', { type: 'below', params: { max: 2 } }]) },
                  'a.toggle': { actions: assign({ flag: ({ context }) => !context.flag }) },
                },
              },
            },
          },
          done: { type: 'final' },
        },
      },
      b: {
        initial: 'x',
        states: {
          x: { on: { 'b.go': { target: 'y', actions: 'inc' } } },
          y: { entry: assign({ flag: true }), on: { 'b.go': { target: 'x', guard: { type: 'below', params: { max: 3 } } } } },
        },
      },
    },
  });
}

