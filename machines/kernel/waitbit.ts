// Bit waits (kernel/sched/wait_bit.c, include/linux/wait_bit.h, checked against v6.6): wait_on_bit, wait_on_bit_lock,
// wake_up_bit, clear_and_wake_up_bit, and the plain bit operations set_bit, clear_bit, clear_bit_unlock, test_bit,
// test_and_set_bit_lock. The inode's I_NEW (unlock_new_inode clears it and wakes, wait_on_inode waits) and the
// buffer_head's BH_Lock (lock_buffer: trylock_buffer, else __lock_buffer -> wait_on_bit_lock_io; unlock_buffer:
// clear_bit_unlock, smp_mb__after_atomic, wake_up_bit) are such bits.
//
// State at a context path (e.g. "bh.b_state"), built by bitWord(['BH_Lock', ...]) or bitWordWith(bits, { bit: setter }):
//   { [bit]: { setBy: string | null   null: clear; set: the thread that set it ('' when not known)
//              waiters: string[]      wait_on_bit() sleepers on the bit's wait queue (non-exclusive), sorted
//              exclusive: string[] }  wait_on_bit_lock() sleepers (WQ_FLAG_EXCLUSIVE), FIFO }
// Each bit has its own wait queue here; the kernel hashes (word, bit) into a shared table (bit_waitqueue), and
// wake_bit_function() skips the entries of other words and bits, so the waiters woken are the same.
// Every helper takes the word's context path first, then the bit's name (the C's set_bit(nr, addr) order is not kept).
// wait_on_bit(word, bit): `if (!test_bit_acquire(bit, word)) return 0;` else __wait_on_bit: prepare_to_wait (joins
//   the queue) BEFORE testing the bit again, then schedule() until woken; woken, it tests again and sleeps again while
//   the bit is set. Joining the queue and the test are one step here: a waiter never misses a wake-up sent after it
//   tested, as in the kernel; it sleeps until wake_up_bit takes it off the queue, so a bit cleared without
//   wake_up_bit leaves it asleep (a lost wake-up: deadlock).
// wait_on_bit_timeout(word, bit, timeout): wait_on_bit whose sleep may also end by itself (bit_wait_timeout:
//   schedule_timeout() ran out): one more step while asleep, which takes the sleeper off the bit's queue
//   (finish_wait); __wait_on_bit then tests the bit again: still set, the next bit_wait_timeout returns -EAGAIN (the
//   caller's timed-out target); clear, it returns 0 (`next`, as a woken sleeper that finds it clear). The timeout is
//   not timed: it may run out at any point of the sleep, so the timed wait never hangs.
// wait_on_bit_lock(word, bit): `if (!test_and_set_bit(bit, word)) return 0;` else __wait_on_bit_lock: loop of
//   prepare_to_wait_exclusive (at the tail), schedule() while the bit is set, then test_and_set_bit: a woken waiter
//   that finds the bit set again (another locker took it first: no handoff) queues again at the tail.
// wake_up_bit(word, bit): __wake_up(wq, TASK_NORMAL, 1, &key) through wake_bit_function, which wakes nobody while the
//   bit is set (test_bit(key->bit_nr, key->flags)): with the bit clear it takes every non-exclusive waiter and the
//   first exclusive one off the queue (non-exclusive entries sit at the head, prepare_to_wait's __add_wait_queue).
// clear_and_wake_up_bit(word, bit): clear_bit_unlock; smp_mb__after_atomic(); wake_up_bit: one step here.
// clear_bit / clear_bit_unlock: the bit is clear, nobody is woken. set_bit: the bit is set (by the caller; setting a
//   set bit keeps its setter). test_and_set_bit_lock (trylock_buffer): [success, failure], sets it iff clear.
// Lock order: lockdep tracks no bit lock (lock_buffer and wait_on_bit_lock have no lockdep map), so the lock-order
//   check (--lock-order) records no lock for a bit. wait_on_bit(_lock) starts with might_sleep() though: wait_on_bit_lock's
//   take of a clear bit and both waits' sleep carry a might_sleep() point (withMightSleep, LockAcquisition.sleepOnly),
//   so under a spinlock or inside rcu_read_lock() --lock-order reports "sleeping function called from invalid
//   context" (a woken waiter returns with the same locks held). wait_on_bit finding the bit clear at the call runs no
//   action of the primitive: its guard (bit_clear_idle) carries the point (withGuardSleep); test_and_set_bit_lock
//   never sleeps.
// Wait-for report: a sleeper waits for `${name ?? word}[${bit}]`, kind 'bit', mode wait_on_bit or wait_on_bit_lock,
//   "set by" the thread that set it (WaitInfo.holdVerb 'set'); a bit set in the initial state with no setter named
//   has no holder to name; a sleeper whose bit is clear says that no wake_up_bit took it off the queue, and names the
//   threads `by` lists (wait_on_bit(..., { by })) as the ones that must wake_up_bit (act 'wake_up_bit'), as a completion
//   names its completers: the report then says which of them has finished without waking it.
// Not modelled: memory ordering (smp_mb__after_atomic, the barrier before the waitqueue_active() test in
// __wake_up_bit: a missing barrier is not a bug the model can show), wait_on_bit_action's early returns, a timeout
// found run out before the first sleep (wait_on_bit_timeout sleeps first here),
// signals (TASK_INTERRUPTIBLE), spurious wake-ups; wake_up_var/wait_var_event are in waitqueue.ts (waitVarEventStates).
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, removeOne, updateIn } from './path.ts';
import { kAssign, withGuardSleep, withMightSleep, type WaitFn } from './types.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { nextOf, tryBranch, type GuardRef, type Next, type Step, type TryTargets } from './locks.ts';

/** One bit of a word and its wait queue (see the header). */
export interface BitState {
  setBy: string | null;
  waiters: string[];
  exclusive: string[];
}
/** A word of named bits. */
export type BitWordState = Record<string, BitState>;
/** Params of the bit guards and actions. */
export interface BitParams {
  /** Context path of the word. */
  word: string;
  /** The bit's name, a key of the word. */
  bit: string;
  thread?: string;
  /** Name of the word for reports (default: the path). */
  name?: string;
  /** The wait is wait_on_bit_lock's (for reports). */
  lock?: boolean;
  /** The threads expected to wake_up_bit() it, named in reports when a sleeper's bit is clear (a lost wake-up). */
  by?: string[];
}

const clearBit = (): BitState => ({ setBy: null, waiters: [], exclusive: [] });
/** A word whose named bits are all clear, nobody waiting. */
export function bitWord(bits: string[]): BitWordState {
  if (bits.length === 0) throw new Error('bitWord: name at least one bit');
  if (new Set(bits).size !== bits.length) throw new Error(`bitWord: a bit is named twice (${bits.join(', ')})`);
  return Object.fromEntries(bits.map((b) => [b, clearBit()]));
}
/** A word of `bits` with some set: set[bit] = the thread that set it ('' when no thread of the model did). */
export function bitWordWith(bits: string[], set: Record<string, string>): BitWordState {
  const w = bitWord(bits);
  for (const [b, by] of Object.entries(set)) {
    if (!bits.includes(b)) throw new Error(`bitWordWith: "${b}" is not a bit of this word (bits: ${bits.join(', ')})`);
    w[b] = { ...clearBit(), setBy: by };
  }
  return w;
}

type Args = { context: Context };
const bitOf = (context: Context, p: BitParams): BitState => {
  const b = getIn(context, p.word)?.[p.bit];
  if (!b || typeof b !== 'object') throw new Error(`kernel primitive misuse: "${p.bit}" is not a bit of the word at ${p.word} (build it with bitWord([...]))`);
  return b;
};
const isSet = (b: BitState) => b.setBy !== null;
const asleep = (b: BitState, t: string) => b.waiters.includes(t) || b.exclusive.includes(t);
const bitPath = (p: BitParams) => `${p.word}.${p.bit}`;
const thread = (p: BitParams) => p.thread ?? misuseBare(p, 'needs the calling thread');
function misuseBare(p: BitParams, what: string): never {
  throw new Error(`kernel primitive misuse: ${p.thread ?? 'a thread'} ${what} (bit ${p.bit} of ${p.name ?? p.word})`);
}

const guards = {
  // test_bit(): set
  bit_test: ({ context }: Args, p: BitParams) => isSet(bitOf(context, p)),
  // !test_bit(): clear
  bit_test_clear: ({ context }: Args, p: BitParams) => !isSet(bitOf(context, p)),
  // wait_on_bit(_lock), not asleep: the bit is clear (wait_on_bit returns; wait_on_bit_lock's test_and_set_bit wins);
  // wait_on_bit's might_sleep() comes first, so the guard carries it (withGuardSleep: a bit found clear at the call)
  bit_clear_idle: withGuardSleep(
    ({ context }: Args, p: BitParams) => {
      const b = bitOf(context, p);
      return !isSet(b) && !asleep(b, thread(p));
    },
    { kind: 'bit', path: bitPath, name: (p: BitParams) => `${p.name ?? p.word}[${p.bit}]` },
  ),
  // wait_on_bit(_lock), not asleep: the bit is set, so it joins the queue and sleeps
  bit_must_sleep: ({ context }: Args, p: BitParams) => {
    const b = bitOf(context, p);
    return isSet(b) && !asleep(b, thread(p));
  },
  // wait_on_bit_timeout, asleep on the bit's queue (not yet woken), its timeout runs out: the bit still set (-EAGAIN)
  bit_timeout_set: ({ context }: Args, p: BitParams) => {
    const b = bitOf(context, p);
    return isSet(b) && b.waiters.includes(thread(p));
  },
  // ... the bit clear by then (returns 0)
  bit_timeout_clear: ({ context }: Args, p: BitParams) => {
    const b = bitOf(context, p);
    return !isSet(b) && b.waiters.includes(thread(p));
  },
};

const update = (fn: (b: BitState, p: BitParams) => BitState) =>
  kAssign(({ context }, p: BitParams) => {
    bitOf(context, p);
    return updateIn(context, bitPath(p), (b: BitState) => fn(b, p));
  });
/** wake_up_bit(): nobody while the bit is set, else every non-exclusive sleeper and the first exclusive one. */
const wake = (b: BitState): BitState => (isSet(b) || (b.waiters.length === 0 && b.exclusive.length === 0) ? b : { ...b, waiters: [], exclusive: b.exclusive.slice(1) });

/** wait_on_bit(_lock)'s might_sleep() (see the header), on the bit, named as in the wait-for report. */
const mightSleep = <A extends object>(action: A): A =>
  withMightSleep(action, { kind: 'bit', path: bitPath, name: (p: BitParams) => `${p.name ?? p.word}[${p.bit}]` });

const actions = {
  // set_bit(): the caller set it (a set bit keeps its setter)
  bit_set: update((b, p) => (isSet(b) ? b : { ...b, setBy: thread(p) })),
  // test_and_set_bit() that found the bit clear: wait_on_bit_lock's, test_and_set_bit_lock's success
  // (wait_on_bit_lock's sleeps; test_and_set_bit_lock's, params.try, does not)
  bit_lock: mightSleep(update((b, p) => {
    if (isSet(b)) misuseBare(p, `takes the bit lock while ${b.setBy || 'somebody'} holds it`);
    return { ...b, setBy: thread(p) };
  })),
  // clear_bit() / clear_bit_unlock(): nobody woken
  bit_clear: update((b) => ({ ...b, setBy: null })),
  // wake_up_bit()
  bit_wake: update(wake),
  // clear_and_wake_up_bit()
  bit_clear_wake: update((b) => wake({ ...b, setBy: null })),
  // __wait_on_bit: prepare_to_wait (the bit is set: it sleeps)
  bit_sleep: mightSleep(update((b, p) => {
    if (asleep(b, thread(p))) misuseBare(p, 'sleeps on the bit twice');
    return { ...b, waiters: insertSorted(b.waiters, thread(p)) };
  })),
  // wait_on_bit_timeout's timeout ran out: finish_wait, off the bit's queue
  bit_unqueue: update((b, p) => ({ ...b, waiters: removeOne(b.waiters, thread(p)) ?? b.waiters })),
  // __wait_on_bit_lock: prepare_to_wait_exclusive (at the tail; the bit is set: it sleeps)
  bit_sleep_exclusive: mightSleep(update((b, p) => {
    if (asleep(b, thread(p))) misuseBare(p, 'sleeps on the bit twice');
    return { ...b, exclusive: [...b.exclusive, thread(p)] };
  })),
};

const waits: Record<string, WaitFn> = {
  // asleep in wait_on_bit(_lock): described while the bit is set (also before the thread slept, so that the report
  // dates the setter's hold from when it set the bit), or while it sleeps with the bit clear (a lost wake-up)
  bit_clear_idle: (context, p: BitParams) => {
    const b = bitOf(context, p);
    const call = p.lock ? 'wait_on_bit_lock' : 'wait_on_bit';
    const base = { resource: `${p.name ?? p.word}[${p.bit}]`, kind: 'bit' };
    if (isSet(b)) return { ...base, mode: call, holders: b.setBy ? [b.setBy] : [], ...(b.setBy ? { holdVerb: 'set' } : {}) };
    if (!asleep(b, thread(p))) return null;
    const mode = `${call} (the bit is clear, but no wake_up_bit took the sleeper off its wait queue)`;
    return p.by?.length ? { ...base, mode, holders: p.by, act: 'wake_up_bit' } : { ...base, mode, holders: [] };
  },
};

/** Guards, assign actions and wait describers of the bit waits (in kernelGuards / kernelActions / kernelWaits). */
export const bitGuards = guards;
export const bitActions = actions;
export const bitWaits = waits;

// ---------------------------------------------------------------------------------------------
// Call helpers.

const P = (word: string, bit: string, o: { thread?: string; name?: string; lock?: boolean; by?: string[] } = {}): BitParams => ({ word, bit, ...o });
const ref = (type: string, params: BitParams) => ({ type, params });

/** The transitions of one blocking bit wait: go on while the bit is clear, else sleep (stay) until woken. */
function bitWait(call: string, word: string, bit: string, thread: string, next: Next, o: BitWaitOptions, lock: boolean): any[] {
  const p = P(word, bit, { thread, ...o, ...(lock ? { lock: true } : {}) });
  const n = nextOf(call, next);
  return [
    { guard: ref('bit_clear_idle', p), actions: [...(lock ? [ref('bit_lock', p)] : []), ...n.actions], target: n.target },
    { guard: ref('bit_must_sleep', p), actions: [ref(lock ? 'bit_sleep_exclusive' : 'bit_sleep', p)] },
  ];
}
/** Options of the bit waits: `name` the word's name in reports; `by` the threads expected to wake_up_bit() it (named
 * in a lost wake-up's report: the sleeper's bit is clear and nobody took it off the queue). */
export interface BitWaitOptions {
  name?: string;
  by?: string[];
}
/**
 * wait_on_bit(word, bit) for ONE event of the calling state: goes on when the bit is clear, else sleeps on the bit's
 * wait queue (the thread stays in the calling state) until wake_up_bit takes it off, then tests again.
 *   on: { 'lookup.wait_on_inode': wait_on_bit('inode.i_state', 'I_NEW', 'lookup', 'found') }
 */
export const wait_on_bit = (word: string, bit: string, thread: string, next: Next, o: BitWaitOptions = {}): any[] =>
  bitWait('wait_on_bit', word, bit, thread, next, o, false);
/**
 * wait_on_bit_timeout(word, bit, timeout) for ONE event: wait_on_bit (to `next` when the bit is found clear: it
 * returns 0), whose sleep may also run out: off the bit's queue, to `timedOut` while the bit is set (-EAGAIN), to
 * `next` when it is clear by then (0).
 *   on: { 'acquire.wait_on_bit_timeout': wait_on_bit_timeout('vol.flags', 'ACQUIRE_PENDING', 'acquire', 'check', 'check') }
 */
export const wait_on_bit_timeout = (word: string, bit: string, thread: string, next: Next, timedOut: Next, o: BitWaitOptions = {}): any[] => {
  const t = nextOf('wait_on_bit_timeout', timedOut);
  const n = nextOf('wait_on_bit_timeout', next);
  const p = P(word, bit, { thread });
  return [
    ...bitWait('wait_on_bit_timeout', word, bit, thread, next, o, false),
    { guard: ref('bit_timeout_set', p), actions: [ref('bit_unqueue', p), ...t.actions], target: t.target },
    { guard: ref('bit_timeout_clear', p), actions: [ref('bit_unqueue', p), ...n.actions], target: n.target },
  ];
};
/** wait_on_bit_io: wait_on_bit sleeping in io_schedule(), the same here. */
export const wait_on_bit_io = wait_on_bit;
/**
 * wait_on_bit_lock(word, bit) for ONE event of the calling state: sets the bit when it is clear, else sleeps as an
 * exclusive waiter until woken and tries again (lock_buffer: __lock_buffer).
 *   on: { 'writer.lock_buffer': wait_on_bit_lock('bh.b_state', 'BH_Lock', 'writer', 'locked', { name: 'bh->b_state' }) }
 */
export const wait_on_bit_lock = (word: string, bit: string, thread: string, next: Next, o: BitWaitOptions = {}): any[] =>
  bitWait('wait_on_bit_lock', word, bit, thread, next, o, true);
/** wait_on_bit_lock_io: wait_on_bit_lock sleeping in io_schedule(), the same here. */
export const wait_on_bit_lock_io = wait_on_bit_lock;
/** test_and_set_bit_lock(bit, word) == 0 (trylock_buffer): [success, failure] for one event. */
export const test_and_set_bit_lock = (word: string, bit: string, thread: string, t: TryTargets): any[] =>
  tryBranch({ guard: ref('bit_test_clear', P(word, bit)), actions: [ref('bit_lock', P(word, bit, { thread }))] }, t);
/** set_bit(bit, word) by `thread` (named in reports as the one that set it). */
export const set_bit = (word: string, bit: string, thread: string): Step => ({ actions: [ref('bit_set', P(word, bit, { thread }))] });
/** clear_bit(bit, word): wakes nobody. */
export const clear_bit = (word: string, bit: string): Step => ({ actions: [ref('bit_clear', P(word, bit))] });
/** clear_bit_unlock(bit, word): clear_bit with release ordering (not modelled); wakes nobody. */
export const clear_bit_unlock = clear_bit;
/** wake_up_bit(word, bit): with the bit clear, every wait_on_bit sleeper and the first wait_on_bit_lock one. */
export const wake_up_bit = (word: string, bit: string): Step => ({ actions: [ref('bit_wake', P(word, bit))] });
/** clear_and_wake_up_bit(bit, word): clear_bit_unlock, then wake_up_bit, in one step. */
export const clear_and_wake_up_bit = (word: string, bit: string): Step => ({ actions: [ref('bit_clear_wake', P(word, bit))] });
/** Guard ref: test_bit(bit, word). */
export const test_bit = (word: string, bit: string): GuardRef => ref('bit_test', P(word, bit));
/** Guard ref: !test_bit(bit, word). */
export const test_bit_clear = (word: string, bit: string): GuardRef => ref('bit_test_clear', P(word, bit));

/** Plain views for invariants and assertions: whether the bit is set, and who set it (null: clear; '': not known). */
export const bitIsSet = (context: Context, word: string, bit: string): boolean => bitOf(context, { word, bit }).setBy !== null;
export const bitSetBy = (context: Context, word: string, bit: string): string | null => bitOf(context, { word, bit }).setBy;

// Footprints (explorer/reduce/declare.ts), for --reduce por: the bit's slice; its non-exclusive waiters are a sorted set.
declareFootprints(guards, Object.fromEntries(Object.keys(guards).map((n) => [n, { reads: ['{word}.{bit}'] }])));
declareFootprints(actions, Object.fromEntries(Object.keys(actions).map((n) => [n, { writes: ['{word}.{bit}'], sets: ['{word}.{bit}.waiters'] }])));

// Declared lowerings (explorer/compile/lower/declared.ts): the guards and actions above as word operations on the
// bit's slice at `{word}.{bit}`, line by line. A bit the word does not have (a missing path) and every misuse BAIL,
// and the function runs (and reports it); a guard or action without its thread declines (the function throws).
const b = (p: BitParams, field: string) => L.path(p.word, p.bit, field);
const setBy = (p: BitParams) => L.read(p.word, p.bit, 'setBy');
const dSet = (p: BitParams) => L.ne(setBy(p), L.lit(null));
const dClear = (p: BitParams) => L.eq(setBy(p), L.lit(null));
const dAwake = (p: BitParams, t: string) => L.and(L.not(L.includes(b(p, 'waiters'), t)), L.not(L.includes(b(p, 'exclusive'), t)));
/** wake(): with the bit clear, every non-exclusive sleeper and the first exclusive one (run after a clear, or guarded). */
const dWake = (p: BitParams) => [L.clear(b(p, 'waiters')), L.removeOne(b(p, 'exclusive'), L.at(b(p, 'exclusive'), 0), 'keep')];
const withThread = <T>(fn: (p: BitParams, t: string) => T) => (p: BitParams): T | null => (p.thread === undefined ? null : fn(p, p.thread));
L.declareLowerings(guards, {
  bit_test: dSet,
  bit_test_clear: dClear,
  bit_clear_idle: withThread((p, t) => L.and(dClear(p), dAwake(p, t))),
  bit_must_sleep: withThread((p, t) => L.and(dSet(p), dAwake(p, t))),
  bit_timeout_set: withThread((p, t) => L.and(dSet(p), L.includes(b(p, 'waiters'), t))),
  bit_timeout_clear: withThread((p, t) => L.and(dClear(p), L.includes(b(p, 'waiters'), t))),
});
L.declareLowerings(actions, {
  bit_set: withThread((p, t) => [L.set(b(p, 'setBy'), L.cond(dSet(p), setBy(p), t))]),
  bit_lock: withThread((p, t) => [L.check(dClear(p)), L.set(b(p, 'setBy'), t)]),
  bit_clear: (p: BitParams) => [L.set(b(p, 'setBy'), null)],
  bit_wake: (p: BitParams) => [L.recWhen(dClear(p), dWake(p))],
  bit_clear_wake: (p: BitParams) => [L.set(b(p, 'setBy'), null), ...dWake(p)],
  bit_sleep: withThread((p, t) => [L.check(dAwake(p, t)), L.insertSorted(b(p, 'waiters'), t)]),
  bit_sleep_exclusive: withThread((p, t) => [L.check(dAwake(p, t)), L.append(b(p, 'exclusive'), t)]),
  bit_unqueue: withThread((p, t) => [L.removeOne(b(p, 'waiters'), t, 'keep')]),
});
