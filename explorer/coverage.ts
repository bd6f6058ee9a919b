// Coverage: which declared transitions fired and which states were reached during a search, per thread
// (as SPIN's "unreached in proctype" and TLC's coverage). The search hands every step's taken transitions
// to a collector (SearchOptions.onTransition); the report lists what never fired. A pass whose model has
// transitions that never fire may have tested nothing: a guard that is never true, a state never entered.
import type { CompiledSystem, CompiledTransition } from './compile.ts';

/** A declared transition: where it is written, its event, its guard and where it goes. */
export interface CoverageTransition {
  /** The state that declares it (dotted path in its thread; an ancestor's transition serves all its leaves). */
  state: string;
  event: string;
  guard?: string;
  /** The leaf it leads to, or undefined for a targetless transition (the thread stays). */
  target?: string;
}

export interface ThreadCoverage {
  thread: string;
  transitions: { total: number; taken: number };
  states: { total: number; reached: number };
  neverTaken: CoverageTransition[];
  neverReached: string[];
}

export interface Coverage {
  /**
   * True when the search explored the whole reachable state space: then "never taken" means the
   * transition can never fire. False for a run cut by a bound or stopped at the first violation: then it
   * only was not taken in this partial run.
   */
  complete: boolean;
  transitions: { total: number; taken: number };
  states: { total: number; reached: number };
  threads: ThreadCoverage[];
}

/** A transition's identity across the leaves it is compiled for (one declared transition, many leaves). */
function keyOf(system: CompiledSystem, tr: CompiledTransition): string {
  const t = system.threads[tr.thread];
  return `${tr.source}\u0000${tr.event}\u0000${tr.guardLabel}\u0000${tr.target >= 0 ? t.leafPaths[tr.target] : ''}`;
}

function threadPath(system: CompiledSystem, tr: CompiledTransition): string {
  // source is the node's path from the machine root: drop the thread's own name.
  const name = system.threads[tr.thread].name;
  return tr.source === name ? '(thread)' : tr.source.startsWith(name + '.') ? tr.source.slice(name.length + 1) : tr.source;
}

export interface CoverageCollector {
  /** The search calls this after each step it takes, with the transitions the step took. */
  onTransition(taken: readonly CompiledTransition[]): void;
  report(complete: boolean): Coverage;
}

export function createCoverage(system: CompiledSystem): CoverageCollector {
  const taken = new Set<CompiledTransition>();
  return {
    onTransition(list) {
      for (let i = 0; i < list.length; i++) taken.add(list[i]);
    },
    report(complete) {
      const threads: ThreadCoverage[] = system.threads.map((t) => {
        // Every declared transition once, in leaf then event then candidate order.
        const declared = new Map<string, { tr: CompiledTransition; taken: boolean }>();
        const reached = new Set<number>([system.initialLeaves[t.index]]);
        t.leafEvents.forEach((events, leaf) => {
          for (const e of events) {
            for (const tr of t.candidates[leaf][e]!) {
              const k = keyOf(system, tr);
              const d = declared.get(k) ?? { tr, taken: false };
              if (taken.has(tr)) {
                d.taken = true;
                if (tr.target >= 0) reached.add(tr.target);
              }
              declared.set(k, d);
            }
          }
        });
        const neverTaken: CoverageTransition[] = [];
        for (const { tr, taken: was } of declared.values()) {
          if (was) continue;
          neverTaken.push({
            state: threadPath(system, tr),
            event: system.events[tr.event],
            ...(tr.guardLabel ? { guard: tr.guardLabel } : {}),
            ...(tr.target >= 0 ? { target: t.leafPaths[tr.target] } : {}),
          });
        }
        const neverReached = t.leafPaths.filter((_, leaf) => !reached.has(leaf));
        return {
          thread: t.name,
          transitions: { total: declared.size, taken: declared.size - neverTaken.length },
          states: { total: t.leafPaths.length, reached: reached.size },
          neverTaken,
          neverReached,
        };
      });
      return summarise(threads, complete);
    },
  };
}

const transitionKey = (t: CoverageTransition) => `${t.state}\u0000${t.event}\u0000${t.guard ?? ''}\u0000${t.target ?? ''}`;

/**
 * The union of several runs' coverage of one model (swarm jobs, shard files): a transition is never taken
 * only if no run took it, a state never reached only if no run reached it. Complete when one run was
 * (then its lists are already the truth). Undefined for no reports.
 */
export function mergeCoverage(reports: Coverage[]): Coverage | undefined {
  const first = reports[0];
  if (first === undefined) return undefined;
  const threads = first.threads.map((t0): ThreadCoverage => {
    const others = reports.map((r) => r.threads.find((t) => t.thread === t0.thread));
    const neverTaken = t0.neverTaken.filter((tr) => others.every((t) => t === undefined || t.neverTaken.some((u) => transitionKey(u) === transitionKey(tr))));
    const neverReached = t0.neverReached.filter((s) => others.every((t) => t === undefined || t.neverReached.includes(s)));
    return {
      thread: t0.thread,
      transitions: { total: t0.transitions.total, taken: t0.transitions.total - neverTaken.length },
      states: { total: t0.states.total, reached: t0.states.total - neverReached.length },
      neverTaken,
      neverReached,
    };
  });
  return summarise(threads, reports.some((r) => r.complete));
}

/** The whole model's coverage from its threads'. */
function summarise(threads: ThreadCoverage[], complete: boolean): Coverage {
  const sum = (f: (c: ThreadCoverage) => number) => threads.reduce((a, c) => a + f(c), 0);
  return {
    complete,
    transitions: { total: sum((c) => c.transitions.total), taken: sum((c) => c.transitions.taken) },
    states: { total: sum((c) => c.states.total), reached: sum((c) => c.states.reached) },
    threads,
  };
}
