// Review (perf commit c0d2dfc), nit: the single-key assign fast path writes `out[key] = v` on a fresh
// object, so a key named '__proto__' sets the prototype. XState (and the multi-key path) write the
// partial the same way and then Object.assign it, which drops that key: the context is unchanged.
// FAILS on 3dcaf24: the successor's context gets a non-plain prototype.
import { describe, expect, it } from 'vitest';
import { assign, initialTransition, setup, transition } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';

describe('review: single-key assign of a "__proto__" key', () => {
  it('leaves the context as XState does', () => {
    const m = setup({}).createMachine({
      type: 'parallel',
      context: { n: 0 },
      states: { t: { initial: 'a', states: { a: { on: { 't.go': { target: 'a', actions: assign({ ['__proto__']: () => ({ evil: 1 }) } as any) } } } } } },
    } as any);
    const [s0] = initialTransition(m);
    const x = transition(m, s0, { type: 't.go' })[0].context;
    expect(Object.getPrototypeOf(x)).toBe(Object.prototype);
    const sys = compileMachine(m);
    const r = sys.step(sys.initialLeaves, sys.initialContext, sys.events.indexOf('t.go'))!;
    expect(Object.getPrototypeOf(r.context)).toBe(Object.prototype);
    expect((r.context as any).evil).toBeUndefined();
  });
});
