// freeze_super()/thaw_super() thread fragments, sb write sections and the P-F1..P-F3 checks, shared by the
// sb-freeze, bcachefs-freeze and file-write-freeze models (fs/super.c, 5.x version quoted in KERNEL.md 1(c)).
//
// Built on the kernel primitives (machines/kernel: the s_umount rwsem, the sb_writers percpu rwsems and the
// freeze_super/thaw_super fragments of machines/kernel/freeze.ts). This file wraps the fragments as compound
// states (a thread may call freeze_super twice; ->freeze_fs / ->unfreeze_fs hooks are whole sub-programs)
// and adds the P-F2 monitor on every write of sb->s_writers.frozen.
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
  freezeSuperStates as kernelFreezeSuperStates,
  thawSuperStates as kernelThawSuperStates,
  getIn,
  rwsem,
  sbWriters,
  sb_end_intwrite,
  sb_end_pagefault,
  sb_end_write,
  sb_start_intwrite,
  sb_start_pagefault,
  sb_start_write,
  up_read,
  updateIn,
  rwsemOwner,
  sbFrozen,
  sbLevelReaders,
  sbLevelWriter,
  sbSetFrozenPatch,
} from '../kernel/index.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareInvariants, declareLowerings } from '../../explorer/compile/lower/declared.ts';

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
  sb: string;
  level: number;
}

/**
 * `sb->s_writers.frozen = level`, plus the P-F2 monitor: records in `frozen_violation` the first write
 * that skips a level or goes backwards, or that is made while nobody holds s_umount for write (only the
 * freezer and the thawer ever take it for write here). Registered under the kernel's action name
 * `sb_set_frozen`, so the kernel freeze_super/thaw_super fragments go through it.
 */
export const setFrozenAction = assign(({ context }: { context: Context }, p: SetFrozenParams) => {
  const from = sbFrozen(context, p.sb);
  const patch = sbSetFrozenPatch(context, p.sb, p.level);
  if (context.frozen_violation === null) {
    const owner = rwsemOwner(context, UMOUNT);
    if (!LEGAL_MOVES.has(`${from}>${p.level}`)) {
      return { ...patch, frozen_violation: `frozen ${SB_LEVEL_NAMES[from]} -> ${SB_LEVEL_NAMES[p.level]}` };
    }
    if (owner === null) {
      return { ...patch, frozen_violation: `frozen = ${SB_LEVEL_NAMES[p.level]} without s_umount held for write` };
    }
  }
  return patch;
});

/** Named actions/guards/waits this file's fragments use, to spread into setup() and the model's waits. */
export const freezeActions = {
  sb_set_frozen: setFrozenAction,
  // a boolean context flag (e.g. "the FIFREEZE ioctl returned") set to true/false
  sbf_set_flag: assign(({ context }: { context: Context }, p: { flag: string; value: any }) => updateIn(context, p.flag, () => p.value)),
};
export const freezeGuards = {
  // a context flag equals a value (e.g. the thawer's "FIFREEZE returned" wait)
  sbf_flag_is: ({ context }: { context: Context }, p: { flag: string; value: any; waitFor?: string; holders?: string[] }) =>
    getIn(context, p.flag) === p.value,
};
// Footprints for --reduce por (explorer/reduce/declare.ts).
declareFootprints(freezeActions, {
  sb_set_frozen: { reads: [`${UMOUNT}.owner`], writes: ['{sb}.frozen', 'frozen_violation'] },
  sbf_set_flag: { writes: ['{flag}'] },
});
declareFootprints(freezeGuards, { sbf_flag_is: { reads: ['{flag}'] } });
// Declared lowerings (explorer/compile/lower/declared.ts): the same as the functions, on the packed words. The
// monitor's write of a violation BAILs (the function runs and records it): it happens once on a violating path.
declareLowerings(freezeActions, {
  sb_set_frozen: (p: SetFrozenParams) => {
    const legalFrom = [0, 1, 2, 3, 4].filter((from) => LEGAL_MOVES.has(`${from}>${p.level}`));
    const from = L.read(p.sb, 'frozen');
    const legal = legalFrom.length ? L.or(...legalFrom.map((v) => L.eq(from, L.lit(v)))) : L.lit(false);
    return [
      L.check(L.or(L.ne(L.read('frozen_violation'), L.lit(null)), L.and(legal, L.ne(L.read(UMOUNT, 'owner'), L.lit(null))))),
      L.set(L.path(p.sb, 'frozen'), p.level),
    ];
  },
  sbf_set_flag: (p: { flag: string; value: any }) => [L.set(L.path(p.flag), p.value)],
});
declareLowerings(freezeGuards, { sbf_flag_is: (p: { flag: string; value: any }) => L.eq(L.read(p.flag), L.lit(p.value)) });
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

/** Trace columns shown on every row: the superblock's freeze level by its SB_* name. */
export const freezeWatch = {
  frozen: (ctx: Context) => SB_LEVEL_NAMES[sbFrozen(ctx, SB)] ?? String(sbFrozen(ctx, SB)),
};

/**
 * Initial context slices: s_umount, s_writers, and the P-F2 monitor. `thawer`: the thread that calls
 * thaw_super() (reports show a thread blocked on a frozen level waiting for it).
 */
export function freezeContext(thawer: string) {
  return {
    s_umount: rwsem(),
    s_writers: sbWriters({ thawer }),
    frozen_violation: null as string | null,
  };
}

// --------------------------------------------------------------------------------------------------
// freeze_super() / thaw_super(): the kernel fragments (machines/kernel/freeze.ts, F1..F15 and T1..T7 of
// KERNEL.md 1(c), each state commented there with the fs/super.c code it mirrors), wrapped as one
// compound state so a thread can call them more than once and a hook can be a whole sub-program.

export interface FreezeSuperOptions {
  thread: string;
  /** Unique per call site in the thread (a thread may call freeze_super more than once): part of the state ids. */
  id: string;
  /** Targets (`#id`) after `return 0` and after an error return (-EBUSY at F2, sync_filesystem or ->freeze_fs failed). */
  ok: string;
  err: string;
  okActions?: any[];
  errActions?: any[];
  /** V1-2: F6/F8 removed, s_umount stays write-held across the SB_FREEZE_WRITE wait. */
  keepUmountAcrossWriteWait?: boolean;
  /** ->freeze_fs (F14) as a sub-program; default: absent, or one step when freezeFsMayFail. */
  freezeFs?: Hook;
  freezeFsMayFail?: boolean;
  /** sync_filesystem() may fail at F11: freeze_super unwinds there (v5.17+, 2719c7160dcf; see machines/kernel/freeze.ts). */
  syncMayFail?: boolean;
}

/** Gives every fragment state an id `${thread}-${call}-${name}`, so nested hooks can target them. */
function withIds(thread: string, call: string, states: Record<string, any>) {
  const out: Record<string, any> = {};
  for (const [name, st] of Object.entries(states)) out[name] = { id: `${thread}-${call}-${name}`, ...st };
  return out;
}

/** Appends actions to every transition of `state` that targets `target` (the fragment's return transitions). */
function addActionsOn(state: any, target: string, extra: any[] | undefined) {
  if (!extra || extra.length === 0) return;
  for (const t of Object.values(state.on ?? {})) {
    for (const tr of (Array.isArray(t) ? t : [t]) as any[]) {
      if (tr.target === target) tr.actions = [...(tr.actions ?? []), ...extra];
    }
  }
}

/** The compound state name of a hook inside the fragment. */
const HOOK = { freezeFs: 'F14_freeze_fs_hook', unfreezeFs: 'T5_unfreeze_fs_hook' };

/** freeze_super(sb) (fs/super.c, 5.x) as a compound state; see kernelFreezeSuperStates for the steps. */
export function freezeSuperState(o: FreezeSuperOptions) {
  const t = o.thread;
  const frag = kernelFreezeSuperStates({
    thread: t,
    next: o.ok,
    busy: o.err,
    failed: o.err,
    sb: SB,
    s_umount: UMOUNT,
    keepUmount: !!o.keepUmountAcrossWriteWait,
    freeze_fs: o.freezeFs ? { enter: HOOK.freezeFs } : o.freezeFsMayFail ? { mayFail: true } : undefined,
    syncMayFail: o.syncMayFail,
  });
  const n = frag.names;
  return finishFragment(o, frag, o.freezeFs && { key: HOOK.freezeFs, build: o.freezeFs, ok: n.afterFreezeFs, err: n.freezeFsFailed });
}

export interface ThawSuperOptions {
  thread: string;
  id: string;
  ok: string;
  err: string;
  okActions?: any[];
  errActions?: any[];
  /** ->unfreeze_fs (T5) as a sub-program; default: absent. */
  unfreezeFs?: Hook;
}

/** thaw_super(sb) -> thaw_super_locked(sb) (fs/super.c, 5.x) as a compound state. */
export function thawSuperState(o: ThawSuperOptions) {
  const t = o.thread;
  const frag = kernelThawSuperStates({
    thread: t,
    next: o.ok,
    einval: o.err,
    failed: o.err,
    sb: SB,
    s_umount: UMOUNT,
    unfreeze_fs: o.unfreezeFs ? { enter: HOOK.unfreezeFs } : undefined,
  });
  const n = frag.names;
  return finishFragment(o, frag, o.unfreezeFs && { key: HOOK.unfreezeFs, build: o.unfreezeFs, ok: n.afterUnfreezeFs, err: n.unfreezeFsFailed });
}

/**
 * The shared tail of freezeSuperState/thawSuperState: ids on the fragment's states, the filesystem hook's
 * sub-program (returning to the fragment's ok/err states), and the caller's actions on the exits.
 */
function finishFragment(
  o: { thread: string; id: string; ok: string; err: string; okActions?: any[]; errActions?: any[] },
  frag: { initial: string; states: Record<string, any> },
  hook: { key: string; build: Hook; ok: string; err: string } | undefined,
) {
  const states = withIds(o.thread, o.id, frag.states);
  if (hook) states[hook.key] = hook.build({ ok: `#${o.thread}-${o.id}-${hook.ok}`, err: `#${o.thread}-${o.id}-${hook.err}` });
  for (const st of Object.values(states)) {
    addActionsOn(st, o.ok, o.okActions);
    addActionsOn(st, o.err, o.errActions);
  }
  return { initial: frag.initial, states };
}

/** The drain state of sb_wait_write(level) in the kernel fragment (suffix of its state name), for P-F1. */
export const DRAIN_STATE: Record<number, string> = {
  [SB_FREEZE_WRITE]: 'F7_sb_wait_write_drain',
  [SB_FREEZE_PAGEFAULT]: 'F10_sb_wait_pagefault_drain',
  [SB_FREEZE_FS]: 'F13_sb_wait_fs_drain',
};
/** True when thread location `loc` is sb_wait_write(level) still waiting for the readers to drain. */
export const isDraining = (loc: string, level: number) => loc.endsWith(DRAIN_STATE[level]);

// --------------------------------------------------------------------------------------------------
// The FIFREEZE / FITHAW user program as two threads: `freezer` runs freeze_super(); `thawer` waits for the
// FIFREEZE ioctl to return (flag fifreeze_returned) and runs thaw_super(). The thawer never races a
// partial freeze: a FITHAW before FIFREEZE returns gets -EINVAL and would leave the fs frozen forever,
// a user error the model does not explore.

export interface FreezerThreadOptions {
  keepUmountAcrossWriteWait?: boolean;
  freezeFsMayFail?: boolean;
  syncMayFail?: boolean;
  freezeFs?: Hook;
  /** Entry actions of the thread's final states (e.g. a live-thread counter). */
  finalEntry?: any[];
}

/** FIFREEZE -> freeze_super(sb): thread `freezer`, final states `returned` (0) and `failed` (sync_filesystem or ->freeze_fs error). */
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
        syncMayFail: o.syncMayFail,
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
 * `needsUmount`: inside sb_start_write it takes s_umount for read with a blocking down_read (the order
 * sb_start_write -> i_mutex -> s_umount that freeze_super's F6 protects). The in-tree 5.x write-path user of
 * that order, try_to_writeback_inodes_sb() (fs/fs-writeback.c; e.g. ext4's delalloc ENOSPC path), takes it
 * with down_read_trylock(&sb->s_umount) and skips the writeback when that fails, so it cannot block on a
 * freezer; writeback_inodes_sb() itself does not take s_umount (it WARNs unless the caller holds it).
 */
export function writerThread(thread: string, level: number, work: string, needsUmount = false) {
  const start = level === SB_FREEZE_WRITE ? 'sb_start_write' : level === SB_FREEZE_PAGEFAULT ? 'sb_start_pagefault' : 'sb_start_intwrite';
  const end = start.replace('start', 'end');
  // the work inside the section (vfs_write -> ->write_iter, ->page_mkwrite, a transaction), then
  // __sb_end_write(sb, level) = percpu_up_read(sb->s_writers.rw_sem + level - 1)
  const body = { on: { [ev(thread, end)]: { ...sbEnd[level](SB, thread), target: `#${thread}-done` } } };
  const section: Record<string, any> = needsUmount
    ? {
        initial: 'down_read_s_umount',
        states: {
          // down_read(&sb->s_umount) while inside sb_start_write()
          down_read_s_umount: { on: { [ev(thread, 'down_read_s_umount')]: down_read(UMOUNT, thread, 's_umount_held') } },
          // up_read(&sb->s_umount)
          s_umount_held: { on: { [ev(thread, 'up_read_s_umount')]: { ...up_read(UMOUNT, thread), target: work } } },
          [work]: body,
        },
      }
    : {
        initial: work,
        states: { [work]: body },
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
  if (sbLevelWriter(ctx, SB, level) === null) return false;
  return !Object.values(threads).some((loc) => isDraining(loc, level));
}

export const freezeInvariants = {
  // P-F1 quiescence: once sb_wait_write(L) has returned (and until the level is released) nobody holds L,
  // neither in the rwsem's reader set nor by thread location; while frozen == SB_FREEZE_COMPLETE no
  // thread is inside any write section.
  'P-F1': (ctx: Context, threads: ThreadLocations) => {
    const locs = Object.values(threads);
    for (const level of [SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS]) {
      if (!levelFrozen(ctx, threads, level)) continue;
      if (sbLevelReaders(ctx, SB, level).length > 0) return false;
      if (locs.some((l) => inSection(l, level))) return false;
    }
    if (sbFrozen(ctx, SB) === SB_FREEZE_COMPLETE) {
      if (locs.some((l) => inSection(l, SB_FREEZE_WRITE) || inSection(l, SB_FREEZE_PAGEFAULT) || inSection(l, SB_FREEZE_FS))) return false;
    }
    return true;
  },
  // P-F2: frozen moves only UNFROZEN->WRITE->PAGEFAULT->FS->COMPLETE->UNFROZEN (or back to UNFROZEN on a
  // failed freeze), and every write of it is made with s_umount held for write
  // (see setFrozenAction).
  'P-F2': (ctx: Context) => ctx.frozen_violation === null,
  // P-F3: frozen == SB_UNFROZEN implies no freeze level is write-held.
  'P-F3': (ctx: Context) => sbFrozen(ctx, SB) !== SB_UNFROZEN || [SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS].every((l) => sbLevelWriter(ctx, SB, l) === null),
};

// The invariants on the packed words (explorer/properties/words.ts): the same truth as the functions above.
const LEVELS = [SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS];
const dLevelWriter = (level: number) => L.read(SB, 'rw_sem', level - 1, 'writer');
const dLevelFrozen = (level: number) => L.and(L.ne(dLevelWriter(level), L.lit(null)), L.not(L.someThread((_t, loc) => isDraining(loc, level))));
declareInvariants(freezeInvariants, {
  'P-F1': () =>
    L.and(
      ...LEVELS.map((level) =>
        L.or(L.not(dLevelFrozen(level)), L.and(L.eq(L.len(L.path(SB, 'rw_sem', level - 1, 'readers')), L.lit(0)), L.not(L.someThread((_t, loc) => inSection(loc, level))))),
      ),
      L.or(L.ne(L.read(SB, 'frozen'), L.lit(SB_FREEZE_COMPLETE)), L.not(L.someThread((_t, loc) => LEVELS.some((level) => inSection(loc, level))))),
    ),
  'P-F2': () => L.eq(L.read('frozen_violation'), L.lit(null)),
  'P-F3': () => L.or(L.ne(L.read(SB, 'frozen'), L.lit(SB_UNFROZEN)), L.and(...LEVELS.map((level) => L.eq(dLevelWriter(level), L.lit(null))))),
});

export { SB_FREEZE_COMPLETE, SB_FREEZE_FS, SB_FREEZE_PAGEFAULT, SB_FREEZE_WRITE, SB_UNFROZEN };
