// Pins workqueue semantics: no double queueing, cancel_work_sync drops a pending item unrun, flushes, drain,
// mod_delayed_work's steal-and-requeue (try_to_grab_pending) and its effect on flushers and on a draining queue.
import { describe, expect, it } from 'vitest';
import { and, assign } from 'xstate';
import {
  cancel_work, cancel_work_sync, drain_workqueue, flush_work, flush_workqueue, kernelWaits, mod_delayed_work, queue_work, workqueue,
  worker_done, worker_start, kworker_idle, mutex, mutex_lock, mutex_unlock, complete_all, completion, wait_for_completion,
} from '../../../machines/kernel/index.ts';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import { renderDeadlock } from '../../../explorer/waitfor.ts';
import { explore, straight, tinyModel, where } from './harness.ts';
import { compileMachine } from '../../../explorer/compile/index.ts';
import { crossCheck } from '../../../explorer/crosscheck.ts';
import { exploreWords } from '../../helpers/explore-words.ts';
import { checkErrors } from '../../helpers/lowering.ts';

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

  it('cancel_work (cancel_delayed_work) drops a pending item unrun, does not wait for a running one, and is no lockdep acquisition', () => {
    // kernel/workqueue.c (v6.6) cancel_work / cancel_delayed_work -> __cancel_work(): try_to_grab_pending(), then
    // set_work_pool_and_clear_pending(); no __flush_work(), no lock_map_acquire of the work (the _sync forms do both).
    // The worker runs W, which waits for `go`; the canceler takes L, cancels W, completes `go`: with cancel_work
    // nothing waits for the running W (cancel_work_sync would deadlock here), and W taking L adds no cycle.
    const build = () => tinyModel({ wq: workqueue(['W']), l: mutex(), go: completion(), runs: 0, stop: false }, {
      canceler: straight('canceler', [
        queue_work('wq', 'W', 'canceler'),
        mutex_lock('l', 'canceler', 'L'),
        cancel_work('wq', 'W', 'canceler'),
        complete_all('go'),
        mutex_unlock('l', 'canceler', 'L'),
        queue_work('wq', 'W', 'canceler'),
      ]),
      worker: {
        initial: 'idle',
        states: {
          idle: kworker_idle({ wq: 'wq', worker: 'worker', event: 'worker.start', next: 'wait' }),
          wait: { on: { 'worker.wait': { ...wait_for_completion('go', 'worker'), target: 'lock' } } },
          lock: { on: { 'worker.lock': { ...mutex_lock('l', 'worker', 'L'), target: 'unlock' } } },
          unlock: { on: { 'worker.unlock': { actions: [...mutex_unlock('l', 'worker', 'L').actions!, { type: 'count_run' }], target: 'end' } } },
          end: { on: { 'worker.end': { ...worker_done('wq', 'worker'), target: 'idle' } } },
        },
      },
    }, extra);
    const m = defineModel({ name: 'cancel-work', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: build, waits: kernelWaits });
    expect(checkModel({ model: m }).verdict).toEqual({ status: 'pass' });
    expect(checkModel({ model: m, check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    const r = explore(build());
    // canceled while pending: the first instance never ran; PENDING is released at once, so the requeue runs
    const ends = r.all.filter((s) => where(s).canceler === 'done' && where(s).worker === 'idle' && s.context.wq.pending.length === 0);
    expect(new Set(ends.map((s) => s.context.runs))).toEqual(new Set([1, 2]));
    for (const s of r.all) expect(s.context.wq.canceling).toEqual([]);
    expect(crossCheck(build(), { lowered: true }).difference).toBeUndefined();
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

/** A generic worker that exits once `finished` threads have ended and nothing is left to run. */
const workerUntil = (n: number, wq = 'wq') => ({
  initial: 'idle',
  states: {
    idle: {
      on: {
        'kworker.start': { ...worker_start(wq, 'kworker'), target: 'run' },
        'kworker.exit': { guard: and([{ type: 'cond_eq', params: { path: 'finished', value: n } }, { type: 'wq_is_idle', params: { wq, thread: 'kworker' } }]), target: 'done' },
      },
    },
    run: { on: { 'kworker.finish': { actions: [{ type: 'count_run' }, ...worker_done(wq, 'kworker').actions!], target: 'idle' } } },
    done: { type: 'final' },
  },
});
const flushNotes = {
  ...extra.actions,
  finish: assign({ finished: ({ context }: any) => context.finished + 1 }),
  // at flush begin: was `a` running, how many runs had finished, how many instances of `a` existed
  note_begin: assign(({ context }: any) => ({
    runningAtFlush: context.wq.running.a !== null,
    runsAtFlush: context.runs,
    instancesAtFlush: (context.wq.running.a !== null ? 1 : 0) + (context.wq.pending.includes('a') ? 1 : 0),
  })),
  note_end: assign({ flushedRuns: ({ context }: any) => context.runs }),
};
const flushCtx = () => ({ wq: workqueue(['a', 'b']), runs: 0, finished: 0, runningAtFlush: false, runsAtFlush: -1, instancesAtFlush: -1, flushedRuns: -1 });
/** A thread running `steps` (transition fragments) in order, then `finish`. */
const seq = (t: string, steps: any[]) => {
  const states: Record<string, any> = {};
  steps.forEach((st, i) => (states[`s${i}`] = { on: { [`${t}.s${i}`]: { ...st, target: `s${i + 1}` } } }));
  states[`s${steps.length}`] = { on: { [`${t}.end`]: { actions: [{ type: 'finish' }], target: 'done' } } };
  states.done = { type: 'final' };
  return { initial: 's0', states };
};
const note = (type: string) => ({ actions: [{ type }] });

describe('mod_delayed_work (try_to_grab_pending + __queue_work)', () => {
  it('steals a pending item and requeues it at the tail: pending once, never twice', () => {
    const m = tinyModel({ wq: workqueue(['a', 'b']), runs: 0, finished: 0 }, {
      q: seq('q', [queue_work('wq', 'a', 'q'), queue_work('wq', 'b', 'q'), mod_delayed_work('wq', 'a', 'q'), mod_delayed_work('wq', 'a', 'q')]),
    }, { actions: flushNotes });
    const r = explore(m);
    const at = (st: string) => r.all.find((s) => where(s).q === st)!.context.wq.pending;
    expect(at('s2')).toEqual(['a', 'b']);
    expect(at('s3')).toEqual(['b', 'a']); // moved to the tail (insert_work at the worklist tail)
    expect(at('s4')).toEqual(['b', 'a']); // stolen and requeued again: still one instance
    // queue_work on a pending item does not move it
    const q = explore(tinyModel({ wq: workqueue(['a', 'b']), finished: 0 }, {
      q: seq('q', [queue_work('wq', 'a', 'q'), queue_work('wq', 'b', 'q'), queue_work('wq', 'a', 'q')]),
    }, { actions: flushNotes }));
    expect(q.all.find((s) => where(s).q === 's3')!.context.wq.pending).toEqual(['a', 'b']);
  });

  it('is a no-op while cancel_work_sync owns PENDING (-ENOENT)', () => {
    const c = cancel_work_sync('wq', 'a', 'q');
    const r = explore(tinyModel({ wq: workqueue(['a']), finished: 0 }, {
      q: seq('q', [queue_work('wq', 'a', 'q'), c.grab, mod_delayed_work('wq', 'a', 'q')]),
    }, { actions: flushNotes }));
    const end = r.all.find((s) => where(s).q === 's3')!.context.wq;
    expect(end.pending).toEqual([]);
    expect(end.canceling).toEqual(['a']);
  });

  it('on a draining workqueue it WARNs and DROPS an item that was pending; the drain still completes', () => {
    const d = drain_workqueue('wq', 'drainer');
    const m = tinyModel({ ...flushCtx() }, {
      drainer: seq('drainer', [queue_work('wq', 'a', 'drainer'), d.begin, d.wait]),
      outsider: seq('outsider', [mod_delayed_work('wq', 'a', 'outsider')]),
      kworker: workerUntil(2),
    }, { actions: flushNotes });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    expect(r.all.every((s) => s.context.wq.pending.filter((i: string) => i === 'a').length <= 1)).toBe(true);
    const ends = r.all.filter((s) => s.status === 'done');
    // the steal hit the draining queue while `a` was still pending: dropped unrun, flagged
    expect(ends.some((s) => s.context.wq.droppedWhileDraining && s.context.runs === 0)).toBe(true);
    // whenever the item was dropped, it never ran afterwards and is not pending
    for (const s of r.all) if (s.context.wq.droppedWhileDraining) expect(s.context.wq.pending).toEqual([]);
    // before the drain (or after it ran) nothing is flagged
    expect(ends.some((s) => !s.context.wq.droppedWhileDraining && s.context.runs >= 1)).toBe(true);
  });

  it('flush_workqueue does not wait for a stolen pending instance (the requeued one has a newer colour)', () => {
    const f = flush_workqueue('wq', 'flusher');
    const m = tinyModel(flushCtx(), {
      flusher: seq('flusher', [queue_work('wq', 'a', 'flusher'), { actions: [...f.begin.actions!, { type: 'note_begin' }] }, { ...f.wait, actions: [...f.wait.actions!, { type: 'note_end' }] }]),
      stealer: seq('stealer', [mod_delayed_work('wq', 'a', 'stealer')]),
      kworker: workerUntil(2),
    }, { actions: flushNotes });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    // the flush returned with no run at all: the only instance it waited for was stolen, the requeued one waits
    expect(r.all.some((s) => where(s).flusher === 's3' && s.context.flushedRuns === 0 && s.context.wq.pending.includes('a'))).toBe(true);
    // and never before the instance it sampled was either run or stolen: without a steal it waits for the run
    for (const s of r.all) {
      if (where(s).flusher === 's3' && where(s).stealer === 's0') expect(s.context.flushedRuns - s.context.runsAtFlush).toBeGreaterThanOrEqual(s.context.instancesAtFlush);
    }
  });

  it('flush_workqueue keeps waiting for the RUNNING instance when a later queued instance is stolen', () => {
    // flusher flushes while `a` runs; then other queues `a` again (newer colour) and steals that instance
    const f = flush_workqueue('wq', 'flusher');
    const m = tinyModel(flushCtx(), {
      flusher: seq('flusher', [queue_work('wq', 'a', 'flusher'), { actions: [...f.begin.actions!, { type: 'note_begin' }] }, { ...f.wait, actions: [...f.wait.actions!, { type: 'note_end' }] }]),
      other: seq('other', [queue_work('wq', 'a', 'other'), mod_delayed_work('wq', 'a', 'other')]),
      kworker: workerUntil(2),
    }, { actions: flushNotes });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    // the scenario is reached: flush sampled only the running instance, then a newer pending one was stolen
    expect(r.all.some((s) => s.context.runningAtFlush && s.context.instancesAtFlush === 1 && where(s).other === 's2' && where(s).flusher === 's2' && s.context.wq.running.a !== null)).toBe(true);
    // a flush that started while `a` ran returns only after that run finished
    for (const s of r.all) if (where(s).flusher === 's3' && s.context.runningAtFlush) expect(s.context.flushedRuns).toBeGreaterThan(s.context.runsAtFlush);
  });

  it('flush_work: the barrier sits behind the pending instance; stealing it ends the flush even while an earlier run is still running', () => {
    const f = flush_work('wq', 'a', 'flusher');
    const m = tinyModel(flushCtx(), {
      flusher: seq('flusher', [{ actions: [...f.begin.actions!, { type: 'note_begin' }] }, { ...f.wait, actions: [...f.wait.actions!, { type: 'note_end' }] }]),
      other: seq('other', [queue_work('wq', 'a', 'other'), queue_work('wq', 'a', 'other'), mod_delayed_work('wq', 'a', 'other')]),
      kworker: workerUntil(2),
    }, { actions: flushNotes });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    // flushed with a running AND a pending instance; the pending one was stolen; flush_work returned while the
    // run that was going on at flush time had not finished (start_flush_work put the barrier behind the pending one)
    expect(r.all.some((s) => where(s).flusher === 's2' && s.context.instancesAtFlush === 2 && s.context.flushedRuns === s.context.runsAtFlush && s.context.wq.running.a !== null)).toBe(true);
    // without a steal, flush_work waits for every instance it saw (running then pending)
    for (const s of r.all) {
      if (where(s).flusher === 's2' && where(s).other !== 's3' && where(s).other !== 'done') {
        expect(s.context.flushedRuns - s.context.runsAtFlush).toBeGreaterThanOrEqual(s.context.instancesAtFlush);
      }
    }
    // flush_work with only a running instance is linked to that run: it never returns before the run ends
    for (const s of r.all) if (where(s).flusher === 's2' && s.context.runningAtFlush && s.context.instancesAtFlush === 1) expect(s.context.flushedRuns).toBeGreaterThan(s.context.runsAtFlush);
  });
});

describe('kworker_idle: a valid end state (meta: { end: true })', () => {
  // a producer queues one item and ends; the kworker runs it and goes back to idle, forever
  const build = (end: boolean) => () => {
    const idle = kworker_idle({ wq: 'wq', worker: 'kworker', event: 'kworker.start', next: 'run' });
    if (!end) delete idle.meta;
    return tinyModel({ wq: workqueue(['w']) }, {
      producer: straight('producer', [queue_work('wq', 'w', 'producer')]),
      kworker: { initial: 'idle', states: { idle, run: { on: { 'kworker.done': { ...worker_done('wq', 'kworker'), target: 'idle' } } } } },
    });
  };
  const model = (end: boolean) =>
    defineModel({ name: 'kworker', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: build(end), waits: kernelWaits });

  it('passes where the same model without the mark reports the idle kworker as a deadlock', () => {
    expect(checkModel({ model: model(true) }).verdict).toEqual({ status: 'pass' });
    const bad = checkModel({ model: model(false) });
    expect(bad.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(bad.verdict.message).toMatch(/not finished: kworker@idle/);
  });

  it('a deadlock elsewhere is still found, and the report shows the idle kworker as a valid end', () => {
    const m = defineModel({
      name: 'kworker-abba', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits,
      create: () =>
        tinyModel({ wq: workqueue(['w']), a: mutex(), b: mutex() }, {
          kworker: { initial: 'idle', states: { idle: kworker_idle({ wq: 'wq', worker: 'kworker', event: 'kworker.start', next: 'run' }), run: { on: { 'kworker.done': { ...worker_done('wq', 'kworker'), target: 'idle' } } } } },
          t0: straight('t0', [mutex_lock('a', 't0'), mutex_lock('b', 't0'), mutex_unlock('b', 't0'), mutex_unlock('a', 't0')]),
          t1: straight('t1', [mutex_lock('b', 't1'), mutex_lock('a', 't1'), mutex_unlock('a', 't1'), mutex_unlock('b', 't1')]),
        }),
    });
    const r = checkModel({ model: m });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.verdict.message).toMatch(/at a valid end \(meta\.end\): kworker@idle/);
    expect(r.trace!.deadlock!.idle).toEqual([{ thread: 'kworker', state: 'idle' }]);
    expect(r.trace!.deadlock!.blocked.map((b) => b.thread)).toEqual(['t0', 't1']);
    expect(renderDeadlock(r.trace!.deadlock!)).toContain('At a valid end (meta.end), not blocked:\n  kworker at idle');
  });
});

// The declared lowerings (end of machines/kernel/workqueue.ts): every operation of a workqueue on the packed words.
// Items w and v with a dedicated kworker each; a producer that queues, steals (mod_delayed_work) and requeues;
// a flusher that cancels, flushes one item, flushes the workqueue (items named: declared) and drains it.
describe('workqueue on the packed words', () => {
  const ITEMS = ['v', 'w'];
  const kworker = (item: string) => ({
    initial: 'idle',
    states: {
      idle: kworker_idle({ wq: 'wq', worker: `k${item}`, event: `k${item}.start`, next: 'run', item }),
      run: { on: { [`k${item}.done`]: { ...worker_done('wq', `k${item}`), target: 'idle' } } },
    },
  });
  const machine = () => {
    const c = cancel_work_sync('wq', 'v', 'f');
    const fw = flush_work('wq', 'w', 'f');
    const fq = flush_workqueue('wq', 'f', undefined, ITEMS);
    const d = drain_workqueue('wq', 'f');
    return tinyModel({ wq: workqueue(ITEMS) }, {
      p: straight('p', [queue_work('wq', 'w', 'p'), mod_delayed_work('wq', 'v', 'p'), mod_delayed_work('wq', 'w', 'p'), queue_work('wq', 'v', 'p')]),
      f: straight('f', [c.grab, c.wait, fw.begin, fw.wait, fq.begin, fq.wait, d.begin, d.wait]),
      kv: kworker('v'),
      kw: kworker('w'),
    });
  };

  it('agree with XState transition() on every reachable state, word path on', () => {
    const r = crossCheck(machine(), { lowered: true });
    expect(r.difference).toBeUndefined();
    expect(r.states).toBeGreaterThan(300);
  });

  it('step (nearly) every state on the words, with the same successors as the decoded step', () => {
    const system = compileMachine(machine());
    const on = exploreWords(system, true);
    const off = exploreWords(system, false);
    expect(on.edges).toEqual(off.edges);
    expect(on.edges.length).toBeGreaterThan(1000);
    // the fallback: drain_workqueue's wait (wq_drained is not declared), and the steps into an all-final state
    expect(on.counts.fallback).toBeLessThan(on.counts.lowered / 5);
  });

  it('a misuse BAILs on the words and the function reports it, as with lowering off', () => {
    // worker_done on a worker that runs nothing; a queue_work of an item the workqueue does not have
    for (const [steps, message] of [
      [[worker_done('wq', 't')], /kernel primitive misuse: worker t finished but runs nothing on wq/],
      [[queue_work('wq', 'x', 't')], /kernel primitive misuse: "x" is not a work item of wq/],
    ] as const) {
      const model = defineModel({
        name: 'misuse', description: '', params: {}, defaultVariant: 'v', variants: { v: { description: '' } },
        create: () => tinyModel({ wq: workqueue(['w']) }, { t: straight('t', [...steps]) }),
      });
      const messages = checkErrors(model);
      expect(messages[0]).toMatch(message);
      expect(messages[0]).toBe(messages[1]);
    }
  });
});
