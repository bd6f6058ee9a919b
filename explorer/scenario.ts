// The lockdep-style "possible unsafe locking scenario" of a wait-for cycle: rows in the order the trace took them,
// and the threads that must signal (a completion, a wait queue) shown as who must act, not as lock holders.
import type { Context, LockMode, WaitInfo } from './model.ts';
import type { WaitEdge } from './waitfor.ts';

/**
 * When each edge of the cycle began, from the path that reached the deadlock: `heldSince` is the first step from
 * which, through the end, `heldBy` held the edge's lock (by the lock's own state, when `holding` knows the lock),
 * else from which the edge's wait describer named `heldBy` (it took the lock, or became the one to act; 0: the
 * initial state); `waitingSince` the last step the waiting thread took (0: it never moved). The lock's state comes
 * first: a describer may name the holder only once the waiter has queued (an rwsem's down_read), long after the
 * holder took the lock.
 */
export function stampCycle(
  cycle: WaitEdge[],
  o: {
    /** The describer behind an edge, bound to its guard's params; undefined when unknown. */
    probe: (edge: WaitEdge) => ((ctx: Context) => WaitInfo | null) | undefined;
    /** Whether the edge's holder holds its lock in a context; undefined when the lock is not known (or nothing is held: `act`). */
    holding?: (edge: WaitEdge) => ((ctx: Context) => boolean) | undefined;
    /** contexts[k]: the context after step k (contexts[0]: the initial state). */
    contexts: Context[];
    /** moved[k]: the threads that took step k (moved[0] is empty). */
    moved: string[][];
  },
): WaitEdge[] {
  const last = o.contexts.length - 1;
  return cycle.map((e) => {
    const out: WaitEdge = { ...e };
    let waiting = 0;
    for (let k = last; k >= 1; k--) {
      if (o.moved[k]?.includes(e.thread)) {
        waiting = k;
        break;
      }
    }
    out.waitingSince = waiting;
    // (a holder queued ahead holds nothing: when the describer began naming it is when it got in the way)
    const holds = e.act === undefined && !e.queued ? o.holding?.(e) : undefined;
    const probe = o.probe(e);
    if (holds) {
      let since = last;
      while (since > 0 && holds(o.contexts[since - 1])) since--;
      out.heldSince = since;
    } else if (probe) {
      let since = last;
      while (since > 0) {
        const w = probe(o.contexts[since - 1]);
        if (!w || !w.holders.includes(e.heldBy)) break;
        since--;
      }
      out.heldSince = since;
    }
    return out;
  });
}

export interface ScenarioRow {
  /** The column (thread) of the row. */
  thread: string;
  text: string;
  kind: 'hold' | 'wait';
}

/** lockdep's call for a lock held in `mode`: rlock() for a read hold, lock() otherwise. */
export function lockdepHeld(resource: string, mode: LockMode | undefined): string {
  return `${mode === 'read' ? 'rlock' : 'lock'}(${resource});`;
}

/** lockdep's call for a wait: rlock() when the wait is a read acquisition (down_read, percpu_down_read). */
export function lockdepWant(e: { resource: string; mode?: string }): string {
  return `${e.mode && /(^|_)read\b/.test(e.mode) ? 'rlock' : 'lock'}(${e.resource});`;
}

/** How blocking attempts are written: `verb` the kernel call of the wait's mode (percpu_down_read(x);),
 * `lockdep` lock()/rlock() as lockdep prints them (a wait for someone to act keeps its call). */
export type CallStyle = 'verb' | 'lockdep';

/** Call text of a blocking attempt: the mode's verb when it looks like a kernel call, else lock(). */
export function waitCall(e: { resource: string; mode?: string }): string {
  const verb = e.mode && /^[a-z_0-9]+/.exec(e.mode)?.[0];
  return `${verb || 'lock'}(${e.resource});`;
}

/**
 * The rows of the scenario: first what each holder took, in the order the trace took it (heldSince), then each
 * thread's blocking attempt, in the order they became blocked (the later of waitingSince and heldSince; ties in
 * cycle order; a thread queued behind another, edge.queued, after that one's attempt on the same resource; no
 * attempt for a resource the thread holds for write while others hold it, as a percpu_down_write draining readers:
 * its hold row is that acquisition; a semaphore's takers, edge.holdVerb, hold it for neither). Edges whose holders
 * must act (edge.act) add no hold row: they are returned in `mustAct`; nor do edges whose holder is only queued
 * ahead. Edges without times (traces saved before the stamps) keep the cycle order.
 */
export function scenarioRows(cycle: WaitEdge[], o: { calls?: CallStyle } = {}): { rows: ScenarioRow[]; mustAct: WaitEdge[] } {
  const holds: Array<ScenarioRow & { at: number; i: number }> = [];
  const waits: Array<ScenarioRow & { at: number; i: number }> = [];
  const seen = new Set<string>();
  cycle.forEach((e, i) => {
    if (e.act === undefined && !e.queued) {
      const text = lockdepHeld(e.resource, e.heldMode);
      const key = `${e.heldBy}\u0000${text}`;
      if (!seen.has(key)) {
        seen.add(key);
        holds.push({ thread: e.heldBy, text, kind: 'hold', at: e.heldSince ?? -1, i });
      }
    }
    // the attempt is blocked from the later of: the thread reaching it, the resource being taken
    const at = e.waitingSince === undefined ? -1 : Math.max(e.waitingSince, e.heldSince ?? 0);
    const text = o.calls === 'lockdep' && e.act === undefined ? lockdepWant(e) : waitCall(e);
    waits.push({ thread: e.thread, text, kind: 'wait', at, i });
  });
  // A thread queued behind another (edge.queued) blocked because that one queued first: its attempt comes after the
  // attempt of the one ahead on the same resource (a fixed point: at most one pass per edge of the cycle). When the
  // one ahead waits on another resource (queued by the two-state down_write_queue, then blocked elsewhere before
  // down_write_acquire), that wait is not its attempt on this one: the queued thread keeps its own time.
  for (let pass = 0; pass < cycle.length; pass++) {
    let moved = false;
    cycle.forEach((e, i) => {
      const ahead = waits.find((w, k) => w.thread === e.heldBy && cycle[k].resource === e.resource);
      if (!e.queued || !ahead || ahead === waits[i] || waits[i].at < 0 || ahead.at < 0) return;
      if (waits[i].at < ahead.at || (waits[i].at === ahead.at && waits[i].i < ahead.i)) {
        waits[i].at = ahead.at;
        waits[i].i = ahead.i + 0.5;
        moved = true;
      }
    });
    if (!moved) break;
  }
  // A thread that waits for a resource it already holds for write, held by others (percpu_down_write: the writer
  // owns the lock and blocks new readers, then waits for the old ones to drain) is in one acquisition: lockdep takes
  // the class once, so its hold row stands for the wait too. (Held by itself, it is a second acquisition: both rows.
  // A hold said with another verb, as a semaphore "taken by" several threads, is nobody's write hold: each down()
  // that blocks is an attempt of its own: both rows.)
  const heldForWrite = (e: WaitEdge) =>
    e.heldBy !== e.thread &&
    cycle.some((h) => h.heldBy === e.thread && h.resource === e.resource && h.act === undefined && !h.queued && h.heldMode !== 'read' && h.holdVerb === undefined);
  const attempts = waits.filter((_, k) => !heldForWrite(cycle[k]));
  const byTime = (a: { at: number; i: number }, b: { at: number; i: number }) => a.at - b.at || a.i - b.i;
  const strip = ({ thread, text, kind }: ScenarioRow) => ({ thread, text, kind });
  return { rows: [...holds.sort(byTime), ...attempts.sort(byTime)].map(strip), mustAct: cycle.filter((e) => e.act !== undefined) };
}

/**
 * The scenario as text: one column per thread (`columns`, default the cycle's threads in cycle order), the rows
 * of scenarioRows, then one line per thread that must act.
 */
export function renderScenarioText(cycle: WaitEdge[], columns?: string[], o: { calls?: CallStyle; fit?: number } = {}): string {
  const members = [...new Set(cycle.flatMap((e) => [e.thread, e.heldBy]))];
  const cols = columns ? [...columns.filter((c) => members.includes(c)), ...members.filter((m) => !columns.includes(m))] : members;
  const { rows, mustAct } = scenarioRows(cycle, o);
  // Columns of 24 as lockdep prints them; narrower (down to what the text needs) when `fit` asks for it.
  const need = Math.max(...rows.map((r) => r.text.length + 2), ...cols.map((c) => c.length + 2));
  const width = Math.max(need, o.fit === undefined ? 24 : Math.min(24, Math.floor((o.fit - 7) / cols.length)));
  const pad = (s: string) => s.padEnd(width);
  const out: string[] = [' Possible unsafe locking scenario:', ''];
  out.push(('       ' + cols.map(pad).join('')).trimEnd());
  out.push(('       ' + cols.map((c) => pad('-'.repeat(c.length))).join('')).trimEnd());
  for (const r of rows) out.push('       ' + ' '.repeat(width * cols.indexOf(r.thread)) + r.text);
  if (mustAct.length) {
    out.push('');
    for (const e of mustAct) {
      out.push(`  ${e.heldBy} must ${e.act}(${e.resource}) for ${e.thread} to go on${e.heldBy === e.thread ? ' (itself)' : ''}`);
    }
  }
  out.push('');
  out.push('  *** DEADLOCK ***');
  return out.join('\n');
}

/** "held by X" (or "taken by X": holdVerb), "queued behind X" or "X must complete", for the wait lines of reports. */
export function holderText(w: { holders?: string[]; heldBy?: string; act?: string; queued?: boolean; holdVerb?: string }): string {
  const who = w.heldBy !== undefined ? [w.heldBy] : (w.holders ?? []);
  if (who.length === 0) return 'no recorded holder';
  return w.act ? `${who.join(', ')} must ${w.act}` : w.queued ? `queued behind ${who.join(', ')}` : `${w.holdVerb ?? 'held'} by ${who.join(', ')}`;
}
