// Counterexample traces: built by replaying recorded event indices from the initial state, and
// replayed against the current model to check they still reach the same violation.
import type { CompiledSystem } from './compile/index.ts';
import { ModelError, ModelRuntimeError, thrownMessage } from './errors.ts';
import type { Context, ModelDefinition, ParamValue, Plain, ThreadLocations, WaitInfo } from './model.ts';
import type { Violation } from './outcome.ts';
import type { StateSpace } from './space/index.ts';
import { PathWalker } from './space/walk.ts';
import { buildWaitFor, describeWait, type BlockedThread, type WaitEdge, type WaitForReport } from './waitfor.ts';
import { LockOrderRecorder, type LockOrderReport } from './properties/lockorder.ts';
import { stampCycle } from './scenario.ts';

export const TRACE_FORMAT = 'interleave-trace';
export const TRACE_VERSION = 1;

export interface ContextChange {
  path: string;
  from: Plain | undefined;
  to: Plain | undefined;
}

export interface TraceStep {
  /** 1-based step number. */
  step: number;
  event: string;
  /** Threads whose transition handled the event. */
  threads: string[];
  /** Where each of those threads was before the step. */
  from: Record<string, string>;
  /** Every thread's location after the step. */
  locations: ThreadLocations;
  changes: ContextChange[];
  /** The step is a progress step (a progress transition, or it enters a progress state). */
  progress?: boolean;
  /** The model's watched values after the step (ModelDefinition.watch). */
  watch?: Record<string, string | number | boolean>;
}

export interface Trace {
  format: typeof TRACE_FORMAT;
  version: number;
  tool: { name: string; version: string };
  model: string;
  variant: string;
  params: Record<string, ParamValue>;
  /** A model module that is not bundled: its path relative to the trace file (written by the CLI beside the trace). */
  modelPath?: string;
  /** The spec the trace came from, relative to the working directory, when there was one. */
  spec?: string;
  options: Record<string, unknown>;
  threads: string[];
  violation: { kind: string; name: string; message: string; thread?: string };
  initial: { locations: ThreadLocations; context: Plain; watch?: Record<string, string | number | boolean> };
  steps: TraceStep[];
  /** The final state's full context. */
  final: { locations: ThreadLocations; context: Plain };
  /** At a deadlock: what each blocked thread waits for, and the wait-for cycle if there is one. */
  deadlock?: WaitForReport;
  /** For livelock/starvation lassos: steps from this 1-based step number on repeat forever. */
  loopStart?: number;
  /**
   * For a lock-order violation: the cycle's edges (or the one recursive edge), each with the events of its
   * own trace from the initial state. `steps` is the trace of the first edge.
   */
  lockOrder?: LockOrderReport;
  /** The seed of the randomised search that found the trace (--strategy random, swarm jobs). */
  seed?: number;
}

/**
 * A record key appended to a change's path: `.key`, or `["key"]` (the key as a JSON string) when it holds a dot, a
 * bracket or a quote, or is empty, which `.key` would misread. cli/itf.ts setPath and the viewer read both.
 */
export function keyPath(path: string, key: string): string {
  if (key !== '' && !/[.[\]"]/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

/** Deep differences between two plain values, as dotted/indexed paths (keyPath). */
export function diffContext(a: unknown, b: unknown, path = '', out: ContextChange[] = []): ContextChange[] {
  if (Object.is(a, b)) return out;
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  const bothRecords =
    a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b);
  if (bothArrays && (a as unknown[]).length === (b as unknown[]).length) {
    (a as unknown[]).forEach((x, i) => diffContext(x, (b as unknown[])[i], `${path}[${i}]`, out));
    return out;
  }
  if (bothRecords) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const k of keys) diffContext((a as any)[k], (b as any)[k], keyPath(path, k), out);
    return out;
  }
  out.push({ path: path || '(context)', from: a as Plain, to: b as Plain });
  return out;
}

/** The key of a wait (or of the cycle edge made from it) by one thread, to find the describer behind an edge. */
const probeKey = (thread: string, w: { resource: string; kind: string; mode?: string }) => `${thread}\u0000${w.resource}\u0000${w.kind}\u0000${w.mode ?? ''}`;

/**
 * What each thread that cannot step is waiting for, from the model's wait describers. `probes`, when given,
 * receives each wait's describer bound to its guard's params (for explorer/scenario.ts stampCycle).
 */
export function blockedThreads(
  system: CompiledSystem,
  model: ModelDefinition,
  leaves: ArrayLike<number>,
  ctx: Context,
  probes?: Map<string, (c: Context) => WaitInfo | null>,
): BlockedThread[] {
  const out: BlockedThread[] = [];
  const waits = model.waits ?? {};
  const names = system.threads.map((t) => t.name);
  for (const t of system.threads) {
    const leaf = leaves[t.index];
    if (t.isEnd[leaf]) continue;
    const infos: WaitInfo[] = [];
    const seen = new Set<string>();
    for (const e of t.leafEvents[leaf]) {
      for (const tr of t.candidates[leaf][e]!) {
        for (const ref of tr.guardRefs(ctx, { type: system.events[e] })) {
          const describe = waits[ref.type];
          if (!describe || ref.negated) continue;
          const where = `while the deadlock was being described (thread ${t.name} blocked at ${t.leafPaths[leaf]}, guard ${ref.type} with params ${JSON.stringify(ref.params) ?? 'undefined'})`;
          const at = { thread: t.name, state: t.leafPaths[leaf] };
          const info = describeWait(describe, ref.type, ctx, ref.params, where, at);
          if (!info) continue;
          // a thread that must act (a `by` option) and is no thread of the model would read as one that has finished
          const unknown = info.act === undefined ? [] : info.holders.filter((h) => !names.includes(h));
          if (unknown.length > 0) {
            throw new ModelError(
              `waits.${ref.type} names ${unknown.map((h) => JSON.stringify(h)).join(', ')} as the thread to ${info.act}(), but the model has no such thread (threads: ${names.join(', ')}) ${where}; fix the wait's \`by\` option (or the describer's holders) to name threads of the model`,
              { state: t.leafPaths[leaf], guard: ref.type, feature: 'waits' },
            );
          }
          const key = JSON.stringify(info);
          if (!seen.has(key)) {
            seen.add(key);
            infos.push(info);
            const params = ref.params;
            if (probes && !probes.has(probeKey(t.name, info))) {
              probes.set(probeKey(t.name, info), (c) => describeWait(describe, ref.type, c, params, `${where.replace(/\)$/, '')}, in an earlier state of the trace)`, at));
            }
          }
        }
      }
    }
    const meta = t.leafMeta[leaf];
    if (infos.length === 0 && typeof meta.waitsFor === 'string') {
      infos.push({ resource: meta.waitsFor, kind: 'wait', holders: [] });
    }
    out.push({ thread: t.name, state: t.leafPaths[leaf], waits: infos });
  }
  return out;
}

export interface BuildTraceOptions {
  model: ModelDefinition;
  variant: string;
  params: Record<string, ParamValue>;
  spec?: string;
  options: Record<string, unknown>;
  toolVersion: string;
}

function watchValues(model: ModelDefinition, ctx: Context): Record<string, string | number | boolean> | undefined {
  if (!model.watch) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const [name, fn] of Object.entries(model.watch)) {
    try {
      out[name] = fn(ctx);
    } catch (e) {
      throw new ModelRuntimeError(`watch.${name} threw while the trace was being written: ${thrownMessage(e)}; fix it in the model's watch: it gets the context and returns a string, number or boolean`, { predicate: `watch.${name}` }, e);
    }
  }
  return out;
}

/** Walks `path` (event indices) from the initial state and records every step. */
export function buildTrace(space: StateSpace, path: number[], violation: Violation | Trace['violation'], o: BuildTraceOptions, loopStart?: number): Trace {
  const system = space.system;
  const walker = new PathWalker(space);
  const initial = { leaves: walker.leaves, context: walker.context };
  const steps: TraceStep[] = [];
  // the context after each step and who moved, to date the deadlock's wait-for edges (stampCycle)
  const contexts: Context[] = [initial.context];
  const moved: string[][] = [[]];
  // the locks the path takes (kernel primitives' lock effects), to date each hold by the lock's own state
  const locks = violation.kind === 'deadlock' ? new LockOrderRecorder(system, o.model) : null;
  path.forEach((e, i) => {
    const before = walker.leaves;
    const ctx = walker.context;
    const taken = walker.advance(e);
    if (!taken) throw new Error(`internal: recorded event ${system.events[e]} is not enabled at step ${i + 1}`);
    locks?.acquisitions(taken, ctx, e);
    const from: Record<string, string> = {};
    let progress = false;
    for (const tr of taken) {
      const t = system.threads[tr.thread];
      from[t.name] = t.leafPaths[before[t.index]];
      if (tr.progress) progress = true;
      if (tr.target >= 0 && t.progressLeaf[tr.target] && !t.progressLeaf[before[t.index]]) progress = true;
    }
    // The walker's context went through the codec, so the trace shows exactly the stored state.
    const next = walker.context;
    steps.push({
      step: i + 1,
      event: system.events[e],
      threads: taken.map((tr) => system.threads[tr.thread].name),
      from,
      locations: system.locations(walker.leaves),
      changes: diffContext(ctx, next),
      ...(progress ? { progress: true } : {}),
    });
    const w = watchValues(o.model, next);
    if (w) steps[steps.length - 1].watch = w;
    contexts.push(next);
    moved.push(steps[steps.length - 1].threads);
  });
  const leaves = walker.leaves;
  const ctx = walker.context;
  const v = { kind: violation.kind, name: violation.name, message: violation.message, ...(violation.thread ? { thread: violation.thread } : {}) };
  const trace: Trace = {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    tool: { name: 'interleave', version: o.toolVersion },
    model: o.model.name,
    variant: o.variant,
    params: o.params,
    ...(o.spec ? { spec: o.spec } : {}),
    options: o.options,
    threads: system.threads.map((t) => t.name),
    violation: v,
    initial: { locations: system.locations(initial.leaves), context: toPlain(initial.context), ...(o.model.watch ? { watch: watchValues(o.model, initial.context) } : {}) },
    steps,
    final: { locations: system.locations(leaves), context: toPlain(ctx) },
  };
  if (violation.kind === 'deadlock') {
    const probes = new Map<string, (c: Context) => WaitInfo | null>();
    const report = buildWaitFor(blockedThreads(system, o.model, leaves, ctx, probes));
    // A lock of the path with the edge's resource as its name, held by the edge's holder at the end: its state says since when.
    const holding = (e: WaitEdge) => {
      const holds = (c: Context) => locks!.heldBy(c, e.heldBy).some((h) => h.name === e.resource);
      return holds(ctx) ? holds : undefined;
    };
    if (report.cycle) report.cycle = stampCycle(report.cycle, { probe: (e) => probes.get(probeKey(e.thread, e)), holding, contexts, moved });
    trace.deadlock = report;
    const idle = system.threads.filter((t) => t.isEnd[leaves[t.index]] && !t.isFinal[leaves[t.index]]);
    if (idle.length > 0) trace.deadlock.idle = idle.map((t) => ({ thread: t.name, state: t.leafPaths[leaves[t.index]] }));
  }
  if (loopStart !== undefined) trace.loopStart = loopStart;
  return trace;
}

function toPlain(v: unknown): Plain {
  return JSON.parse(JSON.stringify(v ?? null));
}
