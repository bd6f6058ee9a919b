// Guide example 2 (docs/guide/kernel-checks.md): an ABBA inversion that never deadlocks.
// Both threads take the outer &sb->s_umount first, so they never overlap inside it and no interleaving
// deadlocks; lockdep still records &a->lock -> &b->lock and &b->lock -> &a->lock: "possible circular locking
// dependency". Variant `ordered` takes a then b in both.
//   npx interleave check docs/guide/examples/lock-order.ts --lock-order     (exit 1: lock-order &a->lock -> &b->lock -> &a->lock)
import { defineModel, setup } from 'interleave';
import { kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock, oneEvent } from 'interleave/kernel';

const name = (l: string) => (l === 'umount' ? '&sb->s_umount' : `&${l}->lock`);

/** mutex_lock(umount); mutex_lock(first); mutex_lock(second); unlock all three. */
function task(t: string, first: string, second: string) {
  return {
    initial: 'lock_umount',
    states: {
      lock_umount: oneEvent(t, 'lock_umount', { ...mutex_lock('umount', t, name('umount')), target: 'lock_first' }),
      lock_first: oneEvent(t, `lock_${first}`, { ...mutex_lock(first, t, name(first)), target: 'lock_second' }),
      lock_second: oneEvent(t, `lock_${second}`, { ...mutex_lock(second, t, name(second)), target: 'unlock' }),
      unlock: oneEvent(t, 'unlock', {
        actions: [second, first, 'umount'].flatMap((l) => mutex_unlock(l, t, name(l)).actions!),
        target: 'done',
      }),
      done: { type: 'final' as const },
    },
  };
}

export default defineModel({
  name: 'guide-lock-order',
  description: 'a then b, and b then a, both under s_umount: no deadlock, but a lock-order inversion',
  params: {},
  variants: {
    abba: { description: 'remount takes b then a (under s_umount)' },
    ordered: { description: 'both take a then b' },
  },
  defaultVariant: 'abba',
  create: ({ variant }) =>
    setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
      type: 'parallel',
      context: { umount: mutex(), a: mutex(), b: mutex() },
      states: {
        sync: task('sync', 'a', 'b'),
        remount: variant === 'abba' ? task('remount', 'b', 'a') : task('remount', 'a', 'b'),
      },
    }),
  waits: kernelWaits,
});
