// VFS superblock freeze (fs/super.c freeze_super/thaw_super) with syscall, page-fault and fs-internal writers (seed 000, KERNEL.md 1).
import { setup } from 'xstate';
import { defineModel } from '../../explorer/model.ts';
import { kernelActions, kernelGuards, kernelWaits } from '../kernel/index.ts';
import {
  freezeWatch,
  SB_FREEZE_FS,
  SB_FREEZE_PAGEFAULT,
  SB_FREEZE_WRITE,
  freezeActions,
  freezeContext,
  freezeGuards,
  freezeInvariants,
  freezeWaits,
  freezerThread,
  thawerThread,
  writerThread,
} from './freeze.ts';

export default defineModel({
  name: 'sb-freeze',
  description:
    'VFS superblock freeze: freeze_super() takes the three sb_writers levels in order while syscall, page-fault and fs-internal writers run; thaw_super() releases them',
  source: 'seeds/000 (Brian Foster, bcachefs freeze), KERNEL.md 1; fs/super.c freeze_super/thaw_super (5.x)',
  params: {
    writers: { default: 2, description: 'syscall writers (sb_start_write)', min: 0, max: 8 },
    umountWriters: { default: 1, description: 'how many of the syscall writers take s_umount for read inside sb_start_write', min: 0, max: 8 },
    faulters: { default: 1, description: 'page-fault writers (sb_start_pagefault in ->page_mkwrite)', min: 0, max: 8 },
    intwriters: { default: 1, description: 'fs-internal writers / transactions (sb_start_intwrite)', min: 0, max: 8 },
    freezeFsMayFail: { default: true, description: '->freeze_fs may return an error (freeze_super unwinds to SB_UNFROZEN)' },
    syncFail: {
      default: false,
      description: 'sync_filesystem may return an error (freeze_super unwinds at F11 without ->freeze_fs: 2719c7160dcf, v5.17+, 5.10.y/5.15.y)',
    },
  },
  variants: {
    generic: { description: 'freeze_super as in fs/super.c: s_umount is dropped across the SB_FREEZE_WRITE wait (F6/F8)' },
    'umount-held': {
      description: 'V1-2: the freezer keeps s_umount across sb_wait_write(SB_FREEZE_WRITE) (F6/F8 removed): a writer inside sb_start_write that needs s_umount deadlocks it',
    },
  },
  defaultVariant: 'generic',
  create({ params, variant }) {
    const writers = Number(params.writers);
    const umountWriters = Math.min(Number(params.umountWriters), writers);
    const faulters = Number(params.faulters);
    const intwriters = Number(params.intwriters);
    const threads: Record<string, any> = {
      // FIFREEZE -> freeze_super(sb); the generic fs has a ->freeze_fs that may fail, no ->sync_fs/->unfreeze_fs work
      freezer: freezerThread({ keepUmountAcrossWriteWait: variant === 'umount-held', freezeFsMayFail: Boolean(params.freezeFsMayFail), syncMayFail: Boolean(params.syncFail) }),
      // FITHAW -> thaw_super(sb), issued by the same user program once FIFREEZE has returned
      thawer: thawerThread(),
    };
    for (let i = 0; i < writers; i++) threads[`writer${i}`] = writerThread(`writer${i}`, SB_FREEZE_WRITE, 'write', i < umountWriters);
    for (let i = 0; i < faulters; i++) threads[`faulter${i}`] = writerThread(`faulter${i}`, SB_FREEZE_PAGEFAULT, 'page_mkwrite');
    for (let i = 0; i < intwriters; i++) threads[`intwriter${i}`] = writerThread(`intwriter${i}`, SB_FREEZE_FS, 'transaction');
    return setup({
      guards: { ...kernelGuards, ...freezeGuards } as any,
      actions: { ...kernelActions, ...freezeActions } as any,
    }).createMachine({
      id: 'sb-freeze',
      type: 'parallel',
      context: { ...freezeContext('thawer'), fifreeze_returned: false },
      states: threads,
    });
  },
  // Writers of one kind (and the same s_umount use) run the same code: interchangeable for --reduce symmetry.
  symmetry: ({ params }) => {
    const writers = Number(params.writers);
    const umountWriters = Math.min(Number(params.umountWriters), writers);
    const names = (prefix: string, from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => `${prefix}${from + i}`);
    return [
      { threads: names('writer', 0, umountWriters) },
      { threads: names('writer', umountWriters, writers) },
      { threads: names('faulter', 0, Number(params.faulters)) },
      { threads: names('intwriter', 0, Number(params.intwriters)) },
    ].filter((g) => g.threads.length > 1);
  },
  invariants: freezeInvariants,
  watch: freezeWatch,
  waits: { ...kernelWaits, ...freezeWaits },
});

