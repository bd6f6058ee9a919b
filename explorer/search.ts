// The sequential safety search as one call, for library users and tests: selects the per-state checks,
// runs the named strategy (bfs by default) on a state space and returns its Outcome.
import type { Assertion, Invariant } from './model.ts';
import type { Outcome, Progress } from './outcome.ts';
import { stateChecker } from './properties/safety.ts';
import type { StateSpace } from './space/index.ts';
import { STRATEGIES, type StrategyName } from './strategies/index.ts';

export interface SearchOptions {
  strategy?: StrategyName;
  maxStates?: number;
  maxDepth?: number;
  timeoutSeconds?: number;
  deadlock?: boolean;
  assertions?: boolean;
  invariants?: Record<string, Invariant>;
  assertionPredicates?: Record<string, Assertion>;
  /** Stop at the first violation (default true); false counts the whole space and keeps the first violation. */
  stopAtFirst?: boolean;
  onProgress?: (p: Progress) => void;
}

export function search(space: StateSpace, o: SearchOptions = {}): Outcome {
  return STRATEGIES[o.strategy ?? 'bfs'].run({
    space,
    bounds: { maxStates: o.maxStates, maxDepth: o.maxDepth, timeoutSeconds: o.timeoutSeconds },
    onProgress: o.onProgress,
    checker: stateChecker(space.system, o, space.packed),
    deadlock: o.deadlock ?? true,
    stopAtFirst: o.stopAtFirst ?? true,
  });
}
