// The step table of `show`, fitted to a width: a column per thread that moves (threads that never move
// are listed once below), a row per step, the context changes beside each step (or under it when the
// columns leave no room), runs of steps by one thread folded into one row on request, and, when even
// narrow columns do not fit, a list with one line per step (as a mailing-list race diagram).
import { InputError } from '../explorer/errors.ts';
import { diffContext, type Trace, type TraceStep } from '../explorer/trace.ts';
import { contextsOf } from './itf.ts';

/** The widest a thread column grows before its text wraps. */
const MAX_CELL = 34;
/** The narrowest a thread column shrinks to before the table gives way to the list layout. */
const MIN_CELL = 12;
/** The narrowest a thread column shrinks to while the changes stay beside the steps. */
const BESIDE_MIN_CELL = 20;
/** The narrowest changes column worth keeping beside the steps; below it, changes go under each step. */
const MIN_CHANGES = 30;
export const DEFAULT_WIDTH = 200;

export interface DiagramOptions {
  /** Threads to show as columns, in this order (default: every thread that moves, in trace order). */
  threads?: string[];
  /** Fold runs of consecutive steps by one thread into one row. */
  fold?: boolean;
  /** Total width in columns (default 200). */
  width?: number;
  /** Leave out the context changes. */
  noChanges?: boolean;
}

function fmt(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}

/** Where to end the first line of `text` (longer than `w`): at a space, else after a '.', '_' or ',', else at `w`. */
function cutAt(text: string, w: number): number {
  const space = text.lastIndexOf(' ', w);
  if (space > 0) return space;
  // A state path breaks best after a dot, then after an underscore or comma.
  const dot = text.lastIndexOf('.', w - 1);
  const soft = dot > w / 3 ? dot : Math.max(dot, text.lastIndexOf('_', w - 1), text.lastIndexOf(',', w - 1));
  return soft > 0 ? soft + 1 : w;
}

/** Breaks text into lines of at most `width`: at a space, else after a '.', '_' or ',', else anywhere. */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  let rest = text;
  while (rest.length > w) {
    const cut = cutAt(rest, w);
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest || out.length === 0) out.push(rest);
  return out;
}

/**
 * A prose line wrapped to `width`, continuation lines indented two more than the line. The continuation is the
 * text after the first line's break, as it is: a word broken there is not joined back with a space.
 */
export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const indent = /^ */.exec(line)![0].length;
  const text = line.slice(indent);
  const w = Math.max(1, width - indent);
  if (text.length <= w) return [line];
  const cut = cutAt(text, w);
  const head = ' '.repeat(indent) + text.slice(0, cut).trimEnd();
  const restText = text.slice(cut).trimStart();
  if (!restText) return [head];
  return [head, ...wrapText(restText, width - indent - 2).map((l) => ' '.repeat(indent + 2) + l)];
}

function shortEvent(event: string, thread: string): string {
  return event.startsWith(thread + '.') ? event.slice(thread.length + 1) : event;
}

/** One row of the table: a step, or a folded run of steps by one thread. */
interface Row {
  label: string;
  mark: string;
  /** Text per shown thread ('' when it does not move). */
  cells: string[];
  /** Steps by threads not shown, named so they are not lost. */
  others: string[];
  changes: string[];
  watch: string[];
}

/**
 * A run's net changes: the context before its first step against the context after its last (`contexts`: the
 * initial context, then after each step). Not the steps' changes merged by path: a record a run creates and
 * clears again (a transaction started and committed) changed its fields on the way, and has no net change.
 */
function netChanges(trace: Trace, run: TraceStep[], contexts: unknown[]): TraceStep['changes'] {
  if (run.length === 1) return run[0].changes;
  return diffContext(contexts[trace.steps.indexOf(run[0])], contexts[trace.steps.indexOf(run[run.length - 1]) + 1]);
}

/** Runs of consecutive steps taken by one and the same thread (a lasso's loop start breaks a run). */
function runs(trace: Trace, fold: boolean): TraceStep[][] {
  const out: TraceStep[][] = [];
  for (const s of trace.steps) {
    const last = out[out.length - 1];
    const prev = last?.[last.length - 1];
    const same =
      fold && prev && s.threads.length === 1 && prev.threads.length === 1 && s.threads[0] === prev.threads[0] && s.step !== trace.loopStart;
    if (same) last.push(s);
    else out.push([s]);
  }
  return out;
}

function moveText(run: TraceStep[], t: string): string {
  const first = run[0];
  const last = run[run.length - 1];
  const from = first.from?.[t];
  const to = last.locations[t];
  const events = run.map((s) => shortEvent(s.event, t)).join(', ');
  return from !== undefined && from === to && run.length === 1 ? `${events} (stays)` : `${events} → ${to}`;
}

export function renderDiagram(trace: Trace, o: DiagramOptions = {}): string[] {
  const width = o.width ?? DEFAULT_WIDTH;
  const moved = new Set(trace.steps.flatMap((s) => s.threads));
  let shown: string[];
  if (o.threads) {
    const unknown = o.threads.filter((t) => !trace.threads.includes(t));
    if (unknown.length) {
      throw new InputError(`--threads: the trace has no thread ${unknown.join(', ')} (its threads: ${trace.threads.join(', ')})`);
    }
    shown = o.threads;
  } else shown = trace.threads.filter((t) => moved.has(t));
  const watched = Object.keys(trace.initial.watch ?? {});
  const watchOf = (w: Record<string, unknown> | undefined) => watched.map((k) => (w && k in w ? String(w[k]) : ''));

  const rows: Row[] = [
    {
      label: '',
      mark: '',
      cells: shown.map((t) => trace.initial.locations[t] ?? ''),
      others: [],
      changes: ['(initial state)'],
      watch: watchOf(trace.initial.watch),
    },
  ];
  const folded = runs(trace, !!o.fold);
  const contexts = !o.noChanges && folded.some((run) => run.length > 1) ? contextsOf(trace) : [];
  for (const run of folded) {
    const first = run[0];
    const last = run[run.length - 1];
    const threads = first.threads;
    let mark = '';
    if (trace.loopStart !== undefined && first.step >= trace.loopStart) mark = first.step === trace.loopStart ? '┌' : '│';
    if (run.some((s) => s.progress)) mark += '+';
    const cells = shown.map((t) => (threads.includes(t) ? moveText(run, t) : ''));
    const others = threads.filter((t) => !shown.includes(t)).map((t) => `${t}: ${moveText(run, t)}`);
    rows.push({
      label: run.length === 1 ? String(first.step) : `${first.step}-${last.step}`,
      mark,
      cells,
      others,
      changes: o.noChanges ? [] : netChanges(trace, run, contexts).map((c) => `${c.path}: ${fmt(c.from)} → ${fmt(c.to)}`),
      watch: watchOf(last.watch),
    });
  }

  const lines = layoutTable(rows, [...shown, ...watched], width, !!o.noChanges) ?? layoutList(rows, shown, watched, width);
  const hidden = trace.threads.filter((t) => !shown.includes(t));
  if (hidden.length) {
    // Grouped by where they are at the end, so ten idle writers take one line.
    const byPlace = new Map<string, string[]>();
    for (const t of hidden) {
      const where = `${moved.has(t) ? 'not shown' : 'never moved'}, at ${trace.final.locations[t] ?? '?'}`;
      byPlace.set(where, [...(byPlace.get(where) ?? []), t]);
    }
    lines.push('');
    for (const [where, ts] of byPlace) lines.push(...wrapLine(`Threads ${where}: ${ts.join(', ')}`, width));
  }
  return lines;
}

/** The table layout, or null when it cannot fit in `width` with columns of MIN_CELL. */
function layoutTable(rows: Row[], columns: string[], width: number, noChanges: boolean): string[] | null {
  const cellTexts = rows.map((r) => [...r.cells, ...r.watch]);
  const stepW = Math.max(4, ...rows.map((r) => r.label.length + r.mark.length + 1));
  const natural = columns.map((c, i) => Math.min(MAX_CELL, Math.max(c.length, ...cellTexts.map((cs) => cs[i].length))));
  const tableWidth = (ws: number[]) => stepW + ws.reduce((a, w) => a + w + 3, 0);
  const longestChange = Math.max(7, ...rows.flatMap((r) => [...r.changes, ...r.others.map((x) => x.length + 2)].map((c) => (typeof c === 'number' ? c : c.length))));
  // Shrink the widest column until the table fits under `room`, no column below `floor`.
  const shrink = (room: number, floor: number): number[] | null => {
    const ws = [...natural];
    while (tableWidth(ws) > room) {
      let widest = 0;
      ws.forEach((w, i) => {
        if (w > ws[widest]) widest = i;
      });
      if (ws[widest] <= floor) return null;
      ws[widest]--;
    }
    return ws;
  };
  // First choice: the changes beside the steps with columns of at least BESIDE_MIN_CELL; then the changes
  // under each step with columns of at least MIN_CELL; else the list layout.
  let below = false;
  let widths = noChanges ? shrink(width, MIN_CELL) : shrink(width - 3 - Math.min(MIN_CHANGES, longestChange), BESIDE_MIN_CELL);
  if (!widths && !noChanges) {
    below = true;
    widths = shrink(width, MIN_CELL);
  }
  if (!widths) return null;
  const besideW = below || noChanges ? 0 : Math.max(7, Math.min(longestChange, width - tableWidth(widths) - 3));
  const sep = ' │ ';
  const out: string[] = [];
  const headCells = ['step'.padStart(stepW), ...columns.map((c, i) => wrapText(c, widths[i])[0].padEnd(widths[i]))];
  out.push((below || noChanges ? headCells.join(sep) : [...headCells, 'changes'].join(sep)).trimEnd());
  const rule = ['─'.repeat(stepW), ...widths.map((w) => '─'.repeat(w))];
  out.push((below || noChanges ? rule : [...rule, '─'.repeat(7)]).join('─┼─'));
  const blank = ' '.repeat(stepW);
  rows.forEach((r, ri) => {
    const cells = cellTexts[ri].map((c, i) => (c ? wrapText(c, widths[i]) : []));
    const notes = [...r.others.map((x) => `(${x})`), ...r.changes];
    const beside = below || noChanges ? [] : notes.flatMap((c) => wrapText(c, besideW));
    const height = Math.max(1, ...cells.map((c) => c.length), beside.length);
    for (let k = 0; k < height; k++) {
      const stepCell = k === 0 ? `${r.mark}${r.label}`.padStart(stepW) : blank;
      const row = [stepCell, ...cells.map((c, i) => (c[k] ?? '').padEnd(widths[i]))];
      if (!below && !noChanges) row.push(beside[k] ?? '');
      out.push(row.join(sep).trimEnd());
    }
    if (below) {
      const indent = `${blank} │   `;
      for (const c of notes) for (const l of wrapText(c, width - indent.length)) out.push(indent + l);
    }
  });
  return out;
}

/** One line per step: step, thread, what it did; changes and watched values indented under it. */
function layoutList(rows: Row[], shown: string[], watched: string[], width: number): string[] {
  const stepW = Math.max(4, ...rows.map((r) => r.label.length + r.mark.length + 1));
  const nameW = Math.min(16, Math.max(6, ...shown.map((t) => t.length)));
  const out: string[] = [];
  const indent = ' '.repeat(stepW + 2 + nameW + 2);
  rows.forEach((r, ri) => {
    const head = `${r.mark}${r.label}`.padStart(stepW);
    const moves: [string, string][] =
      ri === 0 ? shown.map((t, i) => [t, r.cells[i]]) : [...shown.map((t, i): [string, string] => [t, r.cells[i]]).filter(([, c]) => c), ...r.others.map((x): [string, string] => ['', x])];
    if (moves.length === 0) moves.push(['', '']);
    moves.forEach(([t, text], k) => {
      const name = t.length > nameW ? t.slice(0, nameW - 1) + '…' : t.padEnd(nameW);
      const wrapped = wrapText(text, width - indent.length);
      out.push(`${k === 0 ? head : ' '.repeat(stepW)}  ${name}  ${wrapped[0]}`.trimEnd());
      for (const l of wrapped.slice(1)) out.push(indent + l);
    });
    const notes = [...r.changes.filter((c) => ri > 0), ...(watched.length && (ri === 0 || r.watch.some((w, i) => w !== rows[ri - 1].watch[i])) ? [watched.map((w, i) => `${w} = ${r.watch[i]}`).join(', ')] : [])];
    for (const c of notes) for (const l of wrapText(c, width - indent.length)) out.push(indent + l);
  });
  return out;
}
