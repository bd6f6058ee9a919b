// Pins jbd2 handles (fs/jbd2/transaction.c, commit.c, v6.6): nesting through h_ref, the lock_updates barrier,
// and the commit's wait for t_updates.
import { describe, expect, it } from 'vitest';
import {
  jbd2Journal, jbd2JournalRunning, jbd2_journal_commit, jbd2_journal_lock_updates, jbd2_journal_start, jbd2_journal_stop,
  jbd2_journal_unlock_updates, kernelWaits,
} from '../../../machines/kernel/index.ts';
import { createReferenceStepper } from '../../../explorer/reference.ts';
import { explore, straight, tinyModel, where } from './harness.ts';

/** A thread running `steps` where 'start' is jbd2__journal_start, 'stop' jbd2_journal_stop. */
function handleUser(thread: string, ops: Array<'start' | 'stop'>) {
  const states: Record<string, any> = {};
  ops.forEach((op, i) => {
    const name = `${op}${i}`;
    const next = i + 1 === ops.length ? 'done' : `${ops[i + 1]}${i + 1}`;
    states[name] = { on: { [`${thread}.${name}`]: op === 'start' ? jbd2_journal_start('journal', thread, next) : { ...jbd2_journal_stop('journal', thread), target: next } } };
  });
  states.done = { type: 'final' };
  return { initial: `${ops[0]}0`, states };
}

function locker(thread = 'locker') {
  const l = jbd2_journal_lock_updates('journal', thread);
  return straight(thread, [l.barrier, l.drain, l.mutex, jbd2_journal_unlock_updates('journal', thread)], ['barrier', 'drain', 'j_barrier', 'unlock']);
}

describe('jbd2 handles and jbd2_journal_lock_updates', () => {
  it('a nested handle joins the transaction that lock_updates is draining; new handles wait for the barrier', () => {
    // holder already has a handle (h_ref 1) and nests another start/stop inside it; other starts a fresh handle
    const m = tinyModel({ journal: jbd2JournalRunning({ holder: 1 }) }, {
      holder: handleUser('holder', ['start', 'stop', 'stop']),
      locker: locker(),
      other: handleUser('other', ['start', 'stop']),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const stepper = createReferenceStepper(m);
    // with the barrier up and lock_updates waiting for t_updates, the nested start still proceeds (h_ref 1 -> 2)
    const draining = r.all.filter((s) => where(s).locker === 'drain' && where(s).holder === 'start0');
    expect(draining.length).toBeGreaterThan(0);
    for (const s of draining) {
      expect(stepper.successors(s).some(({ next }) => where(next).holder === 'stop1' && next.context.journal.handles.holder === 2)).toBe(true);
    }
    // t_updates stays 1 while nested: lock_updates returns only after the OUTER stop
    for (const s of r.all.filter((x) => where(x).locker === 'j_barrier' || where(x).locker === 'unlock')) {
      expect(s.context.journal.handles).toEqual({});
    }
    // a fresh jbd2__journal_start with the barrier up waits, and the report names the barrier and who raised it
    const blocked = r.all.find((s) => where(s).other === 'start0' && s.context.journal.barrier.length > 0);
    expect(blocked).toBeDefined();
    expect(stepper.successors(blocked!).some(({ next }) => where(next).other !== 'start0')).toBe(false);
    expect(kernelWaits.jbd2_can_start(blocked!.context, { journal: 'journal', thread: 'other' })).toEqual({
      resource: 'journal barrier', kind: 'jbd2 journal', mode: 'start_this_handle (wait for j_barrier_count == 0)', holders: ['locker'],
    });
  });

  it('a thread named like an Object.prototype member (constructor) starts and stops a handle: handles are own keys', () => {
    // `'constructor' in {}` is true: the handle checks look at own keys only, as current->journal_info is per task
    const m = tinyModel({ journal: jbd2Journal() }, { constructor: handleUser('constructor', ['start', 'stop']) });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    expect(r.all.some((s) => where(s)['constructor'] === 'done')).toBe(true);
    // jbd2__journal_start took the outermost path (h_ref 1), not the nested one on an inherited member
    const started = r.all.filter((s) => where(s)['constructor'] === 'stop1');
    expect(started.length).toBe(1);
    expect(started[0].context.journal.handles).toEqual({ constructor: 1 });
    expect(started[0].context.journal.running).not.toBeNull();
  });

  it('lock_updates while a handle holder waits for the locker deadlocks, and the report names the handle and its holder', () => {
    // holder keeps its handle and waits for the locker's j_barrier mutex: lock_updates waits for the handle
    const m = tinyModel({ journal: jbd2JournalRunning({ holder: 1 }), m: { owner: null } }, {
      holder: straight('holder', [{ guard: { type: 'cond_ne', params: { path: 'journal.barrier.length', value: 0 } } }, { guard: { type: 'cond_eq', params: { path: 'journal.barrier.length', value: 0, by: ['locker'] } } }, jbd2_journal_stop('journal', 'holder')]),
      locker: locker(),
    });
    const r = explore(m);
    expect(r.deadlocks.length).toBe(1);
    expect(where(r.deadlocks[0])).toEqual({ holder: 's1', locker: 'drain' });
    expect(kernelWaits.jbd2_updates_drained(r.deadlocks[0].context, { journal: 'journal', thread: 'locker' })).toEqual({
      resource: 'jbd2_handle (journal transaction 1)', kind: 'jbd2 handle', mode: 'jbd2_journal_wait_updates (t_updates == 0)', holders: ['holder'],
    });
  });

  it('the commit locks the transaction, waits for t_updates == 0, and the next handle opens transaction 2', () => {
    const c = jbd2_journal_commit('journal', 'kjournald');
    const m = tinyModel({ journal: jbd2JournalRunning({ holder: 1 }) }, {
      holder: handleUser('holder', ['start', 'stop', 'stop']),
      kjournald: straight('kjournald', [c.lock, c.drain, c.finish], ['lock', 'drain', 'finish']),
      other: handleUser('other', ['start', 'stop']),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    // nobody holds a handle once the commit detached the transaction from j_running_transaction ...
    for (const s of r.all.filter((x) => where(x).kjournald === 'finish')) expect(s.context.journal.running === null || s.context.journal.running.tid === 2).toBe(true);
    // ... the nested start joined the T_LOCKED transaction, a fresh one waited for it
    expect(r.all.some((s) => s.context.journal.running?.state === 'T_LOCKED' && s.context.journal.handles.holder === 2)).toBe(true);
    const waiting = r.all.find((s) => where(s).other === 'start0' && s.context.journal.running?.state === 'T_LOCKED');
    expect(kernelWaits.jbd2_can_start(waiting!.context, { journal: 'journal', thread: 'other' })).toMatchObject({ holders: ['kjournald'] });
    expect(r.all.some((s) => s.context.journal.handles.other === 1 && s.context.journal.running?.tid === 2)).toBe(true);
    for (const s of r.all.filter((x) => x.status === 'done')) expect(s.context.journal.commitSequence).toBe(1);
  });

  it('an idle journal starts transaction 1 on the first handle; stop without a handle is misuse', () => {
    const r = explore(tinyModel({ journal: jbd2Journal() }, { t: handleUser('t', ['start', 'stop']) }));
    expect(r.all.some((s) => s.context.journal.running?.tid === 1 && s.context.journal.handles.t === 1)).toBe(true);
    expect(() => explore(tinyModel({ journal: jbd2Journal() }, { t: handleUser('t', ['stop']) }))).toThrow(/jbd2_journal_stop without a handle/);
  });
});
