// Sleeping and spinning locks for models: mutex, spinlock, rw_semaphore, percpu_rw_semaphore and sb_writers.
//
// Every primitive is plain data at a context path the model chooses (`lock`, e.g. "s_umount" or
// "inodes.0.i_rwsem"). Guards and assign actions are NAMED and take params
// `{ lock, thread, name? }` (`name` is the resource name shown in deadlock reports; default: the path).
// The call helpers at the bottom return `{ guard, actions }` objects to spread into a transition,
// so a model reads like the C: `on: { 'freezer.down_write': { ...down_write('s_umount', 'freezer'), target: 'F2' } }`.
import { kAssign, type WaitFn } from './types.ts';
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, removeOne, uniq, updateIn } from './path.ts';

export interface LockParams {
  /** Context path of the primitive's slice. */
  lock: string;
  /** The thread (top-level region name) doing the operation. */
  thread: string;
  /** Resource name for reports (default: the path). */
  name?: string;
}


const rname = (p: LockParams) => p.name ?? p.lock;

function misuse(p: LockParams, what: string): never {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} on "${rname(p)}" (${p.lock})`);
}

// ---------------------------------------------------------------------------------------------
// mutex / spinlock: { owner: thread | null }. Not recursive: a second lock by the owner self-deadlocks.

export interface MutexState {
  owner: string | null;
}
export const mutex = (): MutexState => ({ owner: null });
export const spinlock = mutex;

type Args = { context: Context };
// mutex_lock() / spin_lock(): proceeds when nobody owns it (also the trylock success condition).
const lockFree = ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner === null;
const lockHeld = ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner !== null;
// the calling thread owns it (lockdep_assert_held()).
const lockOwned = ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner === p.thread;
const takeLock = (op: string) =>
  kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (m: MutexState) => {
      if (m.owner !== null) misuse(p, `${op} while held by ${m.owner}`);
      return { ...m, owner: p.thread };
    }),
  );
const releaseLock = (op: string) =>
  kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (m: MutexState) => {
      if (m.owner !== p.thread) misuse(p, `${op} but the owner is ${m.owner ?? 'nobody'}`);
      return { ...m, owner: null };
    }),
  );
const lockWait = (kind: string): WaitFn => (context, p: LockParams) => {
  const m: MutexState = getIn(context, p.lock);
  return m.owner === null ? null : { resource: rname(p), kind, mode: 'lock', holders: [m.owner] };
};
const mutexOps = {
  guards: { mutex_can_lock: lockFree, mutex_trylock_ok: lockFree, mutex_is_locked: lockHeld, mutex_is_owner: lockOwned },
  actions: { mutex_lock: takeLock('mutex_lock'), mutex_unlock: releaseLock('mutex_unlock') },
  waits: { mutex_can_lock: lockWait('mutex') },
};
const spinOps = {
  guards: { spin_can_lock: lockFree, spin_trylock_ok: lockFree, spin_is_locked: lockHeld, spin_is_owner: lockOwned },
  actions: { spin_lock: takeLock('spin_lock'), spin_unlock: releaseLock('spin_unlock') },
  waits: { spin_can_lock: lockWait('spinlock') },
};

// ---------------------------------------------------------------------------------------------
// rw_semaphore (kernel/locking/rwsem.c), writer-preferring:
//   { owner: writer | null, readers: sorted multiset of reader threads,
//     waitingWriters: FIFO of queued writers, waitingReaders: sorted multiset of queued readers }
// A new down_read() fails its fast path and queues while a writer holds the lock OR any waiter is
// queued (RWSEM_READ_FAILED_MASK includes RWSEM_FLAG_WAITERS), so a recursive read while a writer
// waits deadlocks. A writer queues (rwsem_down_write_slowpath adds it to the wait list) and acquires
// when the lock is free and no writer queued before it.
// Approximation (checked against kernel/locking/rwsem.c, 5.13..6.x): here a queued writer ALWAYS makes a
// new down_read() wait. The kernel is more permissive in two ways:
//  (1) reader optimistic lock stealing (5.13, rwsem_down_read_slowpath): rwsem_read_trylock() adds
//      READER_BIAS first; its fast path fails on RWSEM_READ_FAILED_MASK (writer, WAITERS, HANDOFF), but the
//      slow path then KEEPS the read lock when count has neither RWSEM_WRITER_LOCKED nor RWSEM_FLAG_HANDOFF,
//      unless the owner is RWSEM_READER_OWNED and rcnt > 1 (other readers hold it: then it queues). So a
//      reader takes a lock that no writer and no other reader holds even while writers are queued (e.g.
//      between up_write()/the last up_read() and the woken writer's rwsem_try_write_lock()), until the first
//      waiter has waited past RWSEM_WAIT_TIMEOUT (or is RT) and set HANDOFF, which stops the stealing.
//  (2) phase-fair wakeup (rwsem_mark_wake since 5.3): when the FIRST waiter is a reader, the wakeup grants
//      read to every queued reader (up to MAX_READERS_WAKEUP), including readers queued BEHIND waiting
//      writers. The model keeps no reader/writer order on the wait list, so such readers wait for the writers.
// What the model keeps exactly: a writer holding it blocks readers; readers holding it plus a queued writer
// block a new reader (rcnt > 1 and reader-owned -> queue), so the recursive-read-while-a-writer-waits
// deadlock is real in both. Consequence: the model is NOT an over-approximation (not "conservative" for
// verification): every interleaving it shows is one the kernel can run (a blocked reader that did not use
// down_read_queue can always be read as "has not reached the lock yet", and the queued writer it waits for
// can take the free lock, so this rule alone never makes a false deadlock; a reader that DID queue before the
// writer would, in the kernel, be granted first by (2)), but the interleavings where a reader steals ahead of a queued
// writer, or is granted in the same wakeup as the readers ahead of that writer, are MISSING: a bug that needs
// a reader to get in ahead of a queued writer (e.g. reader steals, then blocks on a lock that the waiting
// writer's thread holds) cannot be found with this rwsem; a pass verdict does not cover it. Changing this
// would add states to the models that use this rwsem (s_umount in machines/kernel/freeze.ts, i.e.
// sb-freeze and bcachefs-freeze; btrfs-send's commit_root_sem; xfs-inodegc's s_umount), so it stays as is;
// rwsem_is_contended() sees waitingReaders only for readers that queued with down_read_queue.

export interface RwsemState {
  owner: string | null;
  readers: string[];
  waitingWriters: string[];
  waitingReaders: string[];
}
export const rwsem = (): RwsemState => ({ owner: null, readers: [], waitingWriters: [], waitingReaders: [] });

const rwsemCanRead = (s: RwsemState) => s.owner === null && s.waitingWriters.length === 0;
const rwsemCanWrite = (s: RwsemState, thread: string) =>
  s.owner === null && s.readers.length === 0 && (s.waitingWriters.length === 0 || s.waitingWriters[0] === thread);

const rwsemGuards = {
  // down_read(): no writer holds it and no writer is queued.
  rwsem_can_down_read: ({ context }: Args, p: LockParams) => rwsemCanRead(getIn(context, p.lock)),
  // down_write(): free, and this thread is the first queued writer (or nobody is queued).
  rwsem_can_down_write: ({ context }: Args, p: LockParams) => rwsemCanWrite(getIn(context, p.lock), p.thread),
  // down_read_trylock(): same condition as the read fast path.
  rwsem_down_read_trylock_ok: ({ context }: Args, p: LockParams) => rwsemCanRead(getIn(context, p.lock)),
  // down_write_trylock(): cmpxchg(count, 0, WRITER_LOCKED): free and no waiters at all.
  rwsem_down_write_trylock_ok: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return s.owner === null && s.readers.length === 0 && s.waitingWriters.length === 0 && s.waitingReaders.length === 0;
  },
  // rwsem_is_contended(): somebody is on the wait list.
  rwsem_is_contended: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return s.waitingWriters.length > 0 || s.waitingReaders.length > 0;
  },
  rwsem_is_write_owner: ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner === p.thread,
  rwsem_is_read_holder: ({ context }: Args, p: LockParams) => getIn(context, p.lock).readers.includes(p.thread),
  rwsem_is_locked: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return s.owner !== null || s.readers.length > 0;
  },
};

const rwsemActions = {
  // takes a read hold (dequeues the thread if it had queued with rwsem_queue_reader)
  rwsem_down_read: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: RwsemState) => ({
      ...s,
      readers: insertSorted(s.readers, p.thread),
      waitingReaders: removeOne(s.waitingReaders, p.thread) ?? s.waitingReaders,
    })),
  ),
  rwsem_up_read: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: RwsemState) => {
      const readers = removeOne(s.readers, p.thread);
      if (readers === null) misuse(p, 'up_read without a read hold');
      return { ...s, readers };
    }),
  ),
  // rwsem_down_write_slowpath(): the writer goes on the wait list (new readers now queue behind it)
  rwsem_queue_writer: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: RwsemState) => {
      if (s.waitingWriters.includes(p.thread)) misuse(p, 'queued twice as a writer');
      return { ...s, waitingWriters: [...s.waitingWriters, p.thread] };
    }),
  ),
  // rwsem_down_read_slowpath(): a reader on the wait list (only needed for rwsem_is_contended)
  rwsem_queue_reader: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: RwsemState) => ({ ...s, waitingReaders: insertSorted(s.waitingReaders, p.thread) })),
  ),
  rwsem_down_write: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: RwsemState) => {
      if (s.owner !== null || s.readers.length > 0) misuse(p, 'down_write on a held rwsem');
      return { ...s, owner: p.thread, waitingWriters: removeOne(s.waitingWriters, p.thread) ?? s.waitingWriters };
    }),
  ),
  rwsem_up_write: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: RwsemState) => {
      if (s.owner !== p.thread) misuse(p, `up_write but the owner is ${s.owner ?? 'nobody'}`);
      return { ...s, owner: null };
    }),
  ),
  // downgrade_write(): write hold becomes a read hold atomically
  rwsem_downgrade_write: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: RwsemState) => {
      if (s.owner !== p.thread) misuse(p, 'downgrade_write without the write hold');
      return { ...s, owner: null, readers: insertSorted(s.readers, p.thread) };
    }),
  ),
};

const rwsemWaits: Record<string, WaitFn> = {
  rwsem_can_down_read: (context, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    if (rwsemCanRead(s)) return null;
    // held by a writer, or queued behind waiting writers (writer preference)
    const holders = s.owner !== null ? [s.owner] : uniq(s.waitingWriters);
    return { resource: rname(p), kind: 'rwsem', mode: s.owner !== null ? 'down_read' : 'down_read (behind waiting writer)', holders };
  },
  rwsem_can_down_write: (context, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    if (rwsemCanWrite(s, p.thread)) return null;
    let holders: string[];
    if (s.owner !== null) holders = [s.owner];
    else if (s.readers.length > 0) holders = uniq(s.readers);
    else {
      // queued writers ahead of it (all of them when it did not queue: the one-step down_write)
      const at = s.waitingWriters.indexOf(p.thread);
      holders = at < 0 ? s.waitingWriters.slice() : s.waitingWriters.slice(0, at);
    }
    return { resource: rname(p), kind: 'rwsem', mode: 'down_write', holders };
  },
};

// ---------------------------------------------------------------------------------------------
// percpu_rw_semaphore (kernel/locking/percpu-rwsem.c) as sb_writers uses it:
//   { writer: thread | null, block: bool, readers: sorted multiset }
// percpu_down_write = (1) wait for the previous writer, take ownership and set `block`
// (__percpu_down_write_trylock), then (2) wait until the readers drain (readers_active_check).
// percpu_down_read succeeds iff !block; new readers wait while block is set, even while old readers drain.

export interface PercpuRwsemState {
  writer: string | null;
  block: boolean;
  readers: string[];
}
export const percpuRwsem = (): PercpuRwsemState => ({ writer: null, block: false, readers: [] });

const percpuGuards = {
  // percpu_down_read(): fast path unless a writer set block; else sleeps until percpu_up_write()
  percpu_can_down_read: ({ context }: Args, p: LockParams) => !getIn(context, p.lock).block,
  // percpu_down_read_trylock(): fails while block is set
  percpu_down_read_trylock_ok: ({ context }: Args, p: LockParams) => !getIn(context, p.lock).block,
  // percpu_down_write() step 1: no other writer (percpu_rwsem_wait(sem, true) otherwise)
  percpu_can_down_write: ({ context }: Args, p: LockParams) => getIn(context, p.lock).writer === null,
  // percpu_down_write() step 2: rcuwait_wait_event(&sem->writer, readers_active_check(sem))
  percpu_readers_drained: ({ context }: Args, p: LockParams) => getIn(context, p.lock).readers.length === 0,
  percpu_is_write_owner: ({ context }: Args, p: LockParams) => getIn(context, p.lock).writer === p.thread,
  percpu_is_read_holder: ({ context }: Args, p: LockParams) => getIn(context, p.lock).readers.includes(p.thread),
};

const percpuActions = {
  percpu_down_read: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: PercpuRwsemState) => ({ ...s, readers: insertSorted(s.readers, p.thread) })),
  ),
  percpu_up_read: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: PercpuRwsemState) => {
      const readers = removeOne(s.readers, p.thread);
      if (readers === null) misuse(p, 'percpu_up_read without a read hold');
      return { ...s, readers };
    }),
  ),
  // percpu_down_write() step 1: writer ownership + block = 1
  percpu_down_write_block: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: PercpuRwsemState) => {
      if (s.writer !== null) misuse(p, `percpu_down_write while ${s.writer} owns it`);
      return { ...s, writer: p.thread, block: true };
    }),
  ),
  // percpu_up_write(): clear block, drop ownership, wake the readers
  percpu_up_write: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: PercpuRwsemState) => {
      // Not checked against p.thread: thaw_super() releases the levels freeze_super() took in another
      // task (lockdep_sb_freeze_acquire/release hand the ownership over).
      if (s.writer === null) misuse(p, 'percpu_up_write but no writer holds it');
      return { ...s, writer: null, block: false };
    }),
  ),
};

const percpuWaits: Record<string, WaitFn> = {
  percpu_can_down_read: (context, p: LockParams) => {
    const s: PercpuRwsemState = getIn(context, p.lock);
    return !s.block ? null : { resource: rname(p), kind: 'percpu_rwsem', mode: 'percpu_down_read', holders: s.writer ? [s.writer] : [] };
  },
  percpu_can_down_write: (context, p: LockParams) => {
    const s: PercpuRwsemState = getIn(context, p.lock);
    return s.writer === null ? null : { resource: rname(p), kind: 'percpu_rwsem', mode: 'percpu_down_write', holders: [s.writer] };
  },
  percpu_readers_drained: (context, p: LockParams) => {
    const s: PercpuRwsemState = getIn(context, p.lock);
    return s.readers.length === 0
      ? null
      : { resource: rname(p), kind: 'percpu_rwsem', mode: 'percpu_down_write (wait for readers to drain)', holders: uniq(s.readers) };
  },
};

// ---------------------------------------------------------------------------------------------
// sb_writers (include/linux/fs.h, fs/super.c): { frozen: 0..4, rw_sem: [percpu x 3] }, rw_sem[level-1].

export const SB_UNFROZEN = 0;
export const SB_FREEZE_WRITE = 1;
export const SB_FREEZE_PAGEFAULT = 2;
export const SB_FREEZE_FS = 3;
export const SB_FREEZE_COMPLETE = 4;
export const SB_FREEZE_LEVELS = 3;
export const SB_LEVEL_NAMES = ['SB_UNFROZEN', 'SB_FREEZE_WRITE', 'SB_FREEZE_PAGEFAULT', 'SB_FREEZE_FS', 'SB_FREEZE_COMPLETE'];

export interface SbWritersState {
  frozen: number;
  rw_sem: PercpuRwsemState[];
}
/** Initial `sb->s_writers`: unfrozen, three free percpu rwsems. */
export const sbWriters = (): SbWritersState => ({ frozen: SB_UNFROZEN, rw_sem: [percpuRwsem(), percpuRwsem(), percpuRwsem()] });

/** Params of the percpu rwsem behind one freeze level of the sb_writers slice at path `sb`. */
export function sbLevelLock(sb: string, level: number, thread: string): LockParams {
  if (!(level >= SB_FREEZE_WRITE && level <= SB_FREEZE_FS)) throw new Error(`sb_writers level ${level} is not 1..3`);
  const base = sb === 's_writers' || sb === 'sb_writers' ? 'sb_writers' : sb;
  return { lock: `${sb}.rw_sem.${level - 1}`, thread, name: `${base}[${SB_LEVEL_NAMES[level]}]` };
}

export interface SbParams {
  sb: string;
  level: number;
}
const sbGuards = {
  sb_frozen_is: ({ context }: Args, p: SbParams) => getIn(context, p.sb).frozen === p.level,
  sb_frozen_below: ({ context }: Args, p: SbParams) => getIn(context, p.sb).frozen < p.level,
  sb_frozen_at_least: ({ context }: Args, p: SbParams) => getIn(context, p.sb).frozen >= p.level,
};
const sbActions = {
  // sb->s_writers.frozen = level
  sb_set_frozen: kAssign(({ context }, p: SbParams) =>
    updateIn(context, p.sb, (s: SbWritersState) => ({ ...s, frozen: p.level })),
  ),
};

// ---------------------------------------------------------------------------------------------
// Registries to spread into setup({ guards, actions }) and into the model's `waits`.

export const lockGuards = {
  ...mutexOps.guards,
  ...spinOps.guards,
  ...rwsemGuards,
  ...percpuGuards,
  ...sbGuards,
};
export const lockActions = {
  ...mutexOps.actions,
  ...spinOps.actions,
  ...rwsemActions,
  ...percpuActions,
  ...sbActions,
};
export const lockWaits: Record<string, WaitFn> = {
  ...mutexOps.waits,
  ...spinOps.waits,
  ...rwsemWaits,
  ...percpuWaits,
};

// ---------------------------------------------------------------------------------------------
// Call helpers: each returns a transition fragment `{ guard?, actions? }` to spread into a transition
// config (add `target` yourself). Trylocks return an ARRAY of two transitions (success, failure)
// for one event, so the trylock step is always enabled and never blocks.

// Refs are typed `any` so that they fit any model's typed setup() (its guard/action name unions).
/** A named guard reference { type, params }. */
export type GuardRef = any;
/** A named action reference { type, params }. */
export type ActionRef = any;
/** A transition fragment: spread it and add `target`. */
export interface Step {
  guard?: any;
  actions?: any[];
}
export interface TryTargets {
  /** state to go to when the trylock succeeds */
  ok: string;
  /** state to go to when it fails */
  fail: string;
  /** extra actions on success / failure */
  okActions?: any[];
  failActions?: any[];
}

const g = (type: string, params: any): GuardRef => ({ type, params });
const a = (type: string, params: any): ActionRef => ({ type, params });
const lp = (lock: string, thread: string, name?: string): LockParams => (name === undefined ? { lock, thread } : { lock, thread, name });

/** Turns a success step into [success transition, failure transition]; the pair is always enabled. */
export function tryBranch(success: Step, t: TryTargets): any[] {
  return [
    { guard: success.guard, actions: [...(success.actions ?? []), ...(t.okActions ?? [])], target: t.ok },
    { actions: [...(t.failActions ?? [])], target: t.fail },
  ];
}

// mutex
export const mutex_lock = (lock: string, thread: string, name?: string): Step => ({
  guard: g('mutex_can_lock', lp(lock, thread, name)),
  actions: [a('mutex_lock', lp(lock, thread, name))],
});
export const mutex_unlock = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('mutex_unlock', lp(lock, thread, name))],
});
export const mutex_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('mutex_trylock_ok', lp(lock, thread, name)), actions: [a('mutex_lock', lp(lock, thread, name))] }, t);

// spinlock
export const spin_lock = (lock: string, thread: string, name?: string): Step => ({
  guard: g('spin_can_lock', lp(lock, thread, name)),
  actions: [a('spin_lock', lp(lock, thread, name))],
});
export const spin_unlock = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('spin_unlock', lp(lock, thread, name))],
});
export const spin_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('spin_trylock_ok', lp(lock, thread, name)), actions: [a('spin_lock', lp(lock, thread, name))] }, t);

// rw_semaphore
export const down_read = (lock: string, thread: string, name?: string): Step => ({
  guard: g('rwsem_can_down_read', lp(lock, thread, name)),
  actions: [a('rwsem_down_read', lp(lock, thread, name))],
});
export const up_read = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_up_read', lp(lock, thread, name))],
});
/** One-step down_write: acquires when free and no writer queued before. Does NOT make new readers wait
 * before it acquires; use down_write_queue + down_write_acquire when writer preference matters. */
export const down_write = (lock: string, thread: string, name?: string): Step => ({
  guard: g('rwsem_can_down_write', lp(lock, thread, name)),
  actions: [a('rwsem_down_write', lp(lock, thread, name))],
});
/** down_write step 1: join the wait list (from here on new down_read()s block). Always enabled. */
export const down_write_queue = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_queue_writer', lp(lock, thread, name))],
});
/** down_write step 2: acquire when free and first in line. */
export const down_write_acquire = down_write;
/** Optional down_read step 1 (only to make rwsem_is_contended see waiting readers). */
export const down_read_queue = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_queue_reader', lp(lock, thread, name))],
});
export const up_write = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_up_write', lp(lock, thread, name))],
});
export const downgrade_write = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_downgrade_write', lp(lock, thread, name))],
});
export const down_read_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('rwsem_down_read_trylock_ok', lp(lock, thread, name)), actions: [a('rwsem_down_read', lp(lock, thread, name))] }, t);
export const down_write_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('rwsem_down_write_trylock_ok', lp(lock, thread, name)), actions: [a('rwsem_down_write', lp(lock, thread, name))] }, t);
/** Guard ref: rwsem_is_contended(sem). */
export const rwsem_is_contended = (lock: string, thread = '', name?: string): GuardRef => g('rwsem_is_contended', lp(lock, thread, name));

// percpu_rw_semaphore
export const percpu_down_read = (lock: string, thread: string, name?: string): Step => ({
  guard: g('percpu_can_down_read', lp(lock, thread, name)),
  actions: [a('percpu_down_read', lp(lock, thread, name))],
});
export const percpu_up_read = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('percpu_up_read', lp(lock, thread, name))],
});
export const percpu_down_read_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('percpu_down_read_trylock_ok', lp(lock, thread, name)), actions: [a('percpu_down_read', lp(lock, thread, name))] }, t);
/** percpu_down_write step 1: wait for other writers, then own it and set block. */
export const percpu_down_write_block = (lock: string, thread: string, name?: string): Step => ({
  guard: g('percpu_can_down_write', lp(lock, thread, name)),
  actions: [a('percpu_down_write_block', lp(lock, thread, name))],
});
/** percpu_down_write step 2: wait until no reader holds it (no state change). */
export const percpu_down_write_drain = (lock: string, thread: string, name?: string): Step => ({
  guard: g('percpu_readers_drained', lp(lock, thread, name)),
});
export const percpu_up_write = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('percpu_up_write', lp(lock, thread, name))],
});

// sb_writers: sb = context path of the sb_writers slice (e.g. "s_writers")
const sbStart = (sb: string, level: number, thread: string): Step => {
  const p = sbLevelLock(sb, level, thread);
  return percpu_down_read(p.lock, thread, p.name);
};
const sbEnd = (sb: string, level: number, thread: string): Step => {
  const p = sbLevelLock(sb, level, thread);
  return percpu_up_read(p.lock, thread, p.name);
};
const sbTry = (sb: string, level: number, thread: string, t: TryTargets): any[] => {
  const p = sbLevelLock(sb, level, thread);
  return percpu_down_read_trylock(p.lock, thread, t, p.name);
};
export const sb_start_write = (sb: string, thread: string) => sbStart(sb, SB_FREEZE_WRITE, thread);
export const sb_start_pagefault = (sb: string, thread: string) => sbStart(sb, SB_FREEZE_PAGEFAULT, thread);
export const sb_start_intwrite = (sb: string, thread: string) => sbStart(sb, SB_FREEZE_FS, thread);
export const sb_end_write = (sb: string, thread: string) => sbEnd(sb, SB_FREEZE_WRITE, thread);
export const sb_end_pagefault = (sb: string, thread: string) => sbEnd(sb, SB_FREEZE_PAGEFAULT, thread);
export const sb_end_intwrite = (sb: string, thread: string) => sbEnd(sb, SB_FREEZE_FS, thread);
export const sb_start_write_trylock = (sb: string, thread: string, t: TryTargets) => sbTry(sb, SB_FREEZE_WRITE, thread, t);
export const sb_start_pagefault_trylock = (sb: string, thread: string, t: TryTargets) => sbTry(sb, SB_FREEZE_PAGEFAULT, thread, t);
export const sb_start_intwrite_trylock = (sb: string, thread: string, t: TryTargets) => sbTry(sb, SB_FREEZE_FS, thread, t);
/** sb_wait_write(sb, level) step 1 / step 2 (percpu_down_write on rw_sem[level-1]). */
export const sb_wait_write_block = (sb: string, level: number, thread: string): Step => {
  const p = sbLevelLock(sb, level, thread);
  return percpu_down_write_block(p.lock, thread, p.name);
};
export const sb_wait_write_drain = (sb: string, level: number, thread: string): Step => {
  const p = sbLevelLock(sb, level, thread);
  return percpu_down_write_drain(p.lock, thread, p.name);
};
/** sb_freeze_unlock(): percpu_up_write on levels FS down to WRITE (may run in the thawer, not the freezer). */
export const sb_freeze_unlock = (sb: string, thread: string, levels = SB_FREEZE_LEVELS): Step => ({
  actions: Array.from({ length: levels }, (_, i) => levels - i).map((level) => {
    const p = sbLevelLock(sb, level, thread);
    return a('percpu_up_write', p);
  }),
});
/** Action ref: sb->s_writers.frozen = level. */
export const sb_set_frozen = (sb: string, level: number): ActionRef => a('sb_set_frozen', { sb, level });
/** Guard refs over sb->s_writers.frozen. */
export const sb_frozen_is = (sb: string, level: number): GuardRef => g('sb_frozen_is', { sb, level });
export const sb_frozen_below = (sb: string, level: number): GuardRef => g('sb_frozen_below', { sb, level });

/** Plain-function views for invariants/assertions. */
export const mutexOwner = (context: Context, lock: string): string | null => getIn(context, lock).owner;
export const sbFrozen = (context: Context, sb: string): number => getIn(context, sb).frozen;
export const sbLevelReaders = (context: Context, sb: string, level: number): string[] => getIn(context, sb).rw_sem[level - 1].readers;

/**
 * down_write() as the kernel runs it, for ONE event of the calling state: the fast path
 * (cmpxchg 0 -> WRITER_LOCKED: free and nobody queued) acquires and goes to `next`; otherwise the
 * writer joins the wait list (rwsem_down_write_slowpath; new readers now queue behind it) and goes to
 * `wait`, whose transition is `{ ...down_write_acquire(lock, thread), target: next }`.
 */
export const down_write_fast = (lock: string, thread: string, t: { next: string; wait: string; actions?: any[] }, name?: string): any[] => [
  { guard: g('rwsem_down_write_trylock_ok', lp(lock, thread, name)), actions: [a('rwsem_down_write', lp(lock, thread, name)), ...(t.actions ?? [])], target: t.next },
  { actions: [a('rwsem_queue_writer', lp(lock, thread, name))], target: t.wait },
];
/** The wait state that goes with down_write_fast: blocked until free and first in line. */
export const down_write_wait_state = (event: string, lock: string, thread: string, next: string, name?: string, actions: any[] = []): any => ({
  on: { [event]: { guard: g('rwsem_can_down_write', lp(lock, thread, name)), actions: [a('rwsem_down_write', lp(lock, thread, name)), ...actions], target: next } },
});
