// The explorer's entry point: build a model instance, compile it, search it, explain the verdict.
import type { AnyStateMachine } from 'xstate';
import { compileMachine } from './compile/index.ts';
import { createCoverage, type Coverage } from './coverage.ts';
import { InputError, ModelError, thrownMessage, unreachable } from './errors.ts';
import type { Invariant, ModelDefinition, ParamValue } from './model.ts';
import { PackedSystem } from './packed.ts';
import type { StringTable } from './codec.ts';
import type { Bound, Outcome, Progress, SearchStats, ViolationKind } from './outcome.ts';
import { SharedStrings } from './parallel/strings.ts';
import { resolveGoal, type Fairness, type StarvationGoal } from './properties/liveness.ts';
import { stateChecker } from './properties/safety.ts';
import { StateSpace, type TransitionHook } from './space/index.ts';
import { STRATEGIES, type SafetyTask, type SearchStrategyName } from './strategies/index.ts';
import { DEFAULT_WALK_DEPTH, random, type RandomOutcome, type RandomStats } from './strategies/random.ts';
import { withEventOrder } from './strategies/event-order.ts';
import { preemptionBound, type PreemptionOutcome } from './strategies/preemption.ts';
import { DEFAULT_CHECKPOINT_SECONDS } from './resume.ts';
import type { BitstateEstimate } from './bitstate.ts';
import { liveness as livenessStrategy, type LivenessStats } from './strategies/liveness.ts';
import { parallel } from './strategies/parallel.ts';
import { distributed, type DistributedOptions } from './strategies/distributed.ts';
import { HashStrings } from './distributed/strings.ts';
import { modelHash } from './distributed/identity.ts';
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
  strategy?: SearchStrategyName;
  /** Seed of the random choices (--strategy random); recorded in the result and the trace. */
  seed?: number;
  /** Random walks: stop after this many walks. */
  walks?: number;
  /** Expand successors in an order permuted by this seed (swarm jobs; one thread only). */
  eventOrderSeed?: number;
  /** Save the breadth-first safety search every `everySeconds` (default 60): `write` gets the file's bytes. */
  checkpoint?: { everySeconds?: number; write(bytes: Uint8Array): void };
  /** Continue the search saved in these bytes (read from `file`), refused if it is another run's. */
  resume?: { bytes: Uint8Array; file: string };
  /** Bitstate hashing: the visited set as 2^bitstate bits (explorer/bitstate.ts); never a pass. */
  bitstate?: number;
  /** Explore schedules with at most this many preemptive context switches, fewest first (./strategies/preemption.ts). */
  preemptions?: number;
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
  stats: SearchStats | LivenessStats | RandomStats;
  trace?: Trace;
  /** The seed of a randomised run (printed in every report, stored in the trace). */
  seed?: number;
  /** A bitstate search's bit array and coverage estimate. */
  bitstate?: BitstateEstimate;
  /** With CheckRequest.coverage: the transitions never taken and states never reached, per thread. */
  coverage?: Coverage;
  /** Present when the request named its reductions (even none). */
  reductions?: ReductionReport;
  /**
   * True when the selection checked no property at all: deadlock off, no invariant, no assertion (off, or no state
   * asserts one), no livelock, starvation or lock order. A pass then says only that the search finished (the state
   * count, e.g. a spec's expect.states, is all it measured). Absent otherwise.
   */
  nothingChecked?: true;
}

/** Fills in defaults and validates parameter values against the model's declared params. */
export function resolveParams(model: ModelDefinition, given: Record<string, unknown> = {}, where = 'params'): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  // A command-line option names the parameter after a space (--param n), a JSON path after a dot ($.params.n).
  const at = (key: string) => (where.startsWith('--') ? `${where} ${key}` : `${where}.${key}`);
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(model.params, key)) {
      const known = Object.keys(model.params);
      throw new InputError(
        `${at(key)}: model ${model.name} has no parameter '${key}' (its parameters: ${known.length ? known.join(', ') : 'none'})`,
      );
    }
  }
  for (const [key, spec] of Object.entries(model.params)) {
    const v = Object.hasOwn(given, key) ? given[key] : spec.default;
    const what = spec.description ? ` (${spec.description})` : '';
    if (typeof v !== typeof spec.default) {
      throw new InputError(`${at(key)}: expected a ${typeof spec.default}${what}, got ${JSON.stringify(v)}`);
    }
    if (typeof v === 'number') {
      if (!Number.isInteger(v) && Number.isInteger(spec.default)) throw new InputError(`${at(key)}: expected an integer, got ${v}`);
      if (spec.min !== undefined && v < spec.min) throw new InputError(`${at(key)}: ${v} is below the minimum ${spec.min}${what}`);
      if (spec.max !== undefined && v > spec.max) throw new InputError(`${at(key)}: ${v} is above the maximum ${spec.max}${what}`);
    }
    if (typeof v === 'string' && spec.choices && !spec.choices.includes(v)) {
      throw new InputError(`${at(key)}: '${v}' is not one of ${spec.choices.join(', ')}`);
    }
    out[key] = v as ParamValue;
  }
  return out;
}

export function resolveVariant(model: ModelDefinition, variant: string | undefined, where = 'variant'): string {
  if (variant === undefined && !Object.hasOwn(model.variants, model.defaultVariant)) {
    // The model's own slip, not the caller's.
    throw new ModelError(
      `model ${model.name}: its defaultVariant '${model.defaultVariant}' is not one of its variants (${Object.keys(model.variants).join(', ')}); fix defaultVariant in the model`,
      { feature: 'defaultVariant' },
    );
  }
  const v = variant ?? model.defaultVariant;
  if (!Object.hasOwn(model.variants, v)) {
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
  for (const [i, name] of sel.entries()) {
    if (!Object.hasOwn(all, name)) {
      throw new InputError(`$.check.invariants[${i}]: model ${model.name} has no invariant '${name}' (its invariants: ${Object.keys(all).join(', ') || 'none'})`);
    }
    out[name] = all[name];
  }
  return out;
}

/**
 * The assertion names a machine's states give in meta.assert (every thread's states, at any depth), read off the
 * XState machine without compiling it: compiling every variant of a model cost a short run a tenth of a second.
 */
function assertNames(machine: AnyStateMachine): Set<string> {
  const out = new Set<string>();
  const walk = (node: { meta?: { assert?: unknown }; states?: Record<string, unknown> }) => {
    const a = node.meta?.assert;
    if (a !== undefined) for (const x of Array.isArray(a) ? a : [a]) if (typeof x === 'string') out.add(x);
    for (const child of Object.values(node.states ?? {})) walk(child as typeof node);
  };
  for (const region of Object.values((machine.root as unknown as { states?: Record<string, unknown> }).states ?? {})) walk(region as never);
  return out;
}

/**
 * The model's declared assertions that no state names in `meta.assert`, in any variant, under `params` or under
 * the defaults: dead declarations, never checked (an assertion named only in some variants, or only under some
 * params the defaults or the run set, is not one). A variant that fails to build makes the answer unknown: none.
 */
export function assertionsNamedNowhere(model: ModelDefinition, params: Record<string, ParamValue>): string[] {
  let left = Object.keys(model.assertions ?? {});
  for (const p of [params, resolveParams(model, {})]) {
    for (const variant of Object.keys(model.variants)) {
      if (left.length === 0) return left;
      let named: Set<string>;
      try {
        named = assertNames(model.create({ params: p, variant }));
      } catch {
        return [];
      }
      left = left.filter((n) => !named.has(n));
    }
  }
  return left;
}

/**
 * A spec's expected violation kind and name, checked against the model and the spec's own selection before any search:
 * a kind or name no run of it can report (a typo, a property the spec does not check) is bad input, not a mismatch.
 * Lock-order names (cycles of lock classes) are only known once found, and are not checked.
 */
export function checkExpectedName(
  model: ModelDefinition,
  params: Record<string, ParamValue>,
  variant: string,
  check: PropertySelection | undefined,
  expect: { kind?: string; name?: string },
): void {
  const { kind, name } = expect;
  // A violation kind the spec does not check is never reported, whatever its name.
  const goals = check?.starvation === undefined ? [] : Array.isArray(check.starvation) ? check.starvation : [check.starvation];
  if (kind === 'deadlock' && check?.deadlock === false) throw new InputError(`$.expect.kind: a deadlock is expected, but $.check.deadlock is false; check it or expect another verdict`);
  if (kind === 'livelock' && !check?.livelock) throw new InputError(`$.expect.kind: a livelock is expected, but $.check.livelock is not on; add "livelock": true to $.check or expect another verdict`);
  if (kind === 'starvation' && goals.length === 0) {
    throw new InputError(`$.expect.kind: a starvation violation is expected, but $.check.starvation names no thread; add { "thread": ..., "goal": ... } there or expect another verdict`);
  }
  if (name === undefined) return;
  const at = '$.expect.name';
  const has = (names: string[]) => names.join(', ') || 'none';
  if (kind === 'invariant') {
    const all = Object.keys(selectInvariants(model, params, variant, true));
    if (!all.includes(name)) throw new InputError(`${at}: model ${model.name} has no invariant '${name}' (its invariants: ${has(all)}); name one of them`);
    const sel = check?.invariants;
    if (sel === false) throw new InputError(`${at}: invariant '${name}' is not checked: $.check.invariants is false; check it or expect another violation`);
    if (Array.isArray(sel) && !sel.includes(name)) throw new InputError(`${at}: invariant '${name}' is not checked: $.check.invariants lists ${sel.join(', ')}; add it there`);
  } else if (kind === 'assertion') {
    const all = Object.keys(model.assertions ?? {});
    if (!all.includes(name)) throw new InputError(`${at}: model ${model.name} has no assertion '${name}' (its assertions: ${has(all)}); name one of them`);
    if (check?.assertions === false) throw new InputError(`${at}: assertion '${name}' is not checked: $.check.assertions is false; check it or expect another violation`);
  } else if (kind === 'deadlock' || kind === 'livelock') {
    if (name !== kind) throw new InputError(`${at}: a ${kind} violation is named '${kind}', not '${name}'; write "${kind}" or leave the name out`);
  } else if (kind === 'starvation') {
    const threads = goals.map((g) => g.thread);
    if (!threads.includes(name)) {
      throw new InputError(`${at}: a starvation violation is named by its starving thread, and $.check.starvation checks ${has(threads)}, not '${name}'; name one of them`);
    }
  }
}

/** The most events a model may have for the searches' 16-bit event indices (explorer/store/fingerprint-set.ts). */
export const MAX_STORED_EVENTS = 0xfffe;

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
  if (req.strategy === 'random' && req.seed === undefined) {
    throw new InputError(`strategy random: needs a seed (--seed N, a whole number), so that the run can be reproduced`);
  }
  if (workers > 1 && (req.strategy ?? 'bfs') !== 'bfs') {
    throw new InputError(`workers: the parallel search is breadth-first; drop --strategy ${req.strategy} or run with one worker`);
  }
  if (workers > 1 && req.coverage) {
    throw new InputError(`coverage: the coverage collector runs on one thread; drop --workers ${workers} (or --coverage)`);
  }
  if (req.nats) checkDistributed(req, workers);
  const sharedStrings = workers > 1 ? SharedStrings.allocate() : undefined;
  const built = instantiate(model, params, variant, sharedStrings ? new SharedStrings(sharedStrings) : req.nats ? new HashStrings() : undefined);
  if (req.eventOrderSeed !== undefined && workers > 1) {
    throw new InputError(`eventOrderSeed: a permuted successor order runs on one thread; drop it or run with one worker`);
  }
  const space = req.eventOrderSeed === undefined ? built : new StateSpace(new PackedSystem(withEventOrder(built.system, req.eventOrderSeed)));
  const check = req.check ?? {};
  const invariants = selectInvariants(model, params, variant, check.invariants);
  const strategy = req.strategy ?? 'bfs';
  const starvation = check.starvation === undefined ? [] : Array.isArray(check.starvation) ? check.starvation : [check.starvation];
  // Every goal is checked against the model now: the safety search runs first and may end the run before liveness does.
  starvation.forEach((s, i) => resolveGoal(space.system, s, Array.isArray(check.starvation) ? `$.check.starvation[${i}]` : '$.check.starvation'));
  const liveness = !!check.livelock || starvation.length > 0;
  const lockOrder = check.lockOrder ? new LockOrderRecorder(space.system, model) : undefined;
  const safety = (check.deadlock ?? true) || (check.assertions ?? true) || Object.keys(invariants).length > 0 || !!lockOrder;
  const assertions = check.assertions ?? true;
  const asserted = assertions && space.system.threads.some((t) => t.asserts.some((names) => names.length > 0));
  const nothingChecked = !(check.deadlock ?? true) && !asserted && Object.keys(invariants).length === 0 && !liveness && !lockOrder;
  if (lockOrder && strategy === 'random') {
    throw new InputError(`check.lockOrder: the lock-order graph is recorded by the exhaustive sequential search, not by random walks; drop --strategy random or --lock-order`);
  }
  // Liveness is a separate strategy (strategies/liveness.ts): the safety search runs first, then, if it
  // passes, the liveness exploration records the edges and looks for fair cycles.
  if (req.bitstate !== undefined) {
    const b = req.bitstate;
    if (!Number.isInteger(b) || b < 10 || b > 32) throw new InputError(`--bitstate ${b}: expected the log2 of the bit array's size, from 10 to 32 (27 = 2^27 bits = 16 MB)`);
    if (strategy === 'random' || workers > 1 || liveness || req.checkpoint || req.resume) {
      throw new InputError(`--bitstate: runs on the one-thread breadth- or depth-first safety search; drop --strategy random, --workers, --checkpoint/--resume or the liveness checks`);
    }
  }
  // The visited sets keep each state's event index in 16 bits (explorer/store/, the liveness graph): a model with more
  // events is refused rather than searched with wrong traces (a bitstate search keeps 32 bits when it must).
  const eventCount = space.system.events.length;
  if (eventCount > MAX_STORED_EVENTS && req.bitstate === undefined) {
    throw new ModelError(
      `model ${model.name} (variant ${variant}) has ${eventCount} distinct events; the searches store an event index in 16 bits, at most ${MAX_STORED_EVENTS} events: ` +
        `give the model fewer events (fewer params' threads or steps), or run it with --bitstate (the safety search, never a pass)`,
      { feature: 'events' },
    );
  }
  if (req.preemptions !== undefined) {
    const k = req.preemptions;
    if (!Number.isInteger(k) || k < 0 || k > 1000) throw new InputError(`--preemptions ${k}: expected a whole number of preemptive context switches from 0 to 1000`);
    if (req.strategy !== undefined && req.strategy !== 'bfs') throw new InputError(`--preemptions: explores schedules fewest preemptions first; drop --strategy ${req.strategy}`);
    if (workers > 1 || liveness || lockOrder || req.bitstate !== undefined || req.checkpoint || req.resume) {
      throw new InputError(`--preemptions: runs the one-thread safety search; drop --workers, --bitstate, --checkpoint/--resume, --lock-order or the liveness checks`);
    }
    if (req.reduce?.length) {
      // The bound counts switches away from the thread that ran last: a renamed (symmetric) state or a
      // pruned (ample-set) successor order would count them on schedules the bound never sees.
      throw new InputError(`--preemptions with --reduce ${req.reduce.join(',')}: the preemption bound runs unreduced; pass --reduce none (a spec's "reduce" too) or drop --preemptions`);
    }
  }
  let checkpointOptions = {};
  if (req.checkpoint || req.resume) {
    const what = req.checkpoint ? '--checkpoint' : '--resume';
    if (strategy !== 'bfs') throw new InputError(`${what}: checkpoints are taken of the breadth-first search; drop --strategy ${strategy}`);
    if (liveness) throw new InputError(`${what}: checkpoints cover the safety search; livelock and starvation checks cannot be checkpointed yet: drop ${what} for this spec`);
    if (lockOrder) throw new InputError(`${what}: the lock-order graph is not saved in checkpoints yet; drop --lock-order or ${what}`);
    if (req.coverage) throw new InputError(`${what}: coverage is not saved in checkpoints; drop --coverage or ${what}`);
    const identity = {
      tool: TOOL_VERSION,
      model: model.name,
      variant,
      params,
      options: {
        strategy,
        workers,
        deadlock: check.deadlock ?? true,
        assertions,
        invariants: Object.keys(invariants).sort(),
        stopAtFirst: req.stopAtFirst ?? true,
        maxStates: req.maxStates,
        maxDepth: req.maxDepth,
        // Reductions change the states stored (representatives, pruned successors): another set is another search.
        reduce: [...(req.reduce ?? [])].sort(),
        ...(req.eventOrderSeed !== undefined ? { eventOrderSeed: req.eventOrderSeed } : {}),
      },
      // The model as compiled: an edited model keeps its name, variant and params.
      tables: modelHash(space),
    };
    const every = req.checkpoint?.everySeconds ?? DEFAULT_CHECKPOINT_SECONDS;
    if (!(every > 0)) throw new InputError(`--checkpoint-every ${every}: expected a positive number of seconds`);
    checkpointOptions = {
      ...(req.checkpoint ? { checkpoint: { everySeconds: every, identity, write: req.checkpoint.write } } : {}),
      ...(req.resume ? { resume: { ...req.resume, identity } } : {}),
    };
  }
  const coverage = req.coverage ? createCoverage(space.system) : undefined;
  // The one per-transition hook (space/index.ts TransitionHook): coverage in every strategy, the lock order
  // in the sequential safety search.
  const onCoverage: TransitionHook | undefined = coverage ? () => coverage.onTransition(space.taken) : undefined;
  const onLockOrder: TransitionHook | undefined = lockOrder ? (id, e, pathTo) => lockOrder.onStep(id, e, space.expanding, pathTo) : undefined;
  const bothHooks: TransitionHook | undefined =
    onCoverage && onLockOrder ? (id, e, pathTo) => (onCoverage(id, e, pathTo), onLockOrder(id, e, pathTo)) : (onCoverage ?? onLockOrder);
  const base = {
    space,
    bounds: { maxStates: req.maxStates, maxDepth: req.maxDepth, timeoutSeconds: req.timeoutSeconds },
    onProgress: req.onProgress,
    ...(onCoverage ? { onTransition: onCoverage } : {}),
  };
  let walked: RandomOutcome | undefined;
  let bounded: PreemptionOutcome | undefined;
  const reduce = req.reduce ?? [];
  const report: ReductionReport = { requested: [...reduce], ran: [], notes: [] };
  const runSafety = (): Outcome<SearchStats | RandomStats> => {
    // The lock-order check and coverage record every transition: they run unreduced (a pruned interleaving
    // can hold an acquisition order, or take a transition, no other one shows).
    const unreduced = lockOrder ? 'the lock-order check' : coverage ? 'coverage' : null;
    const plan = planReductions(space, { model, options: { params, variant }, reduce: unreduced ? [] : reduce, invariants: Object.keys(invariants), assertions }).apply();
    if (unreduced && reduce.length) report.notes.push(`${unreduced} ran unreduced (${reduce.join(', ')} not applied)`);
    report.ran = plan.ran;
    report.notes.push(...plan.notes);
    const task: SafetyTask = {
      ...base,
      checker: stateChecker(space.system, { assertions, invariants, assertionPredicates: model.assertions ?? {} }, space.packed),
      deadlock: check.deadlock ?? true,
      stopAtFirst: req.stopAtFirst ?? true,
      ...checkpointOptions,
      ...(req.bitstate !== undefined ? { bitstate: req.bitstate } : {}),
    };
    if (strategy === 'random') return (walked = random.run({ ...task, seed: req.seed!, walks: req.walks }));
    if (req.preemptions !== undefined) return (bounded = preemptionBound.run({ ...task, preemptions: req.preemptions }));
    // The lock-order check records every transition: it runs in the sequential search.
    if (lockOrder) return withLockOrder(STRATEGIES[strategy].run({ ...task, ...(bothHooks ? { onTransition: bothHooks } : {}) }), lockOrder);
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
  let outcome: Outcome<SearchStats | LivenessStats | RandomStats>;
  // Random walks check the safety properties only; a liveness selection leaves the run incomplete.
  if (!liveness || strategy === 'random') outcome = runSafety();
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
          options: {
            strategy: outcome.loopStart !== undefined ? 'bfs' : strategy,
            ...liveOptions,
            ...(walked?.status === 'violation' ? { seed: req.seed, walk: walked.walk, maxDepth: req.maxDepth ?? DEFAULT_WALK_DEPTH } : {}),
            ...(req.eventOrderSeed !== undefined ? { eventOrderSeed: req.eventOrderSeed } : {}),
            ...(bounded ? { preemptions: req.preemptions, preemptionsUsed: bounded.preemptionsUsed } : {}),
          },
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
        message: walked
          ? `random walks (seed ${req.seed}): ${walked.stats.walks} walks of at most ${req.maxDepth ?? DEFAULT_WALK_DEPTH} steps saw ` +
            `${walked.stats.states} distinct states, stopped by ${outcome.bound.name} = ${outcome.bound.limit}; a random search never proves ` +
            `absence${liveness ? ' (and random walks do not check livelock or starvation)' : ''}`
          : outcome.bound.name === 'lostWorker'
            ? `worker ${outcome.bound.worker} (partition ${outcome.bound.limit}) was lost: ${outcome.bound.why}; its part of the state space is gone, so the search is incomplete`
            : `search cut by ${outcome.bound.name} = ${outcome.bound.limit} before the whole state space was explored`,
        bound: outcome.bound,
      };
      break;
    default:
      return unreachable(outcome);
  }
  if (bounded && verdict.status === 'incomplete' && verdict.bound.name === 'preemptions') {
    verdict.message = `no violation in schedules with at most ${req.preemptions} preemptive context switches (${outcome.stats.states} states with the thread that ran last); schedules needing more were not explored`;
  }
  if (bounded?.preemptionsUsed !== undefined && verdict.status === 'violation') {
    verdict.message += ` (${bounded.preemptionsUsed} preemptive context switch${bounded.preemptionsUsed === 1 ? '' : 'es'})`;
  }
  const bits = 'bitstate' in outcome.stats ? (outcome.stats.bitstate as BitstateEstimate) : undefined;
  if (bits && verdict.status === 'incomplete' && verdict.bound.name === 'bitstate') {
    verdict.message =
      `bitstate search: ${bits.states} states in 2^${Math.log2(bits.bits)} bits with ${bits.hashes} hashes: hash factor ${bits.hashFactor.toFixed(0)}, ` +
      `${(bits.fill * 100).toFixed(2)}% of the bits set, expected coverage ${(bits.coverage * 100).toFixed(4)}%; states whose bits collided were ` +
      `skipped, so no violation here is not a proof`;
  }
  if (trace && walked) trace.seed = req.seed;
  space.reduction = null;
  const result: CheckResult = {
    model: model.name,
    variant,
    params,
    verdict,
    stats: outcome.stats,
    trace,
    ...(walked ? { seed: req.seed } : {}),
    ...(bits ? { bitstate: bits } : {}),
    ...(req.reduce !== undefined ? { reductions: report } : {}),
    ...(nothingChecked ? { nothingChecked: true as const } : {}),
  };
  if (coverage) {
    // Complete only when the whole reachable space was explored: a pass, or a violation found by a search
    // that went on to the end (stopAtFirst false, nothing cut). Liveness explores everything before it
    // analyses, so its violations (lassos) count as complete too when no bound cut it.
    // Random walks, bitstate and preemption-bounded searches never explore everything.
    const partial = walked !== undefined || bounded !== undefined || req.bitstate !== undefined;
    const exhausted =
      !partial && (outcome.status === 'pass' || (outcome.status === 'violation' && !outcome.bound && (outcome.loopStart !== undefined || req.stopAtFirst === false)));
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
  const unsupported: Array<[unknown, string]> = [
    [req.checkpoint, '--checkpoint'],
    [req.resume, '--resume'],
    [req.bitstate, '--bitstate'],
    [req.preemptions, '--preemptions'],
    [req.eventOrderSeed, 'a permuted successor order'],
  ];
  for (const [given, what] of unsupported) {
    if (given !== undefined) throw new InputError(`nats: ${what} is not supported by the distributed search; drop it or --nats`);
  }
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
  const first = f.edges[0];
  const what =
    f.kind === 'recursive'
      ? 'possible recursive locking'
      : f.kind === 'circular'
        ? 'possible circular locking dependency'
        : f.mightSleep
          ? `sleeping function called from invalid context (${first.thread} may sleep in a call on ${first.to} while holding ${first.from})`
          : `invalid wait context (${first.thread} takes ${first.to}, which may sleep, while holding ${first.from})`;
  return {
    status: 'violation',
    violation: { kind: 'lock-order', name, message: `${what}: ${name}`, thread: first.thread, depth: first.path.length },
    path: first.path,
    ...(o.status === 'incomplete' ? { bound: o.bound } : {}),
    stats: o.stats,
  };
}

function lockOrderReport(events: string[], f: LockOrderFinding): LockOrderReport {
  return { kind: f.kind, ...(f.mightSleep ? { mightSleep: true as const } : {}), edges: f.edges.map(({ path, ...x }) => ({ ...x, events: path.map((e) => events[e]) })) };
}

export type { Trace } from './trace.ts';
export type { ModelDefinition } from './model.ts';
