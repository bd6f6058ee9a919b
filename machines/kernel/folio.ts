// Folio lock (mm/filemap.c): folio_lock / folio_trylock / folio_unlock with FIFO handoff to sleeping waiters.
//
// State at a context path: { owner: thread | null, waiters: FIFO of threads }.
// - folio_lock: fast path when unlocked (and nobody queued); otherwise the thread queues
//   (folio_wait_bit_common, exclusive waiter) and sleeps until folio_unlock HANDS the lock to the first
//   waiter (wake_page_function takes PG_locked on its behalf), so the unlocker cannot barge ahead.
//   One-step form `folio_lock` (no queue) is also provided: blocked while locked or while others queue.
// - folio_trylock: succeeds iff unlocked; never blocks.
// - folio_unlock may be called by any thread (I/O completion unlocks folios locked by the submitter).
// Params: { lock: path, thread, name? } as in locks.ts.
import type { Context } from '../../explorer/model.ts';
import { getIn, updateIn } from './path.ts';
import { kAssign, withLock, type WaitFn } from './types.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import { tryBranch, type LockParams, type Step, type TryTargets } from './locks.ts';

type Args = { context: Context };

export interface FolioState {
  owner: string | null;
  waiters: string[];
}
export const folio = (): FolioState => ({ owner: null, waiters: [] });

const misuse = (p: LockParams, what: string): never => {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} on folio ${p.name ?? p.lock}`);
};
const free = (s: FolioState) => s.owner === null && s.waiters.length === 0;

export const folioGuards = {
  folio_can_lock: ({ context }: Args, p: LockParams) => free(getIn(context, p.lock)),
  folio_trylock_ok: ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner === null,
  // the queued waiter got the lock handed over
  folio_handed_over: ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner === p.thread,
  folio_test_locked: ({ context }: Args, p: LockParams) => getIn(context, p.lock).owner !== null,
};

// lock-order information: the folio lock is held by its owner; queueing is the blocking call's attempt
const folioHolds = (s: FolioState | undefined, thread: string) => (s?.owner === thread ? ('write' as const) : null);
const folioLockEffect = { kind: 'folio', mode: 'write' as const, holds: folioHolds };
export const folioActions = {
  folio_lock: withLock(kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: FolioState) => {
      if (s.owner !== null) misuse(p, `folio_lock while ${s.owner} holds it`);
      return { ...s, owner: p.thread };
    }),
  ), folioLockEffect),
  folio_queue: withLock(kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: FolioState) => {
      if (s.waiters.includes(p.thread)) misuse(p, 'queued twice');
      return { ...s, waiters: [...s.waiters, p.thread] };
    }),
  ), folioLockEffect),
  folio_unlock: kAssign(({ context }, p: LockParams) =>
    updateIn(context, p.lock, (s: FolioState) => {
      if (s.owner === null) misuse(p, 'folio_unlock of an unlocked folio');
      if (s.waiters.length === 0) return { ...s, owner: null };
      return { owner: s.waiters[0], waiters: s.waiters.slice(1) };
    }),
  ),
};

export const folioWaits: Record<string, WaitFn> = {
  folio_can_lock: (context, p: LockParams) => {
    const s: FolioState = getIn(context, p.lock);
    return free(s) ? null : { resource: p.name ?? p.lock, kind: 'folio', mode: 'folio_lock', holders: s.owner ? [s.owner] : s.waiters.slice(0, 1) };
  },
  folio_handed_over: (context, p: LockParams) => {
    const s: FolioState = getIn(context, p.lock);
    return s.owner === p.thread ? null : { resource: p.name ?? p.lock, kind: 'folio', mode: 'folio_lock', holders: s.owner ? [s.owner] : [] };
  },
};

const lp = (lock: string, thread: string, name?: string): LockParams => (name === undefined ? { lock, thread } : { lock, thread, name });
/** One-step folio_lock: blocked while locked or while others queue. */
export const folio_lock = (lock: string, thread: string, name?: string): Step => ({
  guard: { type: 'folio_can_lock', params: lp(lock, thread, name) },
  actions: [{ type: 'folio_lock', params: lp(lock, thread, name) }],
});
/** folio_lock with handoff, for ONE event of the calling state: fast path to `next`, else queue and go to `wait`. */
export const folio_lock_fast = (lock: string, thread: string, t: { next: string; wait: string }, name?: string): any[] => [
  { guard: { type: 'folio_trylock_ok', params: lp(lock, thread, name) }, actions: [{ type: 'folio_lock', params: lp(lock, thread, name) }], target: t.next },
  { actions: [{ type: 'folio_queue', params: lp(lock, thread, name) }], target: t.wait },
];
/** The wait state of folio_lock_fast: blocked until the lock is handed over. */
export const folio_lock_wait_state = (event: string, lock: string, thread: string, next: string, name?: string): any => ({
  on: { [event]: { guard: { type: 'folio_handed_over', params: lp(lock, thread, name) }, target: next } },
});
export const folio_trylock = (lock: string, thread: string, t: TryTargets, name?: string): any[] =>
  tryBranch({ guard: { type: 'folio_trylock_ok', params: lp(lock, thread, name) }, actions: [{ type: 'folio_lock', params: lp(lock, thread, name) }] }, t);
export const folio_unlock = (lock: string, thread: string, name?: string): Step => ({
  actions: [{ type: 'folio_unlock', params: lp(lock, thread, name) }],
});

// Footprints (explorer/reduce/declare.ts), for --reduce por: the folio lock at `{lock}`.
declareFootprints(folioGuards, {
  folio_can_lock: { reads: ['{lock}'] },
  folio_trylock_ok: { reads: ['{lock}.owner'] },
  folio_handed_over: { reads: ['{lock}.owner'] },
  folio_test_locked: { reads: ['{lock}.owner'] },
});
declareFootprints(folioActions, Object.fromEntries(Object.keys(folioActions).map((n) => [n, { writes: ['{lock}'] }])));
