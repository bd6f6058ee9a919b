// freeze_super() / thaw_super() (fs/super.c, 5.x) as reusable state fragments for a freezer/thawer thread.
//
// FRAGMENT API
// ------------
//   const fz = freezeSuperStates({ thread: 'freezer', next: 'frozen', ... });
//   const th = thawSuperStates({ thread: 'freezer', next: 'done', ... });
//   freezer: { initial: fz.initial, states: { ...fz.states, frozen: {...}, ...th.states, done: { type: 'final' } } }
//
// Each builder returns `{ initial, states, names }`: flat states to spread into the thread's `states`
// (targets are siblings, so the fragment and the model's own states live side by side), the first
// state's name, and the names of every state (use them to come back from a hook). Every state has
// exactly one event, `${thread}.${stateName}`, e.g. `freezer.F7_sb_wait_write`. State names carry the
// step labels of KERNEL.md 1(c) (F1..F15, T1..T7), with an optional `prefix` when a thread runs
// several freezes.
//
// Context: the sb_writers slice at `sb` (default "s_writers", build with sbWriters()) and the
// s_umount rwsem at `s_umount` (default "s_umount", build with rwsem()).
//
// Filesystem hooks (`sync_fs`, `freeze_fs`, `unfreeze_fs`), each one of:
//   undefined                      the op is absent (freeze_fs/unfreeze_fs) or a no-op step (sync_fs:
//                                  one state F11_sync_filesystem with no effect)
//   { actions?, guard?, mayFail? } one atomic step (state F11_sync_fs / F14_freeze_fs / T5_unfreeze_fs)
//                                  running `actions`, blocked until `guard` holds; `mayFail: true` adds
//                                  a failure branch as a second event `${thread}.${stepName}_error`, so both
//                                  outcomes are explored (for sync_fs: sync_filesystem() failing, below)
//   { enter: 'stateName' }         the filesystem's OWN states (siblings in the same thread): the fragment
//                                  goes to `enter`; the model's states must end by targeting
//                                  names.afterSyncFs / names.syncFailed / names.afterFreezeFs /
//                                  names.freezeFsFailed / names.afterUnfreezeFs / names.unfreezeFsFailed.
//
// sb_rdonly(sb) (fs/super.c v5.15): `rdonly` is a guard over the context (or `true`): F4 "Nothing to do
// really": frozen = SB_FREEZE_COMPLETE, up_write(&s_umount), return 0, no level taken; T3: frozen =
// SB_UNFROZEN and straight to T7 (no ->unfreeze_fs, no sb_freeze_unlock: the levels were never taken).
// Absent: the sb is read-write.
//
// Return hooks (`returns`): actions run on the step where the call returns, one list per return value:
// freeze_super { ok (0, F15 and F4), busy (-EBUSY, F2), failed (->freeze_fs error, F14) }, thaw_super
// { ok (0, T7), einval (-EINVAL, T2), failed (->unfreeze_fs error, T5) }. A model records what the ioctl
// returned this way instead of overwriting fragment states.
//
// freezeThenThawStates(): FIFREEZE then FITHAW as one thread's program (both fragments with their hooks).
// Declare the thawing thread in the context, sbWriters({ thawer }), so a thread blocked on a frozen level
// is reported as waiting for it.
//
// Not modelled: s_active references (no effect on the protocol here), SB_BORN (F3: always born),
// lockdep annotations (F15/T4), the >= 6.6 holders and wait_for_partially_frozen (F2 returns -EBUSY as in 5.x).
//
// The F11 failure (opt-in: `syncMayFail: true`, or a sync_fs step hook with `mayFail: true`; the model's own
// sync_fs states, with `syncMayFail: true`, target names.syncFailed): since 2719c7160dcf "vfs: make freeze_super abort when
// sync_filesystem returns error" (v5.17, backported to 5.10.y and 5.15.y; v5.15 itself ignores the error)
// freeze_super unwinds when sync_filesystem() fails: frozen = SB_UNFROZEN; sb_freeze_unlock(sb,
// SB_FREEZE_PAGEFAULT) (percpu_up_write of the PAGEFAULT then the WRITE level); wake_up_var(&frozen);
// deactivate_locked_super (drops s_umount); return ret; ->freeze_fs is not called. Without it sync never fails.
//
// Variant: `keepUmount: true` is the V1-2 bug: F6/F8 are removed, the freezer keeps s_umount held
// for write across the SB_FREEZE_WRITE wait (F7).
import { and } from 'xstate';
import { down_write, sbLevelLock, SB_FREEZE_COMPLETE, SB_FREEZE_FS, SB_FREEZE_PAGEFAULT, SB_FREEZE_WRITE, SB_UNFROZEN } from './locks.ts';
import { oneEvent } from './types.ts';

export type FsHook = undefined | { actions?: any[]; guard?: any; mayFail?: boolean } | { enter: string };

export interface FreezeOptions {
  /** The freezer thread (top-level region name). */
  thread: string;
  /** State to go to when freeze_super() returns 0. */
  next: string;
  /** State to go to on -EBUSY (F2: already frozen or being frozen). Default: `next`. */
  busy?: string;
  /** State to go to when ->freeze_fs() or sync_filesystem() fails (after the F14 or F11 unwind). Default: `next`. */
  failed?: string;
  /** Context path of sb_writers. Default "s_writers". */
  sb?: string;
  /** Context path of the s_umount rwsem. Default "s_umount". */
  s_umount?: string;
  /** Prefix of every state name (and so of every event). Default ''. */
  prefix?: string;
  sync_fs?: FsHook;
  /** sync_filesystem() may fail at F11 (v5.17+ unwind, see the header): a second event of the F11 step. */
  syncMayFail?: boolean;
  freeze_fs?: FsHook;
  /** V1-2 bug: keep s_umount across F7 (no F6 release, no F8 re-acquire). */
  keepUmount?: boolean;
  /** sb_rdonly(sb): a guard over the context, or true (F4). Absent: read-write. */
  rdonly?: any;
  /** Actions on the returning step, per return value. */
  returns?: { ok?: any[]; busy?: any[]; failed?: any[] };
}

export interface ThawOptions {
  thread: string;
  /** State to go to when thaw_super() returns 0. */
  next: string;
  /** State to go to on -EINVAL (T2: not frozen). Default: `next`. */
  einval?: string;
  /** State to go to when ->unfreeze_fs() fails (the fs stays frozen). Default: `next`. */
  failed?: string;
  sb?: string;
  s_umount?: string;
  prefix?: string;
  unfreeze_fs?: FsHook;
  /** sb_rdonly(sb): a guard over the context, or true (T3). Absent: read-write. */
  rdonly?: any;
  /** Actions on the returning step, per return value. */
  returns?: { ok?: any[]; einval?: any[]; failed?: any[] };
}

export interface Fragment {
  initial: string;
  states: Record<string, any>;
  names: Record<string, string>;
}

const frozenTo = (sb: string, level: number) => ({ type: 'sb_set_frozen', params: { sb, level } });
const frozenIs = (sb: string, level: number) => ({ type: 'sb_frozen_is', params: { sb, level } });
/** A guard that also needs sb_rdonly(sb) (`rdonly` true: the guard alone). */
const withRdonly = (guard: any, rdonly: any) => (rdonly === true ? guard : and([guard, rdonly]));
const upWrite = (lock: string, thread: string) => ({ type: 'rwsem_up_write', params: { lock, thread } });
const isHookStates = (h: FsHook): h is { enter: string } => !!h && 'enter' in h;

/**
 * The state(s) of one filesystem hook: returns the state name to enter (or `cont` when absent) and
 * adds the hook's step state when it is a step.
 */
function hookEntry(
  states: Record<string, any>,
  thread: string,
  hook: FsHook,
  stepName: string,
  cont: string,
  fail: string | null,
  absentIsStep: boolean,
): string {
  if (hook === undefined && !absentIsStep) return cont;
  if (isHookStates(hook)) return hook.enter;
  const h = hook ?? {};
  const ok: any = { actions: h.actions ?? [], target: cont };
  if (h.guard !== undefined) ok.guard = h.guard;
  states[stepName] = oneEvent(thread, stepName, ok);
  // failure is a second event of the same state, so the explorer takes both branches
  if (h.mayFail && fail) states[stepName].on[`${thread}.${stepName}_error`] = { target: fail };
  return stepName;
}

/** freeze_super(sb), fs/super.c, 5.x: F1..F15 of KERNEL.md 1(c). */
export function freezeSuperStates(o: FreezeOptions): Fragment {
  const sb = o.sb ?? 's_writers';
  const um = o.s_umount ?? 's_umount';
  const t = o.thread;
  const p = o.prefix ?? '';
  const n = {
    F1: `${p}F1_down_write_s_umount`,
    F2: `${p}F2_check_frozen`,
    F6: `${p}F6_up_write_s_umount`,
    F7: `${p}F7_sb_wait_write`,
    F7_drain: `${p}F7_sb_wait_write_drain`,
    F8: `${p}F8_down_write_s_umount`,
    F9: `${p}F9_frozen_pagefault`,
    F10: `${p}F10_sb_wait_pagefault`,
    F10_drain: `${p}F10_sb_wait_pagefault_drain`,
    F11: `${p}F11_${o.sync_fs === undefined ? 'sync_filesystem' : 'sync_fs'}`,
    F11_fail: `${p}F11_sync_filesystem_failed`,
    F12: `${p}F12_frozen_fs`,
    F13: `${p}F13_sb_wait_fs`,
    F13_drain: `${p}F13_sb_wait_fs_drain`,
    F14: `${p}F14_freeze_fs`,
    F14_fail: `${p}F14_freeze_fs_failed`,
    F15: `${p}F15_frozen_complete`,
  };
  const names: Record<string, string> = { ...n, afterSyncFs: n.F12, syncFailed: n.F11_fail, afterFreezeFs: n.F15, freezeFsFailed: n.F14_fail };
  const s: Record<string, any> = {};
  const ev = (name: string) => `${t}.${name}`;
  const level = (lv: number) => sbLevelLock(sb, lv, t);
  const waitWrite = (name: string, drain: string, lv: number, after: string) => {
    // sb_wait_write(sb, level) = percpu_down_write(rw_sem + level-1): own + block, then drain readers
    const L = level(lv);
    s[name] = oneEvent(t, name, { guard: { type: 'percpu_can_down_write', params: L }, actions: [{ type: 'percpu_down_write_block', params: L }], target: drain });
    s[drain] = oneEvent(t, drain, { guard: { type: 'percpu_readers_drained', params: L }, target: after });
  };

  // F1: atomic_inc(&sb->s_active); down_write(&sb->s_umount)
  s[n.F1] = oneEvent(t, n.F1, down_write(um, t, n.F2));
  // F2: if (sb->s_writers.frozen != SB_UNFROZEN) { deactivate_locked_super(sb); return -EBUSY; }
  //     (F3 SB_BORN not modelled; F4 sb_rdonly only with `rdonly`) F5: sb->s_writers.frozen = SB_FREEZE_WRITE
  const ret = o.returns ?? {};
  s[n.F2] = oneEvent(t, n.F2, [
    // F4: if (sb_rdonly(sb)) { sb->s_writers.frozen = SB_FREEZE_COMPLETE; up_write(&sb->s_umount); return 0; }
    ...(o.rdonly !== undefined && o.rdonly !== false
      ? [{ guard: withRdonly(frozenIs(sb, SB_UNFROZEN), o.rdonly), actions: [frozenTo(sb, SB_FREEZE_COMPLETE), upWrite(um, t), ...(ret.ok ?? [])], target: o.next }]
      : []),
    { guard: frozenIs(sb, SB_UNFROZEN), actions: [frozenTo(sb, SB_FREEZE_WRITE)], target: o.keepUmount ? n.F7 : n.F6 },
    { actions: [upWrite(um, t), ...(ret.busy ?? [])], target: o.busy ?? o.next },
  ]);
  if (!o.keepUmount) {
    // F6: up_write(&sb->s_umount): "Release s_umount to preserve sb_start_write -> s_umount ordering"
    s[n.F6] = oneEvent(t, n.F6, { actions: [upWrite(um, t)], target: n.F7 });
  }
  // F7: sb_wait_write(sb, SB_FREEZE_WRITE)
  waitWrite(n.F7, n.F7_drain, SB_FREEZE_WRITE, o.keepUmount ? n.F9 : n.F8);
  if (!o.keepUmount) {
    // F8: down_write(&sb->s_umount)
    s[n.F8] = oneEvent(t, n.F8, down_write(um, t, n.F9));
  }
  // F9: sb->s_writers.frozen = SB_FREEZE_PAGEFAULT
  s[n.F9] = oneEvent(t, n.F9, { actions: [frozenTo(sb, SB_FREEZE_PAGEFAULT)], target: n.F10 });
  // F10: sb_wait_write(sb, SB_FREEZE_PAGEFAULT); then F11: sync_filesystem(sb) -> ->sync_fs(sb, 0/1)
  const syncFails = !!o.syncMayFail || (!!o.sync_fs && !isHookStates(o.sync_fs) && !!o.sync_fs.mayFail);
  const syncHook = o.syncMayFail && !isHookStates(o.sync_fs) ? { ...o.sync_fs, mayFail: true } : o.sync_fs;
  const syncEntry = hookEntry(s, t, syncHook, n.F11, n.F12, n.F11_fail, true);
  waitWrite(n.F10, n.F10_drain, SB_FREEZE_PAGEFAULT, syncEntry);
  if (syncFails) {
    // F11 failure: frozen = SB_UNFROZEN; sb_freeze_unlock(sb, SB_FREEZE_PAGEFAULT); wake_up_var(&frozen);
    //              deactivate_locked_super(sb) (drops s_umount); return ret
    s[n.F11_fail] = oneEvent(t, n.F11_fail, {
      actions: [frozenTo(sb, SB_UNFROZEN), ...unlockLevels(sb, t, SB_FREEZE_PAGEFAULT), upWrite(um, t), ...(ret.failed ?? [])],
      target: o.failed ?? o.next,
    });
  }
  // F12: sb->s_writers.frozen = SB_FREEZE_FS
  s[n.F12] = oneEvent(t, n.F12, { actions: [frozenTo(sb, SB_FREEZE_FS)], target: n.F13 });
  // F13: sb_wait_write(sb, SB_FREEZE_FS); then F14: if (sb->s_op->freeze_fs) ret = sb->s_op->freeze_fs(sb)
  const freezeEntry = hookEntry(s, t, o.freeze_fs, n.F14, n.F15, n.F14_fail, false);
  waitWrite(n.F13, n.F13_drain, SB_FREEZE_FS, freezeEntry);
  if (o.freeze_fs !== undefined) {
    // F14 failure: frozen = SB_UNFROZEN; sb_freeze_unlock(sb); wake_up(&sb->s_writers.wait_unfrozen);
    //              deactivate_locked_super(sb) (drops s_umount); return ret
    s[n.F14_fail] = oneEvent(t, n.F14_fail, {
      actions: [frozenTo(sb, SB_UNFROZEN), ...unlockLevels(sb, t, SB_FREEZE_FS), upWrite(um, t), ...(ret.failed ?? [])],
      target: o.failed ?? o.next,
    });
  }
  // F15: sb->s_writers.frozen = SB_FREEZE_COMPLETE; lockdep_sb_freeze_release(sb); up_write(&sb->s_umount)
  s[n.F15] = oneEvent(t, n.F15, { actions: [frozenTo(sb, SB_FREEZE_COMPLETE), upWrite(um, t), ...(ret.ok ?? [])], target: o.next });
  return { initial: n.F1, states: s, names };
}

/** sb_freeze_unlock(sb, level): percpu_up_write() of each freeze level taken, `level` down to SB_FREEZE_WRITE. */
function unlockLevels(sb: string, thread: string, level: number): any[] {
  return [SB_FREEZE_FS, SB_FREEZE_PAGEFAULT, SB_FREEZE_WRITE].filter((lv) => lv <= level).map((lv) => ({ type: 'percpu_up_write', params: sbLevelLock(sb, lv, thread) }));
}

/** thaw_super(sb) -> thaw_super_locked(sb), fs/super.c, 5.x: T1..T7 of KERNEL.md 1(c). */
export function thawSuperStates(o: ThawOptions): Fragment {
  const sb = o.sb ?? 's_writers';
  const um = o.s_umount ?? 's_umount';
  const t = o.thread;
  const p = o.prefix ?? '';
  const n = {
    T1: `${p}T1_down_write_s_umount`,
    T2: `${p}T2_check_frozen`,
    T5: `${p}T5_unfreeze_fs`,
    T5_fail: `${p}T5_unfreeze_fs_failed`,
    T6: `${p}T6_sb_freeze_unlock`,
    T7: `${p}T7_deactivate_locked_super`,
  };
  const names: Record<string, string> = { ...n, afterUnfreezeFs: n.T6, unfreezeFsFailed: n.T5_fail };
  const s: Record<string, any> = {};
  // T1: down_write(&sb->s_umount)
  s[n.T1] = oneEvent(t, n.T1, down_write(um, t, n.T2));
  // T2: if (sb->s_writers.frozen != SB_FREEZE_COMPLETE) { up_write(&sb->s_umount); return -EINVAL; }
  //     (T3 sb_rdonly only with `rdonly`; T4 lockdep_sb_freeze_acquire has no effect here)
  //     T5: if (sb->s_op->unfreeze_fs) { error = sb->s_op->unfreeze_fs(sb); if (error) { ...; up_write; return error; } }
  const unfreezeEntry = hookEntry(s, t, o.unfreeze_fs, n.T5, n.T6, n.T5_fail, false);
  const ret = o.returns ?? {};
  s[n.T2] = oneEvent(t, n.T2, [
    // T3: if (sb_rdonly(sb)) { sb->s_writers.frozen = SB_UNFROZEN; goto out; }  (out: T7)
    ...(o.rdonly !== undefined && o.rdonly !== false
      ? [{ guard: withRdonly(frozenIs(sb, SB_FREEZE_COMPLETE), o.rdonly), actions: [frozenTo(sb, SB_UNFROZEN)], target: n.T7 }]
      : []),
    { guard: frozenIs(sb, SB_FREEZE_COMPLETE), target: unfreezeEntry },
    { actions: [upWrite(um, t), ...(ret.einval ?? [])], target: o.einval ?? o.next },
  ]);
  if (o.unfreeze_fs !== undefined) {
    s[n.T5_fail] = oneEvent(t, n.T5_fail, { actions: [upWrite(um, t), ...(ret.failed ?? [])], target: o.failed ?? o.next });
  }
  // T6: sb->s_writers.frozen = SB_UNFROZEN; sb_freeze_unlock(sb)  (atomic here; see P-F3)
  s[n.T6] = oneEvent(t, n.T6, { actions: [frozenTo(sb, SB_UNFROZEN), ...unlockLevels(sb, t, SB_FREEZE_FS)], target: n.T7 });
  // T7: wake_up(&sb->s_writers.wait_unfrozen); deactivate_locked_super(sb) (drops s_umount)
  s[n.T7] = oneEvent(t, n.T7, { actions: [upWrite(um, t), ...(ret.ok ?? [])], target: o.next });
  return { initial: n.T1, states: s, names };
}

export interface FreezeThenThawOptions {
  thread: string;
  /** State to go to when thaw_super() has returned (whatever it returned). */
  next: string;
  /** freeze_super() options (thread and next are filled in). */
  freeze?: Omit<FreezeOptions, 'thread' | 'next' | 'busy' | 'failed'>;
  /** thaw_super() options (thread and next are filled in). */
  thaw?: Omit<ThawOptions, 'thread' | 'next' | 'einval' | 'failed'>;
  /**
   * What the program does between FIFREEZE's return and FITHAW: the name of the model's own first state
   * (its states must end by targeting names.FITHAW). Default: nothing, one step `${thread}.FITHAW`.
   */
  whileFrozen?: string;
}

/**
 * A user program doing ioctl(FIFREEZE) then ioctl(FITHAW) on the same thread: freeze_super() (any return:
 * 0, -EBUSY, a ->freeze_fs error), then thaw_super() (which returns -EINVAL when the freeze did not
 * complete). Both fragments keep their options and hooks; state names get the prefixes `fz_` and `th_`.
 * Declare the thread as the thawer in the context: sbWriters({ thawer: thread }).
 */
export function freezeThenThawStates(o: FreezeThenThawOptions): Fragment {
  const t = o.thread;
  const FITHAW = 'FITHAW';
  const fz = freezeSuperStates({ ...o.freeze, thread: t, next: o.whileFrozen ?? FITHAW, prefix: 'fz_' });
  const th = thawSuperStates({ ...o.thaw, thread: t, next: o.next, prefix: 'th_' });
  const states: Record<string, any> = { ...fz.states, [FITHAW]: oneEvent(t, FITHAW, { target: th.initial }), ...th.states };
  const names: Record<string, string> = { ...prefixed('freeze.', fz.names), ...prefixed('thaw.', th.names), FITHAW };
  return { initial: fz.initial, states, names };
}

function prefixed(p: string, names: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [p + k, v]));
}
