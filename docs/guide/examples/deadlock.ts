// Guide example 1 (docs/guide/kernel-checks.md): an ABBA deadlock between two mutexes.
// rename takes &a->lock then &b->lock; link takes them the other way round (variant `ordered`: both a then b).
//   npx interleave check docs/guide/examples/deadlock.ts            (exit 1: deadlock after 2 steps)
import { defineModel, setup } from 'interleave';
import { kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock, oneEvent } from 'interleave/kernel';

/** mutex_lock(first); mutex_lock(second); ...; mutex_unlock(second); mutex_unlock(first). */
function task(t: string, first: string, second: string) {
  const name = (l: string) => `&${l}->lock`;
  return {
    initial: 'lock_first',
    states: {
      lock_first: oneEvent(t, `lock_${first}`, { ...mutex_lock(first, t, name(first)), target: 'lock_second' }),
      lock_second: oneEvent(t, `lock_${second}`, { ...mutex_lock(second, t, name(second)), target: 'unlock' }),
      unlock: oneEvent(t, 'unlock', {
        actions: [...mutex_unlock(second, t, name(second)).actions!, ...mutex_unlock(first, t, name(first)).actions!],
        target: 'done',
      }),
      done: { type: 'final' as const },
    },
  };
}

export default defineModel({
  name: 'guide-deadlock',
  description: 'rename takes a then b, link takes b then a: ABBA deadlock',
  params: {},
  variants: {
    abba: { description: 'link takes b then a' },
    ordered: { description: 'both take a then b' },
  },
  defaultVariant: 'abba',
  create: ({ variant }) =>
    setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
      type: 'parallel',
      context: { a: mutex(), b: mutex() },
      states: {
        rename: task('rename', 'a', 'b'),
        link: variant === 'abba' ? task('link', 'b', 'a') : task('link', 'a', 'b'),
      },
    }),
  waits: kernelWaits,
});
