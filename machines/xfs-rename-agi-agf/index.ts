// XFS: rename() over an existing target took the AGF buffer lock before the AGI buffer lock of the same AG, against
// inode allocation's AGI -> AGF. Both are xfs_buf locks, the buffer's struct semaphore b_sema (xfs_buf_lock:
// down(&bp->b_sema)), held until the transaction commits; lockdep does not track semaphores, so only the deadlock
// itself shows it (the tool's --lock-order check, like lockdep, records nothing here).
//
// Source: commit 93597ae8dac0 "xfs: Fix deadlock between AGI and AGF when target_ip exists in xfs_rename()" (kaixuxia,
// v5.5; stable 5.4 in 2022): "the xfs_dir_replace() call may need to hold the AGF lock to allocate more blocks, and then
// invoking the xfs_droplink() call to hold AGI lock to drop target_ip onto the unlinked list, so we get the lock order
// AGF->AGI. This would break the ordering constraint on AGI and AGF locking - inode allocation locks the AGI, then can
// allocate a new extent for new inodes, locking the AGF after the AGI." The fix: when xfs_dir2_sf_replace_needblock()
// (the shortform target directory must become a block directory: the new inode number needs 8 bytes and the fork has
// no room), xfs_read_agi() of target_ip's AG before xfs_dir_replace(). xfs_droplink()'s xfs_iunlink() then finds the AGI
// already joined to the transaction (xfs_trans_read_buf_map: xfs_trans_buf_item_match, bli_recur++: no second down()).
// (A later fix, for overlayfs' RENAME_WHITEOUT over a single-link file, reads the AGI of every inode that goes onto or
// off the unlinked list at the top of xfs_rename, in AG order, and drops this check; not modelled.)
//
// Kernel code mirrored (fs/xfs, v5.4):
//   rename: xfs_rename (xfs_inode.c), target_ip exists with nlink 1, same AG as the allocation below:
//     xfs_dir_replace -> xfs_dir2_sf_replace -> xfs_dir2_sf_to_block -> xfs_dir2_grow_inode -> xfs_bmapi_write ->
//       xfs_alloc_vextent -> xfs_alloc_fix_freelist -> xfs_alloc_read_agf -> xfs_trans_read_buf -> xfs_buf_lock
//       (down(&agf_bp->b_sema));
//     xfs_droplink -> xfs_iunlink -> xfs_read_agi -> xfs_trans_read_buf -> xfs_buf_lock (down(&agi_bp->b_sema));
//     xfs_finish_rename -> xfs_trans_commit -> xfs_trans_free_items -> xfs_buf_item_release -> xfs_buf_relse ->
//       xfs_buf_unlock (up(&bp->b_sema)), in the order the buffers joined the transaction.
//   create: xfs_create -> xfs_dir_ialloc -> xfs_ialloc -> xfs_dialloc (libxfs/xfs_ialloc.c): xfs_ialloc_read_agi
//     (down AGI); the AG has no free inode: xfs_ialloc_ag_alloc -> xfs_alloc_vextent -> ... -> xfs_alloc_read_agf
//     (down AGF); xfs_trans_commit releases both (AGI, then AGF).
// Semaphores: machines/kernel/semaphore.ts (down()'s FIFO handoff); the AGI and AGF are binary (xfs_buf's b_sema is
// sema_init(&bp->b_sema, 0) at allocation and up()ed once the buffer is set up: free = count 1).
// Not modelled: several AGs (the bug needs the AGI and AGF of the same AG; across AGs xfs orders by AG number), the
// transaction roll in xfs_dir_ialloc (the AGI stays held: bhold), the whiteout inode (RENAME_WHITEOUT's own AGI
// ordering), log space reservations.
import { setup } from 'xstate';
import { defineModel } from '../../explorer/model.ts';
import { down, kernelActions, kernelGuards, kernelWaits, oneEvent, semaphore, up } from '../kernel/index.ts';

const AGI = 'agi_b_sema';
const AGF = 'agf_b_sema';
const AGI_NAME = 'agi_bp->b_sema';
const AGF_NAME = 'agf_bp->b_sema';

export default defineModel({
  name: 'xfs-rename-agi-agf',
  description: 'XFS: xfs_rename() over an existing target locks the AGF (directory block allocation) before the AGI (xfs_droplink), against inode allocation\'s AGI -> AGF: an ABBA on two xfs_buf semaphores (93597ae8dac0)',
  source: 'commit 93597ae8dac0 (xfs: Fix deadlock between AGI and AGF when target_ip exists in xfs_rename(), v5.5); fs/xfs/xfs_inode.c, libxfs/xfs_ialloc.c, libxfs/xfs_dir2_sf.c v5.4',
  params: {},
  variants: {
    'agf-then-agi': { description: 'before 93597ae8dac0: xfs_dir_replace() converts the shortform directory to a block (AGF), then xfs_droplink() reads the AGI' },
    fixed: { description: '93597ae8dac0: xfs_dir2_sf_replace_needblock() is true, so xfs_read_agi() first; xfs_droplink() finds the AGI in the transaction' },
  },
  defaultVariant: 'agf-then-agi',
  create({ variant }) {
    const r = 'rename';
    const lock = (t: string, ev: string, sem: string, name: string, next: string) => oneEvent(t, ev, down(sem, t, next, { name }));
    const relse = (t: string, sem: string, name: string, next: string) => oneEvent(t, 'xfs_buf_relse', { ...up(sem, t, { name }), target: next });
    const rename = {
      initial: variant === 'fixed' ? 'needblock' : 'replace',
      states: {
        ...(variant === 'fixed'
          ? {
              // if (xfs_dir2_sf_replace_needblock(target_dp, src_ip->i_ino)) xfs_read_agi(mp, tp, XFS_INO_TO_AGNO(target_ip), &agibp)
              needblock: lock(r, 'xfs_read_agi', AGI, AGI_NAME, 'replace'),
              // xfs_dir_replace -> xfs_dir2_sf_to_block -> ... xfs_alloc_read_agf
              replace: lock(r, 'xfs_alloc_read_agf', AGF, AGF_NAME, 'droplink'),
              // xfs_droplink -> xfs_iunlink -> xfs_read_agi: the AGI is the transaction's already (bli_recur++)
              droplink: oneEvent(r, 'xfs_iunlink', { target: 'commit_agi' }),
              // xfs_trans_commit: the buffers are released in the order they joined: AGI, AGF
              commit_agi: relse(r, AGI, AGI_NAME, 'commit_agf'),
              commit_agf: relse(r, AGF, AGF_NAME, 'done'),
            }
          : {
              // xfs_dir_replace -> xfs_dir2_sf_replace -> xfs_dir2_sf_to_block -> ... xfs_alloc_read_agf (down AGF)
              replace: lock(r, 'xfs_alloc_read_agf', AGF, AGF_NAME, 'droplink'),
              // xfs_droplink -> xfs_iunlink -> xfs_read_agi (down AGI)
              droplink: lock(r, 'xfs_read_agi', AGI, AGI_NAME, 'commit_agf'),
              // xfs_trans_commit: AGF, then AGI
              commit_agf: relse(r, AGF, AGF_NAME, 'commit_agi'),
              commit_agi: relse(r, AGI, AGI_NAME, 'done'),
            }),
        done: { type: 'final' as const },
      },
    };
    const c = 'create';
    const create = {
      initial: 'dialloc',
      states: {
        // xfs_dialloc -> xfs_ialloc_read_agi (down AGI)
        dialloc: lock(c, 'xfs_ialloc_read_agi', AGI, AGI_NAME, 'ag_alloc'),
        // no free inode in the AG: xfs_ialloc_ag_alloc -> xfs_alloc_vextent -> ... xfs_alloc_read_agf (down AGF)
        ag_alloc: lock(c, 'xfs_alloc_read_agf', AGF, AGF_NAME, 'commit_agi'),
        // xfs_trans_commit: AGI, then AGF
        commit_agi: relse(c, AGI, AGI_NAME, 'commit_agf'),
        commit_agf: relse(c, AGF, AGF_NAME, 'done'),
        done: { type: 'final' as const },
      },
    };
    return setup({ guards: kernelGuards as any, actions: kernelActions as any }).createMachine({
      id: 'xfs-rename-agi-agf',
      type: 'parallel',
      // one AG: its AGI and AGF buffers, both unlocked (b_sema count 1)
      context: { [AGI]: semaphore(1), [AGF]: semaphore(1) },
      states: { rename, create } as any,
    });
  },
  waits: kernelWaits,
});
