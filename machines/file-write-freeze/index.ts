// Per-file write freeze proposal (Namjae Jeon 2015, FS_IOC_FWFREEZE; Jan Kara's review in seed 001; KERNEL.md 1B):
// file_write_freeze() = freeze_super + I_WRITE_FREEZED + thaw_super, checked by page faults before or after sb_start_pagefault.
// The patch (Jan 2015) ran on v3.19's counter-based sb_writers: __sb_start_write() sleeps on wait_unfrozen while
// frozen >= level and sb_wait_write() sums s_writers.counter[level-1]; the percpu rw_semaphore version used here
// (fs/super.c v5.15, machines/kernel/freeze.ts) came with v4.3. Per level they block and drain the same way; the one
// difference is that in v3.19 setting frozen (F5, F9, F12) already turns new sb_start_* callers away, where here that
// happens at the following sb_wait_write's percpu_down_write (F7, F10, F13).
import { assign, setup } from 'xstate';
import { defineModel, type Context, type ThreadLocations, type WaitInfo } from '../../explorer/model.ts';
import { kernelActions, kernelGuards, kernelWaits } from '../kernel/index.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareInvariants, declareLowerings } from '../../explorer/compile/lower/declared.ts';
import {
  freezeWatch,
  SB,
  SB_FREEZE_PAGEFAULT,
  SB_FREEZE_WRITE,
  SECTION,
  ev,
  flagIs,
  freezeActions,
  freezeContext,
  freezeGuards,
  freezeInvariants,
  freezeSuperState,
  freezeWaits,
  inSection,
  isDraining,
  sbEnd,
  sbStart,
  thawSuperState,
  writerThread,
} from '../sb-freeze/freeze.ts';

type Ctx = Context;

const guards = {
  // inode_start_write(): proceeds when !(inode->i_state & I_WRITE_FREEZED), else sleeps on
  // sb->s_writers.wait_unfrozen until file_write_unfreeze() clears it and wakes it up
  fwf_inode_not_frozen: ({ context }: { context: Ctx }, p: { inode: number }) => !context.i_write_freezed[p.inode],
};
const setInodeFlag = (field: 'i_write_freezed' | 'fwfreeze_returned', inode: number, value: boolean) => ({
  type: 'fwf_set',
  params: { field, inode, value },
});
const actions = {
  fwf_set: assign(({ context }: { context: Ctx }, p: { field: string; inode: number; value: boolean }) => ({
    [p.field]: context[p.field].map((v: boolean, i: number) => (i === p.inode ? p.value : v)),
  })),
};

// The same action as a word operation (explorer/compile/lower/declared.ts): element `inode` of the flag array.
declareLowerings(actions, {
  fwf_set: (p: { field: string; inode: number; value: boolean }) => [L.setAt(L.path(p.field), p.inode, p.value)],
});

const waits: Record<string, (ctx: Ctx, p: any) => WaitInfo | null> = {
  fwf_inode_not_frozen: (ctx, p: { inode: number; unfreezer: string }) =>
    !ctx.i_write_freezed[p.inode]
      ? null
      : { resource: `I_WRITE_FREEZED(inode${p.inode})`, kind: 'inode flag', mode: 'inode_start_write', holders: [p.unfreezer] },
};

/** A page-fault writer on `inode` (->page_mkwrite) with the patch's inode_start_write() before or after sb_start_pagefault(). */
function faulterThread(thread: string, inode: number, order: 'inode-first' | 'pagefault-first', unfreezer: string) {
  const inodeStartWrite = (target: string) => ({
    [ev(thread, `inode_start_write_inode${inode}`)]: {
      guard: { type: 'fwf_inode_not_frozen', params: { inode, unfreezer } },
      target,
    },
  });
  const section = {
    // ->page_mkwrite() body: lock the folio, set_page_dirty(): the inode is modified here
    page_mkwrite: { on: { [ev(thread, `set_page_dirty_inode${inode}`)]: { target: 'dirtied' } } },
    // sb_end_pagefault()
    dirtied: { on: { [ev(thread, 'sb_end_pagefault')]: { ...sbEnd[SB_FREEZE_PAGEFAULT](SB, thread), target: `#${thread}-done` } } },
  };
  if (order === 'inode-first') {
    return {
      initial: 'inode_start_write',
      states: {
        // inode_start_write(inode) first: the flag test happens OUTSIDE any section freeze_super drains
        inode_start_write: { on: inodeStartWrite('sb_start_pagefault') },
        // sb_start_pagefault(sb)
        sb_start_pagefault: { on: { [ev(thread, 'sb_start_pagefault')]: { ...sbStart[SB_FREEZE_PAGEFAULT](SB, thread), target: SECTION[SB_FREEZE_PAGEFAULT] } } },
        [SECTION[SB_FREEZE_PAGEFAULT]]: { initial: 'page_mkwrite', states: section },
        done: { id: `${thread}-done`, type: 'final' },
      },
    };
  }
  return {
    initial: 'sb_start_pagefault',
    states: {
      // sb_start_pagefault(sb) first
      sb_start_pagefault: { on: { [ev(thread, 'sb_start_pagefault')]: { ...sbStart[SB_FREEZE_PAGEFAULT](SB, thread), target: SECTION[SB_FREEZE_PAGEFAULT] } } },
      [SECTION[SB_FREEZE_PAGEFAULT]]: {
        initial: 'inode_start_write',
        // inode_start_write(inode) inside the section: sleeps holding SB_FREEZE_PAGEFAULT (lockdep: sb_pagefaults)
        states: { inode_start_write: { on: inodeStartWrite('page_mkwrite') }, ...section },
      },
      done: { id: `${thread}-done`, type: 'final' },
    },
  };
}

/** file_write_freeze(inode) as states of `thread`: freeze_super; i_state |= I_WRITE_FREEZED; thaw_super; then `next`. */
function fwFreezeStates(thread: string, inode: number, next: string) {
  const k = `fwfreeze${inode}`;
  return {
    // file_write_freeze(): ret = freeze_super(sb) (the -EBUSY test of the flag never fires: each inode is frozen once)
    freeze_super: freezeSuperState({ thread, id: `fz${inode}`, ok: `#${thread}-${k}-flag`, err: next }),
    // file_write_freeze(): spin_lock(&inode->i_lock); inode->i_state |= I_WRITE_FREEZED; smp_wmb(); spin_unlock()
    set_I_WRITE_FREEZED: {
      id: `${thread}-${k}-flag`,
      on: { [ev(thread, `set_I_WRITE_FREEZED_inode${inode}`)]: { actions: [setInodeFlag('i_write_freezed', inode, true)], target: `#${thread}-${k}-thaw` } },
    },
    // file_write_freeze(): return thaw_super(sb); then the FS_IOC_FWFREEZE ioctl returns to user space
    thaw_super: {
      id: `${thread}-${k}-thaw`,
      ...thawSuperState({ thread, id: `tz${inode}`, ok: next, err: next, okActions: [setInodeFlag('fwfreeze_returned', inode, true)] }),
    },
  };
}

/** file_write_unfreeze(inode) (FS_IOC_FWTHAW): clear I_WRITE_FREEZED, wake_up(&sb->s_writers.wait_unfrozen). */
function fwThawState(thread: string, inode: number, next: string, waitForFreeze: boolean) {
  return {
    on: {
      [ev(thread, `FS_IOC_FWTHAW_inode${inode}`)]: {
        ...(waitForFreeze
          ? { guard: flagIs(`fwfreeze_returned.${inode}`, true, `FS_IOC_FWFREEZE(inode${inode}) to return`, ['fwfreezer']) }
          : {}),
        actions: [setInodeFlag('i_write_freezed', inode, false), setInodeFlag('fwfreeze_returned', inode, false)],
        target: next,
      },
    },
  };
}

/** Faulters are numbered per inode: faulter i works on inode (i mod inodes). */
const inodeOf = (i: number, inodes: number) => i % inodes;

/** The no-write-after-FWFREEZE and no-sb-freeze-stall invariants, on the packed words (explorer/properties/words.ts). */
const faulterIndex = (name: string) => (name.startsWith('faulter') ? Number(name.slice('faulter'.length)) : -1);
/** ctx[list][inodeOf(i, ctx[list].length)] */
const dInodeFlag = (list: string, i: number) => L.index(L.path(list), { k: 'bin', op: '%', a: L.lit(i), b: L.len(L.path(list)) });
const invariantDecls = {
  'no-write-after-FWFREEZE': () =>
    L.everyThread((name, loc) => {
      const i = faulterIndex(name);
      return i < 0 || !loc.endsWith('.dirtied') ? true : L.not(dInodeFlag('fwfreeze_returned', i));
    }),
  'no-sb-freeze-stall-on-I_WRITE_FREEZED': () =>
    L.and(
      ...[SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT].map((level) =>
        L.or(
          L.not(L.someThread((_t, loc) => isDraining(loc, level))),
          L.not(
            L.someThread((name, loc) => {
              const i = faulterIndex(name);
              return i >= 0 && inSection(loc, level) && loc.endsWith('.inode_start_write') ? dInodeFlag('i_write_freezed', i) : false;
            }),
          ),
        ),
      ),
    ),
};

const model = defineModel({
  name: 'file-write-freeze',
  description:
    'per-file write freeze (FS_IOC_FWFREEZE) built on freeze_super/thaw_super: the flag test before sb_start_pagefault races, after it the fault sleeps holding freeze protection',
  source: 'seeds/001 (Namjae Jeon, "fs: file freeze support", Jan Kara\'s review, 2015), KERNEL.md 1B',
  params: {
    inodes: { default: 1, description: 'inodes the user program freezes, in order, then unfreezes in order (Jan Kara\'s example: 2)', min: 1, max: 3 },
    faulters: { default: 1, description: 'page-fault writers; faulter i writes inode (i mod inodes)', min: 0, max: 6 },
    writers: { default: 0, description: 'syscall writers (sb_start_write) on other files: show who else stalls', min: 0, max: 6 },
    unfreezer: {
      default: 'same',
      description: "'same': the freezing program also issues the FS_IOC_FWTHAWs, after all its freezes; 'separate': another process thaws each inode once its freeze returned",
      choices: ['same', 'separate'],
    },
  },
  variants: {
    'inode-first': { description: 'inode_start_write() before sb_start_pagefault() (the posted patch): the flag test races with file_write_freeze()' },
    'pagefault-first': { description: 'sb_start_pagefault() before inode_start_write(): the fault sleeps on the flag while holding SB_FREEZE_PAGEFAULT protection' },
  },
  defaultVariant: 'inode-first',
  create({ params, variant }) {
    const inodes = Number(params.inodes);
    const faulters = Number(params.faulters);
    const writers = Number(params.writers);
    const separate = params.unfreezer === 'separate';
    const unfreezer = separate ? 'fwthawer' : 'fwfreezer';
    // the user program: FS_IOC_FWFREEZE on inode 0..n-1, then (same process) FS_IOC_FWTHAW on 0..n-1
    const fz: Record<string, any> = {};
    for (let k = 0; k < inodes; k++) {
      const next = k + 1 < inodes ? `#fwfreezer-fwfreeze${k + 1}` : separate ? '#fwfreezer-done' : '#fwfreezer-fwthaw0';
      Object.assign(fz, { [`fwfreeze${k}`]: { id: `fwfreezer-fwfreeze${k}`, initial: 'freeze_super', states: fwFreezeStates('fwfreezer', k, next) } });
    }
    const thawStates = (thread: string) => {
      const out: Record<string, any> = {};
      for (let k = 0; k < inodes; k++) {
        const next = k + 1 < inodes ? `#${thread}-fwthaw${k + 1}` : `#${thread}-done`;
        out[`fwthaw${k}`] = { id: `${thread}-fwthaw${k}`, ...fwThawState(thread, k, next, separate) };
      }
      return out;
    };
    const threads: Record<string, any> = {
      fwfreezer: {
        initial: 'fwfreeze0',
        states: { ...fz, ...(separate ? {} : thawStates('fwfreezer')), done: { id: 'fwfreezer-done', type: 'final' } },
      },
    };
    if (separate) threads.fwthawer = { initial: 'fwthaw0', states: { ...thawStates('fwthawer'), done: { id: 'fwthawer-done', type: 'final' } } };
    for (let i = 0; i < faulters; i++) {
      threads[`faulter${i}`] = faulterThread(`faulter${i}`, inodeOf(i, inodes), variant as any, unfreezer);
    }
    for (let i = 0; i < writers; i++) threads[`writer${i}`] = writerThread(`writer${i}`, SB_FREEZE_WRITE, 'write');
    return setup({
      guards: { ...kernelGuards, ...freezeGuards, ...guards } as any,
      actions: { ...kernelActions, ...freezeActions, ...actions } as any,
    }).createMachine({
      id: 'file-write-freeze',
      type: 'parallel',
      context: {
        ...freezeContext('fwfreezer'),
        i_write_freezed: Array.from({ length: inodes }, () => false),
        fwfreeze_returned: Array.from({ length: inodes }, () => false),
      },
      states: threads,
    });
  },
  invariants: {
    ...freezeInvariants,
    // KERNEL.md 1B: no page fault dirties an inode after FS_IOC_FWFREEZE returned for it (until FS_IOC_FWTHAW)
    'no-write-after-FWFREEZE': (ctx: Ctx, threads: ThreadLocations) =>
      Object.entries(threads).every(([name, loc]) => {
        if (!name.startsWith('faulter') || !loc.endsWith('.dirtied')) return true;
        const i = Number(name.slice('faulter'.length));
        return !ctx.fwfreeze_returned[inodeOf(i, ctx.fwfreeze_returned.length)];
      }),
    // KERNEL.md 1B, "property a correct design needs": freeze_super never waits to drain a level held by a
    // task that sleeps on I_WRITE_FREEZED. In such a state every sb_start_write/sb_start_pagefault on the
    // whole fs sleeps, and only FS_IOC_FWTHAW (a user action) can end it.
    'no-sb-freeze-stall-on-I_WRITE_FREEZED': (ctx: Ctx, threads: ThreadLocations) => {
      const locs = Object.entries(threads);
      for (const level of [SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT]) {
        const draining = locs.some(([, loc]) => isDraining(loc, level));
        if (!draining) continue;
        const stuck = locs.some(([name, loc]) => {
          if (!name.startsWith('faulter') || !inSection(loc, level) || !loc.endsWith('.inode_start_write')) return false;
          const i = Number(name.slice('faulter'.length));
          return ctx.i_write_freezed[inodeOf(i, ctx.i_write_freezed.length)];
        });
        if (stuck) return false;
      }
      return true;
    },
  },
  watch: freezeWatch,
  waits: { ...kernelWaits, ...freezeWaits, ...waits },
});
declareInvariants(model.invariants!, invariantDecls);
export default model;
