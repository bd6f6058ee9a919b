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

  it('wake_up wakes the non-exclusive waiters (queued at the head) and the first exclusive one, not the next', () => {
    const m = tinyModel({ q: waitQueue() }, {
      n: straight('n', [prepare_to_wait('q', 'n'), schedule('q', 'n')]),
      x: straight('x', [prepare_to_wait_exclusive('q', 'x'), schedule('q', 'x')]),
      y: straight('y', [prepare_to_wait_exclusive('q', 'y'), schedule('q', 'y')]),
      waker: straight('waker', [{ guard: { type: 'all_queued' }, ...wake_up('q') }]),
    }, { guards: { all_queued: ({ context }: any) => context.q.waiters.length + (context.q.exclusive ?? []).length === 3 } });
    const r = explore(m);
    // n always wakes; of x and y only the one queued first: the other is left asleep
    expect(r.deadlocks.length).toBe(2);
    for (const d of r.deadlocks) {
      expect(where(d).n).toBe('done');
      expect(d.context.q.waiters).toEqual([]);
      expect(d.context.q.exclusive.length).toBe(1);
    }
    const active = (ctx: any) => kernelGuards.waitqueue_active({ context: ctx }, { wq: 'q' });
    expect(r.all.some((s) => s.context.q.waiters.length === 0 && s.context.q.exclusive?.length === 1 && active(s.context))).toBe(true);
    expect(active({ q: waitQueue() })).toBe(false);
  });

  it('an entry queued as one kind and prepared as the other is refused (the kernel flips the flag in place: positions this slice does not keep)', () => {
    const flip = (first: typeof prepare_to_wait, second: typeof prepare_to_wait) =>
      tinyModel({ q: waitQueue() }, { t: straight('t', [first('q', 't'), second('q', 't'), schedule('q', 't')]) });
    expect(() => explore(flip(prepare_to_wait_exclusive, prepare_to_wait))).toThrow(/misuse: t calls prepare_to_wait on wait queue q while queued exclusive.*finish_wait first/);
    expect(() => explore(flip(prepare_to_wait, prepare_to_wait_exclusive))).toThrow(/misuse: t calls prepare_to_wait_exclusive on wait queue q while queued non-exclusive/);
    // the same kind again is a no-op, as in the kernel (the entry is already on the list)
    expect(explore(tinyModel({ q: waitQueue() }, { t: straight('t', [prepare_to_wait_exclusive('q', 't'), prepare_to_wait_exclusive('q', 't'), finish_wait('q', 't')]) })).deadlocks).toEqual([]);
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
