// Pins the kernel's mutex with its handoff (machines/kernel/locks.ts: handoffMutex + mutex_lock_handoff):
// kernel/locking/mutex.c lets a newcomer steal a free mutex past its waiters, but the first waiter, once it
// finds the mutex stolen, sets MUTEX_FLAG_HANDOFF and the next unlock gives the mutex to it. So a looping
// locker cannot starve a waiter under weak fairness (the owner-only `mutex()` can: it stays the control), and
// stealing still happens while HANDOFF is clear.
import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import { createReferenceStepper, referenceKey } from '../../../explorer/reference.ts';
import {
  handoffMutex, kernelWaits, mutex, mutex_lock, mutex_lock_handoff, mutex_trylock, mutex_trylock_handoff, mutex_unlock, qspinlock, spin_lock_queued,
} from '../../../machines/kernel/index.ts';
import { compareEverywhere } from '../../helpers/differential.ts';
import { agreesEverywhere, explore, straight, straightOpen, tinyModel } from './harness.ts';

const lockStep = (t: string, handoff: boolean, next: string) =>
  handoff ? mutex_lock_handoff('m', t, next) : { ...mutex_lock('m', t), target: next };
/** A task that loops forever: mutex_lock(&m); critical; mutex_unlock(&m). */
const looping = (t: string, handoff: boolean) => ({
  initial: 'lock',
  states: {
    lock: { on: { [`${t}.mutex_lock`]: lockStep(t, handoff, 'critical') } },
    critical: { on: { [`${t}.mutex_unlock`]: { ...mutex_unlock('m', t), target: 'lock' } } },
  },
});
/** A task that takes the mutex once. */
const once = (t: string, handoff: boolean) => ({
  initial: 'lock',
  states: {
    lock: { on: { [`${t}.mutex_lock`]: lockStep(t, handoff, 'critical') } },
    critical: { on: { [`${t}.mutex_unlock`]: { ...mutex_unlock('m', t), target: 'done' } } },
    done: { type: 'final' },
  },
});

function model(handoff: boolean, threads: Record<string, any>) {
  return defineModel({
    name: 'kernel-handoff-mutex-test', description: 'mutex fairness', params: {},
    variants: { v: { description: '' } }, defaultVariant: 'v',
    create: () => tinyModel({ m: handoff ? handoffMutex() : mutex() }, threads), waits: kernelWaits,
  });
}
const starves = (handoff: boolean, threads: Record<string, any>, thread: string) =>
  checkModel({ model: model(handoff, threads), check: { deadlock: true, starvation: { thread, goal: 'critical' }, fairness: 'weak' } }).verdict;

/** Every edge of the reachable graph, as (before, after) snapshots. */
function edges(machine: ReturnType<typeof tinyModel>): Array<[AnyMachineSnapshot, AnyMachineSnapshot]> {
  const stepper = createReferenceStepper(machine);
  const init = stepper.initial();
  const seen = new Set([referenceKey(init)]);
  const all = [init];
  const out: Array<[AnyMachineSnapshot, AnyMachineSnapshot]> = [];
  for (let head = 0; head < all.length; head++) {
    for (const { next } of stepper.successors(all[head]!)) {
      out.push([all[head]!, next]);
      const k = referenceKey(next);
      if (!seen.has(k)) (seen.add(k), all.push(next));
    }
  }
  return out;
}

describe('the kernel mutex with handoff (handoffMutex, mutex_lock_handoff)', () => {
  it('a looping locker cannot starve a waiter under weak fairness: the first waiter sets HANDOFF', () => {
    expect(starves(true, { t0: looping('t0', true), t1: once('t1', true) }, 't1').status).toBe('pass');
    const three = { t0: looping('t0', true), t1: looping('t1', true), t2: looping('t2', true) };
    for (const t of ['t0', 't1', 't2']) expect(starves(true, three, t).status).toBe('pass');
  });

  it('the owner-only mutex (barging, no handoff) lets the looping locker starve the waiter: the control', () => {
    const v = starves(false, { t0: looping('t0', false), t1: once('t1', false) }, 't1');
    expect(v.status).toBe('violation');
    if (v.status === 'violation') expect(v.kind).toBe('starvation');
  });

  it('steals while HANDOFF is clear, and hands over once it is set', () => {
    const all = edges(tinyModel({ m: handoffMutex() }, { t0: looping('t0', true), t1: once('t1', true), t2: once('t2', true) }));
    let stolen = 0;
    let handedOver = 0;
    for (const [a, b] of all) {
      const before = (a.context as any).m;
      const after = (b.context as any).m;
      // mutual exclusion
      const inside = ['t0', 't1', 't2'].filter((t) => (b.value as any)[t] === 'critical');
      expect(inside.length).toBeLessThanOrEqual(1);
      if (inside.length === 1) expect(after.owner).toBe(inside[0]);
      if (before.owner !== null || after.owner === null) continue;
      // an acquisition: only a newcomer (not queued) or the first waiter; never a waiter behind another
      const queuedAt = before.waiters.indexOf(after.owner);
      expect(queuedAt === -1 || queuedAt === 0).toBe(true);
      if (before.handoff) {
        expect(after.owner).toBe(before.waiters[0]);
        expect(after.handoff).toBe(false);
        handedOver++;
      } else if (queuedAt === -1 && before.waiters.length > 0) stolen++;
    }
    expect(stolen).toBeGreaterThan(0);
    expect(handedOver).toBeGreaterThan(0);
    // only the first waiter sets HANDOFF, and only while another task holds the mutex
    for (const [a, b] of all) {
      const before = (a.context as any).m;
      const after = (b.context as any).m;
      if (!before.handoff && after.handoff) {
        expect(after.waiters[0]).toBe(before.waiters[0]);
        expect(before.owner).not.toBeNull();
        expect(before.owner).not.toBe(before.waiters[0]);
      }
    }
  });

  it('mutex_trylock_handoff fails while it is held or handed over', () => {
    const tryer = {
      initial: 'try',
      states: {
        try: { on: { 't2.mutex_trylock': mutex_trylock_handoff('m', 't2', { ok: 'got', fail: 'failed' }) } },
        got: { on: { 't2.mutex_unlock': { ...mutex_unlock('m', 't2'), target: 'done' } } },
        failed: { type: 'final' },
        done: { type: 'final' },
      },
    };
    const all = edges(tinyModel({ m: handoffMutex() }, { t0: once('t0', true), t1: once('t1', true), t2: tryer }));
    for (const [a, b] of all) {
      if ((a.value as any).t2 !== 'try') continue;
      const before = (a.context as any).m;
      if ((b.value as any).t2 === 'got') expect(before.owner === null && !before.handoff).toBe(true);
    }
    expect(all.some(([a, b]) => (b.value as any).t2 === 'failed' && (a.context as any).m.owner === null && (a.context as any).m.handoff)).toBe(true);
  });

  it('a queued waiter is described as waiting for the owner, or queued behind the waiters ahead', () => {
    const w = kernelWaits.hmutex_first_can_lock!;
    const p = (thread: string) => ({ lock: 'm', thread });
    expect(w({ m: { owner: 't0', waiters: ['t1', 't2'], handoff: true } }, p('t2'))).toEqual({ resource: 'm', kind: 'mutex', mode: 'lock', holders: ['t0'] });
    expect(w({ m: { owner: null, waiters: ['t1', 't2'], handoff: false } }, p('t2'))).toEqual({ resource: 'm', kind: 'mutex', mode: 'lock', holders: ['t1'], queued: true });
    expect(w({ m: { owner: null, waiters: ['t1', 't2'], handoff: true } }, p('t1'))).toBeNull();
    // an ABBA pair on two handoff mutexes deadlocks as with mutex_lock
    const abba = (t: string, first: string, second: string) => ({
      initial: 'a',
      states: {
        a: { on: { [`${t}.a`]: mutex_lock_handoff(first, t, 'b') } },
        b: { on: { [`${t}.b`]: mutex_lock_handoff(second, t, 'c') } },
        c: { type: 'final' },
      },
    });
    const r = explore(tinyModel({ A: handoffMutex(), B: handoffMutex() }, { t0: abba('t0', 'A', 'B'), t1: abba('t1', 'B', 'A') }));
    expect(r.deadlocks.length).toBeGreaterThan(0);
  });

  it('the owner-only mutex_lock / mutex_trylock on a handoffMutex() are a model error (they would step past the queue)', () => {
    const m = model(true, { a: once('a', false) });
    expect(() => checkModel({ model: m, check: { deadlock: true } })).toThrow(/mutex_lock on a handoff mutex \(handoffMutex\(\)\): take it with mutex_lock_handoff/);
    const tryer = {
      initial: 'try',
      states: { try: { on: { 'a.try': mutex_trylock('m', 'a', { ok: 'done', fail: 'done' }) } }, done: { type: 'final' } },
    };
    expect(() => explore(tinyModel({ m: handoffMutex() }, { a: tryer }))).toThrow(/on a handoff mutex/);
    // and the other way round: mutex_lock_handoff on a lock that is not a handoffMutex(), the queued spinlock's
    // calls on a handoffMutex() (they would ignore HANDOFF): model errors that name the fix
    for (const lock of [mutex(), qspinlock()]) {
      expect(() => explore(tinyModel({ m: lock }, { a: once('a', true) }))).toThrow(/kernel primitive misuse: a mutex_lock_handoff on a lock that is not a handoffMutex\(\): make it handoffMutex\(\) on "m" \(m\)/);
    }
    const spinner = { initial: 'l', states: { l: { on: { 'a.l': spin_lock_queued('m', 'a', 'done') } }, done: { type: 'final' } } };
    expect(() => explore(tinyModel({ m: handoffMutex() }, { a: spinner }))).toThrow(/spin_lock_queued on a handoff mutex \(handoffMutex\(\)\): take it with mutex_lock_handoff/);
  });

  it('--lock-order records the acquisition at the call, as lockdep does (mutex_acquire_nest before the slow path): an attempt that never gets the mutex still adds its edge', () => {
    // t1 holds B from the start and takes A under it (B -> A), then keeps B for good; t0 takes A, then
    // mutex_lock(B) queues behind t1 forever. t2 keeps running, so no state is a deadlock: only lockdep's edge
    // A -> B, recorded at t0's call, shows the inversion.
    const t0 = straight('t0', [(n: string) => mutex_lock_handoff('A', 't0', n), (n: string) => mutex_lock_handoff('B', 't0', n)]);
    const t1 = {
      initial: 'lockA',
      states: {
        lockA: { on: { 't1.lockA': mutex_lock_handoff('A', 't1', 'unlockA') } },
        unlockA: { on: { 't1.unlockA': { ...mutex_unlock('A', 't1'), target: 'keep' } } },
        keep: { on: { 't1.keep': { target: 'keep' } } },
      },
    };
    const t2 = { initial: 'run', states: { run: { on: { 't2.run': { target: 'run' } } } } };
    const m = defineModel({
      name: 'handoff-lock-order', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits,
      create: () => tinyModel({ A: handoffMutex(), B: { ...handoffMutex(), owner: 't1' } }, { t0, t1, t2 }),
    });
    expect(checkModel({ model: m, check: { deadlock: true } }).verdict.status).toBe('pass');
    const v = checkModel({ model: m, check: { lockOrder: true } }).verdict;
    expect(v.status).toBe('violation');
    if (v.status === 'violation') expect(v.kind).toBe('lock-order');
    // the owner locking it again is lockdep's recursive locking (and a self-deadlock)
    const again = straight('t0', [(n: string) => mutex_lock_handoff('A', 't0', n), (n: string) => mutex_lock_handoff('A', 't0', n)]);
    const r = checkModel({ model: { ...m, create: () => tinyModel({ A: handoffMutex() }, { t0: again }) }, check: { lockOrder: true, deadlock: false } }).verdict;
    expect(r.status === 'violation' && r.kind === 'lock-order' && r.message).toMatch(/recursive/);
  });

  it('the compiled engine (and its word path) agrees with XState on every reachable state', () => {
    expect(compareEverywhere(tinyModel({ m: handoffMutex() }, { t0: looping('t0', true), t1: looping('t1', true), t2: once('t2', true) }))).toBeGreaterThan(20);
  });

  it('steps on the words (declared lowerings) as XState does on every reachable state, with no fallback; a misuse still reports', () => {
    const open = straightOpen;
    const lock = (t: string) => (n: string) => mutex_lock_handoff('m', t, n);
    const m = tinyModel({ m: handoffMutex(), h: { ...handoffMutex(), owner: 'c', waiters: ['d'], handoff: true } }, {
      // a newcomer stealing the free mutex, waiters queueing, the first setting HANDOFF and taking it handed over
      t0: open('t0', [lock('t0'), mutex_unlock('m', 't0'), lock('t0'), mutex_unlock('m', 't0')]),
      t1: open('t1', [lock('t1'), mutex_unlock('m', 't1')]),
      t2: open('t2', [lock('t2'), mutex_unlock('m', 't2')]),
      tr: {
        initial: 'try',
        states: { try: { on: { 'tr.try': mutex_trylock_handoff('m', 'tr', { ok: 'got', fail: 'failed' }) } }, got: { on: { 'tr.unlock': { ...mutex_unlock('m', 'tr'), target: 'failed' } } }, failed: {} },
      },
      // handed over to d while c holds it: c's trylock of h fails, d takes it once c unlocks
      c: open('c', [mutex_unlock('h', 'c'), (n: string) => mutex_lock_handoff('h', 'c', n)]),
      d: open('d', [(n: string) => mutex_lock_handoff('h', 'd', n), mutex_unlock('h', 'd')]),
    });
    const r = agreesEverywhere('hmutex-cross', m);
    expect(r.states).toBeGreaterThan(500);
    expect(r.lowered).toBeGreaterThan(0);
    expect(r.fallback).toBe(0);
    // the kind tests BAIL on the words, and the function reports the misuse
    for (const lock of [mutex(), qspinlock()]) {
      const bad = defineModel({ name: 'bad', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits, create: () => tinyModel({ m: lock }, { a: once('a', true) }) });
      expect(() => checkModel({ model: bad, check: { deadlock: true } })).toThrow(/mutex_lock_handoff on a lock that is not a handoffMutex\(\)/);
    }
    const spinner = { initial: 'l', states: { l: { on: { 'a.l': spin_lock_queued('m', 'a', 'done') } }, done: { type: 'final' } } };
    const spun = defineModel({ name: 'bad', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits, create: () => tinyModel({ m: handoffMutex() }, { a: spinner }) });
    expect(() => checkModel({ model: spun, check: { deadlock: true } })).toThrow(/spin_lock_queued on a handoff mutex \(handoffMutex\(\)\)/);
  });
});
