// jbd2: jbd2_journal_lock_updates() checked t_updates BEFORE prepare_to_wait(); jbd2_journal_stop() had stopped
// taking t_handle_lock around the decrement (atomic t_updates), so the last handle's wake_up(&j_wait_updates) can
// fall between the check and prepare_to_wait(): nobody is on the queue, the locker then sleeps forever (a lost
// wake-up). Seen as chattr +j/-j hanging in jbd2_journal_lock_updates().
//
// Source: commit 9837d8e982b7 "jbd2: fix hung processes in jbd2_journal_lock_updates()" (Jan Kara, v3.3; reported
// and analysed by Toshiyuki Okajima): its race diagram is the trace. Fix: prepare_to_wait() first, then check
// t_updates (finish_wait() and break when it is 0). The race came with a51dca9cd3bb "jbd2: use atomic variables to
// avoid taking t_handle_lock in jbd2_journal_stop" (v2.6.39).
// Kernel code mirrored (fs/jbd2/transaction.c, v3.2): jbd2_journal_lock_updates (write_lock(&j_state_lock),
// ++j_barrier_count, the wait loop under t_handle_lock), jbd2_journal_stop (if (atomic_dec_and_test(&t_updates))
// wake_up(&j_wait_updates)). kernel/sched/wait.c prepare_to_wait / finish_wait (machines/kernel/waitqueue.ts).
// Not modelled: j_state_lock (the stopping handle does not take it on this path), the j_barrier mutex taken after the
// loop, j_wait_transaction_locked. machines/kernel/jbd2.ts models lock_updates' drain as one guarded step (no
// wake-up protocol): this model spells the wait out with the wait-queue primitives instead.
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import {
  cond_eq, cond_ne, finish_wait, kernelActions, kernelGuards, kernelWaits, prepare_to_wait, schedule, spin_lock, spin_unlock, spinlock, waitQueue, wake_up,
  oneEvent,
} from '../kernel/index.ts';

const WQ = 'j_wait_updates';
const TL = 't_handle_lock';

export default defineModel({
  name: 'jbd2-lock-updates-wakeup',
  description: 'jbd2: jbd2_journal_lock_updates() checks t_updates before prepare_to_wait(); the last jbd2_journal_stop() wakes an empty queue in between: lost wake-up (9837d8e982b7)',
  source: 'commit 9837d8e982b7 (jbd2: fix hung processes in jbd2_journal_lock_updates(), v3.3); fs/jbd2/transaction.c v3.2',
  params: {},
  variants: {
    'check-first': { description: 'before 9837d8e982b7: if (!atomic_read(&t_updates)) break; prepare_to_wait(...)' },
    fixed: { description: '9837d8e982b7: prepare_to_wait(...); if (!atomic_read(&t_updates)) { finish_wait(); break; }' },
  },
  defaultVariant: 'check-first',
  create({ variant }) {
    const l = 'locker';
    const lockedDone = { ...spin_unlock(TL, l), target: 'barrier_locked' };
    const locker = {
      initial: 'barrier_count',
      states: {
        // write_lock(&journal->j_state_lock); ++journal->j_barrier_count;
        barrier_count: oneEvent(l, 'inc_barrier_count', { actions: [{ type: 'inc_barrier' }], target: 'loop' }),
        // while (1) { spin_lock(&transaction->t_handle_lock);
        loop: oneEvent(l, 'spin_lock', { ...spin_lock(TL, l), target: variant === 'fixed' ? 'prepare' : 'check' }),
        ...(variant === 'fixed'
          ? {
              // prepare_to_wait(&journal->j_wait_updates, &wait, TASK_UNINTERRUPTIBLE);
              prepare: oneEvent(l, 'prepare_to_wait', { ...prepare_to_wait(WQ, l), target: 'check' }),
              // if (!atomic_read(&t_updates)) { spin_unlock(); finish_wait(); break; }  spin_unlock(); write_unlock();
              check: {
                on: {
                  [`${l}.t_updates_zero`]: { guard: cond_eq('t_updates', 0), actions: [...spin_unlock(TL, l).actions!, ...finish_wait(WQ, l).actions!], target: 'barrier_locked' },
                  [`${l}.t_updates_busy`]: { guard: cond_ne('t_updates', 0), actions: spin_unlock(TL, l).actions, target: 'sleep' },
                },
              },
            }
          : {
              // if (!atomic_read(&t_updates)) { spin_unlock(); break; }
              check: {
                on: {
                  [`${l}.t_updates_zero`]: { guard: cond_eq('t_updates', 0), ...lockedDone },
                  [`${l}.t_updates_busy`]: { guard: cond_ne('t_updates', 0), target: 'prepare' },
                },
              },
              // prepare_to_wait(&journal->j_wait_updates, &wait, TASK_UNINTERRUPTIBLE); spin_unlock(); write_unlock();
              prepare: oneEvent(l, 'prepare_to_wait', { actions: [...prepare_to_wait(WQ, l).actions!, ...spin_unlock(TL, l).actions!], target: 'sleep' }),
            }),
        // schedule(); finish_wait(&journal->j_wait_updates, &wait); write_lock(&journal->j_state_lock); } (loop)
        sleep: oneEvent(l, 'schedule', { ...schedule(WQ, l, { name: 'j_wait_updates', by: ['handle'] }), actions: finish_wait(WQ, l).actions, target: 'loop' }),
        // write_unlock(&journal->j_state_lock); mutex_lock(&journal->j_barrier): no update runs any more
        barrier_locked: { type: 'final' as const, meta: { assert: 'noRunningUpdates' } },
      },
    };
    const h = 'handle';
    const handle = {
      initial: 'stop',
      states: {
        // jbd2_journal_stop(): if (atomic_dec_and_test(&transaction->t_updates))
        stop: oneEvent(h, 'atomic_dec_and_test', { actions: [{ type: 'dec_updates' }], target: 'wake' }),
        //   wake_up(&journal->j_wait_updates);
        wake: oneEvent(h, 'wake_up', { ...wake_up(WQ), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    return setup({
      guards: { ...kernelGuards } as any,
      actions: {
        ...kernelActions,
        inc_barrier: assign({ j_barrier_count: ({ context }: any) => context.j_barrier_count + 1 }),
        dec_updates: assign({ t_updates: ({ context }: any) => context.t_updates - 1 }),
      } as any,
    }).createMachine({
      id: 'jbd2-lock-updates-wakeup',
      type: 'parallel',
      // one handle of the running transaction is open (t_updates == 1)
      context: { t_updates: 1, j_barrier_count: 0, t_handle_lock: spinlock(), j_wait_updates: waitQueue() },
      states: { locker, handle } as any,
    });
  },
  assertions: {
    // jbd2_journal_lock_updates() returns with no handle running (J_ASSERT in the callers' expectations)
    noRunningUpdates: (ctx: Context) => ctx.t_updates === 0,
  },
  waits: kernelWaits,
});
