// Pins might_sleep() on the guard-only waits in the lock-order check (explorer/properties/lockorder.ts): a wait whose
// transition runs no action of the primitive (wait_event(cond), schedule(), wait_on_bit finding the bit clear, jbd2's
// drains, btrfs wait_current_trans) carries its might_sleep() point on its GUARD (GuardSleep, `sleepEffect` on the
// guard implementation, withGuardSleep; btrfs wait_current_trans is pinned in might-sleep.test.ts). A taken transition that waits on such a guard (plainly, or in the `or` branch that held; not under a `not`
// nor in another branch of an `or`) is tested against its thread's atomic context: under a spinlock or inside rcu_read_lock() it is "BUG:
// sleeping function called from invalid context", under a mutex or srcu_read_lock() it is not.
import { describe, expect, it } from 'vitest';
import { not, or } from 'xstate';
import { checkModel, instantiate } from '../../../explorer/index.ts';
import { defineModel, type ModelDefinition } from '../../../explorer/model.ts';
import { renderLockOrder } from '../../../explorer/properties/lockorder.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import {
  bitWord, clear_and_wake_up_bit, cond_true, finish_wait, jbd2Journal, jbd2_journal_lock_updates, jbd2_journal_unlock_updates, kernelWaits,
  prepare_to_wait, schedule, spinlock, wait_event, wait_on_bit, waitQueue, wake_up,
} from '../../../machines/kernel/index.ts';
import { straight, tinyModel } from '../../machines/kernel/harness.ts';
import { type Outer, underMutex, underRcu, underSpin, underSrcu } from './atomic-contexts.ts';

const model = (create: () => any) =>
  defineModel({ name: 'guard-sleep', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, waits: kernelWaits });
// (no deadlock check: schedule()'s waker may wake before the sleeper queues, a lost wake-up this check is not about)
const lockOrder = (m: ModelDefinition) => checkModel({ model: m, check: { lockOrder: true, deadlock: false } });


/** The guard-only waits, each made by t0 between `outer`'s lock and unlock, with what they need; `to`: the report's name. */
const waits: Record<string, { ctx: Record<string, any>; steps: any[]; others?: Record<string, any>; to: string }> = {
  // the condition already true at the call: wait_event still calls might_sleep() first
  wait_event: { ctx: { flag: true }, steps: [wait_event(cond_true('flag'))], to: 'flag' },
  schedule: {
    ctx: { q: waitQueue() },
    steps: [prepare_to_wait('q', 't0'), schedule('q', 't0'), finish_wait('q', 't0')],
    others: { t1: straight('t1', [wake_up('q')]) },
    to: 'q',
  },
  wait_on_bit: { ctx: { w: bitWord(['I_NEW']) }, steps: [(n: string) => wait_on_bit('w', 'I_NEW', 't0', n, { name: 'inode' }), clear_and_wake_up_bit('w', 'I_NEW')], to: 'inode[I_NEW]' },
  jbd2_journal_lock_updates: {
    ctx: { j: jbd2Journal() },
    steps: [jbd2_journal_lock_updates('j', 't0').barrier, jbd2_journal_lock_updates('j', 't0').drain, jbd2_journal_lock_updates('j', 't0').mutex, jbd2_journal_unlock_updates('j', 't0')],
    to: 'jbd2_handle',
  },
};

const build = (wait: string, outer: Outer) => {
  const c = waits[wait];
  return model(() => tinyModel({ o: outer.ctx, ...c.ctx }, { t0: straight('t0', [outer.lock('t0'), ...c.steps, outer.unlock('t0')]), ...(c.others ?? {}) }));
};

describe('might_sleep() on a guard-only wait', () => {
  for (const wait of Object.keys(waits)) {
    it(`${wait} under a spinlock is "sleeping function called from invalid context", and replays; under a mutex or srcu_read_lock it is not`, () => {
      const m = build(wait, underSpin);
      const r = lockOrder(m);
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: `S -> ${waits[wait].to}` });
      const lo = r.trace!.lockOrder!;
      expect(lo).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
      expect(lo.edges[0]).toMatchObject({ from: 'S', fromPath: 'o', to: waits[wait].to, thread: 't0' });
      expect(renderLockOrder(lo)).toContain('BUG: sleeping function called from invalid context');
      expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced', reason: expect.stringMatching(/sleeping function called from invalid context/) });
      expect(lockOrder(build(wait, underMutex)).verdict).toEqual({ status: 'pass' });
      expect(lockOrder(build(wait, underSrcu)).verdict).toEqual({ status: 'pass' });
    });
  }

  it('wait_event inside rcu_read_lock() is reported', () => {
    const r = lockOrder(build('wait_event', underRcu));
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'rcu_read_lock -> flag' });
    expect(r.trace!.lockOrder).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
  });

  it('a wait guard under not(...) or in an or(...) is not a sleep: the transition does not wait on it', () => {
    const flag = wait_event(cond_true('flag')).guard;
    for (const guard of [not(flag), or([flag, ({ context }: any) => context.other])]) {
      const m = model(() =>
        tinyModel({ o: spinlock(), flag: false, other: true }, { t0: straight('t0', [underSpin.lock('t0'), { guard }, underSpin.unlock('t0')]) }),
      );
      expect(lockOrder(m).verdict).toEqual({ status: 'pass' });
    }
    // the same guard used plainly is one
    const m = model(() => tinyModel({ o: spinlock(), flag: true }, { t0: straight('t0', [underSpin.lock('t0'), { guard: flag }, underSpin.unlock('t0')]) }));
    expect(lockOrder(m).verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'S -> flag' });
  });

  it('in an or(...), the branch that held is what the transition waited on: wait_event(a || b) as or([wait_event(a), wait_event(b)]) sleeps', () => {
    const a = wait_event(cond_true('a')).guard;
    const b = wait_event(cond_true('b')).guard;
    const build = (guard: any, ctx: Record<string, boolean>) =>
      model(() => tinyModel({ o: spinlock(), ...ctx }, { t0: straight('t0', [underSpin.lock('t0'), { guard }, underSpin.unlock('t0')]) }));
    // whichever of a, b holds (the first that does is the one XState's `or` stopped at), t0 waited in wait_event under S
    expect(lockOrder(build(or([a, b]), { a: false, b: true })).verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'S -> b' });
    expect(lockOrder(build(or([a, b]), { a: true, b: true })).verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'S -> a' });
    // a branch that is no wait holding first: no sleep, though a later branch's wait would hold too
    expect(lockOrder(build(or([({ context }: any) => context.a, b]), { a: true, b: true })).verdict).toEqual({ status: 'pass' });
    // under a not, an or's branches are never waited on
    expect(lockOrder(build(not(or([a, b])), { a: false, b: false })).verdict).toEqual({ status: 'pass' });
  });

  it('a condition guard used as a branch (cond_true without wait_event) is no sleep', () => {
    const m = model(() =>
      tinyModel({ o: spinlock(), flag: true }, {
        t0: straight('t0', [underSpin.lock('t0'), [{ guard: cond_true('flag'), target: 's2' }, { target: 's2' }], underSpin.unlock('t0')]),
      }),
    );
    expect(lockOrder(m).verdict).toEqual({ status: 'pass' });
  });

  it('the wait_event guard keeps its wait report (a deadlock names what it waits for)', () => {
    const m = model(() => tinyModel({ flag: false }, { t0: straight('t0', [wait_event(cond_true('flag', { name: 'ready', by: ['t1'] }))]), t1: straight('t1', []) }));
    const r = checkModel({ model: m });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(JSON.stringify(r.trace!.deadlock)).toContain('wait_event(flag)');
  });
});
