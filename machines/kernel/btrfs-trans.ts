// btrfs transactions (fs/btrfs/transaction.c, v6.6): start_transaction with its join types, join_transaction,
// wait_current_trans, btrfs_end_transaction and btrfs_commit_transaction, as guards, actions and state fragments.
//
// State at a context path (e.g. "trans"), built by btrfsTrans() (or btrfsTransRunning() for an already-running one):
//   { running: null | { transid, state, writers, extwriters, committer }   fs_info->running_transaction
//     committing: null | { transid, state, committer }  a transaction past TRANS_STATE_UNBLOCKED: the commit
//                                                       set running_transaction = NULL but has not completed
//     generation: number                                the last transid handed out (fs_info->generation)
//     committed: number                                 the last transid that reached TRANS_STATE_COMPLETED
//     handles: { [thread]: transid }                    the thread's trans handle (current->journal_info)
//     commitWaits: { [thread]: transid } }              losers of the commit race waiting in wait_for_commit()
// writers = num_writers (every handle of the transaction, sorted thread names), extwriters = num_extwriters
// (handles of type TRANS_START or TRANS_ATTACH: TRANS_EXTWRITERS), committer = the thread that won
// btrfs_commit_transaction() (the one that set TRANS_STATE_COMMIT_PREP).
//
// Transaction states (enum btrfs_trans_state, v6.6; COMMIT_PREP came with 77d20c685b6b, "btrfs: do not block
// starts waiting on previous transaction commit", 6.6-rc1): RUNNING, COMMIT_PREP, COMMIT_START, COMMIT_DOING,
// UNBLOCKED, SUPER_COMMITTED, COMPLETED. Which join types each state turns away (btrfs_blocked_trans_types[]):
//   RUNNING, COMMIT_PREP   nobody
//   COMMIT_START           TRANS_START, TRANS_ATTACH                    (a TRANS_JOIN still joins)
//   COMMIT_DOING           + TRANS_JOIN, TRANS_JOIN_NOSTART             (TRANS_JOIN_NOLOCK still joins)
//   UNBLOCKED and later    + TRANS_JOIN_NOLOCK (every type)
// (the commit clears running_transaction when it sets UNBLOCKED, so join_transaction only ever consults the
// first rows; the table is kept whole, as in the source).
//
// start_transaction(root, ..., type) for a thread without a handle (btrfsStartTransactionStates):
//   S1 if (type & __TRANS_FREEZABLE) sb_start_intwrite(sb)   TRANS_START and TRANS_JOIN only: "If we are
//      JOIN_NOLOCK we're already committing a transaction and waiting on this guy, so we don't need to do the
//      sb_start_intwrite"; TRANS_ATTACH / TRANS_JOIN_NOSTART only catch the current transaction.
//   S2 if (may_wait_transaction(fs_info, type)) wait_current_trans(fs_info)   TRANS_START only
//   S3 join_transaction(fs_info, type): joins the running transaction unless its state blocks the type
//      (-EBUSY: wait_current_trans, then retry; TRANS_ATTACH/TRANS_JOIN_NOSTART return -ENOENT instead); with
//      no running transaction, TRANS_ATTACH and TRANS_JOIN_NOSTART return -ENOENT, TRANS_JOIN_NOLOCK hits
//      BUG_ON ("JOIN_NOLOCK only happens during the transaction commit"), the others start a new one.
//   wait_current_trans: sleeps while the running transaction is_transaction_blocked() (COMMIT_START <= state
//   < UNBLOCKED), i.e. until the commit unblocks it.
// btrfs_end_transaction (__btrfs_end_transaction): num_writers--, num_extwriters-- for TRANS_EXTWRITERS,
//   wake writer_wait; sb_end_intwrite for a freezable type.
// btrfs_commit_transaction(trans) (btrfsCommitTransactionStates), C1..C8:
//   C1 if (cur_trans->state >= TRANS_STATE_COMMIT_PREP): another task commits: btrfs_end_transaction(trans),
//      wait_for_commit(cur_trans, TRANS_STATE_COMPLETED), return. Else state = COMMIT_PREP (this task commits).
//   C2 wait_for_commit(prev_trans, COMPLETED) if an earlier transaction is still committing; then
//      state = COMMIT_START (new TRANS_START/TRANS_ATTACH now wait); extwriter_counter_dec(own handle)
//   C3 wait_event(writer_wait, extwriter_counter_read(cur_trans) == 0)
//      (btrfs_start_delalloc_flush, run_delayed_items, btrfs_wait_delalloc_flush, pending_ordered: model hooks)
//   C4 state = COMMIT_DOING (TRANS_JOIN now waits too)
//   C5 wait_event(writer_wait, atomic_read(&cur_trans->num_writers) == 1)
//      hook `commitRoots`: commit_fs_roots, commit_cowonly_roots (free space cache writeout), switch_commit_roots
//   C6 state = UNBLOCKED; running_transaction = NULL; wake_up(transaction_wait)
//   C7 write_all_supers; state = SUPER_COMMITTED
//   C8 btrfs_finish_extent_commit; state = COMPLETED; wake commit_wait; sb_end_intwrite if freezable
// might_sleep() (the lock-order check): start_transaction may sleep (the handle's GFP_NOFS allocation, the space
// reservation, wait_current_trans): its join step carries a might_sleep() point (withMightSleep,
// LockAcquisition.sleepOnly, named after the transaction), so under a spinlock or inside rcu_read_lock() --lock-order
// reports "sleeping function called from invalid context"; sb_start_intwrite is a percpu rwsem, checked as such.
// The guard-only waits (wait_current_trans, the -EBUSY wait, the commit's wait_for_commit and writer waits) carry
// the point on their guards (withGuardSleep), named the same.
// Not modelled: nested handles (current->journal_info set: the handle's use_count is bumped; a thread here
// starts one handle at a time, a second start is reported as misuse), space reservation and its flushing,
// aborts and BTRFS_FS_ERROR, BTRFS_FS_LOG_RECOVERING, start_transaction's own "commit if the transaction we
// joined is committing" path, btrfs_commit_transaction_async, in_fsync (wait for SUPER_COMMITTED only).
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, ownValue, removeOne, updateIn, withoutKey } from './path.ts';
import { kAssign, withGuardSleep, withMightSleep, type WaitFn } from './types.ts';
import { sbLevelLock, SB_FREEZE_FS, type Step } from './locks.ts';
import type { Fragment } from './freeze.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareLowerings } from '../../explorer/compile/lower/declared.ts';

/** enum btrfs_trans_state (fs/btrfs/transaction.h, v6.6): the values of running.state / committing.state. */
export const TRANS_STATE_RUNNING = 0;
export const TRANS_STATE_COMMIT_PREP = 1;
export const TRANS_STATE_COMMIT_START = 2;
export const TRANS_STATE_COMMIT_DOING = 3;
export const TRANS_STATE_UNBLOCKED = 4;
export const TRANS_STATE_SUPER_COMMITTED = 5;
export const TRANS_STATE_COMPLETED = 6;
/** The kernel names of the states, indexed by value. */
export const TRANS_STATE_NAMES = [
  'TRANS_STATE_RUNNING',
  'TRANS_STATE_COMMIT_PREP',
  'TRANS_STATE_COMMIT_START',
  'TRANS_STATE_COMMIT_DOING',
  'TRANS_STATE_UNBLOCKED',
  'TRANS_STATE_SUPER_COMMITTED',
  'TRANS_STATE_COMPLETED',
];

/** The join types of start_transaction() (fs/btrfs/transaction.h). */
export type BtrfsTransType = 'TRANS_START' | 'TRANS_JOIN' | 'TRANS_JOIN_NOLOCK' | 'TRANS_ATTACH' | 'TRANS_JOIN_NOSTART';
/** Every join type. */
export const BTRFS_TRANS_TYPES: BtrfsTransType[] = ['TRANS_START', 'TRANS_JOIN', 'TRANS_JOIN_NOLOCK', 'TRANS_ATTACH', 'TRANS_JOIN_NOSTART'];

const ALL: BtrfsTransType[] = BTRFS_TRANS_TYPES;
/** btrfs_blocked_trans_types[state]: the join types join_transaction() turns away (-EBUSY) in that state. */
export const BTRFS_BLOCKED_TRANS_TYPES: BtrfsTransType[][] = [
  [],
  [],
  ['TRANS_START', 'TRANS_ATTACH'],
  ['TRANS_START', 'TRANS_ATTACH', 'TRANS_JOIN', 'TRANS_JOIN_NOSTART'],
  ALL,
  ALL,
  ALL,
];
/** __TRANS_FREEZABLE: start_transaction() takes sb_start_intwrite() for these. */
export const isFreezable = (type: BtrfsTransType): boolean => type === 'TRANS_START' || type === 'TRANS_JOIN';
/** TRANS_EXTWRITERS (__TRANS_START | __TRANS_ATTACH): counted in num_extwriters. */
export const isExtwriter = (type: BtrfsTransType): boolean => type === 'TRANS_START' || type === 'TRANS_ATTACH';

/** fs_info->running_transaction: transid, state, its handles (num_writers), TRANS_EXTWRITERS handles, the committer. */
export interface BtrfsRunning {
  transid: number;
  state: number;
  writers: string[];
  extwriters: string[];
  committer: string | null;
}
/** The transaction slice of fs_info (see the header). */
export interface BtrfsTransState {
  running: BtrfsRunning | null;
  committing: { transid: number; state: number; committer: string } | null;
  generation: number;
  committed: number;
  handles: Record<string, number>;
  commitWaits: Record<string, number>;
}
/** Params of the btrfs guards and actions. */
export interface BtrfsTransParams {
  /** Context path of the fs_info transaction slice. */
  fs: string;
  thread: string;
  type?: BtrfsTransType;
  /** Name for reports (default "transaction"). */
  name?: string;
}

/** No transaction running, none committed (a freshly mounted fs_info). */
export const btrfsTrans = (): BtrfsTransState => ({ running: null, committing: null, generation: 0, committed: 0, handles: {}, commitWaits: {} });

type Args = { context: Context };
const tname = (p: BtrfsTransParams) => p.name ?? 'transaction';
function misuse(p: BtrfsTransParams, what: string): never {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} (btrfs transaction at "${p.fs}")`);
}
const typeOf = (p: BtrfsTransParams): BtrfsTransType => {
  if (!p.type) misuse(p, 'gave no join type');
  return p.type;
};
const blocks = (state: number, type: BtrfsTransType) => (BTRFS_BLOCKED_TRANS_TYPES[state] ?? []).includes(type);
// is_transaction_blocked(): COMMIT_START <= state < UNBLOCKED (no aborts here)
const isBlocked = (r: BtrfsRunning | null) => r !== null && r.state >= TRANS_STATE_COMMIT_START && r.state < TRANS_STATE_UNBLOCKED;
const noStartTypes = (type: BtrfsTransType) => type === 'TRANS_ATTACH' || type === 'TRANS_JOIN_NOSTART';

/** A sleeping wait's guard (wait_current_trans, wait_for_commit, the commit's wait_event): its might_sleep() point, named after the transaction. */
const sleeps = <G extends object>(guard: G): G => withGuardSleep(guard, { kind: 'btrfs transaction', path: (p: BtrfsTransParams) => p.fs, name: tname });

const joinOk = (s: BtrfsTransState, type: BtrfsTransType) => (s.running ? !blocks(s.running.state, type) : !noStartTypes(type));

const guards = {
  // join_transaction() returns 0: joins the running transaction, or starts one (BUG_ON for JOIN_NOLOCK: misuse)
  btrfs_join_ok: ({ context }: Args, p: BtrfsTransParams) => joinOk(getIn(context, p.fs), typeOf(p)),
  // join_transaction() returns -EBUSY: the running transaction's state blocks this type
  btrfs_join_busy: ({ context }: Args, p: BtrfsTransParams) => {
    const s: BtrfsTransState = getIn(context, p.fs);
    return s.running !== null && blocks(s.running.state, typeOf(p));
  },
  // join_transaction() returns -ENOENT: TRANS_ATTACH / TRANS_JOIN_NOSTART and nothing running
  btrfs_join_enoent: ({ context }: Args, p: BtrfsTransParams) => getIn(context, p.fs).running === null && noStartTypes(typeOf(p)),
  // wait_current_trans() returns: the running transaction is not blocked (COMMIT_START..COMMIT_DOING)
  btrfs_trans_not_blocked: sleeps(({ context }: Args, p: BtrfsTransParams) => !isBlocked(getIn(context, p.fs).running)),
  // btrfs_commit_transaction(): cur_trans->state >= TRANS_STATE_COMMIT_PREP (another task is committing it)
  btrfs_commit_in_progress: ({ context }: Args, p: BtrfsTransParams) => {
    const s: BtrfsTransState = getIn(context, p.fs);
    return s.running !== null && s.running.state >= TRANS_STATE_COMMIT_PREP;
  },
  btrfs_commit_not_started: ({ context }: Args, p: BtrfsTransParams) => {
    const s: BtrfsTransState = getIn(context, p.fs);
    return s.running !== null && s.running.state < TRANS_STATE_COMMIT_PREP;
  },
  // the previous transaction has completed its commit (wait_for_commit(prev_trans, COMPLETED))
  btrfs_prev_committed: sleeps(({ context }: Args, p: BtrfsTransParams) => getIn(context, p.fs).committing === null),
  // wait_event(writer_wait, extwriter_counter_read(cur_trans) == 0)
  btrfs_extwriters_drained: sleeps(({ context }: Args, p: BtrfsTransParams) => getIn(context, p.fs).running.extwriters.length === 0),
  // wait_event(writer_wait, atomic_read(&cur_trans->num_writers) == 1): only the committer's handle is left
  btrfs_writers_drained: sleeps(({ context }: Args, p: BtrfsTransParams) => {
    const w: string[] = getIn(context, p.fs).running.writers;
    return w.length === 1 && w[0] === p.thread;
  }),
  // wait_for_commit(cur_trans, TRANS_STATE_COMPLETED) by a task that lost the commit race
  btrfs_commit_waited: sleeps(({ context }: Args, p: BtrfsTransParams) => {
    const s: BtrfsTransState = getIn(context, p.fs);
    const want = ownValue(s.commitWaits, p.thread);
    return want !== undefined && s.committed >= want;
  }),
  btrfs_has_handle: ({ context }: Args, p: BtrfsTransParams) => Object.hasOwn(getIn(context, p.fs).handles, p.thread),
};

const update = (fn: (s: BtrfsTransState, p: BtrfsTransParams) => BtrfsTransState) =>
  kAssign(({ context }, p: BtrfsTransParams) => updateIn(context, p.fs, (s: BtrfsTransState) => fn(s, p)));
// __btrfs_end_transaction: num_writers--, extwriter_counter_dec, the handle is gone
function endHandle(s: BtrfsTransState, p: BtrfsTransParams): BtrfsTransState {
  const type = typeOf(p);
  const r = s.running;
  if (!Object.hasOwn(s.handles, p.thread) || r === null || s.handles[p.thread] !== r.transid) misuse(p, 'ended a transaction handle it does not hold');
  const writers = removeOne(r.writers, p.thread) ?? misuse(p, 'ended a handle not counted in num_writers');
  const extwriters = isExtwriter(type) ? (removeOne(r.extwriters, p.thread) ?? r.extwriters) : r.extwriters;
  return { ...s, running: { ...r, writers, extwriters }, handles: withoutKey(s.handles, p.thread) };
}
const setState = (s: BtrfsTransState, p: BtrfsTransParams, state: number): BtrfsTransState => {
  if (s.running === null || s.running.committer !== p.thread) misuse(p, `set ${TRANS_STATE_NAMES[state]} without committing the running transaction`);
  return { ...s, running: { ...s.running, state } };
};

const actions = {
  // join_transaction(): join the running transaction (num_writers++, extwriter_counter_inc) or start a new one;
  // start_transaction may sleep (see the header)
  btrfs_join: withMightSleep(update((s, p) => {
    const type = typeOf(p);
    if (Object.hasOwn(s.handles, p.thread)) misuse(p, 'started a transaction while holding a handle (nested handles are not modelled)');
    if (s.running !== null) {
      if (blocks(s.running.state, type)) misuse(p, `joined a transaction in ${TRANS_STATE_NAMES[s.running.state]} with ${type}`);
      const r = s.running;
      return {
        ...s,
        running: { ...r, writers: insertSorted(r.writers, p.thread), extwriters: isExtwriter(type) ? insertSorted(r.extwriters, p.thread) : r.extwriters },
        handles: { ...s.handles, [p.thread]: r.transid },
      };
    }
    if (type === 'TRANS_JOIN_NOLOCK') misuse(p, 'hit BUG_ON(type == TRANS_JOIN_NOLOCK) in join_transaction: no running transaction');
    if (noStartTypes(type)) misuse(p, `started a transaction with ${type}`);
    const transid = s.generation + 1;
    return {
      ...s,
      generation: transid,
      running: { transid, state: TRANS_STATE_RUNNING, writers: [p.thread], extwriters: isExtwriter(type) ? [p.thread] : [], committer: null },
      handles: { ...s.handles, [p.thread]: transid },
    };
  }), { kind: 'btrfs transaction', path: (p: BtrfsTransParams) => p.fs, name: tname }),
  btrfs_end_trans: update(endHandle),
  // C1, losing the race: btrfs_end_transaction(trans); then wait_for_commit(cur_trans, COMPLETED)
  btrfs_commit_join_wait: update((s, p) => {
    const transid = s.running!.transid;
    const ended = endHandle(s, p);
    return { ...ended, commitWaits: { ...ended.commitWaits, [p.thread]: transid } };
  }),
  btrfs_commit_wait_done: update((s, p) => ({ ...s, commitWaits: withoutKey(s.commitWaits, p.thread) })),
  // C1, winning: cur_trans->state = TRANS_STATE_COMMIT_PREP
  btrfs_commit_prep: update((s, p) => {
    const r = s.running;
    if (r === null || s.handles[p.thread] !== r.transid) misuse(p, 'committed without a handle on the running transaction');
    if (r.state >= TRANS_STATE_COMMIT_PREP) misuse(p, 'won a commit that had already started');
    return { ...s, running: { ...r, state: TRANS_STATE_COMMIT_PREP, committer: p.thread } };
  }),
  // C2: cur_trans->state = TRANS_STATE_COMMIT_START; extwriter_counter_dec(cur_trans, trans->type)
  btrfs_commit_start: update((s, p) => {
    const t = setState(s, p, TRANS_STATE_COMMIT_START);
    const r = t.running!;
    return isExtwriter(typeOf(p)) ? { ...t, running: { ...r, extwriters: removeOne(r.extwriters, p.thread) ?? r.extwriters } } : t;
  }),
  // C4: cur_trans->state = TRANS_STATE_COMMIT_DOING
  btrfs_commit_doing: update((s, p) => setState(s, p, TRANS_STATE_COMMIT_DOING)),
  // C6: cur_trans->state = TRANS_STATE_UNBLOCKED; fs_info->running_transaction = NULL
  btrfs_commit_unblock: update((s, p) => {
    const r = setState(s, p, TRANS_STATE_UNBLOCKED).running!;
    return { ...s, running: null, committing: { transid: r.transid, state: TRANS_STATE_UNBLOCKED, committer: p.thread } };
  }),
  // C7: cur_trans->state = TRANS_STATE_SUPER_COMMITTED
  btrfs_commit_super: update((s, p) => {
    if (s.committing?.committer !== p.thread) misuse(p, 'wrote the supers of a transaction it does not commit');
    return { ...s, committing: { ...s.committing, state: TRANS_STATE_SUPER_COMMITTED } };
  }),
  // C8: cur_trans->state = TRANS_STATE_COMPLETED; wake_up(&cur_trans->commit_wait); the handle is freed
  btrfs_commit_complete: update((s, p) => {
    const c = s.committing;
    if (c?.committer !== p.thread) misuse(p, 'completed a transaction it does not commit');
    return { ...s, committing: null, committed: c.transid, handles: withoutKey(s.handles, p.thread) };
  }),
};

// Declared lowerings (explorer/compile/lower/declared.ts): the same guards and actions as word operations on
// the slice at p.fs. A misuse check that fails BAILs and the function above reports it; a call without a join
// type where the function needs one is declined (the function reports it).
const fsp = (p: BtrfsTransParams, ...parts: string[]) => L.path(p.fs, ...parts);
const running = (p: BtrfsTransParams) => fsp(p, 'running');
const rstate = (p: BtrfsTransParams) => L.read(p.fs, 'running', 'state');
const rtransid = (p: BtrfsTransParams) => L.read(p.fs, 'running', 'transid');
const noRunning = (p: BtrfsTransParams) => L.isNull(p.fs, 'running');
/** The thread's entry of a record keyed by thread (undefined when absent); null: a thread name JavaScript objects inherit. */
const entryOf = (p: BtrfsTransParams, record: string) => (p.thread in Object.prototype ? null : L.readOpt(p.fs, record, p.thread));
/** blocks(running.state, type) over the table: the running state is one of those that turn the type away. */
const dBlocks = (p: BtrfsTransParams, type: BtrfsTransType) => {
  const states = BTRFS_BLOCKED_TRANS_TYPES.flatMap((types, state) => (types.includes(type) ? [state] : []));
  return states.length === 0 ? L.lit(false) : L.or(...states.map((state) => L.eq(rstate(p), L.lit(state))));
};
/** The thread's handle is on the running transaction (the checks of __btrfs_end_transaction and C1). */
const dHandleOnRunning = (p: BtrfsTransParams, handle: ReturnType<typeof L.readOpt>) => L.and(L.not(noRunning(p)), L.eq(handle, rtransid(p)));
/** setState()'s check: the thread commits the running transaction. */
const dCommitter = (p: BtrfsTransParams) => L.and(L.not(noRunning(p)), L.eq(L.read(p.fs, 'running', 'committer'), L.lit(p.thread)));
/** The checks of C7 and C8: the thread commits the transaction in `committing`. */
const dCommitting = (p: BtrfsTransParams) => L.and(L.not(L.isNull(p.fs, 'committing')), L.eq(L.read(p.fs, 'committing', 'committer'), L.lit(p.thread)));
const dEndHandle = (p: BtrfsTransParams): L.PathOp[] | null => {
  const handle = entryOf(p, 'handles');
  if (!p.type || handle === null) return null;
  return [
    L.check(dHandleOnRunning(p, handle)),
    L.removeOne(fsp(p, 'running', 'writers'), p.thread),
    ...(isExtwriter(p.type) ? [L.removeOne(fsp(p, 'running', 'extwriters'), p.thread, 'keep')] : []),
    L.deleteKey(fsp(p, 'handles'), p.thread),
  ];
};
declareLowerings(guards, {
  btrfs_join_ok: (p: BtrfsTransParams) => (p.type ? L.cond(noRunning(p), !noStartTypes(p.type), L.not(dBlocks(p, p.type))) : null),
  btrfs_join_busy: (p: BtrfsTransParams) => (p.type ? L.and(L.not(noRunning(p)), dBlocks(p, p.type)) : null),
  btrfs_join_enoent: (p: BtrfsTransParams) => (p.type ? L.and(noRunning(p), L.lit(noStartTypes(p.type))) : null),
  btrfs_trans_not_blocked: (p: BtrfsTransParams) =>
    L.not(L.and(L.not(noRunning(p)), L.ge(rstate(p), L.lit(TRANS_STATE_COMMIT_START)), L.lt(rstate(p), L.lit(TRANS_STATE_UNBLOCKED)))),
  btrfs_commit_in_progress: (p: BtrfsTransParams) => L.and(L.not(noRunning(p)), L.ge(rstate(p), L.lit(TRANS_STATE_COMMIT_PREP))),
  btrfs_commit_not_started: (p: BtrfsTransParams) => L.and(L.not(noRunning(p)), L.lt(rstate(p), L.lit(TRANS_STATE_COMMIT_PREP))),
  btrfs_prev_committed: (p: BtrfsTransParams) => L.isNull(p.fs, 'committing'),
  btrfs_extwriters_drained: (p: BtrfsTransParams) => L.eq(L.len(fsp(p, 'running', 'extwriters')), L.lit(0)),
  btrfs_writers_drained: (p: BtrfsTransParams) => L.and(L.eq(L.len(fsp(p, 'running', 'writers')), L.lit(1)), L.eq(L.at(fsp(p, 'running', 'writers'), 0), L.lit(p.thread))),
  btrfs_commit_waited: (p: BtrfsTransParams) => {
    const want = entryOf(p, 'commitWaits');
    return want && L.and(L.ne(want, L.lit(undefined)), L.ge(L.read(p.fs, 'committed'), want));
  },
  // (the values of handles are transids, never undefined: `in` is "has a value")
  btrfs_has_handle: (p: BtrfsTransParams) => {
    const handle = entryOf(p, 'handles');
    return handle && L.ne(handle, L.lit(undefined));
  },
});
declareLowerings(actions, {
  btrfs_join: (p: BtrfsTransParams) => {
    const handle = entryOf(p, 'handles');
    if (!p.type || handle === null) return null;
    const type = p.type;
    const free = L.check(L.eq(handle, L.lit(undefined)));
    const join = [
      free,
      L.check(L.not(dBlocks(p, type))),
      L.insertSorted(fsp(p, 'running', 'writers'), p.thread),
      ...(isExtwriter(type) ? [L.insertSorted(fsp(p, 'running', 'extwriters'), p.thread)] : []),
      L.setKey(fsp(p, 'handles'), p.thread, rtransid(p)),
    ];
    const transid = L.plus(L.read(p.fs, 'generation'), 1);
    const start =
      type === 'TRANS_JOIN_NOLOCK' || noStartTypes(type)
        ? [L.check(L.lit(false))]
        : [
            free,
            L.set(fsp(p, 'generation'), transid),
            L.put(running(p), L.obj({ transid, state: TRANS_STATE_RUNNING, writers: L.arr(p.thread), extwriters: isExtwriter(type) ? L.arr(p.thread) : L.arr(), committer: null })),
            L.setKey(fsp(p, 'handles'), p.thread, transid),
          ];
    return [L.choose(L.not(noRunning(p)), join, start)];
  },
  btrfs_end_trans: dEndHandle,
  btrfs_commit_join_wait: (p: BtrfsTransParams) => {
    const end = dEndHandle(p);
    return end && [...end, L.setKey(fsp(p, 'commitWaits'), p.thread, rtransid(p))];
  },
  btrfs_commit_wait_done: (p: BtrfsTransParams) => [L.deleteKey(fsp(p, 'commitWaits'), p.thread)],
  btrfs_commit_prep: (p: BtrfsTransParams) => {
    const handle = entryOf(p, 'handles');
    if (handle === null) return null;
    return [
      L.check(dHandleOnRunning(p, handle)),
      L.check(L.lt(rstate(p), L.lit(TRANS_STATE_COMMIT_PREP))),
      L.set(fsp(p, 'running', 'state'), TRANS_STATE_COMMIT_PREP),
      L.set(fsp(p, 'running', 'committer'), p.thread),
    ];
  },
  btrfs_commit_start: (p: BtrfsTransParams) =>
    p.type
      ? [
          L.check(dCommitter(p)),
          L.set(fsp(p, 'running', 'state'), TRANS_STATE_COMMIT_START),
          ...(isExtwriter(p.type) ? [L.removeOne(fsp(p, 'running', 'extwriters'), p.thread, 'keep')] : []),
        ]
      : null,
  btrfs_commit_doing: (p: BtrfsTransParams) => [L.check(dCommitter(p)), L.set(fsp(p, 'running', 'state'), TRANS_STATE_COMMIT_DOING)],
  btrfs_commit_unblock: (p: BtrfsTransParams) => [
    L.check(dCommitter(p)),
    L.put(fsp(p, 'committing'), L.obj({ transid: rtransid(p), state: TRANS_STATE_UNBLOCKED, committer: p.thread })),
    L.set(running(p), null),
  ],
  btrfs_commit_super: (p: BtrfsTransParams) => [L.check(dCommitting(p)), L.set(fsp(p, 'committing', 'state'), TRANS_STATE_SUPER_COMMITTED)],
  btrfs_commit_complete: (p: BtrfsTransParams) => [
    L.check(dCommitting(p)),
    L.set(fsp(p, 'committed'), L.read(p.fs, 'committing', 'transid')),
    L.set(fsp(p, 'committing'), null),
    L.deleteKey(fsp(p, 'handles'), p.thread),
  ],
});

const tr = (s: BtrfsTransState, n: string, transid: number) => `${n} ${transid}`;
/** The committer's wait_event(cur_trans->writer_wait, ...) on the running transaction: waits for `holders` to end their handles. */
const writersWait = (mode: string, holders: (r: BtrfsRunning, thread: string) => string[]): WaitFn => (context, p: BtrfsTransParams) => {
  const s: BtrfsTransState = getIn(context, p.fs);
  const r = s.running;
  const h = r === null ? [] : holders(r, p.thread);
  if (r === null || h.length === 0) return null;
  return { resource: tr(s, tname(p), r.transid), kind: 'btrfs transaction', mode, holders: h };
};
const waits: Record<string, WaitFn> = {
  btrfs_trans_not_blocked: (context, p: BtrfsTransParams) => {
    const s: BtrfsTransState = getIn(context, p.fs);
    const r = s.running;
    if (!isBlocked(r)) return null;
    return { resource: tr(s, tname(p), r!.transid), kind: 'btrfs transaction', mode: `wait_current_trans (${TRANS_STATE_NAMES[r!.state]})`, holders: r!.committer ? [r!.committer] : [] };
  },
  btrfs_prev_committed: (context, p: BtrfsTransParams) => {
    const s: BtrfsTransState = getIn(context, p.fs);
    const c = s.committing;
    if (c === null) return null;
    return { resource: tr(s, tname(p), c.transid), kind: 'btrfs transaction', mode: 'wait_for_commit (previous transaction)', holders: [c.committer], act: 'commit' };
  },
  btrfs_extwriters_drained: writersWait('wait_event(writer_wait, num_extwriters == 0)', (r) => r.extwriters),
  btrfs_writers_drained: writersWait('wait_event(writer_wait, num_writers == 1)', (r, thread) => r.writers.filter((w) => w !== thread)),
  btrfs_commit_waited: (context, p: BtrfsTransParams) => {
    const s: BtrfsTransState = getIn(context, p.fs);
    const want = ownValue(s.commitWaits, p.thread);
    if (want === undefined || s.committed >= want) return null;
    const committer = s.running !== null && s.running.transid === want ? s.running.committer : s.committing?.committer;
    return { resource: tr(s, tname(p), want), kind: 'btrfs transaction', mode: 'wait_for_commit', holders: committer ? [committer] : [], act: 'commit' };
  },
};

/** Guards, assign actions and wait describers of btrfs transactions (in kernelGuards / kernelActions / kernelWaits). */
export const btrfsTransGuards = guards;
export const btrfsTransActions = actions;
export const btrfsTransWaits = waits;

// ---------------------------------------------------------------------------------------------
// Call helpers and state fragments.

const P = (fs: string, thread: string, type?: BtrfsTransType, name?: string): BtrfsTransParams => ({
  fs,
  thread,
  ...(type ? { type } : {}),
  ...(name ? { name } : {}),
});
const g = (type: string, params: any) => ({ type, params });

/** What both state fragments derive from their options: the slice path, the thread, the state-name prefix, the params. */
function fragmentBase(o: TransFragmentOptions) {
  const fs = o.fs ?? 'trans';
  return { fs, t: o.thread, pre: o.prefix ?? '', p: P(fs, o.thread, o.type, o.name) };
}

/** Options both transaction fragments take. */
export interface TransFragmentOptions {
  /** The calling thread. */
  thread: string;
  /** The join type of the thread's handle. */
  type: BtrfsTransType;
  /** State to go to when the call returns (with the handle; for a commit, winner or not). */
  next: string;
  /** Context path of the transaction slice. Default "trans". */
  fs?: string;
  /** Context path of sb_writers, for sb_start_intwrite / sb_end_intwrite; omit when the model has no freeze. */
  sb?: string;
  /** Prefix of the state names (several calls in one thread). Default "". */
  prefix?: string;
  name?: string;
}
/** Options of btrfsStartTransactionStates. */
export interface StartOptions extends TransFragmentOptions {
  /** State to go to on -ENOENT (TRANS_ATTACH / TRANS_JOIN_NOSTART with nothing running). */
  enoent?: string;
}

/**
 * start_transaction(root, ..., type) for a thread without a handle: S1 sb_start_intwrite (freezable types,
 * when `sb` is given), S2 wait_current_trans (TRANS_START), S3 join_transaction with its -EBUSY wait and retry.
 * States: `${prefix}start_transaction` (entry), `..._sb_start_intwrite`, `..._wait_current_trans`,
 * `..._join_transaction`, `..._join_busy_wait`; one event each, `${thread}.${state}`.
 */
export function btrfsStartTransactionStates(o: StartOptions): Fragment {
  const { fs, t, pre, p } = fragmentBase(o);
  const n = {
    intwrite: `${pre}start_transaction_sb_start_intwrite`,
    wait: `${pre}start_transaction_wait_current_trans`,
    join: `${pre}start_transaction_join_transaction`,
    busy: `${pre}start_transaction_join_busy_wait`,
  };
  if (noStartTypes(o.type) && o.enoent === undefined) throw new Error(`btrfsStartTransactionStates: ${o.type} needs an 'enoent' target (join_transaction returns -ENOENT when nothing runs)`);
  const s: Record<string, any> = {};
  const on = (name: string, tr: any) => ({ on: { [`${t}.${name}`]: tr } });
  const mayWait = o.type === 'TRANS_START';
  const afterIntwrite = mayWait ? n.wait : n.join;
  if (isFreezable(o.type) && o.sb !== undefined) {
    const L = sbLevelLock(o.sb, SB_FREEZE_FS, t);
    s[n.intwrite] = on(n.intwrite, { guard: g('percpu_can_down_read', L), actions: [{ type: 'percpu_down_read', params: L }], target: afterIntwrite });
  }
  if (mayWait) s[n.wait] = on(n.wait, { guard: g('btrfs_trans_not_blocked', p), target: n.join });
  s[n.join] = on(n.join, [
    { guard: g('btrfs_join_ok', p), actions: [{ type: 'btrfs_join', params: p }], target: o.next },
    { guard: g('btrfs_join_busy', p), target: n.busy },
    ...(noStartTypes(o.type) ? [{ guard: g('btrfs_join_enoent', p), target: o.enoent }] : []),
  ]);
  // -EBUSY: wait_current_trans(); TRANS_ATTACH / TRANS_JOIN_NOSTART then return -ENOENT, the others retry
  s[n.busy] = on(n.busy, { guard: g('btrfs_trans_not_blocked', p), target: noStartTypes(o.type) ? o.enoent : n.join });
  const initial = s[n.intwrite] ? n.intwrite : afterIntwrite;
  return { initial, states: s, names: n };
}

/** btrfs_end_transaction(trans): drop the handle; sb_end_intwrite for TRANS_START / TRANS_JOIN when `sb` is given. */
export const btrfs_end_transaction = (fs: string, thread: string, type: BtrfsTransType, sb?: string): Step => ({
  actions: [
    { type: 'btrfs_end_trans', params: P(fs, thread, type) },
    ...(isFreezable(type) && sb !== undefined ? [{ type: 'percpu_up_read', params: sbLevelLock(sb, SB_FREEZE_FS, thread) }] : []),
  ],
});

/** Options of btrfsCommitTransactionStates (`type`: the committer's join type, which decides extwriter_counter_dec and sb_end_intwrite). */
export interface CommitOptions extends TransFragmentOptions {
  /**
   * The model's own states between the writers draining (C5) and TRANS_STATE_UNBLOCKED (C6): commit_fs_roots,
   * commit_cowonly_roots, switch_commit_roots. They must end by targeting names.unblock.
   */
  commitRoots?: { enter: string };
  /** The model's own states between COMMIT_START (C2) and the num_extwriters wait (C3): delalloc flush. End at names.waitExtwriters. */
  delallocFlush?: { enter: string };
  /**
   * The model's own actions of btrfs_finish_extent_commit() (unpin_extent_range: the extents freed in this
   * transaction become allocatable), run in C8 before the state becomes COMPLETED, so `committing` still names
   * the transaction.
   */
  finishExtentCommit?: any[];
}

/**
 * btrfs_commit_transaction(trans) as states C1..C8 (see the header). Entry: names.begin. The thread must hold
 * a handle on the running transaction.
 */
export function btrfsCommitTransactionStates(o: CommitOptions): Fragment {
  const { fs, t, pre, p } = fragmentBase(o);
  const n = {
    begin: `${pre}commit_C1_begin`,
    waitOther: `${pre}commit_C1_wait_for_commit`,
    waitPrev: `${pre}commit_C2_wait_prev_commit`,
    waitExtwriters: `${pre}commit_C3_wait_extwriters`,
    doing: `${pre}commit_C4_commit_doing`,
    waitWriters: `${pre}commit_C5_wait_writers`,
    unblock: `${pre}commit_C6_unblocked`,
    superCommitted: `${pre}commit_C7_super_committed`,
    complete: `${pre}commit_C8_completed`,
  };
  const s: Record<string, any> = {};
  const on = (name: string, tr: any) => ({ on: { [`${t}.${name}`]: tr } });
  const endIntwrite = isFreezable(o.type) && o.sb !== undefined ? [{ type: 'percpu_up_read', params: sbLevelLock(o.sb, SB_FREEZE_FS, t) }] : [];
  s[n.begin] = on(n.begin, [
    { guard: g('btrfs_commit_in_progress', p), actions: [{ type: 'btrfs_commit_join_wait', params: p }, ...endIntwrite], target: n.waitOther },
    { guard: g('btrfs_commit_not_started', p), actions: [{ type: 'btrfs_commit_prep', params: p }], target: n.waitPrev },
  ]);
  s[n.waitOther] = on(n.waitOther, { guard: g('btrfs_commit_waited', p), actions: [{ type: 'btrfs_commit_wait_done', params: p }], target: o.next });
  s[n.waitPrev] = on(n.waitPrev, {
    guard: g('btrfs_prev_committed', p),
    actions: [{ type: 'btrfs_commit_start', params: p }],
    target: o.delallocFlush?.enter ?? n.waitExtwriters,
  });
  s[n.waitExtwriters] = on(n.waitExtwriters, { guard: g('btrfs_extwriters_drained', p), target: n.doing });
  s[n.doing] = on(n.doing, { actions: [{ type: 'btrfs_commit_doing', params: p }], target: n.waitWriters });
  s[n.waitWriters] = on(n.waitWriters, { guard: g('btrfs_writers_drained', p), target: o.commitRoots?.enter ?? n.unblock });
  s[n.unblock] = on(n.unblock, { actions: [{ type: 'btrfs_commit_unblock', params: p }], target: n.superCommitted });
  s[n.superCommitted] = on(n.superCommitted, { actions: [{ type: 'btrfs_commit_super', params: p }], target: n.complete });
  s[n.complete] = on(n.complete, { actions: [...(o.finishExtentCommit ?? []), { type: 'btrfs_commit_complete', params: p }, ...endIntwrite], target: o.next });
  return { initial: n.begin, states: s, names: n };
}

/** Guard ref: the thread holds a trans handle. */
export const btrfs_has_handle = (fs: string, thread: string) => g('btrfs_has_handle', P(fs, thread));

/** Every transaction id the slice holds: generation, committed, the running and committing transids, handles, commit waits. */
export const btrfsTransIds = (s: BtrfsTransState): number[] => [
  s.generation,
  s.committed,
  ...(s.running ? [s.running.transid] : []),
  ...(s.committing ? [s.committing.transid] : []),
  ...Object.values(s.handles),
  ...Object.values(s.commitWaits),
];

/**
 * The slice with every transaction id replaced by map(id). The primitive only compares ids with each other and
 * hands out generation + 1, so an order-preserving map (e.g. ranks, to keep a model with endless commits finite)
 * leaves its behaviour unchanged.
 */
export function btrfsTransMapIds(s: BtrfsTransState, map: (id: number) => number): BtrfsTransState {
  const each = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, t]) => [k, map(t)]));
  return {
    ...s,
    generation: map(s.generation),
    committed: map(s.committed),
    running: s.running && { ...s.running, transid: map(s.running.transid) },
    committing: s.committing && { ...s.committing, transid: map(s.committing.transid) },
    handles: each(s.handles),
    commitWaits: each(s.commitWaits),
  };
}

/** Plain views for invariants and assertions. */
export const btrfsRunningState = (context: Context, fs: string): number | null => getIn(context, fs).running?.state ?? null;
export const btrfsWriters = (context: Context, fs: string): string[] => getIn(context, fs).running?.writers ?? [];
export const btrfsCommitted = (context: Context, fs: string): number => getIn(context, fs).committed;
/** trans->transid of the thread's handle (current->journal_info), or null without one. */
export const btrfsHandleTransid = (context: Context, fs: string, thread: string): number | null => ownValue(getIn(context, fs).handles, thread) ?? null;

/**
 * Initial state: a transaction already running (transid 1, TRANS_STATE_RUNNING) with a handle held by each
 * thread of `handles` (thread -> the join type it used; TRANS_START and TRANS_ATTACH count as extwriters).
 * A freezable type's sb_start_intwrite is the caller's to set up (sbWritersHeld).
 */
export const btrfsTransRunning = (handles: Record<string, BtrfsTransType>): BtrfsTransState => {
  const threads = Object.keys(handles).sort();
  return {
    ...btrfsTrans(),
    generation: 1,
    running: { transid: 1, state: TRANS_STATE_RUNNING, writers: threads, extwriters: threads.filter((t) => isExtwriter(handles[t]!)), committer: null },
    handles: Object.fromEntries(threads.map((t) => [t, 1])),
  };
};
