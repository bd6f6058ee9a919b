// jbd2 journal handles (fs/jbd2/transaction.c, fs/jbd2/commit.c, v6.6): jbd2__journal_start with nested handles,
// jbd2_journal_stop, jbd2_journal_lock_updates / jbd2_journal_unlock_updates, and the commit's wait for updates.
//
// State at a context path (e.g. "journal"), built by jbd2Journal() (or jbd2JournalRunning() with handles open):
//   { running: null | { tid, state: 'T_RUNNING' | 'T_LOCKED', committer }   j_running_transaction
//     committing: null | tid                                               j_committing_transaction
//     sequence: number                   j_transaction_sequence: the last tid handed out
//     commitSequence: number             j_commit_sequence: the last tid committed
//     barrier: string[]                  the threads that raised j_barrier_count (jbd2_journal_lock_updates)
//     j_barrier: { owner }               the j_barrier mutex (a mutex(), serialises lock_updates callers)
//     handles: { [thread]: h_ref } }     current->journal_info: the thread's handle and its nesting count
// Every open handle belongs to the running transaction (the commit waits for t_updates == 0 before it
// detaches it), so t_updates = the number of threads in `handles`.
//
// jbd2__journal_start(journal, ...) (jbd2Start / jbd2_journal_start):
//   handle = journal_current_handle(); if (handle) { handle->h_ref++; return handle; }   NESTED: no barrier
//     check, no wait: a nested start joins the transaction even while lock_updates or a commit drains it
//   start_this_handle(): wait_event(j_wait_transaction_locked, j_barrier_count == 0) while a barrier is up;
//     no running transaction -> jbd2_get_transaction (a new T_RUNNING one); add_transaction_credits:
//     t_state != T_RUNNING (T_LOCKED by a commit) -> wait_transaction_locked; else t_updates++.
// jbd2_journal_stop(handle): if (--handle->h_ref > 0) return; stop_this_handle: t_updates--, wake j_wait_updates
//   at zero; current->journal_info = NULL.
// jbd2_journal_lock_updates(journal): ++j_barrier_count (new handles now wait); jbd2_journal_wait_updates (until
//   the running transaction has t_updates == 0); mutex_lock(&j_barrier).
// jbd2_journal_unlock_updates(journal): mutex_unlock(&j_barrier); --j_barrier_count; wake_up_all.
// jbd2_journal_commit_transaction (fs/jbd2/commit.c, kjournald2): t_state = T_LOCKED (new handles wait);
//   jbd2_journal_wait_updates (t_updates == 0); T_SWITCH..T_FLUSH: j_committing_transaction = it,
//   j_running_transaction = NULL; ... T_FINISHED: j_commit_sequence = tid, wake j_wait_done_commit.
// might_sleep() (the lock-order check): the outermost jbd2__journal_start may sleep (start_this_handle allocates the
// transaction with GFP_NOFS, waits for a barrier or a locked transaction) and takes the jbd2_handle lockdep map
// (j_trans_commit_map, no wait type), which the model does not track as a lock: its step carries a might_sleep()
// point (withMightSleep, LockAcquisition.sleepOnly, named jbd2_handle), so under a spinlock or inside
// rcu_read_lock() --lock-order reports "sleeping function called from invalid context". A nested start does not
// sleep. jbd2_journal_lock_updates' drain and the commit's are guards only: their guard (jbd2_updates_drained)
// carries the point (withGuardSleep), also named jbd2_handle.
// Not modelled: credits and reserved handles (j_reserved_credits), jbd2__journal_restart, aborts and
// j_errno, the checkpoint, T_SWITCH..T_COMMIT_CALLBACK as separate states, jbd2_log_start_commit requests,
// jbd2_journal_flush's checkpointing (a model adds its own steps).
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, ownValue, removeOne, updateIn, withoutKey } from './path.ts';
import { kAssign, withGuardSleep, withMightSleep, type WaitFn } from './types.ts';
import { mutex, type Step } from './locks.ts';

/** journal->j_running_transaction: tid, t_state (T_RUNNING, or T_LOCKED by a commit), the committing thread. */
export interface Jbd2Running {
  tid: number;
  state: 'T_RUNNING' | 'T_LOCKED';
  committer: string | null;
}
/** The journal slice (see the header). */
export interface Jbd2JournalState {
  running: Jbd2Running | null;
  committing: number | null;
  sequence: number;
  commitSequence: number;
  barrier: string[];
  j_barrier: { owner: string | null };
  handles: Record<string, number>;
}
/** Params of the jbd2 guards and actions. */
export interface Jbd2Params {
  /** Context path of the journal slice. */
  journal: string;
  thread: string;
  /** Name for reports (default "journal"). */
  name?: string;
}

/** An idle journal: nothing running, no barrier. */
export const jbd2Journal = (): Jbd2JournalState => ({
  running: null,
  committing: null,
  sequence: 0,
  commitSequence: 0,
  barrier: [],
  j_barrier: mutex(),
  handles: {},
});

/**
 * Initial state: transaction 1 running with a handle held by each thread of `handles` (thread -> h_ref,
 * its nesting depth; 1 for a plain ext4_journal_start()).
 */
export const jbd2JournalRunning = (handles: Record<string, number>): Jbd2JournalState => {
  for (const [t, ref] of Object.entries(handles)) if (!(Number.isInteger(ref) && ref >= 1)) throw new Error(`jbd2JournalRunning: h_ref of ${t} must be an integer >= 1, got ${ref}`);
  const sorted = Object.keys(handles).sort();
  return { ...jbd2Journal(), sequence: 1, running: { tid: 1, state: 'T_RUNNING', committer: null }, handles: Object.fromEntries(sorted.map((t) => [t, handles[t]!])) };
};

type Args = { context: Context };
const jname = (p: Jbd2Params) => p.name ?? 'journal';
function misuse(p: Jbd2Params, what: string): never {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} (jbd2 journal at "${p.journal}")`);
}
const holders = (s: Jbd2JournalState) => Object.keys(s.handles).sort();
// start_this_handle() gets through: no barrier, and no running transaction or a T_RUNNING one
const canStart = (s: Jbd2JournalState) => s.barrier.length === 0 && (s.running === null || s.running.state === 'T_RUNNING');
// jbd2_journal_wait_updates(): no running transaction, or its t_updates == 0
const updatesDrained = (s: Jbd2JournalState) => s.running === null || Object.keys(s.handles).length === 0;

const guards = {
  // jbd2__journal_start(), nested: current->journal_info is set
  jbd2_has_handle: ({ context }: Args, p: Jbd2Params) => Object.hasOwn(getIn(context, p.journal).handles, p.thread),
  jbd2_no_handle: ({ context }: Args, p: Jbd2Params) => !Object.hasOwn(getIn(context, p.journal).handles, p.thread),
  // jbd2__journal_start(), outermost: start_this_handle() does not wait
  jbd2_can_start: ({ context }: Args, p: Jbd2Params) => {
    const s: Jbd2JournalState = getIn(context, p.journal);
    return !Object.hasOwn(s.handles, p.thread) && canStart(s);
  },
  // jbd2_journal_wait_updates() returns (lock_updates' drain, the commit's): it sleeps on j_wait_updates, a
  // might_sleep() point (withGuardSleep) named after the handles it waits for, as the handle start's
  jbd2_updates_drained: withGuardSleep(({ context }: Args, p: Jbd2Params) => updatesDrained(getIn(context, p.journal)), {
    kind: 'jbd2',
    path: (p: Jbd2Params) => p.journal,
    name: () => 'jbd2_handle',
  }),
  // kjournald2 has a transaction to commit
  jbd2_has_running: ({ context }: Args, p: Jbd2Params) => getIn(context, p.journal).running !== null,
};

const update = (fn: (s: Jbd2JournalState, p: Jbd2Params) => Jbd2JournalState) =>
  kAssign(({ context }, p: Jbd2Params) => updateIn(context, p.journal, (s: Jbd2JournalState) => fn(s, p)));

const actions = {
  // handle->h_ref++ (nested jbd2__journal_start)
  jbd2_handle_nest: update((s, p) => {
    if (!Object.hasOwn(s.handles, p.thread)) misuse(p, 'nested a handle it does not hold');
    return { ...s, handles: { ...s.handles, [p.thread]: (s.handles[p.thread] ?? 0) + 1 } };
  }),
  // start_this_handle(): (jbd2_get_transaction if none runs) t_updates++; current->journal_info = handle; it may
  // sleep (see the header)
  jbd2_handle_start: withMightSleep(
    update((s, p) => {
      if (Object.hasOwn(s.handles, p.thread)) misuse(p, 'started a new handle while holding one');
      if (!canStart(s)) misuse(p, 'started a handle past a barrier or a locked transaction');
      const running = s.running ?? { tid: s.sequence + 1, state: 'T_RUNNING' as const, committer: null };
      return { ...s, running, sequence: running.tid, handles: { ...s.handles, [p.thread]: 1 } };
    }),
    { kind: 'jbd2', path: (p: Jbd2Params) => p.journal, name: () => 'jbd2_handle' },
  ),
  // jbd2_journal_stop(): --h_ref; at zero stop_this_handle (t_updates--)
  jbd2_handle_stop: update((s, p) => {
    const ref = ownValue(s.handles, p.thread);
    if (ref === undefined) misuse(p, 'called jbd2_journal_stop without a handle');
    return { ...s, handles: ref > 1 ? { ...s.handles, [p.thread]: ref - 1 } : withoutKey(s.handles, p.thread) };
  }),
  // jbd2_journal_lock_updates(), first half: ++j_barrier_count
  jbd2_barrier_raise: update((s, p) => ({ ...s, barrier: insertSorted(s.barrier, p.thread) })),
  // jbd2_journal_unlock_updates(): mutex_unlock(&j_barrier); --j_barrier_count
  jbd2_barrier_drop: update((s, p) => {
    if (s.j_barrier.owner !== p.thread) misuse(p, 'unlocked updates it did not lock');
    return { ...s, j_barrier: { owner: null }, barrier: removeOne(s.barrier, p.thread) ?? misuse(p, 'dropped a barrier it did not raise') };
  }),
  // jbd2_journal_commit_transaction(): commit_transaction->t_state = T_LOCKED
  jbd2_commit_lock: update((s, p) => {
    if (s.running === null) misuse(p, 'locked a transaction when none runs');
    return { ...s, running: { ...s.running, state: 'T_LOCKED', committer: p.thread } };
  }),
  // T_FLUSH: j_committing_transaction = commit_transaction; j_running_transaction = NULL
  jbd2_commit_switch: update((s, p) => {
    if (s.running?.committer !== p.thread) misuse(p, 'switched a transaction it does not commit');
    if (Object.keys(s.handles).length > 0) misuse(p, 'switched a transaction with t_updates > 0');
    return { ...s, running: null, committing: s.running.tid };
  }),
  // T_FINISHED: j_commit_sequence = tid; j_committing_transaction = NULL
  jbd2_commit_finish: update((s, p) => {
    if (s.committing === null) misuse(p, 'finished a commit that is not running');
    return { ...s, committing: null, commitSequence: s.committing };
  }),
};

const tid = (s: Jbd2JournalState) => (s.running ? `transaction ${s.running.tid}` : 'no transaction');
const waits: Record<string, WaitFn> = {
  jbd2_can_start: (context, p: Jbd2Params) => {
    const s: Jbd2JournalState = getIn(context, p.journal);
    if (Object.hasOwn(s.handles, p.thread) || canStart(s)) return null;
    if (s.barrier.length > 0) {
      return { resource: `${jname(p)} barrier`, kind: 'jbd2 journal', mode: 'start_this_handle (wait for j_barrier_count == 0)', holders: s.barrier };
    }
    return {
      resource: `${jname(p)} ${tid(s)}`,
      kind: 'jbd2 journal',
      mode: 'start_this_handle (wait_transaction_locked: T_LOCKED)',
      holders: s.running?.committer ? [s.running.committer] : [],
    };
  },
  jbd2_updates_drained: (context, p: Jbd2Params) => {
    const s: Jbd2JournalState = getIn(context, p.journal);
    if (updatesDrained(s)) return null;
    return {
      resource: `jbd2_handle (${jname(p)} ${tid(s)})`,
      kind: 'jbd2 handle',
      mode: 'jbd2_journal_wait_updates (t_updates == 0)',
      holders: holders(s).filter((t) => t !== p.thread).concat(Object.hasOwn(s.handles, p.thread) ? [p.thread] : []),
    };
  },
};

/** Guards, assign actions and wait describers of jbd2 (in kernelGuards / kernelActions / kernelWaits). */
export const jbd2Guards = guards;
export const jbd2Actions = actions;
export const jbd2Waits = waits;

// ---------------------------------------------------------------------------------------------
// Call helpers.

const P = (journal: string, thread: string, name?: string): Jbd2Params => (name ? { journal, thread, name } : { journal, thread });
const g = (type: string, params: any) => ({ type, params });
const act = (type: string, params: any) => ({ type, params });

/**
 * jbd2__journal_start() for ONE event of the calling state: two transitions, nested (h_ref++, never waits) and
 * outermost (blocked until start_this_handle gets through). Spread the array as the event's transitions.
 */
export const jbd2_journal_start = (journal: string, thread: string, next: string, name?: string): any[] => [
  { guard: g('jbd2_has_handle', P(journal, thread, name)), actions: [act('jbd2_handle_nest', P(journal, thread))], target: next },
  { guard: g('jbd2_can_start', P(journal, thread, name)), actions: [act('jbd2_handle_start', P(journal, thread))], target: next },
];
/** jbd2_journal_stop(handle). */
export const jbd2_journal_stop = (journal: string, thread: string): Step => ({ actions: [act('jbd2_handle_stop', P(journal, thread))] });
/** Guard ref: journal_current_handle() != NULL (ext4_journal_current_handle()). */
export const jbd2_current_handle = (journal: string, thread: string) => g('jbd2_has_handle', P(journal, thread));
export const jbd2_no_current_handle = (journal: string, thread: string) => g('jbd2_no_handle', P(journal, thread));

/**
 * jbd2_journal_lock_updates(journal) in three steps: `barrier` (++j_barrier_count: always enabled), `drain`
 * (jbd2_journal_wait_updates: blocked while handles are open), `mutex` (mutex_lock(&j_barrier)).
 */
export const jbd2_journal_lock_updates = (journal: string, thread: string, name?: string): { barrier: Step; drain: Step; mutex: Step } => {
  const m = { lock: `${journal}.j_barrier`, thread, name: `${name ?? 'journal'}->j_barrier` };
  return {
    barrier: { actions: [act('jbd2_barrier_raise', P(journal, thread))] },
    drain: { guard: g('jbd2_updates_drained', P(journal, thread, name)) },
    mutex: { guard: g('mutex_can_lock', m), actions: [act('mutex_lock', m)] },
  };
};
/** jbd2_journal_unlock_updates(journal). */
export const jbd2_journal_unlock_updates = (journal: string, thread: string): Step => ({ actions: [act('jbd2_barrier_drop', P(journal, thread))] });

/**
 * jbd2_journal_commit_transaction() by kjournald2 in three steps: `lock` (T_LOCKED; needs a running
 * transaction), `drain` (wait for t_updates == 0, then detach it: j_running_transaction = NULL), `finish`
 * (j_commit_sequence = tid).
 */
export const jbd2_journal_commit = (journal: string, thread: string, name?: string): { lock: Step; drain: Step; finish: Step } => ({
  lock: { guard: g('jbd2_has_running', P(journal, thread)), actions: [act('jbd2_commit_lock', P(journal, thread))] },
  drain: { guard: g('jbd2_updates_drained', P(journal, thread, name)), actions: [act('jbd2_commit_switch', P(journal, thread))] },
  finish: { actions: [act('jbd2_commit_finish', P(journal, thread))] },
});

/** Plain views for invariants and assertions. */
export const jbd2Handles = (context: Context, journal: string): Record<string, number> => getIn(context, journal).handles;
export const jbd2Updates = (context: Context, journal: string): number => Object.keys(getIn(context, journal).handles).length;
export const jbd2BarrierUp = (context: Context, journal: string): boolean => getIn(context, journal).barrier.length > 0;
