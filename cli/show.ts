// Renders a trace as a race diagram: one column per thread, one row per step, the context changes
// beside each step, then the verdict and, at a deadlock, who waits for what and the wait-for cycle.
import type { Trace } from '../explorer/trace.ts';
import { renderLockOrder } from '../explorer/properties/lockorder.ts';
import type { WaitEdge } from '../explorer/waitfor.ts';
import { holderText, renderScenarioText } from '../explorer/scenario.ts';

const MAX_CELL = 34;

function fmt(v: unknown): string {
  if (v === undefined) return '(none)';
  return JSON.stringify(v);
}

function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const out: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    if (cut <= 0) cut = width;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
  }
  if (rest) out.push(rest);
  return out;
}

function shortEvent(event: string, thread: string): string {
  return event.startsWith(thread + '.') ? event.slice(thread.length + 1) : event;
}

export interface ShowOptions {
  /** Command line that replays the trace, printed last. */
  replayCommand?: string;
  /** Hide context changes (narrow terminals). */
  noChanges?: boolean;
}

export function renderTrace(trace: Trace, options: ShowOptions = {}): string {
  const lines: string[] = [];
  const params = Object.entries(trace.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  lines.push(`${trace.model} · variant ${trace.variant}${params ? ` · ${params}` : ''}${trace.spec ? ` · spec ${trace.spec}` : ''}`);
  lines.push('');

  const watched = Object.keys(trace.initial.watch ?? {});
  const threads = trace.threads;
  const columns = [...threads, ...watched];
  type Row = { step: string; cells: string[][]; changes: string[]; mark: string };
  const rows: Row[] = [];
  const watchCells = (w: Record<string, unknown> | undefined) => watched.map((k) => [w && k in w ? String(w[k]) : '']);
  rows.push({
    step: '',
    cells: [...threads.map((t) => [trace.initial.locations[t] ?? '']), ...watchCells(trace.initial.watch)],
    changes: ['(initial state)'],
    mark: '',
  });
  for (const s of trace.steps) {
    const cells = threads.map((t) => {
      if (!s.threads.includes(t)) return [];
      const from = s.from?.[t];
      const to = s.locations[t];
      const ev = shortEvent(s.event, t);
      const moved = from === undefined || from !== to;
      return wrap(moved ? `${ev} → ${to}` : `${ev} (stays)`, MAX_CELL);
    });
    const changes = options.noChanges ? [] : s.changes.map((c) => `${c.path}: ${fmt(c.from)} → ${fmt(c.to)}`);
    let mark = '';
    if (trace.loopStart !== undefined && s.step >= trace.loopStart) mark = s.step === trace.loopStart ? '┌' : '│';
    rows.push({ step: String(s.step), cells: [...cells, ...watchCells(s.watch)], changes, mark: mark + (s.progress ? '+' : '') });
  }
  const widths = columns.map((t, i) => Math.max(t.length, ...rows.map((r) => Math.max(0, ...r.cells[i].map((c) => c.length)))));
  const stepW = Math.max(4, ...rows.map((r) => r.step.length + r.mark.length + 1));
  const header = ['step'.padStart(stepW), ...columns.map((t, i) => t.padEnd(widths[i])), 'changes'].join(' │ ');
  lines.push(header);
  lines.push(['─'.repeat(stepW), ...widths.map((w) => '─'.repeat(w)), '─'.repeat(7)].join('─┼─'));
  for (const r of rows) {
    const height = Math.max(1, ...r.cells.map((c) => c.length), r.changes.length);
    for (let k = 0; k < height; k++) {
      const stepCell = k === 0 ? `${r.mark}${r.step}`.padStart(stepW) : ' '.repeat(stepW);
      const cells = r.cells.map((c, i) => (c[k] ?? '').padEnd(widths[i]));
      lines.push([stepCell, ...cells, r.changes[k] ?? ''].join(' │ ').trimEnd());
    }
  }
  if (trace.loopStart !== undefined) {
    lines.push('');
    lines.push(`Steps ${trace.loopStart}..${trace.steps.length} (marked ┌│) repeat forever: after step ${trace.steps.length} the state is the one before step ${trace.loopStart}.`);
  }
  lines.push('');
  const v = trace.violation;
  lines.push(`Verdict: ${v.kind.toUpperCase()}${v.name && v.name !== v.kind ? ` ${v.name}` : ''} after ${trace.steps.length} steps`);
  lines.push(`  ${v.message}`);

  if (trace.deadlock) {
    lines.push('');
    lines.push('Blocked threads:');
    for (const b of trace.deadlock.blocked) {
      if (b.waits.length === 0) {
        lines.push(`  ${b.thread} at ${b.state}: no enabled step (no wait description in the model)`);
        continue;
      }
      for (const w of b.waits) {
        const holders = w.holders.length ? holderText(w) : 'no holder recorded';
        lines.push(`  ${b.thread} at ${b.state}: waits for ${w.resource} (${w.kind}${w.mode ? ` ${w.mode}` : ''}), ${holders}`);
      }
    }
    const cycle = trace.deadlock.cycle;
    if (cycle && cycle.length) {
      lines.push('');
      lines.push('Wait-for cycle:');
      lines.push('  ' + cycle.map((e) => `${e.thread} waits for ${e.resource}${e.act ? `: ${holderText(e)}` : ` held by ${e.heldBy}`}`).join('\n  → '));
      lines.push(`  → back to ${cycle[0].thread}`);
      lines.push('');
      lines.push(renderScenario(cycle));
    } else {
      lines.push('');
      lines.push('No wait-for cycle among the blocked threads: a thread waits for something nobody will release or signal.');
    }
  }
  if (trace.lockOrder) {
    lines.push('', `The steps above are the trace of edge #0; each edge's own trace is in the file (lockOrder.edges[i].events).`, '');
    lines.push(renderLockOrder(trace.lockOrder));
  }
  if (options.replayCommand) {
    lines.push('');
    lines.push(`Replay: ${options.replayCommand}`);
  }
  return lines.join('\n');
}

/** A lockdep-style "possible unsafe locking scenario", one column per thread of the cycle (explorer/scenario.ts):
 * rlock() for read holds and read acquisitions, as lockdep prints them. */
export function renderScenario(cycle: WaitEdge[]): string {
  return renderScenarioText(cycle, undefined, { calls: 'lockdep' });
}
