// Pins workqueue semantics: no double queueing, cancel_work_sync drops a pending item unrun, flushes, drain.
import { describe, expect, it } from 'vitest';
import { and, assign } from 'xstate';
import {
  cancel_work_sync, drain_workqueue, flush_work, kernelWaits, queue_work, workqueue, worker_done, worker_start,
} from '../../../machines/kernel/index.ts';
import { explore, tinyModel, where } from './harness.ts';

/** A generic worker that runs items until `stop` is set; counts each run of an item in context.runs. */
const worker = (wq = 'wq') => ({
  initial: 'idle',
  states: {
    idle: {
      on: {
        'kworker.start': { ...worker_start(wq, 'kworker'), target: 'run' },
        // exits once told to and nothing is left to run
        'kworker.exit': { guard: and([{ type: 'cond_true', params: { path: 'stop' } }, { type: 'wq_is_idle', params: { wq, thread: 'kworker' } }]), target: 'done' },
      },
    },
    run: { on: { 'kworker.finish': { actions: [{ type: 'count_run' }, ...worker_done(wq, 'kworker').actions!], target: 'idle' } } },
    done: { type: 'final' },
  },
});
const extra = {
  actions: {
    count_run: assign({ runs: ({ context }: any) => context.runs + 1 }),
    stop: assign({ stop: true }),
  },
};

describe('workqueue', () => {
  it('a pending item is not queued twice', () => {
    const m = tinyModel({ wq: workqueue(['w']), runs: 0, stop: false }, {
      q: { initial: 'a', states: {
        a: { on: { 'q.a': { ...queue_work('wq', 'w', 'q'), target: 'b' } } },
        b: { on: { 'q.b': { ...queue_work('wq', 'w', 'q'), target: 'c' } } },
        c: { on: { 'q.c': { actions: [{ type: 'stop' }], target: 'done' } } },
        done: { type: 'final' },
      } },
      kworker: worker(),
    }, extra);
    const r = explore(m);
    expect(r.all.every((s) => s.context.wq.pending.length <= 1)).toBe(true);
    const ends = r.all.filter((s) => s.status === 'done');
    // 1 run when the second queue_work found it pending, 2 when the worker had taken it already
    expect(new Set(ends.map((s) => s.context.runs))).toEqual(new Set([1, 2]));
    expect(r.deadlocks).toEqual([]);
  });

  it('cancel_work_sync drops a pending item unrun and waits for a running one', () => {
    const c = cancel_work_sync('wq', 'w', 'canceler');
    const m = tinyModel({ wq: workqueue(['w']), runs: 0, stop: false }, {
      canceler: { initial: 'queue', states: {
        queue: { on: { 'canceler.queue': { ...queue_work('wq', 'w', 'canceler'), target: 'grab' } } },
        grab: { on: { 'canceler.grab': { ...c.grab, target: 'wait' } } },
        wait: { on: { 'canceler.wait': { ...c.wait, target: 'check' } } },
        check: { on: { 'canceler.check': { actions: [{ type: 'stop' }], target: 'done' } } },
        done: { type: 'final' },
      } },
      kworker: worker(),
    }, extra);
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const ends = r.all.filter((s) => s.status === 'done');
    // canceled while pending: never ran; canceled while running: waited for it (ran once)
    expect(new Set(ends.map((s) => s.context.runs))).toEqual(new Set([0, 1]));
    // after cancel_work_sync returns the item neither runs nor is pending
    for (const s of r.all) if (where(s).canceler === 'check') {
      expect(s.context.wq.pending).toEqual([]);
      expect(s.context.wq.running.w).toBeNull();
    }
    // while the canceler waits, the running worker is reported as the holder
    const waiting = r.all.find((s) => where(s).canceler === 'wait' && s.context.wq.running.w === 'kworker');
    expect(kernelWaits.wq_work_not_running(waiting!.context, c.wait.guard.params)?.holders).toEqual(['kworker']);
  });

  it('flush_work waits for the instances queued before it, not for later requeues', () => {
    const f = flush_work('wq', 'w', 'flusher');
    const m = tinyModel({ wq: workqueue(['w']), runs: 0, stop: false, flushedRuns: -1 }, {
      flusher: { initial: 'queue', states: {
        queue: { on: { 'flusher.queue': { ...queue_work('wq', 'w', 'flusher'), target: 'begin' } } },
        begin: { on: { 'flusher.begin': { ...f.begin, target: 'wait' } } },
        wait: { on: { 'flusher.wait': { ...f.wait, actions: [...f.wait.actions!, { type: 'note' }], target: 'requeue' } } },
        requeue: { on: { 'flusher.requeue': { ...queue_work('wq', 'w', 'flusher'), target: 'stop' } } },
        stop: { on: { 'flusher.stop': { actions: [{ type: 'stop' }], target: 'done' } } },
        done: { type: 'final' },
      } },
      kworker: worker(),
    }, { actions: { ...extra.actions, note: assign({ flushedRuns: ({ context }: any) => context.runs }) } });
    const r = explore(m);
    // the instance queued before the flush had run when flush_work returned
    expect(r.all.filter((s) => where(s).flusher === 'requeue').every((s) => s.context.flushedRuns === 1)).toBe(true);
  });

  it('drain_workqueue: chained work is allowed, work queued from outside is dropped and flagged', () => {
    const d = drain_workqueue('wq', 'drainer');
    const m = tinyModel({ wq: workqueue(['a', 'b']), runs: 0, stop: false }, {
      drainer: { initial: 'q', states: {
        q: { on: { 'drainer.q': { ...queue_work('wq', 'a', 'drainer'), target: 'begin' } } },
        begin: { on: { 'drainer.begin': { ...d.begin, target: 'wait' } } },
        wait: { on: { 'drainer.wait': { ...d.wait, actions: [...d.wait.actions!, { type: 'stop' }], target: 'done' } } },
        done: { type: 'final' },
      } },
      outsider: { initial: 'q', states: { q: { on: { 'outsider.q': { ...queue_work('wq', 'b', 'outsider'), target: 'done' } } }, done: { type: 'final' } } },
      kworker: worker(),
    }, extra);
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const dropped = r.all.filter((s) => s.context.wq.droppedWhileDraining);
    expect(dropped.length).toBeGreaterThan(0);
    // dropped only when the outsider queued while draining, and then b never ran
    for (const s of dropped) expect(s.context.wq.pending.includes('b') || s.context.wq.running.b !== null).toBe(false);
    // when the outsider queued before the drain, b ran and nothing was flagged
    expect(r.all.some((s) => s.status === 'done' && !s.context.wq.droppedWhileDraining && s.context.runs === 2)).toBe(true);
  });

  it('a chained queue_work from the running worker is accepted while draining', () => {
    const d = drain_workqueue('wq', 'drainer');
    const m = tinyModel({ wq: workqueue(['a', 'b']), runs: 0, stop: false }, {
      drainer: { initial: 'q', states: {
        q: { on: { 'drainer.q': { ...queue_work('wq', 'a', 'drainer'), target: 'begin' } } },
        begin: { on: { 'drainer.begin': { ...d.begin, target: 'wait' } } },
        wait: { on: { 'drainer.wait': { ...d.wait, actions: [...d.wait.actions!, { type: 'stop' }], target: 'done' } } },
        done: { type: 'final' },
      } },
      kworker: {
        initial: 'idle',
        states: {
          idle: { on: {
            'kworker.start': { ...worker_start('wq', 'kworker'), target: 'run' },
            'kworker.exit': { guard: { type: 'cond_true', params: { path: 'stop' } }, target: 'done' },
          } },
          // item a queues b from inside the workqueue (chained work)
          run: { on: { 'kworker.finish': [
            { guard: { type: 'wq_running_is', params: { wq: 'wq', thread: 'kworker', item: 'a' } }, actions: [...queue_work('wq', 'b', 'kworker').actions!, { type: 'count_run' }, ...worker_done('wq', 'kworker').actions!], target: 'idle' },
            { actions: [{ type: 'count_run' }, ...worker_done('wq', 'kworker').actions!], target: 'idle' },
          ] } },
          done: { type: 'final' },
        },
      },
    }, extra);
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    expect(r.all.some((s) => s.context.wq.droppedWhileDraining)).toBe(false);
    expect(r.all.filter((s) => s.status === 'done').every((s) => s.context.runs === 2)).toBe(true);
  });
});
