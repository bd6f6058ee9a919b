// freeze_super()/thaw_super() thread fragments, sb write sections and the P-F1..P-F3 checks, shared by the
// sb-freeze, bcachefs-freeze and file-write-freeze models (fs/super.c, 5.x version quoted in KERNEL.md 1(c)).
//
// Built on the kernel primitives (machines/kernel: rwsem for s_umount, sb_writers percpu rwsems). The
// freeze_super/thaw_super fragments are local to this folder because the variants need knobs the generic
// fragments do not have: keeping s_umount across the SB_FREEZE_WRITE wait (V1-2), and ->sync_fs /
// ->freeze_fs / ->unfreeze_fs hooks that are whole sub-programs (bcachefs), used twice in one thread
// (file_write_freeze on two inodes).
import { assign } from 'xstate';
import type { Context, ThreadLocations, WaitInfo } from '../../explorer/model.ts';
import {
  SB_FREEZE_COMPLETE,
  SB_FREEZE_FS,
  SB_FREEZE_PAGEFAULT,
  SB_FREEZE_WRITE,
  SB_LEVEL_NAMES,
  SB_UNFROZEN,
  down_read,
  down_write,
  getIn,
  rwsem,
  sbWriters,
  sb_end_intwrite,
  sb_end_pagefault,
  sb_end_write,
  sb_freeze_unlock,
  sb_frozen_is,
  sb_start_intwrite,
  sb_start_pagefault,
  sb_start_write,
  sb_wait_write_block,
  sb_wait_write_drain,
  up_read,
  up_write,
  updateIn,
} from '../kernel/index.ts';

/** Context paths of the superblock state every model here shares. */
export const SB = 's_writers';
export const UMOUNT = 's_umount';

/** An event name owned by one thread. */
export const ev = (thread: string, step: string) => `${thread}.${step}`;

/** A ->sync_fs/->freeze_fs/->unfreeze_fs hook: a compound state whose last steps target `exits.ok` (or `exits.err`). */
export type Hook = (exits: { ok: string; err: string }) => { initial: string; states: Record<string, any> };

// --------------------------------------------------------------------------------------------------
// sb->s_writers.frozen writes, with the P-F2 monitor (a history variable: the first illegal move).

/** Moves allowed by P-F2: the freeze ladder, thaw, and the unwind of a failed freeze. */
const LEGAL_MOVES = new Set(['0>1', '1>2', '2>3', '3>4', '4>0', '1>0', '2>0', '3>0']);

export interface SetFrozenParams {
  level: number;
  thread: string;
}

/**
 * `sb->s_writers.frozen = level`, plus the P-F2 monitor: records in `frozen_violation` the first write
 * that skips a level or goes backwards, or that is made without s_umount held for write.
 */
export const setFrozenAction = assign(({ context }: { context: Context }, p: SetFrozenParams) => {
  const from = context[SB].frozen as number;
  const patch = updateIn(context, SB, (s: any) => ({ ...s, frozen: p.level }));
  if (context.frozen_violation === null) {
    const owner = getIn(context, UMOUNT).owner;
    if (!LEGAL_MOVES.has(`${from}>${p.level}`)) {
      return { ...patch, frozen_violation: `${p.thread}: frozen ${SB_LEVEL_NAMES[from]} -> ${SB_LEVEL_NAMES[p.level]}` };
    }
    if (owner !== p.thread) {
      return { ...patch, frozen_violation: `${p.thread}: frozen = ${SB_LEVEL_NAMES[p.level]} without s_umount (owner ${owner})` };
    }
  }
  return patch;
});
const setFrozen = (level: number, thread: string) => ({ type: 'sbf_set_frozen', params: { level, thread } });

/** Named actions/guards/waits this file's fragments use, to spread into setup() and the model's waits. */
export const freezeActions = {
  sbf_set_frozen: setFrozenAction,
  // a boolean context flag (e.g. "the FIFREEZE ioctl returned") set to true/false
  sbf_set_flag: assign(({ context }: { context: Context }, p: { flag: string; value: any }) => updateIn(context, p.flag, () => p.value)),
};
export const freezeGuards = {
  // sb->s_writers.frozen != level (thaw_super_locked's -EINVAL test)
  sbf_frozen_is_not: ({ context }: { context: Context }, p: { level: number }) => context[SB].frozen !== p.level,
  // a context flag equals a value (e.g. the thawer's "FIFREEZE returned" wait)
  sbf_flag_is: ({ context }: { context: Context }, p: { flag: string; value: any; waitFor?: string; holders?: string[] }) =>
    getIn(context, p.flag) === p.value,
};
export const freezeWaits = {
  sbf_flag_is: (context: Context, p: { flag: string; value: any; waitFor?: string; holders?: string[] }): WaitInfo | null =>
    getIn(context, p.flag) === p.value
      ? null
      : { resource: p.waitFor ?? p.flag, kind: 'event', mode: 'wait', holders: p.holders ?? [] },
};
export const setFlag = (flag: string, value: any) => ({ type: 'sbf_set_flag', params: { flag, value } });
export const flagIs = (flag: string, value: any, waitFor?: string, holders?: string[]) => ({
  type: 'sbf_flag_is',
  params: { flag, value, waitFor, holders },
});

/** Initial context slices: s_umount, s_writers, and the P-F2 monitor. */
export function freezeContext() {
  return {
    s_umount: rwsem(),
    s_writers: sbWriters(),
    frozen_violation: null as string | null,
  };
}

// --------------------------------------------------------------------------------------------------
// freeze_super()

export interface FreezeSuperOptions {
  thread: string;
  /** Prefix of the state ids (unique per call site: a thread may call freeze_super more than once). */
  id: string;
  /** Target after `return 0` and after an error return. */
  ok: string;
  err: string;
  okActions?: any[];
  errActions?: any[];
  /** V1-2: F6/F8 removed, s_umount stays write-held across the SB_FREEZE_WRITE wait. */
  keepUmountAcrossWriteWait?: boolean;
  /** ->sync_fs inside sync_filesystem() (F11); default: one step. */
  syncFs?: Hook;
  /** ->freeze_fs (F14); default: one step that succeeds, plus a failing one when freezeFsMayFail. */
  freezeFs?: Hook;
  freezeFsMayFail?: boolean;
}

/** The waiting state of sb_wait_write(level) inside freeze_super, for P-F1 ("has the freezer finished draining?"). */
export const WAIT_STATE: Record<number, string> = {
  [SB_FREEZE_WRITE]: 'F7_sb_wait_write_WRITE',
  [SB_FREEZE_PAGEFAULT]: 'F10_sb_wait_write_PAGEFAULT',
  [SB_FREEZE_FS]: 'F13_sb_wait_write_FS',
};

/**
 * freeze_super(sb) as a compound state (fs/super.c, KERNEL.md 1(c) F1..F15). F2..F4 (EBUSY, !SB_BORN,
 * sb_rdonly) are not modelled: each model has one freezer at a time on a born, read-write superblock.
 */
export function freezeSuperState(o: FreezeSuperOptions) {
  const t = o.thread;
  const id = (s: string) => `${t}-${o.id}-${s}`;
  const to = (s: string) => `#${id(s)}`;
  const waitLevel = (F: string, level: number, next: string) => ({
    id: id(F.split('_')[0]),
    initial: 'block',
    states: {
      // sb_wait_write() -> percpu_down_write(): writer ownership, block = 1 (new sb_start_* sleep from now on)
      block: { on: { [ev(t, `${F.split('_')[0]}_percpu_down_write_${SB_LEVEL_NAMES[level].slice(10)}`)]: { ...sb_wait_write_block(SB, level, t), target: 'drain' } } },
      // percpu_down_write(): rcuwait_wait_event(readers_active_check()): wait for the holders to leave
      drain: { on: { [ev(t, `${F.split('_')[0]}_drained_${SB_LEVEL_NAMES[level].slice(10)}`)]: { ...sb_wait_write_drain(SB, level, t), target: next } } },
    },
  });
  const keep = !!o.keepUmountAcrossWriteWait;
  const states: Record<string, any> = {
    // freeze_super(): atomic_inc(&sb->s_active); down_write(&sb->s_umount)
    F1_down_write_s_umount: {
      id: id('F1'),
      on: { [ev(t, 'F1_down_write_s_umount')]: { ...down_write(UMOUNT, t), target: to('F5') } },
    },
    // freeze_super(): sb->s_writers.frozen = SB_FREEZE_WRITE ("from now on, no new normal writers can start")
    F5_frozen_WRITE: {
      id: id('F5'),
      on: { [ev(t, 'F5_frozen_WRITE')]: { actions: [setFrozen(SB_FREEZE_WRITE, t)], target: keep ? to('F7') : to('F6') } },
    },
    // freeze_super(): up_write(&sb->s_umount) "to preserve sb_start_write -> s_umount ordering"
    ...(keep
      ? {}
      : {
          F6_up_write_s_umount: {
            id: id('F6'),
            on: { [ev(t, 'F6_up_write_s_umount')]: { ...up_write(UMOUNT, t), target: to('F7') } },
          },
        }),
    // freeze_super(): sb_wait_write(sb, SB_FREEZE_WRITE)
    F7_sb_wait_write_WRITE: waitLevel('F7_sb_wait_write_WRITE', SB_FREEZE_WRITE, keep ? to('F9') : to('F8')),
    ...(keep
      ? {}
      : {
          // freeze_super(): down_write(&sb->s_umount) ("now we go and block page faults")
          F8_down_write_s_umount: {
            id: id('F8'),
            on: { [ev(t, 'F8_down_write_s_umount')]: { ...down_write(UMOUNT, t), target: to('F9') } },
          },
        }),
    // freeze_super(): sb->s_writers.frozen = SB_FREEZE_PAGEFAULT
    F9_frozen_PAGEFAULT: {
      id: id('F9'),
      on: { [ev(t, 'F9_frozen_PAGEFAULT')]: { actions: [setFrozen(SB_FREEZE_PAGEFAULT, t)], target: to('F10') } },
    },
    // freeze_super(): sb_wait_write(sb, SB_FREEZE_PAGEFAULT)
    F10_sb_wait_write_PAGEFAULT: waitLevel('F10_sb_wait_write_PAGEFAULT', SB_FREEZE_PAGEFAULT, to('F11')),
    // freeze_super(): sync_filesystem(sb) -> ->sync_fs(sb, 0), ->sync_fs(sb, 1)
    F11_sync_filesystem: o.syncFs
      ? { id: id('F11'), ...o.syncFs({ ok: to('F12'), err: to('F12') }) }
      : { id: id('F11'), on: { [ev(t, 'F11_sync_filesystem')]: { target: to('F12') } } },
    // freeze_super(): sb->s_writers.frozen = SB_FREEZE_FS
    F12_frozen_FS: {
      id: id('F12'),
      on: { [ev(t, 'F12_frozen_FS')]: { actions: [setFrozen(SB_FREEZE_FS, t)], target: to('F13') } },
    },
    // freeze_super(): sb_wait_write(sb, SB_FREEZE_FS) (waits for sb_start_intwrite holders)
    F13_sb_wait_write_FS: waitLevel('F13_sb_wait_write_FS', SB_FREEZE_FS, to('F14')),
    // freeze_super(): ret = sb->s_op->freeze_fs(sb)
    F14_freeze_fs: o.freezeFs
      ? { id: id('F14'), ...o.freezeFs({ ok: to('F15'), err: to('F14e') }) }
      : {
          id: id('F14'),
          on: {
            [ev(t, 'F14_freeze_fs')]: { target: to('F15') },
            ...(o.freezeFsMayFail ? { [ev(t, 'F14_freeze_fs_fails')]: { target: to('F14e') } } : {}),
          },
        },
    // freeze_super(), ->freeze_fs failed: frozen = SB_UNFROZEN; sb_freeze_unlock(); wake_up(wait_unfrozen);
    // deactivate_locked_super() (drops s_umount). One step: all of it runs under s_umount held for write.
    F14_unwind: {
      id: id('F14e'),
      on: {
        [ev(t, 'F14_unwind_frozen_UNFROZEN_sb_freeze_unlock')]: {
          actions: [setFrozen(SB_UNFROZEN, t), ...sb_freeze_unlock(SB, t).actions!, ...up_write(UMOUNT, t).actions!, ...(o.errActions ?? [])],
          target: o.err,
        },
      },
    },
    // freeze_super(): frozen = SB_FREEZE_COMPLETE; lockdep_sb_freeze_release(); up_write(&sb->s_umount); return 0
    // (all three percpu rwsems stay write-held until thaw_super)
    F15_frozen_COMPLETE: {
      id: id('F15'),
      on: {
        [ev(t, 'F15_frozen_COMPLETE_up_write_s_umount')]: {
          actions: [setFrozen(SB_FREEZE_COMPLETE, t), ...up_write(UMOUNT, t).actions!, ...(o.okActions ?? [])],
          target: o.ok,
        },
      },
    },
  };
  return { initial: 'F1_down_write_s_umount', states };
}

// --------------------------------------------------------------------------------------------------
// thaw_super()

export interface ThawSuperOptions {
  thread: string;
  id: string;
  ok: string;
  err: string;
  okActions?: any[];
  errActions?: any[];
  /** ->unfreeze_fs (T5); default: not present. */
  unfreezeFs?: Hook;
}

/** thaw_super(sb) -> thaw_super_locked(sb) (fs/super.c, KERNEL.md 1(c) T1..T7; T3 sb_rdonly not modelled). */
export function thawSuperState(o: ThawSuperOptions) {
  const t = o.thread;
  const id = (s: string) => `${t}-${o.id}-${s}`;
  const to = (s: string) => `#${id(s)}`;
  const afterCheck = o.unfreezeFs ? to('T5') : to('T6');
  const states: Record<string, any> = {
    // thaw_super(): down_write(&sb->s_umount)
    T1_down_write_s_umount: {
      id: id('T1'),
      on: { [ev(t, 'T1_down_write_s_umount')]: { ...down_write(UMOUNT, t), target: to('T2') } },
    },
    // thaw_super_locked(): if (sb->s_writers.frozen != SB_FREEZE_COMPLETE) { up_write; return -EINVAL; }
    T2_check_frozen: {
      id: id('T2'),
      on: {
        [ev(t, 'T2_frozen_is_COMPLETE')]: { guard: sb_frozen_is(SB, SB_FREEZE_COMPLETE), target: afterCheck },
        [ev(t, 'T2_EINVAL_up_write_s_umount')]: {
          guard: { type: 'sbf_frozen_is_not', params: { level: SB_FREEZE_COMPLETE } },
          actions: [...up_write(UMOUNT, t).actions!, ...(o.errActions ?? [])],
          target: o.err,
        },
      },
    },
    // thaw_super_locked(): frozen = SB_UNFROZEN; sb_freeze_unlock(sb) (percpu_up_write FS, PAGEFAULT, WRITE).
    // One step, as P-F3 allows: nobody can observe the write of frozen before the rwsems are released.
    T6_frozen_UNFROZEN_sb_freeze_unlock: {
      id: id('T6'),
      on: {
        [ev(t, 'T6_frozen_UNFROZEN_sb_freeze_unlock')]: {
          actions: [setFrozen(SB_UNFROZEN, t), ...sb_freeze_unlock(SB, t).actions!],
          target: to('T7'),
        },
      },
    },
    // thaw_super_locked(): wake_up(&sb->s_writers.wait_unfrozen); deactivate_locked_super(sb) (drops s_umount)
    T7_up_write_s_umount: {
      id: id('T7'),
      on: { [ev(t, 'T7_wake_up_deactivate_locked_super')]: { actions: [...up_write(UMOUNT, t).actions!, ...(o.okActions ?? [])], target: o.ok } },
    },
  };
  if (o.unfreezeFs) {
    // ->unfreeze_fs(sb); on error: lockdep_sb_freeze_release; up_write(&sb->s_umount); return err (stays frozen)
    states.T5_unfreeze_fs = { id: id('T5'), ...o.unfreezeFs({ ok: to('T6'), err: to('T5e') }) };
    states.T5_unfreeze_fs_failed = {
      id: id('T5e'),
      on: { [ev(t, 'T5_unfreeze_fs_failed_up_write_s_umount')]: { actions: [...up_write(UMOUNT, t).actions!, ...(o.errActions ?? [])], target: o.err } },
    };
  }
  return { initial: 'T1_down_write_s_umount', states };
}


// --------------------------------------------------------------------------------------------------
// The FIFREEZE / FITHAW user program as two threads: `freezer` runs freeze_super(); `thawer` waits for the
// FIFREEZE ioctl to return (flag fifreeze_returned) and runs thaw_super(). The thawer never races a
// partial freeze: a FITHAW before FIFREEZE returns gets -EINVAL and would leave the fs frozen forever,
// a user error the model does not explore.

export interface FreezerThreadOptions {
  keepUmountAcrossWriteWait?: boolean;
  freezeFsMayFail?: boolean;
  freezeFs?: Hook;
  /** Entry actions of the thread's final states (e.g. a live-thread counter). */
  finalEntry?: any[];
}

/** FIFREEZE -> freeze_super(sb): thread `freezer`, final states `returned` (0) and `failed` (->freeze_fs error). */
export function freezerThread(o: FreezerThreadOptions = {}) {
  const entry = o.finalEntry ?? [];
  return {
    initial: 'freeze_super',
    states: {
      freeze_super: freezeSuperState({
        thread: 'freezer',
        id: 'fs',
        ok: '#freezer-returned',
        err: '#freezer-failed',
        okActions: [setFlag('fifreeze_returned', true)],
        errActions: [setFlag('fifreeze_returned', true)],
        keepUmountAcrossWriteWait: o.keepUmountAcrossWriteWait,
        freezeFsMayFail: o.freezeFsMayFail,
        freezeFs: o.freezeFs,
      }),
      returned: { id: 'freezer-returned', type: 'final', entry },
      failed: { id: 'freezer-failed', type: 'final', entry },
    },
  };
}

/** FITHAW -> thaw_super(sb) once FIFREEZE returned: thread `thawer`, final states `done` and `einval` (or ->unfreeze_fs error). */
export function thawerThread(o: { unfreezeFs?: Hook; finalEntry?: any[] } = {}) {
  const entry = o.finalEntry ?? [];
  return {
    initial: 'wait_fifreeze',
    states: {
      wait_fifreeze: {
        on: {
          [ev('thawer', 'FITHAW')]: {
            guard: flagIs('fifreeze_returned', true, 'FIFREEZE ioctl to return', ['freezer']),
            target: 'thaw_super',
          },
        },
      },
      thaw_super: thawSuperState({ thread: 'thawer', id: 'ts', ok: '#thawer-done', err: '#thawer-einval', unfreezeFs: o.unfreezeFs }),
      done: { id: 'thawer-done', type: 'final', entry },
      einval: { id: 'thawer-einval', type: 'final', entry },
    },
  };
}

// --------------------------------------------------------------------------------------------------
// Write sections: the compound states that hold one freeze level (their names are what P-F1 looks for).

export const SECTION: Record<number, string> = {
  [SB_FREEZE_WRITE]: 'in_sb_write',
  [SB_FREEZE_PAGEFAULT]: 'in_sb_pagefault',
  [SB_FREEZE_FS]: 'in_sb_intwrite',
};
export const sbStart: Record<number, (sb: string, thread: string) => any> = {
  [SB_FREEZE_WRITE]: sb_start_write,
  [SB_FREEZE_PAGEFAULT]: sb_start_pagefault,
  [SB_FREEZE_FS]: sb_start_intwrite,
};
export const sbEnd: Record<number, (sb: string, thread: string) => any> = {
  [SB_FREEZE_WRITE]: sb_end_write,
  [SB_FREEZE_PAGEFAULT]: sb_end_pagefault,
  [SB_FREEZE_FS]: sb_end_intwrite,
};

/**
 * One writer that holds freeze level `level` around its work: idle -> sb_start_*() -> work -> sb_end_*() -> done.
 * `needsUmount`: inside sb_start_write it takes s_umount for read (the documented order
 * sb_start_write -> i_mutex -> s_umount that freeze_super's F6 protects), as e.g. a write path that
 * kicks writeback_inodes_sb() does.
 */
export function writerThread(thread: string, level: number, work: string, needsUmount = false) {
  const start = level === SB_FREEZE_WRITE ? 'sb_start_write' : level === SB_FREEZE_PAGEFAULT ? 'sb_start_pagefault' : 'sb_start_intwrite';
  const end = start.replace('start', 'end');
  const section: Record<string, any> = needsUmount
    ? {
        initial: 'down_read_s_umount',
        states: {
          // down_read(&sb->s_umount) while inside sb_start_write()
          down_read_s_umount: { on: { [ev(thread, 'down_read_s_umount')]: { ...down_read(UMOUNT, thread), target: 's_umount_held' } } },
          // up_read(&sb->s_umount)
          s_umount_held: { on: { [ev(thread, 'up_read_s_umount')]: { ...up_read(UMOUNT, thread), target: work } } },
          [work]: { on: { [ev(thread, end)]: { ...sbEnd[level](SB, thread), target: `#${thread}-done` } } },
        },
      }
    : {
        initial: work,
        states: { [work]: { on: { [ev(thread, end)]: { ...sbEnd[level](SB, thread), target: `#${thread}-done` } } } },
      };
  return {
    initial: 'idle',
    states: {
      // __sb_start_write(sb, level) = percpu_down_read(sb->s_writers.rw_sem + level - 1)
      idle: { on: { [ev(thread, start)]: { ...sbStart[level](SB, thread), target: SECTION[level] } } },
      [SECTION[level]]: section,
      done: { id: `${thread}-done`, type: 'final' },
    },
  };
}

/** True when thread location `loc` is inside a section holding `level`. */
export const inSection = (loc: string, level: number) => loc.split('.').includes(SECTION[level]);

// --------------------------------------------------------------------------------------------------
// P-F1..P-F3 (KERNEL.md 1(e))

/** rw_sem[level-1] is write-held by a task that has finished draining it (sb_wait_write(level) returned). */
export function levelFrozen(ctx: Context, threads: ThreadLocations, level: number): boolean {
  if (ctx[SB].rw_sem[level - 1].writer === null) return false;
  return !Object.values(threads).some((loc) => loc.split('.').includes(WAIT_STATE[level]));
}

export const freezeInvariants = {
  // P-F1 quiescence: once sb_wait_write(L) has returned (and until the level is released) nobody holds L,
  // neither in the rwsem's reader set nor by thread location; while frozen == SB_FREEZE_COMPLETE no
  // thread is inside any write section.
  'P-F1': (ctx: Context, threads: ThreadLocations) => {
    const locs = Object.values(threads);
    for (const level of [SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS]) {
      if (!levelFrozen(ctx, threads, level)) continue;
      if (ctx[SB].rw_sem[level - 1].readers.length > 0) return false;
      if (locs.some((l) => inSection(l, level))) return false;
    }
    if (ctx[SB].frozen === SB_FREEZE_COMPLETE) {
      if (locs.some((l) => inSection(l, SB_FREEZE_WRITE) || inSection(l, SB_FREEZE_PAGEFAULT) || inSection(l, SB_FREEZE_FS))) return false;
    }
    return true;
  },
  // P-F2: frozen moves only UNFROZEN->WRITE->PAGEFAULT->FS->COMPLETE->UNFROZEN (or back to UNFROZEN on a
  // failed freeze), and every write of it is made with s_umount held for write (see setFrozenAction).
  'P-F2': (ctx: Context) => ctx.frozen_violation === null,
  // P-F3: frozen == SB_UNFROZEN implies no freeze level is write-held.
  'P-F3': (ctx: Context) => ctx[SB].frozen !== SB_UNFROZEN || ctx[SB].rw_sem.every((s: any) => s.writer === null),
};

export { SB_FREEZE_COMPLETE, SB_FREEZE_FS, SB_FREEZE_PAGEFAULT, SB_FREEZE_WRITE, SB_UNFROZEN };
