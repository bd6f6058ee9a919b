// Pins wait_event conditions, explicit wait queues (lost wake-up) and completions.
import { describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import {
  complete, completion, cond_eq, finish_wait, kernelGuards, kernelWaits, prepare_to_wait, prepare_to_wait_exclusive, schedule,
  try_wait_for_completion, wait_event, wait_for_completion, waitQueue, wake_up, wake_up_all,
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

describe('exclusive waiters (prepare_to_wait_exclusive): wake_up wakes one, wake_up_all every one', () => {
  // two exclusive sleepers; the waker calls wake_up (or wake_up_all) once; each sleeper, woken, leaves
  const sleeper = (t: string) =>
    straight(t, [prepare_to_wait_exclusive('q', t), schedule('q', t, { by: ['waker'] }), finish_wait('q', t)]);
  const run = (wake: typeof wake_up) =>
    explore(tinyModel({ q: waitQueue(), ready: 0 }, {
      a: sleeper('a'),
      b: sleeper('b'),
      // the waker goes once both sleep
      waker: straight('waker', [{ guard: { type: 'both_queued' }, ...wake('q') }]),
    }, { guards: { both_queued: ({ context }: any) => (context.q.exclusive ?? []).length === 2 } }));

  it('wake_up wakes the first exclusive waiter only: the other sleeps on, a wake-one lost wake-up', () => {
    const r = run(wake_up);
    expect(r.deadlocks.length).toBe(2); // a queued first or b queued first: the other is left asleep
    for (const d of r.deadlocks) {
      const asleep = ['a', 'b'].filter((t) => where(d)[t] === 's1');
      expect(asleep.length).toBe(1);
      expect(d.context.q).toEqual({ waiters: [], exclusive: asleep });
      expect(kernelWaits.waitqueue_woken(d.context, { wq: 'q', thread: asleep[0], by: ['waker'] })?.holders).toEqual(['waker']);
    }
    // the first queued is the one woken: queue order, not names
    const queuedBA = r.all.find((s) => s.context.q.exclusive?.join() === 'b,a');
    expect(queuedBA).toBeDefined();
  });

  it('wake_up_all wakes both; an empty queue keeps the plain { waiters } slice', () => {
    const r = run(wake_up_all);
    expect(r.deadlocks).toEqual([]);
    for (const s of r.all) if (s.status === 'done') expect(s.context.q).toEqual({ waiters: [] });
  });

  it('non-exclusive waiters all wake with the first exclusive one; prepare_to_wait on an exclusive entry makes it non-exclusive', () => {
    const m = tinyModel({ q: waitQueue() }, {
      n: straight('n', [prepare_to_wait('q', 'n'), schedule('q', 'n')]),
      x: straight('x', [prepare_to_wait_exclusive('q', 'x'), schedule('q', 'x')]),
      y: straight('y', [prepare_to_wait_exclusive('q', 'y'), prepare_to_wait('q', 'y'), schedule('q', 'y')]),
      waker: straight('waker', [{ guard: { type: 'all_queued' }, ...wake_up('q') }]),
    }, { guards: { all_queued: ({ context }: any) => context.q.waiters.length + (context.q.exclusive ?? []).length === 3 && context.q.waiters.includes('y') } });
    const r = explore(m);
    // after the wake_up: n and y (non-exclusive) and x (the only exclusive) are all off the queue
    expect(r.deadlocks).toEqual([]);
    const active = (ctx: any) => kernelGuards.waitqueue_active({ context: ctx }, { wq: 'q' });
    expect(r.all.some((s) => s.context.q.exclusive?.join() === 'x' && active(s.context))).toBe(true);
    expect(active({ q: waitQueue() })).toBe(false);
  });

  it('prepare_to_wait_exclusive on an entry queued non-exclusively among others is refused: the kernel keeps the entry in place, ahead of the waiters queued before it, which wake_up then leaves asleep', () => {
    // kernel/sched/wait.c: prepare_to_wait() adds at the head, so v (queued first) sits behind t; t turning
    // exclusive keeps its place (only WQ_FLAG_EXCLUSIVE is set), and __wake_up_common stops after waking t.
    const m = tinyModel({ q: waitQueue() }, {
      v: straight('v', [prepare_to_wait('q', 'v'), schedule('q', 'v')]),
      t: straight('t', [{ guard: { type: 'v_queued' }, ...prepare_to_wait('q', 't') }, prepare_to_wait_exclusive('q', 't'), schedule('q', 't')]),
    }, { guards: { v_queued: ({ context }: any) => context.q.waiters.includes('v') } });
    expect(() => explore(m)).toThrow(/kernel primitive misuse: t prepare_to_wait_exclusive while queued non-exclusively with v on q/);
    // alone on the queue, the entry becomes the first exclusive one, as in the kernel
    const alone = explore(tinyModel({ q: waitQueue() }, {
      t: straight('t', [prepare_to_wait('q', 't'), prepare_to_wait_exclusive('q', 't')]),
    }));
    expect(alone.all.some((s) => s.context.q.exclusive?.join() === 't' && s.context.q.waiters.length === 0)).toBe(true);
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
