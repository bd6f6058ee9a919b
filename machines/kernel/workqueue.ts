// Workqueues (kernel/workqueue.c): queue_work/mod_delayed_work, workers, cancel_work_sync, flush_work, flush/drain_workqueue.
//
// State at a context path (e.g. "wq"), built by workqueue(['gc0', 'gc1']) with the names of its work items:
//   { pending: string[]                    items with WORK_STRUCT_PENDING, FIFO (worklist order)
//     running: { [item]: worker | null }   the kworker (a model thread) executing the item's function
//     canceling: string[]                  items whose PENDING bit cancel_work_sync() holds (queueing is a no-op)
//     flushers: { [thread]: string[] }     per flushing thread, the item instances it still waits for
//     draining: bool                       __WQ_DRAINING (drain_workqueue)
//     droppedWhileDraining: bool }         a queue_work from outside the workqueue hit WARN_ON_ONCE while
//                                          draining and the item was DROPPED; assert on it in the model
// Semantics:
// - queue_work / mod_delayed_work (untimed: the delay is any interleaving): no-op when the item is already
//   pending or being canceled; while draining, only "chained" work (queued by a thread currently running an
//   item of this workqueue) is accepted, anything else sets droppedWhileDraining and is dropped.
// - A worker takes the first pending item that is not running elsewhere (non-reentrant) and clears PENDING,
//   so the item can be queued again while it runs. `wq_worker_done` ends the run.
// - flush_work(item) waits for the instances existing now: the running one and the pending one (1 or 2
//   completions of that item); flush_workqueue waits for every instance pending or running now. Each
//   finished run (or a cancel that removed a pending instance) removes one occurrence from every flusher.
//   This is exact for "wait for what was queued before the flush" without unbounded sequence counters.
// - cancel_work_sync(item): (1) grab: the pending instance is removed WITHOUT running, PENDING is held
//   (canceling); (2) wait until the running instance (if any) has finished, then release PENDING.
// - drain_workqueue: set draining, wait until nothing is pending or running, clear draining.
// Params: { wq: path, thread, item?, name? } (name = resource name in reports; default the path).
import type { Context } from '../../explorer/model.ts';
import { getIn, removeOne, updateIn } from './path.ts';
import { kAssign, type WaitFn } from './types.ts';
import type { Step } from './locks.ts';

type Args = { context: Context };

export interface WorkqueueState {
  pending: string[];
  running: Record<string, string | null>;
  canceling: string[];
  flushers: Record<string, string[]>;
  draining: boolean;
  droppedWhileDraining: boolean;
}
export interface WqParams {
  wq: string;
  thread: string;
  item?: string;
  name?: string;
}

/** A workqueue whose work items are `items` (their names; each item is one work_struct). */
export const workqueue = (items: string[]): WorkqueueState => ({
  pending: [],
  running: Object.fromEntries(items.map((i) => [i, null])),
  canceling: [],
  flushers: {},
  draining: false,
  droppedWhileDraining: false,
});

const itemOf = (p: WqParams): string => {
  if (p.item === undefined) throw new Error(`kernel primitive misuse: ${p.thread} used workqueue ${p.wq} without an item`);
  return p.item;
};
const checkItem = (s: WorkqueueState, p: WqParams): string => {
  const item = itemOf(p);
  if (!(item in s.running)) throw new Error(`kernel primitive misuse: "${item}" is not a work item of ${p.wq} (items: ${Object.keys(s.running).join(', ')})`);
  return item;
};
const isChained = (s: WorkqueueState, thread: string) => Object.values(s.running).includes(thread);
const runnable = (s: WorkqueueState) => s.pending.find((i) => s.running[i] === null);
const runningItemOf = (s: WorkqueueState, thread: string) => Object.keys(s.running).find((i) => s.running[i] === thread);
const idle = (s: WorkqueueState) => s.pending.length === 0 && Object.values(s.running).every((w) => w === null);
/** Removes one occurrence of `item` from every flusher's wait list. */
const completeForFlushers = (f: Record<string, string[]>, item: string): Record<string, string[]> => {
  let changed = false;
  const out: Record<string, string[]> = {};
  for (const [t, items] of Object.entries(f)) {
    const r = removeOne(items, item);
    if (r !== null) changed = true;
    out[t] = r ?? items;
  }
  return changed ? out : f;
};
const instancesOf = (s: WorkqueueState, item: string): string[] =>
  [...(s.running[item] !== null ? [item] : []), ...(s.pending.includes(item) ? [item] : [])];

const queueAction = kAssign(({ context }, p: WqParams) =>
  updateIn(context, p.wq, (s: WorkqueueState) => {
    const item = checkItem(s, p);
    if (s.pending.includes(item) || s.canceling.includes(item)) return s; // already pending: not queued twice
    if (s.draining && !isChained(s, p.thread)) return s.droppedWhileDraining ? s : { ...s, droppedWhileDraining: true };
    return { ...s, pending: [...s.pending, item] };
  }),
);

export const workqueueGuards = {
  // work_pending(item)
  wq_work_pending: ({ context }: Args, p: WqParams) => getIn(context, p.wq).pending.includes(itemOf(p)),
  // work_busy(item): pending or running
  wq_work_busy: ({ context }: Args, p: WqParams) => {
    const s: WorkqueueState = getIn(context, p.wq);
    return s.pending.includes(itemOf(p)) || s.running[itemOf(p)] !== null;
  },
  // an idle worker has something to run (any item)
  wq_has_work: ({ context }: Args, p: WqParams) => runnable(getIn(context, p.wq)) !== undefined,
  // a dedicated worker's item is pending and not running elsewhere
  wq_item_runnable: ({ context }: Args, p: WqParams) => {
    const s: WorkqueueState = getIn(context, p.wq);
    return s.pending.includes(itemOf(p)) && s.running[itemOf(p)] === null;
  },
  // the worker `thread` is running `item` (branch on which item a generic worker picked)
  wq_running_is: ({ context }: Args, p: WqParams) => getIn(context, p.wq).running[itemOf(p)] === p.thread,
  // cancel_work_sync() step 2 / the item is not running
  wq_work_not_running: ({ context }: Args, p: WqParams) => getIn(context, p.wq).running[itemOf(p)] === null,
  // flush_work()/flush_workqueue() step 2: every instance sampled at the flush has completed
  wq_flush_done: ({ context }: Args, p: WqParams) => (getIn(context, p.wq).flushers[p.thread] ?? []).length === 0,
  // drain_workqueue() step 2: nothing pending or running
  wq_drained: ({ context }: Args, p: WqParams) => idle(getIn(context, p.wq)),
  wq_is_idle: ({ context }: Args, p: WqParams) => idle(getIn(context, p.wq)),
  wq_dropped_while_draining: ({ context }: Args, p: WqParams) => getIn(context, p.wq).droppedWhileDraining,
};

export const workqueueActions = {
  wq_queue_work: queueAction,
  wq_mod_delayed_work: queueAction,
  // process_one_work(): take the first runnable pending item, clear PENDING, run it on this worker
  wq_worker_start: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      if (runningItemOf(s, p.thread) !== undefined) throw new Error(`kernel primitive misuse: worker ${p.thread} starts a work item while running one`);
      const item = p.item ?? runnable(s);
      if (item === undefined || !s.pending.includes(item) || s.running[item] !== null) {
        throw new Error(`kernel primitive misuse: worker ${p.thread} has no runnable item ${p.item ?? ''} on ${p.wq}`);
      }
      return { ...s, pending: removeOne(s.pending, item)!, running: { ...s.running, [item]: p.thread } };
    }),
  ),
  // the work function returned
  wq_worker_done: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      const item = runningItemOf(s, p.thread);
      if (item === undefined) throw new Error(`kernel primitive misuse: worker ${p.thread} finished but runs nothing on ${p.wq}`);
      return { ...s, running: { ...s.running, [item]: null }, flushers: completeForFlushers(s.flushers, item) };
    }),
  ),
  // cancel_work_sync() step 1 (try_to_grab_pending): a pending instance is removed unrun
  wq_cancel_grab: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      const item = checkItem(s, p);
      const wasPending = s.pending.includes(item);
      return {
        ...s,
        pending: wasPending ? removeOne(s.pending, item)! : s.pending,
        canceling: s.canceling.includes(item) ? s.canceling : [...s.canceling, item],
        flushers: wasPending ? completeForFlushers(s.flushers, item) : s.flushers,
      };
    }),
  ),
  // cancel_work_sync() end: release PENDING (queue_work works again)
  wq_cancel_done: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => ({ ...s, canceling: removeOne(s.canceling, itemOf(p)) ?? s.canceling })),
  ),
  wq_flush_work_begin: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => ({ ...s, flushers: { ...s.flushers, [p.thread]: instancesOf(s, checkItem(s, p)) } })),
  ),
  wq_flush_workqueue_begin: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => ({
      ...s,
      flushers: { ...s.flushers, [p.thread]: Object.keys(s.running).flatMap((i) => instancesOf(s, i)) },
    })),
  ),
  wq_flush_end: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      const { [p.thread]: _, ...rest } = s.flushers;
      return { ...s, flushers: rest };
    }),
  ),
  wq_drain_begin: kAssign(({ context }, p: WqParams) => updateIn(context, p.wq, (s: WorkqueueState) => ({ ...s, draining: true }))),
  wq_drain_end: kAssign(({ context }, p: WqParams) => updateIn(context, p.wq, (s: WorkqueueState) => ({ ...s, draining: false }))),
};

const busyWorkers = (s: WorkqueueState, items?: string[]): string[] => {
  const ws = Object.entries(s.running)
    .filter(([i, w]) => w !== null && (items === undefined || items.includes(i)))
    .map(([, w]) => w as string);
  return [...new Set(ws)].sort();
};
const wname = (p: WqParams, item?: string) => (item ? `${item} on ${p.name ?? p.wq}` : (p.name ?? p.wq));

export const workqueueWaits: Record<string, WaitFn> = {
  wq_has_work: (context, p: WqParams) =>
    runnable(getIn(context, p.wq)) !== undefined ? null : { resource: wname(p), kind: 'workqueue', mode: 'worker idle (wait for work)', holders: [] },
  wq_item_runnable: (context, p: WqParams) => {
    const s: WorkqueueState = getIn(context, p.wq);
    const item = itemOf(p);
    if (s.pending.includes(item) && s.running[item] === null) return null;
    return { resource: wname(p, item), kind: 'workqueue', mode: 'worker idle (wait for work)', holders: busyWorkers(s, [item]) };
  },
  wq_work_not_running: (context, p: WqParams) => {
    const s: WorkqueueState = getIn(context, p.wq);
    const w = s.running[itemOf(p)];
    return w === null ? null : { resource: wname(p, itemOf(p)), kind: 'workqueue', mode: 'cancel_work_sync (wait for the running instance)', holders: [w] };
  },
  wq_flush_done: (context, p: WqParams) => {
    const s: WorkqueueState = getIn(context, p.wq);
    const items = s.flushers[p.thread] ?? [];
    if (items.length === 0) return null;
    // the workers running the awaited items; if none runs (only pending), every busy worker of the queue
    let holders = busyWorkers(s, items);
    if (holders.length === 0) holders = busyWorkers(s);
    return { resource: wname(p, items.length === 1 ? items[0] : undefined), kind: 'workqueue', mode: `flush (waits for ${[...new Set(items)].join(', ')})`, holders };
  },
  wq_drained: (context, p: WqParams) => {
    const s: WorkqueueState = getIn(context, p.wq);
    return idle(s) ? null : { resource: wname(p), kind: 'workqueue', mode: 'drain_workqueue', holders: busyWorkers(s) };
  },
};

// Call helpers ---------------------------------------------------------------------------------

const act = (type: string, params: WqParams) => ({ type, params });
const P = (wq: string, thread: string, item?: string, name?: string): WqParams => ({
  wq, thread, ...(item !== undefined ? { item } : {}), ...(name !== undefined ? { name } : {}),
});

/** queue_work(wq, item) from `thread` (always enabled; no-op if pending; dropped while draining). */
export const queue_work = (wq: string, item: string, thread: string): Step => ({ actions: [act('wq_queue_work', P(wq, thread, item))] });
/** mod_delayed_work(wq, item, delay): same as queue_work in an untimed model. */
export const mod_delayed_work = (wq: string, item: string, thread: string): Step => ({ actions: [act('wq_mod_delayed_work', P(wq, thread, item))] });
/** A generic worker picks the next runnable item (blocked while there is none). */
export const worker_start = (wq: string, worker: string, name?: string): Step => ({
  guard: { type: 'wq_has_work', params: P(wq, worker, undefined, name) },
  actions: [act('wq_worker_start', P(wq, worker))],
});
/** A worker dedicated to one item (e.g. a per-CPU work) starts it when it is pending. */
export const worker_start_item = (wq: string, item: string, worker: string, name?: string): Step => ({
  guard: { type: 'wq_item_runnable', params: P(wq, worker, item, name) },
  actions: [act('wq_worker_start', P(wq, worker, item))],
});
/** Guard ref: the worker runs `item`. */
export const worker_running = (wq: string, item: string, worker: string) => ({ type: 'wq_running_is', params: P(wq, worker, item) }) as any;
export const worker_done = (wq: string, worker: string): Step => ({ actions: [act('wq_worker_done', P(wq, worker))] });
/** cancel_work_sync: step 1 (grab: drop the pending instance), step 2 (wait for the running one). */
export const cancel_work_sync = (wq: string, item: string, thread: string, name?: string): { grab: Step; wait: Step } => ({
  grab: { actions: [act('wq_cancel_grab', P(wq, thread, item))] },
  wait: { guard: { type: 'wq_work_not_running', params: P(wq, thread, item, name) }, actions: [act('wq_cancel_done', P(wq, thread, item))] },
});
/** flush_work: step 1 (sample the instances), step 2 (wait for them). */
export const flush_work = (wq: string, item: string, thread: string, name?: string): { begin: Step; wait: Step } => ({
  begin: { actions: [act('wq_flush_work_begin', P(wq, thread, item))] },
  wait: { guard: { type: 'wq_flush_done', params: P(wq, thread, undefined, name) }, actions: [act('wq_flush_end', P(wq, thread))] },
});
export const flush_workqueue = (wq: string, thread: string, name?: string): { begin: Step; wait: Step } => ({
  begin: { actions: [act('wq_flush_workqueue_begin', P(wq, thread))] },
  wait: { guard: { type: 'wq_flush_done', params: P(wq, thread, undefined, name) }, actions: [act('wq_flush_end', P(wq, thread))] },
});
/** drain_workqueue: step 1 (set __WQ_DRAINING), step 2 (wait until empty, clear it). */
export const drain_workqueue = (wq: string, thread: string, name?: string): { begin: Step; wait: Step } => ({
  begin: { actions: [act('wq_drain_begin', P(wq, thread))] },
  wait: { guard: { type: 'wq_drained', params: P(wq, thread, undefined, name) }, actions: [act('wq_drain_end', P(wq, thread))] },
});
/** Plain views for invariants/assertions. */
export const wqDroppedWhileDraining = (context: Context, wq: string): boolean => getIn(context, wq).droppedWhileDraining;
export const wqPending = (context: Context, wq: string): string[] => getIn(context, wq).pending;
