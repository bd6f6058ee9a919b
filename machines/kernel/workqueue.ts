// Workqueues (kernel/workqueue.c): queue_work/mod_delayed_work, workers, cancel_work(_sync), flush_work, flush/drain_workqueue.
//
// State at a context path (e.g. "wq"), built by workqueue(['gc0', 'gc1']) with the names of its work items:
//   { pending: string[]                    items with WORK_STRUCT_PENDING, FIFO (worklist order)
//     running: { [item]: worker | null }   the kworker (a model thread) executing the item's function
//     canceling: string[]                  items whose PENDING bit cancel_work_sync() holds (queueing is a no-op)
//     flushers: { [thread]: string[] }     per flushing thread, the item instances it still waits for
//     draining: bool                       __WQ_DRAINING (drain_workqueue)
//     droppedWhileDraining: bool }         a queue from outside the workqueue hit WARN_ON_ONCE while
//                                          draining and the item was DROPPED; assert on it in the model
// Semantics:
// - queue_work (queue_work_on): test_and_set PENDING, so a no-op when the item is already pending or being
//   canceled; otherwise __queue_work: while draining, only "chained" work (queued by a thread currently running
//   an item of this workqueue, is_chained_work) is accepted, anything else WARNs, sets droppedWhileDraining and
//   is dropped; else the item goes to the tail of the worklist.
// - mod_delayed_work (mod_delayed_work_on, delay taken as 0: the untimed model queues at once; a timer-armed
//   state is not modelled): try_to_grab_pending() first STEALS a pending instance (list_del_init +
//   pwq_dec_nr_in_flight: the instance is gone, its flush colour is released, see "grab" below), returns
//   -ENOENT (nothing happens) while cancel_work_sync holds the item, then __queue_work as above. So a pending
//   item stays pending ONCE but moves to the tail, and on a draining workqueue it is DROPPED (WARN) even though
//   it was pending before the call.
//   Not modelled: after the drop the kernel leaves PENDING set on an item that is on no list (__queue_work
//   returns early, nobody clears the bit), so later queue_work calls are no-ops and a later
//   try_to_grab_pending spins on -EAGAIN; here the item is simply idle again. Models treat the WARN itself as
//   the violation (wqDroppedWhileDraining), so nothing after it is trusted.
// - A worker takes the first pending item that is not running elsewhere (non-reentrant) and clears PENDING,
//   so the item can be queued again while it runs. `wq_worker_done` ends the run.
// - Flushes wait for item INSTANCES: for an item, at most one running instance (R) and one pending (P).
//   flushers[t] holds plain names (`x`, one per awaited instance of x) and, for flush_work only, `x#queued`.
//   * flush_workqueue (__flush_workqueue): waits for the flush colour of everything queued before it, i.e.
//     every R and P instance existing now -> one `x` per instance. When the work colour's nr_in_flight drops
//     to zero the flush completes: each finished run removes one `x`; a grabbed P (pwq_dec_nr_in_flight in
//     try_to_grab_pending) removes one `x` too, but only when the flusher counts more instances of x than are
//     running (with count 1 and x running, the awaited instance IS the running one and a P queued after the
//     flush, which has the newer colour, is not awaited). A re-queued instance gets the current colour, so
//     an earlier flush never waits for it.
//   * flush_work (start_flush_work + insert_wq_barrier): if x is pending the barrier is inserted right
//     BEHIND the pending instance (`x#queued`); it is not linked to a running instance. When that instance
//     starts, `x#queued` becomes `x` (the barrier now completes when that run ends: wq_worker_done). If the
//     pending instance is grabbed (mod_delayed_work, cancel_work_sync) the barrier stays on the worklist on
//     its own and completes as soon as a worker reaches it, without waiting for a still-running earlier
//     instance: here `x#queued` is removed at the grab (the barrier's position behind OTHER items of the
//     worklist is not modelled: flush_work only tracks its own item). If x is only running, the barrier is
//     linked to that worker's run -> `x`. If x is idle, flush_work returns at once (empty list).
//   This is exact for "wait for what was queued before the flush" without unbounded colour counters.
// - cancel_work_sync(item): (1) grab: the pending instance is removed WITHOUT running (same effect on
//   flushers as the grab above), PENDING is held (canceling); (2) wait until the running instance (if any)
//   has finished, then release PENDING.
// - cancel_work / cancel_delayed_work (no _sync): the grab alone, PENDING released in the same step; a running
//   instance goes on and nobody waits for it (gfs2's 486408d690e1 turned a cancel_delayed_work_sync into this).
// - drain_workqueue: set draining, wait until nothing is pending or running, clear draining.
// Lock order (explorer/properties/lockorder.ts), as lockdep sees workqueues in kernel/workqueue.c v6.6: each
// work item and each workqueue is a lock ("lockdep map"). process_one_work() holds
// lock_map_acquire(&pwq->wq->lockdep_map) then lock_map_acquire(&work->lockdep_map) around the work
// function, so the worker holds `(wq_completion)<wq>` and `(work_completion)<item>` while it runs the item
// (running[item] is the worker); __flush_work() (flush_work, and cancel_work_sync since v6.0's c0feea594e05
// "don't skip lockdep work dependency in cancel_work_sync()") and __flush_workqueue() (flush_workqueue,
// drain_workqueue) acquire and release the item's / the workqueue's map at once. So "hold L,
// cancel_work_sync(W)" against "W's function takes L" is the cycle L -> W -> L, found from two separate
// traces even when no interleaving deadlocks. Classes are named after the path and item; merge them with the
// model's lockClass (lockdep keys a work map by its INIT_WORK site). Not modelled: start_flush_work()'s
// acquisition of the workqueue map for flush_work on an ordered (max_active 1) or rescuer workqueue.
// The maps have no lockdep wait type (lockdep_init_map: LD_WAIT_INV), but flush_work, cancel_work_sync,
// flush_workqueue and drain_workqueue may sleep (start_flush_work's might_sleep(), their wait_for_completion()):
// their acquisitions are marked LockEffect.mightSleep, so under a spinlock or
// inside rcu_read_lock() the lock-order check reports "sleeping function called from invalid context". A kworker
// taking the maps to run an item is no sleeping call.
// Users: machines/xfs-inodegc queues with queue_work (5.14-rc, 5.15) and mod_delayed_work (5.19+) from here
// (its local mod_delayed_work_on is gone, commit 9debdb7).
// Params: { wq: path, thread, item?, name? } (name = resource name in reports; default the path).
import type { Context } from '../../explorer/model.ts';
import { getIn, ownValue, removeOne, updateIn } from './path.ts';
import { kAssign, type WaitFn } from './types.ts';
import type { LockAcquisition, LockEffect } from '../../explorer/model.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import { declareLowerings } from '../../explorer/compile/lower/declared.ts';
import type { Step } from './locks.ts';
import * as L from '../../explorer/compile/lower/declared.ts';

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
  /** flush_workqueue only: the workqueue's items, when the caller knows them (lets the step run on the packed words). */
  items?: string[];
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
  if (!Object.hasOwn(s.running, item)) throw new Error(`kernel primitive misuse: "${item}" is not a work item of ${p.wq} (items: ${Object.keys(s.running).join(', ')})`);
  return item;
};
const isChained = (s: WorkqueueState, thread: string) => Object.values(s.running).includes(thread);
const runnable = (s: WorkqueueState) => s.pending.find((i) => s.running[i] === null);
const runningItemOf = (s: WorkqueueState, thread: string) => Object.keys(s.running).find((i) => s.running[i] === thread);
const idle = (s: WorkqueueState) => s.pending.length === 0 && Object.values(s.running).every((w) => w === null);
const QUEUED = '#queued';
/** The item an entry of a flusher's list refers to (`x` or `x#queued`). */
const entryItem = (e: string) => (e.endsWith(QUEUED) ? e.slice(0, -QUEUED.length) : e);
const count = (a: readonly string[], x: string) => a.reduce((n, e) => n + (e === x ? 1 : 0), 0);
/** Applies `fn` to every flusher's list; keeps the same object when nothing changed. */
const mapFlushers = (f: Record<string, string[]>, fn: (items: string[]) => string[]): Record<string, string[]> => {
  let changed = false;
  const out: Record<string, string[]> = {};
  for (const [t, items] of Object.entries(f)) {
    const r = fn(items);
    if (r !== items) changed = true;
    out[t] = r;
  }
  return changed ? out : f;
};
/** wq_worker_done(item): the run ended; its barrier / colour completes (one plain `item` per flusher). */
const runFinished = (f: Record<string, string[]>, item: string) => mapFlushers(f, (items) => removeOne(items, item) ?? items);
/** wq_worker_start(item): a flush_work barrier queued behind the pending instance now waits for this run. */
const pendingStarted = (f: Record<string, string[]>, item: string) =>
  mapFlushers(f, (items) => (items.includes(item + QUEUED) ? items.map((e) => (e === item + QUEUED ? item : e)) : items));
/**
 * try_to_grab_pending() took the pending instance of `item` off the worklist (pwq_dec_nr_in_flight):
 * a flush_work barrier behind it completes (`item#queued` removed); a flush_workqueue colour counting it
 * loses it (one plain `item`, if the flusher counts more instances than the running one).
 */
const pendingGrabbed = (s: WorkqueueState, item: string) => {
  const running = s.running[item] !== null ? 1 : 0;
  return mapFlushers(s.flushers, (items) => {
    let out = items.includes(item + QUEUED) ? items.filter((e) => e !== item + QUEUED) : items;
    if (count(out, item) > running) out = removeOne(out, item)!;
    return out;
  });
};
/** flush_workqueue: every instance existing now (the flush colour of everything queued before it). */
const instancesOf = (s: WorkqueueState, item: string): string[] =>
  [...(s.running[item] !== null ? [item] : []), ...(s.pending.includes(item) ? [item] : [])];
/** flush_work: the barrier goes behind the pending instance if any, else it is linked to the running one. */
const flushWorkTarget = (s: WorkqueueState, item: string): string[] =>
  s.pending.includes(item) ? [item + QUEUED] : s.running[item] !== null ? [item] : [];

// queue_work_on(): test_and_set_bit(PENDING) then __queue_work()
const queueAction = kAssign(({ context }, p: WqParams) =>
  updateIn(context, p.wq, (s: WorkqueueState) => {
    const item = checkItem(s, p);
    if (s.pending.includes(item) || s.canceling.includes(item)) return s; // already pending: not queued twice
    return queueTail(s, item, p.thread);
  }),
);
/** __queue_work(): WARN + drop while draining unless chained, else append to the worklist. */
const queueTail = (s: WorkqueueState, item: string, thread: string): WorkqueueState => {
  if (s.draining && !isChained(s, thread)) return s.droppedWhileDraining ? s : { ...s, droppedWhileDraining: true };
  return { ...s, pending: [...s.pending, item] };
};
// mod_delayed_work_on(cpu, wq, dwork, 0): try_to_grab_pending() then __queue_delayed_work() -> __queue_work()
const modDelayedAction = kAssign(({ context }, p: WqParams) =>
  updateIn(context, p.wq, (s: WorkqueueState) => {
    const item = checkItem(s, p);
    if (s.canceling.includes(item)) return s; // -ENOENT: a canceler owns PENDING, nothing is queued
    const grabbed: WorkqueueState = s.pending.includes(item)
      ? { ...s, pending: removeOne(s.pending, item)!, flushers: pendingGrabbed(s, item) }
      : s;
    return queueTail(grabbed, item, p.thread);
  }),
);

// lockdep maps: the workqueue's at `{wq}.running` (held by any worker running one of its items), an item's at
// `{wq}.running.<item>` (held by the worker running it)
const wqMap = (p: WqParams, o: { released: boolean }): LockAcquisition => ({
  path: `${p.wq}.running`, name: `(wq_completion)${p.wq}`, mode: 'write', thread: p.thread, try: false, ...(o.released ? { released: true } : {}),
});
const workMap = (p: WqParams, item: string, o: { released: boolean }): LockAcquisition => ({
  path: `${p.wq}.running.${item}`, name: `(work_completion)${item}`, mode: 'write', thread: p.thread, try: false, ...(o.released ? { released: true } : {}),
});
const wqLockdep = (acquires: (p: WqParams, context: Context) => LockAcquisition[], sleeps: boolean): LockEffect => ({
  kind: 'workqueue',
  acquires,
  ...(sleeps ? { mightSleep: true } : {}),
  holds: (context, path, thread) => {
    const v = getIn(context, path);
    const held = v !== null && typeof v === 'object' ? Object.values(v).includes(thread) : v === thread;
    return held ? 'write' : null;
  },
});
/** Attaches a lockdep-map effect to a workqueue action (see the header); `sleeps`: the call may sleep (the flushes). */
const withMaps = <A extends object>(action: A, acquires: (p: WqParams, context: Context) => LockAcquisition[], o: { sleeps: boolean }): A =>
  Object.assign(action, { lockEffect: wqLockdep(acquires, o.sleeps) });
// process_one_work(): the workqueue's map, then the item's, held while the work function runs
const startMaps = (p: WqParams, context: Context) => {
  const item = p.item ?? runnable(getIn(context, p.wq));
  return item === undefined ? [] : [wqMap(p, { released: false }), workMap(p, item, { released: false })];
};
// __flush_work(): lock_map_acquire + lock_map_release of the item's map
const flushWorkMaps = (p: WqParams) => [workMap(p, itemOf(p), { released: true })];
// __flush_workqueue(): the same on the workqueue's map
const flushWqMaps = (p: WqParams) => [wqMap(p, { released: true })];

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
  wq_flush_done: ({ context }: Args, p: WqParams) => (ownValue<string[]>(getIn(context, p.wq).flushers, p.thread) ?? []).length === 0,
  // drain_workqueue() step 2: nothing pending or running
  wq_drained: ({ context }: Args, p: WqParams) => idle(getIn(context, p.wq)),
  wq_is_idle: ({ context }: Args, p: WqParams) => idle(getIn(context, p.wq)),
  wq_dropped_while_draining: ({ context }: Args, p: WqParams) => getIn(context, p.wq).droppedWhileDraining,
};

export const workqueueActions = {
  wq_queue_work: queueAction,
  wq_mod_delayed_work: modDelayedAction,
  // process_one_work(): take the first runnable pending item, clear PENDING, run it on this worker
  wq_worker_start: withMaps(kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      if (runningItemOf(s, p.thread) !== undefined) throw new Error(`kernel primitive misuse: worker ${p.thread} starts a work item while running one`);
      const item = p.item ?? runnable(s);
      if (item === undefined || !s.pending.includes(item) || s.running[item] !== null) {
        throw new Error(`kernel primitive misuse: worker ${p.thread} has no runnable item ${p.item ?? ''} on ${p.wq}`);
      }
      return { ...s, pending: removeOne(s.pending, item)!, running: { ...s.running, [item]: p.thread }, flushers: pendingStarted(s.flushers, item) };
    }),
  ), startMaps, { sleeps: false }),
  // the work function returned
  wq_worker_done: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      const item = runningItemOf(s, p.thread);
      if (item === undefined) throw new Error(`kernel primitive misuse: worker ${p.thread} finished but runs nothing on ${p.wq}`);
      return { ...s, running: { ...s.running, [item]: null }, flushers: runFinished(s.flushers, item) };
    }),
  ),
  // cancel_work_sync() step 1 (try_to_grab_pending): a pending instance is removed unrun
  wq_cancel_grab: withMaps(kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      const item = checkItem(s, p);
      const wasPending = s.pending.includes(item);
      return {
        ...s,
        pending: wasPending ? removeOne(s.pending, item)! : s.pending,
        canceling: s.canceling.includes(item) ? s.canceling : [...s.canceling, item],
        flushers: wasPending ? pendingGrabbed(s, item) : s.flushers,
      };
    }),
  ), flushWorkMaps, { sleeps: true }),
  // cancel_work() / cancel_delayed_work() (__cancel_work, v6.6): try_to_grab_pending(), then
  // set_work_pool_and_clear_pending(): a pending instance is removed unrun and PENDING is released at once; no
  // wait for a running instance and no lockdep acquisition of the work (only the _sync forms flush it)
  wq_cancel: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      const item = checkItem(s, p);
      if (s.canceling.includes(item) || !s.pending.includes(item)) return s; // -ENOENT under a canceler / nothing to grab
      return { ...s, pending: removeOne(s.pending, item)!, flushers: pendingGrabbed(s, item) };
    }),
  ),
  // cancel_work_sync() end: release PENDING (queue_work works again)
  wq_cancel_done: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => ({ ...s, canceling: removeOne(s.canceling, itemOf(p)) ?? s.canceling })),
  ),
  wq_flush_work_begin: withMaps(kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => ({ ...s, flushers: { ...s.flushers, [p.thread]: flushWorkTarget(s, checkItem(s, p)) } })),
  ), flushWorkMaps, { sleeps: true }),
  // (the items in sorted order, not Object.keys order: the packed state keeps a record's keys sorted, so the
  // searches see `running` sorted while XState's transition() sees it in the order the model wrote it; the
  // awaited instances are a multiset, so the order only has to be the same for both)
  wq_flush_workqueue_begin: withMaps(kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => ({
      ...s,
      flushers: { ...s.flushers, [p.thread]: Object.keys(s.running).sort().flatMap((i) => instancesOf(s, i)) },
    })),
  ), flushWqMaps, { sleeps: true }),
  wq_flush_end: kAssign(({ context }, p: WqParams) =>
    updateIn(context, p.wq, (s: WorkqueueState) => {
      const { [p.thread]: _, ...rest } = s.flushers;
      return { ...s, flushers: rest };
    }),
  ),
  // drain_workqueue() -> __flush_workqueue()
  wq_drain_begin: withMaps(kAssign(({ context }, p: WqParams) => updateIn(context, p.wq, (s: WorkqueueState) => ({ ...s, draining: true }))), flushWqMaps, { sleeps: true }),
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
    return w === null || w === undefined ? null : { resource: wname(p, itemOf(p)), kind: 'workqueue', mode: 'cancel_work_sync (wait for the running instance)', holders: [w] };
  },
  wq_flush_done: (context, p: WqParams) => {
    const s: WorkqueueState = getIn(context, p.wq);
    const items = (ownValue(s.flushers, p.thread) ?? []).map(entryItem);
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
/** mod_delayed_work(wq, item, 0): steal a pending instance and requeue it at the tail (dropped, WARN, while draining). */
export const mod_delayed_work = (wq: string, item: string, thread: string): Step => ({ actions: [act('wq_mod_delayed_work', P(wq, thread, item))] });
/** A generic worker picks the next runnable item (blocked while there is none). */
export const worker_start = (wq: string, worker: string, name?: string): Step => ({
  guard: { type: 'wq_has_work', params: P(wq, worker, undefined, name) },
  actions: [act('wq_worker_start', P(wq, worker))],
});
/**
 * A kworker's idle state (worker_thread -> worker_enter_idle, sleeping until work is queued): the worker
 * picks the next runnable item on `event` and goes to `next` (where the work function runs, ending with
 * `worker_done`). Marked `meta: { end: true }`: a worker idling with nothing queued is a valid place to stop,
 * not a deadlock, so a model needs no exit counter for its kworkers. `item` dedicates the worker to one item.
 */
export const kworker_idle = (o: { wq: string; worker: string; event: string; next: string; item?: string; name?: string }): any => {
  const start = o.item === undefined ? worker_start(o.wq, o.worker, o.name) : worker_start_item(o.wq, o.item, o.worker, o.name);
  return { meta: { end: true }, on: { [o.event]: { ...start, target: o.next } } };
};
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
/**
 * cancel_work / cancel_delayed_work(wq, item) (not _sync): one step, never blocks; a pending instance is dropped
 * unrun, a running one goes on (nothing waits for it, no lockdep dependency on the work).
 */
export const cancel_work = (wq: string, item: string, thread: string): Step => ({ actions: [act('wq_cancel', P(wq, thread, item))] });
/** flush_work: step 1 (sample the instances), step 2 (wait for them). */
export const flush_work = (wq: string, item: string, thread: string, name?: string): { begin: Step; wait: Step } => ({
  begin: { actions: [act('wq_flush_work_begin', P(wq, thread, item))] },
  wait: { guard: { type: 'wq_flush_done', params: P(wq, thread, undefined, name) }, actions: [act('wq_flush_end', P(wq, thread))] },
});
/** `items`: the workqueue's items (optional; given, the flush's first step runs on the packed words). */
export const flush_workqueue = (wq: string, thread: string, name?: string, items?: string[]): { begin: Step; wait: Step } => ({
  begin: { actions: [act('wq_flush_workqueue_begin', { ...P(wq, thread), ...(items !== undefined ? { items } : {}) })] },
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

// Footprints (explorer/reduce/declare.ts), for --reduce por: the whole workqueue slice at `{wq}` (its fields move
// together in most operations; finer declarations can come with the word-level compiler).
const wqRead = { reads: ['{wq}'] };
const wqWrite = { writes: ['{wq}'] };
declareFootprints(workqueueGuards, Object.fromEntries(Object.keys(workqueueGuards).map((n) => [n, wqRead])));
declareFootprints(workqueueActions, Object.fromEntries(Object.keys(workqueueActions).map((n) => [n, wqWrite])));

// The same guards and actions declared as word operations (explorer/compile/lower/declared.ts), run on the packed
// state. A name the declarations cannot treat as the functions do (an Object.prototype name, which `in` sees; an
// array index, which Object.keys puts first; a dot, which splits a path) or a missing item declines: the function
// runs (and reports a misuse).
const wf = (p: WqParams, ...k: string[]) => L.path(p.wq, ...k);
/** Declares for params with a plain thread (and item, when `withItem`), else declines. */
const dWq = <T>(withItem: boolean, fn: (p: WqParams, item: string) => T) => (p: WqParams): T | null =>
  L.plainKey(p.thread) && (!withItem || L.plainKey(p.item)) ? fn(p, p.item as string) : null;
/** checkItem(): the item is a key of `running` (else the function throws its misuse). */
const dCheckItem = (p: WqParams, item: string) => L.check(L.recHasKey(wf(p, 'running'), item));
/** is_chained_work(): the thread runs an item of this workqueue. */
const dChained = (p: WqParams) => L.ne(L.recKeyOf(wf(p, 'running'), p.thread), L.lit(undefined));
const dRunning = (p: WqParams, item: string) => L.read(p.wq, 'running', item);
/**
 * __queue_work(): WARN + drop while draining unless chained, else the tail of the worklist (queueTail). As queueTail,
 * a droppedWhileDraining already truthy is left as it is.
 */
const dQueueTail = (p: WqParams, item: string) =>
  L.recWhen(
    L.and(L.read(p.wq, 'draining'), L.not(dChained(p))),
    [L.recWhen(L.not(L.read(p.wq, 'droppedWhileDraining')), [L.set(wf(p, 'droppedWhileDraining'), true)])],
    [L.append(wf(p, 'pending'), item)],
  );
/** try_to_grab_pending() took the pending instance (pendingGrabbed). */
const dGrab = (p: WqParams, item: string) => [
  L.removeOne(wf(p, 'pending'), item),
  L.recEachValue(wf(p, 'flushers'), [L.editRemoveAll(item + QUEUED), L.editRemoveOneIfMore(item, L.cond(L.ne(dRunning(p, item), L.lit(null)), 1, 0))]),
];
declareLowerings(workqueueGuards, {
  wq_work_pending: dWq(true, (p, item) => L.includes(wf(p, 'pending'), item)),
  wq_work_busy: dWq(true, (p, item) => L.or(L.includes(wf(p, 'pending'), item), L.ne(dRunning(p, item), L.lit(null)))),
  wq_item_runnable: dWq(true, (p, item) => L.and(L.includes(wf(p, 'pending'), item), L.eq(dRunning(p, item), L.lit(null)))),
  wq_running_is: dWq(true, (p, item) => L.eq(dRunning(p, item), L.lit(p.thread))),
  wq_work_not_running: dWq(true, (p, item) => L.eq(dRunning(p, item), L.lit(null))),
  wq_flush_done: dWq(false, (p) => L.or(L.not(L.recHasKey(wf(p, 'flushers'), p.thread)), L.eq(L.len(wf(p, 'flushers', p.thread)), L.lit(0)))),
  wq_dropped_while_draining: dWq(false, (p) => L.read(p.wq, 'droppedWhileDraining')),
});
declareLowerings(workqueueActions, {
  wq_queue_work: dWq(true, (p, item) => [
    dCheckItem(p, item),
    L.recWhen(L.or(L.includes(wf(p, 'pending'), item), L.includes(wf(p, 'canceling'), item)), [], [dQueueTail(p, item)]),
  ]),
  wq_mod_delayed_work: dWq(true, (p, item) => [
    dCheckItem(p, item),
    L.recWhen(L.includes(wf(p, 'canceling'), item), [], [L.recWhen(L.includes(wf(p, 'pending'), item), dGrab(p, item)), dQueueTail(p, item)]),
  ]),
  // a generic worker (no item) picks runnable(): not declared
  wq_worker_start: dWq(true, (p, item) => [
    L.check(L.not(dChained(p))),
    L.check(L.includes(wf(p, 'pending'), item)),
    L.check(L.eq(dRunning(p, item), L.lit(null))),
    L.removeOne(wf(p, 'pending'), item),
    L.set(wf(p, 'running', item), p.thread),
    L.recEachValue(wf(p, 'flushers'), [L.editReplaceAll(item + QUEUED, item)]),
  ]),
  wq_worker_done: dWq(false, (p) => [
    L.check(dChained(p)),
    L.recEachValue(wf(p, 'flushers'), [L.editRemoveOneIfMore(L.recKeyOf(wf(p, 'running'), p.thread), 0)]),
    L.recSetKeyOf(wf(p, 'running'), p.thread, null),
  ]),
  wq_cancel_grab: dWq(true, (p, item) => [
    dCheckItem(p, item),
    L.recWhen(L.includes(wf(p, 'pending'), item), dGrab(p, item)),
    L.recWhen(L.not(L.includes(wf(p, 'canceling'), item)), [L.append(wf(p, 'canceling'), item)]),
  ]),
  wq_cancel: dWq(true, (p, item) => [
    dCheckItem(p, item),
    L.recWhen(L.and(L.not(L.includes(wf(p, 'canceling'), item)), L.includes(wf(p, 'pending'), item)), dGrab(p, item)),
  ]),
  wq_cancel_done: dWq(true, (p, item) => [L.removeOne(wf(p, 'canceling'), item, 'keep')]),
  wq_flush_work_begin: dWq(true, (p, item) => [
    dCheckItem(p, item),
    L.recWhen(
      L.includes(wf(p, 'pending'), item),
      [L.recPut(wf(p, 'flushers'), p.thread, [item + QUEUED])],
      [L.recWhen(L.ne(dRunning(p, item), L.lit(null)), [L.recPut(wf(p, 'flushers'), p.thread, [item])], [L.recPut(wf(p, 'flushers'), p.thread, [])])],
    ),
  ]),
  // instancesOf() over running's keys, sorted: declared when the caller names the items (the words keep keys sorted),
  // each once (a name given twice would pass the size check with a key of running left out, and count twice)
  wq_flush_workqueue_begin: dWq(false, (p) => {
    if (p.items === undefined || !p.items.every(L.plainKey) || new Set(p.items).size !== p.items.length) return null;
    const items = [...p.items].sort();
    const mine = wf(p, 'flushers', p.thread);
    return [
      L.check(L.eq(L.recSize(wf(p, 'running')), L.lit(items.length))),
      ...items.map((i) => L.check(L.recHasKey(wf(p, 'running'), i))),
      L.recPut(wf(p, 'flushers'), p.thread, []),
      ...items.flatMap((i) => [
        L.recWhen(L.ne(dRunning(p, i), L.lit(null)), [L.append(mine, i)]),
        L.recWhen(L.includes(wf(p, 'pending'), i), [L.append(mine, i)]),
      ]),
    ];
  }),
  wq_flush_end: dWq(false, (p) => [L.recDelete(wf(p, 'flushers'), p.thread)]),
  wq_drain_begin: dWq(false, (p) => [L.set(wf(p, 'draining'), true)]),
  wq_drain_end: dWq(false, (p) => [L.set(wf(p, 'draining'), false)]),
});
