// RCU and SRCU read-side sections and grace periods (include/linux/rcupdate.h, include/linux/srcu.h,
// kernel/rcu/tree.c, kernel/rcu/srcutree.c, v6.6): rcu_read_lock/rcu_read_unlock, synchronize_rcu,
// srcu_read_lock/srcu_read_unlock, synchronize_srcu on a named srcu_struct.
//
// State at a context path (e.g. "rcu" for the one RCU domain, "srcu" for each srcu_struct), built by rcu() / srcu():
//   { readers: { [thread]: nesting }   threads inside a read-side section and their nesting depth (>= 1); absent:
//                                      outside (rcu_read_lock_nesting / the srcu_lock_nesting of a task)
//     gp: { [thread]: string[] } }     threads inside synchronize_*(): the readers (sorted) their grace period still
//                                      waits for
// Semantics (one event per call; synchronize_*() is one event of the calling state, as down_read() is):
// - rcu_read_lock() / srcu_read_lock(ssp): nesting++ (always enabled: a reader never waits; __srcu_read_lock only
//   increments this CPU's srcu_lock_count[idx]). rcu_read_unlock() / srcu_read_unlock(ssp, idx): nesting--; when
//   the OUTERMOST section ends the thread leaves every grace period's list (the SRCU counters of its idx balance,
//   srcu_readers_active_idx_check() sees it gone; for RCU, the quiescent state rcu_read_unlock_special() reports).
// - synchronize_rcu() (tree.c: wait_rcu_gp(call_rcu_hurry)) / synchronize_srcu(ssp) (srcutree.c
//   __synchronize_srcu: __call_srcu + wait_for_completion): a grace period waits for every reader that was inside
//   a read-side section of the SAME domain when it started, and for none that starts later. Step `start`
//   snapshots the domain's readers into gp[thread]; the thread then stays in the calling state, blocked, until
//   each snapshotted reader has left its outermost section, and the step that returns removes gp[thread].
//   With no reader inside at the call it returns in one step. A synchronize_*() from inside the caller's own
//   read-side section of the same domain snapshots the caller itself and never returns: a deadlock, whose
//   report says "synchronize_srcu(&s) waits for reader X" naming the readers (the caller among them).
//   (The kernel warns first: RCU_LOCKDEP_WARN "Illegal synchronize_srcu() in same-type SRCU (or in RCU)
//   read-side critical section" / "Illegal synchronize_rcu() in RCU read-side critical section".)
//   An SRCU domain and the RCU domain are independent: synchronize_srcu(&a) does not wait for readers of b.
// Lock order (explorer/properties/lockorder.ts, --lock-order), as lockdep sees it in v6.6: each domain is a lockdep
// map. srcu_read_lock() is srcu_lock_acquire() = lock_map_acquire_read(&ssp->dep_map) and rcu_read_lock() is
// rcu_lock_acquire(&rcu_lock_map): both a RECURSIVE read acquisition (read == 2), so the domain counts as
// read-held by a thread inside its outermost section (nested locks acquire nothing more). A recursive read never
// waits and lockdep reports no cycle that enters a lock by one, so these acquisitions add no dependency INTO the
// domain (declared like a trylock's) but every lock taken inside the section depends on it.
// __synchronize_srcu() starts with srcu_lock_sync(&ssp->dep_map) = lock_map_sync(): a write acquire and release
// (since v6.4, "rcu: Annotate SRCU's update-side lockdep dependencies"): an edge from every lock the caller
// holds into the domain. So "A: mutex_lock(M); synchronize_srcu(S)" against "B: srcu_read_lock(S); mutex_lock(M)"
// is the cycle M -> S -> M even in a run where the two never overlap, and synchronize_srcu(S) inside S's own
// section is "possible recursive locking". synchronize_rcu() records the same sync on the RCU domain here; the
// kernel's tree.c has no lock_map_sync for it, only the RCU_LOCKDEP_WARN above (a model choice: the graph then
// also flags synchronize_rcu() under a lock that an RCU reader takes, itself a deadlock).
// Sleeping inside rcu_read_lock() (not SRCU) is a kernel bug ("sleeping function called from invalid context",
// or "Illegal context switch in RCU read-side critical section" under CONFIG_PREEMPT_RCU): assert it where the
// model sleeps with rcuMightSleep(rcu, thread), a named assertion for the state's meta.assert. The lock-order check
// reports it by itself for the sleeping calls of the kernel primitives (might_sleep() points: LockEffect.mightSleep,
// LockAcquisition.sleepOnly), rcu_read_lock's map having lockdep's inner wait type 'spin'; synchronize_rcu() and
// synchronize_srcu() are such calls (their lock_map_sync is marked mightSleep: under a spinlock, "sleeping function
// called from invalid context").
// Not modelled: expedited grace periods (same waits, faster), call_rcu/call_srcu callbacks (queue a work item of
// your own), polled grace periods (get_state_synchronize_*), srcu_down_read/srcu_up_read across tasks, the SRCU
// index flip (two counter sets: the snapshot is what it guarantees), rcu_read_lock_bh/_sched flavours (one RCU
// domain: since v5.0 synchronize_rcu waits for all three), a task's overlapping SRCU sections (idx1 = lock, idx2 =
// lock, unlock(idx1), unlock(idx2): the sections here nest, so a grace period that started between the two locks
// waits until the outermost unlock, where the kernel's may end at unlock(idx1); model such a reader as two threads).
// Params: { domain: path, thread, name? } (name = resource name in reports: default "rcu_read_lock" for RCU, as
// lockdep names rcu_lock_map, and the path for an srcu_struct).
import type { Context, LockAcquisition, LockEffect, WaitInfo } from '../../explorer/model.ts';
import { getIn, ownValue, updateIn, withoutKey } from './path.ts';
import { kAssign, type WaitFn } from './types.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import type { Step, Next } from './locks.ts';
import { nextOf } from './locks.ts';

/** An RCU domain or an srcu_struct (see the header). */
export interface RcuDomainState {
  readers: Record<string, number>;
  gp: Record<string, string[]>;
}
/** Params of the RCU and SRCU guards and actions. */
export interface RcuParams {
  /** Context path of the domain's slice. */
  domain: string;
  thread: string;
  /** Resource name for reports (default: "rcu_read_lock" for RCU, the path for SRCU). */
  name?: string;
}

/** The RCU domain (rcu_lock_map): nobody inside a read-side section, no grace period running. */
export const rcu = (): RcuDomainState => ({ readers: {}, gp: {} });
/** An srcu_struct (DEFINE_SRCU / init_srcu_struct): nobody inside a read-side section, no grace period running. */
export const srcu = rcu;
/**
 * Initial state: `readers` (thread -> nesting depth, 1 for one rcu_read_lock()/srcu_read_lock()) already inside a
 * read-side section of the domain, no grace period running.
 */
export function rcuReading(readers: Record<string, number>): RcuDomainState {
  for (const [t, n] of Object.entries(readers)) if (!(Number.isInteger(n) && n >= 1)) throw new Error(`rcuReading: the nesting of ${t} must be an integer >= 1, got ${n}`);
  return { readers: Object.fromEntries(Object.keys(readers).sort().map((t) => [t, readers[t]!])), gp: {} };
}
/** srcuReading: the same for an srcu_struct. */
export const srcuReading = rcuReading;

type Flavour = 'rcu' | 'srcu';
type Args = { context: Context };
const defaultName = (f: Flavour, p: RcuParams) => p.name ?? (f === 'rcu' ? 'rcu_read_lock' : p.domain);
const syncCall = (f: Flavour, p: RcuParams) => (f === 'rcu' ? 'synchronize_rcu()' : `synchronize_srcu(&${defaultName(f, p)})`);
function misuse(f: Flavour, p: RcuParams, what: string): never {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} (${f === 'rcu' ? 'RCU domain' : 'srcu_struct'} at "${p.domain}")`);
}
const inReader = (s: RcuDomainState, t: string) => (ownValue(s.readers, t) ?? 0) > 0;
const inGp = (s: RcuDomainState, t: string) => Object.hasOwn(s.gp, t);
/** The readers a grace period starting now waits for: every thread inside a read-side section (sorted). */
const snapshot = (s: RcuDomainState) => Object.keys(s.readers).sort();

/** The lockdep map of the domain: read-held inside the outermost section (see the header). */
function lockdep(f: Flavour, acquires: (p: RcuParams, s: RcuDomainState) => LockAcquisition | null, o: { mightSleep?: boolean; releases?: boolean } = {}): LockEffect {
  return {
    kind: f,
    acquires: (p: RcuParams, context: Context) => acquires(p, getIn(context, p.domain)),
    // the domain a nested read_lock or a read_unlock names: a reader inside from the initial state (rcuReading)
    lockOf: (p: RcuParams) => ({ path: p.domain, name: defaultName(f, p) }),
    // read_unlock: the OUTERMOST one ends the section (a nested one, or a nested read_lock, releases nothing); read in
    // the state before the step, a thread in no section then opened it earlier in the same step (its read_lock
    // acquired it there): this unlock ends it too, as lastHoldIn reads an up_read after a down_read
    ...(o.releases
      ? { releases: (p: RcuParams, context: Context) => ((ownValue<number>(getIn(context, p.domain).readers, p.thread) ?? 0) <= 1 ? { path: p.domain, thread: p.thread } : null) }
      : {}),
    holds: (context, path, thread) => (inReader(getIn(context, path), thread) ? 'read' : null),
    // lockdep's wait types (its invalid-wait-context check): rcu_lock_map is taken anywhere (LD_WAIT_FREE outer)
    // and nothing inside may sleep (LD_WAIT_CONFIG inner), so a mutex under rcu_read_lock() is reported; an
    // srcu_struct's map is lockdep_init_map'd (LD_WAIT_INV, unchecked): SRCU readers may sleep
    ...(f === 'rcu' ? { wait: { inner: 'spin', outer: 'free' } as const } : {}),
    // synchronize_*() may sleep (wait_for_completion): might_sleep()'s check, which lockdep's wait types do not make
    ...(o.mightSleep ? { mightSleep: true } : {}),
  };
}
const map = (f: Flavour, p: RcuParams, o: { mode: 'read' | 'write' }): LockAcquisition =>
  o.mode === 'read'
    ? // rcu_lock_acquire / srcu_lock_acquire: a recursive read, which never waits: no dependency into the domain
      { path: p.domain, name: defaultName(f, p), mode: 'read', thread: p.thread, try: true }
    : // lock_map_sync: acquired and released at once
      { path: p.domain, name: defaultName(f, p), mode: 'write', thread: p.thread, try: false, released: true };

/** The registry `o` with each name prefixed by the flavour (rcu_read_lock, srcu_read_lock, ...), keeping literal names. */
function prefixed<F extends Flavour, T extends Record<string, unknown>>(f: F, o: T): { [K in keyof T & string as `${F}_${K}`]: T[K] } {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${f}_${k}`, v])) as any;
}

function ops<F extends Flavour>(f: F) {
  const update = (fn: (s: RcuDomainState, p: RcuParams) => RcuDomainState) =>
    kAssign(({ context }, p: RcuParams) => updateIn(context, p.domain, (s: RcuDomainState) => fn(s, p)));
  const withMap = <A extends object>(action: A, acquires: (p: RcuParams, s: RcuDomainState) => LockAcquisition | null, o: { mightSleep?: boolean; releases?: boolean } = {}): A =>
    Object.assign(action, { lockEffect: lockdep(f, acquires, o) });
  const guards = {
    // synchronize_*() returns: its grace period started and every snapshotted reader has left
    gp_done: ({ context }: Args, p: RcuParams) => {
      const s: RcuDomainState = getIn(context, p.domain);
      return inGp(s, p.thread) && s.gp[p.thread]!.length === 0;
    },
    // synchronize_*() with nobody inside a read-side section: the grace period has nobody to wait for
    gp_idle_now: ({ context }: Args, p: RcuParams) => {
      const s: RcuDomainState = getIn(context, p.domain);
      return !inGp(s, p.thread) && Object.keys(s.readers).length === 0;
    },
    // synchronize_*() on entry: start a grace period (snapshot the readers)
    gp_may_start: ({ context }: Args, p: RcuParams) => !inGp(getIn(context, p.domain), p.thread),
    // rcu_read_lock_held() / srcu_read_lock_held(ssp): the thread is inside a read-side section
    read_lock_held: ({ context }: Args, p: RcuParams) => inReader(getIn(context, p.domain), p.thread),
  };
  const actions = {
    // rcu_read_lock(): __rcu_read_lock (++rcu_read_lock_nesting), rcu_lock_acquire(&rcu_lock_map);
    // srcu_read_lock(ssp): __srcu_read_lock (this_cpu_inc(srcu_lock_count[idx])), srcu_lock_acquire(&ssp->dep_map)
    read_lock: withMap(
      update((s, p) => ({ ...s, readers: { ...s.readers, [p.thread]: (ownValue(s.readers, p.thread) ?? 0) + 1 } })),
      (p, s) => (inReader(s, p.thread) ? null : map(f, p, { mode: 'read' })),
    ),
    // rcu_read_unlock() / srcu_read_unlock(ssp, idx): nesting--; the outermost unlock is the reader's quiescent
    // state: no grace period waits for it any more
    read_unlock: withMap(update((s, p) => {
      const n = ownValue(s.readers, p.thread);
      if (n === undefined) misuse(f, p, `called ${f}_read_unlock outside a read-side section`);
      if (n > 1) return { ...s, readers: { ...s.readers, [p.thread]: n - 1 } };
      const gp: Record<string, string[]> = {};
      for (const [t, waits] of Object.entries(s.gp)) gp[t] = waits.filter((r) => r !== p.thread);
      return { readers: withoutKey(s.readers, p.thread), gp };
    }), () => null, { releases: true }),
    // synchronize_*(), the grace period starts (__call_srcu / call_rcu_hurry): it waits for the readers inside now;
    // srcu_lock_sync(&ssp->dep_map) first (see the header)
    gp_start: withMap(
      update((s, p) => {
        if (inGp(s, p.thread)) misuse(f, p, `started a second grace period from inside ${syncCall(f, p)}`);
        return { ...s, gp: { ...s.gp, [p.thread]: snapshot(s) } };
      }),
      (p) => map(f, p, { mode: 'write' }),
      { mightSleep: true },
    ),
    // synchronize_*() with no reader inside: returns at once (same lockdep sync)
    gp_now: withMap(
      update((s, p) => {
        if (Object.keys(s.readers).length > 0) misuse(f, p, `returned from ${syncCall(f, p)} at once while readers are inside`);
        return s;
      }),
      (p) => map(f, p, { mode: 'write' }),
      { mightSleep: true },
    ),
    // wait_for_completion(&rcu.completion) returns: the grace period ended
    gp_finish: update((s, p) => {
      const waits = ownValue(s.gp, p.thread);
      if (waits === undefined) misuse(f, p, `returned from ${syncCall(f, p)} without starting a grace period`);
      if (waits.length > 0) misuse(f, p, `returned from ${syncCall(f, p)} while ${waits.join(', ')} still read`);
      return { ...s, gp: withoutKey(s.gp, p.thread) };
    }),
  };
  const waits = {
    gp_done: (context: Context, p: RcuParams): WaitInfo | null => {
      const s: RcuDomainState = getIn(context, p.domain);
      const waitsFor = ownValue(s.gp, p.thread);
      if (waitsFor === undefined || waitsFor.length === 0) return null;
      return {
        resource: defaultName(f, p),
        kind: f,
        mode: `${syncCall(f, p)} waits for reader${waitsFor.length > 1 ? 's' : ''} ${waitsFor.join(', ')}`,
        holders: [...waitsFor],
        holdMode: 'read',
      };
    },
  };
  return { guards: prefixed(f, guards), actions: prefixed(f, actions), waits: prefixed(f, waits) };
}

const rcuOps = ops('rcu');
const srcuOps = ops('srcu');

/** Guards, assign actions and wait describers of RCU and SRCU (in kernelGuards / kernelActions / kernelWaits). */
export const rcuGuards = { ...rcuOps.guards, ...srcuOps.guards };
export const rcuActions = { ...rcuOps.actions, ...srcuOps.actions };
export const rcuWaits: Record<string, WaitFn> = { ...rcuOps.waits, ...srcuOps.waits };

// ---------------------------------------------------------------------------------------------
// Call helpers.

const P = (domain: string, thread: string, name?: string): RcuParams => (name === undefined ? { domain, thread } : { domain, thread, name });
const g = (type: string, params: RcuParams) => ({ type, params });
const act = (type: string, params: RcuParams) => ({ type, params });

/** The transitions of ONE event for synchronize_*() (see synchronize_rcu). */
function synchronize(f: Flavour, call: string, domain: string, thread: string, next: Next, name?: string): any[] {
  const p = P(domain, thread, name);
  const n = nextOf(call, next);
  return [
    { guard: g(`${f}_gp_done`, p), actions: [act(`${f}_gp_finish`, p), ...n.actions], target: n.target },
    { guard: g(`${f}_gp_idle_now`, p), actions: [act(`${f}_gp_now`, p), ...n.actions], target: n.target },
    { guard: g(`${f}_gp_may_start`, p), actions: [act(`${f}_gp_start`, p)] },
  ];
}

/** rcu_read_lock() on the RCU domain at `rcu` (nests). */
export const rcu_read_lock = (rcu: string, thread: string, name?: string): Step => ({ actions: [act('rcu_read_lock', P(rcu, thread, name))] });
/** rcu_read_unlock(). */
export const rcu_read_unlock = (rcu: string, thread: string, name?: string): Step => ({ actions: [act('rcu_read_unlock', P(rcu, thread, name))] });
/**
 * synchronize_rcu(): the transitions of ONE event of the calling state. With nobody inside rcu_read_lock() it
 * returns at once; otherwise the first step starts the grace period (snapshots the readers) and the thread stays in
 * the calling state until every snapshotted reader has left its outermost section. Readers that enter later are not
 * waited for.   on: { 'updater.sync': synchronize_rcu('rcu', 'updater', 'free') }
 */
export const synchronize_rcu = (rcu: string, thread: string, next: Next, name?: string): any[] => synchronize('rcu', 'synchronize_rcu', rcu, thread, next, name);
/** srcu_read_lock(ssp) on the srcu_struct at `ssp` (nests). */
export const srcu_read_lock = (ssp: string, thread: string, name?: string): Step => ({ actions: [act('srcu_read_lock', P(ssp, thread, name))] });
/** srcu_read_unlock(ssp, idx). */
export const srcu_read_unlock = (ssp: string, thread: string, name?: string): Step => ({ actions: [act('srcu_read_unlock', P(ssp, thread, name))] });
/** synchronize_srcu(ssp): as synchronize_rcu, for the readers of this srcu_struct only. */
export const synchronize_srcu = (ssp: string, thread: string, next: Next, name?: string): any[] => synchronize('srcu', 'synchronize_srcu', ssp, thread, next, name);
/** Guard refs: rcu_read_lock_held() / srcu_read_lock_held(ssp) in the calling thread (branch on it in a model). */
export const rcu_read_lock_held = (rcu: string, thread: string) => g('rcu_read_lock_held', P(rcu, thread));
export const srcu_read_lock_held = (ssp: string, thread: string) => g('srcu_read_lock_held', P(ssp, thread));

// ---------------------------------------------------------------------------------------------
// Views, for invariants and assertions.

/** The threads inside a read-side section of the domain and their nesting depth. */
export const rcuReaders = (context: Context, domain: string): Record<string, number> => getIn(context, domain).readers;
/** The readers the grace period of `thread` (inside synchronize_*()) still waits for; undefined when it is not in one. */
export const rcuGpWaitsFor = (context: Context, domain: string, thread: string): string[] | undefined => ownValue(getIn(context, domain).gp, thread);
/**
 * An assertion (for the model's `assertions`, named in a state's meta.assert): `thread` is not inside rcu_read_lock().
 * Put it on every state where the thread sleeps (mutex_lock, wait_event, down_read, ...): a sleep inside an RCU
 * read-side section is "sleeping function called from invalid context" (might_sleep() with rcu_preempt_depth() > 0).
 *   assertions: { may_sleep: rcuMightSleep('rcu', 'reader') }, ... lock: { meta: { assert: 'may_sleep' }, on: ... }
 */
export const rcuMightSleep = (rcu: string, thread: string) => (context: Context): boolean => !inReader(getIn(context, rcu), thread);

// ---------------------------------------------------------------------------------------------
// Footprints (explorer/reduce/declare.ts): every guard reads and every action writes only the domain's slice; each
// grace period's list of readers (gp.<thread>) is a sorted set of thread names, which symmetry re-sorts.
declareFootprints(rcuGuards, Object.fromEntries(Object.keys(rcuGuards).map((n) => [n, { reads: ['{domain}'] }])));
declareFootprints(rcuActions, Object.fromEntries(Object.keys(rcuActions).map((n) => [n, { writes: ['{domain}'], sets: ['{domain}.gp.*'] }])));

// ---------------------------------------------------------------------------------------------
// Declared lowerings (explorer/compile/lower/declared.ts): the guards and actions above as word operations on the
// slice at `{domain}`, line by line: `readers` and `gp` are records keyed by thread (record operations), the
// snapshot is recKeys (the keys sorted), the outermost unlock leaves every grace period's list (recEachValue). A
// thread name the record operations cannot treat as the functions do (an Object.prototype name, an array index, a
// dotted name) declines (the function runs); a misuse BAILs and the function reports it.
const byThread = <T>(fn: (p: RcuParams) => T) => L.byPlainThread<RcuParams, T>(fn);
const readersOf = (p: RcuParams) => L.path(p.domain, 'readers');
const gpOf = (p: RcuParams) => L.path(p.domain, 'gp');
const nesting = (p: RcuParams) => L.readOpt(p.domain, 'readers', p.thread);
const dInGp = (p: RcuParams) => L.recHasKey(gpOf(p), p.thread);
const noReaders = (p: RcuParams) => L.eq(L.recSize(readersOf(p)), L.lit(0));
for (const f of ['rcu', 'srcu'] as const) {
  L.declareLowerings(rcuGuards, {
    [`${f}_gp_done`]: byThread((p) => L.and(dInGp(p), L.eq(L.len(L.path(p.domain, 'gp', p.thread)), L.lit(0)))),
    [`${f}_gp_idle_now`]: byThread((p) => L.and(L.not(dInGp(p)), noReaders(p))),
    [`${f}_gp_may_start`]: byThread((p) => L.not(dInGp(p))),
    [`${f}_read_lock_held`]: byThread((p) => L.lt(L.lit(0), L.coalesce(nesting(p), 0))),
  });
  L.declareLowerings(rcuActions, {
    [`${f}_read_lock`]: byThread((p) => [L.recPut(readersOf(p), p.thread, L.plus(L.coalesce(nesting(p), 0), 1))]),
    [`${f}_read_unlock`]: byThread((p) => [
      L.check(L.ne(nesting(p), L.lit(undefined))),
      L.recWhen(
        L.lt(L.lit(1), nesting(p)),
        [L.recPut(readersOf(p), p.thread, L.minus(nesting(p), 1))],
        [L.recDelete(readersOf(p), p.thread), L.recEachValue(gpOf(p), [L.editRemoveAll(p.thread)])],
      ),
    ]),
    [`${f}_gp_start`]: byThread((p) => [L.check(L.not(dInGp(p))), L.recPut(gpOf(p), p.thread, L.recKeys(readersOf(p)))]),
    [`${f}_gp_now`]: (p: RcuParams) => [L.check(noReaders(p))],
    [`${f}_gp_finish`]: byThread((p) => [L.check(dInGp(p)), L.check(L.eq(L.len(L.path(p.domain, 'gp', p.thread)), L.lit(0))), L.recDelete(gpOf(p), p.thread)]),
  });
}
