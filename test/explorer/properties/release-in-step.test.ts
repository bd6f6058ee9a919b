// Pins the lock-order check's reading of a step that releases a lock and then takes another (explorer/properties/
// lockorder.ts): the step's lock declarations are processed in the order its actions run, and a lock its own thread
// releases earlier in the step (LockEffect.releases: withRelease on the unlocks) is not held for its later
// acquisitions. So [spin_unlock(S), mutex_lock(M)] is no invalid wait context and adds no edge from S; taken the other
// way round ([mutex_lock(M), spin_unlock(S)]) it still is. A release that leaves the lock held (a nested
// rcu_read_unlock, an up_read of a reader that holds it twice) drops nothing.
import { describe, expect, it } from 'vitest';
import { checkModel, instantiate } from '../../../explorer/index.ts';
import { defineModel, type ModelDefinition } from '../../../explorer/model.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import {
  down_read, kernelWaits, mutex, mutexHeld, mutex_lock, mutex_unlock, percpuRwsem, percpu_down_read, percpu_up_read, rcu, rcuReading, rcu_read_lock, rcu_read_unlock, rwsemHeld,
  srcu, srcu_read_lock, srcu_read_unlock,
  spin_lock, spin_unlock, spinlock, up_read, up_write, rwsem, down_write, folio, folio_lock, folio_unlock, btree, btree_node_lock, btree_node_unlock,
  seqcount, write_seqcount_begin, write_seqcount_end,
} from '../../../machines/kernel/index.ts';
import { straight, tinyModel } from '../../machines/kernel/harness.ts';

const model = (create: () => any) =>
  defineModel({ name: 'release-in-step', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, waits: kernelWaits });
// (no deadlock check: a step that takes M while it still holds S, released in the same step, deadlocks against M -> S)
const lockOrder = (m: ModelDefinition) => checkModel({ model: m, check: { lockOrder: true, deadlock: false } });

/** One step: the fragments' actions in order, guarded by the guard of the one that has one (the acquisition). */
const oneStep = (...fragments: any[]) => ({ guard: fragments.find((f) => f.guard)?.guard, actions: fragments.flatMap((f) => f.actions ?? []) });

describe('a release earlier in the same step', () => {
  it('[spin_unlock(S), mutex_lock(M)] is no invalid wait context; [mutex_lock(M), spin_unlock(S)] is, and replays', () => {
    const build = (step: any) =>
      model(() => tinyModel({ s: spinlock(), m: mutex() }, { t0: straight('t0', [spin_lock('s', 't0', 'S'), step, mutex_unlock('m', 't0', 'M')]) }));
    expect(lockOrder(build(oneStep(spin_unlock('s', 't0', 'S'), mutex_lock('m', 't0', 'M')))).verdict).toEqual({ status: 'pass' });
    const m = build(oneStep(mutex_lock('m', 't0', 'M'), spin_unlock('s', 't0', 'S')));
    const r = lockOrder(m);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'S -> M' });
    expect(r.trace!.lockOrder!.kind).toBe('invalid-wait-context');
    expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
  });

  it('adds no edge from the lock released: no cycle S -> M -> S, nor A -> B -> A over two mutexes (mutex_unlock releases)', () => {
    // [context, lock and unlock of the lock held first]
    const cases: Array<[any, (t: string) => any, (t: string) => any]> = [
      [{ s: spinlock(), m: mutex() }, (t) => spin_lock('s', t, 'S'), (t) => spin_unlock('s', t, 'S')],
      [{ s: mutex(), m: mutex() }, (t) => mutex_lock('s', t, 'S'), (t) => mutex_unlock('s', t, 'S')],
    ];
    for (const [ctx, lock, unlock] of cases) {
      const t0 = straight('t0', [lock('t0'), oneStep(unlock('t0'), mutex_lock('m', 't0', 'M')), mutex_unlock('m', 't0', 'M')]);
      const t1 = straight('t1', [mutex_lock('m', 't1', 'M'), lock('t1'), unlock('t1'), mutex_unlock('m', 't1', 'M')]);
      expect(lockOrder(model(() => tinyModel(ctx, { t0, t1 }))).verdict).toEqual({ status: 'pass' });
      // the same two threads with the release after the take: the cycle
      const late = straight('t0', [lock('t0'), oneStep(mutex_lock('m', 't0', 'M'), unlock('t0')), mutex_unlock('m', 't0', 'M')]);
      const r = lockOrder(model(() => tinyModel(ctx, { t0: late, t1 })));
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
    }
  });

  it('the other unlocks release too: up_read, up_write, percpu_up_read, folio_unlock, btree_node_unlock, write_seqcount_end', () => {
    const cases: Array<[any, (t: string) => [any, any]]> = [
      [rwsem(), (t) => [(n: string) => down_read('r', t, n, 'R'), up_read('r', t, 'R')]],
      [rwsem(), (t) => [(n: string) => down_write('r', t, n, 'R'), up_write('r', t, 'R')]],
      [percpuRwsem(), (t) => [percpu_down_read('r', t, 'R'), percpu_up_read('r', t, 'R')]],
      [folio(), (t) => [(n: string) => folio_lock('r', t, n, 'R'), folio_unlock('r', t, 'R')]],
      [btree({ nodes: ['leaf'], threads: ['t0', 't1'] }), (t) => [(n: string) => btree_node_lock('r', t, 'leaf', 'read', n, 'leaf'), btree_node_unlock('r', t, 'leaf')]],
      [seqcount(), (t) => [write_seqcount_begin('r', t, 'R'), write_seqcount_end('r', t, 'R')]],
    ];
    for (const [r, calls] of cases) {
      // R, then (release R, take mutex M), then M released; t1 takes M then R: a cycle only if R were still held
      const [lock0, unlock0] = calls('t0');
      const [lock1, unlock1] = calls('t1');
      const t0 = straight('t0', [lock0, oneStep(unlock0, mutex_lock('m', 't0', 'M')), mutex_unlock('m', 't0', 'M')]);
      const t1 = straight('t1', [mutex_lock('m', 't1', 'M'), lock1, unlock1, mutex_unlock('m', 't1', 'M')]);
      expect(lockOrder(model(() => tinyModel({ r, m: mutex() }, { t0, t1 }))).verdict, JSON.stringify(unlock0)).toEqual({ status: 'pass' });
    }
  });

  it('a release that leaves the lock held drops nothing: a nested rcu_read_unlock, an up_read of a reader holding it twice', () => {
    const rcuStep = (n: number) =>
      model(() => tinyModel({ r: rcuReading({ t0: n }), m: mutex() }, {
        t0: straight('t0', [oneStep(rcu_read_unlock('r', 't0', 'R'), mutex_lock('m', 't0', 'M')), mutex_unlock('m', 't0', 'M'), ...(n > 1 ? [rcu_read_unlock('r', 't0', 'R')] : [])]),
      }));
    expect(lockOrder(rcuStep(1)).verdict).toEqual({ status: 'pass' });
    const nested = rcuStep(2);
    const r = lockOrder(nested);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'R -> M' });
    expect(replayTrace(instantiate(nested, r.params, r.variant), nested, r.trace!, {})).toMatchObject({ status: 'reproduced' });
    // a reader holding R twice (recursive read) still holds it after one up_read: R -> M, and t1's M -> R close the cycle
    const readers = (n: number) =>
      model(() => tinyModel({ r: rwsemHeld({ readers: Array(n).fill('t0') }), m: mutex() }, {
        t0: straight('t0', [oneStep(up_read('r', 't0', 'R'), mutex_lock('m', 't0', 'M')), mutex_unlock('m', 't0', 'M'), ...(n > 1 ? [up_read('r', 't0', 'R')] : [])]),
        t1: straight('t1', [mutex_lock('m', 't1', 'M'), (x: string) => down_read('r', 't1', x, 'R'), up_read('r', 't1', 'R'), mutex_unlock('m', 't1', 'M')]),
      }));
    expect(lockOrder(readers(1)).verdict).toEqual({ status: 'pass' });
    const twice = readers(2);
    const c = lockOrder(twice);
    expect(c.verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
    expect(c.trace!.lockOrder!.kind).toBe('circular');
    expect(replayTrace(instantiate(twice, c.params, c.variant), twice, c.trace!, {})).toMatchObject({ status: 'reproduced' });
  });

  it('a read section opened and closed within the step (rcu_read_lock, rcu_read_unlock, then mutex_lock) is not held for the mutex', () => {
    // rcu_read_lock(); p = rcu_dereference(...); rcu_read_unlock(); mutex_lock(&p->lock): one step; the unlock ends the
    // section the same step opened (the thread was in none before it), as an up_read after a down_read does
    const build = (ctx: any, lock: any, unlock: any) => model(() => tinyModel({ r: ctx, m: mutex() }, { t0: straight('t0', [oneStep(lock, unlock, mutex_lock('m', 't0', 'M')), mutex_unlock('m', 't0', 'M')]) }));
    expect(lockOrder(build(rcu(), rcu_read_lock('r', 't0', 'R'), rcu_read_unlock('r', 't0', 'R'))).verdict).toEqual({ status: 'pass' });
    // an SRCU section (no atomic context) adds no edge R -> M either: t1's M -> R closes no cycle
    const t1 = straight('t1', [mutex_lock('m', 't1', 'M'), srcu_read_lock('r', 't1', 'R'), srcu_read_unlock('r', 't1', 'R'), mutex_unlock('m', 't1', 'M')]);
    const t0 = straight('t0', [oneStep(srcu_read_lock('r', 't0', 'R'), srcu_read_unlock('r', 't0', 'R'), mutex_lock('m', 't0', 'M')), mutex_unlock('m', 't0', 'M')]);
    expect(lockOrder(model(() => tinyModel({ r: srcu(), m: mutex() }, { t0, t1 }))).verdict).toEqual({ status: 'pass' });
  });

  it('a nested read section within the step (inside an outer rcu_read_lock) leaves the outer one held for the mutex', () => {
    // rcu_read_lock(); ... then, in one step: rcu_read_lock(); rcu_read_unlock(); mutex_lock(M): still inside the outer section
    const m = model(() =>
      tinyModel({ r: rcuReading({ t0: 1 }), m: mutex() }, {
        t0: straight('t0', [oneStep(rcu_read_lock('r', 't0', 'R'), rcu_read_unlock('r', 't0', 'R'), mutex_lock('m', 't0', 'M')), mutex_unlock('m', 't0', 'M'), rcu_read_unlock('r', 't0', 'R')]),
      }),
    );
    const r = lockOrder(m);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'R -> M' });
    expect(r.trace!.lockOrder!.kind).toBe('invalid-wait-context');
    expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
  });

  it("a lock held from the initial state is known by its acquisition's name, not by the name an unlock gives it", () => {
    // t0's mutex_unlock names the mutex "m" (no name given), t1's mutex_lock "M": the class is M on both edges
    const m = model(() =>
      tinyModel({ m: mutexHeld('t0'), s: mutex() }, {
        t0: straight('t0', [mutex_lock('s', 't0', 'S'), mutex_unlock('s', 't0', 'S'), mutex_unlock('m', 't0')]),
        t1: straight('t1', [mutex_lock('s', 't1', 'S'), mutex_lock('m', 't1', 'M'), mutex_unlock('m', 't1', 'M'), mutex_unlock('s', 't1', 'S')]),
      }),
    );
    expect(lockOrder(m).verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'M -> S -> M' });
  });
});
