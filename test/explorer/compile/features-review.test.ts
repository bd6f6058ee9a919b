// XState features probed one by one against the compiler: each is modelled exactly (the cross-check agrees,
// on the word path and off it) or refused with a model error naming it and where it is.
import { describe, expect, it } from 'vitest';
import { assign, createMachine, log, setup } from 'xstate';
import { compileMachine } from '../../../explorer/compile/index.ts';
import { crossCheck } from '../../../explorer/crosscheck.ts';
import { ModelError, ModelRuntimeError } from '../../../explorer/errors.ts';

/** A one-thread machine: t.go from a to b with `on`'s transition, on the given context. */
const oneStep = (transition: object, context: object = { n: 0 }, impls: object = {}) =>
  setup(impls as any).createMachine({
    type: 'parallel',
    context,
    states: { t: { initial: 'a', states: { a: { on: { 't.go': { target: 'b', ...transition } } }, b: {} } } },
  } as any);

/** What `run` throws (undefined: nothing). */
const thrownBy = (run: () => unknown): unknown => {
  try {
    run();
  } catch (e) {
    return e;
  }
  return undefined;
};

/** What compiling and stepping t.go from the initial state throws. */
const thrownByStep = (machine: any): unknown =>
  thrownBy(() => {
    const sys = compileMachine(machine);
    sys.step(sys.initialLeaves, sys.initialContext, 0);
  });

describe('XState features: modelled exactly or refused by name', () => {
  it('refuses a named action implemented by a name or a { type, params } (XState runs only a function there)', () => {
    const inc = assign({ n: ({ context }: any, p: any) => context.n + (p?.k ?? 1) });
    for (const alias of ['inc', { type: 'inc', params: { k: 2 } }, 'alias']) {
      const err = thrownByStep(oneStep({ actions: 'alias' }, { n: 0 }, { actions: { inc, alias } }));
      expect(err).toBeInstanceOf(ModelError);
      expect((err as Error).message).toMatch(/action 'alias' at state t\.a on event t\.go is implemented by .*not a function/);
    }
  });

  it("refuses an assign that reads the actor's self, system or spawn (XState gives them; the engine has no actors)", () => {
    for (const key of ['self', 'system', 'spawn']) {
      const err = thrownByStep(oneStep({ actions: assign({ n: (args: any) => (args[key] ? 1 : 2) }) }));
      expect(err).toBeInstanceOf(ModelRuntimeError);
      expect((err as Error).message).toMatch(new RegExp(`inline assign .*state t\\.a on event t\\.go.*reads ${key}`));
    }
    // Destructuring only the context and event is fine, and agrees with XState; so is copying the args with a
    // rest pattern or a spread that never reads the three.
    const plain = oneStep({ actions: assign({ n: ({ context, event }: any) => context.n + event.type.length }) });
    expect(crossCheck(plain).status).toBe('agree');
    const rest = oneStep({ actions: assign({ n: ({ context, ...others }: any) => context.n + ('event' in others ? 1 : 0) }) });
    expect(crossCheck(rest).status).toBe('agree');
    const spread = oneStep({ actions: assign({ n: (args: any) => ({ ...args }).context.n + 1 }) });
    expect(crossCheck(spread).status).toBe('agree');
  });

  it("evaluates a log's value as XState does: one that throws is the action's error, one that does not changes nothing", () => {
    const throwing = oneStep({
      actions: log(() => {
        throw new Error('boom');
      }),
    });
    const err = thrownByStep(throwing);
    expect(err).toBeInstanceOf(ModelRuntimeError);
    expect((err as Error).message).toMatch(/log .*state t\.a on event t\.go: boom/);
    const fine = oneStep({ actions: [log(({ context }: any) => `n is ${context.n}`), assign({ n: 1 }), log('plain')] });
    for (const lowered of [true, false]) expect(crossCheck(fine, { lowered }).status).toBe('agree');
  });

  it('refuses an initial state XState cannot resolve, on a state entered only by a transition, naming the state', () => {
    const bad = createMachine({
      type: 'parallel',
      states: { t: { initial: 'a', states: { a: { on: { 't.go': 'c' } }, c: { initial: 'm.l', states: { m: { initial: 'l', states: { l: {} } } } } } } },
    } as any);
    const err = thrownBy(() => compileMachine(bad));
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/state t\.c .*initial.*m\.l/);
  });

  it('reports an initial entry action that throws (XState returns a snapshot in status error, with no thread active)', () => {
    const m = createMachine({
      type: 'parallel',
      context: { n: 0 },
      states: {
        t: {
          initial: 'a',
          states: {
            a: {
              entry: assign({
                n: () => {
                  throw new Error('boom');
                },
              }),
            },
          },
        },
      },
    } as any);
    const err = thrownBy(() => compileMachine(m));
    expect(err).toBeInstanceOf(ModelRuntimeError);
    expect((err as Error).message).toMatch(/initial state could not be computed: boom/);
  });

  it("refuses a transition that exits the thread's own state (XState's domain is then the root: it exits every thread), saying so", () => {
    const region = (on: object, onA: object) => createMachine({ type: 'parallel', states: { t: { id: 't', initial: 'a', on, states: { a: { on: onA }, b: {} } } } } as any);
    for (const [m, event] of [
      [region({}, { 't.up': '#t' }), 't.up'],
      [region({ 't.x': { target: '.b', reenter: true } }, {}), 't.x'],
    ] as const) {
      const err = thrownBy(() => compileMachine(m));
      expect(err).toBeInstanceOf(ModelError);
      expect((err as Error).message).toMatch(new RegExp(`on ${event.replace('.', '\\.')} .*re-enters thread t itself.*exiting every thread`));
    }
  });

  it("evaluates a final state's output and the machine's as XState does: one that throws is the model's error", () => {
    const boom = () => {
      throw new Error('boom');
    };
    const twoThreads = (finalOutput: unknown, rootOutput: unknown) =>
      createMachine({
        type: 'parallel',
        context: { n: 0 },
        output: rootOutput,
        states: {
          t: { initial: 'a', states: { a: { on: { 't.go': 'f' } }, f: { type: 'final', output: finalOutput } } },
          u: { initial: 'x', states: { x: { on: { 'u.go': 'y' } }, y: { type: 'final' } } },
        },
      } as any);
    const finalErr = thrownByStep(twoThreads(boom, undefined));
    expect(finalErr).toBeInstanceOf(ModelRuntimeError);
    expect((finalErr as Error).message).toMatch(/output of t\.f threw at state t\.f: boom/);
    // The machine's output: when the last thread ends (u.go after t.go).
    const sys = compileMachine(twoThreads(undefined, boom));
    const afterT = sys.step(sys.initialLeaves, sys.initialContext, sys.events.indexOf('t.go'))!;
    const rootErr = thrownBy(() => sys.step(afterT.leaves, afterT.context, sys.events.indexOf('u.go')));
    expect(rootErr).toBeInstanceOf(ModelRuntimeError);
    expect((rootErr as Error).message).toMatch(/the machine's output threw at state \(root\): boom/);
    // Outputs that do not throw change nothing.
    const fine = twoThreads(({ context }: any) => context.n, ({ context, event }: any) => [context.n, event.type]);
    for (const lowered of [true, false]) expect(crossCheck(fine, { lowered }).status).toBe('agree');
  });

  it("cross-checks a model whose action throws with the engine's error naming it, not XState's raw one", () => {
    const m = oneStep({
      actions: assign({
        n: () => {
          throw new Error('boom');
        },
      }),
    });
    const err = thrownBy(() => crossCheck(m));
    expect(err).toBeInstanceOf(ModelRuntimeError);
    expect((err as Error).message).toMatch(/inline assign threw at state t\.a on event t\.go: boom/);
  });

  it('cross-checks a context holding a bigint without a raw TypeError (the search refuses it by path)', () => {
    expect(() => crossCheck(oneStep({}, { n: 1n }))).not.toThrow(TypeError);
  });
});
