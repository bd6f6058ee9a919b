// Renders a trace as a race diagram: one column per thread, one row per step, the context changes
// beside each step, then the verdict and, at a deadlock, who waits for what and the wait-for cycle.
import type { Trace } from '../explorer/trace.ts';
import { lockOrderText } from '../explorer/properties/lockorder.ts';
import { renderDeadlock } from '../explorer/waitfor.ts';
import { DEFAULT_WIDTH, renderDiagram, wrapLine, type DiagramOptions } from './diagram.ts';

interface ShowTextOptions {
  /** Command line that replays the trace, printed last. */
  replayCommand?: string;
  /** Hide context changes (narrow terminals). */
  noChanges?: boolean;
}

export type ShowOptions = DiagramOptions & ShowTextOptions;

export function renderTrace(trace: Trace, options: ShowOptions = {}): string {
  const lines: string[] = [];
  const params = Object.entries(trace.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  lines.push(`${trace.model} · variant ${trace.variant}${params ? ` · ${params}` : ''}${trace.spec ? ` · spec ${trace.spec}` : ''}`);
  lines.push('');

  lines.push(...renderDiagram(trace, options));
  if (trace.loopStart !== undefined) {
    lines.push('');
    lines.push(`Steps ${trace.loopStart}..${trace.steps.length} (marked ┌│) repeat forever: after step ${trace.steps.length} the state is the one before step ${trace.loopStart}.`);
  }
  // the diagram marks a progress step with + beside its number (cli/diagram.ts)
  if (trace.steps.some((s) => s.progress)) {
    if (trace.loopStart === undefined) lines.push('');
    lines.push('+ marks a progress step (meta.progress on its state or transition).');
  }
  lines.push('');
  const v = trace.violation;
  lines.push(`Verdict: ${v.kind.toUpperCase()}${v.name && v.name !== v.kind ? ` ${v.name}` : ''} after ${trace.steps.length} steps`);
  lines.push(`  ${v.message}`);

  if (trace.deadlock) lines.push('', renderDeadlock(trace.deadlock, { fit: options.width ?? DEFAULT_WIDTH }));
  // Prose lines wrap to the width; the table and the lockdep scenarios are laid out to it already.
  const width = options.width ?? DEFAULT_WIDTH;
  const wrapped = (ls: string[]) => ls.join('\n').split('\n').flatMap((l) => (l.startsWith('       ') ? [l] : wrapLine(l, width)));
  const out = wrapped(lines);
  if (trace.lockOrder) {
    const { head, table, tail } = lockOrderText(trace.lockOrder, { fit: width });
    // the note only when other edges have traces of their own (a one-edge finding's trace is the table)
    const note = trace.lockOrder.edges.length > 1 ? ['', `The steps above are the trace of edge #0; each edge's own trace is in the file (lockOrder.edges[i].events).`] : [];
    out.push(...wrapped([...note, '', ...head]), ...table, ...wrapped(tail));
  }
  if (options.replayCommand) out.push('', ...wrapped([`Replay: ${options.replayCommand}`]));
  return out.join('\n');
}
