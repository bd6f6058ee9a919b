// Replays a saved trace on the current model: each recorded event must be enabled and lead where the
// trace says, and the last state must show the same violation. Says where and why it diverges.
import type { CompiledSystem } from './compile/index.ts';
import type { Context, Invariant, ModelDefinition } from './model.ts';
import { lassoProblem, type Fairness } from './properties/liveness.ts';
import { checkEdgeReplay, lockOrderShapeProblem } from './properties/lockorder.ts';
import type { StateSpace } from './space/index.ts';
import { PathWalker } from './space/walk.ts';
import { canonicalJson } from './reference.ts';
import { diffContext, type Trace } from './trace.ts';
import { describeWait } from './waitfor.ts';

export interface ReplayResult {
  /** reproduced: same violation at the end; diverged: a step could not be replayed; not-reproduced: replayed but no such violation. */
  status: 'reproduced' | 'diverged' | 'not-reproduced';
  /** 1-based step where replay diverged. */
  step?: number;
  reason: string;
  stepsReplayed: number;
}

/** JSON as the trace file holds it (no undefined), keys sorted: equal for equal plain data. */
const plain = (v: unknown) => canonicalJson(JSON.parse(JSON.stringify(v ?? null)));

type Changes = ReturnType<typeof diffContext>;
const changesText = (cs: Changes) => (cs.length ? cs.map((c) => `${c.path}: ${JSON.stringify(c.from) ?? '(none)'} → ${JSON.stringify(c.to) ?? '(none)'}`).join(', ') : 'none');

/** Where the context changes the model makes differ from those the trace records, or null. */
function sameChanges(model: Changes, trace: Changes): string | null {
  if (plain(model) === plain(trace)) return null;
  return `the context changes differ: the model makes ${changesText(model)}, the trace says ${changesText(trace)}`;
}

function sameLocations(a: Record<string, string>, b: Record<string, string>): string | null {
  for (const k of Object.keys(b)) if (a[k] !== b[k]) return `${k} is at ${a[k] ?? '(no such thread)'}, the trace says ${b[k]}`;
  return null;
}

/**
 * Why event `e` is not enabled: for each thread with a transition on it, where that thread is and either
 * that it has no transition on `e` there, or which guards are false (with what the primitive says it waits
 * for, from the model's wait describers).
 */
export function whyNotEnabled(system: CompiledSystem, model: ModelDefinition, leaves: ArrayLike<number>, ctx: Context, e: number): string {
  const ev = { type: system.events[e] };
  const parts: string[] = [];
  for (const ti of system.eventThreads[e]) {
    const t = system.threads[ti];
    const at = t.leafPaths[leaves[ti]];
    const cands = t.candidates[leaves[ti]][e];
    if (!cands || cands.length === 0) {
      const here = t.leafEvents[leaves[ti]].map((x) => system.events[x]);
      parts.push(`${t.name} is at ${at}, which has no transition on it (${here.length ? `its events there: ${here.join(', ')}` : 'no events there'})`);
      continue;
    }
    const waits: string[] = [];
    for (const tr of cands) {
      for (const ref of tr.guardRefs(ctx, ev)) {
        const describe = model.waits?.[ref.type];
        const w = describe && !ref.negated ? describeWait(describe, ref.type, ctx, ref.params, `while replay explained why ${system.events[e]} is not enabled (thread ${t.name} at ${at})`, { thread: t.name, state: at }) : null;
        if (w) waits.push(`${w.resource} (${w.kind}${w.mode ? `, ${w.mode}` : ''}${w.holders.length ? `, held by ${w.holders.join(', ')}` : ''})`);
      }
    }
    const guards = cands.map((tr) => tr.guardLabel).filter(Boolean);
    const why = waits.length ? `it waits for ${[...new Set(waits)].join('; ')}` : `its guards are false here${guards.length ? ` (${guards.join(' | ')})` : ''}`;
    parts.push(`${t.name} is at ${at}: ${why}`);
  }
  return parts.join('; ');
}

export function replayTrace(
  space: StateSpace,
  model: ModelDefinition,
  trace: Trace,
  invariants: Record<string, Invariant>,
  options: { strictLocations?: boolean } = {},
): ReplayResult {
  const system = space.system;
  const strict = options.strictLocations ?? true;
  const walker = new PathWalker(space);
  const eventIndex = new Map(system.events.map((e, i) => [e, i]));
  if (strict) {
    const d = sameLocations(system.locations(walker.leaves), trace.initial.locations);
    if (d) return { status: 'diverged', step: 0, reason: `initial state differs: ${d}`, stepsReplayed: 0 };
    const c = diffContext(trace.initial.context, walker.context);
    if (plain(c) !== plain([])) return { status: 'diverged', step: 0, reason: `initial context differs (the trace's → the model's): ${changesText(c)}`, stepsReplayed: 0 };
  }
  let loopStartState: string | null = null;
  for (const s of trace.steps) {
    if (trace.loopStart !== undefined && s.step === trace.loopStart) loopStartState = walker.key();
    const e = eventIndex.get(s.event);
    if (e === undefined) {
      return { status: 'diverged', step: s.step, reason: `event ${s.event} does not exist in this model`, stepsReplayed: s.step - 1 };
    }
    if (walker.finished) {
      return { status: 'diverged', step: s.step, reason: `every thread has already finished before ${s.event}`, stepsReplayed: s.step - 1 };
    }
    const before = walker.context;
    if (!walker.advance(e)) {
      return { status: 'diverged', step: s.step, reason: `event ${s.event} is not enabled: ${whyNotEnabled(system, model, walker.leaves, walker.context, e)}`, stepsReplayed: s.step - 1 };
    }
    if (strict) {
      const d = sameLocations(system.locations(walker.leaves), s.locations) ?? sameChanges(diffContext(before, walker.context), s.changes);
      if (d) return { status: 'diverged', step: s.step, reason: `after ${s.event}, ${d}`, stepsReplayed: s.step };
    }
  }
  const n = trace.steps.length;
  const leaves = walker.leaves;
  const ctx = walker.context;
  const loc = system.locations(leaves);
  const v = trace.violation;
  switch (v.kind) {
    case 'deadlock': {
      if (walker.ended) return { status: 'not-reproduced', reason: 'every thread finished or is at a valid end (meta.end): no deadlock', stepsReplayed: n };
      const e = space.firstEnabled(walker);
      if (e >= 0) return { status: 'not-reproduced', reason: `no deadlock at the end: ${system.events[e]} is enabled`, stepsReplayed: n };
      return { status: 'reproduced', reason: 'deadlock reached: no step is enabled and not every thread has finished', stepsReplayed: n };
    }
    case 'assertion': {
      const pred = model.assertions?.[v.name];
      if (!pred) return { status: 'not-reproduced', reason: `the model no longer defines assertion ${v.name}`, stepsReplayed: n };
      const inForce = system.threads.some((t) => (!v.thread || t.name === v.thread) && t.asserts[leaves[t.index]].includes(v.name));
      if (!inForce) return { status: 'not-reproduced', reason: `assertion ${v.name} is not in force where the threads ended`, stepsReplayed: n };
      if (pred(ctx, loc)) return { status: 'not-reproduced', reason: `assertion ${v.name} holds at the end`, stepsReplayed: n };
      return { status: 'reproduced', reason: `assertion ${v.name} fails${v.thread ? ` in thread ${v.thread}` : ''}`, stepsReplayed: n };
    }
    case 'invariant': {
      const inv = invariants[v.name];
      if (!inv) return { status: 'not-reproduced', reason: `the model no longer defines invariant ${v.name}`, stepsReplayed: n };
      if (inv(ctx, loc)) return { status: 'not-reproduced', reason: `invariant ${v.name} holds at the end`, stepsReplayed: n };
      return { status: 'reproduced', reason: `invariant ${v.name} is violated`, stepsReplayed: n };
    }
    case 'livelock':
    case 'starvation': {
      if (trace.loopStart === undefined || loopStartState === null) {
        return { status: 'not-reproduced', reason: 'the trace has no loop (loopStart) to check', stepsReplayed: n };
      }
      if (walker.key() !== loopStartState) {
        return { status: 'not-reproduced', reason: `the loop from step ${trace.loopStart} does not return to the state it started from`, stepsReplayed: n };
      }
      const problem = lassoProblem(space, trace);
      if (problem) return { status: 'not-reproduced', reason: `the loop from step ${trace.loopStart} repeats, but ${problem}`, stepsReplayed: n };
      const fair = { none: '', weak: ', weakly fair', strong: ', strongly fair' }[(trace.options?.fairness ?? 'weak') as Fairness];
      return { status: 'reproduced', reason: `the loop from step ${trace.loopStart} returns to its start${fair}, and shows the ${v.kind}: it can repeat forever`, stepsReplayed: n };
    }
    case 'lock-order': {
      const report = trace.lockOrder;
      if (!report || report.edges.length === 0) return { status: 'not-reproduced', reason: 'the trace has no lock-order edges (lockOrder) to check', stepsReplayed: n };
      const shape = lockOrderShapeProblem(report);
      if (shape) return { status: 'not-reproduced', reason: `the lock-order trace (${report.kind}): ${shape}`, stepsReplayed: n };
      const edges = report.edges;
      if (edges[0].events.length !== n || edges[0].events.some((ev, i) => ev !== trace.steps[i].event)) {
        return { status: 'not-reproduced', reason: "the trace's steps are not the events of its edge #0 (lockOrder.edges[0].events)", stepsReplayed: n };
      }
      for (let i = 0; i < report.edges.length; i++) {
        const edge = report.edges[i];
        const r = checkEdgeReplay(space, model, edge, { waitContext: report.kind === 'invalid-wait-context', mightSleep: report.mightSleep === true });
        if (!r.ok) return { status: 'not-reproduced', reason: `edge #${i} ${edge.from} -> ${edge.to}: step ${r.step}: ${r.reason}`, stepsReplayed: n };
      }
      if (report.kind === 'invalid-wait-context') {
        const x = edges[0];
        if (report.mightSleep) {
          return { status: 'reproduced', reason: `the trace ends with ${x.thread} making a call that may sleep (${x.to}) while holding ${x.from}: sleeping function called from invalid context`, stepsReplayed: n };
        }
        return { status: 'reproduced', reason: `the trace ends with ${x.thread} taking ${x.to}, which may sleep, while holding ${x.from}: an invalid wait context`, stepsReplayed: n };
      }
      const what = report.kind === 'recursive' ? 'the recursive acquisition' : `all ${report.edges.length} edges of the cycle`;
      return { status: 'reproduced', reason: `${what} replay: each edge's trace ends acquiring its lock while holding the previous one`, stepsReplayed: n };
    }
    default:
      return { status: 'not-reproduced', reason: `unknown violation kind ${(v as any).kind}`, stepsReplayed: n };
  }
}
