// Fair-cycle search over an explored state graph in CSR form: iterative Tarjan SCCs, the weak-fairness
// SCC test, the strong-fairness decomposition, and a fair lasso (stem + cycle) through the chosen SCC. No
// recursion: graphs reach 10^6+ states.
//
// Strong fairness (TLA+'s SF per action): a run is fair when every label enabled infinitely often is taken
// infinitely often. A label is a (thread, event) pair: an edge of an event one thread owns has one label, an
// edge of a shared event one per thread it moves. Label l is enabled at v when v has an out-edge labelled l in
// the full graph (the property's edge filter plays no part), or a cut one (an edge a bound dropped: StateGraph
// cut). Streett emptiness: an SCC S of the filtered graph holds a fair cycle iff every label enabled in S is
// taken on a filtered edge inside S and S is weakly fair (which the label test implies: a thread enabled in
// every state of S has a label enabled in S); otherwise the states where an untaken label is enabled cannot be
// on a fair cycle inside S, so they are removed, the rest is split into SCCs again, and so on. A label found
// untaken in S is enabled nowhere in what is left of S, so a state goes through at most L + 1 splits.
//
// Cost (n states, m edges, T threads, W = ceil(T / 32) mask words, L labels: one per owned event, T per
// shared one):
//   tarjan: O(n + m) time; 5 Int32 + 1 Uint8 per state (21 bytes/state), reused across properties.
//   fairness test: O(size + edges) per SCC, O(n + m) in all.
//   strong: the same Tarjan arrays, re-run on what is left of an unfair SCC, + 8 bytes/state (the states left
//   to split, and the roots of the split running) + 4 bytes/label; O(min(n, L + 1) (n + m)) time, each round
//   also looking up the cut edges of the SCC's states (O(log c) per state, c cut edges).
//   lasso: at most T + 1 breadth-first searches inside the SCC S, O((T + 1) (|S| + m_S)) time, 12 bytes/state;
//   under strong fairness at most T + L_S + 1 (L_S the labels enabled in S), + 1 byte/label and an O(n + m)
//   scan for those labels.

/** The explored graph: out-edges of state v are edges offsets[v] .. offsets[v + 1] - 1. */
export interface StateGraph {
  /** States (dense ids 0 .. n-1, BFS order, so a smaller id is never deeper). */
  n: number;
  threadCount: number;
  /** Mask words per thread set: ceil(threadCount / 32). */
  maskWords: number;
  offsets: Int32Array;
  targets: Int32Array;
  /** Event index of each edge, with EDGE_PROGRESS set when a taken transition has meta.progress. */
  edgeEvents: Uint16Array;
  /** Threads that moved on each edge (maskWords words per edge), or null when derivable from the event. */
  edgeThreads: Uint32Array | null;
  /** Thread owning each event when exactly one thread declares it (used when edgeThreads is null). */
  eventOwner: Int32Array;
  /** Threads enabled in each state (maskWords words per state). */
  enabled: Uint32Array;
  /** State flags: STATE_EXPANDED, STATE_PROGRESS. */
  stateFlags: Uint8Array;
  /**
   * Edges a bound dropped (their targets were never stored), recorded for strong fairness only: a label
   * enabled there is enabled. Sources ascending; events and threads as edgeEvents and edgeThreads.
   */
  cut?: { from: Int32Array; events: Uint16Array; threads: Uint32Array | null };
}

export const EDGE_PROGRESS = 0x8000;
export const EDGE_EVENT = 0x7fff;
export const STATE_EXPANDED = 1;
export const STATE_PROGRESS = 2;

/** Which edges (and so which states) the cycle may use: edge e from state v. */
export type EdgeFilter = (e: number, v: number) => boolean;

export type Fairness = 'none' | 'weak' | 'strong';

/** ORs the threads that move on edge e into acc (maskWords words at acc[0..]). */
function orEdgeThreads(g: StateGraph, e: number, acc: Uint32Array): void {
  if (g.edgeThreads) {
    for (let k = 0; k < g.maskWords; k++) acc[k] |= g.edgeThreads[e * g.maskWords + k];
  } else {
    const t = g.eventOwner[g.edgeEvents[e] & EDGE_EVENT];
    acc[t >>> 5] |= 1 << (t & 31);
  }
}

/** ORs the threads disabled in state v (among the T threads) into acc. */
function orDisabled(g: StateGraph, v: number, acc: Uint32Array): void {
  for (let k = 0; k < g.maskWords; k++) acc[k] |= ~g.enabled[v * g.maskWords + k];
}

function fullMask(g: StateGraph): Uint32Array {
  const m = new Uint32Array(g.maskWords);
  for (let t = 0; t < g.threadCount; t++) m[t >>> 5] |= 1 << (t & 31);
  return m;
}

function covers(acc: Uint32Array, full: Uint32Array): boolean {
  // (`&` gives a signed 32-bit result, the arrays' elements read unsigned: compare them unsigned, or a word with
  // bit 31 set, 32 threads or more, never covers.)
  for (let k = 0; k < full.length; k++) if ((acc[k] & full[k]) >>> 0 !== full[k]) return false;
  return true;
}

export interface FairScc {
  /** Smallest (shallowest) state id in the SCC. */
  root: number;
  /** Membership: member(v) is true for states of the SCC. */
  member: (v: number) => boolean;
  size: number;
}

export interface SccSearch {
  /** The fair SCC closest to the initial state (smallest minimum id), if any. */
  scc?: FairScc;
  /** Number of non-trivial SCCs (those that contain a cycle) seen. */
  cyclic: number;
}

/** The SCC's states stack[k .. sp-1], each with low[x] === mark. */
type OnScc = (stack: Int32Array, k: number, sp: number, mark: number) => void;

/**
 * Iterative Tarjan over the `ok` edges, its arrays kept between runs: strong fairness re-runs it on what is left
 * of an unfair SCC. A run starts from its roots not yet numbered (index 0) and follows ok edges to states not yet
 * numbered or still on its stack: a state an earlier run numbered (and nobody reset) is outside the run.
 */
class Tarjan {
  readonly index: Int32Array; // 0 = not numbered, else DFS number + 1
  // low[v]: Tarjan's lowlink while v is on the stack; once v's SCC is popped, its mark -(scc number + 1).
  readonly low: Int32Array;
  readonly onStack: Uint8Array;
  readonly stack: Int32Array;
  private readonly callV: Int32Array;
  private readonly callE: Int32Array;
  private counter = 0;
  private sccCount = 0;

  constructor(n: number) {
    this.index = new Int32Array(n);
    this.low = new Int32Array(n);
    this.onStack = new Uint8Array(n);
    this.stack = new Int32Array(n);
    this.callV = new Int32Array(n);
    this.callE = new Int32Array(n);
  }

  /** Runs from roots[0 .. count-1], or from every state when roots is null; onScc sees each SCC once. */
  run(g: StateGraph, ok: EdgeFilter, roots: Int32Array | null, count: number, onScc: OnScc): void {
    const { offsets, targets } = g;
    const { index, low, onStack, stack, callV, callE } = this;
    let sp = 0;
    for (let i = 0; i < count; i++) {
      const r = roots ? roots[i] : i;
      if (index[r] !== 0) continue;
      let csp = 0;
      index[r] = low[r] = ++this.counter;
      stack[sp++] = r;
      onStack[r] = 1;
      callV[csp] = r;
      callE[csp++] = offsets[r];
      while (csp > 0) {
        const v = callV[csp - 1];
        const e = callE[csp - 1];
        if (e < offsets[v + 1]) {
          callE[csp - 1] = e + 1;
          if (!ok(e, v)) continue;
          const w = targets[e];
          if (index[w] === 0) {
            index[w] = low[w] = ++this.counter;
            stack[sp++] = w;
            onStack[w] = 1;
            callV[csp] = w;
            callE[csp++] = offsets[w];
          } else if (onStack[w] && index[w] < low[v]) low[v] = index[w];
          continue;
        }
        csp--;
        if (csp > 0) {
          const u = callV[csp - 1];
          if (low[v] < low[u]) low[u] = low[v];
        }
        if (low[v] !== index[v]) continue;
        // v roots an SCC: stack[k .. sp-1].
        let k = sp - 1;
        while (stack[k] !== v) k--;
        const mark = -(++this.sccCount);
        for (let j = k; j < sp; j++) {
          onStack[stack[j]] = 0;
          low[stack[j]] = mark;
        }
        onScc(stack, k, sp, mark);
        sp = k;
      }
    }
  }
}

/**
 * Whether the SCC stack[k .. sp-1] (marked `mark` in low) holds a cycle (an ok edge inside it); with `acc`, ORs
 * into it the threads that move on its ok edges inside and those disabled in one of its states (weak fairness).
 */
function sccCycle(g: StateGraph, ok: EdgeFilter, low: Int32Array, stack: Int32Array, k: number, sp: number, mark: number, acc: Uint32Array | null): boolean {
  const { offsets, targets } = g;
  let internal = false;
  for (let i = k; i < sp; i++) {
    const x = stack[i];
    if (acc) orDisabled(g, x, acc);
    for (let f = offsets[x]; f < offsets[x + 1]; f++) {
      if (low[targets[f]] !== mark || !ok(f, x)) continue;
      internal = true;
      if (acc) orEdgeThreads(g, f, acc);
      else break;
    }
    if (internal && !acc) break;
  }
  return internal;
}

/**
 * Finds the SCCs of the subgraph of `ok` edges (iterative Tarjan) and returns the fair one whose
 * shallowest state is shallowest. Weak fairness (exact for SCCs): S holds a fair cycle iff every thread
 * moves on some ok edge inside S or is disabled (in the full graph) in some state of S.
 * fairness 'none': any SCC with a cycle (more than one state, or an ok self-loop).
 * 'strong': the fair sub-SCCs of the Streett decomposition (see the header), the one whose shallowest state is
 * shallowest; `cyclic` counts the SCCs of the filtered graph, before any split.
 */
export function findFairScc(g: StateGraph, ok: EdgeFilter, fairness: Fairness): SccSearch {
  const tarjan = new Tarjan(g.n);
  if (fairness === 'strong') return findStrongScc(g, ok, tarjan);
  const full = fullMask(g);
  const acc = fairness === 'weak' ? new Uint32Array(g.maskWords) : null;
  let cyclic = 0;
  let best = -1;
  let bestMark = 0;
  let bestSize = 0;
  tarjan.run(g, ok, null, g.n, (stack, k, sp, mark) => {
    let minId = stack[k];
    for (let i = k + 1; i < sp; i++) if (stack[i] < minId) minId = stack[i];
    // Is there a cycle, and is it fair?
    acc?.fill(0);
    if (!sccCycle(g, ok, tarjan.low, stack, k, sp, mark, acc)) return;
    cyclic++;
    if (acc && !covers(acc, full)) return;
    if (best < 0 || minId < best) {
      best = minId;
      bestMark = mark;
      bestSize = sp - k;
    }
  });
  if (best < 0) return { cyclic };
  const m = bestMark;
  const low = tarjan.low;
  return { cyclic, scc: { root: best, member: (v) => low[v] === m, size: bestSize } };
}

/** Strong fairness's labels: (thread, event) pairs, numbered. */
class Labels {
  readonly count: number;
  /** Per event: its owner thread, or -1 for an event several threads declare. */
  private readonly owner: Int32Array;
  /** Per event: the label of its owner, or the first of T labels (thread t's is base + t) for a shared one. */
  private readonly base: Int32Array;

  constructor(private readonly g: StateGraph) {
    let events = g.eventOwner.length;
    for (const ev of [g.edgeEvents, g.cut?.events ?? new Uint16Array(0)]) for (let e = 0; e < ev.length; e++) events = Math.max(events, (ev[e] & EDGE_EVENT) + 1);
    this.owner = new Int32Array(events).fill(-1);
    this.owner.set(g.eventOwner.subarray(0, events));
    this.base = new Int32Array(events);
    let count = 0;
    for (let ev = 0; ev < events; ev++) {
      this.base[ev] = count;
      count += this.owner[ev] >= 0 ? 1 : g.threadCount;
    }
    this.count = count;
  }

  /** Writes the labels of edge e (cut: of cut edge e) into out; returns how many. */
  of(e: number, cut: boolean, out: Int32Array): number {
    const g = this.g;
    const ev = (cut ? g.cut!.events[e] : g.edgeEvents[e]) & EDGE_EVENT;
    if (this.owner[ev] >= 0) {
      out[0] = this.base[ev];
      return 1;
    }
    const threads = cut ? g.cut!.threads : g.edgeThreads;
    if (!threads) throw new Error(`internal: edge ${e} of the shared event ${ev} records no threads`);
    let c = 0;
    const at = e * g.maskWords;
    for (let t = 0; t < g.threadCount; t++) if (threads[at + (t >>> 5)] & (1 << (t & 31))) out[c++] = this.base[ev] + t;
    return c;
  }

  /** Calls f on each label enabled at v (its out-edges in the full graph, and its cut edges). */
  eachEnabled(v: number, out: Int32Array, f: (label: number) => void): void {
    const g = this.g;
    for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++) {
      const c = this.of(e, false, out);
      for (let i = 0; i < c; i++) f(out[i]);
    }
    const cut = g.cut;
    if (!cut || cut.from.length === 0) return;
    // first cut edge of v (sources ascending)
    let lo = 0;
    let hi = cut.from.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cut.from[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    for (let e = lo; e < cut.from.length && cut.from[e] === v; e++) {
      const c = this.of(e, true, out);
      for (let i = 0; i < c; i++) f(out[i]);
    }
  }
}

/** findFairScc under strong fairness: Tarjan, then the Streett decomposition of each unfair SCC, iteratively. */
function findStrongScc(g: StateGraph, ok: EdgeFilter, tarjan: Tarjan): SccSearch {
  const n = g.n;
  const { offsets, targets } = g;
  const { index, low } = tarjan;
  const labels = new Labels(g);
  const taken = new Int32Array(labels.count); // gen: taken inside the SCC being tested
  const scratch = new Int32Array(Math.max(1, g.threadCount));
  const full = fullMask(g);
  const acc = new Uint32Array(g.maskWords);
  // What is left of unfair SCCs, to split again: disjoint segments of `pending`, a stack (LIFO, so it stays
  // within n); `roots` holds the segment being split.
  const pending = new Int32Array(n);
  const roots = new Int32Array(n);
  const segments: number[] = [];
  let top = 0;
  let gen = 0;
  let topLevel = true;
  let cyclic = 0;
  let best = -1;
  let bestMark = 0;
  let bestSize = 0;
  let untaken = false;
  const markUntaken = (l: number) => {
    if (taken[l] !== gen) untaken = true;
  };

  const onScc: OnScc = (stack, k, sp, mark) => {
    acc.fill(0);
    if (!sccCycle(g, ok, low, stack, k, sp, mark, acc)) return;
    if (topLevel) cyclic++;
    // Weak fairness fails: a thread enabled in every state of S never moves inside S, nor inside any part of it.
    if (!covers(acc, full)) return;
    gen++;
    for (let i = k; i < sp; i++) {
      const x = stack[i];
      for (let f = offsets[x]; f < offsets[x + 1]; f++) {
        if (low[targets[f]] !== mark || !ok(f, x)) continue;
        const c = labels.of(f, false, scratch);
        for (let j = 0; j < c; j++) taken[scratch[j]] = gen;
      }
    }
    // Keep the states where every enabled label is taken inside S; S is fair when that is all of them.
    const start = top;
    let minId = stack[k];
    for (let i = k; i < sp; i++) {
      const x = stack[i];
      if (x < minId) minId = x;
      untaken = false;
      labels.eachEnabled(x, scratch, markUntaken);
      if (!untaken) pending[top++] = x;
    }
    if (top - start === sp - k) {
      top = start;
      if (best < 0 || minId < best) {
        best = minId;
        bestMark = mark;
        bestSize = sp - k;
      }
    } else if (top > start) segments.push(start);
  };

  tarjan.run(g, ok, null, n, onScc);
  topLevel = false;
  while (segments.length > 0) {
    const start = segments.pop()!;
    const count = top - start;
    top = start;
    let minId = pending[start];
    for (let i = 1; i < count; i++) if (pending[start + i] < minId) minId = pending[start + i];
    // Every part of this set is at least as deep as its shallowest state: no better SCC in it.
    if (best >= 0 && minId >= best) continue;
    for (let i = 0; i < count; i++) {
      const x = pending[start + i];
      roots[i] = x;
      index[x] = 0; // inside the next run
    }
    tarjan.run(g, ok, roots, count, onScc);
  }
  if (best < 0) return { cyclic };
  const m = bestMark;
  return { cyclic, scc: { root: best, member: (v) => low[v] === m, size: bestSize } };
}

/**
 * A cycle from scc.root back to itself inside the SCC, as edge indices. Under weak fairness the cycle
 * itself is fair: every thread moves on one of its edges or is disabled in one of its states. Under strong
 * fairness also every label enabled in a state of the SCC is taken on one of its edges. Built greedily:
 * breadth-first to the nearest state or edge that covers a thread (or a label) not yet covered, then back
 * to the root.
 */
export function fairCycle(g: StateGraph, ok: EdgeFilter, scc: FairScc, fairness: Fairness): number[] {
  const n = g.n;
  const { offsets, targets } = g;
  const stamp = new Int32Array(n);
  const viaEdge = new Int32Array(n);
  const viaState = new Int32Array(n);
  const queue = new Int32Array(scc.size);
  let gen = 0;
  const full = fullMask(g);
  const covered = new Uint32Array(g.maskWords);
  const probe = new Uint32Array(g.maskWords);
  const cycle: number[] = [];
  const root = scc.root;
  const weak = fairness !== 'none';
  const strong = fairness === 'strong' ? new LabelCover(g, scc) : null;

  const needs = (m: Uint32Array) => {
    for (let k = 0; k < full.length; k++) if (m[k] & full[k] & ~covered[k]) return true;
    return false;
  };
  /** Edges from `from` to the state where a BFS hit stopped, then the hit edge if any. */
  const pathTo = (from: number, to: number, last: number): number[] => {
    const p: number[] = [];
    if (last >= 0) p.push(last);
    for (let x = to; x !== from; x = viaState[x]) p.push(viaEdge[x]);
    return p.reverse();
  };
  /**
   * BFS inside the SCC from `from`. stopAtState(x) ends at a state; stopAtEdge(e, y) ends after edge e.
   * Returns the edges of the path.
   */
  const bfs = (from: number, stopAtState: ((x: number) => boolean) | null, stopAtEdge: (e: number, y: number) => boolean): number[] => {
    gen++;
    let head = 0;
    let tail = 0;
    queue[tail++] = from;
    stamp[from] = gen;
    while (head < tail) {
      const x = queue[head++];
      if (stopAtState && x !== from && stopAtState(x)) return pathTo(from, x, -1);
      for (let e = offsets[x]; e < offsets[x + 1]; e++) {
        const y = targets[e];
        if (!scc.member(y) || !ok(e, x)) continue;
        if (stopAtEdge(e, y)) return pathTo(from, x, e);
        if (stamp[y] === gen) continue;
        stamp[y] = gen;
        viaEdge[y] = e;
        viaState[y] = x;
        queue[tail++] = y;
      }
    }
    throw new Error('internal: the SCC is not strongly connected along the filtered edges');
  };
  const walk = (path: number[]): number => {
    let x = -1;
    for (const e of path) {
      cycle.push(e);
      if (weak) orEdgeThreads(g, e, covered);
      strong?.take(e);
      x = targets[e];
      if (weak) orDisabled(g, x, covered);
    }
    return x;
  };

  let cur = root;
  if (weak) {
    orDisabled(g, root, covered);
    while (!covers(covered, full) || (strong !== null && strong.missing > 0)) {
      const path = bfs(
        cur,
        (x) => {
          probe.fill(0);
          orDisabled(g, x, probe);
          return needs(probe);
        },
        (e) => {
          probe.fill(0);
          orEdgeThreads(g, e, probe);
          return needs(probe) || (strong !== null && strong.wants(e));
        },
      );
      cur = walk(path);
    }
  }
  if (cur !== root || cycle.length === 0) walk(bfs(cur, null, (_e, y) => y === root));
  return cycle;
}

/** The labels a strongly fair cycle through an SCC must take: those enabled in one of its states. */
class LabelCover {
  private readonly labels: Labels;
  /** Per label: 0 not enabled in the SCC, 1 enabled and not taken yet, 2 taken. */
  private readonly state: Uint8Array;
  private readonly scratch: Int32Array;
  /** Labels enabled in the SCC that the cycle does not take yet. */
  missing = 0;

  constructor(g: StateGraph, scc: FairScc) {
    this.labels = new Labels(g);
    this.state = new Uint8Array(this.labels.count);
    this.scratch = new Int32Array(Math.max(1, g.threadCount));
    const need = (l: number) => {
      if (this.state[l] === 0) {
        this.state[l] = 1;
        this.missing++;
      }
    };
    for (let v = 0; v < g.n; v++) if (scc.member(v)) this.labels.eachEnabled(v, this.scratch, need);
  }

  /** Edge e takes a label still missing. */
  wants(e: number): boolean {
    const c = this.labels.of(e, false, this.scratch);
    for (let i = 0; i < c; i++) if (this.state[this.scratch[i]] === 1) return true;
    return false;
  }

  take(e: number): void {
    const c = this.labels.of(e, false, this.scratch);
    for (let i = 0; i < c; i++) {
      if (this.state[this.scratch[i]] === 1) {
        this.state[this.scratch[i]] = 2;
        this.missing--;
      }
    }
  }
}
