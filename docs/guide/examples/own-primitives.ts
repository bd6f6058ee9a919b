// Guide example 6 (docs/guide/kernel-checks.md): declaring your own lock and your own sleeping call.
// bit_spin_lock(BH_Lock, &bh->b_state) is a model's own lock (withLock, with lockdep's wait type `spin`), and
// nfs_rpc_call() a model's own sleeping call (withMightSleep: a might_sleep() point that is no lock).
//   variant `rpc`:   the RPC under the bit spinlock: "sleeping function called from invalid context"
//   variant `mutex`: mutex_lock() under the bit spinlock: "Invalid wait context"
//   variant `fixed`: the RPC after bit_spin_unlock: a pass
//   npx interleave check docs/guide/examples/own-primitives.ts --lock-order --variant rpc
import { assign, defineModel, setup, type Context } from 'interleave';
import { kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock, oneEvent, withLock, withMightSleep, withRelease } from 'interleave/kernel';

type BitLock = { owner: string | null };
type LockP = { lock: string; thread: string; name: string };
type RpcP = { clnt: string; thread: string };

// Who holds the bit lock, for the lock-order check: the slice at the lock's path, and the asking thread.
const holds = (s: BitLock, thread: string) => (s?.owner === thread ? ('write' as const) : null);

const actions = {
  // bit_spin_lock(): takes the bit; its class has lockdep's wait type LD_WAIT_SPIN (inner: 'spin')
  bit_spin_lock: withLock(
    assign(({ context }: { context: Context }, p: LockP) => ({ [p.lock]: { owner: p.thread } })),
    { kind: 'bit_spin_lock', mode: 'write', holds, wait: { inner: 'spin' } },
  ),
  // bit_spin_unlock(): ends the thread's hold, so what the same step takes after it is not taken under it
  bit_spin_unlock: withRelease(
    assign(({ context }: { context: Context }, p: LockP) => ({ [p.lock]: { owner: null } })),
    { kind: 'bit_spin_lock', holds, wait: { inner: 'spin' } },
  ),
  // nfs_rpc_call(): may sleep (rpc_wait_for_completion_task); lockdep tracks nothing here
  nfs_rpc_call: withMightSleep(
    assign(({ context }: { context: Context }, p: RpcP) => ({ calls: context.calls + 1 })),
    { kind: 'rpc', path: (p: RpcP) => p.clnt, name: () => 'nfs_rpc_call' },
  ),
};
const guards = { bit_spin_free: ({ context }: { context: Context }, p: LockP) => context[p.lock].owner === null };

const BH = { lock: 'b_state', name: 'BH_Lock' };
const lockStep = (t: string) => ({ guard: { type: 'bit_spin_free', params: { ...BH, thread: t } }, actions: [{ type: 'bit_spin_lock', params: { ...BH, thread: t } }] });
const unlockAction = (t: string) => ({ type: 'bit_spin_unlock', params: { ...BH, thread: t } });
const rpcAction = (t: string) => ({ type: 'nfs_rpc_call', params: { clnt: 'clnt', thread: t } });

export default defineModel({
  name: 'guide-own-primitives',
  description: "a model's own bit spinlock (withLock) and own sleeping call (withMightSleep)",
  params: {},
  variants: {
    rpc: { description: 'nfs_rpc_call() under bit_spin_lock()' },
    mutex: { description: 'mutex_lock() under bit_spin_lock()' },
    fixed: { description: 'nfs_rpc_call() after bit_spin_unlock()' },
  },
  defaultVariant: 'rpc',
  create({ variant }) {
    const t = 'flush';
    const inner =
      variant === 'mutex'
        ? { ...mutex_lock('m', t, '&nfsi->commit_mutex'), actions: [...mutex_lock('m', t, '&nfsi->commit_mutex').actions!, ...mutex_unlock('m', t, '&nfsi->commit_mutex').actions!] }
        : { actions: variant === 'rpc' ? [rpcAction(t)] : [] };
    const flush = {
      initial: 'lock',
      states: {
        lock: oneEvent(t, 'bit_spin_lock', { ...lockStep(t), target: 'inner' }),
        inner: oneEvent(t, variant === 'mutex' ? 'mutex_lock' : 'nfs_rpc_call', { ...inner, target: 'unlock' }),
        unlock: oneEvent(t, 'bit_spin_unlock', { actions: [unlockAction(t), ...(variant === 'fixed' ? [rpcAction(t)] : [])], target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    return setup({ guards: { ...kernelGuards, ...guards } as any, actions: { ...kernelActions, ...actions } as any }).createMachine({
      type: 'parallel',
      context: { b_state: { owner: null }, m: mutex(), calls: 0 },
      states: { flush },
    });
  },
  waits: {
    ...kernelWaits,
    // for deadlock reports: who a thread blocked on the bit lock waits for
    bit_spin_free: (context: Context, p: LockP) =>
      context[p.lock].owner === null ? null : { resource: p.name, kind: 'bit_spin_lock', mode: 'lock', holders: [context[p.lock].owner] },
  },
});
