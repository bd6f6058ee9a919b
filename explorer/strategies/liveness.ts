// The liveness strategy (livelock, starvation): a breadth-first exploration that records every edge in typed
// arrays (CSR), then fair-cycle search over SCCs (../scc.ts); the properties are ../properties/liveness.ts. A separate path from the safety search:
// nothing here runs unless a spec asks for livelock or starvation.
//
// Semantics.
// - Progress (SPIN's non-progress cycles): a state is a progress state when some thread's leaf has
//   `meta.progress: true`, its own or its nearest marked ancestor's (compile/tables.ts); an edge is a progress edge when a transition it takes has
//   `meta.progress`, or it enters a progress state. A livelock is a reachable cycle with no progress
//   edge (so also no progress state on it), that is fair.
// - Weak fairness per thread (default): an infinite run is fair when no thread stays enabled forever
//   without moving. A thread is enabled in a state when one of its transitions has a true guard there
//   (in the full graph: progress edges count). For an SCC S of the restricted graph this is exact: S
//   holds a fair cycle iff every thread moves on some edge inside S or is disabled in some state of S.
//   `none`: every cycle counts (an unfair scheduler may starve any thread).
// - Strong fairness (`strong`, TLA+'s SF per action): every (thread, event) pair enabled infinitely often is
//   taken infinitely often. Per transition, not per thread: a thread that spins (always moving) while the
//   event that would end the spin is enabled only now and then is fair under weak fairness, not under strong.
//   A pair is enabled in a state when that event moves that thread from it (in the full graph); the two
//   guarded branches of one event in one state are the same pair (the graph records the event, not the
//   branch): the weaker assumption of the two. It implies weak fairness per thread (a thread enabled in every
//   state of a loop has a pair enabled in it), and the SCC search checks both (../scc.ts: the Streett
//   decomposition). Under a bound the edges to states not stored are kept aside (StateGraph cut) so that
//   their pairs still count as enabled.
// - Starvation of thread T with goal G (dotted state paths of T; a path covers its descendants): a
//   reachable fair cycle through states where T is neither at G nor in a final state. A thread in a final
//   state has returned (maybe with an error, which a safety property should catch); it is not waiting
//   for anything, so it does not starve. A thread blocked forever while others loop does starve. Progress
//   marks play no part in starvation.
// - Counterexample: a lasso. The stem is a shortest path to the shallowest state s of the fair SCC (BFS
//   parent links); the cycle runs inside the SCC from s back to s and is itself fair (./scc.ts fairCycle).
// - Bounds: once the store is full (maxStates) or at a state of depth maxDepth, successors not stored yet
//   are dropped, but every stored state is still expanded with its exact enabled set, so a fair cycle
//   found among the kept edges is real. Without one the run is incomplete. A timeout stops expanding.
//
// Cost (n states, m edges, T threads, W = ceil(T/32)):
//   exploration: one compiled step per (state, event), as the safety search, plus edge recording.
//   memory: the FingerprintIndex (fingerprints, parent links, hash table: about 22-30 bytes/state); per state
//   4 (CSR offset) + 4W (enabled threads) + 1 (flags) + 1 per starvation goal; per edge 4 (target) +
//   2 (event + progress bit), + 4W only when some event belongs to several threads. The BFS frontier holds
//   the packed words of the states waiting to be expanded.
//   analysis: Tarjan O(n + m) time, 21 bytes/state, run once per property; the lasso O((T+1)(|S| + m_S)).
//   Measured (philosophers ordered n=16, starvation of p0): 1,136,689 states, 11,639,232 edges, 6 bytes
//   per edge, analysis (Tarjan + lasso) 2-3.5 s; the exploration runs at the safety search's speed.
import { InputError } from '../errors.ts';
import { FifoQueue } from '../frontier/index.ts';
import type { Bound, Outcome, SearchStats, Violation } from '../outcome.ts';
import { FAIRNESS, isProgressState, loopRoles, resolveGoal, type ResolvedGoal, type StarvationGoal } from '../properties/liveness.ts';
import { EDGE_EVENT, EDGE_PROGRESS, fairCycle, findFairScc, STATE_EXPANDED, STATE_PROGRESS, type EdgeFilter, type Fairness, type StateGraph } from '../scc.ts';
import type { Visit } from '../space/index.ts';
import { FingerprintIndex } from '../store/index.ts';
import { GrowableArray } from '../store/growable.ts';
import { monotonicMs, SearchClock } from './clock.ts';
import type { SearchTask, Strategy } from './index.ts';

export interface LivenessTask extends SearchTask {
  livelock?: boolean;
  starvation?: StarvationGoal[];
  fairness?: Fairness;
}

export interface LivenessStats extends SearchStats {
  edges: number;
  /** Bytes per edge of the CSR graph (targets, events, thread masks). */
  bytesPerEdge: number;
  /** Seconds spent in the SCC analysis and lasso construction. */
  analysisSeconds: number;
  /** Non-trivial SCCs (holding a cycle) of the restricted graph, per property checked. */
  cyclicSccs: number[];
}

const now = monotonicMs;

interface Explored {
  graph: StateGraph;
  store: FingerprintIndex;
  /** Per starvation goal: 1 for states the starving thread's cycle may not pass (goal or final). */
  excluded: Uint8Array[];
  bound?: Bound;
  depth: number;
  seconds: number;
  bytesPerEdge: number;
}

/** Breadth-first exploration recording every edge (CSR: states expand in id order). */
function explore(task: LivenessTask, goals: ResolvedGoal[]): Explored {
  const { space, bounds: o } = task;
  const system = space.system;
  const T = space.threadCount;
  const W = Math.max(1, Math.ceil(T / 32));
  const eventCount = system.events.length;
  if (eventCount > EDGE_EVENT) throw new InputError(`the model has ${eventCount} events; liveness checking handles at most ${EDGE_EVENT}`);
  const eventOwner = new Int32Array(eventCount).fill(-1);
  system.eventThreads.forEach((ts, e) => {
    if (ts.length === 1) eventOwner[e] = ts[0];
  });
  const sharedEvents = eventOwner.some((t) => t < 0);
  // Strong fairness reads the pairs of the edges a bound drops: they are enabled too.
  const keepCut = task.fairness === 'strong';
  const maxStates = o.maxStates ?? Infinity;
  const maxDepth = o.maxDepth ?? Infinity;

  const store = new FingerprintIndex();
  const frontier = new FifoQueue();
  const offsets = new GrowableArray(new Int32Array(1024));
  const targets = new GrowableArray(new Int32Array(4096));
  const events = new GrowableArray(new Uint16Array(4096));
  const edgeThreads = sharedEvents ? new GrowableArray(new Uint32Array(4096)) : null;
  const enabled = new GrowableArray(new Uint32Array(1024));
  const flags = new GrowableArray(new Uint8Array(1024));
  const excluded = goals.map(() => new GrowableArray(new Uint8Array(1024)));
  const cutFrom = new GrowableArray(new Int32Array(keepCut ? 256 : 0));
  const cutEvents = new GrowableArray(new Uint16Array(keepCut ? 256 : 0));
  const cutThreads = sharedEvents && keepCut ? new GrowableArray(new Uint32Array(256)) : null;
  const mask = new Uint32Array(W);
  const stateMask = new Uint32Array(W);

  const label = (leaves: ArrayLike<number>) => {
    flags.push(isProgressState(system, leaves) ? STATE_PROGRESS : 0);
    goals.forEach((g, i) => excluded[i].push(g.excluded[leaves[g.thread]]));
  };

  const clock = new SearchClock(task);
  let bound: Explored['bound'];
  let maxSeenDepth = 0;
  const init = space.initial();
  const initId = store.add(space.fp[0], space.fp[1], -1, -1);
  label(init.leaves);
  frontier.push(initId, 0, init.words);
  let next = 0; // the id expanded next (BFS pops in id order)

  // The state being expanded, read by the visit.
  let id = 0;
  let depth = 0;
  let atDepthLimit = false;
  const onTransition = task.onTransition;
  const pathTo = (i: number) => store.pathTo(i);
  const visit: Visit = (e, words, len, hi, lo) => {
    if (onTransition) onTransition(id, e, pathTo);
    mask.fill(0);
    let progress = false;
    for (const tr of space.taken) {
      mask[tr.thread >>> 5] |= 1 << (tr.thread & 31);
      if (tr.progress) progress = true;
    }
    for (let k = 0; k < W; k++) stateMask[k] |= mask[k];
    let nid: number;
    if (atDepthLimit || store.size >= maxStates) {
      // Bound reached: keep only edges to stored states. The enabled set stays exact, so a fair cycle
      // found among the kept edges is real; without one the run is incomplete.
      nid = store.find(hi, lo);
      if (nid < 0) {
        bound = atDepthLimit ? { name: 'maxDepth', limit: maxDepth } : { name: 'maxStates', limit: maxStates };
        if (keepCut) {
          cutFrom.push(id);
          cutEvents.push(e);
          if (cutThreads) for (let k = 0; k < W; k++) cutThreads.push(mask[k]);
        }
        return false;
      }
    } else if ((nid = store.add(hi, lo, id, e)) < 0) nid = -nid - 1;
    else {
      label(space.nextLeaves);
      if (depth + 1 > maxSeenDepth) maxSeenDepth = depth + 1;
      frontier.push(nid, depth + 1, words, len);
    }
    targets.push(nid);
    events.push(e | (progress ? EDGE_PROGRESS : 0));
    if (edgeThreads) for (let k = 0; k < W; k++) edgeThreads.push(mask[k]);
    return false;
  };

  for (;;) {
    const entry = frontier.pop();
    if (!entry) break;
    id = entry.id;
    depth = entry.depth;
    if (id !== next) throw new Error(`internal: BFS expanded state ${id}, expected ${next}`);
    next++;
    offsets.push(targets.length);
    enabled.reserve(enabled.length + W);
    enabled.length += W; // zero: nothing known until expanded
    const timeout = clock.tick(id, () => ({ states: store.size, transitions: targets.length, depth: maxSeenDepth, queue: frontier.size }));
    if (timeout) {
      bound = timeout;
      break;
    }
    stateMask.fill(0);
    atDepthLimit = depth >= maxDepth;
    space.expand(entry.words, visit);
    enabled.data.set(stateMask, id * W);
    flags.data[id] |= STATE_EXPANDED;
  }
  space.endExpansions();
  // States never expanded (cut by a bound) get no edges.
  const n = store.size;
  const off = new Int32Array(n + 1);
  off.set(offsets.data.subarray(0, Math.min(offsets.length, n)));
  for (let v = offsets.length; v <= n; v++) off[v] = targets.length;
  const en = new Uint32Array(n * W);
  en.set(enabled.data.subarray(0, Math.min(enabled.length, n * W)));
  const graph: StateGraph = {
    n,
    threadCount: T,
    maskWords: W,
    offsets: off,
    targets: targets.trimmed(),
    edgeEvents: events.trimmed(),
    edgeThreads: edgeThreads ? edgeThreads.trimmed() : null,
    eventOwner,
    enabled: en,
    stateFlags: flags.trimmed(),
    ...(keepCut && cutFrom.length > 0 ? { cut: { from: cutFrom.trimmed(), events: cutEvents.trimmed(), threads: cutThreads ? cutThreads.trimmed() : null } } : {}),
  };
  const bytesPerEdge = 4 + 2 + (edgeThreads ? 4 * W : 0);
  return {
    graph,
    store,
    excluded: excluded.map((x) => x.trimmed()),
    bound,
    depth: maxSeenDepth,
    seconds: clock.seconds(),
    bytesPerEdge,
  };
}

/** How a violation's message says which runs count. */
const FAIR_TEXT: Record<Fairness, string> = {
  none: 'with no fairness assumed',
  weak: 'under weak fairness (every thread moves or is blocked somewhere in the loop)',
  strong: 'under strong fairness (every thread moves or is blocked somewhere in the loop, and takes every event of its that is enabled somewhere in it)',
};

interface Property {
  kind: 'livelock' | 'starvation';
  name: string;
  ok: EdgeFilter;
  /** The message, given a description of the loop's steps. */
  describe: (loop: string) => string;
  thread?: string;
}

/** Explores the model and looks for a livelock and/or starvation lasso. */
function searchLiveness(o: LivenessTask): Outcome<LivenessStats> {
  const space = o.space;
  const system = space.system;
  const fairness: Fairness = o.fairness ?? 'weak';
  if (!FAIRNESS.includes(fairness)) throw new InputError(`fairness '${fairness}': expected one of ${FAIRNESS.join(', ')}`);
  const goals = (o.starvation ?? []).map((s) => resolveGoal(system, s));
  const ex = explore(o, goals);
  const g = ex.graph;
  const started = now();
  const fairText = FAIR_TEXT[fairness];

  const props: Property[] = [];
  if (o.livelock) {
    const { targets, edgeEvents, stateFlags } = g;
    props.push({
      kind: 'livelock',
      name: 'livelock',
      ok: (e) => (edgeEvents[e] & EDGE_PROGRESS) === 0 && (stateFlags[targets[e]] & STATE_PROGRESS) === 0,
      describe: (loop) => `non-progress cycle: ${loop} forever without a progress step, ${fairText}`,
    });
  }
  goals.forEach((goal, i) => {
    const exc = ex.excluded[i];
    const { targets } = g;
    props.push({
      kind: 'starvation',
      name: goal.threadName,
      thread: goal.threadName,
      ok: (e, v) => exc[v] === 0 && exc[targets[e]] === 0,
      describe: (loop) => `thread ${goal.threadName} starves: ${loop} forever and ${goal.threadName} never reaches ${goal.goals.join(' or ')}, ${fairText}`,
    });
  });

  const cyclicSccs: number[] = [];
  let violation: Violation | undefined;
  let path: number[] | undefined;
  let loopStart: number | undefined;
  for (const p of props) {
    const found = findFairScc(g, p.ok, fairness);
    cyclicSccs.push(found.cyclic);
    if (!found.scc) continue;
    const cycleEdges = fairCycle(g, p.ok, found.scc, fairness);
    const stem = ex.store.pathTo(found.scc.root);
    const cycle = cycleEdges.map((e) => g.edgeEvents[e] & EDGE_EVENT);
    const loop = cycle.length === 1 ? `step ${stem.length + 1} repeats` : `steps ${stem.length + 1}..${stem.length + cycle.length} repeat`;
    path = [...stem, ...cycle];
    loopStart = stem.length + 1;
    violation = {
      kind: p.kind,
      name: p.name,
      message: `${p.describe(loop)}; ${loopRoles(space, path, loopStart)}`,
      ...(p.thread ? { thread: p.thread } : {}),
      depth: stem.length,
    };
    break;
  }

  const analysisSeconds = (now() - started) / 1000;
  const stats: LivenessStats = {
    states: ex.store.size,
    transitions: g.targets.length,
    depth: ex.depth,
    seconds: ex.seconds + analysisSeconds,
    bytesPerState: ex.store.bytesPerStateUsed() + 4 + 4 * g.maskWords + 1 + goals.length,
    edges: g.targets.length,
    bytesPerEdge: ex.bytesPerEdge,
    analysisSeconds,
    cyclicSccs,
  };
  if (violation && path && loopStart !== undefined) return { status: 'violation', violation, path, loopStart, ...(ex.bound ? { bound: ex.bound } : {}), stats };
  if (ex.bound) return { status: 'incomplete', bound: ex.bound, stats };
  return { status: 'pass', stats };
}

export const liveness: Strategy<LivenessTask, Outcome<LivenessStats>> = { name: 'liveness', run: searchLiveness };

