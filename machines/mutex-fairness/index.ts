// Mutex fairness, the starvation demo: a barging mutex lets its releaser re-acquire before the waiter runs
// (the waiter starves); a handoff mutex gives the lock to the first waiter (nobody starves); the kernel's own
// mutex steals too, but bounds it with MUTEX_FLAG_HANDOFF (nobody starves).
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import { handoffMutex, kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_lock_handoff, mutex_unlock } from '../kernel/index.ts';

/**
 * `n` tasks loop forever: mutex_lock(&m); critical section; mutex_unlock(&m).
 *
 * Variant `barging` uses the kernel mutex of machines/kernel (owner only): mutex_lock proceeds whenever
 * the mutex is free, so a task that unlocks can take it again before a sleeping waiter runs (the
 * optimistic-spin / lock-stealing behaviour that MUTEX_FLAG_HANDOFF exists to bound).
 *
 * Variant `handoff` is a strict FIFO mutex (local helper below; machines/kernel's handoffMutex, variant
 * `kernel`, is the kernel's, which lets a newcomer steal): a task that finds the mutex held or contended
 * queues itself; mutex_unlock gives ownership straight to the first waiter (__mutex_handoff), so a waiter is
 * served before the releaser can come back.
 *
 * Variant `kernel` is mutex_lock() as kernel/locking/mutex.c runs it (machines/kernel handoffMutex +
 * mutex_lock_handoff): a task may steal the free mutex past the waiters, but the first waiter that finds it
 * stolen sets MUTEX_FLAG_HANDOFF (__mutex_trylock_or_handoff) and the next mutex_unlock gives it the mutex.
 */
type Fifo = { owner: string | null; waiters: string[] };

export default defineModel({
  name: 'mutex-fairness',
  description: 'Tasks looping on one mutex: barging lets a task re-acquire forever and starve the other; FIFO handoff does not',
  params: {
    n: { default: 2, description: 'number of tasks', min: 2, max: 4 },
  },
  variants: {
    barging: { description: 'mutex_lock takes the mutex whenever it is free: the releaser can always re-acquire first' },
    handoff: { description: 'FIFO mutex: mutex_unlock hands the mutex to the first waiter' },
    kernel: { description: "the kernel's mutex: stealing while MUTEX_FLAG_HANDOFF is clear, which the first waiter sets" },
  },
  defaultVariant: 'barging',
  create({ params, variant }) {
    const n = Number(params.n);
    const threads: Record<string, any> = {};
    for (let i = 0; i < n; i++) {
      const t = `task${i}`;
      if (variant === 'kernel') {
        threads[t] = {
          initial: 'lock',
          states: {
            // mutex_lock(&m): __mutex_lock_common, queued until first in line and the mutex is free or handed over
            lock: { on: { [`${t}.mutex_lock`]: mutex_lock_handoff('m', t, 'critical') } },
            critical: { on: { [`${t}.mutex_unlock`]: { ...mutex_unlock('m', t), target: 'lock' } } },
          },
        };
      } else if (variant === 'barging') {
        threads[t] = {
          initial: 'lock',
          states: {
            // mutex_lock(&m): sleeps (disabled) while the mutex is held
            lock: { on: { [`${t}.mutex_lock`]: { ...mutex_lock('m', t), target: 'critical' } } },
            critical: { on: { [`${t}.mutex_unlock`]: { ...mutex_unlock('m', t), target: 'lock' } } },
          },
        };
      } else {
        threads[t] = {
          initial: 'lock',
          states: {
            // mutex_lock(&m): fast path when free and nobody waits, else queue (__mutex_add_waiter)
            lock: {
              on: {
                [`${t}.mutex_lock`]: [
                  { guard: { type: 'fifo_free', params: { thread: t } }, actions: { type: 'fifo_take', params: { thread: t } }, target: 'critical' },
                  { actions: { type: 'fifo_queue', params: { thread: t } }, target: 'wait' },
                ],
              },
            },
            // schedule() until __mutex_handoff made us the owner
            wait: { on: { [`${t}.wake`]: { guard: { type: 'fifo_owner', params: { thread: t } }, target: 'critical' } } },
            critical: { on: { [`${t}.mutex_unlock`]: { actions: { type: 'fifo_unlock', params: { thread: t } }, target: 'lock' } } },
          },
        };
      }
    }
    type P = { thread: string };
    return setup({
      guards: {
        ...(kernelGuards as any),
        fifo_free: ({ context }: { context: Context }) => context.f.owner === null && context.f.waiters.length === 0,
        fifo_owner: ({ context }: { context: Context }, p: P) => context.f.owner === p.thread,
      },
      actions: {
        ...(kernelActions as any),
        fifo_take: assign({ f: ({ context }: { context: Context }, p: P): Fifo => ({ ...context.f, owner: p.thread }) }),
        fifo_queue: assign({ f: ({ context }: { context: Context }, p: P): Fifo => ({ ...context.f, waiters: [...context.f.waiters, p.thread] }) }),
        // mutex_unlock -> __mutex_handoff(lock, first waiter) or plain release
        fifo_unlock: assign({
          f: ({ context }: { context: Context }): Fifo => ({ owner: context.f.waiters[0] ?? null, waiters: context.f.waiters.slice(1) }),
        }),
      },
    }).createMachine({
      id: 'mutex-fairness',
      type: 'parallel',
      context: variant === 'barging' ? { m: mutex() } : variant === 'kernel' ? { m: handoffMutex() } : { f: { owner: null, waiters: [] } as Fifo },
      states: threads,
    });
  },
  waits: {
    ...kernelWaits,
    fifo_owner: (ctx: Context, p: { thread: string }) =>
      ctx.f.owner === p.thread ? null : { resource: 'm', kind: 'mutex', mode: 'handoff', holders: ctx.f.owner ? [ctx.f.owner] : [] },
  },
});
