// Pins the lock-order check (explorer/properties/lockorder.ts): inversions that never overlap, recursive
// reads with no writer modelled, lock classes, trylocks, and that each reported edge's trace replays.
import { describe, expect, it } from 'vitest';
import { checkModel, instantiate } from '../../../explorer/index.ts';
import { defineModel, type ModelDefinition } from '../../../explorer/model.ts';
import { renderLockOrder } from '../../../explorer/properties/lockorder.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import {
  cancel_work_sync, complete, completion, down_read, flush_work, flush_workqueue, kernelWaits, kworker_idle, mutex, mutex_lock, mutex_trylock,
  mutex_unlock, queue_work, rwsem, up_read, wait_for_completion, worker_done, workqueue,
} from '../../../machines/kernel/index.ts';
import { straight, tinyModel } from '../../machines/kernel/harness.ts';

const model = (create: () => any, extra: Partial<ModelDefinition> = {}) =>
  defineModel({ name: 'lockorder', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, waits: kernelWaits, ...extra });

/** t0 takes A then B and completes `done`; t1 waits for `done`, then takes `first` then `second`: they never overlap. */
const sequenced = (first: 'a' | 'b', second: 'a' | 'b') => () =>
  tinyModel({ a: mutex(), b: mutex(), done: completion() }, {
    t0: straight('t0', [mutex_lock('a', 't0', 'A'), mutex_lock('b', 't0', 'B'), mutex_unlock('b', 't0', 'B'), mutex_unlock('a', 't0', 'A'), complete('done')]),
    t1: straight('t1', [
      wait_for_completion('done', 't1'),
      mutex_lock(first, 't1', first.toUpperCase()),
      mutex_lock(second, 't1', second.toUpperCase()),
      mutex_unlock(second, 't1', second.toUpperCase()),
      mutex_unlock(first, 't1', first.toUpperCase()),
    ]),
  });

const replays = (m: ModelDefinition, r: ReturnType<typeof checkModel>) => replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {});

describe('lock-order checking', () => {
  it('reports an A -> B / B -> A inversion that a completion keeps from ever overlapping; each edge replays', () => {
    const m = model(sequenced('b', 'a'));
    // no deadlock is reachable
    expect(checkModel({ model: m }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model: m, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'A -> B -> A' });
    expect(r.verdict.message).toBe('possible circular locking dependency: A -> B -> A');
    const lo = r.trace!.lockOrder!;
    expect(lo.kind).toBe('circular');
    expect(lo.edges.map((x) => `${x.thread}: ${x.from} -> ${x.to}`)).toEqual(['t0: A -> B', 't1: B -> A']);
    // the trace's own steps are the first edge's
    expect(r.trace!.steps.map((s) => s.event)).toEqual(lo.edges[0].events);
    expect(lo.edges[1].events.at(-1)).toBe('t1.s2');
    expect(replays(m, r)).toMatchObject({ status: 'reproduced' });
    const text = renderLockOrder(lo);
    expect(text).toContain('WARNING: possible circular locking dependency detected');
    expect(text).toContain('lock(A);');
    expect(text).toContain('*** DEADLOCK ***');
  });

  it('a tampered edge does not replay', () => {
    const m = model(sequenced('b', 'a'));
    const r = checkModel({ model: m, check: { lockOrder: true } });
    const bad = structuredClone(r.trace!);
    bad.lockOrder!.edges[1].events = bad.lockOrder!.edges[1].events.slice(0, -1);
    expect(replays(m, { ...r, trace: bad })).toMatchObject({ status: 'not-reproduced' });
  });

  it("reports lockdep's chain, not a shortcut through an outer lock: X -> Y -> Z -> X, not X -> Z -> X", () => {
    // t0 nests X, Y, Z; t1 (after t0 is done) takes Z then X. Every lock t0 holds gets an edge to Z, so X -> Z is
    // in the graph, but lockdep records only Y -> Z (check_prevs_add stops at the most recent non-trylock held
    // lock: X -> Z is implied through Y) and reports the chain X -> Y -> Z (nilfs2 c1ea985c710f's splat has the
    // same shape: ns_mount_mutex -> s_umount -> ns_segctor_sem)
    const m = model(() =>
      tinyModel({ x: mutex(), y: mutex(), z: mutex(), done: completion() }, {
        t0: straight('t0', [mutex_lock('x', 't0', 'X'), mutex_lock('y', 't0', 'Y'), mutex_lock('z', 't0', 'Z'), mutex_unlock('z', 't0', 'Z'), mutex_unlock('y', 't0', 'Y'), mutex_unlock('x', 't0', 'X'), complete('done')]),
        t1: straight('t1', [wait_for_completion('done', 't1'), mutex_lock('z', 't1', 'Z'), mutex_lock('x', 't1', 'X'), mutex_unlock('x', 't1', 'X'), mutex_unlock('z', 't1', 'Z')]),
      }),
    );
    const r = checkModel({ model: m, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'X -> Y -> Z -> X' });
    expect(r.trace!.lockOrder!.edges.map((x) => `${x.thread}: ${x.from} -> ${x.to}`)).toEqual(['t0: X -> Y', 't0: Y -> Z', 't1: Z -> X']);
    expect(replays(m, r)).toMatchObject({ status: 'reproduced' });
    // the scenario has one CPU per thread, as lockdep's two: t0 nests X and Y and waits for Z, not two CPUs of one t0
    const text = renderLockOrder(r.trace!.lockOrder!);
    const table = text.slice(text.indexOf('  CPU0'), text.indexOf('*** DEADLOCK ***')).trimEnd().split('\n');
    expect(table).toEqual([
      '  CPU0                    CPU1',
      '  ----                    ----',
      '  lock(X);',
      '  lock(Y);',
      '                          lock(Z);',
      '                          lock(X);',
      '  lock(Z);',
    ]);
    expect(text).toContain('CPU0: t0, edges #0-#1; CPU1: t1, edge #2');
  });

  it('passes the consistently ordered variant', () => {
    expect(checkModel({ model: model(sequenced('a', 'b')), check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });

  it('reports a recursive read of an rwsem with no writer modelled (rlock)', () => {
    const m = model(() =>
      tinyModel({ sem: rwsem() }, {
        r: straight('r', [(n: string) => down_read('sem', 'r', n, 'sem'), (n: string) => down_read('sem', 'r', n, 'sem'), up_read('sem', 'r'), up_read('sem', 'r')]),
      }),
    );
    expect(checkModel({ model: m }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model: m, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'sem -> sem', message: 'possible recursive locking: sem -> sem' });
    expect(r.trace!.lockOrder!.edges[0]).toMatchObject({ fromMode: 'read', toMode: 'read', thread: 'r' });
    expect(replays(m, r)).toMatchObject({ status: 'reproduced' });
    const text = renderLockOrder(r.trace!.lockOrder!);
    expect(text).toContain('WARNING: possible recursive locking detected');
    expect(text).toContain('rlock(sem);\n  rlock(sem);');
  });

  it('a trylock adds no dependency into the lock it tries; lock classes merge instances', () => {
    // t0: A then trylock B; t1: B then A -> only B -> A is an edge: no cycle
    const tryB = model(() =>
      tinyModel({ a: mutex(), b: mutex() }, {
        t0: { initial: 's0', states: {
          s0: { on: { 't0.s0': { ...mutex_lock('a', 't0', 'A'), target: 's1' } } },
          s1: { on: { 't0.s1': mutex_trylock('b', 't0', { ok: 's2', fail: 's3' }, 'B') } },
          s2: { on: { 't0.s2': { ...mutex_unlock('b', 't0', 'B'), target: 's3' } } },
          s3: { on: { 't0.s3': { ...mutex_unlock('a', 't0', 'A'), target: 'done' } } },
          done: { type: 'final' },
        } },
        t1: straight('t1', [mutex_lock('b', 't1', 'B'), mutex_lock('a', 't1', 'A'), mutex_unlock('a', 't1', 'A'), mutex_unlock('b', 't1', 'B')]),
      }),
    );
    expect(checkModel({ model: tryB, check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    // two inodes' i_rwsem taken nested in one thread: one class, so lockdep's "recursive locking"
    const nested = (lockClass?: ModelDefinition['lockClass']) =>
      model(() => tinyModel({ i0: rwsem(), i1: rwsem() }, {
        t: straight('t', [(n: string) => down_read('i0', 't', n, 'inode0.i_rwsem'), (n: string) => down_read('i1', 't', n, 'inode1.i_rwsem'), up_read('i1', 't'), up_read('i0', 't')]),
      }), lockClass ? { lockClass } : {});
    expect(checkModel({ model: nested(), check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    const merged = checkModel({ model: nested(({ name }) => name.replace(/^inode\d+\./, '')), check: { lockOrder: true } });
    expect(merged.verdict).toMatchObject({ kind: 'lock-order', name: 'i_rwsem -> i_rwsem' });
  });

  it('work items are locks, as lockdep has them: "hold L, cancel_work_sync(W)" against "W takes L", even when they never overlap', () => {
    // the worker runs W, which takes L and completes `done`; the canceler waits for `done`, then (under L, or
    // not) cancel_work_sync(W): W has stopped taking L by then, so no deadlock is reachable
    const build = (underL: boolean) => () => {
      const cancel = cancel_work_sync('wq', 'W', 'canceler');
      const lockL = mutex_lock('l', 'canceler', 'L');
      const unlockL = mutex_unlock('l', 'canceler', 'L');
      return tinyModel({ wq: workqueue(['W']), l: mutex(), done: completion() }, {
        canceler: straight('canceler', [
          queue_work('wq', 'W', 'canceler'),
          wait_for_completion('done', 'canceler'),
          ...(underL ? [lockL, cancel.grab, cancel.wait, unlockL] : [cancel.grab, cancel.wait, lockL, unlockL]),
        ]),
        worker: {
          initial: 'idle',
          states: {
            idle: kworker_idle({ wq: 'wq', worker: 'worker', event: 'worker.start', next: 'lock' }),
            lock: { on: { 'worker.lock': { ...mutex_lock('l', 'worker', 'L'), target: 'unlock' } } },
            unlock: { on: { 'worker.unlock': { actions: [...mutex_unlock('l', 'worker', 'L').actions!, ...complete('done').actions!], target: 'end' } } },
            end: { on: { 'worker.end': { ...worker_done('wq', 'worker'), target: 'idle' } } },
          },
        },
      });
    };
    const bad = model(build(true));
    expect(checkModel({ model: bad }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model: bad, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: '(work_completion)W -> L -> (work_completion)W' });
    const lo = r.trace!.lockOrder!;
    expect(lo.edges.map((x) => `${x.thread}: ${x.from} -> ${x.to}`)).toEqual(['worker: (work_completion)W -> L', 'canceler: L -> (work_completion)W']);
    expect(lo.edges[1].events.at(-1)).toBe('canceler.s3');
    expect(replays(bad, r)).toMatchObject({ status: 'reproduced' });
    expect(renderLockOrder(lo)).toContain('lock((work_completion)W);');
    // cancel_work_sync outside L: only W -> L (and the workqueue's map -> W, L): consistent
    expect(checkModel({ model: model(build(false)), check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });

  it('flush_work from the work item itself is recursive locking; flush_workqueue under a lock the work takes is a cycle', () => {
    const self = model(() => {
      const flush = flush_work('wq', 'W', 'worker');
      return tinyModel({ wq: workqueue(['W']) }, {
        q: straight('q', [queue_work('wq', 'W', 'q')]),
        worker: {
          initial: 'idle',
          states: {
            idle: kworker_idle({ wq: 'wq', worker: 'worker', event: 'worker.start', next: 'flush' }),
            flush: { on: { 'worker.flush': { ...flush.begin, target: 'end' } } },
            end: { on: { 'worker.end': { ...worker_done('wq', 'worker'), target: 'idle' } } },
          },
        },
      });
    });
    const r = checkModel({ model: self, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ kind: 'lock-order', name: '(work_completion)W -> (work_completion)W', message: 'possible recursive locking: (work_completion)W -> (work_completion)W' });
    expect(replays(self, r)).toMatchObject({ status: 'reproduced' });
    const wqCycle = model(() => {
      const flush = flush_workqueue('wq', 'f');
      return tinyModel({ wq: workqueue(['W']), l: mutex() }, {
        f: straight('f', [queue_work('wq', 'W', 'f'), mutex_lock('l', 'f', 'L'), flush.begin, mutex_unlock('l', 'f', 'L')]),
        worker: {
          initial: 'idle',
          states: {
            idle: kworker_idle({ wq: 'wq', worker: 'worker', event: 'worker.start', next: 'lock' }),
            lock: { on: { 'worker.lock': { ...mutex_lock('l', 'worker', 'L'), target: 'unlock' } } },
            unlock: { on: { 'worker.unlock': { actions: [...mutex_unlock('l', 'worker', 'L').actions!, ...worker_done('wq', 'worker').actions!], target: 'idle' } } },
          },
        },
      });
    });
    const c = checkModel({ model: wqCycle, check: { lockOrder: true } });
    // lockdep's own chain: the worker's L is recorded from (work_completion)W, the most recent of its two maps
    // ("Chain exists of: (wq_completion)wq --> (work_completion)W --> L")
    expect(c.verdict).toMatchObject({ kind: 'lock-order', name: '(wq_completion)wq -> (work_completion)W -> L -> (wq_completion)wq' });
    expect(replays(wqCycle, c)).toMatchObject({ status: 'reproduced' });
  });
});
