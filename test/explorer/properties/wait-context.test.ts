// Pins lockdep's "Invalid wait context" in the lock-order check (explorer/properties/lockorder.ts,
// check_wait_context): a lock that may sleep (mutex, rw_semaphore: LD_WAIT_SLEEP) taken while holding a spinlock
// (LD_WAIT_SPIN, and spinlock_t's LD_WAIT_CONFIG outside PREEMPT_RT) is a bug even when it never blocks there;
// the other way round and a trylock are not, nor (by lockdep) locks it gives no wait type (percpu rwsems: those are
// might_sleep()'s "sleeping function called from invalid context", might-sleep.test.ts).
import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { assign } from 'xstate';
import { readFileSync } from 'node:fs';
import { checkModel, instantiate } from '../../../explorer/index.ts';
import { defineModel, type ModelDefinition } from '../../../explorer/model.ts';
import { renderLockOrder, waitContextViolation, type StepAcquisition } from '../../../explorer/properties/lockorder.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import {
  handoffMutex, mutex_lock_handoff, down_read, kernelWaits, mutex, mutex_lock, mutex_trylock, mutex_unlock, percpuRwsem, percpu_down_read, percpu_up_read, qspinlock, rwsem,
  rcu, rcuReading, rcu_read_lock, rcu_read_unlock, spin_lock, spin_lock_queued, spin_unlock, spinlock, spinlockHeld, srcu, srcuReading, srcu_read_lock,
  srcu_read_unlock, up_read,
} from '../../../machines/kernel/index.ts';
import { straight, tinyModel } from '../../machines/kernel/harness.ts';

const model = (create: () => any) =>
  defineModel({ name: 'wait-context', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, waits: kernelWaits });
const lockOrder = (m: ModelDefinition) => checkModel({ model: m, check: { lockOrder: true } });

describe("lockdep's invalid wait context", () => {
  it('a mutex taken under a spinlock is reported, with a trace that replays and a trace file the schema takes', () => {
    const m = model(() =>
      tinyModel({ s: spinlock(), m: mutex() }, {
        t0: straight('t0', [spin_lock('s', 't0', 'S'), mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), spin_unlock('s', 't0', 'S')]),
      }),
    );
    // no deadlock: one thread
    expect(checkModel({ model: m }).verdict.status).toBe('pass');
    const r = lockOrder(m);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'S -> M' });
    expect(r.verdict.message).toMatch(/invalid wait context \(t0 takes M, which may sleep, while holding S\)/);
    const lo = r.trace!.lockOrder!;
    expect(lo.kind).toBe('invalid-wait-context');
    expect(lo.edges).toHaveLength(1);
    expect(lo.edges[0]).toMatchObject({ from: 'S', to: 'M', thread: 't0', events: ['t0.s0', 't0.s1'] });
    expect(r.trace!.steps.map((s) => s.event)).toEqual(lo.edges[0].events);
    expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced', reason: expect.stringMatching(/invalid wait context/) });
    const text = renderLockOrder(lo);
    expect(text).toContain('BUG: Invalid wait context');
    expect(text).toContain('t0 is trying to lock: M');
    const schema = JSON.parse(readFileSync(new URL('../../../schemas/trace.schema.json', import.meta.url), 'utf8'));
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect(validate(JSON.parse(JSON.stringify(r.trace))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('reached only in some interleavings: a slow path that sleeps under the queued spinlock of a seqlock-style writer', () => {
    // t1 takes the mutex only when it finds `busy` set by t0, inside its spin_lock_queued section
    const slow = {
      initial: 'lock',
      states: {
        lock: { on: { 't1.lock': spin_lock_queued('q', 't1', 'check') } },
        check: {
          on: {
            't1.check': [
              { guard: ({ context }: any) => context.busy, target: 'sleep' },
              { target: 'unlock' },
            ],
          },
        },
        sleep: { on: { 't1.sleep': { ...mutex_lock('m', 't1', 'M'), target: 'unsleep' } } },
        unsleep: { on: { 't1.unsleep': { ...mutex_unlock('m', 't1', 'M'), target: 'unlock' } } },
        unlock: { on: { 't1.unlock': { ...spin_unlock('q', 't1', 'Q'), target: 'done' } } },
        done: { type: 'final' },
      },
    };
    const setter = { initial: 'set', states: { set: { on: { 't0.set': { actions: assign({ busy: true }), target: 'done' } } }, done: { type: 'final' } } };
    const m = model(() => tinyModel({ q: qspinlock(), m: mutex(), busy: false }, { t1: slow }));
    const m2 = model(() => tinyModel({ q: qspinlock(), m: mutex(), busy: false }, { t0: setter, t1: slow }));
    expect(lockOrder(m).verdict.status).toBe('pass');
    const r = lockOrder(m2);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
    expect(r.trace!.lockOrder!.kind).toBe('invalid-wait-context');
    expect(r.trace!.steps.map((s) => s.event)).toContain('t0.set');
  });

  it('not reported: a spinlock under a mutex, a mutex_trylock under a spinlock, a mutex after the spinlock is dropped', () => {
    const cases = [
      { s: spinlock(), m: mutex(), steps: [mutex_lock('m', 't0', 'M'), spin_lock('s', 't0', 'S'), spin_unlock('s', 't0', 'S'), mutex_unlock('m', 't0', 'M')] },
      { s: spinlock(), m: mutex(), steps: [spin_lock('s', 't0', 'S'), mutex_trylock('m', 't0', { ok: 's2', fail: 's2' }, 'M'), spin_unlock('s', 't0', 'S')] },
      { s: spinlock(), m: mutex(), steps: [spin_lock('s', 't0', 'S'), spin_unlock('s', 't0', 'S'), mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M')] },
    ];
    for (const c of cases) {
      const { steps, ...ctx } = c;
      // the trylock case: its two branches go to s2 (named by the helper), the rest are straight
      const t0 = straight('t0', steps, steps.length === 3 ? ['s0', 's1', 's2'] : undefined);
      expect(lockOrder(model(() => tinyModel(ctx, { t0 }))).verdict).toEqual({ status: 'pass' });
    }
  });

  it("a percpu rwsem read under a spinlock is not lockdep's Invalid wait context (LD_WAIT_INV), but might_sleep()'s (might-sleep.test.ts)", () => {
    const m = model(() =>
      tinyModel({ s: spinlock(), m: percpuRwsem() }, { t0: straight('t0', [spin_lock('s', 't0', 'S'), percpu_down_read('m', 't0', 'P'), percpu_up_read('m', 't0', 'P'), spin_unlock('s', 't0', 'S')]) }),
    );
    const lo = lockOrder(m).trace!.lockOrder!;
    expect(lo).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
    expect(renderLockOrder(lo)).not.toContain('BUG: Invalid wait context');
  });

  it('a mutex under rcu_read_lock() is reported (rcu_lock_map: LD_WAIT_CONFIG inside), under srcu_read_lock() not (SRCU readers may sleep)', () => {
    const under = (domain: any, lock: typeof rcu_read_lock, unlock: typeof rcu_read_unlock) =>
      model(() => tinyModel({ r: domain, m: mutex() }, { t0: straight('t0', [lock('r', 't0', 'R'), mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), unlock('r', 't0', 'R')]) }));
    const r = lockOrder(under(rcu(), rcu_read_lock, rcu_read_unlock));
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'R -> M' });
    expect(r.trace!.lockOrder!.kind).toBe('invalid-wait-context');
    expect(lockOrder(under(srcu(), srcu_read_lock, srcu_read_unlock)).verdict).toEqual({ status: 'pass' });
    // and rcu_read_lock() itself may be taken under a spinlock (LD_WAIT_FREE outside)
    const m = model(() => tinyModel({ s: spinlock(), r: rcu() }, { t0: straight('t0', [spin_lock('s', 't0', 'S'), rcu_read_lock('r', 't0', 'R'), rcu_read_unlock('r', 't0', 'R'), spin_unlock('s', 't0', 'S')]) }));
    expect(lockOrder(m).verdict).toEqual({ status: 'pass' });
  });

  it("the kernel's handoff mutex under a queued spinlock is reported at the call (lockdep checks before it waits)", () => {
    const m = model(() =>
      tinyModel({ q: qspinlock(), m: handoffMutex() }, {
        t0: straight('t0', [(n: string) => spin_lock_queued('q', 't0', n, 'Q'), (n: string) => mutex_lock_handoff('m', 't0', n, 'M'), mutex_unlock('m', 't0', 'M'), spin_unlock('q', 't0', 'Q')]),
      }),
    );
    const r = lockOrder(m);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'Q -> M' });
    expect(r.trace!.lockOrder!.kind).toBe('invalid-wait-context');
    expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
  });

  it('an rwsem read taken under a spinlock is reported too (rw_semaphore: LD_WAIT_SLEEP)', () => {
    const m = model(() =>
      tinyModel({ s: spinlock(), r: rwsem() }, { t0: straight('t0', [spin_lock('s', 't0', 'S'), (n: string) => down_read('r', 't0', n, 'R'), up_read('r', 't0', 'R'), spin_unlock('s', 't0', 'S')]) }),
    );
    const r = lockOrder(m);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'S -> R' });
  });

  it('a spinlock or rcu_read_lock() held from the initial state counts, though no step acquires it (spinlockHeld, rcuReading)', () => {
    // lockdep saw the lock taken before the model starts; the mutex its holder takes is still an invalid wait context
    const cases: Array<[string, any, any[]]> = [
      ['S -> M', { s: spinlockHeld('t0'), m: mutex() }, [mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), spin_unlock('s', 't0', 'S')]],
      ['R -> M', { r: rcuReading({ t0: 1 }), m: mutex() }, [mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), rcu_read_unlock('r', 't0', 'R')]],
      // a nested rcu_read_lock() acquires nothing new, but names the domain
      ['R -> M', { r: rcuReading({ t0: 1 }), m: mutex() }, [rcu_read_lock('r', 't0', 'R'), mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), rcu_read_unlock('r', 't0', 'R'), rcu_read_unlock('r', 't0', 'R')]],
    ];
    for (const [name, ctx, steps] of cases) {
      const m = model(() => tinyModel(ctx, { t0: straight('t0', steps) }));
      const r = lockOrder(m);
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name });
      expect(r.trace!.lockOrder!.kind).toBe('invalid-wait-context');
      expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
    }
    // srcuReading: SRCU readers may sleep
    const s = model(() => tinyModel({ r: srcuReading({ t0: 1 }), m: mutex() }, { t0: straight('t0', [mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), srcu_read_unlock('r', 't0', 'R')]) }));
    expect(lockOrder(s).verdict).toEqual({ status: 'pass' });
  });

  it('waitContextViolation: the strictest held lock, lockdep ranks (free < spin < sleep), outer for the lock taken', () => {
    const invalidWaitContext = (acq: StepAcquisition) => waitContextViolation(acq)?.held ?? null;
    const acq = (wait: any, held: any[], t = false) => ({ path: 'x', name: 'X', mode: 'write' as const, thread: 't', try: t, held, ...(wait ? { wait } : {}) });
    const spinH = { path: 's', name: 'S', mode: 'write' as const, wait: { inner: 'spin' as const } };
    const sleepH = { path: 'm', name: 'M', mode: 'write' as const, wait: { inner: 'sleep' as const } };
    expect(invalidWaitContext(acq({ inner: 'sleep' }, [sleepH, spinH]))).toBe(spinH);
    expect(invalidWaitContext(acq({ inner: 'sleep' }, [sleepH]))).toBeNull();
    expect(invalidWaitContext(acq({ inner: 'sleep' }, [spinH], true))).toBeNull();
    expect(invalidWaitContext(acq(undefined, [spinH]))).toBeNull();
    // RCU-like: taken anywhere (outer free), a spinning context inside
    expect(invalidWaitContext(acq({ inner: 'spin', outer: 'free' }, [spinH]))).toBeNull();
    expect(invalidWaitContext(acq({ inner: 'sleep' }, [{ path: 'r', name: 'RCU', mode: 'read' as const, wait: { inner: 'spin' as const, outer: 'free' as const } }]))).not.toBeNull();
  });
});
