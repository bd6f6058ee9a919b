// The model contract: what a module in machines/ exports so the explorer can check it.
import type { AnyStateMachine } from 'xstate';
import type { FootprintDecl, SymmetryGroup } from './reduce/declare.ts';

/** Plain data the explorer can pack: numbers, booleans, strings, null, arrays and records of those. */
export type Plain = number | boolean | string | null | Plain[] | { [key: string]: Plain };

export type Context = Record<string, any>;

/** Where each thread (top-level region) is: thread name -> dotted path of its active leaf, e.g. "flush.waiting". */
export type ThreadLocations = Record<string, string>;

export type ParamValue = number | boolean | string;

export interface ParamSpec {
  default: ParamValue;
  description: string;
  /** Inclusive bounds for integer parameters. */
  min?: number;
  max?: number;
  /** Allowed values for string parameters. */
  choices?: string[];
}

export interface VariantSpec {
  description: string;
}

/** A named predicate that must hold in every reachable state. */
export type Invariant = (context: Context, threads: ThreadLocations) => boolean;

/** A named predicate referenced from a state's `meta.assert`: must hold whenever a thread is in that state. */
export type Assertion = (context: Context, threads: ThreadLocations) => boolean;

/**
 * What a blocked thread waits for, as a primitive describes it: the resource and the threads that hold it.
 * Returned by a WaitDescriber for a named guard that is false in the blocked state.
 */
export interface WaitInfo {
  /** Human name of the resource, e.g. "sb_internal" (lockdep's class name of the SB_FREEZE_FS level) or "folio 0". */
  resource: string;
  /** Primitive kind, e.g. "mutex", "rwsem", "percpu_rwsem", "folio", "workqueue", "pipe". */
  kind: string;
  /** How the thread wants it, e.g. "down_read", "lock", "wait for drain". */
  mode?: string;
  /** Threads (region names) that hold it or must act before the waiter can go on. */
  holders: string[];
  /** How the holders hold it, when it is a lock: 'read' shows as lockdep's rlock() in the scenario. */
  holdMode?: LockMode;
  /**
   * Set when the holders do not hold anything but must ACT for the waiter to go on: what they must do, e.g.
   * "complete" (a completion), "wake_up" (a wait queue or wait_event condition), "commit" (a transaction
   * commit to finish). Reports show them as who must act, not as lock holders.
   */
  act?: string;
  /**
   * Set when the holders do not hold the resource but are QUEUED on it ahead of the waiter, which the lock will not
   * let past them (a writer waiting on an rw_semaphore blocks the readers that come after it): the waiter goes on
   * once they have taken and released it. Reports show them as queued ahead, not as lock holders.
   */
  queued?: boolean;
  /**
   * The participle reports use for the holders instead of "held": "taken" (a semaphore, which has no owner: any
   * thread may up() it), "set" (a bit waited on). They still hold it: the lockdep-style scenario shows their hold.
   */
  holdVerb?: string;
}

/** Describes the wait behind a named guard with its params; returns null when the guard is not a wait. */
export type WaitDescriber = (context: Context, params: any) => WaitInfo | null;

/** How a lock is taken or held, as lockdep prints it: a write/exclusive hold (`lock`) or a read hold (`rlock`). */
export type LockMode = 'write' | 'read';

/** One lock acquisition an action performs, read from its params. */
export interface LockAcquisition {
  /** Context path of the lock's state (its identity). */
  path: string;
  /** Name in reports (e.g. "sb_internal", the SB_FREEZE_FS level). */
  name: string;
  mode: LockMode;
  /** The acquiring thread. */
  thread: string;
  /** A trylock success: held afterwards, but adds no dependency INTO this lock (a trylock cannot wait). */
  try: boolean;
  /**
   * Acquired and released at once (lockdep's lock_map_acquire + lock_map_release in flush_work,
   * cancel_work_sync, flush_workqueue): adds dependencies into the lock, is not held afterwards.
   */
  released?: boolean;
  /**
   * A might_sleep() point that is no lock for lockdep: a call that may sleep on a resource lockdep does not track
   * (down() on a struct semaphore, wait_on_bit_lock, wait_for_completion, jbd2_journal_start), named by `path` and
   * `name` (the resource's slice and report name). The lock-order check only tests it against the thread's atomic
   * context (see LockEffect.mightSleep) and records it nowhere else: no edge into or out of it, never held, never
   * known as a lock, so no cycle goes through it. `try` still means it cannot sleep (down_trylock).
   */
  sleepOnly?: boolean;
}

/**
 * Declarative lock information that kernel primitives attach to their acquiring actions (the property
 * `lockEffect` on the action implementation), read by the lock-order check (explorer/properties/lockorder.ts).
 */
export interface LockEffect {
  /** Primitive kind, e.g. "mutex", "rwsem", "percpu_rwsem", "folio", "six". */
  kind: string;
  /**
   * The acquisition this action performs with these params in the state before the step (`context`), or
   * several in the order taken (a kworker starting a work item takes the workqueue's and the item's lockdep
   * maps), or null when it acquires nothing.
   */
  acquires(params: any, context: Context): LockAcquisition | LockAcquisition[] | null;
  /** How `thread` holds the lock at `path` in `context` (null: it does not). */
  holds(context: Context, path: string, thread: string): LockMode | null;
  /**
   * The lock these params name whatever the state, when `acquires` may say null (a release, a nested read): the
   * lock-order check learns from it a lock held in the initial state that no step acquires (spinlockHeld,
   * rcuReading), whose wait type still makes what its holder takes an invalid wait context.
   */
  lockOf?(params: any): { path: string; name: string } | null;
  /**
   * An unlock: the hold this action ends with these params in the state before the step, the lock's path and the
   * thread whose hold ends, or null when it ends none (a nested rcu_read_unlock, an up_read of a reader that holds the
   * lock twice). The lock-order check drops that lock from what the thread holds for the acquisitions the same step
   * makes after it (actions in the order they run). Only releases declare it: `lockOf` alone also names the lock of a
   * nested acquisition (a nested rcu_read_lock), which releases nothing.
   */
  releases?(params: any, context: Context): { path: string; thread: string } | null;
  /**
   * lockdep's wait type of the lock's class, for its "Invalid wait context" check (check_wait_context): taking a
   * lock whose `outer` (default: `inner`) is sleepier than the `inner` of every lock the thread holds is a bug, e.g.
   * a mutex ('sleep', LD_WAIT_SLEEP) taken under a spinlock ('spin': LD_WAIT_SPIN, and LD_WAIT_CONFIG outside
   * PREEMPT_RT). RCU's read lock is `{ inner: 'spin', outer: 'free' }`. Absent: not checked, as lockdep leaves a
   * map made by lockdep_init_map (LD_WAIT_INV: percpu rwsems, six locks, work items).
   */
  wait?: { inner: LockWait; outer?: LockWait };
  /**
   * Its non-try acquisitions may sleep (the call has might_sleep(), or blocks in schedule()), though lockdep gives
   * the class no wait type (`wait` absent, LD_WAIT_INV: percpu rwsems, six locks, the folio lock, the work and
   * workqueue maps that flush_work/cancel_work_sync/flush_workqueue acquire, synchronize_rcu's lock_map_sync). The
   * acquisition is recorded as any other (edges, holds, cycles) and also tested against the thread's atomic context:
   * taken while the thread holds a lock whose inner wait type is below 'sleep' (a spinlock, rcu_read_lock()) it is
   * the kernel's "BUG: sleeping function called from invalid context" (CONFIG_DEBUG_ATOMIC_SLEEP), reported as the
   * lock-order finding 'invalid-wait-context' with `mightSleep` set. A LockAcquisition's `sleepOnly` is the same test
   * for a call that is no lock at all. (A lock with wait 'sleep' needs no flag: lockdep's own check covers it.)
   */
  mightSleep?: boolean;
}

/**
 * A might_sleep() point carried by a named GUARD (the property `sleepEffect` on the guard implementation, as actions
 * carry `lockEffect`; machines/kernel/types.ts withGuardSleep): a wait whose transition runs no action of the
 * primitive (wait_event(cond), schedule(), wait_on_bit finding the bit clear, jbd2's drains, btrfs wait_current_trans).
 * The lock-order check reads it for each transition taken, for each named guard the transition waits on: one used
 * plainly or under `and`, or in the branch of an `or` that held (the first that holds), not one under a `not` nor in
 * another branch of an `or`. The call is the
 * transition's thread's (a guard's params need not name it) and is tested as a LockAcquisition with `sleepOnly`: against
 * the thread's atomic context, recorded nowhere else.
 */
export interface GuardSleep {
  /** Primitive kind, e.g. "wait_event", "waitqueue", "bit". */
  kind: string;
  /** The resource the wait sleeps on with these params in the state before the step (path and report name), or null when it does not sleep. */
  sleepsOn(params: any, context: Context): { path: string; name: string } | null;
}

/** lockdep's wait types, least to most permissive of sleeping: LD_WAIT_FREE, LD_WAIT_SPIN (and CONFIG), LD_WAIT_SLEEP. */
export type LockWait = 'free' | 'spin' | 'sleep';

export interface ModelCreateOptions {
  params: Record<string, ParamValue>;
  variant: string;
}

export interface ModelDefinition {
  /** Bundled name, e.g. "philosophers". */
  name: string;
  description: string;
  /** Seed thread or source the model follows. */
  source?: string;
  params: Record<string, ParamSpec>;
  /**
   * Parameters small enough that the differential test (compiled engine vs XState's transition(),
   * a few thousand states per second) walks every reachable state of every variant in seconds.
   * Defaults to the params' defaults.
   */
  smallParams?: Record<string, ParamValue>;
  variants: Record<string, VariantSpec>;
  defaultVariant: string;
  /** Builds the machine. Its root is `type: 'parallel'`; each top-level region is a thread. */
  create(options: ModelCreateOptions): AnyStateMachine;
  /** Named invariants (may depend on the variant/params: use `invariantsFor` for that). */
  invariants?: Record<string, Invariant>;
  invariantsFor?(options: ModelCreateOptions): Record<string, Invariant>;
  /** Predicates that states name in `meta.assert`. */
  assertions?: Record<string, Assertion>;
  /**
   * Values shown in their own column on every row of a rendered trace (e.g. the freeze level as
   * its SB_* name), so a reader sees them at each step, not only where they change.
   */
  watch?: Record<string, (context: Context) => string | number | boolean>;
  /** Describers for named guards that model waits (kernel primitives provide these). */
  waits?: Record<string, WaitDescriber>;
  /**
   * Lock classes for the lock-order check (check.lockOrder): maps a lock (its context path and report
   * name) to its class, as lockdep puts every inode's i_rwsem in one class. Default: each lock is its own
   * class, named by its report name.
   */
  lockClass?: (lock: { path: string; name: string }) => string;
  /**
   * Groups of interchangeable threads for `--reduce symmetry` (explorer/reduce/symmetry.ts), for the given
   * params and variant; checked against the compiled threads.
   */
  symmetry?: (options: ModelCreateOptions) => SymmetryGroup[];
  /**
   * Footprints of the model's own guards and actions by name, for `--reduce por` (explorer/reduce/declare.ts;
   * kernel primitives carry theirs). Undeclared ones read and write everything.
   */
  footprints?: Record<string, FootprintDecl>;
  /** What each invariant or assertion reads, by name, for `--reduce por` (undeclared: the whole state). */
  propertyFootprints?: Record<string, PropertyFootprint>;
}

/** Context paths a property reads, and the threads whose location it reads (true: all). */
export interface PropertyFootprint {
  context: string[];
  locations?: boolean | string[];
}

export function defineModel(def: ModelDefinition): ModelDefinition {
  return def;
}
