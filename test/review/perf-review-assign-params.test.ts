// Review (perf commits c0d2dfc/3dcaf24): the single-key assign fast path (makeSingleAssign) only
// resolves the action's params when the key's value is a function. XState resolves params for every
// action before running it (resolveAndExecuteActionsWithContext), and the multi-key path here does too,
// so a params function that throws is reported for assign({ x: 1, y: 2 }) but silently skipped for
// assign({ x: 1 }). FAILS on 3dcaf24 (first test).
import { describe, expect, it } from 'vitest';
import { assign, initialTransition, setup, transition } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';
import { ModelRuntimeError } from '../../explorer/errors.ts';

const badParams = () => {
  throw new Error('bad params');
};

const machineWith = (assignment: Record<string, unknown>) =>
  setup({ actions: { set: assign(assignment as any) } }).createMachine({
    type: 'parallel',
    context: { x: 0, y: 0 },
    states: {
      t: {
        initial: 'a',
        states: { a: { on: { 't.go': { target: 'b', actions: { type: 'set', params: badParams } as any } } }, b: {} },
      },
    },
  } as any);

const stepErr = (m: ReturnType<typeof machineWith>) => {
  const sys = compileMachine(m);
  try {
    sys.step(sys.initialLeaves, sys.initialContext, sys.events.indexOf('t.go'));
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('review: assign params are resolved for every assign action (as XState does)', () => {
  it('single constant key: a throwing params function is reported, naming the action', () => {
    const m = machineWith({ x: 1 });
    // XState itself throws here.
    const [s0] = initialTransition(m);
    expect(() => transition(m, s0, { type: 't.go' })).toThrow(/bad params/);
    const err = stepErr(m);
    expect(err).toBeInstanceOf(ModelRuntimeError);
    expect((err as Error).message).toMatch(/action set threw at state t\.a on event t\.go: bad params/);
  });

  it('two constant keys: reported (the multi-key path resolves params)', () => {
    const err = stepErr(machineWith({ x: 1, y: 2 }));
    expect(err).toBeInstanceOf(ModelRuntimeError);
    expect((err as Error).message).toMatch(/action set threw at state t\.a on event t\.go: bad params/);
  });
});
