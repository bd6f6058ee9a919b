// Guide example 3 (docs/guide/kernel-checks.md): a sleeping call in atomic context, on a rare path only.
// `evict` takes &inode->i_lock (a spinlock); only when `writeback` marked the inode dirty first does it take
// the slow path, which sleeps under the spinlock:
//   variant `mutex`:      mutex_lock(&ei->i_mmap_lock)   lockdep: "BUG: Invalid wait context"
//   variant `down`:       down(&ei->i_sem)                might_sleep(): "sleeping function called from invalid context"
//   variant `wait-event`: wait_event(wq, ei->ready) inside rcu_read_lock() instead of the spinlock
//   variant `fixed`:      the mutex is taken after spin_unlock
//   npx interleave check docs/guide/examples/sleep-in-atomic.ts --lock-order --variant down
import { assign, defineModel, setup } from 'interleave';
import {
  cond_true, down, kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock, oneEvent, rcu, rcu_read_lock,
  rcu_read_unlock, semaphore, spin_lock, spin_unlock, spinlock, up, wait_event,
} from 'interleave/kernel';

const E = 'evict';
const W = 'writeback';

export default defineModel({
  name: 'guide-sleep-in-atomic',
  description: 'evict sleeps under a spinlock (or in an RCU read section) only when writeback dirtied the inode first',
  params: {},
  variants: {
    mutex: { description: 'mutex_lock under spin_lock on the dirty path: Invalid wait context' },
    down: { description: 'down() under spin_lock on the dirty path: sleeping function called from invalid context' },
    'wait-event': { description: 'wait_event() inside rcu_read_lock() on the dirty path' },
    fixed: { description: 'spin_unlock before mutex_lock on the dirty path' },
  },
  defaultVariant: 'mutex',
  create({ variant }) {
    const rcuSide = variant === 'wait-event';
    // enter/leave atomic context: spin_lock(&inode->i_lock), or rcu_read_lock()
    const enter = rcuSide ? rcu_read_lock('rcu', E) : spin_lock('i_lock', E, '&inode->i_lock');
    const leave = rcuSide ? rcu_read_unlock('rcu', E) : spin_unlock('i_lock', E, '&inode->i_lock');
    // the slow path's sleeping call, from state `slow` to state `slow_done`
    const slow =
      variant === 'down'
        ? oneEvent(E, 'down', down('i_sem', E, 'slow_done', { name: '&ei->i_sem' }))
        : variant === 'wait-event'
          ? oneEvent(E, 'wait_event', { ...wait_event(cond_true('ready', { name: 'ei->ready', by: [W] })), target: 'slow_done' })
          : oneEvent(E, 'mutex_lock', { ...mutex_lock('i_mmap_lock', E, '&ei->i_mmap_lock'), target: 'slow_done' });
    const slowRelease =
      variant === 'down'
        ? up('i_sem', E, { name: '&ei->i_sem' }).actions!
        : variant === 'wait-event'
          ? []
          : mutex_unlock('i_mmap_lock', E, '&ei->i_mmap_lock').actions!;
    const fixed = variant === 'fixed';
    const evict = {
      initial: 'lock',
      states: {
        lock: oneEvent(E, rcuSide ? 'rcu_read_lock' : 'spin_lock', { ...enter, target: 'check' }),
        // if (inode->i_state & I_DIRTY) take the slow path (fixed: after dropping the spinlock)
        check: oneEvent(E, 'check_dirty', [
          { guard: 'dirty', actions: fixed ? leave.actions! : [], target: 'slow' },
          { actions: leave.actions!, target: 'done' },
        ]),
        slow,
        slow_done: oneEvent(E, 'unlock', { actions: [...slowRelease, ...(fixed ? [] : leave.actions!)], target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    const writeback = {
      initial: 'dirty',
      states: {
        // __mark_inode_dirty(); ei->ready = true
        dirty: oneEvent(W, 'mark_dirty', { actions: [{ type: 'mark_dirty' }], target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    return setup({
      guards: { ...kernelGuards, dirty: ({ context }: any) => context.dirty } as any,
      actions: { ...kernelActions, mark_dirty: assign({ dirty: () => true, ready: () => true }) } as any,
    }).createMachine({
      type: 'parallel',
      context: { i_lock: spinlock(), i_mmap_lock: mutex(), i_sem: semaphore(1), rcu: rcu(), dirty: false, ready: false },
      states: { evict, writeback },
    });
  },
  waits: kernelWaits,
});
