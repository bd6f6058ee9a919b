// Livelock and starvation checking: a breadth-first exploration that records every edge in typed
// arrays (CSR), then fair-cycle search over SCCs (./scc.ts). A separate path from the safety search:
// nothing here runs unless a spec asks for livelock or starvation.
//
// Semantics.
// - Progress (SPIN's non-progress cycles): a state is a progress state when some thread's leaf (or an
//   ancestor of it) has `meta.progress`; an edge is a progress edge when a transition it takes has
//   `meta.progress`, or it enters a progress state. A livelock is a reachable cycle with no progress
//   edge (so also no progress state on it), that is fair.
// - Weak fairness per thread (default): an infinite run is fair when no thread stays enabled forever
//   without moving. A thread is enabled in a state when one of its transitions has a true guard there
//   (in the full graph: progress edges count). For an SCC S of the restricted graph this is exact: S
//   holds a fair cycle iff every thread moves on some edge inside S or is disabled in some state of S.
//   `none`: every cycle counts (an unfair scheduler may starve any thread).
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
//   memory: the StateStore (fingerprints, parent links, hash table: about 22-30 bytes/state); per state
//   4 (CSR offset) + 4W (enabled threads) + 1 (flags) + 1 per starvation goal; per edge 4 (target) +
//   2 (event + progress bit), + 4W only when some event belongs to several threads. The BFS frontier holds
//   the packed words of the states waiting to be expanded.
//   analysis: Tarjan O(n + m) time, 21 bytes/state, run once per property; the lasso O((T+1)(|S| + m_S)).
//   Measured (philosophers ordered n=16, starvation of p0): 1,136,689 states, 11,639,232 edges, 6 bytes
//   per edge, analysis (Tarjan + lasso) 2-3.5 s; the exploration runs at the safety search's speed.
import { InputError } from './errors.ts';
import type { CompiledSystem } from './compile.ts';
import type { PackedSystem } from './packed.ts';
import { EDGE_EVENT, EDGE_PROGRESS, fairCycle, findFairScc, STATE_EXPANDED, STATE_PROGRESS, type EdgeFilter, type Fairness, type StateGraph } from './scc.ts';
import type { BoundName, Progress, SearchStats, Violation } from './search.ts';
import { fingerprint, StateStore } from './store.ts';
import type { Trace } from './trace.ts';
import { createFrontier } from './strategies/index.ts';

export type { Fairness } from './scc.ts';
export const FAIRNESS: Fairness[] = ['none', 'weak'];

export interface StarvationGoal {
  thread: string;
  /** Dotted state path(s) of the thread, relative to the thread's region; a path covers its descendants. */
  goal: string | string[];
}

export interface LivenessOptions {
  livelock?: boolean;
  starvation?: StarvationGoal[];
  fairness?: Fairness;
  maxStates?: number;
  maxDepth?: number;
  timeoutSeconds?: number;
  onProgress?: (p: Progress) => void;
  progressInterval?: number;
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

export interface LivenessResult {
  status: 'pass' | 'violation' | 'incomplete';
  violation?: Violation;
  bound?: { name: BoundName; limit: number };
  stats: LivenessStats;
  store: StateStore;
  /** Stem then cycle, as event indices from the initial state. */
  path?: number[];
  /** 1-based step where the cycle starts (stem length + 1). */
  loopStart?: number;
}

/** Growable typed array. */
class Grow<T extends Int32Array | Uint16Array | Uint32Array | Uint8Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  reserve(n: number): void {
    if (n <= this.data.length) return;
    let cap = Math.max(1024, this.data.length * 2);
    while (cap < n) cap *= 2;
    const next = this.make(cap);
    next.set(this.data.subarray(0, this.length) as any);
    this.data = next;
  }
  push(v: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = v;
  }
  /** The used part, as a view (no copy: a copy would double the peak memory). */
  trimmed(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/** Leaf sets of a starvation goal, validated against the thread's states. */
interface ResolvedGoal {
  thread: number;
  threadName: string;
  goals: string[];
  /** atGoalOrFinal[leaf]: the thread is at the goal, or has finished. */
  excluded: Uint8Array;
}

function resolveGoal(system: CompiledSystem, s: StarvationGoal): ResolvedGoal {
  const t = system.threads.find((x) => x.name === s.thread);
  if (!t) {
    throw new InputError(`check.starvation.thread: the model has no thread '${s.thread}' (its threads: ${system.threads.map((x) => x.name).join(', ')})`);
  }
  const goals = Array.isArray(s.goal) ? s.goal : [s.goal];
  if (goals.length === 0) throw new InputError(`check.starvation.goal: give at least one state path of thread ${t.name}`);
  const excluded = new Uint8Array(t.leaves.length);
  for (const goal of goals) {
    let hit = false;
    t.leafPaths.forEach((p, leaf) => {
      if (p === goal || p.startsWith(goal + '.')) {
        excluded[leaf] = 1;
        hit = true;
      }
    });
    if (!hit) {
      throw new InputError(
        `check.starvation.goal: thread ${t.name} has no state '${goal}' (its leaf states: ${t.leafPaths.join(', ')}); ` +
          `give a dotted path relative to the thread, e.g. '${t.leafPaths[0]}'`,
      );
    }
  }
  t.isFinal.forEach((f, leaf) => {
    if (f) excluded[leaf] = 1;
  });
  return { thread: t.index, threadName: t.name, goals, excluded };
}

/** True when some thread's leaf is a progress state. */
export function isProgressState(system: CompiledSystem, leaves: ArrayLike<number>): boolean {
  for (const t of system.threads) if (t.progressLeaf[leaves[t.index]]) return true;
  return false;
}

/** True when thread `thread`'s leaf path is one of the goals or below one. */
export function atGoal(path: string, goals: string[]): boolean {
  return goals.some((g) => path === g || path.startsWith(g + '.'));
}

const now = () => performance.now();

interface Explored {
  graph: StateGraph;
  store: StateStore;
  /** Per starvation goal: 1 for states the starving thread's cycle may not pass (goal or final). */
  excluded: Uint8Array[];
  bound?: { name: BoundName; limit: number };
  depth: number;
  seconds: number;
  bytesPerEdge: number;
}

/** Breadth-first exploration recording every edge (CSR: states expand in id order). */
function explore(packed: PackedSystem, goals: ResolvedGoal[], o: LivenessOptions): Explored {
  const system = packed.system;
  const T = packed.threadCount;
  const W = Math.max(1, Math.ceil(T / 32));
  const eventCount = system.events.length;
  if (eventCount > EDGE_EVENT) throw new InputError(`the model has ${eventCount} events; liveness checking handles at most ${EDGE_EVENT}`);
  const eventOwner = new Int32Array(eventCount).fill(-1);
  system.eventThreads.forEach((ts, e) => {
    if (ts.length === 1) eventOwner[e] = ts[0];
  });
  const sharedEvents = eventOwner.some((t) => t < 0);
  const maxStates = o.maxStates ?? Infinity;
  const maxDepth = o.maxDepth ?? Infinity;
  const timeoutMs = o.timeoutSeconds ? o.timeoutSeconds * 1000 : Infinity;
  const progressMs = (o.progressInterval ?? 1) * 1000;

  const store = new StateStore();
  const frontier = createFrontier('bfs');
  const offsets = new Grow(new Int32Array(1024), (n) => new Int32Array(n));
  const targets = new Grow(new Int32Array(4096), (n) => new Int32Array(n));
  const events = new Grow(new Uint16Array(4096), (n) => new Uint16Array(n));
  const edgeThreads = sharedEvents ? new Grow(new Uint32Array(4096), (n) => new Uint32Array(n)) : null;
  const enabled = new Grow(new Uint32Array(1024), (n) => new Uint32Array(n));
  const flags = new Grow(new Uint8Array(1024), (n) => new Uint8Array(n));
  const excluded = goals.map(() => new Grow(new Uint8Array(1024), (n) => new Uint8Array(n)));
  const fp = new Uint32Array(2);
  const mask = new Uint32Array(W);
  const stateMask = new Uint32Array(W);
  const nextLeaves = new Int32Array(T);

  const label = (leaves: ArrayLike<number>) => {
    flags.push(isProgressState(system, leaves) ? STATE_PROGRESS : 0);
    goals.forEach((g, i) => excluded[i].push(g.excluded[leaves[g.thread]]));
  };

  const start = now();
  let lastProgress = start;
  let bound: Explored['bound'];
  let maxSeenDepth = 0;
  const init = packed.initial();
  fingerprint(init.words, fp);
  const initId = store.add(fp[0], fp[1], -1, -1);
  label(init.leaves);
  frontier.push(initId, 0, init.words);
  let next = 0; // the id expanded next (BFS pops in id order)

  for (;;) {
    const entry = frontier.pop();
    if (!entry) break;
    const { id, depth } = entry;
    if (id !== next) throw new Error(`internal: BFS expanded state ${id}, expected ${next}`);
    next++;
    offsets.push(targets.length);
    enabled.reserve(enabled.length + W);
    enabled.length += W; // zero: nothing known until expanded
    if ((id & 1023) === 0) {
      const t = now();
      if (t - start > timeoutMs) {
        bound = { name: 'timeout', limit: o.timeoutSeconds! };
        break;
      }
      if (o.onProgress && t - lastProgress >= progressMs) {
        lastProgress = t;
        o.onProgress({ states: store.size, transitions: targets.length, depth: maxSeenDepth, queue: frontier.size, seconds: (t - start) / 1000 });
      }
    }
    // Copy the leaves and decode the context now: the frontier's words may be overwritten by a push.
    const leaves = entry.words.slice(0, T);
    if (system.allFinal(leaves)) {
      flags.data[id] |= STATE_EXPANDED;
      continue;
    }
    const ctx = packed.beginExpansion(entry.words);
    const edgeStart = targets.length;
    stateMask.fill(0);
    const atDepthLimit = depth >= maxDepth;
    const candidates = system.candidateEvents(leaves);
    for (let k = 0; k < candidates.length; k++) {
      const e = candidates[k];
      const nextCtx = system.stepInto(leaves, ctx, e, nextLeaves);
      packed.checkStep(ctx);
      if (nextCtx === null) continue;
      mask.fill(0);
      let progress = false;
      for (const tr of system.taken) {
        mask[tr.thread >>> 5] |= 1 << (tr.thread & 31);
        if (tr.progress) progress = true;
      }
      for (let k = 0; k < W; k++) stateMask[k] |= mask[k];
      const len = packed.encodeInto(nextLeaves, nextCtx);
      const nextWords = packed.encoded;
      fingerprint(nextWords, fp, len);
      let nid: number;
      if (atDepthLimit || store.size >= maxStates) {
        // Bound reached: keep only edges to stored states. The enabled set stays exact, so a fair cycle
        // found among the kept edges is real; without one the run is incomplete.
        nid = store.find(fp[0], fp[1]);
        if (nid < 0) {
          bound = atDepthLimit ? { name: 'maxDepth', limit: maxDepth } : { name: 'maxStates', limit: maxStates };
          continue;
        }
      } else if ((nid = store.add(fp[0], fp[1], id, e)) < 0) nid = -nid - 1;
      else {
        label(nextLeaves);
        if (depth + 1 > maxSeenDepth) maxSeenDepth = depth + 1;
        frontier.push(nid, depth + 1, nextWords, len);
      }
      targets.push(nid);
      events.push(e | (progress ? EDGE_PROGRESS : 0));
      if (edgeThreads) for (let k = 0; k < W; k++) edgeThreads.push(mask[k]);
    }
    enabled.data.set(stateMask, id * W);
    flags.data[id] |= STATE_EXPANDED;
  }
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
  };
  const bytesPerEdge = 4 + 2 + (edgeThreads ? 4 * W : 0);
  return {
    graph,
    store,
    excluded: excluded.map((x) => x.trimmed()),
    bound,
    depth: maxSeenDepth,
    seconds: (now() - start) / 1000,
    bytesPerEdge,
  };
}

interface Property {
  kind: 'livelock' | 'starvation';
  name: string;
  ok: EdgeFilter;
  /** The message, given a description of the loop's steps. */
  describe: (loop: string) => string;
  thread?: string;
}

/** What each thread does in the loop of a lasso path: moves, has finished, is blocked in some loop state, or idles (enabled throughout, never moving). */
function loopRoles(packed: PackedSystem, path: number[], loopStart: number): string {
  const system = packed.system;
  const init = packed.initial();
  let leaves = init.leaves;
  let ctx = init.context;
  const moved = new Set<number>();
  const blocked = new Set<number>();
  const finished = new Set<number>(system.threads.map((t) => t.index));
  path.forEach((e, i) => {
    const r = system.step(leaves, ctx, e)!;
    if (i + 1 >= loopStart) {
      for (const tr of r.taken) moved.add(tr.thread);
      const enabled = new Set<number>();
      for (let f = 0; f < system.events.length; f++) system.step(leaves, ctx, f)?.taken.forEach((tr) => enabled.add(tr.thread));
      for (const t of system.threads) {
        if (!enabled.has(t.index)) blocked.add(t.index);
        if (!t.isFinal[leaves[t.index]]) finished.delete(t.index);
      }
    }
    leaves = r.leaves;
    ctx = packed.decodeContext(packed.encode(r.leaves, r.context));
  });
  const names = (f: (i: number) => boolean) => system.threads.filter((t) => f(t.index)).map((t) => t.name);
  const parts = [`moving in the loop: ${names((i) => moved.has(i)).join(', ') || 'none'}`];
  const done = names((i) => !moved.has(i) && finished.has(i));
  const waiting = names((i) => !moved.has(i) && !finished.has(i) && blocked.has(i));
  const idle = names((i) => !moved.has(i) && !blocked.has(i));
  if (done.length) parts.push(`finished: ${done.join(', ')}`);
  if (waiting.length) parts.push(`blocked in the loop: ${waiting.join(', ')}`);
  if (idle.length) parts.push(`able to run but never scheduled (an unfair loop): ${idle.join(', ')}`);
  return parts.join('; ');
}

/** Explores the model and looks for a livelock and/or starvation lasso. */
export function searchLiveness(packed: PackedSystem, o: LivenessOptions): LivenessResult {
  const system = packed.system;
  const fairness: Fairness = o.fairness ?? 'weak';
  if (!FAIRNESS.includes(fairness)) throw new InputError(`fairness '${fairness}': expected one of ${FAIRNESS.join(', ')}`);
  const goals = (o.starvation ?? []).map((s) => resolveGoal(system, s));
  const ex = explore(packed, goals, o);
  const g = ex.graph;
  const started = now();
  const fairText = fairness === 'weak' ? 'under weak fairness (every thread moves or is blocked somewhere in the loop)' : 'with no fairness assumed';

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
      message: `${p.describe(loop)}; ${loopRoles(packed, path, loopStart)}`,
      ...(p.thread ? { thread: p.thread } : {}),
      stateId: found.scc.root,
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
  if (violation) return { status: 'violation', violation, bound: ex.bound, stats, store: ex.store, path, loopStart };
  if (ex.bound) return { status: 'incomplete', bound: ex.bound, stats, store: ex.store };
  return { status: 'pass', stats, store: ex.store };
}

/**
 * Checks the loop of a replayable lasso trace against its property: for a livelock no progress step and
 * no progress state in the loop; for starvation the thread never at its goal (nor finished) in the loop;
 * under weak fairness (the trace's options.fairness, default weak) every thread moves in the loop or is
 * disabled in one of its states. Returns why the loop does not show the property, or null.
 */
export function lassoProblem(packed: PackedSystem, trace: Trace): string | null {
  const system = packed.system;
  const loopStart = trace.loopStart;
  if (loopStart === undefined) return 'the trace has no loop (loopStart)';
  const eventIndex = new Map(system.events.map((e, i) => [e, i]));
  const opts = trace.options ?? {};
  const fairness = (opts.fairness as Fairness | undefined) ?? 'weak';
  const kind = trace.violation.kind;
  let goal: ResolvedGoal | null = null;
  if (kind === 'starvation') {
    const list = (Array.isArray(opts.starvation) ? opts.starvation : opts.starvation ? [opts.starvation] : []) as StarvationGoal[];
    const s = list.find((x) => x.thread === (trace.violation.thread ?? trace.violation.name));
    if (!s) return `the trace does not record the goal of thread ${trace.violation.thread ?? trace.violation.name} (options.starvation)`;
    goal = resolveGoal(system, s);
  }
  const init = packed.initial();
  let leaves = init.leaves;
  let ctx = init.context;
  const moved = new Set<number>();
  const disabledSomewhere = new Set<number>();
  const inLoopState = (at: string) => {
    if (kind === 'livelock' && isProgressState(system, leaves)) return `the loop passes a progress state ${at}`;
    if (goal && goal.excluded[leaves[goal.thread]]) {
      const where = system.threads[goal.thread].leafPaths[leaves[goal.thread]];
      return `${goal.threadName} is at ${where} ${at}, which is its goal or a final state`;
    }
    if (fairness === 'weak') {
      const enabled = new Set<number>();
      for (let e = 0; e < system.events.length; e++) system.step(leaves, ctx, e)?.taken.forEach((tr) => enabled.add(tr.thread));
      for (const t of system.threads) if (!enabled.has(t.index)) disabledSomewhere.add(t.index);
    }
    return null;
  };
  for (const s of trace.steps) {
    const e = eventIndex.get(s.event);
    const r = e === undefined ? null : system.step(leaves, ctx, e);
    if (!r) return `step ${s.step} (${s.event}) cannot be replayed`;
    if (s.step >= loopStart) {
      if (s.step === loopStart) {
        const p = inLoopState(`before step ${s.step}`);
        if (p) return p;
      }
      if (kind === 'livelock' && r.taken.some((tr) => tr.progress)) return `step ${s.step} (${s.event}) is a progress transition`;
      for (const tr of r.taken) moved.add(tr.thread);
    }
    leaves = r.leaves;
    ctx = packed.decodeContext(packed.encode(r.leaves, r.context));
    if (s.step >= loopStart) {
      const p = inLoopState(`after step ${s.step}`);
      if (p) return p;
    }
  }
  if (fairness === 'weak') {
    const unfair = system.threads.filter((t) => !moved.has(t.index) && !disabledSomewhere.has(t.index)).map((t) => t.name);
    if (unfair.length) return `the loop is not weakly fair: ${unfair.join(', ')} stay${unfair.length === 1 ? 's' : ''} enabled in every state of the loop but never move`;
  }
  return null;
}
