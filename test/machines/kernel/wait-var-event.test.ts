// Pins wait_var_event / wake_up_var (machines/kernel/waitqueue.ts: waitVarEventStates): the sleeper is woken only
// by wake_up_var on its variable's queue, so a wake-up sent elsewhere is a lost wake-up (the fscache 8226e37d82f4
// shape: wake_up_bit against wait_var_event), where wait_event(cond), which has no queue, would wrongly pass.
import { describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import { cond_false, kernelWaits, oneEvent, spin_lock, spin_unlock, spinlock, waitQueue, waitVarEventStates, wait_event, wake_up_all, wake_up_var } from '../../../machines/kernel/index.ts';
import { compareEverywhere } from '../../helpers/differential.ts';
import { explore, tinyModel, where } from './harness.ts';

const clear = assign({ pending: false });
/** The waker clears `pending`, then wakes `wq` (its own var's queue, or another one). */
const waker = (wq: string) => ({
  initial: 'clear',
  states: {
    clear: oneEvent('w', 'clear', { actions: clear, target: 'wake' }),
    wake: oneEvent('w', 'wake', { ...(wq === 'var' ? wake_up_var(wq) : wake_up_all(wq)), target: 'done' }),
    done: { type: 'final' },
  },
});
const sleeperVar = {
  initial: 'wait',
  states: { ...waitVarEventStates({ thread: 's', state: 'wait', wq: 'var', cond: cond_false('pending'), next: 'done', by: ['w'] }), done: { type: 'final' } },
};
const sleeperCond = { initial: 'wait', states: { wait: oneEvent('s', 'wait', { ...wait_event(cond_false('pending')), target: 'done' }), done: { type: 'final' } } };
const ctx = () => ({ pending: true, var: waitQueue(), other: waitQueue(), l: spinlock() });
const model = (threads: Record<string, any>) =>
  defineModel({ name: 'wait-var-event', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: () => tinyModel(ctx(), threads), waits: kernelWaits });

describe('wait_var_event / wake_up_var', () => {
  it('wake_up_var on the variable wakes the sleeper: no deadlock, and the sleeper did sleep in some interleaving', () => {
    const r = explore(tinyModel(ctx(), { s: sleeperVar, w: waker('var') }));
    expect(r.deadlocks).toHaveLength(0);
    expect(r.all.some((x) => where(x).s === 'wait_sleep' && (x.context as any).var.waiters.includes('s'))).toBe(true);
    // the fast path: cond already true at the call, nothing queued
    expect(r.all.some((x) => where(x).w === 'done' && where(x).s === 'done' && (x.context as any).var.waiters.length === 0)).toBe(true);
  });

  it('a wake-up sent to another queue is lost: a deadlock with the sleeper asleep, where wait_event(cond) would pass', () => {
    const lost = checkModel({ model: model({ s: sleeperVar, w: waker('other') }), check: { deadlock: true } });
    expect(lost.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(lost.trace!.final.locations.s).toBe('wait_sleep');
    expect(checkModel({ model: model({ s: sleeperCond, w: waker('other') }), check: { deadlock: true } }).verdict.status).toBe('pass');
  });

  it('is a might_sleep() point: wait_var_event under a spinlock is reported by --lock-order', () => {
    const locked = {
      initial: 'lock',
      states: {
        lock: oneEvent('s', 'lock', { ...spin_lock('l', 's', 'L'), target: 'wait' }),
        ...waitVarEventStates({ thread: 's', state: 'wait', wq: 'var', cond: cond_false('pending'), next: 'unlock' }),
        unlock: oneEvent('s', 'unlock', { ...spin_unlock('l', 's', 'L'), target: 'done' }),
        done: { type: 'final' },
      },
    };
    const r = checkModel({ model: model({ s: locked, w: waker('var') }), check: { deadlock: true, lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
    expect(r.trace!.lockOrder).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
  });

  it('the compiled engine agrees with XState on every reachable state', () => {
    expect(compareEverywhere(tinyModel(ctx(), { s: sleeperVar, w: waker('var') }))).toBeGreaterThan(5);
    expect(compareEverywhere(tinyModel(ctx(), { s: sleeperVar, w: waker('other') }))).toBeGreaterThan(5);
  });
});
