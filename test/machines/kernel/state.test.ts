// Pins the initial-state helpers: each builds exactly the slice the named calls leave behind when a thread makes them.
import { describe, expect, it } from 'vitest';
import {
  btrfsStartTransactionStates, btrfsTrans, btrfsTransRunning, complete, completion, completionDone, folio, folioLocked, folio_lock,
  freezeSuperStates, jbd2Journal, jbd2JournalRunning, jbd2_journal_start, mutex, mutexHeld, mutex_lock, percpuRwsem, percpuRwsemHeld,
  percpu_down_read, percpu_down_write_block, pipe, pipeWith, prepare_to_wait, queue_work, rwsem, rwsemHeld, down_read, down_write,
  sbWriters, sbWritersHeld, sb_start_intwrite, sb_start_write, SB_FREEZE_COMPLETE, waitQueue, waitQueueWith, workqueue, workqueueWith,
  btree, btreeLocked, btree_node_lock, worker_start_item, qspinlock, qspinlockHeld, spin_lock_queued, handoffMutex, handoffMutexHeld,
  mutex_lock_handoff,
} from '../../../machines/kernel/index.ts';
import { explore, straight, tinyModel, where } from './harness.ts';

/** The context after `thread` ran `steps` from `context` (one thread, so one end state). */
function after(context: Record<string, any>, threads: Record<string, any>): any {
  const r = explore(tinyModel(context, threads));
  const ends = r.all.filter((s) => Object.values(where(s)).every((l) => l === 'done' || l === 'frozen'));
  expect(ends.length).toBeGreaterThan(0);
  return ends[0].context;
}

describe('initial-state helpers', () => {
  it('locks: mutexHeld, rwsemHeld, percpuRwsemHeld, folioLocked', () => {
    expect(mutexHeld('t')).toEqual(after({ m: mutex() }, { t: straight('t', [mutex_lock('m', 't')]) }).m);
    expect(rwsemHeld({ writer: 't' })).toEqual(after({ s: rwsem() }, { t: straight('t', [down_write('s', 't', 'done')]) }).s);
    expect(rwsemHeld({ readers: ['b', 'a'] })).toEqual(after({ s: rwsem() }, { a: straight('a', [down_read('s', 'a', 'done')]), b: straight('b', [down_read('s', 'b', 'done')]) }).s);
    expect(() => rwsemHeld({ writer: 'a', readers: ['b'] })).toThrow(/cannot hold/);
    expect(percpuRwsemHeld({ readers: ['r'], writer: 'w' })).toEqual(
      after({ p: percpuRwsem() }, { r: straight('r', [percpu_down_read('p', 'r')]), w: straight('w', [percpu_down_write_block('p', 'w')]) }).p,
    );
    expect(folioLocked('t')).toEqual(after({ f: folio() }, { t: straight('t', [(n: string) => folio_lock('f', 't', n)]) }).f);
  });

  it('queued locks: qspinlockHeld and handoffMutexHeld are states the calls reach (t holds, w queued behind it)', () => {
    const reached = (ctx: Record<string, any>, path: string, slice: unknown, call: (lock: string, t: string, next: string) => any[]) => {
      const r = explore(tinyModel(ctx, { t: straight('t', [(n: string) => call(path, 't', n)]), w: straight('w', [(n: string) => call(path, 'w', n)]) }));
      return r.all.some((x) => JSON.stringify((x.context as any)[path]) === JSON.stringify(slice));
    };
    expect(reached({ q: qspinlock() }, 'q', qspinlockHeld('t', ['w']), spin_lock_queued)).toBe(true);
    expect(reached({ q: qspinlock() }, 'q', qspinlockHeld('t'), spin_lock_queued)).toBe(true);
    expect(reached({ m: handoffMutex() }, 'm', handoffMutexHeld('t', ['w']), mutex_lock_handoff)).toBe(true);
    expect(reached({ m: handoffMutex() }, 'm', handoffMutexHeld('t', ['w'], { handoff: true }), mutex_lock_handoff)).toBe(true);
    expect(() => handoffMutexHeld('t', [], { handoff: true })).toThrow(/set by the first waiter/);
    expect(() => qspinlockHeld('t', ['t'])).toThrow(/distinct threads other than the owner/);
    expect(() => handoffMutexHeld('t', ['w', 'w'])).toThrow(/distinct threads/);
  });

  it('sb_writers: threads inside sb_start_*, and a completed freeze_super', () => {
    expect(sbWritersHeld({ write: ['a'], intwrite: ['b'] })).toEqual(
      after({ s_writers: sbWriters() }, { a: straight('a', [sb_start_write('s_writers', 'a')]), b: straight('b', [sb_start_intwrite('s_writers', 'b')]) }).s_writers,
    );
    const fz = freezeSuperStates({ thread: 'freezer', next: 'frozen' });
    const frozen = after({ s_writers: sbWriters(), s_umount: rwsem() }, { freezer: { initial: fz.initial, states: { ...fz.states, frozen: { type: 'final' } } } });
    expect(sbWritersHeld({ frozen: SB_FREEZE_COMPLETE, by: 'freezer' })).toEqual(frozen.s_writers);
    expect(() => sbWritersHeld({ frozen: 2, by: 'f' })).toThrow(/partial freeze/);
  });

  it('wait queues, completions, workqueues, pipes, btrees', () => {
    expect(waitQueueWith(['b', 'a'])).toEqual(after({ q: waitQueue() }, { a: straight('a', [prepare_to_wait('q', 'a')]), b: straight('b', [prepare_to_wait('q', 'b')]) }).q);
    expect(completionDone(2)).toEqual(after({ c: completion() }, { t: straight('t', [complete('c'), complete('c')]) }).c);
    const wq = after({ wq: workqueue(['x', 'y', 'z']) }, {
      t: straight('t', [queue_work('wq', 'y', 't'), queue_work('wq', 'x', 't'), queue_work('wq', 'z', 't')]),
      k: straight('k', [worker_start_item('wq', 'z', 'k')]),
    }).wq;
    expect(workqueueWith(['x', 'y', 'z'], { pending: ['y', 'x'], running: { z: 'k' } })).toEqual(wq);
    expect(() => workqueueWith(['x'], { pending: ['q'] })).toThrow(/not a work item/);
    expect(pipeWith(2, 1)).toEqual({ ...pipe(2), count: 1 });
    expect(btreeLocked({ nodes: ['n'], threads: ['t'] }, { t: [{ node: 'n', mode: 'read' }] })).toEqual(
      after({ b: btree({ nodes: ['n'], threads: ['t'] }) }, { t: straight('t', [(n: string) => btree_node_lock('b', 't', 'n', 'read', n)]) }).b,
    );
  });

  it('transactions: btrfsTransRunning and jbd2JournalRunning', () => {
    const st = (t: string, type: any) => {
      const f = btrfsStartTransactionStates({ thread: t, type, next: 'done' });
      return { initial: f.initial, states: { ...f.states, done: { type: 'final' } } };
    };
    const two = after({ trans: btrfsTrans() }, { a: st('a', 'TRANS_START'), b: st('b', 'TRANS_JOIN') }).trans;
    expect(btrfsTransRunning({ a: 'TRANS_START', b: 'TRANS_JOIN' })).toEqual(two);
    const j = after({ journal: jbd2Journal() }, {
      a: { initial: 's0', states: { s0: { on: { 'a.s0': jbd2_journal_start('journal', 'a', 's1') } }, s1: { on: { 'a.s1': jbd2_journal_start('journal', 'a', 'done') } }, done: { type: 'final' } } },
      b: { initial: 's0', states: { s0: { on: { 'b.s0': jbd2_journal_start('journal', 'b', 'done') } }, done: { type: 'final' } } },
    }).journal;
    expect(jbd2JournalRunning({ a: 2, b: 1 })).toEqual(j);
  });
});
