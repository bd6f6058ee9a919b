// The explorer's entry point: build a model instance, compile it, search it, explain the verdict.
import { compileMachine } from './compile.ts';
import { InputError, ModelError } from './errors.ts';
import type { Invariant, ModelDefinition, ParamValue } from './model.ts';
import { PackedSystem } from './packed.ts';
import type { StringTable } from './codec.ts';
import { parallelSearch } from './parallel/search.ts';
import { SharedStrings } from './parallel/strings.ts';
import { searchLiveness, type Fairness, type StarvationGoal } from './liveness.ts';
import { search, type BoundName, type Progress, type SearchStats, type ViolationKind } from './search.ts';
import type { StrategyName } from './strategies/index.ts';
import { buildTrace, type Trace } from './trace.ts';

export const TOOL_VERSION = '0.1.0';

export interface PropertySelection {
  deadlock?: boolean;
  assertions?: boolean;
  /** true = all of the model's invariants, false = none, or a list of names. */
  invariants?: boolean | string[];
  /** Look for non-progress cycles (livelocks). */
  livelock?: boolean;
  /** Look for a fair cycle along which the thread never reaches its goal state(s). */
  starvation?: StarvationGoal | StarvationGoal[];
  /** Fairness for livelock/starvation cycles (default weak). */
  fairness?: Fairness;
}

export interface CheckRequest {
  model: ModelDefinition;
  params?: Record<string, ParamValue>;
  variant?: string;
  check?: PropertySelection;
  strategy?: StrategyName;
  maxStates?: number;
  maxDepth?: number;
  timeoutSeconds?: number;
  stopAtFirst?: boolean;
  onProgress?: (p: Progress) => void;
  /** Spec path recorded in the trace. */
  spec?: string;
  /**
   * Threads for the breadth-first safety search (default 1): 2 or more split the state space between the
   * main thread and worker threads (explorer/parallel/). The workers build the model from `modelPath`.
   */
  workers?: number;
  /** The model's module file (needed by workers > 1). */
  modelPath?: string;
}

export interface Verdict {
  status: 'pass' | 'violation' | 'incomplete';
  kind?: ViolationKind;
  name?: string;
  message?: string;
  /** The bound that cut the search (always set for incomplete). */
  bound?: { name: BoundName; limit: number };
}

export interface CheckResult {
  model: string;
  variant: string;
  params: Record<string, ParamValue>;
  verdict: Verdict;
  stats: SearchStats;
  trace?: Trace;
}

/** Fills in defaults and validates parameter values against the model's declared params. */
export function resolveParams(model: ModelDefinition, given: Record<string, unknown> = {}, where = 'params'): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const key of Object.keys(given)) {
    if (!(key in model.params)) {
      const known = Object.keys(model.params);
      throw new InputError(
        `${where}.${key}: model ${model.name} has no parameter '${key}' (its parameters: ${known.length ? known.join(', ') : 'none'})`,
      );
    }
  }
  for (const [key, spec] of Object.entries(model.params)) {
    const v = key in given ? given[key] : spec.default;
    if (typeof v !== typeof spec.default) {
      throw new InputError(`${where}.${key}: expected a ${typeof spec.default} (${spec.description}), got ${JSON.stringify(v)}`);
    }
    if (typeof v === 'number') {
      if (!Number.isInteger(v) && Number.isInteger(spec.default)) throw new InputError(`${where}.${key}: expected an integer, got ${v}`);
      if (spec.min !== undefined && v < spec.min) throw new InputError(`${where}.${key}: ${v} is below the minimum ${spec.min} (${spec.description})`);
      if (spec.max !== undefined && v > spec.max) throw new InputError(`${where}.${key}: ${v} is above the maximum ${spec.max} (${spec.description})`);
    }
    if (typeof v === 'string' && spec.choices && !spec.choices.includes(v)) {
      throw new InputError(`${where}.${key}: '${v}' is not one of ${spec.choices.join(', ')}`);
    }
    out[key] = v as ParamValue;
  }
  return out;
}

export function resolveVariant(model: ModelDefinition, variant: string | undefined, where = 'variant'): string {
  const v = variant ?? model.defaultVariant;
  if (!(v in model.variants)) {
    throw new InputError(`${where}: model ${model.name} has no variant '${v}' (its variants: ${Object.keys(model.variants).join(', ')})`);
  }
  return v;
}

/** Builds and compiles a model instance. */
export function instantiate(model: ModelDefinition, params: Record<string, ParamValue>, variant: string, strings?: StringTable): PackedSystem {
  let machine;
  try {
    machine = model.create({ params, variant });
  } catch (e) {
    if (e instanceof ModelError || e instanceof InputError) throw e;
    throw new ModelError(`model ${model.name} (variant ${variant}) failed to build: ${(e as Error)?.message ?? e}`, { feature: 'create' });
  }
  return new PackedSystem(compileMachine(machine), { strings });
}

export function selectInvariants(model: ModelDefinition, params: Record<string, ParamValue>, variant: string, sel: boolean | string[] | undefined): Record<string, Invariant> {
  const all = { ...(model.invariants ?? {}), ...(model.invariantsFor?.({ params, variant }) ?? {}) };
  if (sel === false) return {};
  if (sel === undefined || sel === true) return all;
  const out: Record<string, Invariant> = {};
  for (const name of sel) {
    if (!(name in all)) {
      throw new InputError(`check.invariants: model ${model.name} has no invariant '${name}' (its invariants: ${Object.keys(all).join(', ') || 'none'})`);
    }
    out[name] = all[name];
  }
  return out;
}

export function checkModel(req: CheckRequest): CheckResult {
  const model = req.model;
  const params = resolveParams(model, req.params);
  const variant = resolveVariant(model, req.variant);
  const workers = req.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new InputError(`workers: expected a whole number of threads from 1 to 64, got ${workers}`);
  }
  if (workers > 1 && !req.modelPath) {
    throw new InputError(`workers: ${workers} threads need the model's module file (modelPath), from which each worker builds the model`);
  }
  if (workers > 1 && (req.strategy ?? 'bfs') !== 'bfs') {
    throw new InputError(`workers: the parallel search is breadth-first; drop --strategy ${req.strategy} or run with one worker`);
  }
  const sharedStrings = workers > 1 ? SharedStrings.allocate() : undefined;
  const packed = instantiate(model, params, variant, sharedStrings && new SharedStrings(sharedStrings));
  const check = req.check ?? {};
  const invariants = selectInvariants(model, params, variant, check.invariants);
  const strategy = req.strategy ?? 'bfs';
  const starvation = check.starvation === undefined ? [] : Array.isArray(check.starvation) ? check.starvation : [check.starvation];
  const liveness = !!check.livelock || starvation.length > 0;
  const safety = (check.deadlock ?? true) || (check.assertions ?? true) || Object.keys(invariants).length > 0;
  // Liveness is a separate path (./liveness.ts): the safety search runs as before, then, if it passes,
  // the liveness exploration records the edges and looks for fair cycles.
  const safetyOptions = {
    strategy,
    maxStates: req.maxStates,
    maxDepth: req.maxDepth,
    timeoutSeconds: req.timeoutSeconds,
    deadlock: check.deadlock ?? true,
    assertions: check.assertions ?? true,
    invariants,
    assertionPredicates: model.assertions ?? {},
    stopAtFirst: req.stopAtFirst,
    onProgress: req.onProgress,
  };
  const runSafety = () =>
    workers > 1
      ? parallelSearch(packed, { ...safetyOptions, workers, modelPath: req.modelPath!, params, variant, strings: sharedStrings! })
      : search(packed, safetyOptions);
  const runLiveness = () =>
    searchLiveness(packed, {
      livelock: check.livelock,
      starvation,
      fairness: check.fairness,
      maxStates: req.maxStates,
      maxDepth: req.maxDepth,
      timeoutSeconds: req.timeoutSeconds,
      onProgress: req.onProgress,
    });
  let result: ReturnType<typeof search> & { path?: number[]; loopStart?: number };
  if (!liveness) result = runSafety();
  else if (!safety) result = runLiveness();
  else {
    // A safety violation wins. Otherwise the liveness run decides, except that a cut safety run keeps
    // an otherwise passing verdict incomplete.
    const safe = runSafety();
    result = safe;
    if (safe.status !== 'violation') {
      const live = runLiveness();
      live.stats.seconds += safe.stats.seconds;
      result = live.status === 'pass' && safe.status === 'incomplete' ? { ...live, status: 'incomplete', bound: safe.bound } : live;
    }
  }
  const verdict: Verdict = { status: result.status };
  let trace: Trace | undefined;
  if (result.violation) {
    const v = result.violation;
    verdict.kind = v.kind;
    verdict.name = v.name;
    verdict.message = v.message;
    const liveOptions = liveness ? { fairness: check.fairness ?? 'weak', ...(check.livelock ? { livelock: true } : {}), ...(starvation.length ? { starvation } : {}) } : {};
    trace = buildTrace(
      packed,
      result.path ?? result.store.pathTo(v.stateId),
      v,
      {
        model,
        variant,
        params,
        spec: req.spec,
        options: { strategy: result.loopStart !== undefined ? 'bfs' : strategy, ...liveOptions },
        toolVersion: TOOL_VERSION,
      },
      result.loopStart,
    );
  }
  if (result.bound) verdict.bound = result.bound;
  if (result.status === 'incomplete') {
    verdict.message = `search cut by ${result.bound!.name} = ${result.bound!.limit} before the whole state space was explored`;
  }
  return { model: model.name, variant, params, verdict, stats: result.stats, trace };
}

export type { Trace } from './trace.ts';
export type { ModelDefinition } from './model.ts';
