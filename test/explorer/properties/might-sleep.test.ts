// Pins the kernel's might_sleep() check in the lock-order check (explorer/properties/lockorder.ts): a call that may
// sleep made in atomic context (holding a spinlock, inside rcu_read_lock()) is "BUG: sleeping function called from
// invalid context" (CONFIG_DEBUG_ATOMIC_SLEEP) even where lockdep's "Invalid wait context" says nothing: a lock
// lockdep gives no wait type (a percpu rwsem, LD_WAIT_INV: LockEffect.mightSleep) or a call lockdep does not track
// at all (down() on a struct semaphore, wait_on_bit_lock, wait_for_completion: LockAcquisition.sleepOnly). It is
// the finding lockOrder.kind 'invalid-wait-context' with lockOrder.mightSleep set; a sleepOnly call records no edge.
import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { checkModel, instantiate } from '../../../explorer/index.ts';
import { defineModel, type ModelDefinition } from '../../../explorer/model.ts';
import { renderLockOrder } from '../../../explorer/properties/lockorder.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import {
  btrfsStartTransactionStates, btrfsTrans, btrfs_end_transaction, btree, btree_node_lock, btree_node_unlock, folio, folio_lock, folio_unlock, jbd2Journal,
  jbd2_journal_start, jbd2_journal_stop, bitWord, clear_and_wake_up_bit, complete, completion, down, down_trylock, flush_work, kernelWaits, mutex, mutex_lock, mutex_unlock, percpuRwsem,
  percpu_down_read, percpu_up_read, rcu, sb_end_write, sb_start_write, sbWriters, semaphore, spin_lock,
  spin_unlock, spinlock, synchronize_rcu, up, wait_for_completion, wait_on_bit_lock, workqueue,
} from '../../../machines/kernel/index.ts';
import { straight, tinyModel } from '../../machines/kernel/harness.ts';
import { type Outer, underMutex, underRcu, underSpin, underSrcu } from './atomic-contexts.ts';

const model = (create: () => any) =>
  defineModel({ name: 'might-sleep', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, waits: kernelWaits });
const lockOrder = (m: ModelDefinition) => checkModel({ model: m, check: { lockOrder: true } });


/**
 * The sleeping calls, each made by t0 between `outer`'s lock and unlock (steps, as straight() takes them), with what
 * they need in the context and any helper thread; `to` is the report's name of the call's resource.
 */
const calls: Record<string, { ctx: Record<string, any>; steps: any[]; others?: Record<string, any>; to: string }> = {
  sb_start_write: { ctx: { s_writers: sbWriters() }, steps: [sb_start_write('s_writers', 't0'), sb_end_write('s_writers', 't0')], to: 'sb_writers' },
  percpu_down_read: { ctx: { p: percpuRwsem() }, steps: [percpu_down_read('p', 't0', 'P'), percpu_up_read('p', 't0', 'P')], to: 'P' },
  down: { ctx: { sem: semaphore(1) }, steps: [(n: string) => down('sem', 't0', n, { name: 'b_sema' }), up('sem', 't0', { name: 'b_sema' })], to: 'b_sema' },
  wait_on_bit_lock: {
    ctx: { w: bitWord(['BH_Lock']) },
    steps: [(n: string) => wait_on_bit_lock('w', 'BH_Lock', 't0', n, { name: 'bh' }), clear_and_wake_up_bit('w', 'BH_Lock')],
    to: 'bh[BH_Lock]',
  },
  wait_for_completion: {
    ctx: { c: completion() },
    steps: [wait_for_completion('c', 't0', { name: 'done' })],
    others: { t1: straight('t1', [complete('c')]) },
    to: 'done',
  },
  synchronize_rcu: { ctx: { r: rcu() }, steps: [(n: string) => synchronize_rcu('r', 't0', n, 'RCU')], to: 'RCU' },
  flush_work: {
    ctx: { wq: workqueue(['w']) },
    steps: [flush_work('wq', 'w', 't0').begin, flush_work('wq', 'w', 't0').wait],
    to: '(work_completion)w',
  },
};

/** The other sleeping calls the kernel primitives declare: a folio lock, a six lock (read), a jbd2 handle start. */
const more: typeof calls = {
  folio_lock: { ctx: { f: folio() }, steps: [(n: string) => folio_lock('f', 't0', n, 'folio 0'), folio_unlock('f', 't0', 'folio 0')], to: 'folio 0' },
  btree_node_lock: {
    ctx: { bt: btree({ nodes: ['leaf'], threads: ['t0'] }) },
    steps: [(n: string) => btree_node_lock('bt', 't0', 'leaf', 'read', n, 'leaf'), btree_node_unlock('bt', 't0', 'leaf')],
    to: 'bt node leaf',
  },
  jbd2_journal_start: { ctx: { j: jbd2Journal() }, steps: [(n: string) => jbd2_journal_start('j', 't0', n), jbd2_journal_stop('j', 't0')], to: 'jbd2_handle' },
};

const build = (call: string, outer: Outer) => {
  const c = calls[call] ?? more[call];
  return model(() => tinyModel({ o: outer.ctx, ...c.ctx }, { t0: straight('t0', [outer.lock('t0'), ...c.steps, outer.unlock('t0')]), ...(c.others ?? {}) }));
};

describe('might_sleep(): a sleeping call in atomic context', () => {
  for (const call of Object.keys(calls)) {
    it(`${call} under a spinlock is "sleeping function called from invalid context"; under a mutex or srcu_read_lock it is not`, () => {
      const m = build(call, underSpin);
      // no deadlock: it is the context that is wrong, not the order
      expect(checkModel({ model: m }).verdict.status).toBe('pass');
      const r = lockOrder(m);
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: `S -> ${calls[call].to}` });
      expect(r.verdict.message).toMatch(/^sleeping function called from invalid context \(t0 may sleep/);
      const lo = r.trace!.lockOrder!;
      expect(lo).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
      expect(lo.edges).toHaveLength(1);
      expect(lo.edges[0]).toMatchObject({ from: 'S', fromPath: 'o', to: calls[call].to, thread: 't0' });
      const text = renderLockOrder(lo);
      expect(text).toContain('BUG: sleeping function called from invalid context');
      expect(text).not.toContain('BUG: Invalid wait context');
      expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced', reason: expect.stringMatching(/sleeping function called from invalid context/) });
      expect(lockOrder(build(call, underMutex)).verdict).toEqual({ status: 'pass' });
      expect(lockOrder(build(call, underSrcu)).verdict).toEqual({ status: 'pass' });
    });
  }

  for (const call of Object.keys(more)) {
    it(`${call} under a spinlock is reported, under a mutex not`, () => {
      const r = lockOrder(build(call, underSpin));
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: `S -> ${more[call].to}` });
      expect(r.trace!.lockOrder).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
      expect(lockOrder(build(call, underMutex)).verdict).toEqual({ status: 'pass' });
    });
  }

  it("btrfs start_transaction under a spinlock is reported (the join step; TRANS_START's wait_current_trans before it, a guard's), under a mutex not", () => {
    const build = (outer: Outer, type: 'TRANS_JOIN' | 'TRANS_START' = 'TRANS_JOIN') => {
      const f = btrfsStartTransactionStates({ thread: 't0', type, next: 'end' });
      const step = (name: string, tr: any, target: string) => ({ on: { [`t0.${name}`]: { ...tr, target } } });
      const t0 = {
        initial: 'lock',
        states: {
          lock: step('lock', outer.lock('t0'), f.initial),
          ...f.states,
          end: step('end', btrfs_end_transaction('trans', 't0', type), 'unlock'),
          unlock: step('unlock', outer.unlock('t0'), 'done'),
          done: { type: 'final' },
        },
      };
      return model(() => tinyModel({ o: outer.ctx, trans: btrfsTrans() }, { t0 }));
    };
    const r = lockOrder(build(underSpin));
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'S -> transaction' });
    expect(r.trace!.lockOrder).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
    expect(lockOrder(build(underMutex)).verdict).toEqual({ status: 'pass' });
    // TRANS_START: wait_current_trans (a guard only: GuardSleep, guard-sleep.test.ts) is the step reported
    const start = lockOrder(build(underSpin, 'TRANS_START'));
    expect(start.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'S -> transaction' });
    expect(start.trace!.steps.map((s) => s.event)).toEqual(['t0.lock', 't0.start_transaction_wait_current_trans']);
    expect(lockOrder(build(underMutex, 'TRANS_START')).verdict).toEqual({ status: 'pass' });
  });

  it('inside rcu_read_lock() too (down() on a semaphore), and the trace file is one the schema takes', () => {
    const r = lockOrder(build('down', underRcu));
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'rcu_read_lock -> b_sema' });
    expect(r.trace!.lockOrder).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
    const schema = JSON.parse(readFileSync(new URL('../../../schemas/trace.schema.json', import.meta.url), 'utf8'));
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect(validate(JSON.parse(JSON.stringify(r.trace))), JSON.stringify(validate.errors)).toBe(true);
  });

  it("lockdep's own case keeps its text and no mightSleep flag: a mutex under a spinlock", () => {
    const m = model(() => tinyModel({ s: spinlock(), m: mutex() }, { t0: straight('t0', [spin_lock('s', 't0', 'S'), mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), spin_unlock('s', 't0', 'S')]) }));
    const lo = lockOrder(m).trace!.lockOrder!;
    expect(lo.kind).toBe('invalid-wait-context');
    expect(lo.mightSleep).toBeUndefined();
    expect(renderLockOrder(lo)).toContain('BUG: Invalid wait context');
  });

  it('a trylock never sleeps: down_trylock under a spinlock is not reported', () => {
    const m = model(() =>
      tinyModel({ o: spinlock(), sem: semaphore(1) }, {
        t0: straight('t0', [spin_lock('o', 't0', 'S'), down_trylock('sem', 't0', { ok: 's2', fail: 's3' }), up('sem', 't0'), spin_unlock('o', 't0', 'S')]),
      }),
    );
    expect(lockOrder(m).verdict).toEqual({ status: 'pass' });
  });

  it('a sleepOnly call is no lock: an ABBA of two semaphores records no edge and passes the lock-order check (a deadlock finds it)', () => {
    const abba = (t: string, a: string, b: string) => straight(t, [(n: string) => down(a, t, n), (n: string) => down(b, t, n), up(b, t), up(a, t)]);
    const m = model(() => tinyModel({ a: semaphore(1), b: semaphore(1) }, { t0: abba('t0', 'a', 'b'), t1: abba('t1', 'b', 'a') }));
    expect(checkModel({ model: m, check: { lockOrder: true, deadlock: false } }).verdict).toEqual({ status: 'pass' });
    expect(checkModel({ model: m }).verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    // nor does a semaphore held make the locks taken under it depend on it: M under a semaphore, the semaphore under M
    const m2 = model(() =>
      tinyModel({ a: semaphore(1), m: mutex() }, {
        t0: straight('t0', [(n: string) => down('a', 't0', n), mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), up('a', 't0')]),
        t1: straight('t1', [mutex_lock('m', 't1', 'M'), (n: string) => down('a', 't1', n), up('a', 't1'), mutex_unlock('m', 't1', 'M')]),
      }),
    );
    expect(checkModel({ model: m2, check: { lockOrder: true, deadlock: false } }).verdict).toEqual({ status: 'pass' });
  });

  it('replay: a tampered trace does not reproduce (another fromPath; the mightSleep flag dropped or added)', () => {
    const m = build('down', underSpin);
    const r = lockOrder(m);
    const space = instantiate(m, r.params, r.variant);
    const t = r.trace!;
    const lo = t.lockOrder!;
    const other = { ...t, lockOrder: { ...lo, edges: [{ ...lo.edges[0], fromPath: 'sem' }] } };
    expect(replayTrace(space, m, other, {})).toMatchObject({ status: 'not-reproduced' });
    const { mightSleep: _, ...lockdep } = lo;
    expect(replayTrace(space, m, { ...t, lockOrder: lockdep }, {})).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/might_sleep/) });
    // a sleepOnly call ends no lock-order edge: the same edge, claimed as the first of a cycle S -> b_sema -> S, fails at edge #0
    const e0 = lo.edges[0];
    const cycle = { kind: 'circular' as const, edges: [e0, { ...e0, from: 'b_sema', to: 'S', fromPath: 'sem', toPath: 'o' }] };
    expect(replayTrace(space, m, { ...t, lockOrder: cycle }, {})).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/^edge #0 S -> b_sema: step 2: the last step \(t0\.s1\) does not acquire b_sema/) });
    // and lockdep's own case with the flag added
    const m2 = model(() => tinyModel({ s: spinlock(), m: mutex() }, { t0: straight('t0', [spin_lock('s', 't0', 'S'), mutex_lock('m', 't0', 'M'), mutex_unlock('m', 't0', 'M'), spin_unlock('s', 't0', 'S')]) }));
    const r2 = lockOrder(m2);
    const flagged = { ...r2.trace!, lockOrder: { ...r2.trace!.lockOrder!, mightSleep: true as const } };
    expect(replayTrace(instantiate(m2, r2.params, r2.variant), m2, flagged, {})).toMatchObject({ status: 'not-reproduced' });
  });
});
