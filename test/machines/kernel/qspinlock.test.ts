// Pins the queued spinlock (machines/kernel/locks.ts: qspinlock + spin_lock_queued): a kernel spin_lock()
// is a queued lock (qspinlock's pending bit and MCS queue, or a ticket lock): once a CPU waits, a releaser
// that comes back queues behind it. The owner-only `spinlock()` lets the releaser barge in, which under weak
// fairness starves a waiter that the kernel would serve (found modelling the afs read_seqbegin_or_lock fix,
// machines/afs-seqlock-starvation). The queued form starves nobody; the owner-only form stays the control.
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import {
  kernelWaits, mutex, mutex_lock, mutex_unlock, qspinlock, seqlock, spin_lock, spin_lock_queued, spin_trylock_queued, spin_unlock, spinlock, write_seqlock,
} from '../../../machines/kernel/index.ts';
import { agreesEverywhere, explore, straight, straightOpen, tinyModel } from './harness.ts';

/** A thread that loops forever: spin_lock(&l); critical; spin_unlock(&l). */
const looping = (t: string, queued: boolean) => ({
  initial: 'lock',
  states: {
    lock: { on: { [`${t}.spin_lock`]: queued ? spin_lock_queued('l', t, 'critical') : { ...spin_lock('l', t), target: 'critical' } } },
    critical: { on: { [`${t}.spin_unlock`]: { ...spin_unlock('l', t), target: 'lock' } } },
  },
});
/** A thread that takes the lock once. */
const once = (t: string, queued: boolean) => ({
  initial: 'lock',
  states: {
    lock: { on: { [`${t}.spin_lock`]: queued ? spin_lock_queued('l', t, 'critical') : { ...spin_lock('l', t), target: 'critical' } } },
    critical: { on: { [`${t}.spin_unlock`]: { ...spin_unlock('l', t), target: 'done' } } },
    done: { type: 'final' },
  },
});

function model(queued: boolean, threads: Record<string, any>) {
  return defineModel({
    name: 'kernel-qspinlock-test', description: 'spinlock fairness', params: {},
    variants: { v: { description: '' } }, defaultVariant: 'v',
    create: () => tinyModel({ l: queued ? qspinlock() : spinlock() }, threads), waits: kernelWaits,
  });
}
const starves = (queued: boolean, threads: Record<string, any>, thread: string) =>
  checkModel({ model: model(queued, threads), check: { deadlock: true, starvation: { thread, goal: 'critical' }, fairness: 'weak' } }).verdict;

describe('queued spinlock (qspinlock, spin_lock_queued)', () => {
  it('a looping locker cannot starve a waiter under weak fairness: the releaser queues behind it', () => {
    const threads = { t0: looping('t0', true), t1: once('t1', true) };
    expect(starves(true, threads, 't1').status).toBe('pass');
    const both = { t0: looping('t0', true), t1: looping('t1', true) };
    expect(starves(true, both, 't0').status).toBe('pass');
    expect(starves(true, both, 't1').status).toBe('pass');
  });

  it('the owner-only spinlock (barging) lets the looping locker starve the waiter: the control', () => {
    const v = starves(false, { t0: looping('t0', false), t1: once('t1', false) }, 't1');
    expect(v.status).toBe('violation');
    if (v.status === 'violation') expect(v.kind).toBe('starvation');
  });

  it('is mutual exclusion with FIFO order: the first waiter takes it, a second waits behind it', () => {
    const threads = { t0: once('t0', true), t1: once('t1', true), t2: once('t2', true) };
    const r = explore(tinyModel({ l: qspinlock() }, threads));
    expect(r.deadlocks).toHaveLength(0);
    for (const s of r.all) {
      const inside = ['t0', 't1', 't2'].filter((t) => (s.value as any)[t] === 'critical');
      expect(inside.length).toBeLessThanOrEqual(1);
      const l = (s.context as any).l;
      if (inside.length === 1) expect(l.owner).toBe(inside[0]);
      // nobody takes a free lock past a queued waiter
      if (l.owner !== null) expect(l.waiters).not.toContain(l.owner);
    }
    // a state where t1 waits first and t2 behind it: only t1 can take the lock once t0 unlocks
    expect(r.all.some((s) => JSON.stringify((s.context as any).l.waiters) === '["t1","t2"]')).toBe(true);
  });

  it('spin_trylock_queued fails while anybody holds or waits (queued_spin_trylock: the lock word is not 0)', () => {
    const tryer = {
      initial: 'try',
      states: {
        try: { on: { 't2.spin_trylock': spin_trylock_queued('l', 't2', { ok: 'got', fail: 'failed' }) } },
        got: { on: { 't2.spin_unlock': { ...spin_unlock('l', 't2'), target: 'done' } } },
        failed: { type: 'final' },
        done: { type: 'final' },
      },
    };
    const r = explore(tinyModel({ l: qspinlock() }, { t0: once('t0', true), t1: once('t1', true), t2: tryer }));
    expect(r.deadlocks).toHaveLength(0);
    for (const s of r.all) {
      const l = (s.context as any).l;
      if ((s.value as any).t2 === 'got') expect(l.owner).toBe('t2');
    }
    // it never succeeds past a queued waiter: when t2 got the lock, no other thread had queued before it took it
    expect(r.all.some((s) => (s.value as any).t2 === 'got')).toBe(true);
    expect(r.all.some((s) => (s.value as any).t2 === 'failed' && (s.context as any).l.owner === null && (s.context as any).l.waiters.length > 0)).toBe(true);
  });

  it('a queued waiter is described as waiting for the owner, or queued behind the waiters ahead', () => {
    const w = kernelWaits.qspin_first_can_lock!;
    const p = (thread: string) => ({ lock: 'l', thread });
    expect(w({ l: { owner: 't0', waiters: ['t1', 't2'] } }, p('t2'))).toEqual({ resource: 'l', kind: 'spinlock', mode: 'lock', holders: ['t0'] });
    expect(w({ l: { owner: null, waiters: ['t1', 't2'] } }, p('t2'))).toEqual({ resource: 'l', kind: 'spinlock', mode: 'lock', holders: ['t1'], queued: true });
    expect(w({ l: { owner: null, waiters: ['t1', 't2'] } }, p('t1'))).toBeNull();
    // t0 locks twice: queued behind its own hold, a self-deadlock as with spin_lock
    const selfLock = {
      initial: 'a',
      states: {
        a: { on: { 't0.a': spin_lock_queued('l', 't0', 'b') } },
        b: { on: { 't0.b': spin_lock_queued('l', 't0', 'c') } },
        c: { type: 'final' },
      },
    };
    const r = explore(tinyModel({ l: qspinlock() }, { t0: selfLock }));
    expect(r.deadlocks).toHaveLength(1);
    expect((r.deadlocks[0]!.context as any).l).toEqual({ owner: 't0', waiters: ['t0'] });
  });
});

describe('spin_lock_queued and --lock-order', () => {
  it('records the acquisition at the call, as lockdep does (spin_acquire before the arch lock): an attempt that never gets the lock still adds its edge', () => {
    // t1 holds l from the start and takes mutex A under it (l -> A), then keeps l for good; t0 takes A, then
    // spin_lock(l) queues behind t1 forever. t2 keeps running, so no state is a deadlock: only lockdep's edge
    // A -> l, recorded at t0's call, shows the inversion. write_seqlock takes sl->lock the same way.
    const t1 = {
      initial: 'lockA',
      states: {
        lockA: { on: { 't1.lockA': { ...mutex_lock('A', 't1'), target: 'unlockA' } } },
        unlockA: { on: { 't1.unlockA': { ...mutex_unlock('A', 't1'), target: 'keep' } } },
        keep: { on: { 't1.keep': { target: 'keep' } } },
      },
    };
    const t2 = { initial: 'run', states: { run: { on: { 't2.run': { target: 'run' } } } } };
    const m = (context: Record<string, any>, t0: any) => defineModel({
      name: 'qspin-lock-order', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits,
      create: () => tinyModel(context, { t0, t1, t2 }),
    });
    const held = { ...qspinlock(), owner: 't1' };
    for (const x of [
      m({ A: mutex(), l: held }, straight('t0', [mutex_lock('A', 't0'), (n: string) => spin_lock_queued('l', 't0', n)])),
      // t1 inside write_seqlock(&s) from the start
      m({ A: mutex(), s: { ...seqlock(), odd: true, writers: ['t1'], lock: held } }, straight('t0', [mutex_lock('A', 't0'), (n: string) => write_seqlock('s', 't0', n)])),
    ]) {
      expect(checkModel({ model: x, check: { deadlock: true } }).verdict.status).toBe('pass');
      const v = checkModel({ model: x, check: { lockOrder: true } }).verdict;
      expect(v.status === 'violation' && v.kind).toBe('lock-order');
    }
  });
});

describe('the owner-only calls on a qspinlock()', () => {
  it('spin_lock on a queued spinlock is a model error (it would step past the queue), on the word path as on XState', () => {
    const m = model(true, { a: once('a', false) });
    expect(() => checkModel({ model: m, check: { deadlock: true } })).toThrow(/spin_lock on a queued spinlock \(qspinlock\(\)\): take it with spin_lock_queued/);
    expect(() => explore(tinyModel({ l: qspinlock() }, { a: once('a', false) }))).toThrow(/spin_lock on a queued spinlock/);
    // and spin_lock_queued on an owner-only spinlock() names the fix
    expect(() => explore(tinyModel({ l: spinlock() }, { a: once('a', true) }))).toThrow(/a spin_lock_queued on a lock that is not a qspinlock\(\): make it qspinlock\(\)/);
    // the owner-only lock still takes them
    expect(checkModel({ model: model(false, { a: once('a', false) }), check: { deadlock: true } }).verdict.status).toBe('pass');
  });

  it('steps on the words (declared lowerings) as XState does on every reachable state, with no fallback', () => {
    const open = straightOpen;
    const lock = (t: string) => (n: string) => spin_lock_queued('l', t, n);
    const m = tinyModel({ l: qspinlock(), k: { ...qspinlock(), owner: 'c', waiters: ['d'] } }, {
      t0: open('t0', [lock('t0'), spin_unlock('l', 't0'), lock('t0'), spin_unlock('l', 't0')]),
      t1: open('t1', [lock('t1'), spin_unlock('l', 't1')]),
      t2: open('t2', [lock('t2'), spin_unlock('l', 't2')]),
      tr: {
        initial: 'try',
        states: { try: { on: { 'tr.try': spin_trylock_queued('l', 'tr', { ok: 'got', fail: 'failed' }) } }, got: { on: { 'tr.unlock': { ...spin_unlock('l', 'tr'), target: 'failed' } } }, failed: {} },
      },
      // c holds k with d queued: c's lock again queues behind d
      c: open('c', [spin_unlock('k', 'c'), (n: string) => spin_lock_queued('k', 'c', n)]),
      d: open('d', [(n: string) => spin_lock_queued('k', 'd', n), spin_unlock('k', 'd')]),
    });
    const r = agreesEverywhere('qspin-cross', m);
    expect(r.states).toBeGreaterThan(500);
    expect(r.lowered).toBeGreaterThan(0);
    expect(r.fallback).toBe(0);
    // on the words too, spin_lock_queued on a lock that is not a qspinlock() reports the misuse
    for (const l of [spinlock(), mutex()]) {
      const bad = defineModel({ name: 'bad', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits, create: () => tinyModel({ l }, { a: once('a', true) }) });
      expect(() => checkModel({ model: bad, check: { deadlock: true } })).toThrow(/spin_lock_queued on a lock that is not a qspinlock\(\)/);
    }
  });
});
