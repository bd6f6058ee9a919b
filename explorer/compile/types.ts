// The compiled transition system's types: what the build-time compiler (./index.ts) produces and the
// runtime step (./step.ts) runs.
import type { AnyStateMachine } from 'xstate';
import type { Context, LockEffect, ThreadLocations } from '../model.ts';
import type { AssignPlan, GuardPlan, Lowered } from './lower/plans.ts';

/** An XState state node (XState does not export the type in a usable form). */
export type StateNode = any;
export type Event = { type: string };

/** Where in the machine something is compiled from (for errors). */
export interface Where {
  state: string;
  event?: string;
}

/** A compiled guard: evaluates against the pre-step context. */
export type GuardFn = (ctx: Context, event: Event) => boolean;
/** A compiled action: returns the next context (never mutates). */
export type ActionFn = (ctx: Context, event: Event) => Context;
/**
 * A compiled named action whose implementation declares a lock acquisition (`lockEffect`, see
 * LockEffect in model.ts): the declaration and the action's params, for the lock-order check.
 */
export interface LockAction {
  lockEffect: LockEffect;
  lockParams: (ctx: Context, event: Event) => unknown;
  /** The action's name and where it runs, for the model error when a hook of the declaration throws. */
  lockAction: string;
  lockWhere: Where;
}

/** A named guard reference with resolved params, for wait reports. */
export interface GuardRef {
  type: string;
  params: unknown;
  /** True when the reference sits under a `not`. */
  negated: boolean;
  /**
   * True when it sits in a branch of an `or` other than the first that holds in the state asked about (every branch
   * when the `or` does not hold): the transition did not wait on it (the lock-order check counts a guard's
   * might_sleep() only when neither this nor `negated` is set).
   */
  alternative: boolean;
}

export interface CompiledTransition {
  thread: number;
  event: number;
  /** Id of the state node that declares it. */
  source: string;
  guard: GuardFn | null;
  /** Named guards inside the guard expression (for wait reports). */
  guardRefs: (ctx: Context, event: Event) => GuardRef[];
  guardLabel: string;
  /** Leaf index after the transition, or -1 when the leaf does not change (targetless). */
  target: number;
  /** Nodes exited, in exit order (reverse document order), with their exit actions. */
  exits: StateNode[];
  /** Nodes entered, in entry order (document order), with their entry actions. */
  entries: StateNode[];
  /** The entered nodes that are entered by default (they also run their `initial` actions). */
  defaultEntries: Set<StateNode>;
  actions: ActionFn[];
  /** Exit actions, transition actions and entry actions in the order a lone transition runs them. */
  sequence: ActionFn[];
  /** The guard lowered to word operations (./lower/), or why not; null when there is no guard. */
  guardLowered: Lowered<GuardPlan> | null;
  /** `sequence` lowered to word operations, or why not (the first action that is not). */
  sequenceLowered: Lowered<AssignPlan[]>;
  /** The transition's `meta.progress`. */
  progress: boolean;
  meta: Record<string, unknown> | undefined;
}

export interface CompiledThread {
  name: string;
  index: number;
  node: StateNode;
  leaves: StateNode[];
  /** Dotted path of each leaf relative to the thread's region node. */
  leafPaths: string[];
  isFinal: boolean[];
  /** A valid place to stop: a final leaf, or `meta: { end: true }` on the leaf or an ancestor (SPIN's end labels). */
  isEnd: boolean[];
  /** Assertion names in force at each leaf (the leaf's and its ancestors' `meta.assert`). */
  asserts: string[][];
  /** `meta.progress` of the leaf, or of its nearest ancestor that has one (the nearest explicit mark wins). */
  progressLeaf: boolean[];
  /** `meta` of the leaf, merged over its ancestors' (nearest wins). */
  leafMeta: Array<Record<string, unknown>>;
  /** candidates[leaf][event]: transitions to try in order, or undefined. */
  candidates: Array<Array<CompiledTransition[] | undefined>>;
  /** For each leaf, the event indices that have candidates. */
  leafEvents: number[][];
}

export interface CompiledSystem {
  machine: AnyStateMachine;
  threads: CompiledThread[];
  events: string[];
  /** Threads that declare a transition for each event. */
  eventThreads: number[][];
  initialLeaves: Int32Array;
  initialContext: Context;
  /**
   * The entry actions XState ran into the initial state (its states' entry and initial actions), compiled: what
   * they did is in initialContext; the lock-order check reads the locks they declare (properties/lockorder.ts).
   */
  initialEntry: readonly ActionFn[];
  /** Exit actions run when every thread is final (XState's "done" status), root last. */
  doneExit: (leaves: Int32Array, ctx: Context, event: Event) => Context;
  /**
   * Events that some thread has a transition for at these leaves, ascending: the only events worth
   * stepping. The returned array is reused by the next call.
   */
  candidateEvents(leaves: ArrayLike<number>): number[];
  /** Successor for an event, or null when no thread has an enabled transition for it. */
  step(leaves: Int32Array, ctx: Context, event: number): StepResult | null;
  /**
   * The search's allocation-free step: writes the next leaves into `out`, returns the next context
   * (or null when nothing is enabled); the transitions taken are left in `taken`.
   */
  stepInto(leaves: ArrayLike<number>, ctx: Context, event: number, out: Int32Array): Context | null;
  /** The transitions the last stepInto (or step) that returned a successor took; overwritten by the next one. */
  readonly taken: readonly CompiledTransition[];
  locations(leaves: ArrayLike<number>): ThreadLocations;
  allFinal(leaves: ArrayLike<number>): boolean;
  /** Every thread is final or at a valid end (`meta.end`): a state with no enabled step here is no deadlock. */
  allEnded(leaves: ArrayLike<number>): boolean;
}

export interface StepResult {
  leaves: Int32Array;
  context: Context;
  /** The transitions taken (one per thread that moved). */
  taken: CompiledTransition[];
}
