// btrfs: btrfs_qgroup_inherit() wrote the new qgroup's limit item (update_qgroup_limit_item) inside its
// spin_lock(&fs_info->qgroup_lock) section when the snapshot/subvolume ioctl asked to set limits
// (BTRFS_QGROUP_INHERIT_SET_LIMITS): the item update allocates a path and searches the quota tree, taking the quota
// root's extent buffer lock (an rw_semaphore since 5.13) under a spinlock: "BUG: sleeping function called from
// invalid context", lockdep's "Invalid wait context" once it gets to the tree lock. A rare path: only with the
// inherit flag, which few callers pass (syzkaller found it).
//
// Source: commit f7e942b5bb35 "btrfs: qgroup: fix sleep from invalid context bug in btrfs_qgroup_inherit()"
// (ChenXiaoSong, v6.1, CC stable 4.9+): "Fix this by calling qgroup_dirty() on @dstqgroup, and update limit item in
// btrfs_run_qgroups() later outside of the spinlock context." The splat quoted there is at kmem_cache_alloc
// (btrfs_alloc_path) in update_qgroup_limit_item, the first might_sleep() on that path.
//
// Kernel code mirrored (fs/btrfs, v6.0):
//   snap: btrfs_qgroup_inherit (qgroup.c), called from create_subvol / create_pending_snapshot:
//     spin_lock(&fs_info->qgroup_lock); dstgroup = add_qgroup_rb(fs_info, objectid);
//     if (inherit && inherit->flags & BTRFS_QGROUP_INHERIT_SET_LIMITS) { dstgroup->lim_* = inherit->lim.*;
//       before: ret = update_qgroup_limit_item(trans, dstgroup) -> btrfs_alloc_path; btrfs_search_slot(trans,
//         quota_root, &key, path, 0, 1) -> btrfs_lock_root_node -> btrfs_tree_lock -> down_write_nested(&eb->lock)
//         (the quota root is one leaf here; lockdep class btrfs-quota-00, btrfs_set_buffer_lockdep_class);
//         btrfs_set_qgroup_limit_*; btrfs_mark_buffer_dirty; btrfs_free_path -> btrfs_tree_unlock -> up_write;
//       after: qgroup_dirty(fs_info, dstgroup) (list_add to fs_info->dirty_qgroups) }
//     spin_unlock(&fs_info->qgroup_lock).
//   rescan: btrfs_qgroup_rescan_worker's tail (qgroup.c): trans = btrfs_start_transaction(fs_info->quota_root, 1);
//     mutex_lock(&fs_info->qgroup_rescan_lock); update_qgroup_status_item(trans) (a btrfs_search_slot on the quota root:
//     down_write/up_write of its lock); mutex_unlock; btrfs_end_transaction. It joins the running transaction like
//     create_subvol does, so it searches the quota tree while btrfs_qgroup_inherit runs: the snapshot can sleep on the
//     quota root's lock with qgroup_lock held.
//   commit: btrfs_commit_transaction waits for the transaction's writers (the snapshot's and the rescan's handles:
//     wait_event(cur_trans->writer_wait, num_writers == 1)), then commit_cowonly_roots -> btrfs_run_qgroups:
//     spin_lock(&fs_info->qgroup_lock); while (!list_empty(&fs_info->dirty_qgroups)) { list_del_init; spin_unlock;
//     update_qgroup_info_item; update_qgroup_limit_item (one quota tree search here); spin_lock; } spin_unlock.
//   The assertion limit_item_written (at the commit's end): a limit the ioctl set is in the quota tree once the
//   transaction commits: the fix's deferred write is not lost.
// Locks: machines/kernel/locks.ts (spinlock, rw_semaphore with lockdep's wait types: --lock-order reports an rwsem taken
// while a spinlock is held as an invalid wait context, in whichever interleaving reaches it).
// Not modelled: the allocation's might_sleep (the tool checks lock acquisitions, not GFP_KERNEL allocations: the
// splat's own line), the qgroup_ioctl_lock mutex btrfs_qgroup_inherit takes when not committing, the srcid branch
// (which only dirties under the lock in both versions), the quota tree being more than one leaf, btrfs_tree_lock's
// nesting subclass.
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import {
  cond_eq, down_write, kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock, oneEvent, rwsem, spin_lock, spin_unlock, spinlock, up_write,
} from '../kernel/index.ts';

const QLOCK = 'qgroup_lock';
const EB = 'quota_root_lock';
const RLOCK = 'qgroup_rescan_lock';
const QLOCK_NAME = '&fs_info->qgroup_lock';
const EB_NAME = 'btrfs-quota-00';
const RLOCK_NAME = '&fs_info->qgroup_rescan_lock';

export default defineModel({
  name: 'btrfs-qgroup-inherit-limit',
  description: 'btrfs: btrfs_qgroup_inherit() with BTRFS_QGROUP_INHERIT_SET_LIMITS writes the limit item (a quota tree search: the eb rw_semaphore) under spin_lock(qgroup_lock): invalid wait context (f7e942b5bb35)',
  source: 'commit f7e942b5bb35 (btrfs: qgroup: fix sleep from invalid context bug in btrfs_qgroup_inherit(), v6.1); fs/btrfs/qgroup.c, ctree.c, locking.c, transaction.c v6.0',
  params: {
    rescan: { default: true, description: 'a qgroup rescan worker updates the status item (a quota tree search) in the same transaction' },
  },
  variants: {
    'limit-under-spinlock': { description: 'before f7e942b5bb35: update_qgroup_limit_item() inside the qgroup_lock section' },
    fixed: { description: 'f7e942b5bb35: qgroup_dirty(dstgroup) under the lock; btrfs_run_qgroups() writes the item at commit with the spinlock dropped' },
  },
  defaultVariant: 'limit-under-spinlock',
  create({ params, variant }) {
    const s = 'snap';
    const snap = {
      initial: 'lock',
      states: {
        // spin_lock(&fs_info->qgroup_lock)
        lock: oneEvent(s, 'spin_lock', { ...spin_lock(QLOCK, s, QLOCK_NAME), target: 'add_rb' }),
        // dstgroup = add_qgroup_rb(); if (inherit && inherit->flags & BTRFS_QGROUP_INHERIT_SET_LIMITS): the ioctl's choice
        add_rb: {
          on: {
            [`${s}.inherit_set_limits`]: { actions: [{ type: 'set_limits' }], target: variant === 'fixed' ? 'dirty' : 'search' },
            [`${s}.inherit_no_limits`]: { actions: [{ type: 'add_rb' }], target: 'unlock' },
          },
        },
        ...(variant === 'fixed'
          ? {
              // qgroup_dirty(fs_info, dstgroup): list_add to fs_info->dirty_qgroups
              dirty: oneEvent(s, 'qgroup_dirty', { actions: [{ type: 'qgroup_dirty' }], target: 'unlock' }),
            }
          : {
              // update_qgroup_limit_item -> btrfs_search_slot(cow) -> btrfs_lock_root_node -> btrfs_tree_lock (down_write)
              search: oneEvent(s, 'btrfs_tree_lock', down_write(EB, s, { target: 'release', actions: [{ type: 'write_limit' }] }, EB_NAME)),
              // btrfs_set_qgroup_limit_*; btrfs_mark_buffer_dirty; btrfs_free_path -> btrfs_tree_unlock (up_write)
              release: oneEvent(s, 'btrfs_tree_unlock', { ...up_write(EB, s, EB_NAME), target: 'unlock' }),
            }),
        // spin_unlock(&fs_info->qgroup_lock); ... the ioctl's btrfs_end_transaction (num_writers--)
        unlock: oneEvent(s, 'spin_unlock', { actions: [...spin_unlock(QLOCK, s, QLOCK_NAME).actions!, { type: 'end_transaction' }], target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    const r = 'rescan';
    const rescan = {
      initial: 'lock',
      states: {
        // btrfs_start_transaction(fs_info->quota_root, 1) (counted in the initial num_writers); mutex_lock(&fs_info->qgroup_rescan_lock)
        lock: oneEvent(r, 'mutex_lock', { ...mutex_lock(RLOCK, r, RLOCK_NAME), target: 'search' }),
        // update_qgroup_status_item -> btrfs_search_slot -> btrfs_tree_lock (down_write)
        search: oneEvent(r, 'btrfs_tree_lock', down_write(EB, r, 'release', EB_NAME)),
        // btrfs_free_path -> btrfs_tree_unlock (up_write)
        release: oneEvent(r, 'btrfs_tree_unlock', { ...up_write(EB, r, EB_NAME), target: 'unlock' }),
        // mutex_unlock(&fs_info->qgroup_rescan_lock); btrfs_end_transaction (num_writers--)
        unlock: oneEvent(r, 'mutex_unlock', { actions: [...mutex_unlock(RLOCK, r, RLOCK_NAME).actions!, { type: 'end_transaction' }], target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    const c = 'commit';
    const writers = [s, ...(params.rescan ? [r] : [])];
    const commit = {
      initial: 'wait_writers',
      states: {
        // btrfs_commit_transaction: wait_event(cur_trans->writer_wait, atomic_read(&cur_trans->num_writers) == 1)
        wait_writers: oneEvent(c, 'wait_writers', { guard: cond_eq('num_writers', 0, { name: 'cur_trans->num_writers == 1', by: writers }), target: 'lock' }),
        // commit_cowonly_roots -> btrfs_run_qgroups: spin_lock(&fs_info->qgroup_lock)
        lock: oneEvent(c, 'spin_lock', { ...spin_lock(QLOCK, c, QLOCK_NAME), target: 'pick' }),
        // while (!list_empty(&fs_info->dirty_qgroups)) { qgroup = list_first_entry; list_del_init; spin_unlock; ... }
        pick: {
          on: {
            [`${c}.list_del_init`]: [
              { guard: 'has_dirty', actions: [{ type: 'pick_dirty' }, ...spin_unlock(QLOCK, c, QLOCK_NAME).actions!], target: 'search' },
              { target: 'unlock' },
            ],
          },
        },
        // update_qgroup_limit_item -> btrfs_search_slot -> btrfs_tree_lock (down_write)
        search: oneEvent(c, 'btrfs_tree_lock', down_write(EB, c, { target: 'release', actions: [{ type: 'write_picked' }] }, EB_NAME)),
        // btrfs_free_path -> btrfs_tree_unlock (up_write); spin_lock(&fs_info->qgroup_lock) again: the next one
        release: oneEvent(c, 'btrfs_tree_unlock', { ...up_write(EB, c, EB_NAME), target: 'lock' }),
        // spin_unlock(&fs_info->qgroup_lock); the transaction is on disk
        unlock: oneEvent(c, 'spin_unlock', { ...spin_unlock(QLOCK, c, QLOCK_NAME), target: 'done' }),
        done: { type: 'final' as const, meta: { assert: 'limit_item_written' } },
      },
    };
    return setup({
      guards: { ...kernelGuards, has_dirty: ({ context }: any) => context.dirty_qgroups.length > 0 } as any,
      actions: {
        ...kernelActions,
        add_rb: assign({ dstgroup: () => 'in_memory' }),
        set_limits: assign({ dstgroup: () => 'in_memory', limits: () => true }),
        qgroup_dirty: assign({ dirty_qgroups: ({ context }: any) => [...context.dirty_qgroups, 'dst'] }),
        write_limit: assign({ dstgroup: () => 'item_written' }),
        pick_dirty: assign({ dirty_qgroups: ({ context }: any) => context.dirty_qgroups.slice(1), picked: ({ context }: any) => context.dirty_qgroups[0] }),
        write_picked: assign({ dstgroup: ({ context }: any) => (context.picked === 'dst' ? 'item_written' : context.dstgroup), picked: () => '' }),
        end_transaction: assign({ num_writers: ({ context }: any) => context.num_writers - 1 }),
      } as any,
    }).createMachine({
      id: 'btrfs-qgroup-inherit-limit',
      type: 'parallel',
      // dstgroup: none, in_memory (add_qgroup_rb), item_written (its limit item is in the quota tree); limits: the
      // ioctl passed BTRFS_QGROUP_INHERIT_SET_LIMITS; num_writers: the handles other than the committer's
      context: {
        [QLOCK]: spinlock(),
        [EB]: rwsem(),
        [RLOCK]: mutex(),
        dirty_qgroups: [] as string[],
        picked: '',
        dstgroup: 'none',
        limits: false,
        num_writers: writers.length,
      },
      states: { snap, ...(params.rescan ? { rescan } : {}), commit } as any,
    });
  },
  assertions: {
    // the committed transaction has the limit item the ioctl asked for
    limit_item_written: (ctx: Context) => !ctx.limits || ctx.dstgroup === 'item_written',
  },
  footprints: {
    has_dirty: { reads: ['dirty_qgroups'] },
    add_rb: { writes: ['dstgroup'] },
    set_limits: { writes: ['dstgroup', 'limits'] },
    qgroup_dirty: { reads: ['dirty_qgroups'], writes: ['dirty_qgroups'] },
    write_limit: { writes: ['dstgroup'] },
    pick_dirty: { reads: ['dirty_qgroups'], writes: ['dirty_qgroups', 'picked'] },
    write_picked: { reads: ['picked', 'dstgroup'], writes: ['dstgroup', 'picked'] },
    end_transaction: { reads: ['num_writers'], writes: ['num_writers'] },
  },
  propertyFootprints: { limit_item_written: { context: ['limits', 'dstgroup'] } },
  waits: kernelWaits,
});
