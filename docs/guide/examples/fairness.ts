// Guide example 5 (docs/guide/kernel-checks.md): starvation on a mutex, weak vs strong fairness.
// Two tasks loop forever: mutex_lock(&m); critical section; mutex_unlock(&m).
//   variant `owner-only`: machines/kernel's mutex(): the releaser may take it again before the waiter runs
//   variant `handoff`:    handoffMutex() + mutex_lock_handoff, the kernel's mutex: a newcomer may steal it, but
//                         the first waiter that finds it stolen sets MUTEX_FLAG_HANDOFF and gets it next
// Specs beside it (check.starvation, check.fairness):
//   npx interleave check docs/guide/examples/fairness-weak.json      starvation of task1 under weak fairness
//   npx interleave check docs/guide/examples/fairness-strong.json    pass: strong fairness assumes the waiter in
//   npx interleave check docs/guide/examples/fairness-handoff.json   pass under weak fairness
import { defineModel, setup } from 'interleave';
import { handoffMutex, kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_lock_handoff, mutex_unlock, oneEvent } from 'interleave/kernel';

export default defineModel({
  name: 'guide-fairness',
  description: 'two tasks looping on one mutex: the owner-only mutex() can starve a waiter, the handoff mutex cannot',
  params: {},
  variants: {
    'owner-only': { description: "mutex(): mutex_lock takes it whenever it is free" },
    handoff: { description: "handoffMutex(): the kernel's mutex with MUTEX_FLAG_HANDOFF" },
  },
  defaultVariant: 'owner-only',
  create({ variant }) {
    const handoff = variant === 'handoff';
    const task = (t: string) => ({
      initial: 'lock',
      states: {
        lock: oneEvent(t, 'mutex_lock', handoff ? mutex_lock_handoff('m', t, 'critical') : { ...mutex_lock('m', t), target: 'critical' }),
        critical: oneEvent(t, 'mutex_unlock', { ...mutex_unlock('m', t), target: 'lock' }),
      },
    });
    return setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
      type: 'parallel',
      context: { m: handoff ? handoffMutex() : mutex() },
      states: { task0: task('task0'), task1: task('task1') },
    });
  },
  waits: kernelWaits,
});
