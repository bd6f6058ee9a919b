// Renders a trace as a race diagram: one column per thread, one row per step, the context changes
// beside each step, then the verdict and, at a deadlock, who waits for what and the wait-for cycle.
import type { Trace } from '../explorer/trace.ts';
import { renderLockOrder } from '../explorer/properties/lockorder.ts';
import type { WaitEdge } from '../explorer/waitfor.ts';
import { holderText, renderScenarioText } from '../explorer/scenario.ts';
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
      lines.push(renderScenario(cycle, options.width ?? DEFAULT_WIDTH));
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
  // Prose lines wrap to the width; the table and the lockdep scenario are laid out to it already.
  const width = options.width ?? DEFAULT_WIDTH;
  return lines.join('\n').split('\n').flatMap((l) => (l.startsWith('       ') ? [l] : wrapLine(l, width))).join('\n');
}

/** A lockdep-style "possible unsafe locking scenario", one column per thread of the cycle (explorer/scenario.ts):
 * rlock() for read holds and read acquisitions, as lockdep prints them; columns narrowed to `fit` when given. */
export function renderScenario(cycle: WaitEdge[], fit?: number): string {
  return renderScenarioText(cycle, undefined, { calls: 'lockdep', ...(fit !== undefined ? { fit } : {}) });
}
