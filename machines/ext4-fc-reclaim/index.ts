// ext4 fast commit: ext4_fc_perform_commit() holds sbi->s_fc_lock (a mutex) while it writes the fast commit log, and
// allocations made there may enter direct reclaim; reclaim evicts ext4 inodes (shrink_slab -> super_cache_scan ->
// prune_icache_sb -> evict -> ext4_evict_inode -> ext4_fc_del), and ext4_fc_del() takes s_fc_lock. Lockdep: the
// committer's s_fc_lock -> fs_reclaim (might_alloc under the lock) against reclaim's fs_reclaim -> s_fc_lock, "possible
// circular locking dependency"; for real, an allocation under the lock that reclaims an ext4 inode waits on the lock
// its own thread (or another committer-side holder) holds.
//
// Source: commit 491f2927ae09 "ext4: fast commit: make s_fc_lock reclaim-safe" (Li Chen, 2026, backported to
// 6.19-stable; Fixes: 6593714d67ba "ext4: hold s_fc_lock while during fast commit", which extended the lock over the log
// write, step 6 of ext4_fc_perform_commit): ext4_fc_lock() = mutex_lock(&sbi->s_fc_lock) + memalloc_nofs_save(), and
// ext4_fc_unlock() = memalloc_nofs_restore() + mutex_unlock(), used at every s_fc_lock site, so no allocation under
// the lock recurses into filesystem reclaim.
// Kernel code mirrored (fs/ext4/fast_commit.c before the fix): ext4_fc_perform_commit step 6 (mutex_lock(&sbi->
// s_fc_lock); ext4_fc_commit_dentry_updates, ext4_fc_write_inode..., ext4_fc_write_tail: allocations under the lock,
// modelled as one kmalloc(GFP_KERNEL); mutex_unlock); ext4_fc_del (mutex_lock(&sbi->s_fc_lock) ... mutex_unlock),
// called from eviction inside reclaim; mm: fs_reclaim_acquire in a reclaim thread (kswapd's balance_pgdat,
// __fs_reclaim_acquire), might_alloc in the allocator (machines/kernel/alloc.ts).
// The two threads are the jbd2 fast commit (`commit`) and kswapd evicting an ext4 inode (`kswapd`). Nothing blocks
// across them but the mutex, so no interleaving deadlocks: the deadlock check passes and `--lock-order` reports
// &sbi->s_fc_lock -> fs_reclaim -> &sbi->s_fc_lock, as lockdep did. With the fix the committer's allocation runs in a
// NOFS scope: no edge into fs_reclaim, no cycle.
// Not modelled: the committer's allocation itself entering direct reclaim (the self-deadlock; the model's allocation
// always succeeds), ext4_fc_del's wait on EXT4_STATE_FC_FLUSHING_DATA, the other s_fc_lock sites (track, cleanup,
// mark_ineligible), which the fix converts the same way.
import { setup } from 'xstate';
import { defineModel } from '../../explorer/model.ts';
import {
  fs_reclaim_acquire, fs_reclaim_release, kernelActions, kernelGuards, kernelWaits, kmalloc, memalloc, memalloc_nofs_restore,
  memalloc_nofs_save, mutex, mutex_lock, mutex_unlock, oneEvent,
} from '../kernel/index.ts';

const LOCK = 's_fc_lock';
const LOCK_NAME = '&sbi->s_fc_lock';
const MM = 'mm';

export default defineModel({
  name: 'ext4-fc-reclaim',
  description: 'ext4 fast commit allocates under s_fc_lock, which inode eviction in reclaim takes: s_fc_lock -> fs_reclaim -> s_fc_lock (491f2927ae09)',
  source: 'commit 491f2927ae09 (ext4: fast commit: make s_fc_lock reclaim-safe; Fixes 6593714d67ba); fs/ext4/fast_commit.c, mm/page_alloc.c, include/linux/sched/mm.h',
  params: {},
  variants: {
    'gfp-kernel': { description: 'before 491f2927ae09: ext4_fc_perform_commit allocates (GFP_KERNEL) under mutex_lock(&sbi->s_fc_lock)' },
    fixed: { description: '491f2927ae09: ext4_fc_lock()/ext4_fc_unlock() wrap s_fc_lock in memalloc_nofs_save()/memalloc_nofs_restore()' },
  },
  defaultVariant: 'gfp-kernel',
  create({ variant }) {
    const nofs = variant === 'fixed';
    // ext4_fc_lock(sb): mutex_lock(&sbi->s_fc_lock) [; memalloc_nofs_save()]
    const fcLock = (t: string) => {
      const lock = mutex_lock(LOCK, t, LOCK_NAME);
      return { ...lock, actions: [...lock.actions!, ...(nofs ? memalloc_nofs_save(MM, t).actions! : [])] };
    };
    // ext4_fc_unlock(sb, ctx): [memalloc_nofs_restore(ctx);] mutex_unlock(&sbi->s_fc_lock)
    const fcUnlock = (t: string): any[] => [...(nofs ? memalloc_nofs_restore(MM, t).actions! : []), ...mutex_unlock(LOCK, t, LOCK_NAME).actions!];
    const c = 'commit';
    const commit = {
      initial: 'lock',
      states: {
        // ext4_fc_perform_commit() step 6: write the fast commit blocks under s_fc_lock
        lock: oneEvent(c, 'ext4_fc_lock', { ...fcLock(c), target: 'write' }),
        // ext4_fc_commit_dentry_updates() / ext4_fc_write_tail(): an allocation under the lock
        write: oneEvent(c, 'kmalloc', { ...kmalloc(MM, c, 'GFP_KERNEL'), target: 'unlock' }),
        // out: ext4_fc_unlock()
        unlock: oneEvent(c, 'ext4_fc_unlock', { actions: fcUnlock(c), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    const k = 'kswapd';
    const kswapd = {
      initial: 'reclaim',
      states: {
        // balance_pgdat(): __fs_reclaim_acquire(); shrink_slab -> super_cache_scan -> prune_icache_sb -> evict
        reclaim: oneEvent(k, 'fs_reclaim_acquire', { ...fs_reclaim_acquire(MM, k), target: 'fc_del' }),
        // ext4_evict_inode -> ext4_fc_del(): ext4_fc_lock()
        fc_del: oneEvent(k, 'ext4_fc_lock', { ...fcLock(k), target: 'fc_del_unlock' }),
        // list_del_init(&ei->i_fc_list); ext4_fc_unlock()
        fc_del_unlock: oneEvent(k, 'ext4_fc_unlock', { actions: fcUnlock(k), target: 'reclaim_done' }),
        // __fs_reclaim_release()
        reclaim_done: oneEvent(k, 'fs_reclaim_release', { ...fs_reclaim_release(MM, k), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    return setup({ guards: kernelGuards as any, actions: kernelActions as any }).createMachine({
      id: 'ext4-fc-reclaim',
      type: 'parallel',
      context: { [LOCK]: mutex(), [MM]: memalloc() },
      states: { commit, kswapd } as any,
    });
  },
  waits: kernelWaits,
});
