// Local workqueue helper for the xfs-inodegc model (machines/kernel has no workqueue yet): per-CPU work items with
// queue_work / cancel_work_sync / flush_work / flush_workqueue / drain_workqueue semantics of kernel/workqueue.c.
//
// State (plain data at context key `wq`, one entry per work item, i.e. per CPU's struct xfs_inodegc.work):
//   { draining: bool,                       // __WQ_DRAINING, set by drain_workqueue()
//     works: [{ pending, running, canceling, flush }] }
//   pending   = WORK_STRUCT_PENDING: queued, not yet picked up by the worker (process_one_work clears it);
//   running   = the work function is executing on its kworker;
//   canceling = cancel_work_sync() holds the PENDING bit (try_to_grab_pending stole it): queue_work() is a no-op;
//   flush     = completions the (single) flusher still waits for: flush_work() samples it as
//               running + pending (the instances queued before the flush), each finished run decrements it.
// Only one thread (the freezer) ever flushes or cancels in this model, so one counter per item suffices.
import { assign } from 'xstate';
import type { Context, WaitInfo } from '../../explorer/model.ts';

export interface WorkState {
  pending: boolean;
  running: boolean;
  canceling: boolean;
  flush: number;
}
export interface WqState {
  draining: boolean;
  works: WorkState[];
}

export const workqueue = (n: number): WqState => ({
  draining: false,
  works: Array.from({ length: n }, () => ({ pending: false, running: false, canceling: false, flush: 0 })),
});

const setWork = (wq: WqState, i: number, w: WorkState): WqState => ({
  ...wq,
  works: wq.works.map((x, k) => (k === i ? w : x)),
});

/**
 * queue_work_on() / mod_delayed_work_on(..., 0) (kernel/workqueue.c __queue_work): a pending item is not queued
 * twice; an item whose PENDING bit a canceler holds is not queued; on a draining workqueue a queue from outside
 * the workqueue hits WARN_ON_ONCE and the item is DROPPED (the caller's state carries the WARN as an assertion).
 */
export function wqQueue(wq: WqState, i: number): WqState {
  const w = wq.works[i];
  if (w.pending || w.canceling || wq.draining) return wq;
  return setWork(wq, i, { ...w, pending: true });
}

/** process_one_work(): the kworker takes a pending item (clears PENDING) and runs its function. */
export function wqStart(wq: WqState, i: number): WqState {
  const w = wq.works[i];
  return setWork(wq, i, { ...w, pending: false, running: true });
}

/** The work function returned: the instance is complete (wakes flush_work()/flush_workqueue() waiters). */
export function wqFinish(wq: WqState, i: number): WqState {
  const w = wq.works[i];
  return setWork(wq, i, { ...w, running: false, flush: Math.max(0, w.flush - 1) });
}

/** cancel_work_sync() step 1, try_to_grab_pending(): a pending item is removed WITHOUT running; PENDING is held. */
export function wqGrabPending(wq: WqState, i: number): WqState {
  const w = wq.works[i];
  return setWork(wq, i, { ...w, pending: false, canceling: true });
}

/** cancel_work_sync() step 2 done (the running instance finished): PENDING released, queue_work works again. */
export function wqCancelDone(wq: WqState, i: number): WqState {
  const w = wq.works[i];
  return setWork(wq, i, { ...w, canceling: false });
}

/** flush_work(): wait for the instances that exist now (the running one and the pending one). */
export function wqMarkFlush(wq: WqState, i: number): WqState {
  const w = wq.works[i];
  return setWork(wq, i, { ...w, flush: (w.pending ? 1 : 0) + (w.running ? 1 : 0) });
}

/** flush_workqueue(): flush_work() on every item at once (waits for everything queued before the flush). */
export function wqMarkFlushAll(wq: WqState): WqState {
  return { ...wq, works: wq.works.map((w) => ({ ...w, flush: (w.pending ? 1 : 0) + (w.running ? 1 : 0) })) };
}

export const wqIdle = (wq: WqState): boolean => wq.works.every((w) => !w.pending && !w.running);

// Named guards (params { work } = CPU index) and their wait describers, spread into setup() and the model's waits.
type GuardFn = (args: { context: Context }, params: any) => boolean;

export const wqGuards: Record<string, GuardFn> = {
  // the kworker of this item has something to run
  wq_work_pending: ({ context }, p: { work: number }) => context.wq.works[p.work].pending,
  // cancel_work_sync(): __flush_work() on the running instance returned
  wq_work_not_running: ({ context }, p: { work: number }) => !context.wq.works[p.work].running,
  // flush_work(): the instances sampled at the flush have completed
  wq_work_flushed: ({ context }, p: { work: number }) => context.wq.works[p.work].flush === 0,
  // flush_workqueue(): every item's sampled instances have completed
  wq_all_flushed: ({ context }) => context.wq.works.every((w: WorkState) => w.flush === 0),
  // drain_workqueue(): nothing pending or running any more
  wq_drained: ({ context }) => wqIdle(context.wq),
};

const worker = (i: number) => `worker${i}`;

export const wqWaits: Record<string, (context: Context, params: any) => WaitInfo | null> = {
  wq_work_not_running: (ctx, p: { work: number }) =>
    ctx.wq.works[p.work].running
      ? { resource: `inodegc work cpu${p.work}`, kind: 'workqueue', mode: 'cancel_work_sync', holders: [worker(p.work)] }
      : null,
  wq_work_flushed: (ctx, p: { work: number }) =>
    ctx.wq.works[p.work].flush === 0
      ? null
      : { resource: `inodegc work cpu${p.work}`, kind: 'workqueue', mode: 'flush_work', holders: [worker(p.work)] },
  wq_all_flushed: (ctx) => {
    const busy = ctx.wq.works.map((w: WorkState, i: number) => (w.flush > 0 ? worker(i) : null)).filter(Boolean) as string[];
    return busy.length === 0 ? null : { resource: 'm_inodegc_wq', kind: 'workqueue', mode: 'flush_workqueue', holders: busy };
  },
  wq_drained: (ctx) => {
    const busy = ctx.wq.works
      .map((w: WorkState, i: number) => (w.pending || w.running ? worker(i) : null))
      .filter(Boolean) as string[];
    return busy.length === 0 ? null : { resource: 'm_inodegc_wq', kind: 'workqueue', mode: 'drain_workqueue', holders: busy };
  },
};

/** assign() actions over the `wq` slice, params { work }. */
export const wqActions: Record<string, any> = {
  wq_start: assign({ wq: ({ context }, p: { work: number }) => wqStart(context.wq, p.work) }),
  wq_finish: assign({ wq: ({ context }, p: { work: number }) => wqFinish(context.wq, p.work) }),
  wq_queue: assign({ wq: ({ context }, p: { work: number }) => wqQueue(context.wq, p.work) }),
  wq_grab_pending: assign({ wq: ({ context }, p: { work: number }) => wqGrabPending(context.wq, p.work) }),
  wq_cancel_done: assign({ wq: ({ context }, p: { work: number }) => wqCancelDone(context.wq, p.work) }),
  wq_mark_flush: assign({ wq: ({ context }, p: { work: number }) => wqMarkFlush(context.wq, p.work) }),
  wq_mark_flush_all: assign({ wq: ({ context }) => wqMarkFlushAll(context.wq) }),
  wq_drain_begin: assign({ wq: ({ context }) => ({ ...context.wq, draining: true }) }),
  wq_drain_end: assign({ wq: ({ context }) => ({ ...context.wq, draining: false }) }),
};
