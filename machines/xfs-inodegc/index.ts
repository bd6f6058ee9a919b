// XFS inodegc start/stop versus freeze (seed 002, KERNEL.md section 2): reproduces the xfs/517 ASSERT and its fixes.
//
// Threads
//   freezer   freeze_super() (fs/super.c, 5.x shape, KERNEL.md 1(c) F1..F15) with the XFS hooks of each variant:
//             ->sync_fs = xfs_fs_sync_fs(sb, wait=1) at F11 (the wait=0 pass returns at once in XFS), ->freeze_fs =
//             xfs_fs_freeze at F14; xfs_log_quiesce may fail (param freezeFail) and takes the F14 unwind path;
//             sync_filesystem's last step, sync_blockdev, may fail after ->sync_fs (param syncFail) and takes F11's.
//   thawer    thaw_super() -> thaw_super_locked() (T1..T7) with ->unfreeze_fs = xfs_fs_unfreeze at T5. Issued at any
//             time (g/390, xfs/517 loops): -EINVAL while not fully frozen, then userspace retries; gives up when the
//             freeze failed.
//   evictorI  the last iput() of an unlinked O_RDONLY file: evict -> xfs_fs_destroy_inode -> xfs_inode_mark_reclaimable
//             -> xfs_inodegc_queue(ip I): Q1/Q2 llist_add to the per-CPU list (CPU I mod cpus), Q3 sample
//             INODEGC_ENABLED, Q4 queue the work. No s_umount, no freeze protection.
//   workerC   the kworker running xfs_inodegc_worker for CPU C's struct xfs_inodegc: llist_del_all, then for each
//             inode xfs_inodegc_inactivate (the 5.14-rc ASSERT(frozen < SB_FREEZE_FS)) -> xfs_inactive ->
//             xfs_trans_alloc -> sb_start_intwrite -> commit -> xfs_inodegc_set_reclaimable.
//   shrinker  (param shrinkers) xfs_inodegc_shrinker_scan from kswapd (40b1de007aca "xfs: throttle inode
//             inactivation queuing on memory reclaim": [PATCH 14/14] of the posted series, merged in 5.15, so present
//             in every variant): sample INODEGC_ENABLED, then for each CPU
//             with a non-empty list mod_delayed_work_on(cpu, wq, work, 0) (Thread 2 of 2254a7396a0c's message).
//
// Variants (kernel versions; seed 002 is the 5 Aug 2021 thread; 2254a7396a0c is the 2023 fix):
//   posted    the series as posted on 4 Aug 2021 (5.14-rc4, [PATCH 05/14] "xfs: per-cpu deferred inode inactivation
//             queues"): sync_fs calls xfs_inodegc_flush; xfs_fs_freeze calls xfs_inodegc_stop (cancel_work_sync);
//             no restart on a failed freeze; work_struct queued with queue_work() after put_cpu_ptr().
//   dave      Dave Chinner's proposal of 5 Aug 2021 on top of it (= 5.15 as merged, minus the ASSERT): stop in
//             sync_fs when frozen == SB_FREEZE_PAGEFAULT, xfs_inodegc_start() when xfs_fs_freeze fails; the stop
//             still uses cancel_work_sync.
//   drain     6191cf3ad59f (Brian Foster, 5.17; it also made xfs_inodegc_flush a flush_workqueue, unused here)
//             stop = queue_all + drain_workqueue, with the 5.19 delayed-work queueing (7cf2b0f9611b): the evictor
//             holds its CPU (get_cpu_ptr) from llist_add to mod_delayed_work. Shape of 5.19..6.3; the syzbot
//             __queue_work WARN on a draining workqueue is an invariant here.
//   mainline  2254a7396a0c (Darrick Wong, "xfs: fix xfs_inodegc_stop racing with mod_delayed_work", pulled with
//             tags/xfs-6.4-rc1-fixes, so v6.4-rc2 and later; backported to 6.1.y): stop = queue_all + do {
//             flush_workqueue; rerun = queue_all } while (rerun); the ASSERT is gone from xfs_inodegc_inactivate
//             (set debugAssert=false for that). The per-mount m_inodegc_cpumask that 6.4 also added (queue_all walks
//             it instead of every online CPU; the queuer sets the bit after llist_add, the worker clears it before
//             llist_del_all) is not modelled: queue_all tests llist_empty on every CPU.
//
// Abstractions (each says what it drops):
//   - xfs_inodegc_want_queue_work() is taken as always true (a backlog past inodes_per_cluster, or 5.19+'s
//     always-mod_delayed_work); the Q5 throttle flush_work is not modelled; queue_all scans all CPUs in one step.
//   - Only the FS level of sb_writers has readers (the inodegc transactions); WRITE and PAGEFAULT levels have no
//     holders here, so their sb_wait_write is one step. F2..F4 (busy/unborn/ro) are not taken with one freezer.
//   - The freezer, thawer and shrinker run on CPUs of their own; preemption pinning (drain, mainline) only stops
//     the worker and the other evictors of the pinned CPU.
//   - Memory ordering is sequentially consistent (KERNEL.md I-P2 needs the 6.x barriers in reality).
//   - xfs_inactive is one transaction per inode (the kernel may run several, e.g. xfs_inactive_truncate then
//     xfs_inactive_ifree, each with its own xfs_trans_alloc -> sb_start_intwrite).
//   - F11 fails only with param syncFail, and only at its last step: freeze_super's unwind when sync_filesystem
//     returns an error (2719c7160dcf "vfs: make freeze_super abort when sync_filesystem returns error", v5.17,
//     backported to 5.10.y and 5.15.y: frozen = SB_UNFROZEN; sb_freeze_unlock(sb, SB_FREEZE_PAGEFAULT);
//     deactivate_locked_super, without calling ->freeze_fs). sync_filesystem runs ->sync_fs(sb, 1) and then returns
//     sync_blockdev(sb->s_bdev), so an I/O error there comes after xfs_fs_sync_fs stopped inodegc (dave, drain,
//     mainline); the earlier failures (xfs_log_force in xfs_fs_sync_fs, sync_blockdev_nowait) return before the
//     stop and change nothing here, so they are not modelled. Before 5.17 freeze_super ignored the error.
// The workqueue is machines/kernel's (items gc0.. = each CPU's struct xfs_inodegc.work on m_inodegc_wq),
// including mod_delayed_work_on (5.19+): kernel/workqueue.c grabs PENDING (try_to_grab_pending) and calls
// __queue_work again, so on a draining workqueue it WARNs and drops even a pending item, and a flush waiting for
// the grabbed instance stops waiting for it (the requeued one has a newer flush colour).
import { and, assign, setup } from 'xstate';
import { defineModel, type Context, type ThreadLocations } from '../../explorer/model.ts';
import {
  kernelActions,
  kernelGuards,
  kernelWaits,
  rwsem,
  sbWriters,
  down_write,
  up_write,
  sb_start_intwrite,
  sb_end_intwrite,
  sb_wait_write_block,
  sb_wait_write_drain,
  sb_freeze_unlock,
  sb_set_frozen,
  sb_frozen_is,
  SB_FREEZE_WRITE,
  SB_FREEZE_PAGEFAULT,
  SB_FREEZE_FS,
  SB_FREEZE_COMPLETE,
  SB_UNFROZEN,
  SB_LEVEL_NAMES,
  workqueue,
  queue_work,
  mod_delayed_work,
  worker_start_item,
  worker_done,
  cancel_work_sync,
  flush_work,
  flush_workqueue,
  drain_workqueue,
  rwsemOwner,
  sbFrozen,
  wqPending,
  wqDroppedWhileDraining,
} from '../kernel/index.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareAssertions, declareInvariants, declareLowerings } from '../../explorer/compile/lower/declared.ts';

type Args = { context: Context };

type Variant = 'posted' | 'dave' | 'drain' | 'mainline';
type StopKind = 'cancel' | 'drain' | 'flushloop';

const ID = 'xfs_inodegc';
const F = (path: string) => `#${ID}.freezer.${path}`;
const SB = 's_writers';
const UMOUNT = 's_umount';

const g = (type: string, params: any = {}) => ({ type, params });
const a = (type: string, params: any = {}) => ({ type, params });

/** Per-variant facts, each from the source named in the header. */
const VARIANT: Record<Variant, { stop: StopKind; flushInSyncFs: boolean; stopInSyncFs: boolean; restartOnError: boolean; pinned: boolean; queueCall: string }> = {
  posted: { stop: 'cancel', flushInSyncFs: true, stopInSyncFs: false, restartOnError: false, pinned: false, queueCall: 'queue_work' },
  dave: { stop: 'cancel', flushInSyncFs: false, stopInSyncFs: true, restartOnError: true, pinned: false, queueCall: 'queue_work' },
  drain: { stop: 'drain', flushInSyncFs: false, stopInSyncFs: true, restartOnError: true, pinned: true, queueCall: 'mod_delayed_work' },
  mainline: { stop: 'flushloop', flushInSyncFs: false, stopInSyncFs: true, restartOnError: true, pinned: true, queueCall: 'mod_delayed_work' },
};

const WQ = 'wq';
const WQNAME = 'm_inodegc_wq';
/** The work item of CPU c: per_cpu_ptr(mp->m_inodegc, c)->work. */
const item = (c: number) => `gc${c}`;

/** The queueing call of the variant: queue_work_on (5.14-rc, 5.15) or mod_delayed_work_on(..., 0) (5.19+). */
const queueCall = (pinned: boolean, c: number, thread: string): any[] =>
  (pinned ? mod_delayed_work(WQ, item(c), thread) : queue_work(WQ, item(c), thread)).actions!;

/**
 * xfs_inodegc_queue_all(mp) as ONE step: for_each_online_cpu: if (!llist_empty(&gc->list)) queue_work_on /
 * mod_delayed_work_on(cpu, wq, &gc->work, 0). One transition per pattern of non-empty per-CPU lists (exactly one
 * is enabled), so the kernel workqueue actions are used as they are. `emptyTarget` is where `rerun == false` goes.
 */
function queueAllBranches(cpus: number, pinned: boolean, thread: string, o: { pre?: any[]; post?: any[]; target: string; emptyTarget?: string }): any[] {
  const out: any[] = [];
  for (let mask = (1 << cpus) - 1; mask >= 0; mask--) {
    const queued = Array.from({ length: cpus }, (_, c) => c).filter((c) => mask & (1 << c));
    out.push({
      guard: g('gc_nonempty_mask', { mask }),
      actions: [...(o.pre ?? []), ...queued.flatMap((c) => queueCall(pinned, c, thread)), ...(o.post ?? [])],
      target: mask === 0 && o.emptyTarget !== undefined ? o.emptyTarget : o.target,
    });
  }
  return out;
}

/** xfs_inodegc_start(): if (xfs_set_inodegc_enabled(mp)) return; xfs_inodegc_queue_all(mp); */
function inodegcStart(cpus: number, pinned: boolean, thread: string, target: string): any[] {
  return [{ guard: 'inodegc_enabled', target }, ...queueAllBranches(cpus, pinned, thread, { pre: ['set_inodegc_enabled'], target })];
}

/**
 * xfs_inodegc_stop(), the version named by `kind`, as a compound state of the freezer; leaves to `exit`.
 *   S1 if (!xfs_clear_inodegc_enabled(mp)) return;     (test_and_clear_bit)
 *   S2 xfs_inodegc_queue_all(mp);
 *   S3 cancel:    for each cpu: cancel_work_sync(&gc->work)                    (5.14-rc series, 5.15)
 *      drain:     drain_workqueue(mp->m_inodegc_wq)                            (6191cf3ad59f, 5.17..6.3)
 *      flushloop: do { flush_workqueue(wq); rerun = queue_all(mp); } while (rerun)   (2254a7396a0c, 6.4-rc2+)
 */
function stopStates(kind: StopKind, cpus: number, pinned: boolean, exit: string, base: string): any {
  const here = (s: string) => `${F(base)}.${s}`;
  const states: Record<string, any> = {
    // S1: xfs_clear_inodegc_enabled(): test_and_clear_bit(XFS_OPSTATE_INODEGC_ENABLED)
    S1_clear_enabled: {
      on: {
        'freezer.xfs_clear_inodegc_enabled': [
          { guard: 'inodegc_disabled', target: exit },
          { actions: 'clear_inodegc_enabled', target: here('S2_queue_all') },
        ],
      },
    },
    // S2: xfs_inodegc_queue_all()
    S2_queue_all: {
      on: {
        'freezer.xfs_inodegc_queue_all': queueAllBranches(cpus, pinned, 'freezer', {
          target: here(kind === 'cancel' ? 'cancel_work_sync0' : kind === 'drain' ? 'drain_workqueue' : 'flush_workqueue'),
        }),
      },
    },
  };
  if (kind === 'cancel') {
    for (let c = 0; c < cpus; c++) {
      const next = c + 1 < cpus ? here(`cancel_work_sync${c + 1}`) : exit;
      // cancel_work_sync(&gc->work) step 1: try_to_grab_pending() removes a pending item without running it
      states[`cancel_work_sync${c}`] = {
        on: { 'freezer.cancel_work_sync': { ...cancel_work_sync(WQ, item(c), 'freezer', WQNAME).grab, target: here(`cancel_work_sync${c}_wait`) } },
      };
      // step 2: __flush_work() waits for the running instance (the freezer waits for worker c)
      states[`cancel_work_sync${c}_wait`] = {
        on: { 'freezer.cancel_work_sync_done': { ...cancel_work_sync(WQ, item(c), 'freezer', WQNAME).wait, target: next } },
      };
    }
  } else if (kind === 'drain') {
    // drain_workqueue(): set __WQ_DRAINING, flush until nothing is pending or running, clear it
    const drain = drain_workqueue(WQ, 'freezer', WQNAME);
    states.drain_workqueue = { on: { 'freezer.drain_workqueue': { ...drain.begin, target: here('drain_workqueue_wait') } } };
    states.drain_workqueue_wait = { on: { 'freezer.drain_workqueue_done': { ...drain.wait, target: exit } } };
  } else {
    // do { flush_workqueue(wq); rerun = xfs_inodegc_queue_all(mp); } while (rerun);
    const flush = flush_workqueue(WQ, 'freezer', WQNAME, Array.from({ length: cpus }, (_, c) => item(c)));
    states.flush_workqueue = { on: { 'freezer.flush_workqueue': { ...flush.begin, target: here('flush_workqueue_wait') } } };
    states.flush_workqueue_wait = { on: { 'freezer.flush_workqueue_done': { ...flush.wait, target: here('rerun_queue_all') } } };
    states.rerun_queue_all = {
      on: { 'freezer.xfs_inodegc_queue_all': queueAllBranches(cpus, pinned, 'freezer', { target: here('flush_workqueue'), emptyTarget: exit }) },
    };
  }
  return { initial: 'S1_clear_enabled', states };
}

function buildFreezer(v: Variant, cpus: number, freezeFail: boolean, syncFail: boolean): any {
  const V = VARIANT[v];
  // freeze_super's error paths: frozen = SB_UNFROZEN; sb_freeze_unlock(sb, level) (the levels write-held so far);
  // wake_up(wait_unfrozen); deactivate_locked_super (up_write(&sb->s_umount)); return the error
  const unwind = (level: number) => ({
    actions: [sb_set_frozen(SB, SB_UNFROZEN), ...sb_freeze_unlock(SB, 'freezer', level).actions!, ...up_write(UMOUNT, 'freezer').actions!, 'set_freeze_failed', 'exit_thread'],
    target: 'done',
  });
  const states: Record<string, any> = {
    // F1: atomic_inc(&sb->s_active); down_write(&sb->s_umount)    [freeze_super, fs/super.c 5.x]
    F1_down_write_s_umount: { on: { 'freezer.down_write_s_umount': down_write(UMOUNT, 'freezer', 'F5_frozen_write') } },
    // F5+F6: sb->s_writers.frozen = SB_FREEZE_WRITE; up_write(&sb->s_umount)  ("preserve sb_start_write -> s_umount")
    F5_frozen_write: {
      on: { 'freezer.frozen_SB_FREEZE_WRITE': { actions: [sb_set_frozen(SB, SB_FREEZE_WRITE), ...up_write(UMOUNT, 'freezer').actions!], target: 'F7_sb_wait_write' } },
    },
    // F7: sb_wait_write(sb, SB_FREEZE_WRITE) = percpu_down_write(rw_sem[0]); no sb_start_write holders in this model
    F7_sb_wait_write: {
      on: { 'freezer.sb_wait_write_WRITE': { ...sb_wait_write_block(SB, SB_FREEZE_WRITE, 'freezer'), target: 'F8_down_write_s_umount' } },
    },
    // F8: down_write(&sb->s_umount)
    F8_down_write_s_umount: { on: { 'freezer.down_write_s_umount': down_write(UMOUNT, 'freezer', 'F9_frozen_pagefault') } },
    // F9+F10: frozen = SB_FREEZE_PAGEFAULT; sb_wait_write(sb, SB_FREEZE_PAGEFAULT) (no page-fault writers modelled)
    F9_frozen_pagefault: {
      on: {
        'freezer.frozen_SB_FREEZE_PAGEFAULT': {
          guard: sb_wait_write_block(SB, SB_FREEZE_PAGEFAULT, 'freezer').guard,
          actions: [sb_set_frozen(SB, SB_FREEZE_PAGEFAULT), ...sb_wait_write_block(SB, SB_FREEZE_PAGEFAULT, 'freezer').actions!],
          target: 'F11_sync_fs',
        },
      },
    },
    // F12: sb->s_writers.frozen = SB_FREEZE_FS
    F12_frozen_fs: { on: { 'freezer.frozen_SB_FREEZE_FS': { actions: sb_set_frozen(SB, SB_FREEZE_FS), target: 'F13_sb_wait_write' } } },
    // F13: sb_wait_write(sb, SB_FREEZE_FS) step 1: percpu_down_write sets block (new sb_start_intwrite sleeps) ...
    F13_sb_wait_write: { on: { 'freezer.sb_wait_write_FS': { ...sb_wait_write_block(SB, SB_FREEZE_FS, 'freezer'), target: 'F13_sb_wait_write_drain' } } },
    // ... step 2: wait for the in-flight transactions (sb_start_intwrite holders) to end
    F13_sb_wait_write_drain: { on: { 'freezer.sb_wait_write_FS_drained': { ...sb_wait_write_drain(SB, SB_FREEZE_FS, 'freezer'), target: 'F14_freeze_fs' } } },
    // F15: frozen = SB_FREEZE_COMPLETE; up_write(&sb->s_umount); the three rwsems stay write-held until thaw
    F15_frozen_complete: {
      on: { 'freezer.frozen_SB_FREEZE_COMPLETE': { actions: [sb_set_frozen(SB, SB_FREEZE_COMPLETE), ...up_write(UMOUNT, 'freezer').actions!, 'exit_thread'], target: 'done' } },
    },
    // F14 error path: frozen = UNFROZEN; sb_freeze_unlock(sb); wake_up(wait_unfrozen); deactivate_locked_super (up_write)
    F14_unwind: { on: { 'freezer.freeze_fs_failed': unwind(SB_FREEZE_FS) } },
    done: { type: 'final' },
  };
  // Where ->sync_fs(sb, 1) returns to: F12, or (param syncFail) sync_filesystem's last step first.
  const afterSyncFs = syncFail ? F('F11_sync_blockdev') : F('F12_frozen_fs');
  if (syncFail) {
    // sync_filesystem: return sync_blockdev(sb->s_bdev), which may fail with an I/O error
    states.F11_sync_blockdev = {
      on: { 'freezer.sync_blockdev': { target: 'F12_frozen_fs' }, 'freezer.sync_blockdev_fails': { target: 'F11_unwind' } },
    };
    // freeze_super: if (ret) { frozen = SB_UNFROZEN; sb_freeze_unlock(sb, SB_FREEZE_PAGEFAULT); wake_up_var(...);
    // deactivate_locked_super(sb) (up_write(&sb->s_umount)); return ret; }  (2719c7160dcf, v5.17): ->freeze_fs is not
    // called, so nothing undoes what ->sync_fs did
    states.F11_unwind = { on: { 'freezer.sync_filesystem_failed': unwind(SB_FREEZE_PAGEFAULT) } };
  }

  // F11: sync_filesystem -> xfs_fs_sync_fs(sb, 1) (frozen == SB_FREEZE_PAGEFAULT, s_umount held for write)
  if (V.flushInSyncFs) {
    // 5.14-rc series: xfs_inodegc_flush(mp): if (!enabled) return; queue_all(mp); for each cpu flush_work(&gc->work)
    const sync: Record<string, any> = {
      inodegc_flush: {
        on: {
          'freezer.xfs_inodegc_flush': [
            { guard: 'inodegc_disabled', target: afterSyncFs },
            ...queueAllBranches(cpus, V.pinned, 'freezer', {
              post: flush_work(WQ, item(0), 'freezer', WQNAME).begin.actions,
              target: `${F('F11_sync_fs')}.flush_work0_wait`,
            }),
          ],
        },
      },
    };
    for (let c = 0; c < cpus; c++) {
      const last = c + 1 === cpus;
      sync[`flush_work${c}_wait`] = {
        on: {
          'freezer.flush_work_done': {
            guard: flush_work(WQ, item(c), 'freezer', WQNAME).wait.guard,
            actions: [...flush_work(WQ, item(c), 'freezer', WQNAME).wait.actions!, ...(last ? [] : flush_work(WQ, item(c + 1), 'freezer', WQNAME).begin.actions!)],
            target: last ? afterSyncFs : `${F('F11_sync_fs')}.flush_work${c + 1}_wait`,
          },
        },
      };
    }
    states.F11_sync_fs = { initial: 'inodegc_flush', states: sync };
  } else {
    // seed 002 / 5.15+: if (sb->s_writers.frozen == SB_FREEZE_PAGEFAULT) xfs_inodegc_stop(mp);
    states.F11_sync_fs = {
      initial: 'check_frozen',
      states: {
        check_frozen: {
          on: {
            'freezer.frozen_is_SB_FREEZE_PAGEFAULT': [
              { guard: sb_frozen_is(SB, SB_FREEZE_PAGEFAULT), target: `${F('F11_sync_fs')}.inodegc_stop` },
              { target: afterSyncFs },
            ],
          },
        },
        inodegc_stop: stopStates(V.stop, cpus, V.pinned, afterSyncFs, 'F11_sync_fs.inodegc_stop'),
      },
    };
  }

  // F14: ->freeze_fs = xfs_fs_freeze()
  const quiesce = {
    on: {
      // ret = xfs_log_quiesce(mp) succeeds
      'freezer.xfs_log_quiesce': { target: F('F15_frozen_complete') },
      // ... or fails (param freezeFail): the posted series returns the error, later versions restart inodegc first
      ...(freezeFail
        ? { 'freezer.xfs_log_quiesce_fails': { target: V.restartOnError ? `${F('F14_freeze_fs')}.restart_inodegc` : F('F14_unwind') } }
        : {}),
    },
  };
  const freezeStates: Record<string, any> = { xfs_log_quiesce: quiesce };
  if (V.restartOnError) {
    // if (ret && !xfs_is_readonly(mp)) { xfs_blockgc_start(mp); xfs_inodegc_start(mp); }
    freezeStates.restart_inodegc = { on: { 'freezer.xfs_inodegc_start': inodegcStart(cpus, V.pinned, 'freezer', F('F14_unwind')) } };
  }
  if (!V.stopInSyncFs) {
    // posted series: xfs_blockgc_stop(mp); xfs_inodegc_stop(mp); xfs_save_resvblks(mp); ret = xfs_log_quiesce(mp);
    freezeStates.inodegc_stop = stopStates(V.stop, cpus, V.pinned, `${F('F14_freeze_fs')}.xfs_log_quiesce`, 'F14_freeze_fs.inodegc_stop');
  }
  states.F14_freeze_fs = { initial: V.stopInSyncFs ? 'xfs_log_quiesce' : 'inodegc_stop', states: freezeStates };

  return { initial: 'F1_down_write_s_umount', states };
}

function buildThawer(cpus: number, pinned: boolean): any {
  return {
    initial: 'T1_down_write_s_umount',
    states: {
      // T1: down_write(&sb->s_umount)    [thaw_super -> thaw_super_locked, fs/super.c 5.x]
      T1_down_write_s_umount: { on: { 'thawer.down_write_s_umount': down_write(UMOUNT, 'thawer', 'T2_check_frozen') } },
      // T2: if (sb->s_writers.frozen != SB_FREEZE_COMPLETE) { up_write(&sb->s_umount); return -EINVAL; }
      T2_check_frozen: {
        on: {
          'thawer.frozen_is_SB_FREEZE_COMPLETE': [
            { guard: sb_frozen_is(SB, SB_FREEZE_COMPLETE), target: 'T5_unfreeze_fs' },
            // the freeze failed and unwound: FITHAW gets -EINVAL and userspace stops
            { guard: 'freeze_failed', actions: [...up_write(UMOUNT, 'thawer').actions!, 'exit_thread'], target: 'done' },
            // -EINVAL: not (yet) frozen; userspace tries again
            { actions: up_write(UMOUNT, 'thawer').actions!, target: 'T1_down_write_s_umount' },
          ],
        },
      },
      // T5: ->unfreeze_fs = xfs_fs_unfreeze(): ... if (!xfs_is_readonly(mp)) xfs_inodegc_start(mp);  (before T6)
      T5_unfreeze_fs: { on: { 'thawer.xfs_inodegc_start': inodegcStart(cpus, pinned, 'thawer', 'T6_sb_freeze_unlock') } },
      // T6+T7: frozen = SB_UNFROZEN; sb_freeze_unlock(sb); wake_up(&sb->s_writers.wait_unfrozen); deactivate_locked_super
      T6_sb_freeze_unlock: {
        on: {
          'thawer.sb_freeze_unlock': {
            actions: [sb_set_frozen(SB, SB_UNFROZEN), ...sb_freeze_unlock(SB, 'thawer').actions!, ...up_write(UMOUNT, 'thawer').actions!, 'exit_thread'],
            target: 'done',
          },
        },
      },
      done: { type: 'final' },
    },
  };
}

function buildEvictor(i: number, cpu: number, V: (typeof VARIANT)[Variant]): any {
  const t = `evictor${i}`;
  const pin = V.pinned ? [a('pin_cpu', { cpu, thread: t })] : [];
  const unpin = V.pinned ? [a('unpin_cpu', { cpu })] : [];
  return {
    initial: 'Q2_llist_add',
    states: {
      // Q1+Q2: ip->i_flags |= XFS_NEED_INACTIVE; gc = get_cpu_ptr(mp->m_inodegc); llist_add(&ip->i_gclist, &gc->list)
      Q2_llist_add: {
        on: {
          [`${t}.llist_add`]: {
            guard: V.pinned ? g('cpu_free', { cpu, thread: t }) : undefined,
            actions: [a('llist_add', { cpu, ino: i }), ...pin],
            target: 'Q3_is_inodegc_enabled',
          },
        },
      },
      // Q3: if (!xfs_is_inodegc_enabled(mp)) return;   <- the SAMPLE (lockless test_bit)
      Q3_is_inodegc_enabled: {
        on: {
          [`${t}.xfs_is_inodegc_enabled`]: [
            { guard: 'inodegc_enabled', target: 'Q4_queue_work' },
            { actions: [...unpin, 'exit_thread'], target: 'done' },
          ],
        },
      },
      // Q4: queue_work(mp->m_inodegc_wq, &gc->work)  (5.19+: mod_delayed_work(...); put_cpu_ptr(gc))   <- the ACT
      Q4_queue_work: {
        on: { [`${t}.${V.queueCall}`]: { actions: [...queueCall(V.pinned, cpu, t), ...unpin, 'exit_thread'], target: 'done' } },
      },
      done: { type: 'final' },
    },
  };
}

function buildShrinker(cpus: number, pinned: boolean): any {
  const states: Record<string, any> = {
    // if (!xfs_is_inodegc_enabled(mp)) return SHRINK_STOP;
    is_inodegc_enabled: {
      on: {
        'shrinker.xfs_is_inodegc_enabled': [
          { guard: 'inodegc_enabled', target: 'llist_empty0' },
          { actions: 'exit_thread', target: 'done' },
        ],
      },
    },
    done: { type: 'final' },
  };
  for (let c = 0; c < cpus; c++) {
    const next = c + 1 < cpus ? `llist_empty${c + 1}` : undefined;
    const leave = next ? { target: next } : { actions: 'exit_thread', target: 'done' };
    // for_each_cpu(cpu, ...): if (!llist_empty(&gc->list)) { ...; mod_delayed_work_on(cpu, wq, &gc->work, 0); }
    states[`llist_empty${c}`] = {
      on: { 'shrinker.llist_empty': [{ guard: g('gc_list_nonempty', { cpu: c }), target: `mod_delayed_work_on${c}` }, leave] },
    };
    const mod = queueCall(pinned, c, 'shrinker'); // 5.15: queue_work_on; 5.19+: mod_delayed_work_on(cpu, wq, work, 0)
    states[`mod_delayed_work_on${c}`] = {
      on: {
        'shrinker.mod_delayed_work_on': next ? { actions: mod, target: next } : { actions: [...mod, 'exit_thread'], target: 'done' },
      },
    };
  }
  return { initial: 'is_inodegc_enabled', states };
}

function buildWorker(c: number, V: (typeof VARIANT)[Variant], debugAssert: boolean, others: number, thaw: boolean): any {
  const t = `worker${c}`;
  const onCpu = (guard: any) => (V.pinned ? and([guard, g('cpu_free', { cpu: c, thread: t })]) : guard);
  const first = debugAssert ? 'inactivate' : 'xfs_trans_alloc';
  const intwrite = sb_start_intwrite(SB, t);
  const start = worker_start_item(WQ, item(c), t, WQNAME);
  const done = worker_done(WQ, t);
  return {
    initial: 'idle',
    states: {
      // the kworker idles until its work item is pending; when every other thread has ended, it parks (valid end)
      idle: {
        on: {
          // process_one_work -> xfs_inodegc_worker: node = llist_del_all(&gc->list); WRITE_ONCE(gc->items, 0);
          [`${t}.xfs_inodegc_worker`]: [
            { guard: onCpu(and([start.guard, g('gc_list_nonempty', { cpu: c })])), actions: [...start.actions!, a('llist_del_all', { cpu: c })], target: first },
            // if (!node) return;
            { guard: onCpu(start.guard), actions: [...start.actions!, ...done.actions!] },
          ],
          [`${t}.park`]: { guard: g('quiesced', { work: c, others }), target: 'parked' },
        },
      },
      ...(debugAssert
        ? {
            // xfs_inodegc_inactivate(): ASSERT(mp->m_super->s_writers.frozen < SB_FREEZE_FS)  (5.14-rc series only)
            inactivate: {
              meta: { assert: 'frozen < SB_FREEZE_FS' },
              on: { [`${t}.xfs_inactive`]: { guard: V.pinned ? g('cpu_free', { cpu: c, thread: t }) : undefined, target: 'xfs_trans_alloc' } },
            },
          }
        : {}),
      // xfs_inactive -> xfs_trans_alloc -> sb_start_intwrite(mp->m_super): sleeps while SB_FREEZE_FS is write-held
      xfs_trans_alloc: {
        on: { [`${t}.sb_start_intwrite`]: { guard: onCpu(intwrite.guard), actions: intwrite.actions, target: 'in_transaction' } },
      },
      // a logged transaction is open (the xfs_trans_alloc WARN_ON(frozen == SB_FREEZE_COMPLETE) is an invariant);
      // xfs_trans_commit -> sb_end_intwrite; xfs_inodegc_set_reclaimable(ip); next inode or return
      in_transaction: {
        on: {
          [`${t}.xfs_trans_commit`]: [
            { guard: onCpu(g('batch_has_more', { cpu: c })), actions: [...sb_end_intwrite(SB, t).actions!, a('inactivated', { cpu: c })], target: first },
            { guard: V.pinned ? g('cpu_free', { cpu: c, thread: t }) : undefined, actions: [...sb_end_intwrite(SB, t).actions!, a('inactivated', { cpu: c }), ...done.actions!], target: 'idle' },
          ],
        },
      },
      // without a thaw, inodes queued while frozen legitimately stay queued, so the check needs the thawer
      parked: thaw ? { type: 'final', meta: { assert: 'noStrandedInodes' } } : { type: 'final' },
    },
  };
}

/** Freezer leaf states in which the freezer, holding s_umount, waits for an inodegc worker. */
const WAITS_FOR_WORKER = /(cancel_work_sync\d+_wait|flush_work\d+_wait|flush_workqueue_wait|drain_workqueue_wait)$/;

const model = defineModel({
  name: 'xfs-inodegc',
  description:
    'XFS inodegc start/stop versus freeze_super: the xfs/517 ASSERT(frozen < SB_FREEZE_FS) in the inodegc worker, the deadlock without it, and the fixes up to 2254a7396a0c',
  source: 'seeds/002 (Dave Chinner, 6 Aug 2021); KERNEL.md section 2; fs/xfs/xfs_icache.c, fs/xfs/xfs_super.c, fs/super.c; commits 6191cf3ad59f, 7cf2b0f9611b, 2254a7396a0c',
  // two CPUs and a freeze failing in xfs_fs_freeze or in sync_blockdev, in a few hundred states per variant (the
  // shrinker is covered by the specs)
  smallParams: { evictors: 1, cpus: 2, freezeFail: true, syncFail: true },
  params: {
    evictors: { default: 2, min: 1, max: 4, description: 'tasks doing the last iput of an unlinked file (evictor i runs on CPU i mod cpus)' },
    cpus: { default: 1, min: 1, max: 3, description: 'CPUs: per-CPU inodegc lists, work items and kworkers (threads worker0..)' },
    shrinkers: { default: 0, min: 0, max: 1, description: 'kswapd running xfs_inodegc_shrinker_scan once (0 or 1)' },
    debugAssert: { default: true, description: 'CONFIG_XFS_DEBUG ASSERT(frozen < SB_FREEZE_FS) in xfs_inodegc_inactivate (5.14-rc series; removed before 5.15 merged)' },
    freezeFail: { default: false, description: 'xfs_log_quiesce in xfs_fs_freeze may fail (freeze_super unwinds at F14)' },
    syncFail: {
      default: false,
      description: 'sync_blockdev at the end of sync_filesystem may fail, after ->sync_fs (freeze_super unwinds at F11 without ->freeze_fs: 2719c7160dcf, v5.17+)',
    },
    thaw: {
      default: true,
      description: 'a thawer (FITHAW) runs; false = the fs stays frozen, to ask what happens before any thaw (check with deadlock off: a frozen fs legitimately parks the worker in sb_start_intwrite)',
    },
  },
  variants: {
    posted: { description: '5.14-rc series as posted 4 Aug 2021: sync_fs flushes inodegc, xfs_fs_freeze stops it (cancel_work_sync)' },
    dave: { description: "Dave's proposal 5 Aug 2021 (5.15 shape): stop in sync_fs at SB_FREEZE_PAGEFAULT, restart on freeze error, cancel_work_sync" },
    drain: { description: '6191cf3ad59f (5.17..6.3, with 5.19 delayed work): stop drains the workqueue; queue_work on a draining wq WARNs' },
    mainline: { description: '2254a7396a0c (6.4-rc2+): stop = flush_workqueue + re-queue loop until the lists are empty' },
  },
  defaultVariant: 'posted',
  create({ params, variant }) {
    const v = variant as Variant;
    const V = VARIANT[v];
    const nev = Number(params.evictors);
    const cpus = Number(params.cpus);
    const nshr = Number(params.shrinkers);
    const debugAssert = Boolean(params.debugAssert);
    const thaw = Boolean(params.thaw);
    const others = 1 + (thaw ? 1 : 0) + nev + nshr; // threads that end: freezer, thawer, evictors, shrinker

    const threads: Record<string, any> = { freezer: buildFreezer(v, cpus, Boolean(params.freezeFail), Boolean(params.syncFail)) };
    if (thaw) threads.thawer = buildThawer(cpus, V.pinned);
    for (let i = 0; i < nev; i++) threads[`evictor${i}`] = buildEvictor(i, i % cpus, V);
    if (nshr > 0) threads.shrinker = buildShrinker(cpus, V.pinned);
    for (let c = 0; c < cpus; c++) threads[`worker${c}`] = buildWorker(c, V, debugAssert, others, thaw);

    const guards = {
      ...kernelGuards,
      // xfs_is_inodegc_enabled(mp): test_bit(XFS_OPSTATE_INODEGC_ENABLED, &mp->m_opstate)
      inodegc_enabled: ({ context }: Args) => context.inodegc_enabled,
      inodegc_disabled: ({ context }: Args) => !context.inodegc_enabled,
      gc_list_nonempty: ({ context }: Args, p: { cpu: number }) => context.gc[p.cpu].length > 0,
      // exactly the CPUs in `mask` have a non-empty llist (one branch of xfs_inodegc_queue_all)
      gc_nonempty_mask: ({ context }: Args, p: { mask: number }) => context.gc.every((l: number[], c: number) => (l.length > 0) === ((p.mask & (1 << c)) !== 0)),
      batch_has_more: ({ context }: Args, p: { cpu: number }) => context.batch[p.cpu].length > 1,
      // get_cpu_ptr() in xfs_inodegc_queue (5.19+) keeps other tasks of that CPU off it until put_cpu_ptr()
      cpu_free: ({ context }: Args, p: { cpu: number; thread: string }) => context.preempt[p.cpu] === null || context.preempt[p.cpu] === p.thread,
      freeze_failed: ({ context }: Args) => context.freeze_failed,
      // every non-worker thread has ended and nothing is queued for this kworker
      quiesced: ({ context }: Args, p: { work: number; others: number }) => context.exited === p.others && !wqPending(context, 'wq').includes(item(p.work)),
    };
    const actions = {
      ...kernelActions,
      llist_add: assign(({ context }: Args, p: { cpu: number; ino: number }) => ({
        gc: context.gc.map((l: number[], k: number) => (k === p.cpu ? [...l, p.ino].sort((x, y) => x - y) : l)),
      })),
      // node = llist_del_all(&gc->list): the worker's batch
      llist_del_all: assign(({ context }: Args, p: { cpu: number }) => ({
        batch: context.batch.map((b: number[], k: number) => (k === p.cpu ? context.gc[p.cpu] : b)),
        gc: context.gc.map((l: number[], k: number) => (k === p.cpu ? [] : l)),
      })),
      // xfs_inodegc_set_reclaimable(ip): this inode is done
      inactivated: assign(({ context }: Args, p: { cpu: number }) => ({
        batch: context.batch.map((b: number[], k: number) => (k === p.cpu ? b.slice(1) : b)),
        inactivated: context.inactivated + 1,
      })),
      pin_cpu: assign(({ context }: Args, p: { cpu: number; thread: string }) => ({ preempt: context.preempt.map((x: string | null, k: number) => (k === p.cpu ? p.thread : x)) })),
      unpin_cpu: assign(({ context }: Args, p: { cpu: number }) => ({ preempt: context.preempt.map((x: string | null, k: number) => (k === p.cpu ? null : x)) })),
      clear_inodegc_enabled: assign({ inodegc_enabled: false }),
      set_inodegc_enabled: assign({ inodegc_enabled: true }),
      set_freeze_failed: assign({ freeze_failed: true }),
      exit_thread: assign({ exited: ({ context }: Args) => context.exited + 1 }),
    };
    // The model's guards and actions as word operations (explorer/compile/lower/declared.ts), run on the packed state.
    const gcLen = (c: number) => L.len(L.path('gc', c));
    declareLowerings(guards, {
      quiesced: (p: { work: number; others: number }) => L.and(L.eq(L.read('exited'), L.lit(p.others)), L.not(L.includes(L.path(WQ, 'pending'), item(p.work)))),
      // gc has `cpus` lists (built so above, kept by every action); another length reads a key no array has: BAIL
      gc_nonempty_mask: (p: { mask: number }) =>
        L.cond(
          L.eq(L.len(L.path('gc')), L.lit(cpus)),
          L.and(...Array.from({ length: cpus }, (_, c) => ((p.mask & (1 << c)) !== 0 ? L.lt(L.lit(0), gcLen(c)) : L.not(L.lt(L.lit(0), gcLen(c)))))),
          L.read('gc', 'bail'),
        ),
    });
    declareLowerings(actions, {
      // the per-CPU lists only ever grow by llist_add, so they are sorted: inserting in order is the sort
      llist_add: (p: { cpu: number; ino: number }) => [L.insertSorted(L.path('gc', p.cpu), p.ino)],
      llist_del_all: (p: { cpu: number }) => [L.recSetList(L.path('batch', p.cpu), L.recListAt(L.path('gc', p.cpu))), L.recSetList(L.path('gc', p.cpu), [])],
      // batch[cpu].slice(1): the first element removed (an empty batch stays empty)
      inactivated: (p: { cpu: number }) => [
        L.removeOne(L.path('batch', p.cpu), L.at(L.path('batch', p.cpu), 0), 'keep'),
        L.set(L.path('inactivated'), L.plus(L.read('inactivated'), 1)),
      ],
      pin_cpu: (p: { cpu: number; thread: string }) => [L.setAt(L.path('preempt'), p.cpu, p.thread)],
      unpin_cpu: (p: { cpu: number }) => [L.setAt(L.path('preempt'), p.cpu, null)],
    });

    return setup({ guards, actions } as any).createMachine({
      id: ID,
      type: 'parallel',
      context: {
        s_umount: rwsem(),
        s_writers: sbWriters({ thawer: thaw ? 'thawer' : '' }),
        inodegc_enabled: true, // xfs_mountfs -> xfs_inodegc_start
        gc: Array.from({ length: cpus }, () => [] as number[]), // per-CPU llist of inode numbers (ip i from evictor i)
        wq: workqueue(Array.from({ length: cpus }, (_, c) => item(c))),
        batch: Array.from({ length: cpus }, () => [] as number[]), // each worker's llist_del_all result
        preempt: Array.from({ length: cpus }, () => null as string | null), // evictor holding the CPU (5.19+)
        inactivated: 0,
        exited: 0,
        freeze_failed: false,
      },
      states: threads,
    });
  },
  invariants: {
    // xfs_trans_alloc: WARN_ON(resp->tr_logres > 0 && mp->m_super->s_writers.frozen == SB_FREEZE_COMPLETE)
    // kernel/workqueue.c __queue_work: WARN_ON_ONCE(wq->flags & __WQ_DRAINING && !is_chained_work(wq)); the item is dropped
    noQueueWorkWhileDraining: (ctx: Context) => !wqDroppedWhileDraining(ctx, 'wq'),
    noTransactionWhileFrozen: (ctx: Context, threads: ThreadLocations) =>
      sbFrozen(ctx, 's_writers') !== SB_FREEZE_COMPLETE ||
      Object.entries(threads).every(([t, loc]) => !t.startsWith('worker') || loc !== 'in_transaction'),
    // KERNEL.md I-P5: no holder of s_umount waits for an inodegc worker once frozen >= SB_FREEZE_FS
    noUmountHolderWaitsForWorker: (ctx: Context, threads: ThreadLocations) =>
      !(sbFrozen(ctx, 's_writers') >= SB_FREEZE_FS && rwsemOwner(ctx, 's_umount') === 'freezer' && WAITS_FOR_WORKER.test(threads.freezer)),
  },
  assertions: {
    'frozen < SB_FREEZE_FS': (ctx: Context) => sbFrozen(ctx, 's_writers') < SB_FREEZE_FS,
    // after everything ended (thaw restarted inodegc), every evicted inode was inactivated (KERNEL.md I-P6)
    // (a parked worker c: nothing else can queue work c any more, so its list must be empty)
    noStrandedInodes: (ctx: Context, threads: ThreadLocations) =>
      ctx.gc.every((l: number[], c: number) => threads[`worker${c}`] !== 'parked' || l.length === 0),
  },
  // Trace columns on every row: the freeze level (as seed 002's readers think of it) and the INODEGC_ENABLED bit.
  watch: {
    frozen: (ctx: Context) => SB_LEVEL_NAMES[sbFrozen(ctx, 's_writers')] ?? String(sbFrozen(ctx, 's_writers')),
    inodegc: (ctx: Context) => (ctx.inodegc_enabled ? 'enabled' : 'stopped'),
  },
  waits: {
    ...kernelWaits,
    cpu_free: (ctx: Context, p: { cpu: number; thread: string }) =>
      ctx.preempt[p.cpu] === null || ctx.preempt[p.cpu] === p.thread
        ? null
        : { resource: `cpu${p.cpu} (preemption disabled by get_cpu_ptr)`, kind: 'cpu', mode: 'run', holders: [ctx.preempt[p.cpu]] },
  },
});

// The invariants on the packed words (explorer/properties/words.ts): the same truth as the functions above.
declareInvariants(model.invariants!, {
  noQueueWorkWhileDraining: () => L.not(L.read(WQ, 'droppedWhileDraining')),
  noTransactionWhileFrozen: () =>
    L.or(L.ne(L.read(SB, 'frozen'), L.lit(SB_FREEZE_COMPLETE)), L.not(L.someThread((t, loc) => t.startsWith('worker') && loc === 'in_transaction'))),
  noUmountHolderWaitsForWorker: () =>
    L.not(L.and(L.ge(L.read(SB, 'frozen'), L.lit(SB_FREEZE_FS)), L.eq(L.read(UMOUNT, 'owner'), L.lit('freezer')), L.someThread((t, loc) => t === 'freezer' && WAITS_FOR_WORKER.test(loc)))),
});
// The state assertions on the words too: the xfs/517 ASSERT, and a parked worker's empty list (worker<c>
// parked: gc[c] is empty, where the context has a list c).
declareAssertions(model.assertions!, {
  'frozen < SB_FREEZE_FS': () => L.lt(L.read(SB, 'frozen'), L.lit(SB_FREEZE_FS)),
  noStrandedInodes: () =>
    L.everyThread((t, loc) => {
      const c = /^worker(\d+)$/.exec(t);
      return c === null || loc !== 'parked' || L.or(L.ge(L.lit(Number(c[1])), L.len(L.path('gc'))), L.eq(L.len(L.path('gc', c[1])), L.lit(0)));
    }),
});
export default model;

export const XFS_INODEGC_VARIANTS = Object.keys(VARIANT) as Variant[];
