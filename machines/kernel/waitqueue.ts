// Sleeping on conditions: wait_event on a context predicate, explicit wait queues (lost wake-ups), completions.
//
// 1. wait_event(wq, cond) where the model only needs "sleep until cond": a state whose only transition is
//    guarded by the condition. Generic condition guards over a context path:
//      cond_true { path, name?, by? }        context[path] is truthy
//      cond_false { path, name?, by? }
//      cond_eq { path, value, name?, by? }   context[path] === value
//      cond_ne / cond_lt / cond_le / cond_ge / cond_gt { path, value, ... }
//    `by` = threads that must act for the condition to become true (reported as holders), `name` = what it
//    waits for, e.g. "write_disable_complete". Or pass any guard of the model to wait_event(guard).
//    Such a wait has no queue: it returns as soon as the condition holds, whoever made it true, so it cannot show a
//    wake-up that is missing or sent to another queue (wait_var_event(&flags, !test_bit(..)) woken only by
//    wake_up_bit(&flags, bit), fscache 8226e37d82f4: modelled this way it passes). Where the waker's call matters,
//    use an explicit wait queue (2.), wait_var_event's loop on one (waitVarEventStates with wake_up_var), or the bit
//    waits (waitbit.ts).
// 2. Explicit wait queue { waiters: sorted thread list, exclusive?: FIFO thread list } for protocols where the
//    wake-up itself matters (prepare_to_wait / schedule / finish_wait, wake_up): a thread that checks the
//    condition, then sleeps after the wake-up already happened, sleeps forever (a lost wake-up), exactly as in
//    the kernel when the condition is checked before prepare_to_wait().
//      prepare_to_wait(wq, thread)   join the queue (set_current_state(TASK_UNINTERRUPTIBLE))
//      prepare_to_wait_exclusive(wq, thread)
//                                    join as an exclusive waiter (WQ_FLAG_EXCLUSIVE, at the tail:
//                                    kernel/sched/wait.c prepare_to_wait_exclusive). Non-exclusive entries
//                                    join at the head, so a wake_up meets them all before the first exclusive
//                                    one; calling one kind on an entry queued as the other (the kernel flips
//                                    the flag in place) is refused as not modelled.
//      schedule(wq, thread)          { guard: waitqueue_woken }: blocked until a wake_up removed the thread
//      finish_wait(wq, thread)       leave the queue (if still on it)
//      wake_up(wq)                   wake every non-exclusive waiter and the FIRST exclusive one (__wake_up with
//                                    nr_exclusive = 1: a woken exclusive waiter that does not pass the wake-up
//                                    on leaves the others asleep, the wake-one lost wake-up)
//      wake_up_all(wq)               wake everybody queued, exclusive or not
//    `exclusive` is absent while no exclusive waiter is queued, so a model without exclusive waits keeps the
//    plain { waiters } slice.
// 3. completion { done: count, all: bool } (kernel/sched/completion.c):
//      complete(c), complete_all(c), wait_for_completion(c, thread) (consumes one), try_wait_for_completion,
//      completion_done guard, reinit_completion(c).
// might_sleep() (the lock-order check, --lock-order): wait_for_completion() may sleep, so its consuming step carries a
//   might_sleep() point (withMightSleep, LockAcquisition.sleepOnly; the step that returns runs with the same locks
//   held as the sleep, so it is enough): under a spinlock or inside rcu_read_lock() it is "sleeping function called
//   from invalid context"; try_wait_for_completion() does not sleep. wait_event(cond) and schedule() are guards only:
//   their guards carry the might_sleep() point (withGuardSleep: the `wait_event` guard, which wait_event() makes of
//   a condition guard ref, and waitqueue_woken), the call being the waiting transition's thread's. A condition guard
//   used as a branch (cond_eq without wait_event) does not sleep, nor does a model's own guard given to wait_event().
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, removeOne, updateIn } from './path.ts';
import { kAssign, withGuardSleep, withMightSleep, type WaitFn } from './types.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import { tryBranch, type Step, type TryTargets } from './locks.ts';

type Args = { context: Context };

export interface CondParams {
  path: string;
  value?: any;
  name?: string;
  by?: string[];
}

const condOps = {
  cond_true: (v: any) => !!v,
  cond_false: (v: any) => !v,
  cond_eq: (v: any, x: any) => v === x,
  cond_ne: (v: any, x: any) => v !== x,
  cond_lt: (v: any, x: any) => v < x,
  cond_le: (v: any, x: any) => v <= x,
  cond_gt: (v: any, x: any) => v > x,
  cond_ge: (v: any, x: any) => v >= x,
};
const condText: Record<keyof typeof condOps, string> = {
  cond_true: '', cond_false: '!', cond_eq: '==', cond_ne: '!=', cond_lt: '<', cond_le: '<=', cond_gt: '>', cond_ge: '>=',
};
const condGuard = (op: keyof typeof condOps) => ({ context }: Args, p: CondParams) => condOps[op](getIn(context, p.path), p.value);
/** The condition as the C reads it: flag, !flag, n == 1. */
const condSource = (op: keyof typeof condOps, p: CondParams) =>
  op === 'cond_true' ? p.path : op === 'cond_false' ? `!${p.path}` : `${p.path} ${condText[op]} ${JSON.stringify(p.value)}`;
const condWait = (op: keyof typeof condOps): WaitFn => (context, p: CondParams) => {
  if (condOps[op](getIn(context, p.path), p.value)) return null;
  const text = condSource(op, p);
  return { resource: p.name ?? text, kind: 'wait_event', mode: `wait_event(${text})`, holders: p.by ?? [], ...(p.by?.length ? { act: 'wake_up' } : {}) };
};

/** Params of the wait_event guard: a condition guard's params and the condition's name (cond_true, cond_eq, ...). */
export interface WaitEventParams extends CondParams {
  cond: keyof typeof condOps;
}
/** The condition guard a wait_event guard's params name (a model error when there is none of that name). */
function condOf(p: WaitEventParams): keyof typeof condOps {
  if (!Object.hasOwn(condOps, p.cond)) throw new Error(`kernel primitive misuse: wait_event on "${String(p.cond)}", which is not a condition guard (${Object.keys(condOps).join(', ')})`);
  return p.cond;
}

export interface WaitQueueState {
  /** Non-exclusive waiters (all woken together): a sorted set. */
  waiters: string[];
  /** Exclusive waiters in queue order (the first is woken by wake_up); absent when none. */
  exclusive?: string[];
}
export const waitQueue = (): WaitQueueState => ({ waiters: [] });
export interface WaitQueueParams {
  wq: string;
  thread?: string;
  name?: string;
  by?: string[];
}

export interface CompletionState {
  done: number;
  all: boolean;
}
export const completion = (): CompletionState => ({ done: 0, all: false });
export interface CompletionParams {
  completion: string;
  thread?: string;
  name?: string;
  by?: string[];
}
const compDone = (c: CompletionState) => c.all || c.done > 0;

export const waitGuards = {
  cond_true: condGuard('cond_true'),
  cond_false: condGuard('cond_false'),
  cond_eq: condGuard('cond_eq'),
  cond_ne: condGuard('cond_ne'),
  cond_lt: condGuard('cond_lt'),
  cond_le: condGuard('cond_le'),
  cond_gt: condGuard('cond_gt'),
  cond_ge: condGuard('cond_ge'),
  // wait_event(wq, cond): the condition guard p.cond, a sleeping wait (might_sleep() first, even when cond holds)
  wait_event: withGuardSleep(({ context }: Args, p: WaitEventParams) => condOps[condOf(p)](getIn(context, p.path), p.value), {
    kind: 'wait_event',
    path: (p: WaitEventParams) => p.path,
    name: (p: WaitEventParams) => p.name ?? condSource(condOf(p), p),
  }),
  // schedule() returns once a wake_up() took the thread off the queue (schedule() sleeps: a might_sleep() point)
  waitqueue_woken: withGuardSleep(({ context }: Args, p: WaitQueueParams) => !onQueue(getIn(context, p.wq), p.thread!), {
    kind: 'waitqueue',
    path: (p: WaitQueueParams) => p.wq,
    name: (p: WaitQueueParams) => p.name ?? p.wq,
  }),
  waitqueue_active: ({ context }: Args, p: WaitQueueParams) => anyQueued(getIn(context, p.wq)),
  // wait_for_completion(): done > 0 (or complete_all)
  completion_done: ({ context }: Args, p: CompletionParams) => compDone(getIn(context, p.completion)),
};

/**
 * An entry already queued whose flag the call would flip: the kernel flips WQ_FLAG_EXCLUSIVE in place, and
 * __wake_up_common() then walks the queue in order and stops after the first exclusive entry it woke, so which
 * waiters a wake_up() reaches depends on positions this slice does not keep (the non-exclusive waiters are a
 * set at the head). Not modelled: a model error, not a silently different wake-up.
 */
function flagFlip(p: WaitQueueParams, call: string, was: string): never {
  throw new Error(
    `kernel primitive misuse: ${p.thread} calls ${call} on wait queue ${p.name ?? p.wq} while queued ${was}; flipping WQ_FLAG_EXCLUSIVE on a queued entry is not modelled: finish_wait first`,
  );
}

/** Somebody is on the queue, exclusive or not (waitqueue_active()). */
const anyQueued = (q: WaitQueueState) => q.waiters.length > 0 || (q.exclusive?.length ?? 0) > 0;
/** The thread is on the queue, exclusive or not. */
const onQueue = (q: WaitQueueState, t: string) => q.waiters.includes(t) || (q.exclusive?.includes(t) ?? false);
/** The slice with these exclusive waiters (the field left out when there are none, as a fresh queue has it). */
function withExclusive(q: WaitQueueState, exclusive: string[]): WaitQueueState {
  const { exclusive: _, ...rest } = q;
  return exclusive.length ? { ...rest, exclusive } : rest;
}

export const waitActions = {
  // prepare_to_wait(): queued at the head (__add_wait_queue), non-exclusive, unless already on the queue
  prepare_to_wait: kAssign(({ context }, p: WaitQueueParams) =>
    updateIn(context, p.wq, (q: WaitQueueState) => {
      const t = p.thread!;
      if (q.exclusive?.includes(t)) flagFlip(p, 'prepare_to_wait', 'exclusive');
      return q.waiters.includes(t) ? q : { ...q, waiters: insertSorted(q.waiters, t) };
    }),
  ),
  // prepare_to_wait_exclusive(): WQ_FLAG_EXCLUSIVE, queued at the tail (__add_wait_queue_entry_tail) unless
  // already on the queue
  prepare_to_wait_exclusive: kAssign(({ context }, p: WaitQueueParams) =>
    updateIn(context, p.wq, (q: WaitQueueState) => {
      const t = p.thread!;
      if (q.waiters.includes(t)) flagFlip(p, 'prepare_to_wait_exclusive', 'non-exclusive');
      const ex = q.exclusive ?? [];
      return ex.includes(t) ? q : withExclusive(q, [...ex, t]);
    }),
  ),
  finish_wait: kAssign(({ context }, p: WaitQueueParams) =>
    updateIn(context, p.wq, (q: WaitQueueState) => {
      if (!onQueue(q, p.thread!)) return q;
      return withExclusive({ ...q, waiters: removeOne(q.waiters, p.thread!) ?? q.waiters }, (q.exclusive ?? []).filter((x) => x !== p.thread));
    }),
  ),
  // wake_up(): __wake_up(wq, TASK_NORMAL, 1, NULL): every non-exclusive waiter, then one exclusive waiter
  wake_up: kAssign(({ context }, p: WaitQueueParams) =>
    updateIn(context, p.wq, (q: WaitQueueState) => (anyQueued(q) ? withExclusive({ ...q, waiters: [] }, (q.exclusive ?? []).slice(1)) : q)),
  ),
  // wake_up_all(): nr_exclusive = 0, everybody
  wake_up_all: kAssign(({ context }, p: WaitQueueParams) =>
    updateIn(context, p.wq, (q: WaitQueueState) => (anyQueued(q) ? withExclusive({ ...q, waiters: [] }, []) : q)),
  ),
  complete: kAssign(({ context }, p: CompletionParams) =>
    updateIn(context, p.completion, (c: CompletionState) => (c.all ? c : { ...c, done: c.done + 1 })),
  ),
  complete_all: kAssign(({ context }, p: CompletionParams) => updateIn(context, p.completion, (c: CompletionState) => ({ ...c, all: true }))),
  // the consuming half of wait_for_completion()/try_wait_for_completion() (params.try: it does not sleep)
  completion_consume: withMightSleep(
    kAssign(({ context }, p: CompletionParams) =>
      updateIn(context, p.completion, (c: CompletionState) => {
        if (!compDone(c)) throw new Error(`kernel primitive misuse: ${p.thread} consumed completion ${p.completion} that is not done`);
        return c.all ? c : { ...c, done: c.done - 1 };
      }),
    ),
    { kind: 'completion', path: (p: CompletionParams) => p.completion, name: (p: CompletionParams) => p.name ?? p.completion, skip: (p: CompletionParams) => p.thread === undefined },
  ),
  reinit_completion: kAssign(({ context }, p: CompletionParams) => updateIn(context, p.completion, () => completion())),
};

export const waitWaits: Record<string, WaitFn> = {
  cond_true: condWait('cond_true'),
  cond_false: condWait('cond_false'),
  cond_eq: condWait('cond_eq'),
  cond_ne: condWait('cond_ne'),
  cond_lt: condWait('cond_lt'),
  cond_le: condWait('cond_le'),
  cond_gt: condWait('cond_gt'),
  cond_ge: condWait('cond_ge'),
  wait_event: (context, p: WaitEventParams) => condWait(condOf(p))(context, p),
  waitqueue_woken: (context, p: WaitQueueParams) =>
    onQueue(getIn(context, p.wq), p.thread!)
      ? { resource: p.name ?? p.wq, kind: 'waitqueue', mode: 'schedule (wait for wake_up)', holders: p.by ?? [], ...(p.by?.length ? { act: 'wake_up' } : {}) }
      : null,
  completion_done: (context, p: CompletionParams) =>
    compDone(getIn(context, p.completion))
      ? null
      : { resource: p.name ?? p.completion, kind: 'completion', mode: 'wait_for_completion', holders: p.by ?? [], ...(p.by?.length ? { act: 'complete' } : {}) },
};

// Call helpers ---------------------------------------------------------------------------------

/**
 * wait_event(wq, cond): a transition fragment guarded by `cond`. A condition guard ref (cond_eq(...), cond_true(...))
 * becomes the `wait_event` guard (the same test, params `{ cond: 'cond_eq', ...its params }`), which carries the wait's
 * might_sleep() point for --lock-order (withGuardSleep); any other guard is used as it is, with none.
 */
export const wait_event = (cond: any): Step => {
  const isCond = cond !== null && typeof cond === 'object' && Object.hasOwn(condOps, cond.type) && cond.params !== null && typeof cond.params === 'object';
  return { guard: isCond ? { type: 'wait_event', params: { cond: cond.type, ...cond.params } } : cond };
};
const cond = (type: string) => (path: string, value?: any, o: { name?: string; by?: string[] } = {}) => ({
  type,
  params: { path, ...(value === undefined ? {} : { value }), ...o } as CondParams,
});
export const cond_true = (path: string, o: { name?: string; by?: string[] } = {}) => cond('cond_true')(path, undefined, o);
export const cond_false = (path: string, o: { name?: string; by?: string[] } = {}) => cond('cond_false')(path, undefined, o);
export const cond_eq = cond('cond_eq');
export const cond_ne = cond('cond_ne');
export const cond_lt = cond('cond_lt');
export const cond_le = cond('cond_le');
export const cond_gt = cond('cond_gt');
export const cond_ge = cond('cond_ge');

export const prepare_to_wait = (wq: string, thread: string): Step => ({ actions: [{ type: 'prepare_to_wait', params: { wq, thread } }] });
/** prepare_to_wait_exclusive(wq): join as an exclusive waiter, at the tail (wake_up wakes the first one only). */
export const prepare_to_wait_exclusive = (wq: string, thread: string): Step => ({ actions: [{ type: 'prepare_to_wait_exclusive', params: { wq, thread } }] });
/** schedule() after prepare_to_wait(): blocked until woken. `by` = threads expected to wake it (for reports). */
export const schedule = (wq: string, thread: string, o: { name?: string; by?: string[] } = {}): Step => ({
  guard: { type: 'waitqueue_woken', params: { wq, thread, ...o } },
});
export const finish_wait = (wq: string, thread: string): Step => ({ actions: [{ type: 'finish_wait', params: { wq, thread } }] });
/** wake_up(wq): every non-exclusive waiter and the first exclusive one. */
export const wake_up = (wq: string): Step => ({ actions: [{ type: 'wake_up', params: { wq } }] });
/** wake_up_all(wq): every waiter, exclusive or not. */
export const wake_up_all = (wq: string): Step => ({ actions: [{ type: 'wake_up_all', params: { wq } }] });

/**
 * wake_up_var(var) (kernel/sched/wait_bit.c: __wake_up_bit on __var_waitqueue(var)): wakes every wait_var_event()
 * sleeper on the variable's wait queue `wq` (the model's stand-in for the hashed queue of `var`). A wake-up of
 * another queue (wake_up_bit on a flags word, wake_up on another wq) does not reach them.
 */
export const wake_up_var = (wq: string): Step => wake_up_all(wq);
/**
 * wait_var_event(var, cond) (include/linux/wait_bit.h, v6.6): the states of its loop, to spread into a thread's
 * `states`. Unlike wait_event(cond), which returns once cond holds whoever made it true, this sleeper is woken only
 * by wake_up_var on its queue `wq`, so a wake-up sent elsewhere (a lost or misdirected one) leaves it asleep:
 *   `${state}`:          might_sleep(); if (cond) break;         (the fast path, wait_event's guard when cond is a cond_*)
 *   `${state}_prepare`:  prepare_to_wait_event(wq)               (___wait_var_event's loop, non-exclusive)
 *   `${state}_check`:    if (cond) { finish_wait(wq); break; }
 *   `${state}_sleep`:    schedule(): until wake_up_var(wq) woke it, then back to `${state}_prepare`
 * `next` is the state after it; `by` names the threads expected to wake it (for reports).
 *   states: { ...waitVarEventStates({ thread: 'mount', state: 'wait', wq: 'vol_var', cond: cond_false('pending'), next: 'go' }) }
 */
export function waitVarEventStates(o: { thread: string; state: string; wq: string; cond: any; next: string; by?: string[]; name?: string }): Record<string, any> {
  const { thread, state, wq, next } = o;
  const ev = (step: string) => `${thread}.${step}`;
  const fast = wait_event(o.cond).guard;
  const sched = schedule(wq, thread, { ...(o.by ? { by: o.by } : {}), ...(o.name ? { name: o.name } : {}) });
  return {
    [state]: { on: { [ev(state)]: [{ guard: fast, target: next }, { target: `${state}_prepare` }] } },
    [`${state}_prepare`]: { on: { [ev(`${state}_prepare`)]: { ...prepare_to_wait(wq, thread), target: `${state}_check` } } },
    [`${state}_check`]: { on: { [ev(`${state}_check`)]: [{ guard: o.cond, ...finish_wait(wq, thread), target: next }, { target: `${state}_sleep` }] } },
    [`${state}_sleep`]: { on: { [ev(`${state}_sleep`)]: { ...sched, target: `${state}_prepare` } } },
  };
}

export const complete = (c: string): Step => ({ actions: [{ type: 'complete', params: { completion: c } }] });
export const complete_all = (c: string): Step => ({ actions: [{ type: 'complete_all', params: { completion: c } }] });
export const reinit_completion = (c: string): Step => ({ actions: [{ type: 'reinit_completion', params: { completion: c } }] });
/** wait_for_completion(c): blocked until done, then consumes one completion. */
export const wait_for_completion = (c: string, thread: string, o: { name?: string; by?: string[] } = {}): Step => ({
  guard: { type: 'completion_done', params: { completion: c, thread, ...o } },
  actions: [{ type: 'completion_consume', params: { completion: c, thread, ...(o.name === undefined ? {} : { name: o.name }) } }],
});
export const try_wait_for_completion = (c: string, thread: string, t: TryTargets): any[] =>
  tryBranch(wait_for_completion(c, thread), t);

// Footprints (explorer/reduce/declare.ts), for --reduce por; a wait queue's waiters are a sorted thread set.
declareFootprints(waitGuards, {
  ...Object.fromEntries([...Object.keys(condOps), 'wait_event'].map((n) => [n, { reads: ['{path}'] }])),
  waitqueue_woken: { reads: ['{wq}.waiters', '{wq}.exclusive'] },
  waitqueue_active: { reads: ['{wq}.waiters', '{wq}.exclusive'] },
  completion_done: { reads: ['{completion}'] },
});
declareFootprints(waitActions, {
  prepare_to_wait: { writes: ['{wq}.waiters', '{wq}.exclusive'], sets: ['{wq}.waiters'] },
  prepare_to_wait_exclusive: { writes: ['{wq}.waiters', '{wq}.exclusive'], sets: ['{wq}.waiters'] },
  finish_wait: { writes: ['{wq}.waiters', '{wq}.exclusive'], sets: ['{wq}.waiters'] },
  wake_up: { writes: ['{wq}.waiters', '{wq}.exclusive'] },
  wake_up_all: { writes: ['{wq}.waiters', '{wq}.exclusive'] },
  complete: { writes: ['{completion}'] },
  complete_all: { writes: ['{completion}'] },
  completion_consume: { writes: ['{completion}'] },
  reinit_completion: { writes: ['{completion}'] },
});
