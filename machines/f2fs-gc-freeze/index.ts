// f2fs: the GC thread made freeze-aware with sb_start_intwrite() (SB_FREEZE_FS, lockdep "sb_internal") takes
// sbi->gc_mutex inside it (f2fs_balance_fs_bg -> f2fs_sync_fs), while fsync's checkpoint takes gc_mutex, then
// cp_mutex, then sb_internal when it evicts an inode: the cycle sb_internal -> gc_mutex -> cp_mutex -> sb_internal
// that lockdep reported on generic/241. With a freezer waiting for SB_FREEZE_FS it deadlocks.
//
// Source: commit dc6febb6bcec "f2fs: make background threads of f2fs being aware of freezing" (Chao Yu, v4.14):
// "don't use sb_start_intwrite() in gc_thread_func() due to" the quoted splat: f2fs_gc-250:0 is trying to acquire
// &sbi->gc_mutex (f2fs_sync_fs) while holding sb_internal#2 (gc_thread_func); existing chain: #2 sb_internal#2,
// __sb_start_write in f2fs_evict_inode <- iput <- f2fs_sync_inode_meta <- write_checkpoint <- f2fs_sync_fs <-
// f2fs_do_sync_file; #1 &sbi->cp_mutex, mutex_lock in write_checkpoint <- f2fs_sync_fs. The committed version
// protects the GC thread with sb_start_write_trylock() (SB_FREEZE_WRITE, "sb_writers") instead.
// Kernel code mirrored (v4.13/v4.14): fs/f2fs/gc.c gc_thread_func (sb_start_write_trylock / sb_end_write after
// dc6febb6bcec; the draft's sb_start_intwrite); fs/f2fs/segment.c f2fs_balance_fs_bg -> f2fs_sync_fs; fs/f2fs/super.c
// f2fs_sync_fs (mutex_lock(&sbi->gc_mutex); write_checkpoint()); fs/f2fs/checkpoint.c write_checkpoint
// (mutex_lock(&sbi->cp_mutex); f2fs_sync_inode_meta -> iput); fs/f2fs/inode.c f2fs_evict_inode (sb_start_intwrite);
// fs/f2fs/file.c f2fs_do_sync_file -> f2fs_sync_fs; fs/super.c freeze_super (machines/kernel/freeze.ts).
// Variant `intwrite-trylock` is a later proposal (Chao Yu, 2023, "f2fs: use sb_{start,end}_intwrite in
// gc_thread_func"): a trylock adds no dependency INTO sb_internal, but gc_mutex is still taken while it is held.
// Not modelled: f2fs_gc itself and the gc thread's own mutex_trylock(&sbi->gc_mutex), write_checkpoint's body
// (block_operations, cp_rwsem), the freezer's sync_fs (a no-op step here).
import { setup } from 'xstate';
import { defineModel } from '../../explorer/model.ts';
import {
  freezeThenThawStates, kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock, rwsem, sbWriters,
  sb_end_intwrite, sb_end_write, sb_start_intwrite, sb_start_intwrite_trylock, sb_start_write_trylock,
  oneEvent,
} from '../kernel/index.ts';

const SB = 's_writers';
const GC = 'gc_mutex';
const CP = 'cp_mutex';

export default defineModel({
  name: 'f2fs-gc-freeze',
  description: 'f2fs: the GC thread under sb_start_intwrite takes gc_mutex (f2fs_sync_fs) while fsync\'s checkpoint takes gc_mutex, cp_mutex, then sb_internal in f2fs_evict_inode (dc6febb6bcec)',
  source: 'commit dc6febb6bcec (f2fs: make background threads of f2fs being aware of freezing, v4.14); fs/f2fs/gc.c, super.c, checkpoint.c, inode.c; fs/super.c freeze_super',
  params: {
    freezer: { default: true, description: 'a freeze_super() runs too; without it the cycle cannot deadlock (sb_internal is only read by the two paths)' },
  },
  variants: {
    intwrite: { description: 'the draft of dc6febb6bcec: gc_thread_func() takes sb_start_intwrite()' },
    fixed: { description: 'dc6febb6bcec: gc_thread_func() takes sb_start_write_trylock() (SB_FREEZE_WRITE), skipping a round when it fails' },
    'intwrite-trylock': { description: 'a 2023 proposal: sb_start_intwrite_trylock() in gc_thread_func(); gc_mutex is still taken under sb_internal' },
  },
  defaultVariant: 'intwrite',
  create({ params, variant }) {
    const g = 'gc';
    const skip = { ok: 'balance_fs_bg', fail: 'done' };
    const start =
      variant === 'fixed'
        ? oneEvent(g, 'sb_start_write_trylock', sb_start_write_trylock(SB, g, skip))
        : variant === 'intwrite-trylock'
          ? oneEvent(g, 'sb_start_intwrite_trylock', sb_start_intwrite_trylock(SB, g, skip))
          : oneEvent(g, 'sb_start_intwrite', { ...sb_start_intwrite(SB, g), target: 'balance_fs_bg' });
    const end = variant === 'fixed' ? sb_end_write(SB, g) : sb_end_intwrite(SB, g);
    const gc = {
      initial: 'start',
      states: {
        // gc_thread_func(): the freeze protection of one round
        start,
        // f2fs_gc(); f2fs_balance_fs_bg() -> f2fs_sync_fs(sb, 1): mutex_lock(&sbi->gc_mutex)
        balance_fs_bg: oneEvent(g, 'mutex_lock', { ...mutex_lock(GC, g, GC), target: 'sync_fs' }),
        // write_checkpoint() (elided); mutex_unlock(&sbi->gc_mutex)
        sync_fs: oneEvent(g, 'mutex_unlock', { ...mutex_unlock(GC, g, GC), target: 'end' }),
        end: oneEvent(g, variant === 'fixed' ? 'sb_end_write' : 'sb_end_intwrite', { ...end, target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    const s = 'fsync';
    const fsync = {
      initial: 'sync_fs',
      states: {
        // f2fs_do_sync_file() -> f2fs_sync_fs(sb, 1): mutex_lock(&sbi->gc_mutex)
        sync_fs: oneEvent(s, 'mutex_lock_gc', { ...mutex_lock(GC, s, GC), target: 'write_checkpoint' }),
        // write_checkpoint(): mutex_lock(&sbi->cp_mutex)
        write_checkpoint: oneEvent(s, 'mutex_lock_cp', { ...mutex_lock(CP, s, CP), target: 'evict_inode' }),
        // f2fs_sync_inode_meta() -> iput() -> evict() -> f2fs_evict_inode(): sb_start_intwrite(inode->i_sb)
        evict_inode: oneEvent(s, 'sb_start_intwrite', { ...sb_start_intwrite(SB, s), target: 'evicted' }),
        // f2fs_truncate(), f2fs_remove_inode_page(); sb_end_intwrite(inode->i_sb)
        evicted: oneEvent(s, 'sb_end_intwrite', { ...sb_end_intwrite(SB, s), target: 'unlock_cp' }),
        unlock_cp: oneEvent(s, 'mutex_unlock_cp', { ...mutex_unlock(CP, s, CP), target: 'unlock_gc' }),
        unlock_gc: oneEvent(s, 'mutex_unlock_gc', { ...mutex_unlock(GC, s, GC), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    // FIFREEZE then FITHAW (freeze_super, thaw_super): a writer blocked by the freeze is let go by the thaw
    const fz = freezeThenThawStates({ thread: 'freezer', next: 'done' });
    const freezer = { initial: fz.initial, states: { ...fz.states, done: { type: 'final' as const } } };
    return setup({ guards: { ...kernelGuards } as any, actions: { ...kernelActions } as any }).createMachine({
      id: 'f2fs-gc-freeze',
      type: 'parallel',
      context: { [SB]: sbWriters({ thawer: 'freezer' }), s_umount: rwsem(), [GC]: mutex(), [CP]: mutex() },
      states: { gc, fsync, ...(params.freezer ? { freezer } : {}) } as any,
    });
  },
  waits: kernelWaits,
});
