// Formats check outcomes: the human table, the --json document and JUnit XML. Only the CLI prints.
import { unreachable } from '../explorer/errors.ts';
import type { CheckResult } from '../explorer/index.ts';
import type { Progress } from '../explorer/outcome.ts';
import { depthOf, type SpecOutcome } from './check.ts';

/** One progress line: the strategy, then states, rate, depth and queue (walks for random walks). */
export function progressText(pr: Progress, strategy: string): string {
  const rate = pr.seconds > 0 ? Math.round(pr.states / pr.seconds) : 0;
  const work = pr.walks !== undefined ? `${pr.walks} walks` : `queue ${pr.queue}`;
  return `${strategy}: ${pr.states} states, ${rate} states/s, depth ${pr.depth}, ${work}, ${pr.seconds.toFixed(0)}s`;
}

/**
 * The stderr line of a run that checked nothing (CheckResult.nothingChecked), as check and swarm say it: not refused
 * (a spec may pin only the state count), but said: its verdict measured nothing else.
 */
export function nothingCheckedText(spec: string): string {
  return `${spec}: nothing was checked but the state count (deadlock, assertions, invariants, livelock, starvation and lock order are all off); the verdict says only whether the search finished`;
}

export function verdictText(o: SpecOutcome): string {
  if (o.error || !o.result) return `error (${o.error?.kind ?? 'internal'})`;
  const v = o.result.verdict;
  switch (v.status) {
    case 'violation':
      return `${v.kind}${v.name && v.name !== v.kind ? `:${v.name}` : ''}`;
    case 'incomplete':
      return `incomplete (${v.bound.name})`;
    case 'pass':
      return 'pass';
    default:
      return unreachable(v);
  }
}

export function expectedText(o: SpecOutcome): string {
  const e = o.expected;
  if (!e) return '-';
  if (e.status === 'violation') return `${e.kind}${e.name ? `:${e.name}` : ''}`;
  return o.implicitExpectation ? `${e.status} (no spec)` : e.status;
}

export function renderTable(outcomes: SpecOutcome[]): string {
  const head = ['spec', 'states', 'transitions', 'depth', 'seconds', 'verdict', 'expected', 'match'];
  const rows = outcomes.map((o) => {
    const s = o.result?.stats;
    return [
      o.name,
      s ? String(s.states) : '-',
      s ? String(s.transitions) : '-',
      o.result ? String(depthOf(o.result)) : '-',
      s ? s.seconds.toFixed(2) : '-',
      verdictText(o),
      expectedText(o),
      o.error ? 'ERROR' : o.matched ? 'ok' : 'MISMATCH',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = new Set([1, 2, 3, 4]);
  const fmt = (r: string[]) => r.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

function liveStats(s: CheckResult['stats']): Record<string, number> {
  if (!('edges' in s)) return {};
  return { edges: s.edges, bytesPerEdge: Number(s.bytesPerEdge.toFixed(1)), analysisSeconds: Number(s.analysisSeconds.toFixed(3)) };
}

export function jsonDocument(outcomes: SpecOutcome[]): object {
  return {
    results: outcomes.map((o) => {
      const r = o.result;
      return {
        spec: o.spec,
        model: r?.model ?? null,
        variant: r?.variant ?? null,
        params: r?.params ?? null,
        verdict: r
          ? {
              status: r.verdict.status,
              ...(r.verdict.kind ? { kind: r.verdict.kind } : {}),
              ...(r.verdict.name ? { name: r.verdict.name } : {}),
              ...(r.verdict.message ? { message: r.verdict.message } : {}),
              ...(r.verdict.bound ? { bound: r.verdict.bound } : {}),
            }
          : { status: 'error' },
        ...(r?.seed !== undefined ? { seed: r.seed } : {}),
        ...(r?.bitstate ? { bitstate: { ...r.bitstate, fill: Number(r.bitstate.fill.toFixed(6)), hashFactor: Number(r.bitstate.hashFactor.toFixed(1)), coverage: Number(r.bitstate.coverage.toFixed(6)) } } : {}),
        expected: o.expected ?? null,
        matched: o.matched,
        ...(o.mismatch ? { mismatch: o.mismatch } : {}),
        ...(o.overrides ? { overrides: o.overrides } : {}),
        ...(o.crossCheck ? { crossCheck: { status: o.crossCheck.status, states: o.crossCheck.states, ...(o.crossCheck.difference ? { difference: o.crossCheck.difference } : {}) } } : {}),
        stats: r
          ? {
              states: r.stats.states,
              transitions: r.stats.transitions,
              // Steps of the counterexample; without one, steps to the deepest state explored (exploredDepth).
              depth: depthOf(r),
              exploredDepth: r.stats.depth,
              seconds: Number(r.stats.seconds.toFixed(3)),
              bytesPerState: Number(r.stats.bytesPerState.toFixed(1)),
              ...('walks' in r.stats ? { walks: r.stats.walks } : {}),
              // Liveness runs also report the stored graph and the cycle analysis.
              ...liveStats(r.stats),
            }
          : null,
        counterexample: o.counterexample ?? null,
        ...(r?.coverage ? { coverage: r.coverage } : {}),
        // Which reductions were asked for and which ran (when the run names them).
        ...(r?.reductions ? { reductions: r.reductions } : {}),
        ...(o.error ? { error: o.error } : {}),
      };
    }),
  };
}
