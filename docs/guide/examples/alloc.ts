// Guide example 4 (docs/guide/kernel-checks.md): an allocation under a lock that reclaim takes.
// `write` holds &ip->i_lock (a mutex) and allocates; `kswapd` is in reclaim (holds the fs_reclaim map) and
// evicts the inode, which takes &ip->i_lock. lockdep: &ip->i_lock -> fs_reclaim -> &ip->i_lock.
//   variant `gfp-kernel`: kmalloc(GFP_KERNEL) under the lock: the cycle
//   variant `gfp-nofs`:   kmalloc(GFP_NOFS): no edge into fs_reclaim, a pass
//   variant `nofs-scope`: memalloc_nofs_save() after mutex_lock, memalloc_nofs_restore() before mutex_unlock
//                         (GFP_KERNEL inside the scope acts as GFP_NOFS): a pass
//   npx interleave check docs/guide/examples/alloc.ts --lock-order
import { defineModel, setup } from 'interleave';
import {
  fs_reclaim_acquire, fs_reclaim_release, kernelActions, kernelGuards, kernelWaits, kmalloc, memalloc, memalloc_nofs_restore,
  memalloc_nofs_save, mutex, mutex_lock, mutex_unlock, oneEvent,
} from 'interleave/kernel';

const LOCK = 'i_lock';
const NAME = '&ip->i_lock';
const MM = 'mm';

export default defineModel({
  name: 'guide-alloc',
  description: 'an allocation under a mutex that inode eviction in reclaim takes: L -> fs_reclaim -> L',
  params: {},
  variants: {
    'gfp-kernel': { description: 'kmalloc(GFP_KERNEL) under the mutex' },
    'gfp-nofs': { description: 'kmalloc(GFP_NOFS) under the mutex' },
    'nofs-scope': { description: 'kmalloc(GFP_KERNEL) inside memalloc_nofs_save() under the mutex' },
  },
  defaultVariant: 'gfp-kernel',
  create({ variant }) {
    const scope = variant === 'nofs-scope';
    const w = 'write';
    const write = {
      initial: 'lock',
      states: {
        lock: oneEvent(w, 'mutex_lock', {
          actions: [...mutex_lock(LOCK, w, NAME).actions!, ...(scope ? memalloc_nofs_save(MM, w).actions! : [])],
          guard: mutex_lock(LOCK, w, NAME).guard,
          target: 'alloc',
        }),
        alloc: oneEvent(w, 'kmalloc', { ...kmalloc(MM, w, variant === 'gfp-nofs' ? 'GFP_NOFS' : 'GFP_KERNEL'), target: 'unlock' }),
        unlock: oneEvent(w, 'mutex_unlock', {
          actions: [...(scope ? memalloc_nofs_restore(MM, w).actions! : []), ...mutex_unlock(LOCK, w, NAME).actions!],
          target: 'done',
        }),
        done: { type: 'final' as const },
      },
    };
    const k = 'kswapd';
    const kswapd = {
      initial: 'reclaim',
      states: {
        // balance_pgdat(): __fs_reclaim_acquire(); shrink_slab -> ... -> evict(inode)
        reclaim: oneEvent(k, 'fs_reclaim_acquire', { ...fs_reclaim_acquire(MM, k), target: 'evict' }),
        evict: oneEvent(k, 'mutex_lock', { ...mutex_lock(LOCK, k, NAME), target: 'evict_unlock' }),
        evict_unlock: oneEvent(k, 'mutex_unlock', { ...mutex_unlock(LOCK, k, NAME), target: 'reclaim_done' }),
        reclaim_done: oneEvent(k, 'fs_reclaim_release', { ...fs_reclaim_release(MM, k), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    return setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
      type: 'parallel',
      context: { [LOCK]: mutex(), [MM]: memalloc() },
      states: { write, kswapd },
    });
  },
  waits: kernelWaits,
});
