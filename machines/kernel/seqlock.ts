// Sequence counts and seqlocks (include/linux/seqlock.h, v6.6): a writer makes the count odd while it
// writes; a lockless reader samples an even count, reads, and retries when the count moved meanwhile.
//
// State at a context path, built by seqcount() (seqcount_t) or seqlock() (seqlock_t = a seqcount and the
// spinlock that serialises its writers):
//   { odd: boolean                       the count's low bit (the count itself grows without bound: only
//                                        its parity and "did it move since X sampled it" are observable)
//     writers: string[]                  threads between write_seqcount_begin and _end (sorted)
//     readers: { [thread]: moved }       a lockless reader's sample (read_seqbegin): moved = the count
//                                        changed since (any write_seqcount_begin or _end)
//     lock?: QSpinlockState }            seqlock_t only: sl->lock, the kernel's queued spinlock
//
// raw_write_seqcount_begin(s) / write_seqcount_begin (do_write_seqcount_begin): s->sequence++ (odd), a write
//   barrier. Nothing serialises two writers on a plain seqcount_t: with two inside, the count is even again
//   and a reader can sample it mid-write (the reason seqcount_LOCKNAME_t and lockdep's assert exist). The
//   model does not refuse it: `writers` shows it, so a model can assert that a reader's accepted pass saw no
//   writer (the torn read).
// raw_write_seqcount_end(s) / write_seqcount_end (do_write_seqcount_end): s->sequence++ (even again).
// write_seqlock(sl): spin_lock(&sl->lock); do_write_seqcount_begin(&sl->seqcount.seqcount).
// write_sequnlock(sl): do_write_seqcount_end(...); spin_unlock(&sl->lock).
// read_seqbegin(sl) / read_seqcount_begin(s) (__read_seqcount_begin): while ((seq = READ_ONCE(s->sequence))
//   & 1) cpu_relax(); the caller keeps seq. Here: blocks while the count is odd, then records the sample.
// read_seqretry(sl, start) / read_seqcount_retry(s, start): READ_ONCE(s->sequence) != start. Here: the
//   sample's `moved`, and the sample is dropped (the caller's local is dead after the test; a model that
//   wants to re-test calls read_seqbegin again).
// read_seqlock_excl(sl) / read_sequnlock_excl(sl): spin_lock/spin_unlock(&sl->lock): a locking reader,
//   excluding writers without changing the count.
// Lock order (--lock-order), as lockdep sees s->dep_map: write_seqcount_begin acquires the seqcount (held until
//   write_seqcount_end), read_seqbegin read-acquires and releases it as it samples; write_seqlock takes sl->lock
//   (at the call) and then the seqcount. Names in reports: the seqcount is `name` (default: its path), sl->lock
//   `<name>.lock` (default: `<path>.lock`), two classes.
// Not modelled: memory ordering (every step is sequentially consistent), the latch variant
// (raw_write_seqcount_latch), read_seqbegin_or_lock's caller-local parity (a model keeps it, as
// machines/afs-seqlock-starvation does), the _irqsave/_bh variants' interrupt state, seqcount_LOCKNAME_t's
// lockdep assertion that the associated lock is held (a model can assert it with the mutexOwner view of
// `<path>.lock` or the spin_is_owner guard), raw_write_seqcount_begin's skipping lockdep (the same call here).
import type { Context } from '../../explorer/model.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { getIn, insertSorted, ownValue, removeOne, updateIn, withoutKey } from './path.ts';
import { kAssign, lastHoldIn, withLock, withRelease, type WaitFn } from './types.ts';
import { nextOf, qspinlock, spin_lock_queued, spin_unlock, type Next, type QSpinlockState } from './locks.ts';

/** A seqcount_t: the count's parity, the writers inside, the lockless readers' samples. */
export interface SeqcountState {
  odd: boolean;
  writers: string[];
  readers: Record<string, boolean>;
}
/** A seqlock_t: a seqcount and the queued spinlock serialising its writers (at `<path>.lock`). */
export interface SeqlockState extends SeqcountState {
  lock: QSpinlockState;
}
/** Params of the seqcount guards and actions. */
export interface SeqParams {
  /** Context path of the seqcount_t / seqlock_t slice. */
  seq: string;
  thread: string;
  /** Name for reports (default: the path). */
  name?: string;
}

/** A seqcount_t with an even count, nobody writing, nobody sampling. */
export const seqcount = (): SeqcountState => ({ odd: false, writers: [], readers: {} });
/** A seqlock_t: seqcount() with its spinlock (a qspinlock(): take it with write_seqlock / read_seqlock_excl). */
export const seqlock = (): SeqlockState => ({ ...seqcount(), lock: qspinlock() });

type Args = { context: Context };
const sname = (p: SeqParams) => p.name ?? p.seq;
function misuse(p: SeqParams, what: string): never {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} on "${sname(p)}" (${p.seq})`);
}
/** Every sample moves: the count changed under it. */
const movedAll = (readers: Record<string, boolean>) => Object.fromEntries(Object.keys(readers).map((t) => [t, true]));

const guards = {
  // __read_seqcount_begin: the count is even (otherwise it spins)
  seq_read_can_begin: ({ context }: Args, p: SeqParams) => !getIn(context, p.seq).odd,
  // read_seqcount_retry: the count moved since this reader's sample
  seq_read_moved: ({ context }: Args, p: SeqParams) => ownValue<boolean>(getIn(context, p.seq).readers, p.thread) === true,
};
// s->sequence++ (odd): the write section begins
const writeBegin = ({ context }: Args, p: SeqParams) =>
  updateIn(context, p.seq, (s: SeqcountState) => {
    if (s.writers.includes(p.thread)) misuse(p, 'write_seqcount_begin while already inside its write section');
    return { ...s, odd: !s.odd, writers: insertSorted(s.writers, p.thread), readers: movedAll(s.readers) };
  });
// lock-order information (lockdep's s->dep_map): a writer holds the seqcount from write_seqcount_begin to _end
// (seqcount_acquire), a reader read-acquires and releases it in read_seqbegin (seqcount_lockdep_reader_access),
// recorded when it samples (a reader spinning on an odd count records nothing yet). The raw_ calls, which skip
// lockdep, are the same calls here.
const seqHolds = (s: SeqcountState | undefined, thread: string) => (s?.writers?.includes(thread) ? ('write' as const) : null);
const seqDep = <A extends object>(action: A, mode: 'read' | 'write') =>
  withLock(action, { kind: 'seqcount', mode, holds: seqHolds, path: (p: SeqParams) => p.seq, name: sname });
const actions = {
  seq_write_begin: seqDep(kAssign(writeBegin), 'write'),
  seq_write_end: withRelease(
    kAssign(({ context }, p: SeqParams) =>
      updateIn(context, p.seq, (s: SeqcountState) => {
        const writers = removeOne(s.writers, p.thread);
        if (writers === null) misuse(p, 'write_seqcount_end outside its write section');
        return { ...s, odd: !s.odd, writers, readers: movedAll(s.readers) };
      }),
    ),
    { kind: 'seqcount', holds: seqHolds, path: (p: SeqParams) => p.seq, name: sname, last: lastHoldIn('writers') },
  ),
  seq_read_begin: seqDep(
    kAssign(({ context }, p: SeqParams) =>
      updateIn(context, p.seq, (s: SeqcountState) => {
        if (s.odd) misuse(p, 'read_seqbegin on an odd count');
        return { ...s, readers: { ...s.readers, [p.thread]: false } };
      }),
    ),
    'read',
  ),
  seq_read_retry: kAssign(({ context }, p: SeqParams) =>
    updateIn(context, p.seq, (s: SeqcountState) => {
      if (ownValue(s.readers, p.thread) === undefined) misuse(p, 'read_seqretry without a read_seqbegin sample');
      return { ...s, readers: withoutKey(s.readers, p.thread) };
    }),
  ),
};
const waits: Record<string, WaitFn> = {
  // a reader spinning in read_seqbegin: the writers inside their write section
  seq_read_can_begin: (context, p: SeqParams) => {
    const s: SeqcountState = getIn(context, p.seq);
    return s.odd ? { resource: sname(p), kind: 'seqcount', mode: 'read_seqbegin', holders: s.writers } : null;
  },
};
export const seqGuards = guards;
export const seqActions = actions;
export const seqWaits = waits;

// Footprints (explorer/reduce/declare.ts): the whole slice; writers is a sorted thread set.
declareFootprints(guards, Object.fromEntries(Object.keys(guards).map((n) => [n, { reads: ['{seq}'] }])));
declareFootprints(actions, Object.fromEntries(Object.keys(actions).map((n) => [n, { writes: ['{seq}'], sets: ['{seq}.writers'] }])));

// Declared lowerings (explorer/compile/lower/declared.ts): the guards and actions above as word operations on the
// slice at `{seq}`, line by line; movedAll() is recSetEach. A thread name the record operations cannot treat as
// the functions do (an Object.prototype name, an array index, a dotted name) declines (the function runs); a
// misuse BAILs and the function reports it.
const sf = (p: SeqParams, field: string) => L.path(p.seq, field);
const odd = (p: SeqParams) => L.read(p.seq, 'odd');
const sample = (p: SeqParams) => L.readOpt(p.seq, 'readers', p.thread);
const byThread = <T>(fn: (p: SeqParams) => T) => L.byPlainThread<SeqParams, T>(fn);
L.declareLowerings(guards, {
  seq_read_can_begin: (p: SeqParams) => L.not(odd(p)),
  seq_read_moved: byThread((p) => L.eq(sample(p), L.lit(true))),
});
L.declareLowerings(actions, {
  seq_write_begin: (p: SeqParams) => [
    L.check(L.not(L.includes(sf(p, 'writers'), p.thread))),
    L.set(sf(p, 'odd'), L.not(odd(p))),
    L.insertSorted(sf(p, 'writers'), p.thread),
    L.recSetEach(sf(p, 'readers'), true),
  ],
  seq_write_end: (p: SeqParams) => [L.removeOne(sf(p, 'writers'), p.thread), L.set(sf(p, 'odd'), L.not(odd(p))), L.recSetEach(sf(p, 'readers'), true)],
  seq_read_begin: byThread((p) => [L.check(L.not(odd(p))), L.recPut(sf(p, 'readers'), p.thread, false)]),
  seq_read_retry: byThread((p) => [L.check(L.ne(sample(p), L.lit(undefined))), L.recDelete(sf(p, 'readers'), p.thread)]),
});

// ---------------------------------------------------------------------------------------------
// Call helpers.

const P = (seq: string, thread: string, name?: string): SeqParams => (name === undefined ? { seq, thread } : { seq, thread, name });
const g = (type: string, params: any) => ({ type, params });
/** sl->lock's report name: `<name>.lock`, a class of its own beside the seqcount's `<name>` (as `<path>.lock` beside `<path>`). */
const lockName = (name?: string) => (name === undefined ? undefined : `${name}.lock`);
const a = (type: string, params: any) => ({ type, params });

/**
 * write_seqcount_begin(s) / raw_write_seqcount_begin(s): the count goes odd (no lock: the caller serialises); for
 * --lock-order the writer holds the seqcount until write_seqcount_end, as lockdep's seqcount_acquire (which the
 * raw_ call skips: not told apart here).
 */
export const write_seqcount_begin = (seq: string, thread: string, name?: string) => ({ actions: [a('seq_write_begin', P(seq, thread, name))] });
/** write_seqcount_end(s) / raw_write_seqcount_end(s): the count goes even again. */
export const write_seqcount_end = (seq: string, thread: string, name?: string) => ({ actions: [a('seq_write_end', P(seq, thread, name))] });
/**
 * write_seqlock(sl): spin_lock(&sl->lock) (queued) then the count goes odd; `name` names the seqcount, and
 * `<name>.lock` its spinlock. The transitions of ONE event:
 *   on: { 'writer.write_seqlock': write_seqlock('mount_lock', 'writer', 'change') }
 */
export const write_seqlock = (sl: string, thread: string, next: Next, name?: string): any[] => {
  const n = nextOf('write_seqlock', next);
  return spin_lock_queued(`${sl}.lock`, thread, { target: n.target, actions: [a('seq_write_begin', P(sl, thread, name)), ...n.actions] }, lockName(name));
};
/** write_sequnlock(sl): the count goes even, then spin_unlock(&sl->lock). */
export const write_sequnlock = (sl: string, thread: string, name?: string) => ({
  actions: [a('seq_write_end', P(sl, thread, name)), ...spin_unlock(`${sl}.lock`, thread, lockName(name)).actions!],
});
/**
 * read_seqbegin(sl) / read_seqcount_begin(s): blocks (spins) while the count is odd, then samples it. A
 * transition fragment: spread it and add `target`.
 */
export const read_seqbegin = (seq: string, thread: string, name?: string) => ({
  guard: g('seq_read_can_begin', P(seq, thread, name)),
  actions: [a('seq_read_begin', P(seq, thread, name))],
});
/** Where read_seqretry goes: `retry` when the count moved (with `retryActions`), else `ok` (with `okActions`). */
export interface RetryTargets {
  retry: string;
  ok: string;
  retryActions?: any[];
  okActions?: any[];
}
/**
 * read_seqretry(sl, start) / read_seqcount_retry(s, start): to `t.retry` when the count moved since this
 * thread's read_seqbegin, else to `t.ok`. Returns the transitions of ONE event (never blocks).
 *   on: { 'reader.read_seqretry': read_seqretry('mount_lock', 'reader', { retry: 'begin', ok: 'use' }) }
 */
export const read_seqretry = (seq: string, thread: string, t: RetryTargets, name?: string): any[] => [
  { guard: g('seq_read_moved', P(seq, thread, name)), actions: [a('seq_read_retry', P(seq, thread, name)), ...(t.retryActions ?? [])], target: t.retry },
  { actions: [a('seq_read_retry', P(seq, thread, name)), ...(t.okActions ?? [])], target: t.ok },
];
/** read_seqlock_excl(sl): spin_lock(&sl->lock) (queued), the count unchanged. The transitions of ONE event. */
export const read_seqlock_excl = (sl: string, thread: string, next: Next, name?: string): any[] => spin_lock_queued(`${sl}.lock`, thread, next, lockName(name));
/** read_sequnlock_excl(sl): spin_unlock(&sl->lock). */
export const read_sequnlock_excl = (sl: string, thread: string, name?: string) => spin_unlock(`${sl}.lock`, thread, lockName(name));

/** Plain-function views for invariants/assertions: the writers inside the write section. */
export const seqcountWriters = (context: Context, seq: string): string[] => getIn(context, seq).writers;
