// fscache: a volume acquisition that collides with a volume still being relinquished sets
// FSCACHE_VOLUME_ACQUIRE_PENDING on its candidate and waits for it to clear with wait_var_event(&candidate->flags,
// ...), while the relinquishing side clears the bit and calls wake_up_bit(&cursor->flags, ...). The two wake
// different hashed wait queues (__var_waitqueue(var) vs bit_waitqueue(word, bit); var_wake_function only accepts a
// key with bit_nr == -1, wake_bit_function one with that bit), so the wake-up never reaches the waiter: once the first
// wait_var_event_timeout() has run out (20 s, e.g. an on-demand erofs fd closed late), the following wait_var_event()
// sleeps forever (the commit's hung mount in fscache_wait_on_volume_collision).
//
// Source: commit 8226e37d82f4 "fscache: Use wait_on_bit() to wait for the freeing of relinquished volume" (Hou Tao,
// v6.2-rc7; Fixes: 62ab63352350 "fscache: Implement volume registration", v5.17). Fix: wait_on_bit_timeout() and
// wait_on_bit() on the bit, and clear_and_wake_up_bit() (the barrier before waitqueue_active()).
// Kernel code mirrored (fs/fscache/volume.c, v6.1), state by state:
//   acquire.hash_lock/lookup/hash_unlock   fscache_hash_volume(): hlist_bl_lock(h); a hashed same-key volume with
//                                          FSCACHE_VOLUME_RELINQUISHED: set_bit(FSCACHE_VOLUME_ACQUIRE_PENDING,
//                                          &candidate->flags); hlist_bl_add_head(candidate); hlist_bl_unlock(h)
//   acquire.timed_wait(_recheck, _sleep)   fscache_wait_on_volume_collision(): (buggy) wait_var_event_timeout(...,
//                                          20 * HZ), ___wait_var_event's loop spelled out (varWait below), whose
//                                          sleep may run out (timed_out); (fixed) wait_on_bit_timeout()
//   acquire.check                          if (fscache_is_acquire_pending(candidate)) { pr_notice(...);
//   acquire.wait(_recheck, _sleep)         (buggy) wait_var_event(&candidate->flags, !pending): the same loop, untimed;
//                                          (fixed) wait_on_bit(&candidate->flags, FSCACHE_VOLUME_ACQUIRE_PENDING, ...)
//   relinquish.hash_lock/unhash            fscache_unhash_volume() (from fscache_free_volume()): hlist_bl_lock(h);
//                                          hlist_bl_del_init(&volume->hash_link); fscache_wake_pending_volume():
//   relinquish.clear/wake                  (buggy) clear_bit(FSCACHE_VOLUME_ACQUIRE_PENDING, &cursor->flags);
//                                          wake_up_bit(&cursor->flags, FSCACHE_VOLUME_ACQUIRE_PENDING)
//   relinquish.clear                       (fixed) clear_and_wake_up_bit(FSCACHE_VOLUME_ACQUIRE_PENDING, &cursor->flags)
//   relinquish.hash_unlock                 hlist_bl_unlock(h)
// The timeout is not timed: it may run out at any point of the sleep (the commit's "delayed longer than 20 seconds").
// Not modelled: the volume refcounts and the cache backend's free_volume,
// fscache_volume_same()'s key comparison (one key), memory ordering (the missing smp_mb__after_atomic the fix also
// adds is not a bug the model can show). The interleave primitives have no wait_var_event/wake_up_var: modelling
// the buggy wait as wait_event(test_bit_clear(...)) would pass (wait_event is "sleep until the condition", woken by
// anyone), so the var queue is an explicit waitQueue() that nothing wakes.
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import {
  bitIsSet, bitWord, clear_and_wake_up_bit, clear_bit, finish_wait, kernelActions, kernelGuards, kernelWaits, oneEvent, prepare_to_wait, schedule,
  set_bit, spin_lock, spin_unlock, spinlock, test_bit, test_bit_clear, wait_on_bit, wait_on_bit_timeout, waitQueue, wake_up_bit,
} from '../kernel/index.ts';

const FLAGS = 'candidate.flags';
const PENDING = 'FSCACHE_VOLUME_ACQUIRE_PENDING';
const H = 'volume_hash_lock';
const VAR_WQ = 'var_waitqueue';

export default defineModel({
  name: 'fscache-volume-collision',
  description: 'fscache: a colliding volume acquisition waits with wait_var_event() for FSCACHE_VOLUME_ACQUIRE_PENDING, the relinquish wakes it with wake_up_bit(): another wait queue, a hang (8226e37d82f4)',
  source: 'commit 8226e37d82f4 (fscache: Use wait_on_bit() to wait for the freeing of relinquished volume, v6.2); fs/fscache/volume.c v6.1',
  params: {},
  variants: {
    'wait-var-event': { description: 'before 8226e37d82f4: wait_var_event(&candidate->flags, ...) against clear_bit + wake_up_bit(&cursor->flags, ...)' },
    fixed: { description: '8226e37d82f4: wait_on_bit(&candidate->flags, FSCACHE_VOLUME_ACQUIRE_PENDING) against clear_and_wake_up_bit()' },
  },
  defaultVariant: 'wait-var-event',
  create({ variant }) {
    const fixed = variant === 'fixed';
    const a = 'acquire';
    const r = 'relinquish';
    /**
     * wait_var_event(&candidate->flags, !pending) from state `at` (states at, at_recheck, at_sleep), to `done`; with
     * `timedOut`, wait_var_event_timeout(): its sleep may also run out (finish_wait, to `timedOut`). ___wait_var_event:
     * prepare_to_wait_event(__var_waitqueue(var)); if (condition) break; schedule(); ... finish_wait().
     */
    const varWait = (at: string, done: string, timedOut?: string) => ({
      [at]: oneEvent(a, `${at}.prepare_to_wait_event`, { ...prepare_to_wait(VAR_WQ, a), target: `${at}_recheck` }),
      [`${at}_recheck`]: {
        on: {
          [`${a}.${at}.condition_true`]: { guard: test_bit_clear(FLAGS, PENDING), ...finish_wait(VAR_WQ, a), target: done },
          [`${a}.${at}.condition_false`]: { guard: test_bit(FLAGS, PENDING), target: `${at}_sleep` },
        },
      },
      // schedule() / schedule_timeout(): until a wake_up_var(&candidate->flags) takes it off the var queue, then loop
      [`${at}_sleep`]: {
        on: {
          [`${a}.${at}.schedule`]: { ...schedule(VAR_WQ, a, { name: '__var_waitqueue(&candidate->flags)', by: [r] }), target: at },
          ...(timedOut ? { [`${a}.${at}.timed_out`]: { ...finish_wait(VAR_WQ, a), target: timedOut } } : {}),
        },
      },
    });
    const acquire = {
      initial: 'hash_lock',
      states: {
        // fscache_hash_volume(): hlist_bl_lock(h)
        hash_lock: oneEvent(a, 'hlist_bl_lock', { ...spin_lock(H, a, 'volume hash bucket'), target: 'lookup' }),
        lookup: {
          on: {
            // the relinquished volume is still hashed: set_bit(FSCACHE_VOLUME_ACQUIRE_PENDING); hlist_bl_add_head()
            [`${a}.collide`]: { guard: { type: 'old_hashed' }, actions: [...set_bit(FLAGS, PENDING, a).actions!, { type: 'hash_candidate' }], target: 'hash_unlock' },
            // no collision: hlist_bl_add_head()
            [`${a}.no_collision`]: { guard: { type: 'old_unhashed' }, actions: [{ type: 'hash_candidate' }], target: 'hash_unlock' },
          },
        },
        // hlist_bl_unlock(h); if (collision) fscache_wait_on_volume_collision(): the local `collision` is the bit,
        // which nobody else changes while the bucket lock is held
        hash_unlock: {
          on: {
            [`${a}.hlist_bl_unlock`]: { guard: test_bit(FLAGS, PENDING), ...spin_unlock(H, a, 'volume hash bucket'), target: 'timed_wait' },
            [`${a}.hlist_bl_unlock_no_collision`]: { guard: test_bit_clear(FLAGS, PENDING), ...spin_unlock(H, a, 'volume hash bucket'), target: 'acquired' },
          },
        },
        // fixed: wait_on_bit_timeout(&candidate->flags, FSCACHE_VOLUME_ACQUIRE_PENDING, TASK_UNINTERRUPTIBLE, 20 * HZ);
        // the result is not used: either way on to the check
        ...(fixed
          ? { timed_wait: { on: { [`${a}.wait_on_bit_timeout`]: wait_on_bit_timeout(FLAGS, PENDING, a, 'check', 'check', { name: 'candidate->flags', by: [r] }) } } }
          : varWait('timed_wait', 'check', 'check')),
        // if (fscache_is_acquire_pending(candidate))
        check: {
          on: {
            [`${a}.acquire_pending`]: { guard: test_bit(FLAGS, PENDING), target: 'wait' },
            [`${a}.not_pending`]: { guard: test_bit_clear(FLAGS, PENDING), target: 'acquired' },
          },
        },
        ...(fixed
          ? {
              // wait_on_bit(&candidate->flags, FSCACHE_VOLUME_ACQUIRE_PENDING, TASK_UNINTERRUPTIBLE)
              wait: { on: { [`${a}.wait_on_bit`]: wait_on_bit(FLAGS, PENDING, a, 'acquired', { name: 'candidate->flags', by: [r] }) } },
            }
          : // wait_var_event(&candidate->flags, !fscache_is_acquire_pending(candidate))
            varWait('wait', 'acquired')),
        // __fscache_acquire_volume() goes on with the candidate (the cache's acquire_volume)
        acquired: { type: 'final' as const, meta: { assert: 'notPending' } },
      },
    };
    const relinquish = {
      initial: 'hash_lock',
      states: {
        // fscache_unhash_volume(): hlist_bl_lock(h)
        hash_lock: oneEvent(r, 'hlist_bl_lock', { ...spin_lock(H, r, 'volume hash bucket'), target: 'unhash' }),
        unhash: {
          on: {
            // hlist_bl_del_init(&volume->hash_link); fscache_wake_pending_volume(): the candidate is on the chain
            [`${r}.wake_pending`]: { guard: { type: 'candidate_hashed' }, actions: [{ type: 'unhash_old' }], target: 'clear' },
            [`${r}.no_pending`]: { guard: { type: 'candidate_unhashed' }, actions: [{ type: 'unhash_old' }], target: 'hash_unlock' },
          },
        },
        ...(fixed
          ? {
              // clear_and_wake_up_bit(FSCACHE_VOLUME_ACQUIRE_PENDING, &cursor->flags)
              clear: oneEvent(r, 'clear_and_wake_up_bit', { ...clear_and_wake_up_bit(FLAGS, PENDING), target: 'hash_unlock' }),
            }
          : {
              // clear_bit(FSCACHE_VOLUME_ACQUIRE_PENDING, &cursor->flags)
              clear: oneEvent(r, 'clear_bit', { ...clear_bit(FLAGS, PENDING), target: 'wake' }),
              // wake_up_bit(&cursor->flags, FSCACHE_VOLUME_ACQUIRE_PENDING): the bit's queue, not the var's
              wake: oneEvent(r, 'wake_up_bit', { ...wake_up_bit(FLAGS, PENDING), target: 'hash_unlock' }),
            }),
        // hlist_bl_unlock(h)
        hash_unlock: oneEvent(r, 'hlist_bl_unlock', { ...spin_unlock(H, r, 'volume hash bucket'), target: 'freed' }),
        freed: { type: 'final' as const },
      },
    };
    return setup({
      guards: {
        ...kernelGuards,
        old_hashed: ({ context }: any) => context.hashed.old,
        old_unhashed: ({ context }: any) => !context.hashed.old,
        candidate_hashed: ({ context }: any) => context.hashed.candidate,
        candidate_unhashed: ({ context }: any) => !context.hashed.candidate,
      } as any,
      actions: {
        ...kernelActions,
        hash_candidate: assign({ hashed: ({ context }: any) => ({ ...context.hashed, candidate: true }) }),
        unhash_old: assign({ hashed: ({ context }: any) => ({ ...context.hashed, old: false }) }),
      } as any,
    }).createMachine({
      id: 'fscache-volume-collision',
      type: 'parallel',
      // the old volume (same key) is relinquished but still hashed; the candidate is not hashed yet
      context: {
        hashed: { old: true, candidate: false },
        candidate: { flags: bitWord([PENDING]) },
        [H]: spinlock(),
        [VAR_WQ]: waitQueue(),
      },
      states: { acquire, relinquish } as any,
    });
  },
  assertions: {
    // the acquisition goes on only once the old volume is gone
    notPending: (ctx: Context) => !bitIsSet(ctx, FLAGS, PENDING) && !ctx.hashed.old,
  },
  waits: kernelWaits,
});
