// Kernel primitives for models: named guards/actions/wait describers plus C-like call helpers (issue 4).
//
// Usage in a model:
//   import { kernelGuards, kernelActions, kernelWaits, rwsem, sbWriters, down_write, sb_start_write } from '../kernel/index.ts';
//   setup({ guards: { ...kernelGuards, ...mine }, actions: { ...kernelActions, ...mine } }).createMachine({
//     type: 'parallel', context: { s_umount: rwsem(), s_writers: sbWriters() }, states: { ...threads } })
//   defineModel({ ..., waits: { ...kernelWaits, ...mine } })
// Each primitive's state is plain data at a context path the model picks ("s_umount", "inodes.0.lock").
// Files: locks.ts (mutex, spinlock, rw_semaphore, percpu_rw_semaphore, sb_writers), freeze.ts
// (freeze_super/thaw_super fragments), waitqueue.ts (wait_event conditions, wait queues, completions),
// workqueue.ts, pipe.ts, folio.ts (folio lock), btree.ts (bcachefs btree_trans over six locks), btrfs-trans.ts
// (btrfs transactions: join types, commit states), jbd2.ts (jbd2 handles, lock_updates, commit), rcu.ts (RCU and
// SRCU read-side sections, synchronize_rcu/synchronize_srcu grace periods), seqlock.ts (seqcount_t and seqlock_t:
// write sections, lockless read samples and retries), semaphore.ts (struct semaphore: down, up, down_trylock),
// waitbit.ts (wait_on_bit, wait_on_bit_lock, wake_up_bit, bit operations), alloc.ts (kmalloc with its gfp mask,
// fs_reclaim_acquire/release, memalloc_nofs/noio_save/restore: lockdep's fs_reclaim map), state.ts
// (initial states of every primitive: a lock already held, work already pending, ...; read-only views).
import { allocActions } from './alloc.ts';
import { btreeActions, btreeGuards, btreeWaits } from './btree.ts';
import { btrfsTransActions, btrfsTransGuards, btrfsTransWaits } from './btrfs-trans.ts';
import { jbd2Actions, jbd2Guards, jbd2Waits } from './jbd2.ts';
import { folioActions, folioGuards, folioWaits } from './folio.ts';
import { lockActions, lockGuards, lockWaits } from './locks.ts';
import { pipeActions, pipeGuards, pipeWaits } from './pipe.ts';
import { seqActions, seqGuards, seqWaits } from './seqlock.ts';
import { rcuActions, rcuGuards, rcuWaits } from './rcu.ts';
import { semaActions, semaGuards, semaWaits } from './semaphore.ts';
import { bitActions, bitGuards, bitWaits } from './waitbit.ts';
import type { WaitFn } from './types.ts';
import { waitActions, waitGuards, waitWaits } from './waitqueue.ts';
import { workqueueActions, workqueueGuards, workqueueWaits } from './workqueue.ts';

export * from './locks.ts';
export * from './freeze.ts';
export * from './waitqueue.ts';
export * from './workqueue.ts';
export * from './pipe.ts';
export * from './folio.ts';
export * from './btree.ts';
export * from './btrfs-trans.ts';
export * from './jbd2.ts';
export * from './seqlock.ts';
export * from './rcu.ts';
export * from './semaphore.ts';
export * from './waitbit.ts';
export * from './alloc.ts';
export * from './state.ts';
export type { KAction, KGuard, WaitFn } from './types.ts';
// withLock / withRelease / withMightSleep: the lock-order declarations for a model's own acquiring, releasing or
// sleeping calls (an RPC, a helper: calls the primitives do not have; allocations are alloc.ts), as docs/kernel-primitives.md lists them.
export { kAssign, oneEvent, withLock, withMightSleep, withRelease } from './types.ts';
export { getIn, patchIn, updateIn } from './path.ts';

/** Every kernel guard implementation, to spread into setup({ guards }). */
export const kernelGuards = {
  ...lockGuards,
  ...waitGuards,
  ...workqueueGuards,
  ...pipeGuards,
  ...folioGuards,
  ...btreeGuards,
  ...btrfsTransGuards,
  ...jbd2Guards,
  ...seqGuards,
  ...rcuGuards,
  ...semaGuards,
  ...bitGuards,
};
/** Every kernel assign action, to spread into setup({ actions }). */
export const kernelActions = {
  ...lockActions,
  ...waitActions,
  ...workqueueActions,
  ...pipeActions,
  ...folioActions,
  ...btreeActions,
  ...btrfsTransActions,
  ...jbd2Actions,
  ...seqActions,
  ...rcuActions,
  ...semaActions,
  ...bitActions,
  ...allocActions,
};
/** Wait describers for the blocking guards, to spread into the model's `waits`. */
export const kernelWaits: Record<string, WaitFn> = {
  ...lockWaits,
  ...waitWaits,
  ...workqueueWaits,
  ...pipeWaits,
  ...folioWaits,
  ...btreeWaits,
  ...btrfsTransWaits,
  ...jbd2Waits,
  ...seqWaits,
  ...rcuWaits,
  ...semaWaits,
  ...bitWaits,
};
