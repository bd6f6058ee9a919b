// Pins wait_event conditions, explicit wait queues (lost wake-up) and completions.
import { describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import {
  complete, completion, cond_eq, finish_wait, kernelWaits, prepare_to_wait, schedule, try_wait_for_completion,
  wait_event, wait_for_completion, waitQueue, wake_up,
} from '../../../machines/kernel/index.ts';
import { explore, straight, tinyModel, where } from './harness.ts';

const setFlag = { actions: [{ type: 'set_flag' }] };
const extra = { actions: { set_flag: assign({ flag: 1 }) } };

describe('wait_event / wait queue', () => {
  it('wait_event on a predicate sleeps until it holds', () => {
    const m = tinyModel({ flag: 0 }, {
      waiter: straight('waiter', [wait_event(cond_eq('flag', 1, { by: ['waker'] }))]),
      waker: straight('waker', [setFlag]),
    }, extra);
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    expect(r.all.some((s) => where(s).waiter === 'done' && s.context.flag === 0)).toBe(false);
    expect(kernelWaits.cond_eq({ flag: 0 }, cond_eq('flag', 1, { by: ['waker'] }).params)).toEqual({
      resource: 'flag == 1', kind: 'wait_event', mode: 'wait_event(flag == 1)', holders: ['waker'], act: 'wake_up',
    });
  });

  it('checking the condition before prepare_to_wait loses the wake-up; the kernel order does not', () => {
    // waiter: if (!flag) { [window] prepare_to_wait; schedule; } — the waker sets flag and wakes in the window
    const buggyWaiter = {
      initial: 'check',
      states: {
        check: { on: { 'waiter.check': [{ guard: { type: 'cond_eq', params: { path: 'flag', value: 1 } }, target: 'done' }, { target: 'prepare' }] } },
        prepare: { on: { 'waiter.prepare': { ...prepare_to_wait('q', 'waiter'), target: 'sleep' } } },
        sleep: { on: { 'waiter.sleep': { ...schedule('q', 'waiter', { by: ['waker'] }), target: 'done' } } },
        done: { type: 'final' },
      },
    };
    // kernel wait_event: prepare_to_wait; if (cond) break; schedule; finish_wait
    const goodWaiter = {
      initial: 'prepare',
      states: {
        prepare: { on: { 'waiter.prepare': { ...prepare_to_wait('q', 'waiter'), target: 'check' } } },
        check: { on: { 'waiter.check': [{ guard: { type: 'cond_eq', params: { path: 'flag', value: 1 } }, ...finish_wait('q', 'waiter'), target: 'done' }, { target: 'sleep' }] } },
        sleep: { on: { 'waiter.sleep': { ...schedule('q', 'waiter', { by: ['waker'] }), target: 'prepare' } } },
        done: { type: 'final' },
      },
    };
    const waker = straight('waker', [{ actions: [{ type: 'set_flag' }, ...wake_up('q').actions!] }]);
    const bad = explore(tinyModel({ flag: 0, q: waitQueue() }, { waiter: buggyWaiter, waker }, extra));
    expect(bad.deadlocks.length).toBe(1);
    expect(where(bad.deadlocks[0]).waiter).toBe('sleep');
    expect(kernelWaits.waitqueue_woken(bad.deadlocks[0].context, { wq: 'q', thread: 'waiter', by: ['waker'] })?.holders).toEqual(['waker']);
    expect(explore(tinyModel({ flag: 0, q: waitQueue() }, { waiter: goodWaiter, waker }, extra)).deadlocks).toEqual([]);
  });
});

describe('completion', () => {
  it('wait_for_completion consumes one complete; a second waiter without a second complete deadlocks', () => {
    const ok = explore(tinyModel({ c: completion() }, {
      w: straight('w', [wait_for_completion('c', 'w', { by: ['d'] })]),
      d: straight('d', [complete('c')]),
    }));
    expect(ok.deadlocks).toEqual([]);
    const two = explore(tinyModel({ c: completion() }, {
      w0: straight('w0', [wait_for_completion('c', 'w0')]),
      w1: straight('w1', [wait_for_completion('c', 'w1')]),
      d: straight('d', [complete('c')]),
    }));
    expect(two.deadlocks.length).toBe(2); // either waiter is the one left behind
    expect(two.deadlocks.every((s) => s.context.c.done === 0)).toBe(true);
  });
  it('try_wait_for_completion never blocks', () => {
    const r = explore(tinyModel({ c: completion() }, {
      w: { initial: 't', states: { t: { on: { 'w.t': try_wait_for_completion('c', 'w', { ok: 'done', fail: 'done' }) } }, done: { type: 'final' } } },
      d: straight('d', [complete('c')]),
    }));
    expect(r.deadlocks).toEqual([]);
    const ends = r.all.filter((s) => s.status === 'done').map((s) => s.context.c.done);
    expect(new Set(ends)).toEqual(new Set([0, 1]));
  });
});
