// The sequential safety search over a frontier (bfs.ts: a queue, dfs.ts: a stack): pops a state,
// expands it through the state space, stores new successors by fingerprint and checks them (state
// assertions, invariants), and checks the expanded state for deadlock. Returns an Outcome; never prints.
import type { Frontier } from '../frontier/index.ts';
import type { Bound, Outcome, SearchStats } from '../outcome.ts';
import { deadlockAt, type Finding } from '../properties/safety.ts';
import type { Visit } from '../space/index.ts';
import { FingerprintSet } from '../store/index.ts';
import { FifoQueue } from '../frontier/index.ts';
import { restoreBfs, saveBfs } from '../resume.ts';
import { BitstateSet, type BitstateEstimate } from '../bitstate.ts';
import { monotonicMs, SearchClock } from './clock.ts';
import type { SafetyTask } from './index.ts';

/**
 * The first PRIME expansions run the deadlock check's calls whatever their successors, and drop the result: met
 * first mid-search (the first state without successors, often thousands of states in), a call the optimised
 * search loop had never seen sent it back to the interpreter until it was compiled again. (V8 keeps type feedback
 * for this loop only after some dozens of expansions: the calls must run past those.)
 */
const PRIME = 256;

export function frontierSearch(task: SafetyTask, fresh: Frontier, o: { stopAtOnce: boolean }): Outcome {
  const { space, checker, bounds } = task;
  const system = space.system;
  if ((task.checkpoint || task.resume) && !(fresh instanceof FifoQueue)) throw new Error('internal: checkpoints are of the breadth-first search');
  const restored = task.resume ? restoreBfs(space, task.resume) : undefined;
  const frontier = restored?.frontier ?? fresh;
  const store = restored?.store ?? (task.bitstate !== undefined ? new BitstateSet(task.bitstate, undefined, system.events.length) : new FingerprintSet(system.events.length));
  const maxStates = bounds.maxStates ?? Infinity;
  const maxDepth = bounds.maxDepth ?? Infinity;
  const stopAtFirst = task.stopAtFirst;
  const checkState = checker.check;
  // New states are checked on their words first where the invariants are declared (properties/words.ts).
  const mustCheck = checker.mustCheck;
  const onTransition = task.onTransition;
  // (Read once here, not where a state has no successors: a property read first met mid-search, after the loop
  // was optimised, throws that code away.)
  const deadlock = task.deadlock;
  const pathTo = (i: number) => store.pathTo(i);

  const clock = new SearchClock(task, restored?.counters.seconds);
  let transitions = restored?.counters.transitions ?? 0;
  let maxSeenDepth = restored?.counters.maxSeenDepth ?? 0;
  let first: Finding | undefined = restored?.counters.first;
  let bound: Bound | undefined = restored?.counters.bound;
  // (`real` false: a finding made only to prime the deadlock check's calls; see PRIME. Every operation here runs
  // on every call, so that the priming runs them too.)
  const record = (v: Finding, real = true) => {
    const better = v.depth < (first ?? v).depth || !first;
    if (real && better) first = v;
  };

  if (!restored) {
    const init = space.initial();
    const initId = store.add(space.fp[0], space.fp[1], -1, -1);
    const v0 = checkState(init.leaves, init.context, initId, 0);
    if (v0) record(v0);
    if (!(v0 && stopAtFirst)) frontier.push(initId, 0, init.words);
  }

  // The state being expanded, read by the visit.
  let id = 0;
  let depth = 0;
  let atDepthLimit = false;
  let full = false;
  const visit: Visit = (e, words, len, hi, lo) => {
    if (onTransition) onTransition(id, e, pathTo);
    if (atDepthLimit) {
      // A successor beyond the depth bound that is stored already cuts nothing (as in the liveness search); a new one
      // cuts the search here.
      if (!store.has(hi, lo)) {
        bound = { name: 'maxDepth', limit: maxDepth };
        return true;
      }
      transitions++;
      return false;
    }
    transitions++;
    if (store.size >= maxStates && !store.has(hi, lo)) {
      bound = { name: 'maxStates', limit: maxStates };
      full = true;
      return true;
    }
    const nid = store.add(hi, lo, id, e);
    if (nid < 0) return false;
    if (depth + 1 > maxSeenDepth) maxSeenDepth = depth + 1;
    // (The successor's context is decoded only when some property reads it: after a step on the words it is not there.)
    if (mustCheck(words)) {
      const v = checkState(space.nextLeaves, space.nextContext, nid, depth + 1);
      if (v) {
        record(v);
        if (stopAtFirst) return false;
      }
    }
    frontier.push(nid, depth + 1, words, len);
    return false;
  };

  let expanded = restored?.counters.expanded ?? 0;
  let primed = 0;
  // Checkpoints are taken here, between two expansions, where the store, the frontier and the counters agree.
  const sink = task.checkpoint;
  const checkpointMs = sink ? sink.everySeconds * 1000 : Infinity;
  let lastCheckpoint = monotonicMs();
  let sinceCheckpoint = 0;
  for (;;) {
    if (sink && (++sinceCheckpoint & 1023) === 0 && monotonicMs() - lastCheckpoint >= checkpointMs) {
      saveBfs(space, sink, store as FingerprintSet, frontier as FifoQueue, { transitions, maxSeenDepth, expanded, seconds: clock.seconds(), first, bound });
      lastCheckpoint = monotonicMs();
    }
    const entry = frontier.pop();
    if (!entry) break;
    // Breadth-first: a pending violation at depth d is shortest once all states above d are expanded.
    if (first && stopAtFirst && entry.depth >= first.depth) break;
    id = entry.id;
    depth = entry.depth;
    const timeout = clock.tick(++expanded, () => ({ states: store.size, transitions, depth: maxSeenDepth, queue: frontier.size }));
    if (timeout) {
      bound = timeout;
      break;
    }
    atDepthLimit = depth >= maxDepth;
    const successors = space.expand(entry.words, visit);
    if (full) break;
    if (successors === 0 || primed < PRIME) {
      const dead = !space.allEnded() && successors === 0 && deadlock;
      if (dead || primed < PRIME) record(deadlockAt(system, space.leaves, id, depth), dead);
      primed++;
    }
    if (first && stopAtFirst && o.stopAtOnce) break;
  }
  space.endExpansions();

  const stats: SearchStats & { bitstate?: BitstateEstimate } = {
    states: store.size,
    transitions,
    depth: maxSeenDepth,
    seconds: clock.seconds(),
    bytesPerState: store.bytesPerStateUsed(),
    ...(store instanceof BitstateSet ? { bitstate: store.estimate() } : {}),
  };
  if (first) {
    const { stateId, ...violation } = first;
    return { status: 'violation', violation, path: store.pathTo(stateId), ...(bound ? { bound } : {}), stats };
  }
  if (bound) return { status: 'incomplete', bound, stats };
  // A bitstate search may have skipped states: never a pass.
  if (store instanceof BitstateSet) return { status: 'incomplete', bound: { name: 'bitstate', limit: store.bits }, stats };
  return { status: 'pass', stats };
}
