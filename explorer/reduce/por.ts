// Partial-order reduction: at each state, expand only the enabled events of one thread when that is sound
// (an ample set in the sense of Peled; conditions C0-C3 of Clarke, Grumberg and Peled, "Model Checking", ch. 10),
// from the per-transition footprints of ./footprint.ts.
//
// Thread p at leaf l is an ample candidate at a state when
//   C0  some event of p is enabled there (the ample set is all of p's enabled events);
//   C1  (persistence, the static approximation of SPIN's ample sets and of Kurshan et al.'s static POR) every
//       transition p has at l, enabled or not, is independent of every transition any other thread can still
//       take from its current leaf on: no write of one overlaps a read or write of the other, and no event of p
//       there is also an event of another thread. So nothing the others do can enable, disable or change p's
//       steps, and p's steps cannot affect theirs;
//   C2  (visibility) no transition of p at l can change what a checked invariant or assertion reads: a context
//       path the property reads (declared by the model, else the whole context), a location the property reads,
//       or whether an assertion is in force (moving into or out of an asserting state);
//   C3  (cycle proviso, static) no transition of p at l closes a cycle of p's own control graph: every edge
//       leaf -> target that is a back edge of a depth-first search of the thread's leaves (or keeps the leaf:
//       a targetless or self transition) forces full expansion. Any cycle of the reduced state graph moves
//       some thread around a cycle of its control graph, which contains a back edge, so every cycle has a
//       fully expanded state (the "sticky transitions" of Kurshan, Levin, Minea, Peled and Yenigun, "Static
//       Partial Order Reduction", TACAS 1998). It needs no look-up in the visited set, so it holds for every
//       search order (BFS, DFS, parallel). Under symmetry a cycle of the quotient graph returns every group to
//       the same multiset of leaves; identical threads have the same back edges and the same ranks of the
//       acyclic rest, and without a back edge the sum of ranks only grows, so the argument carries over.
// Candidates are tried in thread order; the first that qualifies gives the ample set, else every event is
// expanded. Deadlocks are kept by C0 and C1 alone; invariants and assertions by C1-C3. Liveness does not run
// reduced (see explorer/reduce/index.ts).
import type { CompiledSystem } from '../compile/index.ts';
import type { Context } from '../model.ts';
import { conflicts, covered, EVERYTHING, pathsOverlap, type SystemFootprints } from './footprint.ts';

/** What the checked properties read (see ModelDefinition.propertyFootprints). */
export interface PropertyReads {
  /** Context paths ('*' = all). */
  context: string[];
  /** Threads whose location is read (true = all). */
  locations: boolean | string[];
  /** Assertions are checked: moving into or out of an asserting state is visible. */
  assertions: boolean;
}

export interface PorTables {
  /** eligible[thread][leaf]: C1 against nobody yet, C2 and C3 hold (static per leaf). */
  eligible: boolean[][];
  /** Why a (thread, leaf) is not eligible, for reports and tests. */
  reason: string[][];
}

/** Back edges of each thread's control graph (DFS over leaves from the initial leaf, then the rest in order). */
export function backEdgeLeaves(system: CompiledSystem): boolean[][] {
  return system.threads.map((t) => {
    const n = t.leaves.length;
    const succ = t.leaves.map((_, leaf) => {
      const out: number[] = [];
      const cands = t.candidates[leaf];
      for (let e = 0; e < cands.length; e++) for (const tr of cands[e] ?? []) out.push(tr.target);
      return out;
    });
    const closes = new Array<boolean>(n).fill(false);
    const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
    const dfs = (root: number) => {
      const stack: Array<[number, number]> = [[root, 0]];
      state[root] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1];
        const [leaf, i] = top;
        if (i < succ[leaf].length) {
          top[1]++;
          const to = succ[leaf][i];
          if (to < 0 || to === leaf || state[to] === 1) closes[leaf] = true;
          else if (state[to] === 0) {
            state[to] = 1;
            stack.push([to, 0]);
          }
        } else {
          state[leaf] = 2;
          stack.pop();
        }
      }
    };
    dfs(system.initialLeaves[t.index]);
    for (let l = 0; l < n; l++) if (state[l] === 0) dfs(l);
    return closes;
  });
}

export function porTables(system: CompiledSystem, fps: SystemFootprints, props: PropertyReads): PorTables {
  const closes = backEdgeLeaves(system);
  const readsAll = props.context.includes(EVERYTHING);
  const eligible: boolean[][] = [];
  const reason: string[][] = [];
  for (const t of system.threads) {
    const locRead = props.locations === true || (Array.isArray(props.locations) && props.locations.includes(t.name));
    const el: boolean[] = [];
    const why: string[] = [];
    t.leaves.forEach((_, leaf) => {
      const fp = fps.leaf[t.index][leaf];
      let r = '';
      if (closes[t.index][leaf]) r = 'closes a cycle of the thread (C3)';
      else if (t.leafEvents[leaf].some((e) => system.eventThreads[e].length > 1)) r = 'an event shared with another thread';
      else if (fp.writes.length > 0 && (readsAll || fp.writes.some((w) => props.context.some((c) => pathsOverlap(w, c))))) r = 'writes what a property reads (C2)';
      else {
        for (const cands of t.candidates[leaf]) {
          for (const tr of cands ?? []) {
            if (tr.target < 0 || tr.target === leaf) continue;
            if (locRead) r = 'moves a thread whose location a property reads (C2)';
            else if (props.assertions && t.asserts[tr.target].join('\0') !== t.asserts[leaf].join('\0')) r = 'enters or leaves an assertion (C2)';
          }
        }
      }
      el.push(r === '' && t.leafEvents[leaf].length > 0);
      why.push(r || (t.leafEvents[leaf].length ? '' : 'no events'));
    });
    eligible.push(el);
    reason.push(why);
  }
  return { eligible, reason };
}

/** Builds the ample-set chooser: expandEvents(leaves, ctx, candidates) of the reduction seam. */
export function createAmple(system: CompiledSystem, fps: SystemFootprints, tables: PorTables) {
  const T = system.threads.length;
  // Independence of (p at l) against (q from lq on), filled lazily: 0 unknown, 1 independent, 2 dependent.
  const leafBase: number[] = [];
  let total = 0;
  for (const t of system.threads) {
    leafBase.push(total);
    total += t.leaves.length;
  }
  const indep = new Uint8Array(total * total);
  const independent = (p: number, l: number, q: number, lq: number) => {
    const k = (leafBase[p] + l) * total + leafBase[q] + lq;
    let v = indep[k];
    if (v === 0) indep[k] = v = conflicts(fps.leaf[p][l], fps.future[q][lq]) ? 2 : 1;
    return v === 1;
  };
  const eventObjects = system.events.map((type) => Object.freeze({ type }));
  const out: number[] = [];

  /** True when some candidate transition of thread p for event e is enabled (its guard holds). */
  const enabled = (p: number, leaf: number, e: number, ctx: Context) => {
    const cands = system.threads[p].candidates[leaf][e];
    if (!cands) return false;
    for (const tr of cands) if (tr.guard === null || tr.guard(ctx, eventObjects[e])) return true;
    return false;
  };

  let reduced = 0;
  let full = 0;
  function expandEvents(leaves: ArrayLike<number>, ctx: Context, candidates: number[]): ArrayLike<number> {
    for (let p = 0; p < T; p++) {
      const l = leaves[p];
      if (!tables.eligible[p][l]) continue;
      let ok = true;
      for (let q = 0; q < T && ok; q++) if (q !== p && !independent(p, l, q, leaves[q])) ok = false;
      if (!ok) continue;
      const evs = system.threads[p].leafEvents[l];
      out.length = 0;
      for (const e of evs) if (enabled(p, l, e, ctx)) out.push(e);
      if (out.length === 0) continue;
      if (out.length === candidates.length) break;
      reduced++;
      return out;
    }
    full++;
    return candidates;
  }
  return {
    expandEvents,
    stats: () => ({ reduced, full }),
  };
}

export { covered };
