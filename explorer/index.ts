// The explorer's entry point: build a model instance, compile it, search it, explain the verdict.
import { compileMachine } from './compile.ts';
import { createCoverage, type Coverage } from './coverage.ts';
import { InputError, ModelError, thrownMessage, unreachable } from './errors.ts';
import type { Invariant, ModelDefinition, ParamValue } from './model.ts';
import { PackedSystem } from './packed.ts';
import type { StringTable } from './codec.ts';
import type { Bound, Outcome, Progress, SearchStats, ViolationKind } from './outcome.ts';
import { SharedStrings } from './parallel/strings.ts';
import type { Fairness, StarvationGoal } from './properties/liveness.ts';
import { stateChecker } from './properties/safety.ts';
import { StateSpace } from './space/index.ts';
import { STRATEGIES, type SafetyTask, type StrategyName } from './strategies/index.ts';
import { liveness as livenessStrategy, type LivenessStats } from './strategies/liveness.ts';
import { parallel } from './strategies/parallel.ts';
import { distributed, type DistributedOptions } from './strategies/distributed.ts';
import { HashStrings } from './distributed/strings.ts';
import type { ModelRef } from './distributed/protocol.ts';
import { buildTrace, type Trace } from './trace.ts';
import { LockOrderRecorder, lockOrderName, type LockOrderFinding, type LockOrderReport } from './properties/lockorder.ts';
import { planReductions, type ReductionName } from './reduce/index.ts';

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
  /**
   * Lock-order check (lockdep over every interleaving): a cycle in the graph of "held -> acquired" lock
   * classes, or a recursive acquisition, is a violation of kind 'lock-order' even when no deadlock is
   * reachable. Runs in the one-thread search (--workers is not used for it).
   */
  lockOrder?: boolean;
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
  /**
   * Spread the breadth-first safety search over worker processes through NATS (explorer/distributed/):
   * `peers` workers, each loading `model` (a bundled name, else the module path) and owning one partition.
   */
  nats?: DistributedOptions & { model: ModelRef };
  /** Record which transitions fire and which states are reached (./coverage.ts); one thread only. */
  coverage?: boolean;
  /**
   * Reductions for the safety search (explorer/reduce/): symmetry of identical threads, partial order.
   * Default none (exact counts). Liveness runs unreduced whatever is asked.
   */
  reduce?: ReductionName[];
}

/** Which reductions a check asked for, which ran, and why the others did not (or not fully). */
export interface ReductionReport {
  requested: ReductionName[];
  /** The reductions the safety search ran with. */
  ran: ReductionName[];
  notes: string[];
}

/**
 * The verdict of a check, by status. Fields a status does not have are declared `undefined`, so
 * `verdict.kind` reads on any verdict and a switch on `status` narrows.
 */
export type Verdict =
  | { status: 'pass'; kind?: undefined; name?: undefined; message?: undefined; bound?: undefined }
  | {
      status: 'violation';
      kind: ViolationKind;
      name: string;
      message: string;
      /** A bound also reached while searching (the violation stands). */
      bound?: Bound;
    }
  | {
      status: 'incomplete';
      kind?: undefined;
      name?: undefined;
      message: string;
      /** The bound that cut the search. */
      bound: Bound;
    };

export interface CheckResult {
  model: string;
  variant: string;
  params: Record<string, ParamValue>;
  verdict: Verdict;
  /** Liveness runs report the stored graph and the cycle analysis too (LivenessStats). */
  stats: SearchStats | LivenessStats;
  trace?: Trace;
  /** With CheckRequest.coverage: the transitions never taken and states never reached, per thread. */
  coverage?: Coverage;
  /** Present when the request named its reductions (even none). */
  reductions?: ReductionReport;
}

/** Fills in defaults and validates parameter values against the model's declared params. */
export function resolveParams(model: ModelDefinition, given: Record<string, unknown> = {}, where = 'params'): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  // A command-line option names the parameter after a space (--param n), a JSON path after a dot ($.params.n).
  const at = (key: string) => (where.startsWith('--') ? `${where} ${key}` : `${where}.${key}`);
  for (const key of Object.keys(given)) {
    if (!(key in model.params)) {
      const known = Object.keys(model.params);
      throw new InputError(
        `${at(key)}: model ${model.name} has no parameter '${key}' (its parameters: ${known.length ? known.join(', ') : 'none'})`,
      );
    }
  }
  for (const [key, spec] of Object.entries(model.params)) {
    const v = key in given ? given[key] : spec.default;
    if (typeof v !== typeof spec.default) {
      throw new InputError(`${at(key)}: expected a ${typeof spec.default} (${spec.description}), got ${JSON.stringify(v)}`);
    }
    if (typeof v === 'number') {
      if (!Number.isInteger(v) && Number.isInteger(spec.default)) throw new InputError(`${at(key)}: expected an integer, got ${v}`);
      if (spec.min !== undefined && v < spec.min) throw new InputError(`${at(key)}: ${v} is below the minimum ${spec.min} (${spec.description})`);
      if (spec.max !== undefined && v > spec.max) throw new InputError(`${at(key)}: ${v} is above the maximum ${spec.max} (${spec.description})`);
    }
    if (typeof v === 'string' && spec.choices && !spec.choices.includes(v)) {
      throw new InputError(`${at(key)}: '${v}' is not one of ${spec.choices.join(', ')}`);
    }
    out[key] = v as ParamValue;
  }
  return out;
}

export function resolveVariant(model: ModelDefinition, variant: string | undefined, where = 'variant'): string {
  if (variant === undefined && !(model.defaultVariant in model.variants)) {
    // The model's own slip, not the caller's.
    throw new ModelError(
      `model ${model.name}: its defaultVariant '${model.defaultVariant}' is not one of its variants (${Object.keys(model.variants).join(', ')}); fix defaultVariant in the model`,
      { feature: 'defaultVariant' },
    );
  }
  const v = variant ?? model.defaultVariant;
  if (!(v in model.variants)) {
    throw new InputError(`${where}: model ${model.name} has no variant '${v}' (its variants: ${Object.keys(model.variants).join(', ')})`);
  }
  return v;
}

/** Builds and compiles a model instance: its state space. */
export function instantiate(model: ModelDefinition, params: Record<string, ParamValue>, variant: string, strings?: StringTable): StateSpace {
  let machine;
  try {
    machine = model.create({ params, variant });
  } catch (e) {
    if (e instanceof ModelError || e instanceof InputError) throw e;
    throw new ModelError(`model ${model.name} (variant ${variant}) failed to build: create() threw: ${thrownMessage(e)}`, { feature: 'create' });
  }
  if (!isStateMachine(machine)) {
    const what = machine === null || typeof machine !== 'object' ? String(machine) : 'a plain object (a machine config?)';
    throw new ModelError(
      `model ${model.name} (variant ${variant}): create() returned ${what}, not an XState machine; ` +
        `return setup({ guards, actions }).createMachine({ type: 'parallel', ... }) (or createMachine(config)), not the config itself`,
      { feature: 'create' },
    );
  }
  return new StateSpace(new PackedSystem(compileMachine(machine), { strings }));
}

function isStateMachine(x: unknown): x is ReturnType<ModelDefinition['create']> {
  const m = x as { root?: unknown; implementations?: unknown; config?: unknown } | null;
  return !!m && typeof m === 'object' && typeof m.root === 'object' && m.root !== null && typeof m.implementations === 'object';
}

export function selectInvariants(model: ModelDefinition, params: Record<string, ParamValue>, variant: string, sel: boolean | string[] | undefined): Record<string, Invariant> {
  let extra: Record<string, Invariant> = {};
  try {
    extra = model.invariantsFor?.({ params, variant }) ?? {};
  } catch (e) {
    throw new ModelError(`model ${model.name} (variant ${variant}): invariantsFor() threw: ${thrownMessage(e)}; fix it in the model`, { feature: 'invariantsFor' });
  }
  const all = { ...(model.invariants ?? {}), ...extra };
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
  if (workers > 1 && req.coverage) {
    throw new InputError(`coverage: the coverage collector runs on one thread; drop --workers ${workers} (or --coverage)`);
  }
  if (req.nats) checkDistributed(req, workers);
  const sharedStrings = workers > 1 ? SharedStrings.allocate() : undefined;
  const space = instantiate(model, params, variant, sharedStrings ? new SharedStrings(sharedStrings) : req.nats ? new HashStrings() : undefined);
  const check = req.check ?? {};
  const invariants = selectInvariants(model, params, variant, check.invariants);
  const strategy = req.strategy ?? 'bfs';
  const starvation = check.starvation === undefined ? [] : Array.isArray(check.starvation) ? check.starvation : [check.starvation];
  const liveness = !!check.livelock || starvation.length > 0;
  const lockOrder = check.lockOrder ? new LockOrderRecorder(space.system, model) : undefined;
  const safety = (check.deadlock ?? true) || (check.assertions ?? true) || Object.keys(invariants).length > 0 || !!lockOrder;
  const assertions = check.assertions ?? true;
  // Liveness is a separate strategy (strategies/liveness.ts): the safety search runs first, then, if it
  // passes, the liveness exploration records the edges and looks for fair cycles.
  const coverage = req.coverage ? createCoverage(space.system) : undefined;
  if (coverage) space.onTransition = coverage.onTransition;
  const base = { space, bounds: { maxStates: req.maxStates, maxDepth: req.maxDepth, timeoutSeconds: req.timeoutSeconds }, onProgress: req.onProgress };
  const reduce = req.reduce ?? [];
  const report: ReductionReport = { requested: [...reduce], ran: [], notes: [] };
  const runSafety = (): Outcome => {
    // The lock-order check and coverage record every transition: they run unreduced (a pruned interleaving
    // can hold an acquisition order, or take a transition, no other one shows).
    const unreduced = lockOrder ? 'the lock-order check' : coverage ? 'coverage' : null;
    const plan = planReductions(space, { model, options: { params, variant }, reduce: unreduced ? [] : reduce, invariants: Object.keys(invariants), assertions }).apply();
    if (unreduced && reduce.length) report.notes.push(`${unreduced} ran unreduced (${reduce.join(', ')} not applied)`);
    report.ran = plan.ran;
    report.notes.push(...plan.notes);
    const task: SafetyTask = {
      ...base,
      checker: stateChecker(space.system, { assertions, invariants, assertionPredicates: model.assertions ?? {} }),
      deadlock: check.deadlock ?? true,
      stopAtFirst: req.stopAtFirst ?? true,
    };
    // The lock-order check records every transition: it runs in the sequential search.
    if (lockOrder) return withLockOrder(STRATEGIES[strategy].run({ ...task, onTransition: (id, e, pathTo) => lockOrder.onStep(id, e, space.expanding, pathTo) }), lockOrder);
    if (req.nats) {
      const { model: ref, ...nats } = req.nats;
      return distributed.run({ ...task, nats, model: ref, params, variant, invariantNames: Object.keys(invariants), assertions, reduce, version: TOOL_VERSION });
    }
    if (workers === 1) return STRATEGIES[strategy].run(task);
    if (!req.modelPath || !sharedStrings) throw new InputError(`workers: ${workers} threads need the model's module file (modelPath)`);
    return parallel.run({ ...task, workers, modelPath: req.modelPath, params, variant, strings: sharedStrings, invariantNames: Object.keys(invariants), assertions, reduce });
  };
  const runLiveness = () => {
    // Liveness runs unreduced (explorer/reduce/index.ts says why).
    space.reduction = null;
    if (reduce.length) report.notes.push(`livelock/starvation ran unreduced (${reduce.join(', ')} is not proven sound for liveness here)`);
    return livenessStrategy.run({ ...base, livelock: check.livelock, starvation, fairness: check.fairness });
  };
  let outcome: Outcome<SearchStats | LivenessStats>;
  if (!liveness) outcome = runSafety();
  else if (!safety) outcome = runLiveness();
  else {
    // A safety violation wins. Otherwise the liveness run decides, except that a cut safety run keeps
    // an otherwise passing verdict incomplete.
    const safe = runSafety();
    outcome = safe;
    if (safe.status !== 'violation') {
      const live = runLiveness();
      live.stats.seconds += safe.stats.seconds;
      outcome = live.status === 'pass' && safe.status === 'incomplete' ? { status: 'incomplete', bound: safe.bound, stats: live.stats } : live;
    }
  }
  let verdict: Verdict;
  let trace: Trace | undefined;
  switch (outcome.status) {
    case 'pass':
      verdict = { status: 'pass' };
      break;
    case 'violation': {
      const v = outcome.violation;
      verdict = { status: 'violation', kind: v.kind, name: v.name, message: v.message, ...(outcome.bound ? { bound: outcome.bound } : {}) };
      const liveOptions = liveness ? { fairness: check.fairness ?? 'weak', ...(check.livelock ? { livelock: true } : {}), ...(starvation.length ? { starvation } : {}) } : {};
      trace = buildTrace(
        space,
        outcome.path,
        v,
        {
          model,
          variant,
          params,
          spec: req.spec,
          options: { strategy: outcome.loopStart !== undefined ? 'bfs' : strategy, ...liveOptions },
          toolVersion: TOOL_VERSION,
        },
        outcome.loopStart,
      );
      if (v.kind === 'lock-order' && lockOrder) trace.lockOrder = lockOrderReport(space.system.events, lockOrder.finding()!);
      break;
    }
    case 'incomplete':
      verdict = {
        status: 'incomplete',
        message:
          outcome.bound.name === 'lostWorker'
            ? `worker ${outcome.bound.worker} (partition ${outcome.bound.limit}) was lost: ${outcome.bound.why}; its part of the state space is gone, so the search is incomplete`
            : `search cut by ${outcome.bound.name} = ${outcome.bound.limit} before the whole state space was explored`,
        bound: outcome.bound,
      };
      break;
    default:
      return unreachable(outcome);
  }
  space.reduction = null;
  const result: CheckResult = { model: model.name, variant, params, verdict, stats: outcome.stats, trace, ...(req.reduce !== undefined ? { reductions: report } : {}) };
  if (coverage) {
    // Complete only when the whole reachable space was explored: a pass, or a violation found by a search
    // that went on to the end (stopAtFirst false, nothing cut). Liveness explores everything before it
    // analyses, so its violations (lassos) count as complete too when no bound cut it.
    const exhausted =
      outcome.status === 'pass' || (outcome.status === 'violation' && !outcome.bound && (outcome.loopStart !== undefined || req.stopAtFirst === false));
    result.coverage = coverage.report(exhausted);
  }
  return result;
}

/** What the distributed search cannot do, as bad input naming the option. */
function checkDistributed(req: CheckRequest, workers: number): void {
  const peers = req.nats!.peers;
  if (!Number.isInteger(peers) || peers < 1 || peers > 256) throw new InputError(`peers: expected a whole number of worker processes from 1 to 256, got ${peers}`);
  if (workers > 1) throw new InputError(`nats: the distributed search runs one partition per worker process; drop --workers ${workers} (or --nats)`);
  if ((req.strategy ?? 'bfs') !== 'bfs') throw new InputError(`nats: the distributed search is breadth-first; drop --strategy ${req.strategy} or --nats`);
  if (req.coverage) throw new InputError('coverage: the coverage collector runs on one thread; drop --nats (or --coverage)');
  if (req.check?.lockOrder) throw new InputError('lock-order: the lock-order check runs in the one-thread search; drop --nats (or --lock-order)');
}

/**
 * A safety outcome with the lock-order finding: a safety violation stands; otherwise a cycle (or a
 * recursive acquisition) in the recorded lock-order graph is a violation of kind lock-order whose path is
 * the first edge's trace. A cut search keeps its bound.
 */
function withLockOrder(o: Outcome, rec: LockOrderRecorder): Outcome {
  if (o.status === 'violation') return o;
  const f = rec.finding();
  if (!f) return o;
  const name = lockOrderName(f);
  const what = f.kind === 'recursive' ? 'possible recursive locking' : 'possible circular locking dependency';
  const first = f.edges[0];
  return {
    status: 'violation',
    violation: { kind: 'lock-order', name, message: `${what}: ${name}`, thread: first.thread, depth: first.path.length },
    path: first.path,
    ...(o.status === 'incomplete' ? { bound: o.bound } : {}),
    stats: o.stats,
  };
}

function lockOrderReport(events: string[], f: LockOrderFinding): LockOrderReport {
  return { kind: f.kind, edges: f.edges.map(({ path, ...x }) => ({ ...x, events: path.map((e) => events[e]) })) };
}

export type { Trace } from './trace.ts';
export type { ModelDefinition } from './model.ts';
