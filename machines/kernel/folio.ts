// Folio lock (mm/filemap.c, checked against v6.6): folio_lock / folio_trylock / folio_unlock, queueing on the
// folio's wait queue with the kernel's bounded lock stealing and lock handoff.
//
// State at a context path: { owner: thread | null, waiters: FIFO of "n:thread", woken: sorted entries,
//   unfairness?: sysctl_page_lock_unfairness when not the default 5 }.
// - folio_lock (folio_trylock, else __folio_lock -> folio_wait_bit_common(EXCLUSIVE)): takes PG_locked at once
//   when it is clear, even with waiters queued (test_and_set_bit does not look at the queue); otherwise joins
//   the tail of the wait queue as an exclusive waiter ("0:thread": it has lost no wakeup yet) and sleeps.
// - folio_unlock (clear_bit_unlock + folio_wake_bit -> wake_page_function): wakes the FIRST exclusive waiter
//   only. A waiter that has already lost `unfairness` wakeups carries WQ_FLAG_CUSTOM (its `--unfairness < 0`):
//   the unlocker takes PG_locked on its behalf (lock handoff, WQ_FLAG_DONE; "h:thread" in `woken`, the
//   owner is already the waiter). Any other waiter is only woken ("n:thread" in `woken`, off the queue): when
//   it runs it does test_and_set_bit itself; if somebody stole the lock in between (a fast-path folio_lock)
//   it goes back to `repeat` and queues again at the TAIL with one more lost wakeup. So a waiter loses the
//   lock at most sysctl_page_lock_unfairness (5) times, then it is handed the lock: bounded stealing, no
//   starvation. `folio({ unfairness: 0 })` models vm.page_lock_unfairness=0 (every wakeup a handoff).
// - folio_trylock: succeeds iff PG_locked is clear; never blocks.
// - folio_unlock may be called by any thread (I/O completion unlocks folios locked by the submitter).
// Approximation: clear_bit_unlock and the wakeup are ONE step; in the kernel a fast-path locker can set
// PG_locked between the two, and wake_page_function then leaves the waiter queued where it was (test_bit
// fails, no wakeup). The model's stealing window is the one after the wakeup (the woken waiter re-queues).
// Params: { lock: path, thread, name? } as in locks.ts.
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, removeOne, updateIn } from './path.ts';
import { kAssign, withLock, withRelease, type WaitFn } from './types.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import type { Expr } from '../../explorer/compile/lower/js.ts';
import { declareLowerings } from '../../explorer/compile/lower/declared.ts';
import { nextOf, tryBranch, type LockParams, type Next, type Step, type TryTargets } from './locks.ts';

type Args = { context: Context };

export interface FolioState {
  owner: string | null;
  /** exclusive waiters in folio_wait_bit_common, FIFO, each "n:thread" (n: wakeups it lost so far) */
  waiters: string[];
  /** waiters woken off the queue and not yet returned: "n:thread" (must take PG_locked itself) or "h:thread" (handed it); sorted */
  woken: string[];
  /** sysctl_page_lock_unfairness, present only when not the kernel default (5) */
  unfairness?: number;
}
/** An unlocked folio; `{ unfairness: N }` sets vm.page_lock_unfairness (default 5, as v6.6). */
export const folio = (o: { unfairness?: number } = {}): FolioState => ({
  owner: null,
  waiters: [],
  woken: [],
  ...(o.unfairness !== undefined && o.unfairness !== PAGE_LOCK_UNFAIRNESS ? { unfairness: o.unfairness } : {}),
});
/** sysctl_page_lock_unfairness's default (mm/filemap.c). */
export const PAGE_LOCK_UNFAIRNESS = 5;

const misuse = (p: LockParams, what: string): never => {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} on folio ${p.name ?? p.lock}`);
};
const entryThread = (e: string) => e.slice(e.indexOf(':') + 1);
const entryTag = (e: string) => e.slice(0, e.indexOf(':'));
const HANDED = 'h';
/** The calling thread's entry in a list ("n:thread" / "h:thread"), or undefined. */
const entryOf = (list: string[], thread: string) => list.find((e) => entryThread(e) === thread);
const idle = (s: FolioState, thread: string) => entryOf(s.waiters, thread) === undefined && entryOf(s.woken, thread) === undefined;
/** Woken without the lock: it must do test_and_set_bit itself. */
const wokenPlain = (s: FolioState, thread: string) => {
  const e = entryOf(s.woken, thread);
  return e !== undefined && entryTag(e) !== HANDED;
};
const unqueuedFree = (s: FolioState) => s.owner === null && s.waiters.length === 0 && s.woken.length === 0;

export const folioGuards = {
  // folio_trylock() / folio_lock()'s fast path: PG_locked is clear (waiters or not)
  folio_trylock_ok: ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner === null,
  // folio_lock() on entry: the fast path takes it
  folio_lock_now: ({ context }: Args, p: LockParams) => {
    const s: FolioState = getIn(context, p.lock);
    return s.owner === null && idle(s, p.thread);
  },
  // folio_lock() on entry, otherwise: __folio_lock queues as an exclusive waiter
  folio_lock_must_queue: ({ context }: Args, p: LockParams) => {
    const s: FolioState = getIn(context, p.lock);
    return s.owner !== null && idle(s, p.thread);
  },
  // folio_unlock handed the lock to this waiter (WQ_FLAG_DONE)
  folio_lock_granted: ({ context }: Args, p: LockParams) => getIn(context, p.lock).woken.includes(`${HANDED}:${p.thread}`),
  // woken without the lock, and PG_locked is clear: its own test_and_set_bit succeeds
  folio_woken_can_lock: ({ context }: Args, p: LockParams) => {
    const s: FolioState = getIn(context, p.lock);
    return s.owner === null && wokenPlain(s, p.thread);
  },
  // woken without the lock, and somebody stole it: goto repeat (queue again at the tail)
  folio_woken_lost: ({ context }: Args, p: LockParams) => {
    const s: FolioState = getIn(context, p.lock);
    return s.owner !== null && wokenPlain(s, p.thread);
  },
  // folio_lock_unqueued (leaves the wait queue out): nobody holds it, queues or was woken
  folio_unqueued_can_lock: ({ context }: Args, p: LockParams) => unqueuedFree(getIn(context, p.lock)),
  folio_test_locked: ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner !== null,
};

const updateFolio = (fn: (s: FolioState, p: LockParams) => FolioState) =>
  kAssign(({ context }, p: LockParams) => updateIn(context, p.lock, (s: FolioState) => fn(s, p)));
// lock-order information: the folio lock is held by its owner; the acquisition is the call's first step (the
// fast path, or joining the wait queue); the wakeup steps add nothing. No lockdep wait type, but folio_lock()
// starts with might_sleep(): under a spinlock or inside rcu_read_lock() it is "sleeping function called from
// invalid context" (mightSleep); folio_trylock never sleeps
const folioHolds = (s: FolioState | undefined, thread: string) => (s?.owner === thread ? ('write' as const) : null);
const folioLockEffect = { kind: 'folio', mode: 'write' as const, holds: folioHolds, mightSleep: true };
const takeFolio = (s: FolioState, p: LockParams): FolioState => {
  if (s.owner !== null) misuse(p, `folio_lock while ${s.owner} holds it`);
  return { ...s, owner: p.thread };
};
const queueAt = (s: FolioState, p: LockParams, lost: number): FolioState => ({ ...s, waiters: [...s.waiters, `${lost}:${p.thread}`] });

export const folioActions = {
  // test_and_set_bit(PG_locked) succeeded: the fast path, folio_trylock, or a woken waiter's own attempt
  folio_lock: withLock(updateFolio(takeFolio), folioLockEffect),
  // __folio_lock -> folio_wait_bit_common: __add_wait_queue_entry_tail, first pass (no wakeup lost)
  folio_queue: withLock(
    updateFolio((s, p) => {
      if (!idle(s, p.thread)) misuse(p, 'queued twice');
      return queueAt(s, p, 0);
    }),
    folioLockEffect,
  ),
  // a woken waiter's test_and_set_bit succeeded (wait->flags |= WQ_FLAG_DONE)
  folio_lock_woken: updateFolio((s, p) => {
    const e = entryOf(s.woken, p.thread);
    if (e === undefined || entryTag(e) === HANDED) misuse(p, 'takes the lock as a woken waiter but was not woken');
    return { ...takeFolio(s, p), woken: removeOne(s.woken, e!) ?? s.woken };
  }),
  // a woken waiter's test_and_set_bit failed: goto repeat, --unfairness, queue again at the tail
  folio_requeue: updateFolio((s, p) => {
    const e = entryOf(s.woken, p.thread);
    if (e === undefined || entryTag(e) === HANDED) misuse(p, 'queues again but was not woken');
    return queueAt({ ...s, woken: removeOne(s.woken, e!) ?? s.woken }, p, Number(entryTag(e!)) + 1);
  }),
  // the handed-over waiter returns from folio_lock()
  folio_take_grant: updateFolio((s, p) => ({ ...s, woken: removeOne(s.woken, `${HANDED}:${p.thread}`) ?? s.woken })),
  // folio_unlock(): clear PG_locked; folio_wake_bit wakes the first exclusive waiter, handing it the lock
  // if it carries WQ_FLAG_CUSTOM (it lost `unfairness` wakeups already)
  folio_unlock: withRelease(
    updateFolio((s, p) => {
      if (s.owner === null) misuse(p, 'folio_unlock of an unlocked folio');
      const [first, ...rest] = s.waiters;
      if (first === undefined) return { ...s, owner: null };
      const t = entryThread(first);
      if (Number(entryTag(first)) >= (s.unfairness ?? PAGE_LOCK_UNFAIRNESS)) {
        return { ...s, owner: t, waiters: rest, woken: insertSorted(s.woken, `${HANDED}:${t}`) };
      }
      return { ...s, owner: null, waiters: rest, woken: insertSorted(s.woken, first) };
    }),
    { kind: 'folio', holds: folioHolds },
  ),
};

/** Who a queued waiter waits for: the owner, else the woken waiters that will take PG_locked first. */
const folioBlockers = (s: FolioState) => (s.owner !== null ? [s.owner] : s.woken.map(entryThread));
export const folioWaits: Record<string, WaitFn> = {
  folio_lock_granted: (context, p: LockParams) => {
    const s: FolioState = getIn(context, p.lock);
    if (entryOf(s.waiters, p.thread) === undefined) return null;
    return { resource: p.name ?? p.lock, kind: 'folio', mode: 'folio_lock', holders: folioBlockers(s) };
  },
  folio_unqueued_can_lock: (context, p: LockParams) => {
    const s: FolioState = getIn(context, p.lock);
    if (unqueuedFree(s)) return null;
    const holders = s.owner !== null ? [s.owner] : [...s.woken, ...s.waiters].map(entryThread).slice(0, 1);
    return { resource: p.name ?? p.lock, kind: 'folio', mode: 'folio_lock', holders };
  },
};

const lp = (lock: string, thread: string, name?: string): LockParams => (name === undefined ? { lock, thread } : { lock, thread, name });
/** A named guard or action reference. */
const ref = (type: string, params: LockParams) => ({ type, params });
/** The wakeup side of a queued folio_lock(): handed the lock, took it after a plain wakeup, or lost it and queued again (stays). */
const folioWakeups = (p: LockParams, n: { target: string; actions: any[] }): any[] => [
  { guard: ref('folio_lock_granted', p), actions: [ref('folio_take_grant', p), ...n.actions], target: n.target },
  { guard: ref('folio_woken_can_lock', p), actions: [ref('folio_lock_woken', p), ...n.actions], target: n.target },
  { guard: ref('folio_woken_lost', p), actions: [ref('folio_requeue', p)] },
];
/**
 * folio_lock(folio), for ONE event of the calling state (the thread stays there while it sleeps): the fast
 * path when PG_locked is clear, else it queues; woken, it takes the lock, is handed it, or queues again
 * (see the header: bounded stealing, then handoff, as v6.6's folio_wait_bit_common).
 *   on: { 'writer.lock': folio_lock('folios.0', 'writer', 'copy', 'folio 0') }
 */
export const folio_lock = (lock: string, thread: string, next: Next, name?: string): any[] => {
  const p = lp(lock, thread, name);
  const n = nextOf('folio_lock', next);
  return [
    ...folioWakeups(p, n),
    { guard: ref('folio_lock_now', p), actions: [ref('folio_lock', p), ...n.actions], target: n.target },
    { guard: ref('folio_lock_must_queue', p), actions: [ref('folio_queue', p)] },
  ];
};
/**
 * folio_lock over two states, for a model that wants the sleep in a state of its own: the call, for ONE event
 * of the calling state (fast path to `next`, else queue and go to `wait`); build `wait` with folio_lock_wait_state.
 */
export const folio_lock_fast = (lock: string, thread: string, t: { next: string; wait: string }, name?: string): any[] => {
  const p = lp(lock, thread, name);
  return [
    { guard: ref('folio_lock_now', p), actions: [ref('folio_lock', p)], target: t.next },
    { guard: ref('folio_lock_must_queue', p), actions: [ref('folio_queue', p)], target: t.wait },
  ];
};
/** The wait state of folio_lock_fast: asleep on the folio's wait queue until woken (handed the lock, or taking it). */
export const folio_lock_wait_state = (event: string, lock: string, thread: string, next: string, name?: string): any => ({
  on: { [event]: folioWakeups(lp(lock, thread, name), { target: next, actions: [] }) },
});
/**
 * folio_lock without the wait queue: blocked on a guard while the folio is locked or anybody queues, never
 * woken in order nor handed the lock. It leaves out FIFO order, stealing and handoff: fine for a safety
 * check of a fixed sequence, starvable under weak fairness. Prefer folio_lock.
 */
export const folio_lock_unqueued = (lock: string, thread: string, name?: string): Step => ({
  guard: ref('folio_unqueued_can_lock', lp(lock, thread, name)),
  actions: [ref('folio_lock', lp(lock, thread, name))],
});
export const folio_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: ref('folio_trylock_ok', lp(lock, thread, name)), actions: [ref('folio_lock', lp(lock, thread, name))] }, t);
export const folio_unlock = (lock: string, thread: string, name?: string): Step => ({
  actions: [ref('folio_unlock', lp(lock, thread, name))],
});

// Footprints (explorer/reduce/declare.ts), for --reduce por: the folio lock at `{lock}`; `woken` is a sorted set.
declareFootprints(folioGuards, {
  folio_trylock_ok: { reads: ['{lock}.owner'] },
  folio_lock_now: { reads: ['{lock}'] },
  folio_lock_must_queue: { reads: ['{lock}'] },
  folio_lock_granted: { reads: ['{lock}.woken'] },
  folio_woken_can_lock: { reads: ['{lock}'] },
  folio_woken_lost: { reads: ['{lock}'] },
  folio_unqueued_can_lock: { reads: ['{lock}'] },
  folio_test_locked: { reads: ['{lock}.owner'] },
});
declareFootprints(folioActions, Object.fromEntries(Object.keys(folioActions).map((n) => [n, { writes: ['{lock}'], sets: ['{lock}.woken'] }])));

// Declared lowerings (explorer/compile/lower/declared.ts): the folio lock's guards and actions as word
// operations on the slice at `{lock}`, line by line as the functions above compute them. An entry is found as
// entryOf finds "tag:thread" (entryOf/entryTag/entryThread above); an entry without its ':' and every misuse
// BAIL, and the function runs (and throws the misuse).
const fField = (p: LockParams, field: string) => L.path(p.lock, field);
const fFree = (p: LockParams) => L.eq(L.read(p.lock, 'owner'), L.lit(null));
const fHeld = (p: LockParams) => L.ne(L.read(p.lock, 'owner'), L.lit(null));
const fEntry = (p: LockParams, list: 'waiters' | 'woken') => L.entryOf(fField(p, list), ':', p.thread);
const fIdle = (p: LockParams) => L.and(L.eq(fEntry(p, 'waiters'), L.lit(undefined)), L.eq(fEntry(p, 'woken'), L.lit(undefined)));
const fTag = (e: Expr) => L.strPart(e, ':', 'before');
const fWokenPlain = (p: LockParams) => L.and(L.ne(fEntry(p, 'woken'), L.lit(undefined)), L.ne(fTag(fEntry(p, 'woken')), L.lit(HANDED)));
declareLowerings(folioGuards, {
  folio_trylock_ok: fFree,
  folio_lock_now: (p: LockParams) => L.and(fFree(p), fIdle(p)),
  folio_lock_must_queue: (p: LockParams) => L.and(fHeld(p), fIdle(p)),
  folio_lock_granted: (p: LockParams) => L.includes(fField(p, 'woken'), `${HANDED}:${p.thread}`),
  folio_woken_can_lock: (p: LockParams) => L.and(fFree(p), fWokenPlain(p)),
  folio_woken_lost: (p: LockParams) => L.and(fHeld(p), fWokenPlain(p)),
  folio_unqueued_can_lock: (p: LockParams) => L.and(fFree(p), L.eq(L.len(fField(p, 'waiters')), L.lit(0)), L.eq(L.len(fField(p, 'woken')), L.lit(0))),
  folio_test_locked: fHeld,
});
/** folio_unlock's first waiter, whether it is handed the lock (it lost `unfairness` wakeups), and its thread. */
const fFirst = (p: LockParams) => L.at(fField(p, 'waiters'), 0);
const fHandoff = (p: LockParams) =>
  L.and(L.ne(fFirst(p), L.lit(undefined)), L.ge(L.toNumber(fTag(fFirst(p))), L.coalesce(L.readOpt(p.lock, 'unfairness'), PAGE_LOCK_UNFAIRNESS)));
const fFirstThread = (p: LockParams) => L.strPart(fFirst(p), ':', 'after');
declareLowerings(folioActions, {
  folio_lock: (p: LockParams) => [L.check(fFree(p)), L.set(fField(p, 'owner'), p.thread)],
  folio_queue: (p: LockParams) => [L.check(fIdle(p)), L.append(fField(p, 'waiters'), `0:${p.thread}`)],
  folio_lock_woken: (p: LockParams) => [
    L.check(fWokenPlain(p)),
    L.check(fFree(p)),
    L.set(fField(p, 'owner'), p.thread),
    L.removeOne(fField(p, 'woken'), fEntry(p, 'woken'), 'keep'),
  ],
  folio_requeue: (p: LockParams) => [
    L.check(fWokenPlain(p)),
    L.removeOne(fField(p, 'woken'), fEntry(p, 'woken'), 'keep'),
    L.append(fField(p, 'waiters'), L.concat(L.plus(L.toNumber(fTag(fEntry(p, 'woken'))), 1), `:${p.thread}`)),
  ],
  folio_take_grant: (p: LockParams) => [L.removeOne(fField(p, 'woken'), `${HANDED}:${p.thread}`, 'keep')],
  folio_unlock: (p: LockParams) => [
    L.check(fHeld(p)),
    L.set(fField(p, 'owner'), L.cond(fHandoff(p), fFirstThread(p), null)),
    L.removeOne(fField(p, 'waiters'), fFirst(p), 'keep'),
    L.insertSortedOpt(fField(p, 'woken'), L.cond(L.eq(fFirst(p), L.lit(undefined)), L.lit(undefined), L.cond(fHandoff(p), L.concat(`${HANDED}:`, fFirstThread(p)), fFirst(p)))),
  ],
});
