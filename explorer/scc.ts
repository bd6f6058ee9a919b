// Fair-cycle search over an explored state graph in CSR form: iterative Tarjan SCCs, the weak-fairness
// SCC test, and a fair lasso (stem + cycle) through the chosen SCC. No recursion: graphs reach 10^6+ states.
//
// Cost (n states, m edges, T threads, W = ceil(T / 32) mask words):
//   tarjan: O(n + m) time; 5 Int32 + 1 Uint8 per state (21 bytes/state), reused across properties.
//   fairness test: O(size + edges) per SCC, O(n + m) in all.
//   lasso: at most T + 1 breadth-first searches inside the SCC S, O((T + 1) (|S| + m_S)) time, 12 bytes/state.

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
}

export const EDGE_PROGRESS = 0x8000;
export const EDGE_EVENT = 0x7fff;
export const STATE_EXPANDED = 1;
export const STATE_PROGRESS = 2;

/** Which edges (and so which states) the cycle may use: edge e from state v. */
export type EdgeFilter = (e: number, v: number) => boolean;

export type Fairness = 'none' | 'weak';

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

/**
 * Finds the SCCs of the subgraph of `ok` edges (iterative Tarjan) and returns the fair one whose
 * shallowest state is shallowest. Weak fairness (exact for SCCs): S holds a fair cycle iff every thread
 * moves on some ok edge inside S or is disabled (in the full graph) in some state of S.
 * fairness 'none': any SCC with a cycle (more than one state, or an ok self-loop).
 */
export function findFairScc(g: StateGraph, ok: EdgeFilter, fairness: Fairness): SccSearch {
  const n = g.n;
  const { offsets, targets } = g;
  const index = new Int32Array(n); // 0 = unvisited, else DFS number + 1
  // low[v]: Tarjan's lowlink while v is on the stack; once v's SCC is popped, -(scc number + 1).
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  const callV = new Int32Array(n);
  const callE = new Int32Array(n);
  const full = fullMask(g);
  const acc = new Uint32Array(g.maskWords);
  let counter = 0;
  let sp = 0;
  let sccCount = 0;
  let cyclic = 0;
  let best = -1;
  let bestMark = 0;
  let bestSize = 0;

  for (let r = 0; r < n; r++) {
    if (index[r] !== 0) continue;
    let csp = 0;
    index[r] = low[r] = ++counter;
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
          index[w] = low[w] = ++counter;
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
      const mark = -(++sccCount);
      let minId = v;
      for (let i = k; i < sp; i++) {
        const x = stack[i];
        onStack[x] = 0;
        low[x] = mark;
        if (x < minId) minId = x;
      }
      const size = sp - k;
      // Is there a cycle, and is it fair?
      acc.fill(0);
      let internal = false;
      for (let i = k; i < sp; i++) {
        const x = stack[i];
        if (fairness === 'weak') orDisabled(g, x, acc);
        for (let f = offsets[x]; f < offsets[x + 1]; f++) {
          if (low[targets[f]] !== mark || !ok(f, x)) continue;
          internal = true;
          if (fairness === 'weak') orEdgeThreads(g, f, acc);
          else break;
        }
        if (internal && fairness === 'none') break;
      }
      sp = k;
      if (!internal) continue;
      cyclic++;
      if (fairness === 'weak' && !covers(acc, full)) continue;
      if (best < 0 || minId < best) {
        best = minId;
        bestMark = mark;
        bestSize = size;
      }
    }
  }
  if (best < 0) return { cyclic };
  const m = bestMark;
  return { cyclic, scc: { root: best, member: (v) => low[v] === m, size: bestSize } };
}

/**
 * A cycle from scc.root back to itself inside the SCC, as edge indices. Under weak fairness the cycle
 * itself is fair: every thread moves on one of its edges or is disabled in one of its states. Built
 * greedily: breadth-first to the nearest state or edge that covers a thread not yet covered, then back
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
      if (fairness === 'weak') orEdgeThreads(g, e, covered);
      x = targets[e];
      if (fairness === 'weak') orDisabled(g, x, covered);
    }
    return x;
  };

  let cur = root;
  if (fairness === 'weak') {
    orDisabled(g, root, covered);
    while (!covers(covered, full)) {
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
          return needs(probe);
        },
      );
      cur = walk(path);
    }
  }
  if (cur !== root || cycle.length === 0) walk(bfs(cur, null, (_e, y) => y === root));
  return cycle;
}
