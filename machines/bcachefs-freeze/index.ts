// bcachefs freeze (seed 000, Brian Foster 2023; KERNEL.md 1A): sb_start_intwrite mapped to transactions deadlocks
// with journal reclaim; the merged design (->freeze_fs = bch2_fs_read_only via internal write refs) does not.
// Sources: fs/bcachefs/fs.c bch2_freeze/bch2_unfreeze (7239f8e0ee7f, in mainline since bcachefs was merged in v6.7),
// fs/bcachefs/super.c bch2_fs_read_only/__bch2_fs_read_only/__bch2_fs_read_write. c->writes is a percpu_ref
// (percpu_ref_kill, percpu_ref_tryget_live, percpu_ref_reinit) until the 2025 conversion to enumerated_ref
// (enumerated_ref_stop_async, enumerated_ref_tryget, enumerated_ref_start); the model is the same for both.
// Not modelled: bch2_fs_read_only's early return when !BCH_FS_rw, BCH_FS_emergency_ro (the second wait_event
// condition and bch2_unfreeze's early return).
import { and, assign, setup } from 'xstate';
import { defineModel, type Context, type ThreadLocations, type WaitInfo } from '../../explorer/model.ts';
import { down_write, kernelActions, kernelGuards, kernelWaits, mutex, mutexOwner, mutex_lock, mutex_unlock, rwsem, up_write } from '../kernel/index.ts';
import { insertSorted, removeOne } from '../kernel/path.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareInvariants, declareLowerings } from '../../explorer/compile/lower/declared.ts';
import {
  freezeWatch,
  SB,
  SB_FREEZE_FS,
  SB_FREEZE_WRITE,
  SECTION,
  ev,
  freezeActions,
  freezeContext,
  freezeGuards,
  freezeInvariants,
  freezeWaits,
  freezerThread,
  thawerThread,
  sbEnd,
  sbStart,
  type Hook,
} from '../sb-freeze/freeze.ts';

const STATE_LOCK = 'c.state_lock';
const RECLAIM_LOCK = 'c.journal.reclaim_lock';
/** mutex_lock(&j->reclaim_lock): journal pin flushing (reclaim kthread and bch2_journal_flush_all_pins) is serialized by it. */
const lockReclaim = (thread: string) => mutex_lock(RECLAIM_LOCK, thread, 'j->reclaim_lock');
const unlockReclaim = (thread: string) => mutex_unlock(RECLAIM_LOCK, thread, 'j->reclaim_lock').actions!;

type Ctx = Context;
const upd = (ctx: Ctx, fn: (c: any) => any) => ({ c: fn(ctx.c) });

// ---------------------------------------------------------------------------------------------------
// bcachefs state: c->flags (rw, going_ro), c->writes (percpu_ref / enumerated_ref of internal write refs),
// the journal (free / dirty = pinned entries that journal reclaim must flush), the reclaim kthread.

const guards = {
  // bch2_write_ref_tryget(): percpu_ref_tryget_live(&c->writes) succeeds until percpu_ref_kill()
  bch_write_ref_alive: ({ context }: { context: Ctx }) => !context.c.writes.killed,
  bch_write_ref_killed: ({ context }: { context: Ctx }) => context.c.writes.killed,
  // bch2_fs_read_only(): wait_event(bch2_read_only_wait, test_bit(BCH_FS_write_disable_complete)): the
  // percpu_ref release callback (bch2_writes_disabled) sets it when the last ref is put after the kill
  bch_write_disable_complete: ({ context }: { context: Ctx }) => context.c.writes.killed && context.c.writes.holders.length === 0,
  // bch2_journal_res_get(): a reservation needs free journal space (else it waits for journal reclaim)
  bch_journal_space: ({ context }: { context: Ctx }) => context.c.journal.free > 0,
  bch_journal_dirty: ({ context }: { context: Ctx }) => context.c.journal.dirty > 0,
  bch_journal_clean: ({ context }: { context: Ctx }) => context.c.journal.dirty === 0,
  // the reclaim kthread has work: it is running and some journal entry is pinned
  bch_reclaim_has_work: ({ context }: { context: Ctx }) => context.c.reclaim.running && context.c.journal.dirty > 0,
  // bch2_journal_reclaim_stop() -> kthread_stop(): waits for the thread to finish its current pass
  bch_reclaim_idle: ({ context }: { context: Ctx }) => mutexOwner(context, 'c.journal.reclaim_lock') !== 'reclaim',
  // unmount: every other thread has finished, the kthread is stopped for good
};

const actions = {
  // percpu_ref_tryget_live() success: one more internal write ref held by `thread`
  bch_write_ref_get: assign(({ context }: { context: Ctx }, p: { thread: string }) =>
    upd(context, (c) => ({ ...c, writes: { ...c.writes, holders: insertSorted(c.writes.holders, p.thread) } })),
  ),
  // bch2_write_ref_put() -> percpu_ref_put()
  bch_write_ref_put: assign(({ context }: { context: Ctx }, p: { thread: string }) =>
    upd(context, (c) => ({ ...c, writes: { ...c.writes, holders: removeOne(c.writes.holders, p.thread) ?? c.writes.holders } })),
  ),
  // bch2_fs_read_only() R2/R3: set_bit(BCH_FS_going_ro); percpu_ref_kill(&c->writes)
  bch_going_ro_kill_writes: assign(({ context }: { context: Ctx }) =>
    upd(context, (c) => ({ ...c, going_ro: true, writes: { ...c.writes, killed: true } })),
  ),
  // bch2_journal_res_get(): takes journal space
  bch_journal_res_get: assign(({ context }: { context: Ctx }) =>
    upd(context, (c) => ({ ...c, journal: { ...c.journal, free: c.journal.free - 1 } })),
  ),
  // bch2_trans_commit(): the update is in the journal; its entry stays pinned until the btree write
  bch_trans_commit: assign(({ context }: { context: Ctx }) =>
    upd(context, (c) => ({ ...c, journal: { ...c.journal, dirty: c.journal.dirty + 1 } })),
  ),
  // journal pin flush (btree key cache / node write): the entry is unpinned, its space reclaimed
  bch_flush_pin: assign(({ context }: { context: Ctx }) =>
    upd(context, (c) => ({ ...c, journal: { ...c.journal, dirty: c.journal.dirty - 1, free: c.journal.free + 1 } })),
  ),
  // bch2_fs_journal_stop(): bch2_journal_reclaim_stop(); ... clear_bit(JOURNAL_running)
  bch_journal_stop: assign(({ context }: { context: Ctx }) =>
    upd(context, (c) => ({ ...c, reclaim: { ...c.reclaim, running: false }, journal: { ...c.journal, running: false } })),
  ),
  // bch2_fs_read_only() end: clear write_disable_complete, going_ro, BCH_FS_rw
  bch_clear_rw: assign(({ context }: { context: Ctx }) => upd(context, (c) => ({ ...c, going_ro: false, rw: false }))),
  // __bch2_fs_read_write(): JOURNAL_running; bch2_journal_reclaim_start(); set BCH_FS_rw; enumerated_ref_start(&c->writes)
  bch_read_write: assign(({ context }: { context: Ctx }) =>
    upd(context, (c) => ({
      ...c,
      rw: true,
      journal: { ...c.journal, running: true },
      reclaim: { ...c.reclaim, running: true },
      writes: { ...c.writes, killed: false },
    })),
  ),
  // a non-daemon thread finished (for the reclaim kthread's exit at unmount)
};

// The same actions declared as word operations (explorer/compile/lower/declared.ts), run on the packed state.
const num = (at: string, n: number) => L.set(L.path(at), L.plus(L.read(at), n));
declareLowerings(guards, { bch_reclaim_idle: () => L.ne(L.read(RECLAIM_LOCK, 'owner'), L.lit('reclaim')) });
declareLowerings(actions, {
  bch_write_ref_get: (p: { thread: string }) => [L.insertSorted(L.path('c.writes.holders'), p.thread)],
  bch_write_ref_put: (p: { thread: string }) => [L.removeOne(L.path('c.writes.holders'), p.thread, 'keep')],
  bch_going_ro_kill_writes: () => [L.set(L.path('c.going_ro'), true), L.set(L.path('c.writes.killed'), true)],
  bch_journal_res_get: () => [num('c.journal.free', -1)],
  bch_trans_commit: () => [num('c.journal.dirty', 1)],
  bch_flush_pin: () => [num('c.journal.dirty', -1), num('c.journal.free', 1)],
  bch_journal_stop: () => [L.set(L.path('c.reclaim.running'), false), L.set(L.path('c.journal.running'), false)],
  bch_clear_rw: () => [L.set(L.path('c.going_ro'), false), L.set(L.path('c.rw'), false)],
  bch_read_write: () => [
    L.set(L.path('c.rw'), true),
    L.set(L.path('c.journal.running'), true),
    L.set(L.path('c.reclaim.running'), true),
    L.set(L.path('c.writes.killed'), false),
  ],
});

const waits: Record<string, (ctx: Ctx, p: any) => WaitInfo | null> = {
  bch_write_disable_complete: (ctx) =>
    guards.bch_write_disable_complete({ context: ctx })
      ? null
      : { resource: 'c->writes (internal write refs)', kind: 'percpu_ref', mode: 'wait for the last ref after percpu_ref_kill', holders: ctx.c.writes.holders },
  bch_journal_space: (ctx) =>
    ctx.c.journal.free > 0 ? null : { resource: 'journal space', kind: 'journal', mode: 'bch2_journal_res_get (wait for reclaim)', holders: ['reclaim'] },
  bch_journal_clean: (ctx, p: { reclaimer?: string }) =>
    ctx.c.journal.dirty === 0 ? null : { resource: 'journal pins', kind: 'journal', mode: 'wait for journal reclaim to flush', holders: [p?.reclaimer ?? 'reclaim'] },
};

// ---------------------------------------------------------------------------------------------------
// One transaction: begin -> bch2_journal_res_get -> bch2_trans_commit -> end.
// intwrite-trans: begin/end = sb_start_intwrite/sb_end_intwrite (blocking), around the whole lifecycle.
// merged: begin/end = bch2_write_ref_tryget/bch2_write_ref_put (BCH_WRITE_REF_trans in __bch2_trans_commit);
// a failed tryget ends the thread with -EROFS.

function transactionThread(thread: string, variant: string, opts: { foregroundWrite?: boolean }) {
  const done = `#${thread}-done`;
  const inner = {
    initial: 'journal_res_get',
    states: {
      // bch2_trans_commit() -> bch2_journal_res_get(): waits for journal space (journal reclaim frees it)
      journal_res_get: {
        on: { [ev(thread, 'bch2_journal_res_get')]: { guard: 'bch_journal_space', actions: ['bch_journal_res_get'], target: 'commit' } },
      },
      // bch2_trans_commit(): btree update + journal entry (pinned until flushed)
      commit: { on: { [ev(thread, 'bch2_trans_commit')]: { actions: ['bch_trans_commit'], target: 'committed' } } },
      committed: {},
    },
  };
  let states: Record<string, any>;
  if (variant === 'intwrite-trans') {
    const trans: any = structuredClone(inner);
    // sb_end_intwrite() at the end of the transaction
    trans.states.committed = { on: { [ev(thread, 'sb_end_intwrite')]: { ...sbEnd[SB_FREEZE_FS](SB, thread), target: opts.foregroundWrite ? '#' + thread + '-endwrite' : done } } };
    states = {
      // bch2_trans_begin() -> sb_start_intwrite() (the rejected mapping)
      trans_begin: { on: { [ev(thread, 'sb_start_intwrite')]: { ...sbStart[SB_FREEZE_FS](SB, thread), target: SECTION[SB_FREEZE_FS] } } },
      [SECTION[SB_FREEZE_FS]]: trans,
    };
  } else {
    const trans: any = structuredClone(inner);
    // bch2_write_ref_put(c, BCH_WRITE_REF_trans)
    trans.states.committed = {
      on: {
        [ev(thread, 'bch2_write_ref_put')]: {
          actions: [{ type: 'bch_write_ref_put', params: { thread } }],
          target: opts.foregroundWrite ? '#' + thread + '-endwrite' : done,
        },
      },
    };
    states = {
      // __bch2_trans_commit(): bch2_write_ref_tryget(c, BCH_WRITE_REF_trans), else -EROFS
      trans_begin: {
        on: {
          [ev(thread, 'bch2_write_ref_tryget')]: [
            { guard: 'bch_write_ref_alive', actions: [{ type: 'bch_write_ref_get', params: { thread } }], target: 'in_write_ref' },
            // -EROFS: a foreground write still runs sb_end_write() on its way out
            { guard: 'bch_write_ref_killed', target: opts.foregroundWrite ? `#${thread}-endwrite` : `#${thread}-erofs` },
          ],
        },
      },
      in_write_ref: trans,
    };
  }
  if (opts.foregroundWrite) {
    // write(2): sb_start_write() -> transaction -> sb_end_write()
    return {
      initial: 'idle',
      states: {
        idle: { on: { [ev(thread, 'sb_start_write')]: { ...sbStart[SB_FREEZE_WRITE](SB, thread), target: SECTION[SB_FREEZE_WRITE] } } },
        [SECTION[SB_FREEZE_WRITE]]: {
          initial: 'trans_begin',
          states: {
            ...states,
            end_write: { id: `${thread}-endwrite`, on: { [ev(thread, 'sb_end_write')]: { ...sbEnd[SB_FREEZE_WRITE](SB, thread), target: done } } },
          },
        },
        done: { id: `${thread}-done`, type: 'final'},
      },
    };
  }
  return {
    initial: 'trans_begin',
    states: {
      ...states,
      // -EROFS (BCH_ERR_erofs_trans_commit): not a failure of the model, the documented price of the design
      erofs: { id: `${thread}-erofs`, type: 'final'},
      done: { id: `${thread}-done`, type: 'final'},
    },
  };
}

/** Journal reclaim kthread (bch2_journal_reclaim_thread -> __bch2_journal_reclaim, under j->reclaim_lock). */
function reclaimThread(variant: string) {
  const t = 'reclaim';
  const lock = lockReclaim(t);
  const states: Record<string, any> = {
    // the kthread sleeping for work (bch2_journal_reclaim_thread: wait_event_freezable / schedule_timeout) is a
    // valid place to stop: with nothing left to flush it simply sleeps (meta.end; unmount's kthread_stop()
    // is not modelled)
    idle: {
      id: 'reclaim-idle',
      meta: { end: true },
      on: {
        // bch2_journal_reclaim_thread(): mutex_lock(&j->reclaim_lock); __bch2_journal_reclaim() when pins need flushing
        [ev(t, 'mutex_lock_reclaim_lock')]: {
          guard: and([lock.guard, 'bch_reclaim_has_work']),
          actions: lock.actions,
          target: variant === 'intwrite-trans' ? 'trans_begin' : 'flush',
        },
      },
    },
  };
  if (variant === 'intwrite-trans') {
    // the flush is a btree transaction: with the rejected mapping it starts with sb_start_intwrite()
    states.trans_begin = { on: { [ev(t, 'sb_start_intwrite')]: { ...sbStart[SB_FREEZE_FS](SB, t), target: SECTION[SB_FREEZE_FS] } } };
    states[SECTION[SB_FREEZE_FS]] = {
      initial: 'flush',
      states: {
        // journal_flush_pins() -> pin->flush(): btree write, the entry is unpinned
        flush: { on: { [ev(t, 'journal_pin_flush')]: { actions: ['bch_flush_pin'], target: 'flushed' } } },
        // sb_end_intwrite(); mutex_unlock(&j->reclaim_lock)
        flushed: {
          on: {
            [ev(t, 'sb_end_intwrite_mutex_unlock')]: {
              actions: [...sbEnd[SB_FREEZE_FS](SB, t).actions, ...unlockReclaim(t)],
              target: '#reclaim-idle',
            },
          },
        },
      },
    };
  } else {
    // journal_flush_pins() -> pin->flush() (BCH_TRANS_COMMIT_no_check_rw: no write ref); mutex_unlock(&j->reclaim_lock)
    states.flush = { on: { [ev(t, 'journal_pin_flush_mutex_unlock')]: { actions: ['bch_flush_pin', ...unlockReclaim(t)], target: 'idle' } } };
  }
  return { initial: 'idle', states };
}

/** ->freeze_fs = bch2_freeze(): down_write(state_lock); bch2_fs_read_only(c); up_write(state_lock) (fs/bcachefs/fs.c). */
function bch2FreezeHook(variant: string): Hook {
  const t = 'freezer';
  return ({ ok }) => {
    const lock = lockReclaim(t);
    // __bch2_fs_read_only() -> bch2_journal_flush_all_pins(): flush passes run in the caller, under j->reclaim_lock
    const flushStates: Record<string, any> = {
      R5_journal_flush_all_pins: {
        on: {
          [ev(t, 'R5_mutex_lock_reclaim_lock')]: {
            guard: and([lock.guard, 'bch_journal_dirty']),
            actions: lock.actions,
            target: variant === 'intwrite-trans' ? 'R5_flush_sb_start_intwrite' : 'R5_flush_pin',
          },
          [ev(t, 'R5_pins_flushed')]: { guard: 'bch_journal_clean', target: 'R5_journal_stop' },
        },
      },
      // journal_flush_pins() -> pin->flush() (no write ref: BCH_TRANS_COMMIT_no_check_rw); mutex_unlock(&j->reclaim_lock)
      R5_flush_pin: {
        on: {
          [ev(t, 'R5_journal_pin_flush_mutex_unlock')]: {
            actions: ['bch_flush_pin', ...(variant === 'intwrite-trans' ? sbEnd[SB_FREEZE_FS](SB, t).actions : []), ...unlockReclaim(t)],
            target: 'R5_journal_flush_all_pins',
          },
        },
      },
      // with the rejected mapping the flush transaction starts with sb_start_intwrite(), which the freezer
      // itself has write-held since F13
      ...(variant === 'intwrite-trans'
        ? { R5_flush_sb_start_intwrite: { on: { [ev(t, 'R5_flush_sb_start_intwrite')]: { ...sbStart[SB_FREEZE_FS](SB, t), target: 'R5_flush_pin' } } } }
        : {}),
    };
    return {
      initial: 'B1_down_write_state_lock',
      states: {
        // bch2_freeze(): down_write(&c->state_lock)
        B1_down_write_state_lock: { on: { [ev(t, 'B1_down_write_state_lock')]: down_write(STATE_LOCK, t, 'R3_kill_writes', 'c->state_lock') } },
        // bch2_fs_read_only(): set_bit(BCH_FS_going_ro); percpu_ref_kill(&c->writes): new bch2_write_ref_tryget() fail (-EROFS)
        R3_kill_writes: { on: { [ev(t, 'R3_going_ro_percpu_ref_kill_writes')]: { actions: ['bch_going_ro_kill_writes'], target: 'R4_wait_writes' } } },
        // bch2_fs_read_only(): wait_event(bch2_read_only_wait, test_bit(BCH_FS_write_disable_complete))
        R4_wait_writes: { on: { [ev(t, 'R4_write_disable_complete')]: { guard: 'bch_write_disable_complete', target: 'R5_journal_flush_all_pins' } } },
        ...flushStates,
        // __bch2_fs_read_only() -> bch2_fs_journal_stop() -> bch2_journal_reclaim_stop() (kthread_stop waits for the pass)
        R5_journal_stop: { on: { [ev(t, 'R5_bch2_fs_journal_stop')]: { guard: 'bch_reclaim_idle', actions: ['bch_journal_stop'], target: 'R6_clear_rw' } } },
        // bch2_fs_read_only(): clear_bit(BCH_FS_going_ro); clear_bit(BCH_FS_rw)
        R6_clear_rw: { on: { [ev(t, 'R6_clear_BCH_FS_rw')]: { actions: ['bch_clear_rw'], target: 'B2_up_write_state_lock' } } },
        // bch2_freeze(): up_write(&c->state_lock); return 0
        B2_up_write_state_lock: { on: { [ev(t, 'B2_up_write_state_lock')]: { ...up_write(STATE_LOCK, t, 'c->state_lock'), target: ok } } },
      },
    };
  };
}

/** ->unfreeze_fs = bch2_unfreeze(): (emergency_ro test not modelled) down_write(state_lock); bch2_fs_read_write(c); up_write. */
const bch2UnfreezeHook: Hook = ({ ok }) => {
  const t = 'thawer';
  return {
    initial: 'U1_down_write_state_lock',
    states: {
      U1_down_write_state_lock: { on: { [ev(t, 'U1_down_write_state_lock')]: down_write(STATE_LOCK, t, 'U2_read_write', 'c->state_lock') } },
      // bch2_fs_read_write() -> __bch2_fs_read_write(): journal running, reclaim restarted, BCH_FS_rw, writes ref restarted
      U2_read_write: { on: { [ev(t, 'U2_bch2_fs_read_write')]: { actions: ['bch_read_write'], target: 'U3_up_write_state_lock' } } },
      U3_up_write_state_lock: { on: { [ev(t, 'U3_up_write_state_lock')]: { ...up_write(STATE_LOCK, t, 'c->state_lock'), target: ok } } },
    },
  };
};

/** A thread location inside a transaction (between its reservation and its end). */
const IN_TRANSACTION = /(^|\.)(in_write_ref|in_sb_intwrite)(\.|$)/;

/** B-F1: while the fs is read-only after bch2_freeze (until bch2_unfreeze), nothing modifies it. */
function bF1(ctx: Ctx, threads: ThreadLocations): boolean {
  if (ctx.c.rw) return true;
  if (ctx.c.journal.dirty !== 0 || ctx.c.writes.holders.length !== 0 || mutexOwner(ctx, 'c.journal.reclaim_lock') === 'reclaim') return false;
  // no thread inside a transaction (between its reservation and its end)
  return !Object.values(threads).some((loc) => IN_TRANSACTION.test(loc));
}

/** B-F1 on the packed words (explorer/properties/words.ts): the same truth as bF1. */
const dBF1 = () =>
  L.or(
    L.read('c.rw'),
    L.and(
      L.eq(L.read('c.journal.dirty'), L.lit(0)),
      L.eq(L.len(L.path('c.writes.holders')), L.lit(0)),
      L.ne(L.read('c.journal.reclaim_lock', 'owner'), L.lit('reclaim')),
      L.not(L.someThread((_t, loc) => IN_TRANSACTION.test(loc))),
    ),
  );
declareInvariants({ 'B-F1': bF1 }, { 'B-F1': dBF1 });

export default defineModel({
  name: 'bcachefs-freeze',
  description:
    'bcachefs freeze: freeze_super with ->freeze_fs = bch2_freeze (read-only transition over internal write refs) vs. the rejected sb_start_intwrite-per-transaction mapping',
  source: 'seeds/000 (bcachefs: initial freeze/unfreeze support, 7239f8e0ee7f), KERNEL.md 1A; fs/bcachefs/fs.c bch2_freeze/bch2_unfreeze, fs/bcachefs/super.c bch2_fs_read_only',
  params: {
    writers: { default: 1, description: 'foreground writers (sb_start_write around a transaction)', min: 0, max: 6 },
    intwriters: { default: 1, description: 'internal writers (rebalance, copygc, discard...): one transaction each', min: 0, max: 6 },
    journalSize: { default: 1, description: 'journal capacity, in entries', min: 1, max: 4 },
    journalDirty: { default: 1, description: 'entries pinned at the start (need journal reclaim)', min: 0, max: 4 },
  },
  variants: {
    merged: {
      description:
        'merged design: nobody takes sb_start_intwrite (SB_FREEZE_FS is a no-op); ->freeze_fs kills c->writes and waits for the refs; transactions fail with -EROFS instead of blocking',
    },
    'intwrite-trans': {
      description: 'rejected design: sb_start_intwrite/sb_end_intwrite around every transaction, including journal reclaim\'s flushes',
    },
  },
  defaultVariant: 'merged',
  create({ params, variant }) {
    const writers = Number(params.writers);
    const intwriters = Number(params.intwriters);
    const size = Number(params.journalSize);
    const dirty = Math.min(Number(params.journalDirty), size);
    const threads: Record<string, any> = {
      // FIFREEZE -> freeze_super(sb) with bcachefs' ops (->sync_fs = bch2_sync_fs: a journal flush, one step)
      freezer: freezerThread({ freezeFs: bch2FreezeHook(variant) }),
      // FITHAW -> thaw_super(sb) with ->unfreeze_fs = bch2_unfreeze, once FIFREEZE has returned
      thawer: thawerThread({ unfreezeFs: bch2UnfreezeHook }),
    };
    for (let i = 0; i < writers; i++) threads[`writer${i}`] = transactionThread(`writer${i}`, variant, { foregroundWrite: true });
    for (let i = 0; i < intwriters; i++) threads[`intwriter${i}`] = transactionThread(`intwriter${i}`, variant, {});
    threads.reclaim = reclaimThread(variant);
    return setup({
      guards: { ...kernelGuards, ...freezeGuards, ...guards } as any,
      actions: { ...kernelActions, ...freezeActions, ...actions } as any,
    }).createMachine({
      id: 'bcachefs-freeze',
      type: 'parallel',
      context: {
        ...freezeContext('thawer'),
        fifreeze_returned: false,
        c: {
          rw: true,
          going_ro: false,
          state_lock: rwsem(),
          writes: { killed: false, holders: [] as string[] },
          journal: { running: true, free: size - dirty, dirty, reclaim_lock: mutex() },
          reclaim: { running: true },
        },
      },
      states: threads,
    });
  },
  // Footprints of this model's own steps, for --reduce por (explorer/reduce/declare.ts); c->writes' holders
  // are a sorted thread set (insertSorted), which --reduce symmetry re-sorts after renaming.
  footprints: {
    bch_write_ref_alive: { reads: ['c.writes.killed'] },
    bch_write_ref_killed: { reads: ['c.writes.killed'] },
    bch_write_disable_complete: { reads: ['c.writes.killed', 'c.writes.holders'] },
    bch_journal_space: { reads: ['c.journal.free'] },
    bch_journal_dirty: { reads: ['c.journal.dirty'] },
    bch_journal_clean: { reads: ['c.journal.dirty'] },
    bch_reclaim_has_work: { reads: ['c.reclaim.running', 'c.journal.dirty'] },
    bch_reclaim_idle: { reads: ['c.journal.reclaim_lock.owner'] },
    bch_all_exited: { reads: ['live'] },
    bch_write_ref_get: { writes: ['c.writes.holders'], sets: ['c.writes.holders'] },
    bch_write_ref_put: { writes: ['c.writes.holders'], sets: ['c.writes.holders'] },
    bch_going_ro_kill_writes: { writes: ['c.going_ro', 'c.writes.killed'] },
    bch_journal_res_get: { writes: ['c.journal.free'] },
    bch_trans_commit: { writes: ['c.journal.dirty'] },
    bch_flush_pin: { writes: ['c.journal.dirty', 'c.journal.free'] },
    bch_journal_stop: { writes: ['c.reclaim.running', 'c.journal.running'] },
    bch_clear_rw: { writes: ['c.going_ro', 'c.rw'] },
    bch_read_write: { writes: ['c.rw', 'c.journal.running', 'c.reclaim.running', 'c.writes.killed'] },
    bch_thread_exit: { writes: ['live'] },
  },
  // Foreground writers are interchangeable, and so are the internal writers (--reduce symmetry).
  symmetry: ({ params }) => [
    { threads: Array.from({ length: Number(params.writers) }, (_, i) => `writer${i}`) },
    { threads: Array.from({ length: Number(params.intwriters) }, (_, i) => `intwriter${i}`) },
  ],
  invariants: {
    ...freezeInvariants,
    'B-F1': bF1,
  },
  watch: freezeWatch,
  waits: {
    ...kernelWaits,
    ...freezeWaits,
    ...waits,
  },
});

