// Review: compiled successors vs XState on corner features: initial actions run as XState runs them; nested final states and XState-internal events are rejected by name.
// Was a real bug found in review, now fixed: this pins the fix.
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';
import { createReferenceStepper, canonicalJson } from '../../explorer/reference.ts';

describe('review: semantics vs XState', () => {
  it('initial: { target, actions } runs its actions when the compound state is entered (XState does)', () => {
    const m = setup({}).createMachine({
      type: 'parallel',
      context: { n: 0 },
      states: {
        t: {
          initial: 'idle',
          states: {
            idle: { on: { 't.go': 'work' } },
            work: {
              initial: { target: 'a', actions: assign({ n: ({ context }) => context.n + 1 }) } as any,
              states: { a: { on: { 't.done': '#done' } } },
            },
            end: { id: 'done', type: 'final' },
          },
        },
      },
    } as any);
    const ref = createReferenceStepper(m);
    const refNext = ref.step(ref.initial(), 't.go')!;
    const sys = compileMachine(m);
    const r = sys.step(sys.initialLeaves, sys.initialContext, sys.events.indexOf('t.go'))!;
    expect(canonicalJson(r.context)).toBe(canonicalJson(refNext.context));
  });

  it('a final state nested inside a compound state is rejected, naming it (XState would not finish the thread there)', () => {
    const m = setup({}).createMachine({
      type: 'parallel',
      context: { exited: 0 },
      states: {
        t: {
          initial: 's',
          states: {
            s: { on: { 't.go': 'outer' } },
            outer: {
              initial: 'f',
              exit: assign({ exited: ({ context }) => context.exited + 1 }),
              states: { f: { type: 'final' } },
            },
          },
        },
      },
    } as any);
    expect(() => compileMachine(m)).toThrow(/state t\.outer\.f is a final state nested inside t\.outer/);
  });
});

describe('review: done.state events spelled as ordinary events', () => {
  it('an explicit xstate.done.state.<id> transition (onDone spelled as an event) is rejected, not ignored', () => {
    const m = setup({}).createMachine({
      type: 'parallel',
      states: {
        t: {
          initial: 'work',
          states: {
            work: { id: 'work', initial: 'a', states: { a: { on: { 't.fin': 'f' } }, f: {} }, on: { 'xstate.done.state.work': 'after' } },
            after: { on: { 't.more': 'end' } },
            end: { type: 'final' },
          },
        },
      },
    } as any);
    expect(() => compileMachine(m)).toThrow(/handles the XState internal event 'xstate\.done\.state\.work'/);
  });
});
