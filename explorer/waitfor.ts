// Wait-for analysis at a deadlock: finds the cycle of "thread waits for a resource held by thread", renders it lockdep-style.
import { ModelError, ModelRuntimeError, thrownMessage } from './errors.ts';
import type { Context, LockMode, WaitDescriber, WaitInfo } from './model.ts';
import { holderText, lockdepHeld, lockdepWant, renderScenarioText, type CallStyle } from './scenario.ts';

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
  /** heldBy holds nothing: it is queued on the resource ahead of the thread (WaitInfo.queued). */
  queued?: boolean;
  /** The participle for heldBy's hold instead of "held" ("taken", "set": WaitInfo.holdVerb). */
  holdVerb?: string;
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

/**
 * Calls the model's wait describer `waits.<name>` for a false guard with its params: a WaitInfo or null, checked
 * (a describer that throws, or returns something else, is a model error naming it and where it ran). `where`
 * says what was being described, e.g. "while the deadlock was being described (thread t blocked at s, ...)".
 */
export function describeWait(
  describe: WaitDescriber,
  name: string,
  ctx: Context,
  params: unknown,
  where: string,
  at: { thread?: string; state?: string } = {},
): WaitInfo | null {
  const fix = `fix the describer in the model's waits: it gets (context, params) and returns { resource, kind, holders } or null`;
  let info: unknown;
  try {
    info = describe(ctx, params);
  } catch (e) {
    throw new ModelRuntimeError(`waits.${name} threw ${where}: ${thrownMessage(e)}; ${fix}`, { ...at, guard: name }, e);
  }
  // (undefined, as a describer that falls off its end returns, is taken for null: no wait.)
  if (info === null || info === undefined) return null;
  const w = info as Partial<WaitInfo>;
  const bad =
    typeof info !== 'object' || Array.isArray(info)
      ? 'not an object or null'
      : typeof w.resource !== 'string'
        ? 'resource is not a string'
        : typeof w.kind !== 'string'
          ? 'kind is not a string'
          : !Array.isArray(w.holders) || w.holders.some((h) => typeof h !== 'string')
            ? 'holders is not a list of thread names'
            : w.mode !== undefined && typeof w.mode !== 'string'
              ? 'mode is not a string'
              : w.holdMode !== undefined && w.holdMode !== 'read' && w.holdMode !== 'write'
                ? "holdMode is not 'read' or 'write'"
                : w.act !== undefined && typeof w.act !== 'string'
                  ? 'act is not a string'
                  : w.queued !== undefined && typeof w.queued !== 'boolean'
                    ? 'queued is not a boolean'
                    : w.holdVerb !== undefined && (typeof w.holdVerb !== 'string' || !/^[a-z][a-z ]*$/.test(w.holdVerb))
                      ? 'holdVerb is not a participle (lower-case words, e.g. "taken")'
                      : null;
  if (bad) throw new ModelError(`waits.${name} returned ${JSON.stringify(info) ?? String(info)} ${where}: ${bad}; ${fix}`, { ...at, guard: name, feature: 'waits' });
  return w as WaitInfo;
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
      if (w.queued) e.queued = true;
      if (w.holdVerb !== undefined) e.holdVerb = w.holdVerb;
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

/**
 * A lockdep-style "possible unsafe locking scenario", one column per thread of the cycle (explorer/scenario.ts):
 * rlock() for read holds and read acquisitions, as lockdep prints them; `columns` orders the threads (default: the
 * cycle's order), `fit` narrows the columns to a width.
 */
export function renderScenario(cycle: WaitEdge[], o: { columns?: string[]; fit?: number; calls?: CallStyle } = {}): string {
  return renderScenarioText(cycle, o.columns, { calls: o.calls ?? 'lockdep', ...(o.fit !== undefined ? { fit: o.fit } : {}) });
}

/**
 * How a blocked thread's wait is named: its kind and mode (`mutex lock`, `rwsem down_read`), or the mode alone when
 * it already is the kind's own call (`wait_event(!x)` rather than `wait_event wait_event(!x)`). The HTML viewer
 * (cli/viewer/page.js) names it the same way.
 */
export function waitKindText(w: { kind: string; mode?: string }): string {
  if (!w.mode) return w.kind;
  return w.mode.startsWith(`${w.kind}(`) ? w.mode : `${w.kind} ${w.mode}`;
}

/**
 * Why there is no wait-for cycle: something nobody will release or signal, or, when some blocked thread's wait is not
 * described at all (a model without waits for its guards), that the model does not say (no claim it cannot back).
 */
export function noCycleText(blocked: BlockedThread[], idle: ReadonlyArray<{ thread: string }> = []): string {
  const undescribed = blocked.filter((b) => b.waits.length === 0).map((b) => b.thread);
  if (undescribed.length === 0) {
    // In a deadlocked state every thread is blocked, idle at a valid end or finished: a holder that is neither of the
    // first two has finished, so what the waiter needs from it never comes (a lost wake-up, a lock never released).
    const live = new Set([...blocked.map((b) => b.thread), ...idle.map((i) => i.thread)]);
    const gone = blocked.flatMap((b) =>
      b.waits.flatMap((w) =>
        w.holders.filter((h) => !live.has(h)).map((h) =>
          `${b.thread} waits for ${w.resource} ${w.act ? 'from' : w.queued ? 'queued behind' : `${w.holdVerb ?? 'held'} by`} ${h}, which has finished (${w.act ? `a ${w.act}() it did before ${b.thread} waited was lost, or it never does one` : 'it finished holding it: nothing releases it'}).`,
        ),
      ),
    );
    if (gone.length > 0) return `No wait-for cycle among the blocked threads: ${gone.join(' ')}`;
    return 'No wait-for cycle among the blocked threads: a thread waits for something nobody will release or signal.';
  }
  return (
    `No wait-for cycle found: the model does not say what ${undescribed.join(', ')} wait for; a state with no transitions ` +
    `needs type: 'final' (or meta: { end: true }) to be a valid end, and a blocking guard a describer in the model's ` +
    `waits (waits: kernelWaits for the kernel's guards) or the state meta: { waitsFor: '...' }`
  );
}

/**
 * The deadlock part of every report (show, check's output, the HTML viewer's text): every blocked thread with
 * its state, what it waits for and who holds it or must act; the threads idle at a valid end; then the wait-for
 * cycle and its lockdep-style scenario (renderScenario), or why there is none. Text only: the CLI prints it.
 */
export function renderDeadlock(report: WaitForReport, o: { columns?: string[]; fit?: number; calls?: CallStyle } = {}): string {
  const lines: string[] = ['Blocked threads:'];
  for (const b of report.blocked) {
    if (b.waits.length === 0) {
      lines.push(`  ${b.thread} at ${b.state}: no enabled step (no wait description in the model)`);
      continue;
    }
    for (const w of b.waits) {
      const holders = w.holders.length ? holderText(w) : 'no holder recorded';
      lines.push(`  ${b.thread} at ${b.state}: waits for ${w.resource} (${waitKindText(w)}), ${holders}`);
    }
  }
  if (report.idle && report.idle.length > 0) {
    lines.push('', 'At a valid end (meta.end), not blocked:');
    for (const i of report.idle) lines.push(`  ${i.thread} at ${i.state}`);
  }
  const cycle = report.cycle;
  lines.push('');
  if (cycle && cycle.length) {
    lines.push('Wait-for cycle:');
    lines.push('  ' + cycle.map((e) => `${e.thread} waits for ${e.resource}${e.act ? `: ${holderText(e)}` : ` ${holderText(e)}`}`).join('\n  → '));
    lines.push(`  → back to ${cycle[0]!.thread}`);
    lines.push('', renderScenario(cycle, o));
  } else {
    lines.push(noCycleText(report.blocked, report.idle));
  }
  return lines.join('\n');
}
