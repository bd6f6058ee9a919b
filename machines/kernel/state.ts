// Initial states and read-only views of the kernel primitives, so a model never spells out a primitive's layout.
//
// Initial states (each returns a fresh slice to put in the machine's context, in the state the kernel object
// would be in after the named calls, made by the named threads, before the model starts):
//   mutexHeld('t') / spinlockHeld('t')                         mutex_lock() / spin_lock() by t
//   qspinlockHeld('t', ['w']) / handoffMutexHeld('t', ['w'])   spin_lock_queued() / mutex_lock_handoff() by t, w queued
//   rwsemHeld({ writer: 't' } | { readers: ['a', 'b'] })       down_write() / down_read()s
//   percpuRwsemHeld({ writer?, readers? })                     percpu_down_write() (block set) / percpu_down_read()s
//   sbWritersHeld({ frozen?, by?, write?, pagefault?, intwrite? })
//       frozen: SB_FREEZE_COMPLETE with by: the freezer, i.e. freeze_super() returned (all three levels write-held);
//       write/pagefault/intwrite: threads inside sb_start_write / sb_start_pagefault / sb_start_intwrite
//   waitQueueWith(['t'])                                       prepare_to_wait() by t, not yet woken
//   completionDone(n = 1) / completionDoneAll()                complete() n times / complete_all()
//   workqueueWith(items, { pending?, running? })               queue_work() of pending items (FIFO), and items whose
//                                                              function a worker thread is running
//   pipeWith(capacity, count, { closed? })                     a pipe holding `count` buffers
//   folioLocked('t')                                           folio_lock() by t
//   btreeLocked({ nodes, threads }, { t: [{ node, mode }] })   btree_node_lock()s by t's btree_trans
//   btrfsTransRunning / jbd2JournalRunning / rcuReading       in btrfs-trans.ts / jbd2.ts / rcu.ts
//   semaphoreTaken(n, ['t']) / bitWordWith(bits, { bit: 't' }) in semaphore.ts (down()s by t) / waitbit.ts (set_bit by t)
//   memallocWith({ reclaim?, nofs?, noio? })                 in alloc.ts: fs_reclaim_acquire() by the reclaim threads,
//                                                              memalloc_nofs_save() / memalloc_noio_save() depth per thread
// Views (for invariants, assertions, watch and guards of the model's own): rwsemOwner, rwsemReaders, percpuWriter,
// percpuReaders, sbLevelWriter, sbFrozen / sbLevelReaders / mutexOwner (locks.ts), wqPending (workqueue.ts),
// completionCount, and sbSetFrozenPatch (the assign patch of `sb->s_writers.frozen = level`, for a model that
// wraps the write with a monitor).
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, patchIn } from './path.ts';
import {
  handoffMutex,
  mutex,
  percpuRwsem,
  qspinlock,
  rwsem,
  sbWriters,
  SB_FREEZE_COMPLETE,
  SB_FREEZE_FS,
  SB_FREEZE_PAGEFAULT,
  SB_FREEZE_WRITE,
  SB_UNFROZEN,
  type HandoffMutexState,
  type MutexState,
  type PercpuRwsemState,
  type QSpinlockState,
  type RwsemState,
  type SbWritersState,
} from './locks.ts';
import { completion, waitQueue, type CompletionState, type WaitQueueState } from './waitqueue.ts';
import { workqueue, type WorkqueueState } from './workqueue.ts';
import { pipe, type PipeState } from './pipe.ts';
import { folio, type FolioState } from './folio.ts';
import { btree, type BtreeState, type SixMode } from './btree.ts';

const sorted = (xs: readonly string[]) => xs.reduce<string[]>((acc, x) => insertSorted(acc, x), []);

/** A mutex held by `owner` (mutex_lock() returned in that thread). */
export const mutexHeld = (owner: string): MutexState => ({ ...mutex(), owner });
/** A spinlock held by `owner`. */
export const spinlockHeld = mutexHeld;

/** Waiters of a queued lock: distinct threads, none of them the owner (a waiter queued on its own hold is a self-deadlock the model reaches, not a start). */
function queuedWaiters(what: string, owner: string, waiters: readonly string[]): string[] {
  if (new Set(waiters).size !== waiters.length || waiters.includes(owner)) throw new Error(`${what}: the waiters must be distinct threads other than the owner ${owner}`);
  return [...waiters];
}
/** A queued spinlock (qspinlock()) held by `owner`, with `waiters` queued in that order (spin_lock_queued() by each). */
export const qspinlockHeld = (owner: string, waiters: readonly string[] = []): QSpinlockState => ({ ...qspinlock(), owner, waiters: queuedWaiters('qspinlockHeld', owner, waiters) });
/**
 * The kernel's mutex (handoffMutex()) held by `owner`, with `waiters` queued in that order; `handoff`: the first
 * waiter has set MUTEX_FLAG_HANDOFF (it needs a waiter).
 */
export function handoffMutexHeld(owner: string, waiters: readonly string[] = [], o: { handoff?: boolean } = {}): HandoffMutexState {
  if (o.handoff && waiters.length === 0) throw new Error('handoffMutexHeld: MUTEX_FLAG_HANDOFF is set by the first waiter: give one');
  return { ...handoffMutex(), owner, waiters: queuedWaiters('handoffMutexHeld', owner, waiters), handoff: o.handoff === true };
}

/** An rw_semaphore write-held by `writer`, or read-held by `readers` (not both). */
export function rwsemHeld(o: { writer?: string; readers?: string[] }): RwsemState {
  if (o.writer !== undefined && o.readers?.length) throw new Error('rwsemHeld: a writer and readers cannot hold an rw_semaphore at once');
  return { ...rwsem(), owner: o.writer ?? null, readers: sorted(o.readers ?? []) };
}

/** A percpu_rw_semaphore write-held by `writer` (block set: readers wait) and/or read-held by `readers`
 * (both: the writer has set block and is draining them). */
export function percpuRwsemHeld(o: { writer?: string; readers?: string[] }): PercpuRwsemState {
  return { ...percpuRwsem(), writer: o.writer ?? null, block: o.writer !== undefined, readers: sorted(o.readers ?? []) };
}

/**
 * sb->s_writers after earlier calls: `frozen: SB_FREEZE_COMPLETE` with `by` = the freezer (freeze_super()
 * returned: all three levels write-held, nobody inside); or unfrozen with threads inside sb_start_write
 * (`write`), sb_start_pagefault (`pagefault`), sb_start_intwrite (`intwrite`). `thawer`: as sbWriters({ thawer }).
 */
export function sbWritersHeld(o: { frozen?: number; by?: string; write?: string[]; pagefault?: string[]; intwrite?: string[]; thawer?: string }): SbWritersState {
  const frozen = o.frozen ?? SB_UNFROZEN;
  if (frozen !== SB_UNFROZEN && frozen !== SB_FREEZE_COMPLETE) {
    throw new Error(`sbWritersHeld: frozen must be SB_UNFROZEN or SB_FREEZE_COMPLETE (a partial freeze is a freezer mid-way: model its steps), got ${frozen}`);
  }
  const inside = [o.write, o.pagefault, o.intwrite];
  if (frozen === SB_FREEZE_COMPLETE) {
    if (o.by === undefined) throw new Error('sbWritersHeld: a frozen superblock needs `by`, the thread that froze it');
    if (inside.some((r) => r?.length)) throw new Error('sbWritersHeld: nobody is inside sb_start_* on a frozen superblock');
    const base = sbWriters(o.thawer !== undefined ? { thawer: o.thawer } : {});
    const by = o.by;
    return { ...base, frozen, rw_sem: [SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS].map(() => percpuRwsemHeld({ writer: by })) };
  }
  const base = sbWriters(o.thawer !== undefined ? { thawer: o.thawer } : {});
  return { ...base, rw_sem: inside.map((r) => percpuRwsemHeld({ readers: r ?? [] })) };
}

/** A wait queue with `waiters` queued by prepare_to_wait() and not woken yet. */
export const waitQueueWith = (waiters: string[]): WaitQueueState => ({ ...waitQueue(), waiters: sorted(waiters) });
/** A completion complete()d `n` times and not consumed. */
export function completionDone(n = 1): CompletionState {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`completionDone: n must be an integer >= 1, got ${n}`);
  return { ...completion(), done: n };
}
/** A completion after complete_all(). */
export const completionDoneAll = (): CompletionState => ({ ...completion(), all: true });

/**
 * A workqueue of `items` where `pending` were queued (queue_work, in this order) and `running` maps an item to the
 * worker thread running its function (process_one_work; PENDING was cleared when it started).
 */
export function workqueueWith(items: string[], o: { pending?: string[]; running?: Record<string, string> }): WorkqueueState {
  const wq = workqueue(items);
  const pending = o.pending ?? [];
  for (const i of [...pending, ...Object.keys(o.running ?? {})]) {
    if (!items.includes(i)) throw new Error(`workqueueWith: "${i}" is not a work item of this workqueue (items: ${items.join(', ')})`);
  }
  if (new Set(pending).size !== pending.length) throw new Error('workqueueWith: an item is pending at most once (WORK_STRUCT_PENDING)');
  return { ...wq, pending: [...pending], running: { ...wq.running, ...(o.running ?? {}) } };
}

/** A pipe of `capacity` buffers holding `count` of them. */
export function pipeWith(capacity: number, count: number, o: { closed?: boolean } = {}): PipeState {
  if (!(count >= 0 && count <= capacity)) throw new Error(`pipeWith: count ${count} is not within 0..${capacity}`);
  return { ...pipe(capacity), count, closed: o.closed ?? false };
}

/** A folio locked by `owner` (folio_lock() returned). */
export const folioLocked = (owner: string): FolioState => ({ ...folio(), owner });

/** A btree whose transactions already hold node locks: held[thread] = [{ node, mode }] in the order taken. */
export function btreeLocked(o: { nodes: string[]; threads: string[] }, held: Record<string, Array<{ node: string; mode: SixMode }>>): BtreeState {
  const b = btree(o);
  const nodes = { ...b.nodes };
  const trans = { ...b.trans };
  for (const [t, locks] of Object.entries(held)) {
    if (!(t in trans)) throw new Error(`btreeLocked: "${t}" has no btree_trans (threads: ${o.threads.join(', ')})`);
    for (const { node, mode } of locks) {
      const n = nodes[node];
      if (!n) throw new Error(`btreeLocked: unknown node "${node}" (nodes: ${o.nodes.join(', ')})`);
      if (mode === 'read') {
        if (n.write !== null) throw new Error(`btreeLocked: ${t} cannot read-lock ${node}: ${n.write} write-locks it`);
        nodes[node] = { ...n, readers: insertSorted(n.readers, t) };
      } else if (mode === 'intent') {
        if (n.intent !== null) throw new Error(`btreeLocked: ${t} cannot intent-lock ${node}: ${n.intent} holds intent`);
        nodes[node] = { ...n, intent: t };
      } else {
        if (n.intent !== t || n.readers.length) throw new Error(`btreeLocked: ${t} write-locks ${node} only after its intent lock, with no readers`);
        nodes[node] = { ...n, write: t };
      }
      const tr = trans[t]!; // checked above
      trans[t] = { ...tr, locked: [...tr.locked, { node, mode }] };
    }
  }
  return { nodes, trans };
}

// ---------------------------------------------------------------------------------------------
// Views.

/** The rw_semaphore's writer, or null. */
export const rwsemOwner = (context: Context, lock: string): string | null => (getIn(context, lock) as RwsemState).owner;
/** The rw_semaphore's readers (sorted). */
export const rwsemReaders = (context: Context, lock: string): string[] => (getIn(context, lock) as RwsemState).readers;
export const percpuWriter = (context: Context, lock: string): string | null => (getIn(context, lock) as PercpuRwsemState).writer;
export const percpuReaders = (context: Context, lock: string): string[] => (getIn(context, lock) as PercpuRwsemState).readers;
/** The thread that write-holds freeze level `level` (1..3) of sb_writers at `sb` (sb_wait_write), or null. */
export const sbLevelWriter = (context: Context, sb: string, level: number): string | null => {
  const lv = (getIn(context, sb) as SbWritersState).rw_sem[level - 1];
  if (lv === undefined) throw new Error(`sbLevelWriter: freeze level ${level} does not exist (1..3: SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS)`);
  return lv.writer;
};
/** complete() calls not yet consumed (Infinity after complete_all). */
export const completionCount = (context: Context, c: string): number => {
  const s = getIn(context, c) as CompletionState;
  return s.all ? Infinity : s.done;
};
/** The assign patch of `sb->s_writers.frozen = level` (what the sb_set_frozen action returns). */
export const sbSetFrozenPatch = (context: Context, sb: string, level: number): Context =>
  patchIn(context, `${sb}.frozen`, level);
/** The folio's lock owner, or null, and its sleeping lockers (folio_lock). */
export const folioOwner = (context: Context, f: string): string | null => (getIn(context, f) as FolioState).owner;
export const folioWaiters = (context: Context, f: string): string[] => (getIn(context, f) as FolioState).waiters.map((e) => e.slice(e.indexOf(':') + 1));
