// The compiler supports nested states, ancestor transitions, entry/exit actions and guard combinators
// exactly as XState runs them, and rejects what it does not support by name.
import { describe, expect, it } from 'vitest';
import { and, assign, createMachine, not, raise, sendTo, setup } from 'xstate';
import { compileMachine, GUARD_CALL_SOURCE, guardCallFactory, SINGLE_ASSIGN_SOURCE, singleAssignFactory } from '../../explorer/compile/index.ts';
import { ModelError, ModelRuntimeError } from '../../explorer/errors.ts';
import { PackedSystem } from '../../explorer/packed.ts';
import { StateSpace } from '../../explorer/space/index.ts';
import { search } from '../../explorer/search.ts';
import { compareEverywhere } from '../helpers/differential.ts';
import { featureMachine } from '../helpers/features.ts';
import { down_write, kernelActions, kernelGuards, mutex, mutex_lock, rwsem } from '../../machines/kernel/index.ts';

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

  it('recognises and/or/not renamed by a bundler (esbuild turns `and` into `and3`) by their check function or name', () => {
    const renamed = (g: any, name: string) => Object.defineProperty(g, 'name', { value: name });
    // Same xstate instance: known by its check function. Foreign copy (another check): by the name's stem.
    const sameInstance = renamed(and([() => true, not(() => false)]), 'and3');
    const foreign = renamed((_a: unknown, _p: unknown) => true, 'not7');
    Object.assign(foreign, { check: () => true, guards: [() => false] });
    for (const guard of [sameInstance, foreign]) {
      const m = setup({ types: {} as { context: { n: number } } }).createMachine({
        type: 'parallel',
        context: { n: 0 },
        states: { t: { initial: 's', states: { s: { on: { 't.go': { guard: guard as any, target: 'end' } } }, end: { type: 'final' } } } },
      });
      const sys = compileMachine(m);
      expect(sys.step(sys.initialLeaves, sys.initialContext, 0)).not.toBeNull();
    }
    // Any other function with a check (a built-in XState guard we do not support) is still rejected by name.
    const other = renamed((_a: unknown) => true, 'someBuiltin');
    Object.assign(other, { check: () => true, guards: [] });
    rejects(threadWith({ on: { 't.go': { guard: other, target: 'end' } } }), /someBuiltin.*not supported/, /t\.s/);
  });

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
  it('rejects a transition with keys XState ignores: a spread list of transitions (down_read) or a misspelt key, which would drop the guard and actions', () => {
    // { ...down_read('sem', 't', 'end'), target: 'end' } spreads an array: its transitions become keys '0', '1'.
    const list = [{ guard: () => false, target: 'end' }, { target: 'end' }];
    rejects(threadWith({ on: { 't.go': { ...list, target: 'end' } } }), /key '0'.*list of transitions.*'t\.go': down_read\(/, /t\.s.*t\.go/);
    rejects(threadWith({ on: { 't.go': { target: 'end', gaurd: () => false } } }), /key 'gaurd'/, /t\.s/);
  });
  it("rejects a misspelt meta or state key (meta: { asert }, enter: ...): the assertion or action would be silently left out", () => {
    rejects(threadWith({ meta: { asert: 'x' }, on: { 't.go': 'end' } }), /meta key 'asert'.*'assert'/, /t\.s/);
    rejects(threadWith({ on: { 't.go': { target: 'end', meta: { progres: true } } } }), /meta key 'progres'.*'progress'/, /t\.s.*t\.go/);
    rejects(threadWith({ enter: [], on: { 't.go': 'end' } }), /key 'enter'.*'entry'/, /t\.s/);
    // a swapped pair of letters is one slip, as is a letter missing, extra or wrong; another case is the same key
    rejects(threadWith({ meta: { porgress: true }, on: { 't.go': 'end' } }), /meta key 'porgress'.*'progress'/, /t\.s/);
    rejects(threadWith({ meta: { waitFor: 'x' }, on: { 't.go': 'end' } }), /meta key 'waitFor'.*'waitsFor'/, /t\.s/);
    rejects(threadWith({ meta: { End: true }, on: { 't.go': 'end' } }), /meta key 'End'.*'end'/, /t\.s/);
    // Keys of the model's own, far from any key interleave or XState reads, stay allowed.
    expect(() => compileMachine(threadWith({ meta: { kind: 'x', doc: 'y' }, on: { 't.go': 'end' } }))).not.toThrow();
    // ... and so do ordinary words two slips from one (assert/insert, joint/count/hint/point, progress/regress) or
    // one from the three-letter end (send, and, ends), and joint anywhere but the root, where it is read
    const own = { insert: 1, alert: 1, count: 1, hint: 'h', point: 'P5', regress: 1, send: 1, and: 1, ends: 1, joints: 1 };
    expect(() => compileMachine(threadWith({ meta: own, on: { 't.go': { target: 'end', meta: own } } }))).not.toThrow();
    const rootMeta = (meta: Record<string, unknown>) =>
      createMachine({ type: 'parallel', meta, states: { t: { initial: 's', states: { s: { on: { 't.go': 'end' } }, end: { type: 'final' } } } } });
    rejects(rootMeta({ jiont: ['t.go'] }), /meta key 'jiont'.*'joint'/, /root|\(machine\)|^$/);
    // at the root, where joint is read, too: point is another word (its first letter replaced), not a slip
    expect(() => compileMachine(rootMeta({ point: 'P5', count: 1, hint: 'h' }))).not.toThrow();
    rejects(rootMeta({ joints: ['t.go'] }), /meta key 'joints'.*'joint'/, /root|\(machine\)|^$/);
    const typed = setup({ types: {} as { context: { n: number } } }).createMachine({
      types: {} as { context: { n: number } },
      type: 'parallel',
      context: { n: 0 },
      states: { t: { initial: 's', states: { s: { on: { 't.go': 'end' } }, end: { type: 'final' } } } },
    });
    expect(() => compileMachine(typed)).not.toThrow();
  });
  it("rejects a meta key read on states only (assert, end, waitsFor) on a transition: it would never be checked there", () => {
    rejects(threadWith({ on: { 't.go': { target: 'end', meta: { assert: 'x' } } } }), /meta key 'assert' on a transition.*states only/, /t\.s.*t\.go/);
    rejects(threadWith({ on: { 't.go': { target: 'end', meta: { waitsFor: 'x' } } } }), /meta key 'waitsFor' on a transition/, /t\.s.*t\.go/);
    rejects(threadWith({ on: { 't.go': { target: 'end', meta: { end: true } } } }), /meta key 'end' on a transition/, /t\.s.*t\.go/);
    // progress is read on a transition, and the model's own keys stay its own
    expect(() => compileMachine(threadWith({ on: { 't.go': { target: 'end', meta: { progress: true, ends: 1, insert: 1 } } } }))).not.toThrow();
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
      search(new StateSpace(new PackedSystem(compileMachine(m))));
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
    expect(() => search(new StateSpace(new PackedSystem(compileMachine(m))))).toThrow(/threw.*(read only|not extensible)/i);
  });

  it('rejects in-place mutation of an array after the step, naming the path', () => {
    const m = mutatingMachine({ xs: [0] }, (ctx) => ctx.xs.push(1));
    expect(() => search(new StateSpace(new PackedSystem(compileMachine(m))))).toThrow(/changed the context in place \(context\.xs\[1\]\)/);
  });

  it('rejects in-place changes to an element of a mixed array (a string, a record or array replaced), naming the path', () => {
    const mixed = () => ({ xs: ['a', { r: 1 }, [1, 'b']] });
    const cases: Array<[(ctx: any) => void, RegExp]> = [
      [(ctx) => (ctx.xs[0] = 'z'), /in place \(context\.xs\[0\]\)/],
      [(ctx) => (ctx.xs[1] = { r: 2 }), /in place \(context\.xs\[1\]\.r\)/],
      [(ctx) => (ctx.xs[2] = [1, 'c']), /in place \(context\.xs\[2\]\[1\]\)/],
      [(ctx) => ctx.xs[2].push(3), /in place \(context\.xs\[2\]\[2\]\)/],
    ];
    for (const [mutate, message] of cases) {
      expect(() => search(new StateSpace(new PackedSystem(compileMachine(mutatingMachine(mixed(), mutate)))))).toThrow(message);
    }
  });

  it('compiles each guard call and single-key assign from source that behaves as its TypeScript factory', () => {
    const fromSource = (src: string) => new Function(`return (${src});`)();
    const fail = (e: unknown): never => {
      throw new Error(`wrapped: ${(e as Error).message}`);
    };
    const params = (ctx: any) => ({ at: ctx.n });
    for (const make of [guardCallFactory, fromSource(GUARD_CALL_SOURCE)]) {
      const seen: unknown[] = [];
      const g = make({ context: null, event: null }, (a: any, p: any) => (seen.push([a.context.n, a.event.type, p.at]), a.context.n > 1), params, fail);
      expect([g({ n: 1 }, { type: 'e' }), g({ n: 2 }, { type: 'f' })]).toEqual([false, true]);
      expect(seen).toEqual([[1, 'e', 1], [2, 'f', 2]]);
      const bad = make({ context: null, event: null }, () => { throw new Error('boom'); }, params, fail);
      expect(() => bad({ n: 0 }, { type: 'e' })).toThrow('wrapped: boom');
    }
    for (const make of [singleAssignFactory, fromSource(SINGLE_ASSIGN_SOURCE)]) {
      const ctx = Object.freeze({ a: 1, n: 5, z: 3 });
      const inc = make({ context: null, event: null }, 'n', (a: any, p: any) => a.context.n + p.at, params, fail);
      const out = inc(ctx, { type: 'e' });
      expect(out).toEqual({ a: 1, n: 10, z: 3 });
      expect(Object.keys(out)).toEqual(['a', 'n', 'z']);
      // A constant value still evaluates params (XState resolves params before every action).
      const throwingParams = () => {
        throw new Error('params');
      };
      const set = make({ context: null, event: null }, 'b', 7, throwingParams, fail);
      expect(() => set(ctx, { type: 'e' })).toThrow('wrapped: params');
    }
  });
});

describe('valid end states (meta.end)', () => {
  const machine = (end: unknown) =>
    createMachine({
      type: 'parallel',
      states: { d: { initial: 'idle', states: { idle: { meta: { end }, on: { 'd.never': { guard: () => false, target: 'idle' } } } } } },
    });
  it('marks a leaf (or a leaf under an ancestor) with meta: { end: true } as a valid end, not final', () => {
    const sys = compileMachine(machine(true));
    expect(sys.threads[0].isEnd).toEqual([true]);
    expect(sys.threads[0].isFinal).toEqual([false]);
    expect(sys.allEnded(sys.initialLeaves)).toBe(true);
    expect(sys.allFinal(sys.initialLeaves)).toBe(false);
  });
  it('rejects a meta.end that is not a boolean, naming the state and the fix', () => {
    expect(() => compileMachine(machine('yes'))).toThrow(ModelError);
    expect(() => compileMachine(machine('yes'))).toThrow(/d\.idle has meta\.end that is not a boolean: write meta: \{ end: true \}/);
  });
});

describe('progress marks (meta.progress)', () => {
  /** Thread d: `outer` (marked `outerMark`) holds `spin` (marked `innerMark`) and `go` (unmarked); `tMark` on spin -> go. */
  const machine = (outerMark: unknown, innerMark: unknown, tMark?: unknown) =>
    createMachine({
      type: 'parallel',
      states: {
        d: {
          initial: 'outer',
          states: {
            outer: {
              ...(outerMark === undefined ? {} : { meta: { progress: outerMark } }),
              initial: 'spin',
              states: {
                spin: { ...(innerMark === undefined ? {} : { meta: { progress: innerMark } }), on: { 'd.go': { target: 'go', ...(tMark === undefined ? {} : { meta: { progress: tMark } }) } } },
                go: { meta: { end: true } },
              },
            },
          },
        },
      },
    });
  it('rejects a state or transition meta.progress that is not a boolean (a model error naming the state, and the event)', () => {
    for (const bad of ['yes', 1, 0, null]) {
      expect(() => compileMachine(machine(bad, undefined))).toThrow(ModelError);
      expect(() => compileMachine(machine(bad, undefined))).toThrow(/state d\.outer has meta\.progress that is not a boolean \(.*\): write meta: \{ progress: true \}/);
      expect(() => compileMachine(machine(undefined, bad))).toThrow(/state d\.outer\.spin has meta\.progress that is not a boolean/);
      expect(() => compileMachine(machine(undefined, undefined, bad))).toThrow(/transition d\.go of state d\.outer\.spin has meta\.progress that is not a boolean/);
    }
  });
  it('the nearest explicit mark wins: progress: false on a state inside a progress: true parent is not progress; an unmarked one inherits', () => {
    const leaves = (outer: unknown, inner: unknown) => {
      const t = compileMachine(machine(outer, inner)).threads[0];
      return Object.fromEntries(t.leafPaths.map((p, i) => [p, t.progressLeaf[i]]));
    };
    expect(leaves(true, false)).toEqual({ 'outer.spin': false, 'outer.go': true });
    expect(leaves(true, undefined)).toEqual({ 'outer.spin': true, 'outer.go': true });
    expect(leaves(false, true)).toEqual({ 'outer.spin': true, 'outer.go': false });
    expect(leaves(undefined, undefined)).toEqual({ 'outer.spin': false, 'outer.go': false });
    // A transition's own mark is its own: false or absent is not progress.
    const tr = (mark: unknown) => compileMachine(machine(undefined, undefined, mark)).threads[0].candidates[0].flat().filter(Boolean)[0]!.progress;
    expect([tr(true), tr(false), tr(undefined)]).toEqual([true, false, false]);
  });
});

describe("a kernel helper's thread is the region's (lock-order declarations)", () => {
  /** t0 takes a lock for `who` by `step` (the event's transitions, into done); t1 takes `b` as itself. */
  const machine = (step: (who: string) => object, who: string) =>
    setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
      type: 'parallel',
      context: { a: mutex(), b: mutex(), s: rwsem() },
      states: {
        t0: { initial: 'idle', states: { idle: { on: { 't0.take': step(who) } }, done: { type: 'final' } } },
        t1: { initial: 'idle', states: { idle: { on: { 't1.take': { ...mutex_lock('b', 't1'), target: 'done' } } }, done: { type: 'final' } } },
      },
    } as any);
  it("refuses a lock taken in thread t0's states for another thread of the machine, naming the state, the event and both names", () => {
    expect(() => compileMachine(machine((who) => ({ ...mutex_lock('a', who), target: 'done' }), 't1'))).toThrow(ModelError);
    expect(() => compileMachine(machine((who) => ({ ...mutex_lock('a', who), target: 'done' }), 't1'))).toThrow(
      /state t0\.idle on event t0\.take: action mutex_lock takes its lock for thread 't1', but the state is in thread t0's region; .*give the helper 't0'/,
    );
    expect(() => compileMachine(machine((who) => down_write('s', who, 'done'), 't1'))).toThrow(/action rwsem_down_write\w* takes its lock for thread 't1', but the state is in thread t0's region/);
    // A name that is no thread of the machine is the model's own name for its task: left alone.
    expect(compileMachine(machine((who) => down_write('s', who, 'done'), 'A')).threads.map((t) => t.name)).toEqual(['t0', 't1']);
    // Its own name compiles.
    expect(compileMachine(machine((who) => ({ ...mutex_lock('a', who), target: 'done' }), 't0')).threads.map((t) => t.name)).toEqual(['t0', 't1']);
  });
});
