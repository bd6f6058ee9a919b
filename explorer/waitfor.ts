// Wait-for analysis at a deadlock: finds the cycle of "thread waits for a resource held by thread", renders it lockdep-style.
import type { LockMode, WaitInfo } from './model.ts';
import { holderText, lockdepHeld, lockdepWant, renderScenarioText } from './scenario.ts';

export { lockdepHeld, lockdepWant };

export interface BlockedThread {
  thread: string;
  /** Dotted path of the thread's active state. */
  state: string;
  /** What each of its candidate transitions waits for (one entry per false named guard with a describer). */
  waits: WaitInfo[];
}

export interface WaitEdge {
  thread: string;
  resource: string;
  kind: string;
  mode?: string;
  heldBy: string;
  /** How heldBy holds the resource (from the wait describer), when known. */
  heldMode?: LockMode;
  /** heldBy holds nothing but must do this (complete, wake_up, ...) for the thread to go on (WaitInfo.act). */
  act?: string;
  /** Step from which heldBy held the resource (or was the one to act); 0: the initial state. */
  heldSince?: number;
  /** Step at which the thread reached its blocked state; 0: the initial state. */
  waitingSince?: number;
}

export interface WaitForReport {
  blocked: BlockedThread[];
  /** The edges of one wait-for cycle (thread[i] waits for a resource held by thread[i+1], the last closes it), or null. */
  cycle: WaitEdge[] | null;
  /** Threads idle at a valid end state (`meta: { end: true }`): not blocked, a valid place to stop. */
  idle?: Array<{ thread: string; state: string }>;
}

/** Wait-for edges out of one blocked thread, in the order of its waits and their holders. */
function edgesOf(b: BlockedThread): WaitEdge[] {
  const out: WaitEdge[] = [];
  for (const w of b.waits) {
    for (const h of w.holders) {
      const e: WaitEdge = { thread: b.thread, resource: w.resource, kind: w.kind, heldBy: h };
      if (w.mode !== undefined) e.mode = w.mode;
      if (w.holdMode !== undefined) e.heldMode = w.holdMode;
      if (w.act !== undefined) e.act = w.act;
      out.push(e);
    }
  }
  return out;
}

/**
 * Finds a wait-for cycle among the blocked threads. Deterministic: depth-first from the first blocked
 * thread in the given order (then the next ones), following waits and holders in their given order;
 * the cycle is rotated to start at its member that comes first in `blocked`.
 */
export function buildWaitFor(blocked: BlockedThread[]): WaitForReport {
  const order = new Map<string, number>();
  blocked.forEach((b, i) => order.set(b.thread, i));
  const edges = new Map<string, WaitEdge[]>();
  for (const b of blocked) edges.set(b.thread, edgesOf(b));

  const done = new Set<string>();
  let cycle: WaitEdge[] | null = null;
  const path: WaitEdge[] = [];
  const onPath = new Map<string, number>(); // thread -> index in path where its outgoing edge sits

  const dfs = (t: string): boolean => {
    onPath.set(t, path.length);
    for (const e of edges.get(t) ?? []) {
      const at = onPath.get(e.heldBy);
      if (at !== undefined) {
        cycle = [...path.slice(at), e];
        return true;
      }
      if (done.has(e.heldBy) || !edges.has(e.heldBy)) continue; // not blocked (finished, or no wait info)
      path.push(e);
      if (dfs(e.heldBy)) return true;
      path.pop();
    }
    onPath.delete(t);
    done.add(t);
    return false;
  };
  for (const b of blocked) {
    if (done.has(b.thread)) continue;
    if (dfs(b.thread)) break;
  }
  if (cycle !== null) {
    const c: WaitEdge[] = cycle;
    let first = 0;
    for (let i = 1; i < c.length; i++) if (order.get(c[i].thread)! < order.get(c[first].thread)!) first = i;
    cycle = [...c.slice(first), ...c.slice(0, first)];
  }
  return { blocked, cycle };
}

function describeWait(w: WaitInfo): string {
  const how = w.mode ? `${w.kind}, ${w.mode}` : w.kind;
  return `${w.resource} (${how}), ${holderText(w)}`;
}

/**
 * Lockdep-style text: the "possible unsafe locking scenario" of the cycle (explorer/scenario.ts: rows in
 * the order the trace took them, one column per thread ordered as in `threads`), then every blocked thread
 * with its state, what it waits for, and who holds it or must act.
 */
export function renderLockdep(report: WaitForReport, threads: string[]): string {
  const lines: string[] = [];
  const cycle = report.cycle;
  if (cycle && cycle.length > 0) {
    lines.push(renderScenarioText(cycle, threads), '');
    lines.push(' wait-for cycle:');
    for (const e of cycle) {
      const how = e.mode ? ` (${e.kind}, ${e.mode})` : ` (${e.kind})`;
      lines.push(`  ${e.thread} waits for ${e.resource}${how}${e.act ? `: ${holderText(e)}` : ` held by ${e.heldBy}`}`);
    }
  } else {
    lines.push(' no wait-for cycle among the blocked threads: some thread waits for a condition that no blocked');
    lines.push(' thread holds (a finished thread kept it, or nobody will ever signal it).');
  }
  lines.push('', ' blocked threads:');
  for (const b of report.blocked) {
    if (b.waits.length === 0) {
      lines.push(`  ${b.thread} in ${b.state}: blocked (no wait description: guard without a describer)`);
    } else if (b.waits.length === 1) {
      lines.push(`  ${b.thread} in ${b.state}: waits for ${describeWait(b.waits[0])}`);
    } else {
      lines.push(`  ${b.thread} in ${b.state}: waits for any of:`);
      for (const w of b.waits) lines.push(`    ${describeWait(w)}`);
    }
  }
  if (report.idle && report.idle.length > 0) {
    lines.push('', ' at a valid end (meta.end), not blocked:');
    for (const i of report.idle) lines.push(`  ${i.thread} in ${i.state}`);
  }
  return lines.join('\n');
}
