// Shared types for kernel primitives: typed assign wrapper so registries keep literal names in setup() inference; the one-event state every kernel-style step is.
import { assign, type ActionFunction } from 'xstate';
import type { Context, GuardSleep, LockEffect, LockMode, WaitInfo } from '../../explorer/model.ts';

/**
 * A kernel assign action with params P, typed loosely enough to spread into any model's setup({ actions }).
 * Its actor and delay types are `never` (it spawns nothing and sets no timer): with `any` there, a model
 * compiled under exactOptionalPropertyTypes could not take it (`any` is not assignable to a setup() without
 * actors, whose actor type is `never`).
 */
export type KAction<P> = ActionFunction<any, any, any, P, never, any, any, never, any>;
/** A kernel guard with params P. */
export type KGuard<P> = (args: { context: Context }, params: P) => boolean;
export type WaitFn = (context: Context, params: any) => WaitInfo | null;

/**
 * A state with one event, `${thread}.${name}`, taking `transition` (a fragment, or the transitions of one event
 * as the blocking calls return them): the shape of every step of a kernel-style thread.
 *   lock_op: oneEvent('creat', 'f2fs_lock_op', down_read('cp_rwsem', 'creat', 'init_inode_metadata'))
 */
export function oneEvent(thread: string, name: string, transition: any): any {
  return { on: { [`${thread}.${name}`]: transition } };
}

/** assign() whose function gets ({ context }, params) and returns the context patch. */
export function kAssign<P>(fn: (args: { context: Context }, params: P) => Context): KAction<P> {
  return assign(fn as any) as unknown as KAction<P>;
}

/**
 * Declares what an acquiring action does, for the lock-order check: the lock at `params.lock` (named
 * `params.name`), in `mode` (or params.mode mapped by `mode` when it is a function), taken by
 * `params.thread`; `params.try` marks a trylock success (tryBranch sets it). `holds` reads the primitive's
 * own layout. Returns the same action object, with `lockEffect` attached.
 */
export function withLock<A extends object>(
  action: A,
  o: {
    kind: string;
    mode: LockMode | ((params: any) => LockMode);
    holds: (slice: any, thread: string, context: Context, path: string) => LockMode | null;
    path?: (params: any) => string;
    name?: (params: any) => string;
    /** Params for which the action acquires nothing new (e.g. a six write lock: the upgrade of an intent lock). */
    skip?: (params: any) => boolean;
    /** lockdep's wait type of the lock's class (LockEffect.wait; absent: not checked, LD_WAIT_INV). */
    wait?: LockEffect['wait'];
    /**
     * Its acquisition may sleep though the class has no wait type (LockEffect.mightSleep): might_sleep() reports it
     * in atomic context, "sleeping function called from invalid context".
     */
    mightSleep?: boolean;
    /**
     * The take of a lock whose acquisition was recorded at the call (a queued waiter's, woken): like a trylock
     * success it adds no edge into the lock, but what the same step acquires next is taken under it.
     */
    recordedAtCall?: boolean;
  },
): A {
  const pathOf = o.path ?? ((p: any) => p.lock);
  const effect: LockEffect = {
    kind: o.kind,
    acquires: (p: any) => {
      if (o.skip?.(p)) return null;
      const path = pathOf(p);
      return {
        path,
        name: o.name ? o.name(p) : (p.name ?? path),
        mode: typeof o.mode === 'function' ? o.mode(p) : o.mode,
        thread: p.thread,
        try: p.try === true || o.recordedAtCall === true,
      };
    },
    holds: (context, path, thread) => o.holds(getPath(context, path), thread, context, path),
    ...(o.wait ? { wait: o.wait } : {}),
    ...(o.mightSleep ? { mightSleep: true } : {}),
  };
  (action as any).lockEffect = effect;
  return action;
}

/**
 * Declares a might_sleep() point on an action, for the lock-order check: a call by `params.thread` that may sleep on
 * a resource lockdep does not track (LockAcquisition.sleepOnly: checked against the thread's atomic context, "BUG:
 * sleeping function called from invalid context", and recorded as no lock). `path` and `name` name the resource in
 * reports; `skip` the params for which the action does not sleep; `params.try` (tryBranch) marks a trylock, which
 * never sleeps. Attach it to the action that runs when the call is made or returns: a call that blocks returns by a
 * transition taken with the same locks held, so either is enough. Returns the same action object.
 */
export function withMightSleep<A extends object>(
  action: A,
  o: { kind: string; path: (params: any) => string; name: (params: any) => string; skip?: (params: any) => boolean },
): A {
  const effect: LockEffect = {
    kind: o.kind,
    acquires: (p: any) => (o.skip?.(p) ? null : { path: o.path(p), name: o.name(p), mode: 'write', thread: p.thread, try: p.try === true, sleepOnly: true }),
    holds: () => null,
  };
  (action as any).lockEffect = effect;
  return action;
}

/**
 * Declares a might_sleep() point on a wait GUARD, for the lock-order check (GuardSleep, the property `sleepEffect`): a
 * transition that waits on it (plainly or in the `or` branch that held, not under a `not`) is a call by the transition's thread that may
 * sleep on the resource `path` / `name` name, tested against the thread's atomic context as withMightSleep's call is.
 * For the waits whose transitions run no action of the primitive (wait_event, schedule, wait_on_bit finding the bit
 * clear); `skip` the params for which the guard is no sleeping wait. Returns the same guard function.
 */
export function withGuardSleep<G extends object>(
  guard: G,
  o: { kind: string; path: (params: any) => string; name: (params: any) => string; skip?: (params: any) => boolean },
): G {
  const effect: GuardSleep = { kind: o.kind, sleepsOn: (p: any) => (o.skip?.(p) ? null : { path: o.path(p), name: o.name(p) }) };
  (guard as any).sleepEffect = effect;
  return guard;
}

/**
 * Declares a releasing action for the lock-order check: it acquires nothing, but names the lock at `params.lock` (or
 * `path(params)`, named `params.name` or `name(params)`: LockEffect.lockOf), so that a lock held in the initial state
 * (spinlockHeld, mutexHeld) is known though no step acquires it, and it ends `params.thread`'s hold of that lock
 * (LockEffect.releases): a lock the same step takes after it is not taken under this one. `last` says whether the
 * release ends the hold, read in the state before the step (default: always; a read lock counts its holds, so an
 * up_read of a reader that holds it twice does not). `holds` and `wait` as withLock's for the same lock. Returns the
 * same action object, with `lockEffect` attached.
 */
export function withRelease<A extends object>(
  action: A,
  o: {
    kind: string;
    holds: (slice: any, thread: string, context: Context, path: string) => LockMode | null;
    wait?: LockEffect['wait'];
    path?: (params: any) => string;
    name?: (params: any) => string;
    last?: (slice: any, thread: string) => boolean;
  },
): A {
  const pathOf = o.path ?? ((p: any) => p.lock);
  const effect: LockEffect = {
    kind: o.kind,
    acquires: () => null,
    lockOf: (p: any) => ({ path: pathOf(p), name: o.name ? o.name(p) : (p.name ?? pathOf(p)) }),
    releases: (p: any, context: Context) => {
      const path = pathOf(p);
      return o.last && !o.last(getPath(context, path), p.thread) ? null : { path, thread: p.thread };
    },
    holds: (context, path, thread) => o.holds(getPath(context, path), thread, context, path),
    ...(o.wait ? { wait: o.wait } : {}),
  };
  (action as any).lockEffect = effect;
  return action;
}

/** A release's `last` for a lock whose holders are a multiset of threads at `field` (an rwsem's or percpu rwsem's readers, a seqcount's writers): the thread's only entry. */
export const lastHoldIn = (field: string) => (slice: any, thread: string): boolean =>
  !Array.isArray(slice?.[field]) || slice[field].filter((t: unknown) => t === thread).length <= 1;

function getPath(context: Context, path: string): any {
  let v: any = context;
  for (const s of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[s];
  }
  return v;
}
