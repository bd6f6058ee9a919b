// Wait-for analysis at a deadlock: finds the cycle of "thread waits for a resource held by thread", renders it lockdep-style.
import type { LockMode, WaitInfo } from './model.ts';

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

/** lockdep's call for a lock held in `mode`: rlock() for a read hold, lock() otherwise. */
export function lockdepHeld(resource: string, mode: LockMode | undefined): string {
  return `${mode === 'read' ? 'rlock' : 'lock'}(${resource});`;
}

/** lockdep's call for a wait: rlock() when the wait is a read acquisition (down_read, percpu_down_read). */
export function lockdepWant(e: { resource: string; mode?: string }): string {
  return `${e.mode && /(^|_)read\b/.test(e.mode) ? 'rlock' : 'lock'}(${e.resource});`;
}

const pad = (s: string, n: number) => (s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length));

/** Call text for a wait row: the mode's verb when it looks like a kernel call, else lock(). */
function waitCall(e: WaitEdge): string {
  const verb = e.mode && /^[a-z_]+/.exec(e.mode)?.[0];
  return `${verb || 'lock'}(${e.resource});`;
}

function describeWait(w: WaitInfo): string {
  const how = w.mode ? `${w.kind}, ${w.mode}` : w.kind;
  const by = w.holders.length === 0 ? 'no recorded holder' : `held by ${w.holders.join(', ')}`;
  return `${w.resource} (${how}), ${by}`;
}

/**
 * Lockdep-style text: the "possible unsafe locking scenario" of the cycle, one column per thread of
 * the cycle (ordered as in `threads`), then every blocked thread with its state, what it waits for,
 * and who holds it.
 */
export function renderLockdep(report: WaitForReport, threads: string[]): string {
  const lines: string[] = [];
  const cycle = report.cycle;
  if (cycle && cycle.length > 0) {
    const members = [...new Set(cycle.map((e) => e.thread))];
    const cols = [...threads.filter((t) => members.includes(t)), ...members.filter((t) => !threads.includes(t))];
    const width = Math.max(24, ...cycle.map((e) => waitCall(e).length + 2), ...cols.map((c) => c.length + 2));
    const row = (col: string, text: string) => {
      const i = cols.indexOf(col);
      return ('       ' + ' '.repeat(width * i) + text).replace(/\s+$/, '');
    };
    lines.push(' Possible unsafe locking scenario:', '');
    lines.push('       ' + cols.map((c) => pad(c, width)).join('').replace(/\s+$/, ''));
    lines.push('       ' + cols.map((c) => pad('-'.repeat(c.length), width)).join('').replace(/\s+$/, ''));
    // first what each holder already holds, in cycle order, then each thread's blocking attempt
    for (const e of cycle) lines.push(row(e.heldBy, lockdepHeld(e.resource, e.heldMode)));
    for (const e of cycle) lines.push(row(e.thread, waitCall(e)));
    lines.push('', '  *** DEADLOCK ***', '');
    lines.push(' wait-for cycle:');
    for (const e of cycle) {
      const how = e.mode ? ` (${e.kind}, ${e.mode})` : ` (${e.kind})`;
      lines.push(`  ${e.thread} waits for ${e.resource}${how} held by ${e.heldBy}`);
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
