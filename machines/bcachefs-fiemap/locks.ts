// Local six-lock primitive for the bcachefs fiemap model: six locks with wakeup handoff (older than btree.ts's queueing).
//
// Plain data at a context path (e.g. "leaves.0"); named guards/actions take params
// `{ lock, thread, name? }` like machines/kernel/locks.ts, so the deadlock report can name the lock.
//
// six lock (fs/bcachefs/six.c), the lock on a btree node:
//   { readers, intent, intentWaiters, write, writePending, readWaiters, paths }
//   - read/read and read/intent are compatible; intent/intent excludes; write needs intent and
//     excludes read.
//   - A writer that has to wait sets SIX_LOCK_HELD_write (six_lock_slowpath) before sleeping, and
//     read's lock_fail mask is SIX_LOCK_HELD_write: a pending writer blocks NEW readers (`writePending`).
//   - Wakeups hand the lock over (six_lock_wakeup does the trylock on the waiter's behalf):
//     a write unlock grants read to every queued reader, an intent unlock grants intent to the first
//     queued intent waiter. Without handoff a weakly fair scheduler could starve a waiter, which the
//     real lock does not allow (machines/kernel/btree.ts's btree_node_lock_unqueued shows it: a reader
//     there is only intermittently enabled against a looping updater, and the liveness verdicts under an
//     unbounded updater would report that starvation as a fiemap livelock).
//   - Sequence numbers: a write lock bumps the node's seq, so every path that recorded the old seq
//     fails bch2_btree_path_relock_norestart(). `paths` lists the threads whose saved seq is still
//     current (instead of a counter, which would make the state space infinite).
// The folio lock is machines/kernel/folio.ts (v6.6 folio_wait_bit_common / wake_page_function).
import { assign } from 'xstate';
import type { Context, WaitInfo } from '../../explorer/model.ts';
import { getIn, insertSorted, removeOne, updateIn } from '../kernel/path.ts';
import { withLock } from '../kernel/types.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareLowerings } from '../../explorer/compile/lower/declared.ts';

export interface LockParams {
  lock: string;
  thread: string;
  name?: string;
}

export interface SixState {
  readers: string[];
  intent: string | null;
  intentWaiters: string[];
  write: boolean;
  writePending: boolean;
  readWaiters: string[];
  paths: string[];
}

export const sixLock = (): SixState => ({
  readers: [],
  intent: null,
  intentWaiters: [],
  write: false,
  writePending: false,
  readWaiters: [],
  paths: [],
});

type GuardFn = (args: { context: Context }, params: any) => boolean;
type WaitFn = (context: Context, params: any) => WaitInfo | null;

const rname = (p: LockParams) => p.name ?? p.lock;
function misuse(p: LockParams, what: string): never {
  throw new Error(`lock misuse: ${p.thread} ${what} on "${rname(p)}" (${p.lock})`);
}

const sixCanRead = (s: SixState) => !s.write && !s.writePending;
const sixCanIntent = (s: SixState) => s.intent === null && s.intentWaiters.length === 0;
const sixWriteReady = (s: SixState, t: string) => s.intent === t && !s.write && s.readers.every((r) => r === t);

/** Does `thread` hold any lock (read, intent or write) on this six lock? */
export const sixHeldBy = (s: SixState, thread: string): boolean => s.readers.includes(thread) || s.intent === thread;

export const localGuards: Record<string, GuardFn> = {
  // six_trylock_read fast path: no writer holds SIX_LOCK_HELD_write (held or pending).
  six_can_read: ({ context }, p: LockParams) => sixCanRead(getIn(context, p.lock)),
  // the read lock was granted (fast path or six_lock_wakeup handoff).
  six_read_granted: ({ context }, p: LockParams) => getIn(context, p.lock).readers.includes(p.thread),
  six_can_intent: ({ context }, p: LockParams) => sixCanIntent(getIn(context, p.lock)),
  six_intent_granted: ({ context }, p: LockParams) => getIn(context, p.lock).intent === p.thread,
  // six_lock_write: we hold intent and no other thread holds read.
  six_write_ready: ({ context }, p: LockParams) => sixWriteReady(getIn(context, p.lock), p.thread),
  // bch2_btree_path_relock_norestart -> six_relock_type(read, seq): seq unchanged and read trylock succeeds.
  six_relock_ok: ({ context }, p: LockParams) => {
    const s: SixState = getIn(context, p.lock);
    return s.paths.includes(p.thread) && sixCanRead(s);
  },
};

const six = (fn: (s: SixState, p: LockParams) => SixState) =>
  assign(({ context }: { context: Context }, p: LockParams) => updateIn(context, p.lock, (s: SixState) => fn(s, p)));

// lock-order information (explorer/properties/lockorder.ts): read is `rlock`, intent exclusive; the write
// lock is the upgrade of the thread's own intent lock (no new dependency); queueing is the blocking call
const sixHolds = (s: SixState | undefined, thread: string) =>
  s?.intent === thread ? ('write' as const) : s?.readers?.includes(thread) ? ('read' as const) : null;
const sixRead = <A extends object>(x: A) => withLock(x, { kind: 'six', mode: 'read', holds: sixHolds });
const sixIntent = <A extends object>(x: A) => withLock(x, { kind: 'six', mode: 'write', holds: sixHolds });

export const localActions: Record<string, any> = {
  six_read_acquire: sixRead(
    six((s, p) => {
      if (!sixCanRead(s)) misuse(p, 'read lock while a writer holds HELD_write');
      return { ...s, readers: insertSorted(s.readers, p.thread) };
    }),
  ),
  six_read_queue: sixRead(six((s, p) => ({ ...s, readWaiters: insertSorted(s.readWaiters, p.thread) }))),
  six_read_unlock: six((s, p) => {
    const readers = removeOne(s.readers, p.thread);
    if (readers === null) misuse(p, 'read unlock without a read hold');
    return { ...s, readers };
  }),
  six_intent_acquire: sixIntent(
    six((s, p) => {
      if (s.intent !== null) misuse(p, `intent lock while ${s.intent} holds intent`);
      return { ...s, intent: p.thread };
    }),
  ),
  six_intent_queue: sixIntent(six((s, p) => ({ ...s, intentWaiters: [...s.intentWaiters, p.thread] }))),
  // six_unlock_intent: hand intent to the first queued intent waiter.
  six_intent_unlock: six((s, p) => {
    if (s.intent !== p.thread || s.write) misuse(p, 'intent unlock without intent (or with write held)');
    return { ...s, intent: s.intentWaiters[0] ?? null, intentWaiters: s.intentWaiters.slice(1) };
  }),
  // six_lock_write slow path: set SIX_LOCK_HELD_write, then sleep until the readers drain.
  six_write_request: six((s, p) => {
    if (s.intent !== p.thread) misuse(p, 'write lock without intent');
    return { ...s, writePending: true };
  }),
  // write lock taken: the node's seq changes, so saved seqs of other paths go stale.
  six_write_acquire: six((s, p) => {
    if (!sixWriteReady(s, p.thread)) misuse(p, 'write lock while readers remain');
    return { ...s, write: true, writePending: false, paths: [] };
  }),
  // six_unlock_write: wake (and grant) every queued reader.
  six_write_unlock: six((s, p) => {
    if (!s.write || s.intent !== p.thread) misuse(p, 'write unlock without the write lock');
    let readers = s.readers;
    for (const r of s.readWaiters) readers = insertSorted(readers, r);
    return { ...s, write: false, readers, readWaiters: [] };
  }),
  // the path records the node's seq (btree_node_lock -> path->l[level].lock_seq).
  six_path_save: six((s, p) => ({ ...s, paths: s.paths.includes(p.thread) ? s.paths : insertSorted(s.paths, p.thread) })),
  six_path_drop: six((s, p) => ({ ...s, paths: removeOne(s.paths, p.thread) ?? s.paths })),
};

export const localWaits: Record<string, WaitFn> = {
  six_read_granted: (context, p: LockParams) => {
    const s: SixState = getIn(context, p.lock);
    if (s.readers.includes(p.thread)) return null;
    return {
      resource: rname(p),
      kind: 'six lock',
      mode: s.write ? 'read (write held)' : 'read (behind pending writer)',
      holders: s.intent !== null ? [s.intent] : [],
    };
  },
  six_intent_granted: (context, p: LockParams) => {
    const s: SixState = getIn(context, p.lock);
    if (s.intent === p.thread) return null;
    return { resource: rname(p), kind: 'six lock', mode: 'intent', holders: s.intent !== null ? [s.intent] : [] };
  },
  six_write_ready: (context, p: LockParams) => {
    const s: SixState = getIn(context, p.lock);
    if (sixWriteReady(s, p.thread)) return null;
    return { resource: rname(p), kind: 'six lock', mode: 'write (readers draining)', holders: s.readers.filter((r) => r !== p.thread) };
  },
};

export const lp = (lock: string, thread: string, name?: string): LockParams =>
  name === undefined ? { lock, thread } : { lock, thread, name };

// Declared lowerings (explorer/compile/lower/declared.ts): the six lock's guards and actions as word operations
// on the slice at `{lock}`, as the functions above compute them; a misuse BAILs and the function throws it.
const sField = (p: LockParams, field: string) => L.path(p.lock, field);
const sRead = (p: LockParams, field: string) => L.read(p.lock, field);
const sCanRead = (p: LockParams) => L.and(L.not(sRead(p, 'write')), L.not(sRead(p, 'writePending')));
const sIntentIs = (p: LockParams, who: string | null) => L.eq(sRead(p, 'intent'), L.lit(who));
const sWriteReady = (p: LockParams) => L.and(sIntentIs(p, p.thread), L.not(sRead(p, 'write')), L.everyIs(sField(p, 'readers'), p.thread));
const sFirstIntentWaiter = (p: LockParams) => L.at(sField(p, 'intentWaiters'), 0);
declareLowerings(localGuards, {
  six_can_read: sCanRead,
  six_read_granted: (p: LockParams) => L.includes(sField(p, 'readers'), p.thread),
  six_can_intent: (p: LockParams) => L.and(sIntentIs(p, null), L.eq(L.len(sField(p, 'intentWaiters')), L.lit(0))),
  six_intent_granted: (p: LockParams) => sIntentIs(p, p.thread),
  six_write_ready: sWriteReady,
  six_relock_ok: (p: LockParams) => L.and(L.includes(sField(p, 'paths'), p.thread), sCanRead(p)),
});
declareLowerings(localActions, {
  six_read_acquire: (p: LockParams) => [L.check(sCanRead(p)), L.insertSorted(sField(p, 'readers'), p.thread)],
  six_read_queue: (p: LockParams) => [L.insertSorted(sField(p, 'readWaiters'), p.thread)],
  six_read_unlock: (p: LockParams) => [L.removeOne(sField(p, 'readers'), p.thread)],
  six_intent_acquire: (p: LockParams) => [L.check(sIntentIs(p, null)), L.set(sField(p, 'intent'), p.thread)],
  six_intent_queue: (p: LockParams) => [L.append(sField(p, 'intentWaiters'), p.thread)],
  // intent: intentWaiters[0] ?? null; intentWaiters.slice(1): the first element's first occurrence removed
  six_intent_unlock: (p: LockParams) => [
    L.check(L.and(sIntentIs(p, p.thread), L.not(sRead(p, 'write')))),
    L.set(sField(p, 'intent'), L.coalesce(sFirstIntentWaiter(p), null)),
    L.removeOne(sField(p, 'intentWaiters'), sFirstIntentWaiter(p), 'keep'),
  ],
  six_write_request: (p: LockParams) => [L.check(sIntentIs(p, p.thread)), L.set(sField(p, 'writePending'), true)],
  six_write_acquire: (p: LockParams) => [
    L.check(sWriteReady(p)),
    L.set(sField(p, 'write'), true),
    L.set(sField(p, 'writePending'), false),
    L.clear(sField(p, 'paths')),
  ],
  six_write_unlock: (p: LockParams) => [
    L.check(L.and(sRead(p, 'write'), sIntentIs(p, p.thread))),
    L.set(sField(p, 'write'), false),
    L.moveSorted(sField(p, 'readWaiters'), sField(p, 'readers')),
  ],
  six_path_save: (p: LockParams) => [L.insertSortedOpt(sField(p, 'paths'), L.cond(L.includes(sField(p, 'paths'), p.thread), L.lit(undefined), p.thread))],
  six_path_drop: (p: LockParams) => [L.removeOne(sField(p, 'paths'), p.thread, 'keep')],
});
