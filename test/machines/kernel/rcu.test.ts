// Pins RCU and SRCU (machines/kernel/rcu.ts, v6.6): a grace period waits for the readers inside when it starts
// and for no later one; synchronize inside the caller's own section deadlocks; the SRCU/mutex inversion is a
// deadlock and a lock-order cycle (srcu_lock_sync), even where the deadlock is not reached.
import { describe, expect, it } from 'vitest';
import {
  completion, complete, kernelWaits, mutex, mutex_lock, mutex_unlock, rcu, rcu_read_lock, rcu_read_unlock, rcuMightSleep,
  rcuReading, rcu_read_lock_held, srcu, srcuReading, srcu_read_lock, srcu_read_unlock, synchronize_rcu, synchronize_srcu, wait_for_completion,
} from '../../../machines/kernel/index.ts';
import { checkModel, instantiate } from '../../../explorer/index.ts';
import { checkFootprints } from '../../../explorer/reduce/check.ts';
import { defineModel } from '../../../explorer/model.ts';
import { crossCheck } from '../../../explorer/crosscheck.ts';
import { renderDeadlock } from '../../../explorer/waitfor.ts';
import { createReferenceStepper } from '../../../explorer/reference.ts';
import { agreesEverywhere, explore, straight, straightOpen, tinyModel, where } from './harness.ts';

const asModel = (name: string, create: () => any, extra: Record<string, unknown> = {}) =>
  defineModel({ name, description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, waits: kernelWaits, ...extra });

// A: mutex_lock(M); synchronize_srcu(S); mutex_unlock(M)      (the updater)
// B: srcu_read_lock(S); mutex_lock(M); mutex_unlock(M); srcu_read_unlock(S)   (the reader)
const updater = (fixed: boolean) =>
  straight('A', fixed
    ? [mutex_lock('m', 'A', 'M'), mutex_unlock('m', 'A', 'M'), (n: string) => synchronize_srcu('s', 'A', n, 'S')]
    : [mutex_lock('m', 'A', 'M'), (n: string) => synchronize_srcu('s', 'A', n, 'S'), mutex_unlock('m', 'A', 'M')],
  fixed ? ['lock', 'unlock', 'sync'] : ['lock', 'sync', 'unlock']);
const reader = (thread = 'B') =>
  straight(thread, [srcu_read_lock('s', thread, 'S'), mutex_lock('m', thread, 'M'), mutex_unlock('m', thread, 'M'), srcu_read_unlock('s', thread, 'S')], ['rlock', 'lock', 'unlock', 'runlock']);
const inversion = (fixed: boolean) => () => tinyModel({ s: srcu(), m: mutex() }, { A: updater(fixed), B: reader() });

describe('SRCU: synchronize_srcu() under a mutex that an SRCU reader takes', () => {
  it('deadlocks, and the report names the updater waiting for reader B and B waiting for the mutex A holds', () => {
    const r = checkModel({ model: asModel('srcu-inversion', inversion(false)) });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const d = r.trace!.deadlock!;
    expect(d.blocked.map((b) => b.thread)).toEqual(['A', 'B']);
    const text = renderDeadlock(d);
    expect(text).toContain('A at sync: waits for S (srcu synchronize_srcu(&S) waits for reader B), held by B');
    expect(text).toContain('B at lock: waits for M (mutex lock), held by A');
    expect(text).toMatch(/Wait-for cycle:\n {2}A waits for S held by B\n {2}→ B waits for M held by A/);
  });

  it('the fixed order (synchronize_srcu after mutex_unlock) passes, with --lock-order too', () => {
    const m = asModel('srcu-fixed', inversion(true));
    expect(checkModel({ model: m }).verdict).toEqual({ status: 'pass' });
    expect(checkModel({ model: m, check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });

  it('--lock-order reports M -> S -> M where the two never overlap (B starts after A is done)', () => {
    // B waits for a completion A completes at its end: no interleaving deadlocks, lockdep's graph still has the cycle
    const build = () => tinyModel({ s: srcu(), m: mutex(), done: completion() }, {
      A: straight('A', [mutex_lock('m', 'A', 'M'), (n: string) => synchronize_srcu('s', 'A', n, 'S'), mutex_unlock('m', 'A', 'M'), complete('done')]),
      B: straight('B', [wait_for_completion('done', 'B'), srcu_read_lock('s', 'B', 'S'), mutex_lock('m', 'B', 'M'), mutex_unlock('m', 'B', 'M'), srcu_read_unlock('s', 'B', 'S')]),
    });
    const m = asModel('srcu-lockorder', build);
    expect(checkModel({ model: m }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model: m, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', message: 'possible circular locking dependency: M -> S -> M' });
    const edges = r.trace!.lockOrder!.edges;
    expect(edges.map((e) => [e.from, e.fromMode, e.to, e.toMode, e.thread])).toEqual([
      ['M', 'write', 'S', 'write', 'A'],
      ['S', 'read', 'M', 'write', 'B'],
    ]);
  });

  it('two SRCU readers taking a mutex in opposite orders are no cycle: srcu_read_lock is a recursive read and never waits', () => {
    const build = () => tinyModel({ s: srcu(), m: mutex() }, {
      A: straight('A', [mutex_lock('m', 'A', 'M'), srcu_read_lock('s', 'A', 'S'), srcu_read_unlock('s', 'A', 'S'), mutex_unlock('m', 'A', 'M')]),
      B: reader(),
    });
    const m = asModel('srcu-readers', build);
    expect(checkModel({ model: m, check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });

  it('compiled engine agrees with XState on every reachable state', () => {
    expect(crossCheck(inversion(false)(), { lowered: true }).difference).toBeUndefined();
    expect(crossCheck(inversion(true)(), { lowered: true }).difference).toBeUndefined();
  });
});

describe('synchronize inside the caller\'s own read-side section', () => {
  it('synchronize_srcu(&s) inside srcu_read_lock(s) never returns: the report names the caller as the reader it waits for', () => {
    const build = () => tinyModel({ s: srcu() }, {
      A: straight('A', [srcu_read_lock('s', 'A'), (n: string) => synchronize_srcu('s', 'A', n), srcu_read_unlock('s', 'A')], ['rlock', 'sync', 'runlock']),
    });
    const r = checkModel({ model: asModel('srcu-self', build) });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const text = renderDeadlock(r.trace!.deadlock!);
    expect(text).toContain('A at sync: waits for s (srcu synchronize_srcu(&s) waits for reader A), held by A');
    expect(text).toContain('A waits for s held by A');
    // --lock-order on the same model (no deadlock check): lockdep's "possible recursive locking"
    const lo = checkModel({ model: asModel('srcu-self', build), check: { deadlock: false, lockOrder: true } });
    expect(lo.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', message: 'possible recursive locking: s -> s' });
  });

  it('synchronize_rcu() inside rcu_read_lock() deadlocks; on another SRCU domain it does not', () => {
    const own = () => tinyModel({ rcu: rcu() }, {
      A: straight('A', [rcu_read_lock('rcu', 'A'), (n: string) => synchronize_rcu('rcu', 'A', n), rcu_read_unlock('rcu', 'A')], ['rlock', 'sync', 'runlock']),
    });
    const r = checkModel({ model: asModel('rcu-self', own) });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(renderDeadlock(r.trace!.deadlock!)).toContain('A at sync: waits for rcu_read_lock (rcu synchronize_rcu() waits for reader A), held by A');
    // synchronize_srcu(&b) inside srcu_read_lock(&a) is legal (srcu.h: "perfectly legal ... from some other srcu_struct")
    const other = () => tinyModel({ a: srcu(), b: srcu(), rcu: rcu() }, {
      A: straight('A', [srcu_read_lock('a', 'A'), (n: string) => synchronize_srcu('b', 'A', n), (n: string) => synchronize_rcu('rcu', 'A', n), srcu_read_unlock('a', 'A')]),
    });
    expect(checkModel({ model: asModel('srcu-other', other), check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });
});

describe('grace periods', () => {
  // A: synchronize_srcu(s); B: srcu_read_lock(s) ... srcu_read_unlock(s); C is inside from the start (so a grace
  // period A starts has a reader to wait for, and B can enter while it runs)
  const build = () => tinyModel({ s: srcuReading({ C: 1 }) }, {
    A: straight('A', [(n: string) => synchronize_srcu('s', 'A', n)], ['sync']),
    B: straight('B', [srcu_read_lock('s', 'B'), srcu_read_unlock('s', 'B')], ['rlock', 'runlock']),
    C: straight('C', [srcu_read_unlock('s', 'C')], ['runlock']),
  });

  it('wait for a reader inside at the start, not for a reader that starts later', () => {
    const m = build();
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const stepper = createReferenceStepper(m);
    const canReturn = (s: any) => stepper.successors(s).some(({ next }) => where(next).A === 'done');
    // B entered before the grace period started: A is blocked until B leaves
    const before = r.all.filter((s) => where(s).A === 'sync' && s.context.s.gp.A?.includes('B'));
    expect(before.length).toBeGreaterThan(0);
    for (const s of before) expect(canReturn(s)).toBe(false);
    // B entered after it started: A returns while B is still inside
    const after = r.all.filter((s) => where(s).A === 'sync' && s.context.s.gp.A !== undefined && s.context.s.readers.B === 1 && !s.context.s.gp.A.includes('B'));
    expect(after.length).toBeGreaterThan(0);
    // (blocked only while C, inside at the start, has not left)
    for (const s of after) expect(canReturn(s)).toBe(!s.context.s.gp.A.includes('C'));
    expect(after.some((s) => canReturn(s))).toBe(true);
    expect(r.all.some((s) => where(s).A === 'done' && where(s).B === 'runlock')).toBe(true);
    // every grace period is gone once synchronize_srcu returned
    for (const s of r.all) if (where(s).A === 'done') expect(s.context.s.gp).toEqual({});
  });

  it('nested read locks: the grace period waits for the OUTERMOST srcu_read_unlock', () => {
    const m = tinyModel({ s: srcu() }, {
      A: straight('A', [(n: string) => synchronize_srcu('s', 'A', n)], ['sync']),
      B: straight('B', [srcu_read_lock('s', 'B'), srcu_read_lock('s', 'B'), srcu_read_unlock('s', 'B'), srcu_read_unlock('s', 'B')], ['r1', 'r2', 'u2', 'u1']),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const stepper = createReferenceStepper(m);
    // after the inner unlock B is still a reader (nesting 1) and still waited for
    const inner = r.all.filter((s) => where(s).B === 'u1' && s.context.s.gp.A?.includes('B'));
    expect(inner.length).toBeGreaterThan(0);
    for (const s of inner) {
      expect(s.context.s.readers.B).toBe(1);
      expect(stepper.successors(s).some(({ next }) => where(next).A === 'done')).toBe(false);
    }
    // synchronize_srcu never returns while B is inside a section it was inside when the grace period started
    for (const s of r.all) if (where(s).B === 'done') expect(s.context.s.readers).toEqual({});
    expect(r.all.some((s) => where(s).B === 'r2' && s.context.s.readers.B === 1)).toBe(true);
    expect(r.all.some((s) => where(s).B === 'u2' && s.context.s.readers.B === 2)).toBe(true);
  });

  it('a state count: synchronize_srcu with no reader inside returns in one step', () => {
    const m = tinyModel({ s: srcu() }, { A: straight('A', [(n: string) => synchronize_srcu('s', 'A', n)], ['sync']) });
    expect(explore(m).states).toBe(2);
  });

  it('an initial reader (rcuReading) is waited for; rcuMightSleep fails where a reader would sleep', () => {
    const m = tinyModel({ rcu: rcuReading({ B: 1 }) }, {
      A: straight('A', [(n: string) => synchronize_rcu('rcu', 'A', n)], ['sync']),
      B: straight('B', [rcu_read_unlock('rcu', 'B')], ['runlock']),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    expect(r.all.some((s) => where(s).A === 'done' && where(s).B === 'runlock')).toBe(false);
    const sleeps = rcuMightSleep('rcu', 'B');
    expect(sleeps(r.all[0].context)).toBe(false);
    expect(sleeps(r.all.find((s) => where(s).B === 'done')!.context)).toBe(true);
  });

  it('rcuMightSleep as a model assertion: mutex_lock inside rcu_read_lock() fails it, inside srcu_read_lock() it holds', () => {
    const build = (flavour: 'rcu' | 'srcu') => () => tinyModel({ rcu: rcu(), s: srcu(), m: mutex() }, {
      B: {
        initial: 'rlock',
        states: {
          rlock: { on: { 'B.rlock': { ...(flavour === 'rcu' ? rcu_read_lock('rcu', 'B') : srcu_read_lock('s', 'B')), target: 'lock' } } },
          // mutex_lock() -> might_sleep(): the assertion sits where the thread may sleep
          lock: { meta: { assert: 'may_sleep' }, on: { 'B.lock': { ...mutex_lock('m', 'B'), target: 'unlock' } } },
          unlock: { on: { 'B.unlock': { ...mutex_unlock('m', 'B'), target: 'runlock' } } },
          runlock: { on: { 'B.runlock': { ...(flavour === 'rcu' ? rcu_read_unlock('rcu', 'B') : srcu_read_unlock('s', 'B')), target: 'done' } } },
          done: { type: 'final' },
        },
      },
    });
    const assertions = { may_sleep: rcuMightSleep('rcu', 'B') };
    expect(checkModel({ model: asModel('rcu-sleep', build('rcu'), { assertions }) }).verdict).toMatchObject({ status: 'violation', kind: 'assertion', name: 'may_sleep' });
    expect(checkModel({ model: asModel('srcu-sleep', build('srcu'), { assertions }) }).verdict).toEqual({ status: 'pass' });
  });

  it('kernelWaits describes the wait with every snapshotted reader', () => {
    const ctx = { s: { readers: { B: 1, C: 2 }, gp: { A: ['B', 'C'] } } };
    expect(kernelWaits.srcu_gp_done(ctx, { domain: 's', thread: 'A', name: 'srcu' })).toEqual({
      resource: 'srcu', kind: 'srcu', mode: 'synchronize_srcu(&srcu) waits for readers B, C', holders: ['B', 'C'], holdMode: 'read',
    });
    expect(kernelWaits.srcu_gp_done({ s: { readers: {}, gp: { A: [] } } }, { domain: 's', thread: 'A' })).toBeNull();
  });

  it('srcu_read_unlock outside a section is a model error', () => {
    const m = asModel('srcu-unbalanced', () => tinyModel({ s: srcu() }, { A: straight('A', [srcu_read_unlock('s', 'A')]) }));
    expect(() => checkModel({ model: m })).toThrow(/srcu_read_unlock outside a read-side section/);
  });

  it('compiled engine agrees with XState on every reachable state', () => {
    expect(crossCheck(build(), { lowered: true }).difference).toBeUndefined();
  });

  it('the declared footprints hold on every reachable state, and --reduce por keeps both verdicts', () => {
    for (const [name, create] of [['gp', build], ['inversion', inversion(false)], ['fixed', inversion(true)]] as const) {
      const m = asModel(`rcu-${name}`, create);
      const r = checkFootprints(instantiate(m, {}, 'v').packed, { model: m, options: { params: {}, variant: 'v' }, invariants: {} });
      expect(r.states).toBeGreaterThan(1);
    }
    expect(checkModel({ model: asModel('srcu-inversion', inversion(false)), reduce: ['por'] }).verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(checkModel({ model: asModel('srcu-fixed', inversion(true)), reduce: ['por'] }).verdict).toEqual({ status: 'pass' });
  });

  it('symmetric readers: the snapshot lists are sets symmetry re-sorts; the same verdicts in fewer states', () => {
    // two identical readers inside (nested) sections an updater's grace period snapshots, one of them from the start
    const readerOf = (t: string) =>
      straight(t, [srcu_read_lock('s', t), srcu_read_lock('s', t), srcu_read_unlock('s', t), srcu_read_unlock('s', t)], ['r1', 'r2', 'u2', 'u1']);
    const build = (self: boolean) => () => tinyModel({ s: srcuReading({ C: 1 }) }, {
      A: straight('A', self ? [srcu_read_lock('s', 'A'), (n: string) => synchronize_srcu('s', 'A', n)] : [(n: string) => synchronize_srcu('s', 'A', n)]),
      B1: readerOf('B1'),
      B2: readerOf('B2'),
      C: straight('C', [srcu_read_unlock('s', 'C')]),
    });
    const symmetry = () => [{ threads: ['B1', 'B2'] }];
    for (const self of [false, true]) {
      const m = asModel('srcu-symmetric', build(self), { symmetry });
      checkFootprints(instantiate(m, {}, 'v').packed, { model: m, options: { params: {}, variant: 'v' }, invariants: {} });
      const full = checkModel({ model: m });
      const reduced = checkModel({ model: m, reduce: ['symmetry', 'por'] });
      expect(reduced.verdict).toEqual(full.verdict);
      expect(full.verdict.status).toBe(self ? 'violation' : 'pass');
      if (!self) expect(reduced.stats.states).toBeLessThan(full.stats.states);
    }
  });

  it('steps on the words (declared lowerings) as XState does on every reachable state, with no fallback', () => {
    const open = straightOpen;
    const nested = (t: string, d: string, lock: typeof srcu_read_lock) => open(t, [lock(d, t), lock(d, t), (d === 'r' ? rcu_read_unlock : srcu_read_unlock)(d, t), (d === 'r' ? rcu_read_unlock : srcu_read_unlock)(d, t)]);
    const m = tinyModel({ s: srcuReading({ C: 1 }), r: rcu() }, {
      // two grace periods of s at once, one started with nobody inside (after C left), the other waiting for readers
      A: open('A', [(n: string) => synchronize_srcu('s', 'A', n), (n: string) => synchronize_rcu('r', 'A', n)]),
      D: open('D', [(n: string) => synchronize_srcu('s', 'D', n)]),
      B1: nested('B1', 's', srcu_read_lock),
      B2: open('B2', [srcu_read_lock('s', 'B2'), srcu_read_unlock('s', 'B2')]),
      C: open('C', [srcu_read_unlock('s', 'C')]),
      R: nested('R', 'r', rcu_read_lock),
      // rcu_read_lock_held() of another thread, once
      H: { initial: 'a', states: { a: { on: { 'H.held': [{ guard: rcu_read_lock_held('r', 'R'), target: 'yes' }, { target: 'no' }] } }, yes: {}, no: {} } },
    });
    const r = agreesEverywhere('rcu-cross', m);
    expect(r.states).toBeGreaterThan(500);
    expect(r.lowered).toBeGreaterThan(0);
    expect(r.fallback).toBe(0);
    // a misuse BAILs on the words and the function reports it
    const bad = asModel('srcu-unbalanced-words', () => tinyModel({ s: srcu() }, { A: open('A', [srcu_read_unlock('s', 'A')]) }));
    expect(() => checkModel({ model: bad })).toThrow(/srcu_read_unlock outside a read-side section/);
  });
});
