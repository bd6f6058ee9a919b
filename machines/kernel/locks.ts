// Sleeping and spinning locks for models: mutex, spinlock, rw_semaphore, percpu_rw_semaphore and sb_writers.
//
// Every primitive is plain data at a context path the model chooses (`lock`, e.g. "s_umount" or
// "inodes.0.i_rwsem"). Guards and assign actions are NAMED and take params
// `{ lock, thread, name? }` (`name` is the resource name shown in deadlock reports; default: the path).
// The call helpers at the bottom return `{ guard, actions }` objects to spread into a transition,
// so a model reads like the C: `on: { 'freezer.down_write': { ...down_write('s_umount', 'freezer'), target: 'F2' } }`.
import { kAssign, lastHoldIn, withLock, withRelease, type WaitFn } from './types.ts';
import type { Context, WaitInfo } from '../../explorer/model.ts';
import { getIn, insertSorted, removeOne, uniq, updateIn } from './path.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareLowerings } from '../../explorer/compile/lower/declared.ts';

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
      // a qspinlock() has a wait queue the owner-only calls would step past (its waiters starve unseen)
      if (Array.isArray((m as { waiters?: unknown }).waiters)) {
        if ('handoff' in m) misuse(p, `${op} on a handoff mutex (handoffMutex()): take it with mutex_lock_handoff or mutex_trylock_handoff`);
        misuse(p, `${op} on a queued spinlock (qspinlock()): take it with spin_lock_queued or spin_trylock_queued`);
      }
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
// lock-order information (explorer/properties/lockorder.ts): who holds a mutex/spinlock, and lockdep's wait type of
// each class (__mutex_init and __init_rwsem: LD_WAIT_SLEEP; spinlock_t: LD_WAIT_CONFIG, which outside PREEMPT_RT
// is LD_WAIT_SPIN; percpu_init_rwsem uses lockdep_init_map, LD_WAIT_INV: not checked)
const SLEEPS = { inner: 'sleep' } as const;
const SPINS = { inner: 'spin' } as const;
const ownerHolds = (s: MutexState | undefined, thread: string) => (s?.owner === thread ? ('write' as const) : null);
const mutexOps = {
  guards: { mutex_can_lock: lockFree, mutex_trylock_ok: lockFree, mutex_is_locked: lockHeld, mutex_is_owner: lockOwned },
  actions: { mutex_lock: withLock(takeLock('mutex_lock'), { kind: 'mutex', mode: 'write', holds: ownerHolds, wait: SLEEPS }), mutex_unlock: withRelease(releaseLock('mutex_unlock'), { kind: 'mutex', holds: ownerHolds, wait: SLEEPS }) },
  waits: { mutex_can_lock: lockWait('mutex') },
};
const spinOps = {
  guards: { spin_can_lock: lockFree, spin_trylock_ok: lockFree, spin_is_locked: lockHeld, spin_is_owner: lockOwned },
  actions: { spin_lock: withLock(takeLock('spin_lock'), { kind: 'spinlock', mode: 'write', holds: ownerHolds, wait: SPINS }), spin_unlock: withRelease(releaseLock('spin_unlock'), { kind: 'spinlock', holds: ownerHolds, wait: SPINS }) },
  waits: { spin_can_lock: lockWait('spinlock') },
};

// ---------------------------------------------------------------------------------------------
// queued spinlock: { owner: thread | null, waiters: FIFO of threads }. The kernel's spin_lock() is a queued
// lock (kernel/locking/qspinlock.c: a waiter sets the pending bit or joins the MCS queue, and a later locker
// sees a non-zero lock word and queues behind it; the ticket locks of other architectures are FIFO too), so a
// CPU that unlocks and locks again cannot take the lock past a waiter. The owner-only `spinlock()` above lets
// it (any locker takes a free lock): fine for safety checks, but under weak fairness a waiter can starve
// behind a looping locker, which the kernel's lock does not allow. `spin_lock_queued(lock, thread, next)` on
// a `qspinlock()` is the fair one: it takes the lock when it is free and nobody waits, otherwise joins the
// queue and stays in the calling state until, first in line, it finds the lock free; spin_trylock_queued()
// fails while anybody holds or waits. spin_unlock() releases both kinds; spin_lock()/spin_trylock() are the
// owner-only lock's and would ignore the queue: on a qspinlock() they are a model error. Not modelled: the pending waiter's and the queue head's spinning steps (one step here), the
// short window in which a locker can steal the lock word before a waiter sets the pending bit.

export interface QSpinlockState {
  owner: string | null;
  waiters: string[];
}
/** A free queued spinlock (take it with spin_lock_queued, release it with spin_unlock). */
export const qspinlock = (): QSpinlockState => ({ owner: null, waiters: [] });

const qFree = (s: QSpinlockState) => s.owner === null && s.waiters.length === 0;
/** The queued spinlock at p.lock: a model error when it is an owner-only spinlock() or a handoffMutex(). */
function qspinAt(context: Context, p: LockParams): QSpinlockState {
  const s = getIn(context, p.lock);
  if ('handoff' in s) misuse(p, 'spin_lock_queued on a handoff mutex (handoffMutex()): take it with mutex_lock_handoff or mutex_trylock_handoff');
  if (!Array.isArray(s.waiters)) misuse(p, 'spin_lock_queued on a lock that is not a qspinlock(): make it qspinlock(), or take it with spin_lock');
  return s;
}
/** The waiter first in line finds the lock released. */
const qFirstCanLock = (s: QSpinlockState, thread: string) => s.owner === null && s.waiters[0] === thread;
const qspinGuards = {
  // queued_spin_lock() fast path: the lock word is 0 (nobody holds it, nobody waits)
  qspin_lock_now: ({ context }: Args, p: LockParams) => qFree(qspinAt(context, p)),
  // otherwise the slow path queues the caller (pending bit / MCS node)
  qspin_must_queue: ({ context }: Args, p: LockParams) => !qspinAt(context, p).waiters.includes(p.thread),
  // the waiter first in line takes the lock once the owner released it
  qspin_first_can_lock: ({ context }: Args, p: LockParams) => qFirstCanLock(qspinAt(context, p), p.thread),
};
/** `op` of a FIFO lock (qspinlock, handoffMutex) that cannot take it: joins the wait list at the tail (dQueue lowered). */
const joinQueue = (op: string) =>
  kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: { waiters: string[] }) => {
      if (s.waiters.includes(p.thread)) misuse(p, `${op} while already queued`);
      return { ...s, waiters: [...s.waiters, p.thread] };
    }),
  );
// takes the lock: at once when it is free and nobody waits, or the first waiter once it is released (dequeued)
const qspinTake = ({ context }: Args, p: LockParams) =>
  updateIn(context, p.lock, (s: QSpinlockState) => {
    if (s.owner !== null) misuse(p, `spin_lock while held by ${s.owner}`);
    if (s.waiters.length > 0 && s.waiters[0] !== p.thread) misuse(p, `spin_lock past the queued ${s.waiters[0]}`);
    return { ...s, owner: p.thread, waiters: s.waiters[0] === p.thread ? s.waiters.slice(1) : s.waiters };
  });
// lock-order information: the acquisition is the call, as lockdep's spin_acquire() comes before the arch lock:
// the take at once (or the trylock) or joining the queue; the waiter's take adds no edge into it (what the same
// step acquires next, as write_seqlock's seqcount, is taken under it)
const qspinLock = <A extends object>(action: A, recordedAtCall = false) =>
  withLock(action, { kind: 'spinlock', mode: 'write', holds: ownerHolds, recordedAtCall, wait: SPINS });
const qspinActions = {
  qspin_lock: qspinLock(kAssign(qspinTake)),
  qspin_lock_woken: qspinLock(kAssign(qspinTake), true),
  qspin_queue: qspinLock(joinQueue('spin_lock')),
};
/** A queued waiter of a FIFO lock (qspinlock, handoffMutex): blocked by the owner, or (lock free) queued behind the waiters ahead. */
const queuedLockWait = (kind: string): WaitFn => (context, p: LockParams) => {
  const s: QSpinlockState = getIn(context, p.lock);
  if (qFirstCanLock(s, p.thread)) return null;
  if (s.owner !== null) return { resource: rname(p), kind, mode: 'lock', holders: [s.owner] };
  const ahead = s.waiters.slice(0, Math.max(0, s.waiters.indexOf(p.thread)));
  return { resource: rname(p), kind, mode: 'lock', holders: ahead, queued: true };
};
const qspinWaits: Record<string, WaitFn> = { qspin_first_can_lock: queuedLockWait('spinlock') };

// ---------------------------------------------------------------------------------------------
// The kernel's mutex with its handoff: { owner: thread | null, waiters: FIFO of threads, handoff: boolean },
// as kernel/locking/mutex.c runs it since v4.10 (checked against v6.6). The owner-only `mutex()` above lets
// any locker take a free mutex, so under weak fairness a looping locker starves a waiter forever; the kernel
// bounds that with MUTEX_FLAG_HANDOFF. `mutex_lock_handoff(lock, thread, next)` on a `handoffMutex()` is the
// kernel's mutex_lock(), the transitions of ONE event (the thread stays in the calling state while queued):
//   take: nobody owns it and HANDOFF is clear (__mutex_trylock_fast, or the slow path's __mutex_trylock /
//     optimistic spinning: a newcomer may take a free mutex past the waiters, the kernel's lock stealing);
//   the first waiter takes it once it is free (woken by mutex_unlock: __mutex_trylock at the top of the loop
//     in __mutex_lock_common, or its optimistic spin), clearing HANDOFF; the other waiters sleep (unlock
//     wakes only the first: __mutex_unlock_slowpath, wake_q_add of the first entry);
//   the first waiter sets HANDOFF while somebody else holds it (__mutex_trylock_or_handoff(lock, first)
//     after schedule(): it was woken and a stealer got there first). From then on only it takes the mutex:
//     the kernel's unlock hands it over (__mutex_handoff: owner = first waiter | PICKUP), here the mutex is
//     free but reserved for it, and a newcomer's trylock fails as on the PICKUP owner word.
//   queue: otherwise (__mutex_add_waiter at the tail).
// Setting HANDOFF is a step the first waiter may take at any time the mutex is held: the kernel takes it
// after a wake-up that found the mutex stolen; a spurious wake-up makes the earlier step possible too. It only
// adds interleavings (it may also not be taken), so no kernel behaviour is lost. Release with mutex_unlock;
// mutex_trylock_handoff is mutex_trylock() (fails while it is held or handed over). The owner-only
// mutex_lock()/mutex_trylock() would step past the queue: on a handoffMutex() they are a model error.
// Not modelled: interruptible/killable waits leaving the queue, ww_mutex, the optimistic-spin queue (osq); a
// waiter behind the first woken spuriously (it could then steal a free mutex while HANDOFF is clear, through
// the __mutex_trylock at the top of the wait loop: as the rwsem's, this model wakes only the first);
// between a handover and the waiter's pickup mutex_is_locked() reads false here (the kernel's owner word
// already names the waiter).

export interface HandoffMutexState {
  owner: string | null;
  waiters: string[];
  handoff: boolean;
}
/** A free kernel mutex with handoff (take it with mutex_lock_handoff, release it with mutex_unlock). */
export const handoffMutex = (): HandoffMutexState => ({ owner: null, waiters: [], handoff: false });

const hmCanTake = (s: HandoffMutexState) => s.owner === null && !s.handoff;
/** The handoff mutex at p.lock: a model error when it is another lock (a mutex(), a qspinlock()). */
function hmutexAt(context: Context, p: LockParams): HandoffMutexState {
  const s = getIn(context, p.lock);
  if (!('handoff' in s) || !Array.isArray(s.waiters)) misuse(p, 'mutex_lock_handoff on a lock that is not a handoffMutex(): make it handoffMutex()');
  return s;
}
const hmutexGuards = {
  // a locker not queued takes a free mutex whose HANDOFF is clear (fast path, trylock, optimistic spin)
  hmutex_lock_now: ({ context }: Args, p: LockParams) => {
    const s = hmutexAt(context, p);
    return !s.waiters.includes(p.thread) && hmCanTake(s);
  },
  hmutex_must_queue: ({ context }: Args, p: LockParams) => !hmutexAt(context, p).waiters.includes(p.thread),
  // the first waiter takes it once it is free or handed over to it (qFirstCanLock: the same test as the qspinlock's)
  hmutex_first_can_lock: ({ context }: Args, p: LockParams) => qFirstCanLock(hmutexAt(context, p), p.thread),
  hmutex_may_set_handoff: ({ context }: Args, p: LockParams) => {
    const s = hmutexAt(context, p);
    return s.waiters[0] === p.thread && s.owner !== null && s.owner !== p.thread && !s.handoff;
  },
  hmutex_trylock_ok: ({ context }: Args, p: LockParams) => hmCanTake(hmutexAt(context, p)),
};
// takes the mutex: a newcomer past the waiters while HANDOFF is clear, or the first waiter (dequeued, HANDOFF cleared)
const hmTake = ({ context }: Args, p: LockParams) =>
  updateIn(context, p.lock, (s: HandoffMutexState) => {
    if (s.owner !== null) misuse(p, `mutex_lock while held by ${s.owner}`);
    const first = s.waiters[0] === p.thread;
    if (s.handoff && !first) misuse(p, `mutex_lock past ${s.waiters[0]}, to whom it is handed over`);
    if (!first && s.waiters.includes(p.thread)) misuse(p, 'mutex_lock past the waiters queued ahead');
    return { ...s, owner: p.thread, waiters: first ? s.waiters.slice(1) : s.waiters, handoff: first ? false : s.handoff };
  });
// lock-order information: the acquisition is the call, as lockdep's mutex_acquire_nest() comes before the slow
// path (as the rwsem's): the take at once (or the trylock) or joining the wait list; the waiter's take adds no
// edge into it (what the same step acquires next is taken under it)
const hmutexLock = <A extends object>(action: A, recordedAtCall = false) =>
  withLock(action, { kind: 'mutex', mode: 'write', holds: ownerHolds, recordedAtCall, wait: SLEEPS });
const hmutexActions = {
  hmutex_lock: hmutexLock(kAssign(hmTake)),
  hmutex_lock_woken: hmutexLock(kAssign(hmTake), true),
  hmutex_queue: hmutexLock(joinQueue('mutex_lock')),
  hmutex_set_handoff: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: HandoffMutexState) => {
      if (s.waiters[0] !== p.thread) misuse(p, 'sets MUTEX_FLAG_HANDOFF but is not the first waiter');
      return { ...s, handoff: true };
    }),
  ),
};
const hmutexWaits: Record<string, WaitFn> = { hmutex_first_can_lock: queuedLockWait('mutex') };

// ---------------------------------------------------------------------------------------------
// rw_semaphore, as kernel/locking/rwsem.c runs it since v5.13 (checked against v6.6):
//   { owner: writer | null, readers: sorted multiset of read holders,
//     waiters: the wait list in FIFO order, each "r:thread" or "w:thread",
//     handoff: RWSEM_FLAG_HANDOFF, granted: sorted readers woken with the lock already granted }
// One plain call, `down_read(lock, thread, next)` / `down_write(lock, thread, next)`, returns the
// transitions of ONE event of the calling state (the thread stays there while it is queued):
// down_read():
//   fast path (rwsem_read_trylock): no writer holds it, nobody waits, no handoff -> read hold.
//   slow path (rwsem_down_read_slowpath): "reader optimistic lock stealing": when no writer holds it and
//     HANDOFF is clear it keeps the read hold even with writers queued, unless other readers hold it
//     (RWSEM_READER_OWNED && rcnt > 1: then it queues, "to prevent a constant stream of readers from
//     starving a sleeping writer"). Otherwise it joins the wait list and sleeps until a wakeup grants it.
//   With `rwsem({ readerSteal: false })` (pre-5.13 queueing, as before commit 617f3ef95177 "locking/rwsem:
//     Remove reader optimistic spinning" added the stealing) a reader that fails the fast path queues.
// wakeup (rwsem_mark_wake): when the FIRST waiter is a reader and no writer holds the lock, every reader on
//   the wait list is granted at once, also those queued behind writers (the loop skips
//   RWSEM_WAITING_FOR_WRITE entries, up to MAX_READERS_WAKEUP); a writer first in line is only woken and
//   must take the lock itself. The model grants lazily: the first reader in line that runs grants the whole
//   batch (marks them `granted`), which is the kernel's grant seen at the moment a woken reader runs; a
//   writer or reader stealing the lock in the window before that is the window the kernel has between the
//   count update in up_read()/up_write() and rwsem_wake().
// down_write():
//   fast path / optimistic spinning (rwsem_write_trylock, rwsem_try_write_lock_unqueued): takes it when no
//     one holds it and HANDOFF is clear, even with waiters queued (lock stealing).
//   slow path (rwsem_down_write_slowpath): joins the wait list and sleeps; rwsem_mark_wake() wakes only the
//     first waiter, so it takes the lock (rwsem_try_write_lock) once it is first in line and no one holds it.
//     Its try right after joining, under wait_lock, succeeds only when the fast path would have (no holder,
//     HANDOFF clear), so it is the fast path's step here, not one of its own. The first waiter may
//     set HANDOFF while the lock is held (it waited past RWSEM_WAIT_TIMEOUT, or is RT): a separate step of
//     the same event, taken at any time, after which nobody steals the lock from it. (Since v6.3, "A waiter
//     (first or not) can set the handoff bit", but the handoff is recorded on the first waiter:
//     first->handoff_set = true; a first WRITER setting it is the case modelled.)
// Not modelled: a reader first in line setting HANDOFF in rwsem_mark_wake when a writer stole the lock, or a
// non-first writer setting it while a reader is first (both only restrict stealing further),
// rwsem_down_read_slowpath's spinning on a writer owner. The two-state form (down_write_queue, then
// down_write_acquire) has no fast path: there any queued writer may take a free lock while HANDOFF is clear,
// standing in for the fast path and the try after joining, which over-approximates a sleeping non-first writer.

export interface RwsemState {
  owner: string | null;
  readers: string[];
  waiters: string[];
  handoff: boolean;
  granted: string[];
  /** Present and false only for the pre-5.13 behaviour (no reader lock stealing). */
  readerSteal?: boolean;
}
/** A free rw_semaphore; `{ readerSteal: false }` models kernels before 5.13 (no reader lock stealing). */
export const rwsem = (o: { readerSteal?: boolean } = {}): RwsemState => ({
  owner: null,
  readers: [],
  waiters: [],
  handoff: false,
  granted: [],
  ...(o.readerSteal === false ? { readerSteal: false } : {}),
});

const R = (t: string) => `r:${t}`;
const W = (t: string) => `w:${t}`;
const waiterThread = (w: string) => w.slice(2);
const isReaderWaiter = (w: string) => w.charCodeAt(0) === 114; // 'r'
const queued = (s: RwsemState, t: string) => s.waiters.includes(R(t)) || s.waiters.includes(W(t));
const idle = (s: RwsemState, t: string) => !queued(s, t) && !s.granted.includes(t);
const unheld = (s: RwsemState) => s.owner === null && s.readers.length === 0;

// down_read() takes the read hold at once (fast path or, 5.13+, stealing).
const rwsemReadNow = (s: RwsemState) =>
  s.owner === null &&
  (s.waiters.length === 0 || (s.readerSteal !== false && !s.handoff && s.readers.length === 0));
// rwsem_mark_wake() would grant the queued readers: no writer holds it and a reader is first in line.
const rwsemReadersWake = (s: RwsemState) => s.owner === null && s.waiters[0] !== undefined && isReaderWaiter(s.waiters[0]);
// down_write() takes it: nobody holds it and HANDOFF is clear, or this queued thread is first and set it.
const rwsemCanWrite = (s: RwsemState, thread: string) => unheld(s) && (!s.handoff || s.waiters[0] === W(thread));
// a queued writer woken by rwsem_mark_wake() takes it: only the FIRST waiter is woken, when nobody holds it
// (a HANDOFF it did not set cannot be pending: only the first writer sets it, and taking the lock clears it).
const rwsemFirstCanWrite = (s: RwsemState, thread: string) => s.waiters[0] === W(thread) && unheld(s);

const rwsemGuards = {
  // down_read() on entry: read hold at once
  rwsem_down_read_now: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return idle(s, p.thread) && rwsemReadNow(s);
  },
  // down_read() on entry, otherwise: join the wait list
  rwsem_down_read_must_queue: ({ context }: Args, p: LockParams) => idle(getIn(context, p.lock), p.thread),
  // a queued reader runs the wakeup for the readers' batch
  rwsem_read_wake_ok: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return s.waiters.includes(R(p.thread)) && rwsemReadersWake(s);
  },
  // a reader granted by another's wakeup returns from down_read()
  rwsem_read_granted: ({ context }: Args, p: LockParams) => getIn(context, p.lock).granted.includes(p.thread),
  // down_write() on entry: fast path or lock stealing
  rwsem_down_write_now: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return idle(s, p.thread) && rwsemCanWrite(s, p.thread);
  },
  // down_write() on entry, otherwise: join the wait list
  rwsem_down_write_must_queue: ({ context }: Args, p: LockParams) => idle(getIn(context, p.lock), p.thread),
  // the queued writer first in line, woken by rwsem_mark_wake(), takes it (rwsem_try_write_lock)
  rwsem_can_down_write: ({ context }: Args, p: LockParams) => rwsemFirstCanWrite(getIn(context, p.lock), p.thread),
  // down_write_acquire(): any queued writer's rwsem_try_write_lock(), standing in for the fast path too
  rwsem_try_write_lock_ok: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return s.waiters.includes(W(p.thread)) && rwsemCanWrite(s, p.thread);
  },
  // the first queued writer sets HANDOFF while the lock is held (rwsem_try_write_lock after the timeout)
  rwsem_may_set_handoff: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return !s.handoff && s.waiters[0] === W(p.thread) && !unheld(s);
  },
  // down_read_trylock(): the read fast path (fails on a writer, waiters or HANDOFF: RWSEM_READ_FAILED_MASK)
  rwsem_down_read_trylock_ok: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return s.owner === null && s.waiters.length === 0 && !s.handoff;
  },
  // down_write_trylock(): cmpxchg(count, 0, WRITER_LOCKED): free and no waiters at all.
  rwsem_down_write_trylock_ok: ({ context }: Args, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return unheld(s) && s.waiters.length === 0;
  },
  // rwsem_is_contended(): somebody is on the wait list.
  rwsem_is_contended: ({ context }: Args, p: LockParams) => getIn(context, p.lock).waiters.length > 0,
  rwsem_is_write_owner: ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner === p.thread,
  rwsem_is_read_holder: ({ context }: Args, p: LockParams) => getIn(context, p.lock).readers.includes(p.thread),
  rwsem_is_locked: ({ context }: Args, p: LockParams) => !unheld(getIn(context, p.lock)),
};

const updateRwsem = (fn: (s: RwsemState, p: LockParams) => RwsemState) =>
  kAssign(({ context }, p: LockParams) => updateIn(context, p.lock, (s: RwsemState) => fn(s, p)));
// lock-order information: the acquisition is the call (its first step: the fast path, the steal, or joining
// the wait list, as lockdep's rwsem_acquire() comes before the slow path); the wakeup steps add nothing
const rwsemHolds = (s: RwsemState | undefined, thread: string) =>
  s?.owner === thread ? ('write' as const) : s?.readers?.includes(thread) ? ('read' as const) : null;
const rwsemRead = <A extends object>(action: A) => withLock(action, { kind: 'rwsem', mode: 'read', holds: rwsemHolds, wait: SLEEPS });
const rwsemWrite = <A extends object>(action: A) => withLock(action, { kind: 'rwsem', mode: 'write', holds: rwsemHolds, wait: SLEEPS });

const rwsemActions = {
  // down_read() fast path / stealing: a read hold
  rwsem_down_read: rwsemRead(updateRwsem((s, p) => ({ ...s, readers: insertSorted(s.readers, p.thread) }))),
  // down_read_trylock() success (a separate name: a trylock adds no lock-order dependency)
  rwsem_down_read_trylock: rwsemRead(updateRwsem((s, p) => ({ ...s, readers: insertSorted(s.readers, p.thread) }))),
  // rwsem_down_read_slowpath(): on the wait list as RWSEM_WAITING_FOR_READ
  rwsem_queue_reader: rwsemRead(
    updateRwsem((s, p) => {
      if (queued(s, p.thread)) misuse(p, 'queued twice');
      return { ...s, waiters: [...s.waiters, R(p.thread)] };
    }),
  ),
  // rwsem_mark_wake(): every queued reader gets the read hold; the others return from down_read() later
  rwsem_read_wake: updateRwsem((s, p) => {
    let readers = s.readers;
    let granted = s.granted;
    for (const w of s.waiters) {
      if (!isReaderWaiter(w)) continue;
      const t = waiterThread(w);
      readers = insertSorted(readers, t);
      if (t !== p.thread) granted = insertSorted(granted, t);
    }
    return { ...s, readers, granted, waiters: s.waiters.filter((w) => !isReaderWaiter(w)) };
  }),
  rwsem_read_take_grant: updateRwsem((s, p) => ({ ...s, granted: removeOne(s.granted, p.thread) ?? s.granted })),
  // (a reader holding it twice, a recursive read, still holds it after one up_read)
  rwsem_up_read: withRelease(
    updateRwsem((s, p) => {
      const readers = removeOne(s.readers, p.thread);
      if (readers === null) misuse(p, 'up_read without a read hold');
      return { ...s, readers };
    }),
    { kind: 'rwsem', holds: rwsemHolds, wait: SLEEPS, last: lastHoldIn('readers') },
  ),
  // rwsem_down_write_slowpath(): on the wait list as RWSEM_WAITING_FOR_WRITE
  rwsem_queue_writer: rwsemWrite(
    updateRwsem((s, p) => {
      if (queued(s, p.thread)) misuse(p, 'queued twice');
      return { ...s, waiters: [...s.waiters, W(p.thread)] };
    }),
  ),
  // down_write() fast path / stealing, or a queued writer's rwsem_try_write_lock(): the write hold
  // (dequeued; HANDOFF cleared: new &= ~RWSEM_FLAG_HANDOFF)
  rwsem_down_write: rwsemWrite(
    updateRwsem((s, p) => {
      if (!unheld(s)) misuse(p, 'down_write on a held rwsem');
      const waiters = s.waiters.includes(W(p.thread)) ? s.waiters.filter((w) => w !== W(p.thread)) : s.waiters;
      return { ...s, owner: p.thread, waiters, handoff: false };
    }),
  ),
  rwsem_down_write_woken: updateRwsem((s, p) => {
    if (!unheld(s)) misuse(p, 'down_write on a held rwsem');
    return { ...s, owner: p.thread, waiters: s.waiters.filter((w) => w !== W(p.thread)), handoff: false };
  }),
  // down_write_trylock() success
  rwsem_down_write_trylock: rwsemWrite(
    updateRwsem((s, p) => {
      if (!unheld(s)) misuse(p, 'down_write_trylock on a held rwsem');
      return { ...s, owner: p.thread };
    }),
  ),
  rwsem_set_handoff: updateRwsem((s) => ({ ...s, handoff: true })),
  rwsem_up_write: withRelease(
    updateRwsem((s, p) => {
      if (s.owner !== p.thread) misuse(p, `up_write but the owner is ${s.owner ?? 'nobody'}`);
      return { ...s, owner: null };
    }),
    { kind: 'rwsem', holds: rwsemHolds, wait: SLEEPS },
  ),
  // downgrade_write(): the write hold becomes a read hold atomically (queued readers then wake)
  rwsem_downgrade_write: updateRwsem((s, p) => {
    if (s.owner !== p.thread) misuse(p, 'downgrade_write without the write hold');
    return { ...s, owner: null, readers: insertSorted(s.readers, p.thread) };
  }),
};

/**
 * What a queued waiter waits for: the writer holding it; else the readers holding it; else the waiters it is
 * queued behind (`queued`: they hold nothing, but must take the lock and release it first): for a reader, the
 * writers ahead of it (rwsem_mark_wake() grants readers only when a reader is first); for a writer, the
 * first waiter (only the first is woken).
 */
function rwsemWait(s: RwsemState, p: LockParams, entry: string, mode: string): WaitInfo {
  const base = { resource: rname(p), kind: 'rwsem', mode };
  if (s.owner !== null) return { ...base, holders: [s.owner], holdMode: 'write' };
  const at = s.waiters.indexOf(entry);
  const ahead = s.waiters.slice(0, at < 0 ? s.waiters.length : at);
  const first = isReaderWaiter(entry) ? ahead.filter((w) => !isReaderWaiter(w)) : ahead.slice(0, 1);
  if (first.length === 0 || (!isReaderWaiter(entry) && s.readers.length > 0)) return { ...base, holders: uniq(s.readers), holdMode: 'read' };
  return { ...base, holders: uniq(first.map(waiterThread)), queued: true };
}

const rwsemWaits: Record<string, WaitFn> = {
  rwsem_read_wake_ok: (context, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    if (!s.waiters.includes(R(p.thread)) || rwsemReadersWake(s)) return null;
    const mode = s.owner !== null ? 'down_read' : 'down_read (queued behind a waiting writer)';
    return rwsemWait(s, p, R(p.thread), mode);
  },
  rwsem_can_down_write: (context, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return rwsemFirstCanWrite(s, p.thread) ? null : rwsemWait(s, p, W(p.thread), 'down_write');
  },
  rwsem_try_write_lock_ok: (context, p: LockParams) => {
    const s: RwsemState = getIn(context, p.lock);
    return rwsemCanWrite(s, p.thread) ? null : rwsemWait(s, p, W(p.thread), 'down_write');
  },
};

// ---------------------------------------------------------------------------------------------
// percpu_rw_semaphore (kernel/locking/percpu-rwsem.c) as sb_writers uses it:
//   { writer: thread | null, block: bool, readers: sorted multiset }
// percpu_down_write = (1) wait for the previous writer, take ownership and set `block`
// (__percpu_down_write_trylock), then (2) wait until the readers drain (readers_active_check).
// percpu_down_read succeeds iff !block; new readers wait while block is set, even while old readers drain.
// Lock order: lockdep_init_map gives the class no wait type (LD_WAIT_INV), but percpu_down_read/percpu_down_write
// start with might_sleep(): under a spinlock or inside rcu_read_lock() the lock-order check reports "sleeping
// function called from invalid context" (LockEffect.mightSleep); the trylock does not sleep.

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

// lock-order information: a read hold, or the write hold of percpu_down_write(); a completely frozen
// sb_writers level is not held by the freezer any more (lockdep_sb_freeze_release() at the end of freeze_super)
const percpuHolds = (s: PercpuRwsemState | undefined, thread: string, context: Context, path: string) => {
  if (s?.readers?.includes(thread)) return 'read' as const;
  if (s?.writer !== thread) return null;
  const sb = /^(.*)\.rw_sem\.[0-2]$/.exec(path)?.[1];
  if (sb !== undefined && getIn(context, sb)?.frozen === SB_FREEZE_COMPLETE) return null;
  return 'write' as const;
};
const percpuActions = {
  percpu_down_read: withLock(
    kAssign(({ context }, p: LockParams) =>
      updateIn(context, p.lock, (s: PercpuRwsemState) => ({ ...s, readers: insertSorted(s.readers, p.thread) })),
    ),
    { kind: 'percpu_rwsem', mode: 'read', holds: percpuHolds, mightSleep: true },
  ),
  percpu_up_read: withRelease(
    kAssign(({ context }, p: LockParams) =>
      updateIn(context, p.lock, (s: PercpuRwsemState) => {
        const readers = removeOne(s.readers, p.thread);
        if (readers === null) misuse(p, 'percpu_up_read without a read hold');
        return { ...s, readers };
      }),
    ),
    { kind: 'percpu_rwsem', holds: percpuHolds, last: lastHoldIn('readers') },
  ),
  // percpu_down_write() step 1: writer ownership + block = 1
  percpu_down_write_block: withLock(
    kAssign(({ context }, p: LockParams) =>
      updateIn(context, p.lock, (s: PercpuRwsemState) => {
        if (s.writer !== null) misuse(p, `percpu_down_write while ${s.writer} owns it`);
        return { ...s, writer: p.thread, block: true };
      }),
    ),
    { kind: 'percpu_rwsem', mode: 'write', holds: percpuHolds, mightSleep: true },
  ),
  // percpu_up_write(): clear block, drop ownership, wake the readers
  // (the hold it ends is p.thread's: a thawer's release of the freezer's level drops nothing the freezer holds)
  percpu_up_write: withRelease(
    kAssign(({ context }, p: LockParams) =>
      updateIn(context, p.lock, (s: PercpuRwsemState) => {
        // Not checked against p.thread: thaw_super() releases the levels freeze_super() took in another
        // task (lockdep_sb_freeze_acquire/release hand the ownership over).
        if (s.writer === null) misuse(p, 'percpu_up_write but no writer holds it');
        return { ...s, writer: null, block: false };
      }),
    ),
    { kind: 'percpu_rwsem', holds: percpuHolds },
  ),
};

/**
 * For a percpu rwsem that is a level of an sb_writers slice frozen to SB_FREEZE_COMPLETE: who will release it
 * (the model's thawer, or nobody). null when the lock is not a completely frozen sb_writers level.
 */
function frozenLevelHolders(context: Context, p: LockParams): string[] | null {
  const path = /^(.*)\.rw_sem\.[0-2]$/.exec(p.lock)?.[1];
  if (path === undefined) return null;
  const sb = getIn(context, path);
  if (!sb || typeof sb !== 'object' || sb.frozen !== SB_FREEZE_COMPLETE) return null;
  return sb.thawer ? [sb.thawer] : [];
}

const percpuWaits: Record<string, WaitFn> = {
  percpu_can_down_read: (context, p: LockParams) => {
    const s: PercpuRwsemState = getIn(context, p.lock);
    if (!s.block) return null;
    const thaw = frozenLevelHolders(context, p);
    if (thaw !== null) {
      // freeze_super() has returned: only thaw_super() releases the level
      const mode = thaw.length ? 'percpu_down_read (frozen: waits for thaw_super)' : 'percpu_down_read (frozen: no thread calls thaw_super)';
      return { resource: rname(p), kind: 'percpu_rwsem', mode, holders: thaw };
    }
    return { resource: rname(p), kind: 'percpu_rwsem', mode: 'percpu_down_read', holders: s.writer ? [s.writer] : [] };
  },
  percpu_can_down_write: (context, p: LockParams) => {
    const s: PercpuRwsemState = getIn(context, p.lock);
    return s.writer === null ? null : { resource: rname(p), kind: 'percpu_rwsem', mode: 'percpu_down_write', holders: [s.writer] };
  },
  percpu_readers_drained: (context, p: LockParams) => {
    const s: PercpuRwsemState = getIn(context, p.lock);
    return s.readers.length === 0
      ? null
      : { resource: rname(p), kind: 'percpu_rwsem', mode: 'percpu_down_write (wait for readers to drain)', holders: uniq(s.readers), holdMode: 'read' };
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
  /**
   * The thread that calls thaw_super() in this model ('' when none does). Once freeze_super() has returned
   * (frozen == SB_FREEZE_COMPLETE) the levels are held on behalf of the thaw (lockdep_sb_freeze_release() at
   * the end of freeze_super, lockdep_sb_freeze_acquire() in thaw_super): a thread blocked on a frozen level
   * waits for this thread, and a wait-for cycle goes through it. A constant: it costs no states.
   */
  thawer?: string;
}
/**
 * Initial `sb->s_writers`: unfrozen, three free percpu rwsems. `thawer` names the thread that calls
 * thaw_super() ('' or absent: nobody thaws in this model, so nobody can release a frozen level).
 */
export const sbWriters = (o: { thawer?: string } = {}): SbWritersState => ({
  frozen: SB_UNFROZEN,
  rw_sem: [percpuRwsem(), percpuRwsem(), percpuRwsem()],
  ...(o.thawer !== undefined ? { thawer: o.thawer } : {}),
});

/**
 * lockdep's class name of each level's percpu rwsem, indexed by level - 1: fs/super.c `sb_writers_name[]`, which
 * alloc_super() passes to __percpu_init_rwsem(&s->s_writers.rw_sem[i], sb_writers_name[i], &type->s_writers_key[i]).
 * A splat adds `#N` for the file_system_type's key (`sb_internal#2`); one superblock per slice needs no such suffix.
 */
export const SB_LOCKDEP_NAMES = ['sb_writers', 'sb_pagefaults', 'sb_internal'];

/**
 * Params of the percpu rwsem behind one freeze level of the sb_writers slice at path `sb`. The lock is named (in
 * waits, deadlock cycles, the lock-order report and the scenario) as lockdep names its class: `sb_writers`,
 * `sb_pagefaults`, `sb_internal`; a slice at another path than s_writers (or sb_writers) is another superblock and
 * keeps its own classes, `${sb}:sb_internal`. The state stays at `${sb}.rw_sem.${level - 1}`.
 */
export function sbLevelLock(sb: string, level: number, thread: string): LockParams {
  if (!(level >= SB_FREEZE_WRITE && level <= SB_FREEZE_FS)) throw new Error(`sb_writers level ${level} is not 1..3`);
  const name = SB_LOCKDEP_NAMES[level - 1]!; // level checked above
  return { lock: `${sb}.rw_sem.${level - 1}`, thread, name: sb === 's_writers' || sb === 'sb_writers' ? name : `${sb}:${name}` };
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
  ...qspinGuards,
  ...hmutexGuards,
  ...rwsemGuards,
  ...percpuGuards,
  ...sbGuards,
};
export const lockActions = {
  ...mutexOps.actions,
  ...spinOps.actions,
  ...qspinActions,
  ...hmutexActions,
  ...rwsemActions,
  ...percpuActions,
  ...sbActions,
};
export const lockWaits: Record<string, WaitFn> = {
  ...mutexOps.waits,
  ...spinOps.waits,
  ...qspinWaits,
  ...hmutexWaits,
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
  // the success's own actions carry `try: true` in their params: a trylock adds no lock-order dependency
  const tried = (success.actions ?? []).map((x: any) => (x && typeof x === 'object' && x.params && typeof x.params === 'object' ? { ...x, params: { ...x.params, try: true } } : x));
  return [
    { guard: success.guard, actions: [...tried, ...(t.okActions ?? [])], target: t.ok },
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
/**
 * mutex_lock(lock) on a `handoffMutex()`, the kernel's mutex: takes it when it is free and MUTEX_FLAG_HANDOFF
 * is clear (a newcomer may steal it past the waiters), or joins the FIFO and stays in the calling state until,
 * first in line, it finds the mutex free; the first waiter may set HANDOFF while another task holds it, after
 * which the mutex goes to it. Release with mutex_unlock. Returns the transitions of ONE event:
 *   on: { 'task0.mutex_lock': mutex_lock_handoff('m', 'task0', 'critical') }
 */
export const mutex_lock_handoff = (lock: string, thread: string, next: Next, name?: string): any[] => {
  const p = lp(lock, thread, name);
  const n = nextOf('mutex_lock_handoff', next);
  return [
    { guard: g('hmutex_first_can_lock', p), actions: [a('hmutex_lock_woken', p), ...n.actions], target: n.target },
    { guard: g('hmutex_lock_now', p), actions: [a('hmutex_lock', p), ...n.actions], target: n.target },
    { guard: g('hmutex_may_set_handoff', p), actions: [a('hmutex_set_handoff', p)] },
    { guard: g('hmutex_must_queue', p), actions: [a('hmutex_queue', p)] },
  ];
};
/** mutex_trylock(lock) on a `handoffMutex()`: succeeds when it is free and not handed over to a waiter. */
export const mutex_trylock_handoff = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('hmutex_trylock_ok', lp(lock, thread, name)), actions: [a('hmutex_lock', lp(lock, thread, name))] }, t);

// spinlock
export const spin_lock = (lock: string, thread: string, name?: string): Step => ({
  guard: g('spin_can_lock', lp(lock, thread, name)),
  actions: [a('spin_lock', lp(lock, thread, name))],
});
export const spin_unlock = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('spin_unlock', lp(lock, thread, name))],
});
/**
 * spin_lock(lock) on a `qspinlock()`, the kernel's queued spinlock: takes it at once when it is free and
 * nobody waits, or joins the FIFO and stays in the calling state until, first in line, it finds the lock
 * free (a releaser that locks again queues behind it). Release with spin_unlock. Returns the transitions of
 * ONE event:   on: { 'reader.spin_lock': spin_lock_queued('fs_lock.lock', 'reader', 'walk') }
 */
export const spin_lock_queued = (lock: string, thread: string, next: Next, name?: string): any[] => {
  const p = lp(lock, thread, name);
  const n = nextOf('spin_lock_queued', next);
  return [
    { guard: g('qspin_first_can_lock', p), actions: [a('qspin_lock_woken', p), ...n.actions], target: n.target },
    { guard: g('qspin_lock_now', p), actions: [a('qspin_lock', p), ...n.actions], target: n.target },
    { guard: g('qspin_must_queue', p), actions: [a('qspin_queue', p)] },
  ];
};
/**
 * spin_trylock(lock) on a `qspinlock()` (queued_spin_trylock): succeeds only when the lock word is 0, nobody
 * holding it and nobody queued, so it never takes the lock past a waiter.
 */
export const spin_trylock_queued = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('qspin_lock_now', lp(lock, thread, name)), actions: [a('qspin_lock', lp(lock, thread, name))] }, t);
export const spin_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('spin_trylock_ok', lp(lock, thread, name)), actions: [a('spin_lock', lp(lock, thread, name))] }, t);

// rw_semaphore. down_read/down_write block, queue and wake as the kernel does (see the rwsem section
// above): each returns the transitions of ONE event of the calling state, so the target comes with them:
//   on: { 'freezer.F1': down_write('s_umount', 'freezer', 'F2') }
//   on: { 'send.B1': down_read('commit_root_sem', 'send', { target: 'B2', actions: [...] }, 'commit_root_sem') }
/** Where a blocking call continues: a target state, or a target with extra actions run on acquisition. */
export type Next = string | { target: string; actions?: any[] };

/** A blocking call's continuation, normalised: the target state and the actions run on acquisition. */
export function nextOf(call: string, next: Next): { target: string; actions: any[] } {
  if (typeof next === 'string') return { target: next, actions: [] };
  if (next && typeof next === 'object' && typeof next.target === 'string') return { target: next.target, actions: next.actions ?? [] };
  throw new Error(`${call}(lock, thread, next, name?): next must be the target state (or { target, actions }), got ${JSON.stringify(next)}`);
}

/**
 * down_read(sem): takes the read hold at once (fast path; 5.13+ lock stealing), or joins the wait list and
 * stays in the calling state until a wakeup grants it (rwsem_down_read_slowpath). A recursive down_read
 * while a writer waits deadlocks, as in the kernel.
 */
export const down_read = (lock: string, thread: string, next: Next, name?: string): any[] => {
  const p = lp(lock, thread, name);
  const n = nextOf('down_read', next);
  return [
    { guard: g('rwsem_read_granted', p), actions: [a('rwsem_read_take_grant', p), ...n.actions], target: n.target },
    { guard: g('rwsem_read_wake_ok', p), actions: [a('rwsem_read_wake', p), ...n.actions], target: n.target },
    { guard: g('rwsem_down_read_now', p), actions: [a('rwsem_down_read', p), ...n.actions], target: n.target },
    { guard: g('rwsem_down_read_must_queue', p), actions: [a('rwsem_queue_reader', p)] },
  ];
};
export const up_read = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_up_read', lp(lock, thread, name))],
});
/**
 * down_write(sem): takes it at once when nobody holds it and HANDOFF is clear (fast path, optimistic
 * spinning), or joins the wait list (new readers then queue behind it) and stays in the calling state
 * until, first in line (rwsem_mark_wake() wakes only the first waiter), rwsem_try_write_lock() succeeds;
 * while queued first it may set HANDOFF.
 */
export const down_write = (lock: string, thread: string, next: Next, name?: string): any[] => {
  const p = lp(lock, thread, name);
  const n = nextOf('down_write', next);
  return [
    { guard: g('rwsem_can_down_write', p), actions: [a('rwsem_down_write_woken', p), ...n.actions], target: n.target },
    { guard: g('rwsem_may_set_handoff', p), actions: [a('rwsem_set_handoff', p)] },
    { guard: g('rwsem_down_write_now', p), actions: [a('rwsem_down_write', p), ...n.actions], target: n.target },
    { guard: g('rwsem_down_write_must_queue', p), actions: [a('rwsem_queue_writer', p)] },
  ];
};
/**
 * down_write split over two states, for a model that needs the queued writer in a state of its own
 * (e.g. to name it in a report): step 1 always joins the wait list, even when the lock is free (the
 * fast path is left out); step 2 (`down_write_acquire`) takes it whenever no one holds it and HANDOFF is
 * clear, first in line or not (it stands in for the fast path too). HANDOFF is never set here.
 */
export const down_write_queue = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_queue_writer', lp(lock, thread, name))],
});
export const down_write_acquire = (lock: string, thread: string, name?: string): Step => ({
  guard: g('rwsem_try_write_lock_ok', lp(lock, thread, name)),
  actions: [a('rwsem_down_write_woken', lp(lock, thread, name))],
});
export const up_write = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_up_write', lp(lock, thread, name))],
});
export const downgrade_write = (lock: string, thread: string, name?: string): Step => ({
  actions: [a('rwsem_downgrade_write', lp(lock, thread, name))],
});
export const down_read_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('rwsem_down_read_trylock_ok', lp(lock, thread, name)), actions: [a('rwsem_down_read_trylock', lp(lock, thread, name))] }, t);
export const down_write_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: g('rwsem_down_write_trylock_ok', lp(lock, thread, name)), actions: [a('rwsem_down_write_trylock', lp(lock, thread, name))] }, t);
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

// ---------------------------------------------------------------------------------------------
// Footprints (explorer/reduce/declare.ts): the fields of the slice at `{lock}` / `{sb}` each guard reads and
// each action writes, for the partial-order reduction; `sets` are the sorted holder lists symmetry re-sorts.
const owner = { reads: ['{lock}.owner'] };
const takeOwner = { writes: ['{lock}.owner'] };
declareFootprints(lockGuards, {
  mutex_can_lock: owner, mutex_trylock_ok: owner, mutex_is_locked: owner, mutex_is_owner: owner,
  spin_can_lock: owner, spin_trylock_ok: owner, spin_is_locked: owner, spin_is_owner: owner,
  percpu_can_down_read: { reads: ['{lock}.block'] },
  percpu_down_read_trylock_ok: { reads: ['{lock}.block'] },
  percpu_can_down_write: { reads: ['{lock}.writer'] },
  percpu_readers_drained: { reads: ['{lock}.readers'] },
  percpu_is_write_owner: { reads: ['{lock}.writer'] },
  percpu_is_read_holder: { reads: ['{lock}.readers'] },
  sb_frozen_is: { reads: ['{sb}.frozen'] },
  sb_frozen_below: { reads: ['{sb}.frozen'] },
  sb_frozen_at_least: { reads: ['{sb}.frozen'] },
});
const readerSet = { writes: ['{lock}.readers'], sets: ['{lock}.readers'] };
declareFootprints(lockActions, {
  mutex_lock: takeOwner, mutex_unlock: takeOwner, spin_lock: takeOwner, spin_unlock: takeOwner,
  percpu_down_read: readerSet,
  percpu_up_read: readerSet,
  percpu_down_write_block: { writes: ['{lock}.writer', '{lock}.block'] },
  percpu_up_write: { writes: ['{lock}.writer', '{lock}.block'] },
  sb_set_frozen: { writes: ['{sb}.frozen'] },
});
// rw_semaphore: the whole slice (owner, readers, the FIFO of "r:"/"w:" waiters, handoff, granted readers);
// readers and granted are sorted thread sets.
declareFootprints(qspinGuards, Object.fromEntries(Object.keys(qspinGuards).map((n) => [n, { reads: ['{lock}'] }])));
declareFootprints(qspinActions, Object.fromEntries(Object.keys(qspinActions).map((n) => [n, { writes: ['{lock}'] }])));
declareFootprints(hmutexGuards, Object.fromEntries(Object.keys(hmutexGuards).map((n) => [n, { reads: ['{lock}'] }])));
declareFootprints(hmutexActions, Object.fromEntries(Object.keys(hmutexActions).map((n) => [n, { writes: ['{lock}'] }])));
declareFootprints(rwsemGuards, Object.fromEntries(Object.keys(rwsemGuards).map((n) => [n, { reads: ['{lock}'] }])));
declareFootprints(
  rwsemActions,
  Object.fromEntries(Object.keys(rwsemActions).map((n) => [n, { writes: ['{lock}'], sets: ['{lock}.readers', '{lock}.granted'] }])),
);

// ---------------------------------------------------------------------------------------------
// Declared lowerings (explorer/compile/lower/declared.ts): what each guard reads and each action does, as
// word operations on the slice at `{lock}` / `{sb}`; the explorer runs these on the packed state words and
// falls back to the functions above where they BAIL (a misuse check fails, an absent holder). They mirror the
// functions line by line: the differential tests (compiled step against XState, word path on) hold them to it.
const f = (p: LockParams, field: string) => L.path(p.lock, field);
const rd = (p: LockParams, field: string) => L.read(p.lock, field);
const dQueued = (p: LockParams) => L.or(L.includes(f(p, 'waiters'), R(p.thread)), L.includes(f(p, 'waiters'), W(p.thread)));
const dIdle = (p: LockParams) => L.and(L.not(dQueued(p)), L.not(L.includes(f(p, 'granted'), p.thread)));
const dUnheld = (p: LockParams) => L.and(L.eq(rd(p, 'owner'), L.lit(null)), L.eq(L.len(f(p, 'readers')), L.lit(0)));
const dFirstWaiter = (p: LockParams) => L.at(f(p, 'waiters'), 0);
const dCanWrite = (p: LockParams) => L.and(dUnheld(p), L.or(L.not(rd(p, 'handoff')), L.eq(dFirstWaiter(p), L.lit(W(p.thread)))));
const dReadNow = (p: LockParams) =>
  L.and(
    L.eq(rd(p, 'owner'), L.lit(null)),
    L.or(
      L.eq(L.len(f(p, 'waiters')), L.lit(0)),
      L.and(L.ne(L.readOpt(p.lock, 'readerSteal'), L.lit(false)), L.not(rd(p, 'handoff')), L.eq(L.len(f(p, 'readers')), L.lit(0))),
    ),
  );
const dReadersWake = (p: LockParams) =>
  L.and(L.eq(rd(p, 'owner'), L.lit(null)), L.ne(dFirstWaiter(p), L.lit(undefined)), L.startsWith(dFirstWaiter(p), 'r'));
const ownerFree = (p: LockParams) => L.eq(rd(p, 'owner'), L.lit(null));
const ownerGuards = {
  free: ownerFree,
  held: (p: LockParams) => L.ne(rd(p, 'owner'), L.lit(null)),
  owned: (p: LockParams) => L.eq(rd(p, 'owner'), L.lit(p.thread)),
};
declareLowerings(lockGuards, {
  mutex_can_lock: ownerGuards.free, mutex_trylock_ok: ownerGuards.free, mutex_is_locked: ownerGuards.held, mutex_is_owner: ownerGuards.owned,
  spin_can_lock: ownerGuards.free, spin_trylock_ok: ownerGuards.free, spin_is_locked: ownerGuards.held, spin_is_owner: ownerGuards.owned,
  rwsem_down_read_now: (p: LockParams) => L.and(dIdle(p), dReadNow(p)),
  rwsem_down_read_must_queue: dIdle,
  rwsem_read_wake_ok: (p: LockParams) => L.and(L.includes(f(p, 'waiters'), R(p.thread)), dReadersWake(p)),
  rwsem_read_granted: (p: LockParams) => L.includes(f(p, 'granted'), p.thread),
  rwsem_down_write_now: (p: LockParams) => L.and(dIdle(p), dCanWrite(p)),
  rwsem_down_write_must_queue: dIdle,
  rwsem_can_down_write: (p: LockParams) => L.and(L.eq(dFirstWaiter(p), L.lit(W(p.thread))), dUnheld(p)),
  rwsem_try_write_lock_ok: (p: LockParams) => L.and(L.includes(f(p, 'waiters'), W(p.thread)), dCanWrite(p)),
  rwsem_may_set_handoff: (p: LockParams) => L.and(L.not(rd(p, 'handoff')), L.eq(dFirstWaiter(p), L.lit(W(p.thread))), L.not(dUnheld(p))),
  rwsem_down_read_trylock_ok: (p: LockParams) => L.and(ownerFree(p), L.eq(L.len(f(p, 'waiters')), L.lit(0)), L.not(rd(p, 'handoff'))),
  rwsem_down_write_trylock_ok: (p: LockParams) => L.and(dUnheld(p), L.eq(L.len(f(p, 'waiters')), L.lit(0))),
  rwsem_is_contended: (p: LockParams) => L.lt(L.lit(0), L.len(f(p, 'waiters'))),
  rwsem_is_write_owner: ownerGuards.owned,
  rwsem_is_read_holder: (p: LockParams) => L.includes(f(p, 'readers'), p.thread),
  rwsem_is_locked: (p: LockParams) => L.not(dUnheld(p)),
  percpu_can_down_read: (p: LockParams) => L.not(rd(p, 'block')),
  percpu_down_read_trylock_ok: (p: LockParams) => L.not(rd(p, 'block')),
  percpu_can_down_write: (p: LockParams) => L.eq(rd(p, 'writer'), L.lit(null)),
  percpu_readers_drained: (p: LockParams) => L.eq(L.len(f(p, 'readers')), L.lit(0)),
  percpu_is_write_owner: (p: LockParams) => L.eq(rd(p, 'writer'), L.lit(p.thread)),
  percpu_is_read_holder: (p: LockParams) => L.includes(f(p, 'readers'), p.thread),
  sb_frozen_is: (p: SbParams) => L.eq(L.read(p.sb, 'frozen'), L.lit(p.level)),
  sb_frozen_below: (p: SbParams) => L.lt(L.read(p.sb, 'frozen'), L.lit(p.level)),
  sb_frozen_at_least: (p: SbParams) => L.ge(L.read(p.sb, 'frozen'), L.lit(p.level)),
});
const dTake = (p: LockParams) => [L.check(ownerFree(p)), L.check(L.eq(L.readOpt(p.lock, 'waiters'), L.lit(undefined))), L.set(f(p, 'owner'), p.thread)];
const dRelease = (p: LockParams) => [L.check(ownerGuards.owned(p)), L.set(f(p, 'owner'), null)];
const dReadHold = (p: LockParams) => [L.insertSorted(f(p, 'readers'), p.thread)];
const dDownWrite = (p: LockParams) => [L.check(dUnheld(p)), L.set(f(p, 'owner'), p.thread), L.removeAll(f(p, 'waiters'), W(p.thread)), L.set(f(p, 'handoff'), false)];
declareLowerings(lockActions, {
  mutex_lock: dTake, mutex_unlock: dRelease, spin_lock: dTake, spin_unlock: dRelease,
  rwsem_down_read: dReadHold,
  rwsem_down_read_trylock: dReadHold,
  rwsem_queue_reader: (p: LockParams) => [L.check(L.not(dQueued(p))), L.append(f(p, 'waiters'), R(p.thread))],
  rwsem_read_wake: (p: LockParams) => [L.wake(f(p, 'waiters'), 'r:', f(p, 'readers'), f(p, 'granted'), p.thread)],
  rwsem_read_take_grant: (p: LockParams) => [L.removeOne(f(p, 'granted'), p.thread, 'keep')],
  rwsem_up_read: (p: LockParams) => [L.removeOne(f(p, 'readers'), p.thread)],
  rwsem_queue_writer: (p: LockParams) => [L.check(L.not(dQueued(p))), L.append(f(p, 'waiters'), W(p.thread))],
  rwsem_down_write: dDownWrite,
  rwsem_down_write_woken: dDownWrite,
  rwsem_down_write_trylock: (p: LockParams) => [L.check(dUnheld(p)), L.set(f(p, 'owner'), p.thread)],
  rwsem_set_handoff: (p: LockParams) => [L.set(f(p, 'handoff'), true)],
  rwsem_up_write: dRelease,
  rwsem_downgrade_write: (p: LockParams) => [L.check(ownerGuards.owned(p)), L.set(f(p, 'owner'), null), L.insertSorted(f(p, 'readers'), p.thread)],
  percpu_down_read: dReadHold,
  percpu_up_read: (p: LockParams) => [L.removeOne(f(p, 'readers'), p.thread)],
  percpu_down_write_block: (p: LockParams) => [L.check(L.eq(rd(p, 'writer'), L.lit(null))), L.set(f(p, 'writer'), p.thread), L.set(f(p, 'block'), true)],
  percpu_up_write: (p: LockParams) => [L.check(L.ne(rd(p, 'writer'), L.lit(null))), L.set(f(p, 'writer'), null), L.set(f(p, 'block'), false)],
  sb_set_frozen: (p: SbParams) => [L.set(L.path(p.sb, 'frozen'), p.level)],
});

// The queued spinlock and the handoff mutex, line by line as their functions: qspinAt()/hmutexAt()'s kind test
// as an expression that holds or BAILs (a lock of the other kind, or with no wait list: the function reports
// it), then the guard; an action's misuse checks are `check`s. Taking the lock removes the caller from the head
// of the queue when it is first there (waiters.slice(1)): otherwise the checks left it out of the queue.
const dWaiters = (p: LockParams) => f(p, 'waiters');
const dFirst = (p: LockParams) => L.eq(L.at(dWaiters(p), 0), L.lit(p.thread));
const dWaitList = (p: LockParams) => L.ne(L.len(dWaiters(p)), L.lit(-1));
type DExpr = ReturnType<typeof L.lit>;
const dQspinAt = (p: LockParams, e: DExpr) => L.and(L.bailWhen(L.recHasKey(L.path(p.lock), 'handoff'), dWaitList(p)), e);
const dHmutexAt = (p: LockParams, e: DExpr) => L.and(L.ne(rd(p, 'handoff'), L.lit(undefined)), dWaitList(p), e);
const dNotQueued = (p: LockParams) => L.not(L.includes(dWaiters(p), p.thread));
const dHmCanTake = (p: LockParams) => L.and(ownerFree(p), L.not(rd(p, 'handoff')));
declareLowerings(lockGuards, {
  qspin_lock_now: (p: LockParams) => dQspinAt(p, L.and(ownerFree(p), L.eq(L.len(dWaiters(p)), L.lit(0)))),
  qspin_must_queue: (p: LockParams) => dQspinAt(p, dNotQueued(p)),
  qspin_first_can_lock: (p: LockParams) => dQspinAt(p, L.and(ownerFree(p), dFirst(p))),
  hmutex_lock_now: (p: LockParams) => dHmutexAt(p, L.and(dNotQueued(p), dHmCanTake(p))),
  hmutex_must_queue: (p: LockParams) => dHmutexAt(p, dNotQueued(p)),
  hmutex_first_can_lock: (p: LockParams) => dHmutexAt(p, L.and(ownerFree(p), dFirst(p))),
  hmutex_may_set_handoff: (p: LockParams) =>
    dHmutexAt(p, L.and(dFirst(p), L.ne(rd(p, 'owner'), L.lit(null)), L.ne(rd(p, 'owner'), L.lit(p.thread)), L.not(rd(p, 'handoff')))),
  hmutex_trylock_ok: (p: LockParams) => dHmutexAt(p, dHmCanTake(p)),
});
const dQspinTake = (p: LockParams) => [
  L.check(ownerFree(p)),
  L.check(L.or(L.eq(L.len(dWaiters(p)), L.lit(0)), dFirst(p))),
  L.set(f(p, 'owner'), p.thread),
  L.removeOne(dWaiters(p), p.thread, 'keep'),
];
const dHmTake = (p: LockParams) => [
  L.check(ownerFree(p)),
  L.check(L.or(dFirst(p), L.and(L.not(rd(p, 'handoff')), dNotQueued(p)))),
  L.set(f(p, 'owner'), p.thread),
  L.set(f(p, 'handoff'), L.cond(dFirst(p), false, rd(p, 'handoff'))),
  L.removeOne(dWaiters(p), p.thread, 'keep'),
];
const dQueue = (p: LockParams) => [L.check(dNotQueued(p)), L.append(dWaiters(p), p.thread)];
declareLowerings(lockActions, {
  qspin_lock: dQspinTake,
  qspin_lock_woken: dQspinTake,
  qspin_queue: dQueue,
  hmutex_lock: dHmTake,
  hmutex_lock_woken: dHmTake,
  hmutex_queue: dQueue,
  hmutex_set_handoff: (p: LockParams) => [L.check(dFirst(p)), L.set(f(p, 'handoff'), true)],
});
