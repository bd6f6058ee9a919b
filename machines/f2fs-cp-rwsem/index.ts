// f2fs: __f2fs_add_link() holds sbi->cp_rwsem for read (f2fs_lock_op) across init_inode_metadata(), whose ACL
// allocation was GFP_KERNEL: under memory pressure direct reclaim writes back a dirty f2fs page,
// f2fs_write_data_page() -> f2fs_lock_op() takes cp_rwsem for read AGAIN. If the checkpoint thread queued
// down_write(cp_rwsem) (f2fs_lock_all in block_operations) between the two, the nested down_read queues behind
// the writer, which waits for the outer read hold: deadlock.
//
// Source: commit dd802406e396 "f2fs: avoid double lock for cp_rwsem" (Jaegeuk Kim, 2014, v3.15): "Thread #1
// down_read; Thread #2 down_write; Thread #1 down_read -> here down_read should wait forever." Fix: the ACL
// allocations (f2fs_acl_from_disk / f2fs_acl_to_disk: posix_acl_alloc, kmalloc) use GFP_NOFS, so reclaim never
// re-enters f2fs writeback under cp_rwsem.
// Kernel code mirrored (fs/f2fs/f2fs.h): f2fs_lock_op() = down_read(&sbi->cp_rwsem), f2fs_unlock_op() = up_read,
// f2fs_lock_all() = down_write(&sbi->cp_rwsem), f2fs_unlock_all() = up_write. fs/f2fs/dir.c __f2fs_add_link,
// fs/f2fs/checkpoint.c block_operations / write_checkpoint, fs/f2fs/data.c f2fs_write_data_page.
// The rwsem is the 3.15 one (no reader lock stealing: rwsem({ readerSteal: false })); param steal=true checks the
// 5.13+ rwsem, where the nested down_read still queues (rwsem_down_read_slowpath does not steal while the lock is
// reader-owned with rcnt > 1).
import { setup } from 'xstate';
import { defineModel } from '../../explorer/model.ts';
import { down_read, down_write, kernelActions, kernelGuards, kernelWaits, rwsem, up_read, up_write, oneEvent } from '../kernel/index.ts';

const CP = 'cp_rwsem';

export default defineModel({
  name: 'f2fs-cp-rwsem',
  description: 'f2fs: GFP_KERNEL allocation under f2fs_lock_op() reclaims into f2fs_write_data_page() and takes cp_rwsem for read again behind a queued checkpoint writer (dd802406e396)',
  source: 'commit dd802406e396 (f2fs: avoid double lock for cp_rwsem, v3.15); fs/f2fs/f2fs.h f2fs_lock_op/f2fs_lock_all; fs/f2fs/dir.c __f2fs_add_link',
  params: {
    steal: { default: false, description: 'the 5.13+ rw_semaphore (reader optimistic lock stealing) instead of the 3.15 one' },
  },
  variants: {
    'gfp-kernel': { description: 'before dd802406e396: the ACL allocation may enter direct reclaim, which writes an f2fs page under cp_rwsem' },
    fixed: { description: 'dd802406e396: GFP_NOFS, reclaim does not call into f2fs writeback' },
  },
  defaultVariant: 'gfp-kernel',
  create({ params, variant }) {
    const c = 'creat';
    const creat = {
      initial: 'lock_op',
      states: {
        // __f2fs_add_link(): f2fs_lock_op(sbi)
        lock_op: oneEvent(c, 'f2fs_lock_op', down_read(CP, c, 'init_inode_metadata', 'cp_rwsem')),
        // init_inode_metadata() -> f2fs_init_acl() -> posix_acl_alloc(count, GFP_KERNEL | GFP_NOFS)
        init_inode_metadata: {
          on: {
            [`${c}.alloc`]: { target: 'add_dentry' },
            ...(variant === 'fixed' ? {} : { [`${c}.direct_reclaim`]: { target: 'reclaim_lock_op' } }),
          },
        },
        // shrink_page_list() -> pageout() -> f2fs_write_data_page() -> f2fs_lock_op(sbi)
        reclaim_lock_op: oneEvent(c, 'writepage_lock_op', down_read(CP, c, 'reclaim_write', 'cp_rwsem')),
        // do_write_data_page(); f2fs_unlock_op(sbi)
        reclaim_write: oneEvent(c, 'writepage_unlock_op', { ...up_read(CP, c, 'cp_rwsem'), target: 'add_dentry' }),
        // the dentry is written; f2fs_unlock_op(sbi)
        add_dentry: oneEvent(c, 'f2fs_unlock_op', { ...up_read(CP, c, 'cp_rwsem'), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    const k = 'checkpoint';
    const checkpoint = {
      initial: 'block_operations',
      states: {
        // write_checkpoint() -> block_operations(): f2fs_lock_all(sbi)
        block_operations: oneEvent(k, 'f2fs_lock_all', down_write(CP, k, 'do_checkpoint', 'cp_rwsem')),
        // do_checkpoint(); unblock_operations(): f2fs_unlock_all(sbi)
        do_checkpoint: oneEvent(k, 'f2fs_unlock_all', { ...up_write(CP, k, 'cp_rwsem'), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    return setup({ guards: { ...kernelGuards } as any, actions: { ...kernelActions } as any }).createMachine({
      id: 'f2fs-cp-rwsem',
      type: 'parallel',
      context: { cp_rwsem: params.steal ? rwsem() : rwsem({ readerSteal: false }) },
      states: { creat, checkpoint },
    });
  },
  waits: kernelWaits,
});
