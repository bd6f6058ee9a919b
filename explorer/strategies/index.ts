// Search strategies: each owns its loop over the state space (explorer/space/), checks the properties
// it is given, respects the bounds, and returns an Outcome. One file per strategy:
//   bfs.ts, dfs.ts      the sequential safety searches (a queue or a stack over ./frontier-search.ts)
//   parallel.ts         breadth-first over worker threads, partitioned by fingerprint (--workers)
//   liveness.ts         the edge-recording exploration and fair-cycle search (livelock, starvation)
// Adding a safety strategy (random walk, preemption-bounded) is one file exporting a Strategy plus one
// line in STRATEGIES below; --strategy and the spec's options then accept its name.
import type { Outcome, Progress } from '../outcome.ts';
import type { StateChecker } from '../properties/safety.ts';
import type { StateSpace } from '../space/index.ts';
import type { CheckpointSink, ResumeSource } from '../resume.ts';
import { bfs } from './bfs.ts';
import { dfs } from './dfs.ts';

export interface Bounds {
  maxStates?: number;
  maxDepth?: number;
  timeoutSeconds?: number;
}

/** What every strategy runs: a space, its bounds, progress reporting. */
export interface SearchTask {
  space: StateSpace;
  bounds: Bounds;
  onProgress?: (p: Progress) => void;
  /** Seconds between progress reports (default 1). */
  progressInterval?: number;
}

/**
 * Called for every transition a safety search takes (also into an already stored state), during the
 * expansion of state `stateId` by `event`: the space's `expanding` context and the system's `taken`
 * transitions describe the step; `pathTo` gives the events from the initial state to a stored state.
 */
export type TransitionHook = (stateId: number, event: number, pathTo: (id: number) => number[]) => void;

/** A safety search: the per-state checks, deadlock, and whether to stop at the first violation. */
export interface SafetyTask extends SearchTask {
  checker: StateChecker;
  deadlock: boolean;
  /** Per-transition property hook (the lock-order check); sequential strategies only. */
  onTransition?: TransitionHook;
  /** Stop at the first violation (default); false explores everything and keeps the first one found. */
  stopAtFirst: boolean;
  /** Save the search every so often (breadth-first only; explorer/resume.ts). */
  checkpoint?: CheckpointSink;
  /** Continue a saved search instead of starting from the initial state. */
  resume?: ResumeSource;
  /** Bitstate hashing (explorer/bitstate.ts): a bit array of 2^bitstate bits as the visited set; never a pass. */
  bitstate?: number;
}

export interface Strategy<T extends SearchTask = SafetyTask, O extends Outcome = Outcome> {
  readonly name: string;
  run(task: T): O;
}

export const STRATEGIES = { bfs, dfs } as const satisfies Record<string, Strategy>;
export type StrategyName = keyof typeof STRATEGIES;
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];
/** Every search a run can ask for by name: the exhaustive ones and random walks (./random.ts, which need a seed). */
export type SearchStrategyName = StrategyName | 'random';
export const SEARCH_STRATEGY_NAMES: SearchStrategyName[] = [...STRATEGY_NAMES, 'random'];
