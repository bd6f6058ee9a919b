// The compiler supports nested states, ancestor transitions, entry/exit actions and guard combinators
// exactly as XState runs them, and rejects what it does not support by name.
import { describe, expect, it } from 'vitest';
import { assign, createMachine, raise, sendTo, setup } from 'xstate';
import { compileMachine } from '../../explorer/compile.ts';
import { ModelError, ModelRuntimeError } from '../../explorer/errors.ts';
import { PackedSystem } from '../../explorer/packed.ts';
import { search } from '../../explorer/search.ts';
import { compareEverywhere } from '../helpers/differential.ts';
import { featureMachine } from '../helpers/features.ts';

describe('compiler', () => {
  it('agrees with XState on nested states, ancestor transitions, entry/exit, reenter and guard combinators', () => {
    const states = compareEverywhere(featureMachine());
    expect(states).toBeGreaterThan(10);
  });

  const rejects = (machine: any, feature: RegExp, where: RegExp) => {
    let err: unknown;
    try {
      compileMachine(machine);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(feature);
    expect((err as Error).message).toMatch(where);
  };
  const threadWith = (state: object) =>
    createMachine({ type: 'parallel', states: { t: { initial: 's', states: { s: state, end: { type: 'final' } } } } } as any);

  it('rejects invoke, naming the state', () => {
    rejects(threadWith({ invoke: { src: createMachine({}) } }), /invoke/, /t\.s/);
  });
  it("rejects 'after'", () => {
    rejects(threadWith({ after: { 10: 'end' } }), /after/, /t\.s/);
  });
  it("rejects 'always'", () => {
    rejects(threadWith({ always: 'end' }), /always/, /t\.s/);
  });
  it('rejects parallel states inside a thread', () => {
    rejects(threadWith({ type: 'parallel', states: { p: {}, q: {} } }), /parallel state inside a thread/, /t\.s/);
  });
  it('rejects history states', () => {
    rejects(threadWith({ initial: 'h1', states: { h1: {}, h: { type: 'history' } } }), /history/, /t\.s\.h/);
  });
  it('rejects raise and sendTo, naming the event', () => {
    rejects(threadWith({ on: { 't.go': { actions: raise({ type: 'x' }) } } }), /raise/, /t\.go/);
    rejects(threadWith({ on: { 't.go': { actions: sendTo('someone', { type: 'x' }) } } }), /sendTo/, /t\.go/);
  });
  it('rejects custom side-effect actions', () => {
    rejects(threadWith({ on: { 't.go': { actions: function sideEffect() {} } } }), /custom action sideEffect/, /t\.s/);
  });
  it('rejects wildcard events', () => {
    rejects(threadWith({ on: { '*': 'end' } }), /wildcard/, /t\.s/);
  });
  it('rejects a non-parallel root and transitions on the root', () => {
    rejects(createMachine({ initial: 'a', states: { a: {} } }), /parallel/, /root/);
    rejects(createMachine({ type: 'parallel', on: { go: {} }, states: { t: { initial: 'a', states: { a: {} } } } } as any), /root declares 'on'/, /go/);
  });
  it('rejects transitions into another thread', () => {
    const m = createMachine({
      type: 'parallel',
      states: { t: { initial: 'a', states: { a: { on: { 't.go': '#other' } } } }, u: { initial: 'b', states: { b: { id: 'other' } } } },
    } as any);
    rejects(m, /outside thread t/, /t\.go/);
  });
  it('rejects unknown named guards and actions, listing the known ones', () => {
    rejects(
      setup({ guards: { known: () => true } }).createMachine({ type: 'parallel', states: { t: { initial: 'a', states: { a: { on: { 't.go': { guard: 'missing' as any } } } } } } }),
      /guard 'missing'.*known guards: known/,
      /t\.go/,
    );
  });
  it('reports a guard that throws with the guard, state and event', () => {
    const m = setup({
      guards: {
        broken: () => {
          throw new Error('boom');
        },
      },
    }).createMachine({ type: 'parallel', states: { t: { initial: 'a', states: { a: { on: { 't.go': { guard: 'broken', target: 'b' } } }, b: {} } } } });
    let err: unknown;
    try {
      search(new PackedSystem(compileMachine(m)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelRuntimeError);
    expect((err as Error).message).toMatch(/guard broken threw at state t\.a on event t\.go: boom/);
  });
  /** One thread, one step t.go from a to b whose action runs `mutate` on the context in place. */
  const mutatingMachine = (context: Record<string, unknown>, mutate: (ctx: any) => void) =>
    setup({}).createMachine({
      type: 'parallel',
      context,
      states: {
        t: {
          initial: 'a',
          states: {
            a: { on: { 't.go': { target: 'b', actions: assign(({ context }) => (mutate(context), {})) } } },
            b: {},
          },
        },
      },
    });

  it('rejects in-place mutation of a record at once', () => {
    const m = mutatingMachine({ rec: { a: 0 } }, (ctx) => (ctx.rec.a = 1));
    expect(() => search(new PackedSystem(compileMachine(m)))).toThrow(/threw.*(read only|not extensible)/i);
  });

  it('rejects in-place mutation of an array after the step, naming the path', () => {
    const m = mutatingMachine({ xs: [0] }, (ctx) => ctx.xs.push(1));
    expect(() => search(new PackedSystem(compileMachine(m)))).toThrow(/changed the context in place \(context\.xs\[1\]\)/);
  });
});
