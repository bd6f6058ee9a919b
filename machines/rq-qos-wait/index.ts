// rq-qos: rq_qos_wait() sleeps on rqw->wait as an EXCLUSIVE waiter and is woken one at a time: the completion's
// wake_up() runs rq_qos_wake_function() on the first waiter only, which takes an inflight slot on the waiter's
// behalf (got_token) or, when none is free, stops the wake-up walk (return -1). A waiter that sees other sleepers
// therefore does not try for a slot itself: it trusts the one ahead of it to be woken first. Before the fix it
// decided "I am not alone" with !wq_has_single_sleeper() AFTER prepare_to_wait_exclusive(), a separate read: two
// waiters that both failed the fast path, then both queued after the last inflight IO completed (its wake_up found
// an empty queue), each see two sleepers, neither tries for the now free slot, and both sleep with nothing in
// flight to wake them: a lost wake-up (deadlock).
//
// Source: commit 11c7aa0ddea8 "rq-qos: fix missed wake-ups in rq_qos_throttle try two" (Jan Kara, v5.14, Cc
// stable; Fixes: 545fbd0775ba "rq-qos: fix missed wake-ups in rq_qos_throttle", which had added the
// wq_has_single_sleeper() re-check). Its CPU1 (waiter1) / CPU2 (waiter2) / CPU3 (waker) diagram is the trace. Fix:
// prepare_to_wait_exclusive() returns whether the queue was empty when it queued the entry (read under
// wq_head->lock, kernel/sched/wait.c), and has_sleeper = !that: exactly the first waiter to enter the queue
// re-checks for a slot before sleeping, which guarantees progress.
// Kernel code mirrored (block/blk-rq-qos.c, v5.13 and 11c7aa0ddea8): rq_qos_wait (the fast path
// wq_has_sleeper/acquire_inflight_cb, prepare_to_wait_exclusive, the has_sleeper computation, the do/while loop:
// got_token, !has_sleeper && acquire_inflight_cb -> finish_wait + cleanup_cb if we raced with the waker,
// io_schedule), rq_qos_wake_function (acquire on the waiter's behalf, got_token, list_del_init, wake_up_process;
// -1 when no slot). The rq_qos user is blk-iolatency (block/blk-iolatency.c): iolat_acquire_inflight =
// rq_wait_inc_below(rqw, max_depth); the completion blkcg_iolatency_done_bio and iolat_cleanup_cb do
// atomic_dec(&rqw->inflight); wake_up(&rqw->wait) (nr_exclusive 1: __wake_up_common stops after the first
// exclusive entry whose wake function returned > 0, or at one that returned < 0). Wait queue:
// machines/kernel/waitqueue.ts (prepare_to_wait_exclusive at the tail, wake_up waking the first exclusive waiter).
// Not modelled: blk-wbt's wbt_rqw_done (wake_up_all, with the same -1 stop: identical for max_depth 1), the
// memory barriers (smp_wmb/smp_rmb, set_current_state: every step here is sequentially consistent), the
// blkcg hierarchy walk, use_delay/blkcg_schedule_throttle, spurious wake-ups.
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import { finish_wait, kernelActions, kernelGuards, kernelWaits, prepare_to_wait_exclusive, schedule, waitQueue, wake_up, oneEvent } from '../kernel/index.ts';

const WQ = 'rqw_wait';

/** The threads: the waiters calling rq_qos_wait(), and one completing IO per inflight slot (all slots taken). */
function threadNames(params: Record<string, any>) {
  const waiters = Array.from({ length: params.waiters as number }, (_, i) => `waiter${i + 1}`);
  const wakers = params.depth === 1 ? ['waker'] : Array.from({ length: params.depth as number }, (_, i) => `waker${i + 1}`);
  return { waiters, wakers };
}

export default defineModel({
  name: 'rq-qos-wait',
  description:
    'rq-qos: rq_qos_wait() computes has_sleeper with !wq_has_single_sleeper() after prepare_to_wait_exclusive(); two waiters that queue after the last completion both see a sleeper and sleep: lost wake-up with wake-one waiters (11c7aa0ddea8)',
  source:
    'commit 11c7aa0ddea8 (rq-qos: fix missed wake-ups in rq_qos_throttle try two, v5.14; Fixes 545fbd0775ba); block/blk-rq-qos.c rq_qos_wait / rq_qos_wake_function; block/blk-iolatency.c iolat_acquire_inflight / blkcg_iolatency_done_bio',
  params: {
    depth: { default: 1, description: 'max_depth: inflight slots (rq_wait_inc_below limit), all taken by IOs in flight at the start', min: 1, max: 3 },
    waiters: { default: 2, description: 'tasks throttled in rq_qos_wait()', min: 1, max: 4 },
  },
  variants: {
    'single-sleeper': {
      description: 'after 545fbd0775ba, before 11c7aa0ddea8: prepare_to_wait_exclusive(); has_sleeper = !wq_has_single_sleeper(&rqw->wait)',
    },
    fixed: { description: '11c7aa0ddea8: has_sleeper = !prepare_to_wait_exclusive() (false only for the waiter that found the queue empty)' },
  },
  defaultVariant: 'single-sleeper',
  create({ params, variant }) {
    const depth = params.depth as number;
    const { waiters, wakers } = threadNames(params);
    const by = (t: string) => [...wakers, ...waiters.filter((w) => w !== t)];
    // wake_up(&rqw->wait) -> __wake_up_common -> rq_qos_wake_function() on the first (exclusive) entry:
    // acquire_inflight_cb() for it, got_token = true, list_del_init (the primitive's wake_up removes exactly
    // that first exclusive waiter); no slot: return -1, the walk stops, nobody is woken; empty queue: nothing.
    const wakeUp = (t: string, target: string) => ({
      on: {
        [`${t}.wake_up`]: [
          { guard: { type: 'first_waiter_gets_slot' }, actions: [{ type: 'grant_token' }, ...wake_up(WQ).actions!], target },
          { target },
        ],
      },
    });
    // the bio's completion: blkcg_iolatency_done_bio(): atomic_dec(&rqw->inflight); wake_up(&rqw->wait);
    const complete = (t: string, first: string, final: string) => ({
      [first]: oneEvent(t, 'atomic_dec_inflight', { actions: [{ type: 'dec_inflight' }], target: `${first}_wake` }),
      [`${first}_wake`]: wakeUp(t, final),
    });
    const waker = (t: string) => ({
      initial: 'done_bio',
      states: { ...complete(t, 'done_bio', 'completed'), completed: { type: 'final' as const } },
    });
    const acquire = (t: string) => ({ type: 'acquire_inflight', params: { thread: t } });
    const waiter = (t: string) => ({
      initial: 'has_sleeper',
      states: {
        // has_sleeper = wq_has_sleeper(&rqw->wait);
        has_sleeper: oneEvent(t, 'wq_has_sleeper', { actions: [{ type: 'read_has_sleeper', params: { thread: t } }], target: 'fast_path' }),
        // if (!has_sleeper && acquire_inflight_cb(rqw, private_data)) return;
        fast_path: {
          on: {
            [`${t}.acquire_inflight_cb`]: [
              { guard: { type: 'may_acquire', params: { thread: t } }, actions: [acquire(t)], target: 'issued' },
              { target: 'prepare' },
            ],
          },
        },
        ...(variant === 'fixed'
          ? {
              // has_sleeper = !prepare_to_wait_exclusive(&rqw->wait, &data.wq, TASK_UNINTERRUPTIBLE);
              // (was_empty = list_empty(&wq_head->head) before __add_wait_queue_entry_tail, under wq_head->lock)
              prepare: oneEvent(t, 'prepare_to_wait_exclusive', {
                actions: [{ type: 'set_has_sleeper_queued', params: { thread: t } }, ...prepare_to_wait_exclusive(WQ, t).actions!],
                target: 'got_token',
              }),
            }
          : {
              // prepare_to_wait_exclusive(&rqw->wait, &data.wq, TASK_UNINTERRUPTIBLE);
              prepare: oneEvent(t, 'prepare_to_wait_exclusive', { ...prepare_to_wait_exclusive(WQ, t), target: 'single_sleeper' }),
              // has_sleeper = !wq_has_single_sleeper(&rqw->wait);  (list_is_singular: a separate, later read)
              single_sleeper: oneEvent(t, 'wq_has_single_sleeper', { actions: [{ type: 'read_single_sleeper', params: { thread: t } }], target: 'got_token' }),
            }),
        // do { if (data.got_token) break; ... } -> finish_wait(&rqw->wait, &data.wq);
        got_token: {
          on: {
            [`${t}.got_token`]: [
              { guard: { type: 'has_token', params: { thread: t } }, ...finish_wait(WQ, t), target: 'issued' },
              { target: 'try_acquire' },
            ],
          },
        },
        // if (!has_sleeper && acquire_inflight_cb(rqw, private_data)) { finish_wait(...); ... }
        try_acquire: {
          on: {
            [`${t}.acquire_inflight_cb`]: [
              { guard: { type: 'may_acquire', params: { thread: t } }, actions: [acquire(t)], target: 'finish_raced' },
              { target: 'io_schedule' },
            ],
          },
        },
        // finish_wait(&rqw->wait, &data.wq); smp_rmb(); if (data.got_token) cleanup_cb(rqw, private_data); break;
        // (off the queue, no wake function can grant a token any more: the read after finish_wait is final)
        finish_raced: {
          on: {
            [`${t}.finish_wait`]: [
              { guard: { type: 'has_token', params: { thread: t } }, ...finish_wait(WQ, t), target: 'cleanup' },
              { ...finish_wait(WQ, t), target: 'issued' },
            ],
          },
        },
        // we raced with rq_qos_wake_function() and hold two slots: iolat_cleanup_cb() puts one back and wakes
        ...complete(t, 'cleanup', 'issued'),
        // io_schedule(); has_sleeper = true; set_current_state(TASK_UNINTERRUPTIBLE);  (loop)
        io_schedule: oneEvent(t, 'io_schedule', {
          ...schedule(WQ, t, { name: 'rqw->wait', by: by(t) }),
          actions: [{ type: 'set_has_sleeper', params: { thread: t } }],
          target: 'got_token',
        }),
        // rq_qos_throttle() returned: the bio is submitted, holding an inflight slot, and completes later
        ...complete(t, 'issued', 'completed'),
        completed: { type: 'final' as const },
      },
    });
    const threads = Object.fromEntries([...waiters.map((t) => [t, waiter(t)]), ...wakers.map((t) => [t, waker(t)])]);
    const per = (v: any) => Object.fromEntries(waiters.map((t) => [t, v]));
    const setLocal = (field: string, value: (ctx: any, t: string) => boolean) =>
      assign(({ context }: any, p: { thread: string }) => ({ [field]: { ...context[field], [p.thread]: value(context, p.thread) } }));
    const queued = (ctx: any) => ctx[WQ].waiters.length + (ctx[WQ].exclusive?.length ?? 0);
    return setup({
      guards: {
        ...kernelGuards,
        // acquire_inflight_cb (iolat_acquire_inflight): rq_wait_inc_below(rqw, max_depth), after !has_sleeper
        may_acquire: ({ context }: any, p: { thread: string }) => !context.has_sleeper[p.thread] && context.inflight < depth,
        has_token: ({ context }: any, p: { thread: string }) => context.got_token[p.thread],
        // rq_qos_wake_function() on the first exclusive entry: its acquire_inflight_cb succeeds
        first_waiter_gets_slot: ({ context }: any) => (context[WQ].exclusive?.length ?? 0) > 0 && context.inflight < depth,
      } as any,
      actions: {
        ...kernelActions,
        acquire_inflight: assign({ inflight: ({ context }: any) => context.inflight + 1 }),
        dec_inflight: assign({ inflight: ({ context }: any) => context.inflight - 1 }),
        // data->got_token = true for the first exclusive waiter (it takes the slot: rq_wait_inc_below)
        grant_token: assign(({ context }: any) => ({
          inflight: context.inflight + 1,
          got_token: { ...context.got_token, [context[WQ].exclusive[0]]: true },
        })),
        read_has_sleeper: setLocal('has_sleeper', (ctx) => queued(ctx) > 0),
        read_single_sleeper: setLocal('has_sleeper', (ctx) => queued(ctx) !== 1),
        set_has_sleeper_queued: setLocal('has_sleeper', (ctx) => queued(ctx) > 0),
        set_has_sleeper: setLocal('has_sleeper', () => true),
      } as any,
    }).createMachine({
      id: 'rq-qos-wait',
      type: 'parallel',
      // every slot is taken by an IO in flight; each waiter's local has_sleeper and its wait entry's got_token
      context: { inflight: depth, [WQ]: waitQueue(), has_sleeper: per(false), got_token: per(false) },
      states: threads as any,
    });
  },
  invariantsFor: ({ params }) => ({
    // rq_wait_inc_below() never lets inflight exceed max_depth; every atomic_dec puts back a slot taken
    inflightWithinDepth: (ctx: Context) => ctx.inflight >= 0 && ctx.inflight <= (params.depth as number),
  }),
  // Footprints of this model's own steps, for --reduce por (explorer/reduce/declare.ts); the wait-queue
  // primitives carry theirs.
  footprints: {
    may_acquire: { reads: ['has_sleeper.{thread}', 'inflight'] },
    has_token: { reads: ['got_token.{thread}'] },
    first_waiter_gets_slot: { reads: [`${WQ}.exclusive`, 'inflight'] },
    acquire_inflight: { writes: ['inflight'] },
    dec_inflight: { writes: ['inflight'] },
    grant_token: { reads: [`${WQ}.exclusive`], writes: ['inflight', 'got_token'] },
    read_has_sleeper: { reads: [`${WQ}.waiters`, `${WQ}.exclusive`], writes: ['has_sleeper.{thread}'] },
    read_single_sleeper: { reads: [`${WQ}.waiters`, `${WQ}.exclusive`], writes: ['has_sleeper.{thread}'] },
    set_has_sleeper_queued: { reads: [`${WQ}.waiters`, `${WQ}.exclusive`], writes: ['has_sleeper.{thread}'] },
    set_has_sleeper: { writes: ['has_sleeper.{thread}'] },
  },
  propertyFootprints: { inflightWithinDepth: { context: ['inflight'] } },
  watch: {
    inflight: (ctx: Context) => ctx.inflight,
  },
  waits: kernelWaits,
});
