// Statechart coverage of a search: which leaf state of each thread was reached and which events fired.
// Small and mergeable (a union of names), so swarm jobs on different machines can combine theirs.
import type { CompiledSystem } from './compile.ts';

/** Coverage as plain data: reached leaf paths per thread and fired event names, each sorted. */
export interface CoverageReport {
  threads: Record<string, string[]>;
  events: string[];
  /** Leaf states and events the model has in all (the denominators). */
  totals: { leaves: number; events: number };
}

export class Coverage {
  private readonly leaves: Uint8Array[];
  private readonly fired: Uint8Array;

  constructor(private readonly system: CompiledSystem) {
    this.leaves = system.threads.map((t) => new Uint8Array(t.leafPaths.length));
    this.fired = new Uint8Array(system.events.length);
  }

  /** Marks every thread's current leaf as reached. */
  visit(leaves: ArrayLike<number>): void {
    for (let t = 0; t < this.leaves.length; t++) this.leaves[t][leaves[t]] = 1;
  }

  /** Marks an event as fired. */
  fire(event: number): void {
    this.fired[event] = 1;
  }

  report(): CoverageReport {
    const threads: Record<string, string[]> = {};
    let leafTotal = 0;
    for (const t of this.system.threads) {
      threads[t.name] = t.leafPaths.filter((_, i) => this.leaves[t.index][i] === 1).sort();
      leafTotal += t.leafPaths.length;
    }
    const events = this.system.events.filter((_, i) => this.fired[i] === 1).sort();
    return { threads, events, totals: { leaves: leafTotal, events: this.system.events.length } };
  }
}

/** The union of several coverage reports of the same model (the totals of the first). */
export function mergeCoverage(reports: CoverageReport[]): CoverageReport | undefined {
  if (reports.length === 0) return undefined;
  const threads: Record<string, Set<string>> = {};
  const events = new Set<string>();
  for (const r of reports) {
    for (const [t, ls] of Object.entries(r.threads)) {
      const s = (threads[t] ??= new Set());
      for (const l of ls) s.add(l);
    }
    for (const e of r.events) events.add(e);
  }
  const out: Record<string, string[]> = {};
  for (const t of Object.keys(threads).sort()) out[t] = [...threads[t]].sort();
  return { threads: out, events: [...events].sort(), totals: reports[0].totals };
}

/** Fractions reached: leaf states and events (0..1). */
export function coverageRatio(r: CoverageReport): { leaves: number; events: number } {
  const leaves = Object.values(r.threads).reduce((a, l) => a + l.length, 0);
  return {
    leaves: r.totals.leaves ? leaves / r.totals.leaves : 1,
    events: r.totals.events ? r.events.length / r.totals.events : 1,
  };
}
