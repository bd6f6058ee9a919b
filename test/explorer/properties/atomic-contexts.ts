// The contexts the might_sleep() tests (might-sleep.test.ts, guard-sleep.test.ts) make their calls in: t0 between
// `lock` and `unlock` of the lock at context path `o` (atomic: a spinlock, rcu_read_lock(); not: a mutex, an SRCU reader).
import { mutex, mutex_lock, mutex_unlock, rcu, rcu_read_lock, rcu_read_unlock, spin_lock, spin_unlock, spinlock, srcu, srcu_read_lock, srcu_read_unlock } from '../../../machines/kernel/index.ts';

export type Outer = { ctx: any; lock: (t: string) => any; unlock: (t: string) => any; name: string };
export const underSpin: Outer = { ctx: spinlock(), lock: (t) => spin_lock('o', t, 'S'), unlock: (t) => spin_unlock('o', t, 'S'), name: 'S' };
export const underMutex: Outer = { ctx: mutex(), lock: (t) => mutex_lock('o', t, 'M'), unlock: (t) => mutex_unlock('o', t, 'M'), name: 'M' };
export const underSrcu: Outer = { ctx: srcu(), lock: (t) => srcu_read_lock('o', t, 'SRCU'), unlock: (t) => srcu_read_unlock('o', t, 'SRCU'), name: 'SRCU' };
export const underRcu: Outer = { ctx: rcu(), lock: (t) => rcu_read_lock('o', t), unlock: (t) => rcu_read_unlock('o', t), name: 'rcu_read_lock' };
