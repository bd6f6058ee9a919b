// Random walks (--strategy random --seed N): from the initial state, take a uniformly chosen enabled
// step until every thread is done, the walk reaches --max-depth, or a property fails; then start
// again. As TLC's and Quint's simulators, and Stateright's spawn_simulation: it reaches deep states of
// spaces far past exhaustive reach, but proves nothing, so its no-violation outcome is always
// incomplete, naming the budget that ended it (walks, states, time) and what it covered.
//
// Every choice comes from the seeded generator (explorer/prng.ts): the same seed, model and options
// give the same walks, so the same violation after the same walk, byte for byte.
import type { Bound, Found, Incomplete, SearchStats } from '../outcome.ts';
import { createPrng } from '../prng.ts';
import { deadlockAt, type Finding } from '../properties/safety.ts';
import { FingerprintSet } from '../store/index.ts';
import { SearchClock } from './clock.ts';
import { Successors } from './successors.ts';
import type { SafetyTask, Strategy } from './index.ts';

/** A walk ends here when --max-depth is not given. */
export const DEFAULT_WALK_DEPTH = 1000;
/** Without a budget of walks or time, walks run for this long (also with --max-states, which a small space never fills). */
export const DEFAULT_RANDOM_SECONDS = 60;

export interface RandomTask extends SafetyTask {
  seed: number;
  /** Stop after this many walks. */
  walks?: number;
}

export interface RandomStats extends SearchStats {
  walks: number;
}

const stopAtFirstSuccessor = () => true;

/** Found or incomplete (never pass), and which walk found the violation. Coverage, when asked, comes from the space's onTransition. */
export type RandomOutcome = (Found<RandomStats> & { walk: number }) | Incomplete<RandomStats>;

function randomWalks(task: RandomTask): RandomOutcome {
  const { space, checker, bounds } = task;
  const system = space.system;
  const prng = createPrng(task.seed);
  const maxDepth = bounds.maxDepth ?? DEFAULT_WALK_DEPTH;
  const maxStates = bounds.maxStates ?? Infinity;
  const maxWalks = task.walks ?? Infinity;
  // (Not --max-states alone: a space smaller than it never fills it, and the walks would never end.)
  const seconds = bounds.timeoutSeconds ?? (task.walks === undefined ? DEFAULT_RANDOM_SECONDS : undefined);
  const clock = new SearchClock({ ...task, bounds: { ...bounds, timeoutSeconds: seconds } });
  const seen = new FingerprintSet(system.events.length);

  let transitions = 0;
  let deepest = 0;
  let walks = 0;
  let ticks = 0;
  let violation: Finding | undefined;
  let bound: Bound | undefined;
  const walk: number[] = [];

  const init = space.initial();
  seen.add(space.fp[0], space.fp[1], -1, -1);
  violation = checker.check(init.leaves, init.context, 0, 0);

  // the hook's path: the walk so far (random walks store no parent links)
  const succ = new Successors(task.onTransition ? { onTransition: task.onTransition, pathTo: () => walk.slice() } : undefined);
  let state: Int32Array = init.words;

  while (!violation) {
    if (walks >= maxWalks) {
      bound = { name: 'walks', limit: maxWalks };
      break;
    }
    if (seen.size >= maxStates) {
      bound = { name: 'maxStates', limit: maxStates };
      break;
    }
    const timeout = clock.tick(1024, () => ({ states: seen.size, transitions, depth: deepest, queue: 0, walks }));
    if (timeout) {
      bound = timeout;
      break;
    }
    walk.length = 0;
    state = init.words;
    for (let depth = 0; ; depth++) {
      if (depth >= maxDepth) {
        // The walk's last state, at --max-depth (0 included), is not stepped from but checked for deadlock, as the
        // breadth-first search checks the states at its depth bound; its successors are not taken (no transition hook).
        if (task.deadlock && space.expand(state, stopAtFirstSuccessor) === 0 && !space.allEnded()) violation = deadlockAt(system, space.leaves, 0, depth);
        break;
      }
      succ.clear();
      if (space.expand(state, succ.visit) === 0) {
        if (task.deadlock && !space.allEnded()) violation = deadlockAt(system, space.leaves, 0, depth);
        break;
      }
      const k = succ.count === 1 ? 0 : prng.below(succ.count);
      const e = succ.events[k];
      walk.push(e);
      transitions++;
      if (depth + 1 > deepest) deepest = depth + 1;
      // A copy: the next expansion reuses the successor buffer.
      state = succ.wordsOf(k).slice();
      // A new state's properties: on its words first (decoded only when some property needs the context).
      if (seen.add(succ.hi(k), succ.lo(k), -1, e) >= 0 && checker.mustCheck(state)) {
        const leaves = state.subarray(0, space.threadCount);
        violation = checker.check(leaves, space.decodeContext(state), 0, depth + 1);
        if (violation) break;
      }
      // The time budget also holds inside one long walk.
      if (clock.tick(++ticks, () => ({ states: seen.size, transitions, depth: deepest, queue: 0, walks }))) break;
    }
    space.endExpansions();
    walks++;
  }
  const stats: RandomStats = { states: seen.size, transitions, depth: deepest, seconds: clock.seconds(), bytesPerState: seen.bytesPerStateUsed(), walks };
  if (violation) {
    const { stateId: _id, ...v } = violation;
    return { status: 'violation', violation: v, path: walk.slice(), stats, walk: Math.max(0, walks - 1) };
  }
  return { status: 'incomplete', bound: bound!, stats };
}

export const random: Strategy<RandomTask, RandomOutcome> = { name: 'random', run: randomWalks };
