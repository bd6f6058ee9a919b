// fs/locks.c: locks_delete_lock() freed the removed file_lock (locks_free_lock -> locks_release_private ->
// fl->fl_ops->fl_release_private) with inode->i_lock held. For NFSv4 that callback is nfs4_fl_release_lock ->
// nfs4_put_lock_state(), which, when it drops the LAST reference to the lock state, frees it with an RPC
// (free_lock_state: FREE_STATEID on 4.1, RELEASE_LOCKOWNER on 4.0; a GFP_NOFS allocation that may sleep): "BUG:
// sleeping function called from invalid context" under a spinlock, but only when every other reference to the
// lock state was put first (an in-flight LOCK/LOCKU RPC's calldata holds one, put from rpciod in its rpc_release).
// In the other interleavings the put under i_lock only decrements the count and nothing sleeps.
//
// Source: commit ed9814d85810 "locks: defer freeing locks in locks_delete_lock until after i_lock has been dropped"
// (Jeff Layton, v3.18): "In commit 72f98e72551fa (locks: turn lock_flocks into a spinlock), we moved from using the
// BKL to a global spinlock. With this change, we lost the ability to block in the fl_release_private operation. This
// is problematic for NFS ... add a new locks_dispose_list function that will walk such a list and call
// locks_free_lock on them after the i_lock has been dropped."
//
// Kernel code mirrored:
//   unlock: fcntl(F_SETLK, F_UNLCK) -> posix_lock_file -> __posix_lock_file (fs/locks.c v3.17):
//     spin_lock(&inode->i_lock); ... locks_delete_lock(before)
//       before: locks_delete_global_locks; locks_wake_up_blocks; locks_free_lock(fl) -> locks_release_private ->
//         fl->fl_ops->fl_release_private(fl) = nfs4_fl_release_lock -> nfs4_put_lock_state(lsp) (all under i_lock)
//       after:  locks_delete_lock(before, &dispose): list_add(&fl->fl_block, dispose)
//     spin_unlock(&inode->i_lock); after: locks_dispose_list(&dispose) -> locks_free_lock(fl) -> ... the same put.
//   rpciod: nfs4_locku_release_calldata / nfs4_lock_release (fs/nfs/nfs4proc.c) -> nfs4_put_lock_state(lsp), the
//     calldata's reference (nfs4_alloc_unlockdata / nfs4_alloc_lockdata: atomic_inc(&lsp->ls_count)).
//   nfs4_put_lock_state (fs/nfs/nfs4state.c): if (!atomic_dec_and_lock(&lsp->ls_count, &state->state_lock)) return;
//     list_del(&lsp->ls_locks); ... spin_unlock(&state->state_lock);
//     if (NFS_LOCK_INITIALIZED) clp->cl_mvops->free_lock_state(server, lsp); else nfs4_free_lock_state(server, lsp).
//   The sleeping call is modelled as one might_sleep() point on the last put's free_lock_state step (withMightSleep,
//   LockAcquisition.sleepOnly, named free_lock_state): the tool has no allocation primitive, and this is where the
//   RPC is allocated and started.
// Locks: machines/kernel/locks.ts spinlocks (&inode->i_lock, &state->state_lock: atomic_dec_and_lock takes it only
// when the count reaches zero).
// Not modelled: the blocked-lock waiters and their wake-up, the global file_lock lists, the RPC itself, leases
// (lease_modify still freed under the lock after the fix, as its message says: no NFS lease sets fl_release_private).
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import { kernelActions, kernelGuards, kernelWaits, oneEvent, spin_lock, spin_unlock, spinlock, withMightSleep } from '../kernel/index.ts';

const ILOCK = 'i_lock';
const SLOCK = 'state_lock';
const ILOCK_NAME = '&inode->i_lock';
const SLOCK_NAME = '&state->state_lock';

/** nfs4_put_lock_state(lsp) by thread `t`: the decrement, the last put's list_del under state_lock, free_lock_state. */
function put(t: string, prefix: string, after: string) {
  const take = spin_lock(SLOCK, t, SLOCK_NAME);
  return {
    // atomic_dec_and_lock(&lsp->ls_count, &state->state_lock): the last reference takes state_lock
    [`${prefix}put`]: {
      on: {
        [`${t}.nfs4_put_lock_state`]: [
          { guard: { type: 'ls_count_is', params: { n: 1 } }, actions: [...take.actions!, { type: 'ls_count_dec' }], target: `${prefix}list_del` },
          { guard: { type: 'ls_count_above', params: { n: 1 } }, actions: [{ type: 'ls_count_dec' }], target: after },
        ],
      },
    },
    // list_del(&lsp->ls_locks); spin_unlock(&state->state_lock)
    [`${prefix}list_del`]: oneEvent(t, 'list_del', { ...spin_unlock(SLOCK, t, SLOCK_NAME), target: `${prefix}free` }),
    // clp->cl_mvops->free_lock_state(server, lsp): an RPC, allocated GFP_NOFS: may sleep
    [`${prefix}free`]: oneEvent(t, 'free_lock_state', { actions: [{ type: 'free_lock_state', params: { thread: t } }], target: after }),
  };
}

export default defineModel({
  name: 'locks-release-private',
  description:
    'fs/locks.c: locks_delete_lock() freed the file_lock under inode->i_lock; NFSv4 fl_release_private puts the lock state and, on the last reference, frees it with an RPC that may sleep (ed9814d85810)',
  source:
    'commit ed9814d85810 (locks: defer freeing locks in locks_delete_lock until after i_lock has been dropped, v3.18); fs/locks.c __posix_lock_file / locks_delete_lock / locks_free_lock v3.17; fs/nfs/nfs4state.c nfs4_put_lock_state, nfs4_fl_release_lock; fs/nfs/nfs4proc.c nfs4_locku_release_calldata',
  params: {
    rpc: { default: true, description: 'an in-flight LOCKU RPC holds a second reference to the lock state, put from rpciod' },
  },
  variants: {
    'free-under-i-lock': { description: 'before ed9814d85810: locks_delete_lock() calls locks_free_lock() with i_lock held' },
    fixed: { description: 'ed9814d85810: locks_delete_lock() queues the lock on a dispose list, freed by locks_dispose_list() after spin_unlock(&inode->i_lock)' },
  },
  defaultVariant: 'free-under-i-lock',
  create({ params, variant }) {
    const u = 'unlock';
    const fixed = variant === 'fixed';
    const unlock = {
      initial: 'lock',
      states: {
        // __posix_lock_file: spin_lock(&inode->i_lock)
        lock: oneEvent(u, 'spin_lock', { ...spin_lock(ILOCK, u, ILOCK_NAME), target: 'delete' }),
        // locks_delete_lock(before[, &dispose]): unlink fl; before: locks_free_lock(fl) -> fl_release_private
        delete: oneEvent(u, 'locks_delete_lock', { actions: [{ type: 'unlink_lock' }], target: fixed ? 'unlock' : 'put' }),
        ...(fixed ? {} : put(u, '', 'unlock')),
        // spin_unlock(&inode->i_lock)
        unlock: oneEvent(u, 'spin_unlock', { ...spin_unlock(ILOCK, u, ILOCK_NAME), target: fixed ? 'dispose_put' : 'done' }),
        // fixed: locks_dispose_list(&dispose) -> locks_free_lock(fl) -> nfs4_fl_release_lock, without i_lock
        ...(fixed ? put(u, 'dispose_', 'done') : {}),
        done: { type: 'final' as const },
      },
    };
    const r = 'rpciod';
    const rpciod = {
      initial: 'put',
      states: {
        // nfs4_locku_release_calldata: nfs4_put_lock_state(calldata->lsp)
        ...put(r, '', 'done'),
        done: { type: 'final' as const },
      },
    };
    return setup({
      guards: {
        ...kernelGuards,
        ls_count_is: ({ context }: any, p: { n: number }) => context.ls_count === p.n,
        ls_count_above: ({ context }: any, p: { n: number }) => context.ls_count > p.n,
      } as any,
      actions: {
        ...kernelActions,
        unlink_lock: assign({ fl_linked: () => false }),
        ls_count_dec: assign({ ls_count: ({ context }: any) => context.ls_count - 1 }),
        free_lock_state: withMightSleep(assign({ lsp_freed: () => true }), { kind: 'nfs4_lock_state', path: () => 'lsp', name: () => 'free_lock_state' }),
      } as any,
    }).createMachine({
      id: 'locks-release-private',
      type: 'parallel',
      // ls_count: references to the nfs4_lock_state (the file_lock on the inode's list, the RPC's calldata);
      // fl_linked: the file_lock is on inode->i_flock; lsp_freed: free_lock_state ran
      context: {
        [ILOCK]: spinlock(),
        [SLOCK]: spinlock(),
        ls_count: params.rpc ? 2 : 1,
        fl_linked: true,
        lsp_freed: false,
      },
      states: { unlock, ...(params.rpc ? { rpciod } : {}) } as any,
    });
  },
  invariants: {
    // the lock state is freed once, after its last reference
    freed_after_last_put: (ctx: Context) => !ctx.lsp_freed || ctx.ls_count === 0,
  },
  footprints: {
    ls_count_is: { reads: ['ls_count'] },
    ls_count_above: { reads: ['ls_count'] },
    unlink_lock: { writes: ['fl_linked'] },
    ls_count_dec: { reads: ['ls_count'], writes: ['ls_count'] },
    free_lock_state: { writes: ['lsp_freed'] },
  },
  propertyFootprints: { freed_after_last_put: { context: ['lsp_freed', 'ls_count'] } },
  waits: kernelWaits,
});
