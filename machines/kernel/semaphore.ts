// Counting semaphores (kernel/locking/semaphore.c, include/linux/semaphore.h, checked against v6.6): sema_init,
// down, down_trylock, up. XFS's buffer lock is one (xfs_buf_lock: down(&bp->b_sema); xfs_buf_trylock: down_trylock).
//
// State at a context path (e.g. "bp.b_sema"), built by semaphore(n) (sema_init(&sem, n)) or semaphoreTaken(n, takers):
//   { count: number       sem->count: how many more down()s go through without sleeping
//     waiters: string[]   sem->wait_list in FIFO order (__down_common: list_add_tail)
//     woken: string[]     waiters up() handed the count to (waiter->up = true) that have not returned from down(); sorted
//     takers: string[] }  the threads whose down() or down_trylock() went through and that no up() balanced yet, a
//                         sorted multiset: the kernel keeps no owner (later kernels with CONFIG_DETECT_HUNG_TASK_BLOCKER
//                         keep sem->last_holder, the last taker, for the hung-task report), the model keeps this for
//                         the reports only
// down(sem): `if (likely(sem->count > 0)) sem->count--; else __down(sem);` under sem->lock; __down -> __down_common
//   (the contention tracepoints) -> ___down_common queues the caller at the tail (list_add_tail, waiter.up = false)
//   and sleeps until waiter.up.
// up(sem): `if (likely(list_empty(&sem->wait_list))) sem->count++; else __up(sem);`; __up takes the FIRST waiter off
//   the list (list_first_entry, list_del), sets waiter->up = true and wake_up_process()es it: the count is handed to
//   it, never added back, so a down() arriving before the woken waiter runs finds count == 0 and queues behind:
//   nobody barges past a woken waiter.
// count > 0 with waiters queued does not happen: a caller queues only when count == 0, and while the wait list is not
//   empty up() hands off instead of incrementing. So down()'s fast path, which looks at the count only, never passes
//   a waiter, and the model's fast path is the C's test (count > 0; the caller must not be a woken waiter, which
//   returns with the count it was handed).
// down_trylock(sem): `count = sem->count - 1; if (likely(count >= 0)) sem->count = count;`: succeeds iff count > 0,
//   never sleeps (it returns 0 on success, inverted from mutex_trylock; the call helper takes ok/fail targets).
// No owner: "up() may be called from any context and even by tasks which have never called down()" (the XFS buffer
//   lock is released by the I/O completion). up() by a thread among the takers removes its own entry; by another
//   thread, the entry of `of` (up(sem, thread, { of })), or the one taker's when all entries are one thread's; with
//   entries of several threads and no `of` it is a model error (which down() does it balance?). With no takers (a
//   semaphore initialised to 0 and used as a signal) it removes nothing.
// Lock order: lockdep does not track struct semaphore (no dep_map; semaphore.c has no lockdep annotations), so the
//   lock-order check (--lock-order) records no acquisition for down()/down_trylock(), and a semaphore held adds no
//   dependency: an ABBA over two semaphores is found as a deadlock, never as a lock-order inversion. down() starts
//   with might_sleep() though: its fast path and its sleep carry a might_sleep() point (withMightSleep,
//   LockAcquisition.sleepOnly), so down() under a spinlock or inside rcu_read_lock() is reported by --lock-order as
//   "sleeping function called from invalid context" (the woken return needs none: it runs with the same locks held
//   as the sleep did); down_trylock() never sleeps.
// Wait-for report: a thread asleep in down() waits for the semaphore, "taken by" its takers, itself last (WaitInfo.holdVerb
//   'taken': they hold it, but without owning it), mode "down (count 0)"; with no takers, the threads `by` names as
//   the ones to up() it (act 'up'), as for a completion.
// Not modelled: down_interruptible/down_killable/down_timeout's early returns (a signal, a timeout; use down() for
//   their sleep), sem->lock and the irq context.
import type { Context, WaitInfo } from '../../explorer/model.ts';
import { getIn, insertSorted, removeOne, uniq, updateIn } from './path.ts';
import { kAssign, withMightSleep, type WaitFn } from './types.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { nextOf, tryBranch, type Next, type Step, type TryTargets } from './locks.ts';

/** struct semaphore (see the header). */
export interface SemaphoreState {
  count: number;
  waiters: string[];
  woken: string[];
  takers: string[];
}
/** Params of the semaphore guards and actions. */
export interface SemaParams {
  /** Context path of the semaphore. */
  sem: string;
  thread: string;
  /** Name for reports (default: the path). */
  name?: string;
  /** up(): whose down() this up() balances, when the caller took nothing. */
  of?: string;
  /** down(): the threads expected to up() it, named in reports when nobody is recorded as a taker. */
  by?: string[];
}

function checkCount(call: string, n: number): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`${call}: the count must be an integer >= 0, got ${n}`);
}
/** sema_init(&sem, n): a semaphore n down()s can take without sleeping (DEFINE_SEMAPHORE(name, 1): a binary one). */
export function semaphore(n = 1): SemaphoreState {
  checkCount('semaphore', n);
  return { count: n, waiters: [], woken: [], takers: [] };
}
/** sema_init(&sem, n), then a down() by each of `takers` (a thread may appear more than once): count n - takers. */
export function semaphoreTaken(n: number, takers: string[]): SemaphoreState {
  checkCount('semaphoreTaken', n);
  if (takers.length > n) throw new Error(`semaphoreTaken: ${takers.length} takers do not fit a semaphore of count ${n}`);
  return { count: n - takers.length, waiters: [], woken: [], takers: takers.reduce<string[]>((acc, t) => insertSorted(acc, t), []) };
}

type Args = { context: Context };
const sname = (p: SemaParams) => p.name ?? p.sem;
function misuse(p: SemaParams, what: string): never {
  throw new Error(`kernel primitive misuse on semaphore "${sname(p)}" (${p.sem}): ${what}`);
}
/** The caller is neither asleep in down() nor woken with the count: its down() starts afresh. */
const idle = (s: SemaphoreState, t: string) => !s.waiters.includes(t) && !s.woken.includes(t);

const guards = {
  // down()'s fast path: sem->count > 0 (no waiter can be queued then)
  sema_down_now: ({ context }: Args, p: SemaParams) => {
    const s: SemaphoreState = getIn(context, p.sem);
    return s.count > 0 && idle(s, p.thread);
  },
  // down() otherwise: __down_common queues the caller
  sema_down_must_sleep: ({ context }: Args, p: SemaParams) => {
    const s: SemaphoreState = getIn(context, p.sem);
    return s.count === 0 && idle(s, p.thread);
  },
  // the sleeper was handed the count by __up (waiter.up): down() returns
  sema_woken: ({ context }: Args, p: SemaParams) => getIn(context, p.sem).woken.includes(p.thread),
  // down_trylock() succeeds
  sema_trylock_ok: ({ context }: Args, p: SemaParams) => getIn(context, p.sem).count > 0,
};

const update = (fn: (s: SemaphoreState, p: SemaParams) => SemaphoreState) =>
  kAssign(({ context }, p: SemaParams) => updateIn(context, p.sem, (s: SemaphoreState) => fn(s, p)));
/** sem->count-- by p.thread (the fast path, down_trylock). */
const take = (s: SemaphoreState, p: SemaParams): SemaphoreState => {
  if (s.count <= 0) misuse(p, `${p.thread} takes the count at ${s.count}`);
  return { ...s, count: s.count - 1, takers: insertSorted(s.takers, p.thread) };
};

/** down()'s might_sleep() (see the header): on the semaphore, named as in the wait-for report. */
const mightSleep = <A extends object>(action: A): A => withMightSleep(action, { kind: 'semaphore', path: (p: SemaParams) => p.sem, name: sname });

const actions = {
  // down() fast path / down_trylock() success (params.try: no sleep): sem->count--
  sema_down: mightSleep(update(take)),
  // __down_common: list_add_tail(&waiter.list, &sem->wait_list)
  sema_sleep: mightSleep(update((s, p) => {
    if (!idle(s, p.thread)) misuse(p, `${p.thread} queues in down() twice`);
    if (s.count > 0) misuse(p, `${p.thread} queues in down() at count ${s.count}`);
    return { ...s, waiters: [...s.waiters, p.thread] };
  })),
  // the woken waiter returns from down() (the count was handed to it by __up)
  sema_return: update((s, p) => ({ ...s, woken: removeOne(s.woken, p.thread) ?? misuse(p, `${p.thread} returns from down() without being woken`) })),
  // up(): sem->count++ with an empty wait list, else __up hands the count to the first waiter
  sema_up: update((s, p) => {
    const takers = releaseTaker(s, p);
    const [first, ...rest] = s.waiters;
    if (first === undefined) return { ...s, count: s.count + 1, takers };
    return { ...s, waiters: rest, woken: insertSorted(s.woken, first), takers: insertSorted(takers, first) };
  }),
};

/** The takers after up() by p.thread (see the header: no owner, so whose hold it ends is the model's choice). */
function releaseTaker(s: SemaphoreState, p: SemaParams): string[] {
  if (p.of !== undefined) return removeOne(s.takers, p.of) ?? misuse(p, `up() by ${p.thread} for ${p.of}, who took nothing`);
  const own = removeOne(s.takers, p.thread);
  if (own !== null) return own;
  const distinct = uniq(s.takers);
  if (distinct.length <= 1) return s.takers.slice(1);
  return misuse(p, `up() by ${p.thread}: taken by ${distinct.join(', ')}; say whose down() it balances: up(sem, '${p.thread}', { of })`);
}

const waits: Record<string, WaitFn> = {
  // asleep in down(): described while the count is 0 and the thread has not been handed it (also before it queued,
  // so that the report dates the takers' hold from when they took it)
  sema_woken: (context, p: SemaParams) => {
    const s: SemaphoreState = getIn(context, p.sem);
    if (s.count > 0 || s.woken.includes(p.thread)) return null;
    const base: WaitInfo = { resource: sname(p), kind: 'semaphore', mode: `down (count ${s.count})`, holders: [] };
    // the waiter among the takers last: with a count of several, the others' holds are what it waits for (the
    // wait-for cycle follows holders in order), and its own ends the list (alone, it deadlocks on itself)
    if (s.takers.length > 0) {
      const takers = uniq(s.takers);
      return { ...base, holders: [...takers.filter((t) => t !== p.thread), ...takers.filter((t) => t === p.thread)], holdVerb: 'taken' };
    }
    return p.by?.length ? { ...base, holders: p.by, act: 'up' } : base;
  },
};

/** Guards, assign actions and wait describers of struct semaphore (in kernelGuards / kernelActions / kernelWaits). */
export const semaGuards = guards;
export const semaActions = actions;
export const semaWaits = waits;

// ---------------------------------------------------------------------------------------------
// Call helpers.

const P = (sem: string, thread: string, o: { name?: string; of?: string; by?: string[] } = {}): SemaParams => ({ sem, thread, ...o });
const ref = (type: string, params: SemaParams) => ({ type, params });

/**
 * down(&sem) for ONE event of the calling state (the thread stays there while it sleeps): the fast path when
 * count > 0, else it queues at the tail and returns once up() handed it the count. `by`: the threads that will up()
 * it, for reports, when nobody took it (a semaphore used as a signal).
 *   on: { 'writer.xfs_buf_lock': down('bp.b_sema', 'writer', 'locked', { name: 'bp->b_sema' }) }
 */
export const down = (sem: string, thread: string, next: Next, o: { name?: string; by?: string[] } = {}): any[] => {
  const p = P(sem, thread, o);
  const n = nextOf('down', next);
  return [
    { guard: ref('sema_woken', p), actions: [ref('sema_return', p), ...n.actions], target: n.target },
    { guard: ref('sema_down_now', p), actions: [ref('sema_down', p), ...n.actions], target: n.target },
    { guard: ref('sema_down_must_sleep', p), actions: [ref('sema_sleep', p)] },
  ];
};
/** down_trylock(&sem): [success, failure] for one event; succeeds iff count > 0 (the C returns 0 then). */
export const down_trylock = (sem: string, thread: string, t: TryTargets, o: { name?: string } = {}): any[] =>
  tryBranch({ guard: ref('sema_trylock_ok', P(sem, thread, o)), actions: [ref('sema_down', P(sem, thread, o))] }, t);
/** up(&sem), by any thread; `of`: whose down() it balances when the caller took nothing and several threads did. */
export const up = (sem: string, thread: string, o: { name?: string; of?: string } = {}): Step => ({ actions: [ref('sema_up', P(sem, thread, o))] });

/** Plain views for invariants and assertions: sem->count, and the threads recorded as having taken it. */
export const semaCount = (context: Context, sem: string): number => (getIn(context, sem) as SemaphoreState).count;
export const semaTakers = (context: Context, sem: string): string[] => (getIn(context, sem) as SemaphoreState).takers;

// Footprints (explorer/reduce/declare.ts), for --reduce por: the whole slice; woken and takers are sorted thread sets.
declareFootprints(guards, Object.fromEntries(Object.keys(guards).map((n) => [n, { reads: ['{sem}'] }])));
declareFootprints(actions, Object.fromEntries(Object.keys(actions).map((n) => [n, { writes: ['{sem}'], sets: ['{sem}.woken', '{sem}.takers'] }])));

// Declared lowerings (explorer/compile/lower/declared.ts): the guards and actions above as word operations on the
// slice at `{sem}`, line by line. up() by a thread that took nothing, while takers of several threads are recorded
// and no `of` is given, BAILs (the function reports the misuse); so do the other misuses.
const f = (p: SemaParams, field: string) => L.path(p.sem, field);
const count = (p: SemaParams) => L.read(p.sem, 'count');
const dIdle = (p: SemaParams) => L.and(L.not(L.includes(f(p, 'waiters'), p.thread)), L.not(L.includes(f(p, 'woken'), p.thread)));
const positive = (p: SemaParams) => L.lt(L.lit(0), count(p));
L.declareLowerings(guards, {
  sema_down_now: (p: SemaParams) => L.and(positive(p), dIdle(p)),
  sema_down_must_sleep: (p: SemaParams) => L.and(L.eq(count(p), L.lit(0)), dIdle(p)),
  sema_woken: (p: SemaParams) => L.includes(f(p, 'woken'), p.thread),
  sema_trylock_ok: positive,
});
/** releaseTaker as operations: `of`'s entry, else the caller's, else the first when every entry is one thread's. */
function dRelease(p: SemaParams): L.PathOp[] {
  const takers = f(p, 'takers');
  if (p.of !== undefined) return [L.removeOne(takers, p.of)];
  const first = L.at(takers, 0);
  const oneThread = L.eq(first, L.index(takers, L.minus(L.len(takers), 1)));
  const elseFirst = L.recWhen(L.eq(L.len(takers), L.lit(0)), [], [L.check(oneThread), L.removeOne(takers, first)]);
  return [L.recWhen(L.includes(takers, p.thread), [L.removeOne(takers, p.thread)], [elseFirst])];
}
L.declareLowerings(actions, {
  sema_down: (p: SemaParams) => [L.check(positive(p)), L.set(f(p, 'count'), L.minus(count(p), 1)), L.insertSorted(f(p, 'takers'), p.thread)],
  sema_sleep: (p: SemaParams) => [L.check(dIdle(p)), L.check(L.eq(count(p), L.lit(0))), L.append(f(p, 'waiters'), p.thread)],
  sema_return: (p: SemaParams) => [L.removeOne(f(p, 'woken'), p.thread)],
  sema_up: (p: SemaParams) => {
    const first = L.at(f(p, 'waiters'), 0);
    const none = L.eq(first, L.lit(undefined));
    return [
      ...dRelease(p),
      L.set(f(p, 'count'), L.cond(none, L.plus(count(p), 1), count(p))),
      L.removeOne(f(p, 'waiters'), first, 'keep'),
      L.insertSortedOpt(f(p, 'woken'), first),
      L.insertSortedOpt(f(p, 'takers'), first),
    ];
  },
});
