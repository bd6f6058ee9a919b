// `interleave check`: load specs (or models given without a spec), run each, compare the outcome with the
// expectation. A chain of typed stages with errors as values: load spec -> build model -> explore -> compare.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError, ModelError, ModelRuntimeError, thrownMessage } from '../explorer/errors.ts';
import type { DistributedOptions } from '../explorer/strategies/distributed.ts';
import { assertionsNamedNowhere, checkExpectedName, checkModel, instantiate, resolveParams, resolveVariant, selectInvariants, type CheckResult } from '../explorer/index.ts';
import type { CrossCheckResult } from '../explorer/crosscheck.ts';
import type { Fairness } from '../explorer/properties/liveness.ts';
import type { ModelDefinition, ParamValue } from '../explorer/model.ts';
import type { Progress } from '../explorer/outcome.ts';
import type { SearchStrategyName } from '../explorer/strategies/index.ts';
import type { ReductionName } from '../explorer/reduce/index.ts';
import { writeFileAtomic } from './files.ts';
import { loadModel, modelPathFrom } from './models.ts';
import { loadSpec, type Spec } from './spec.ts';
import type { Target } from './targets.ts';

export interface CheckOptions {
  strategy?: SearchStrategyName;
  /** Seed of the random walks (overrides the spec's). */
  seed?: number;
  /** Random walks: stop after this many (overrides the spec's bounds.walks). */
  walks?: number;
  /** Save the breadth-first search to this file every `everySeconds` (one spec only). */
  checkpoint?: { file: string; everySeconds?: number };
  /** Continue the search saved in this checkpoint file. */
  resume?: string;
  /** Bitstate hashing with 2^bitstate bits. */
  bitstate?: number;
  /** At most this many preemptive context switches per schedule. */
  preemptions?: number;
  maxStates?: number;
  maxDepth?: number;
  timeoutSeconds?: number;
  /** Threads for the breadth-first safety search (explorer/parallel/). */
  workers?: number;
  /** --nats URL --peers N: the breadth-first safety search over N worker processes (explorer/distributed/). */
  nats?: DistributedOptions;
  /** Reductions (--reduce); override the spec's `reduce`. */
  reduce?: ReductionName[];
  /** --check-footprints: check the model's footprint and symmetry declarations first (explorer/reduce/check.ts). */
  checkFootprints?: boolean;
  /** Fairness for livelock/starvation checks; overrides the spec's check.fairness. */
  fairness?: Fairness;
  /** Turn on the lock-order check for every spec (--lock-order). */
  lockOrder?: boolean;
  /** --variant and --param: override a spec's, or pick a model's. */
  variant?: string;
  params?: Record<string, ParamValue>;
  /** Also compare the compiled engine with XState's transition() on every reachable state. */
  crossCheck?: boolean;
  /** Directory for counterexample traces (default counterexamples/ under the working directory). */
  outDir: string;
  save: boolean;
  /** Record coverage (transitions never taken, states never reached) in each result. */
  coverage?: boolean;
  onProgress?: (spec: string, p: Progress, strategy: SearchStrategyName) => void;
}

export interface SpecOutcome {
  /** The spec file, relative to the working directory; for a model checked without a spec, the model as given. */
  spec: string;
  name: string;
  /** Set when the spec could not be run (bad spec, bad model): exit 2. */
  error?: { kind: 'input' | 'model' | 'internal'; message: string };
  result?: CheckResult;
  expected?: Spec['expect'];
  /** True when no spec gave the expectation (a model checked on its own: expected to pass). */
  implicitExpectation?: boolean;
  /** What --variant/--param changed from the spec's values. */
  overrides?: { variant?: { spec: string | null; run: string }; params?: Record<string, { spec: ParamValue | null; run: ParamValue }> };
  crossCheck?: CrossCheckResult;
  matched: boolean;
  /** Why it did not match. */
  mismatch?: string;
  counterexample?: string;
  /** The model's module, absolute, when it was loaded by path (not bundled): for the viewer's statecharts. */
  modelFile?: string;
  /** The HTML viewer written by --html DIR. */
  html?: string;
  /** What the run should say on stderr, once per run (the same text from several specs is said once). */
  warnings?: string[];
}

export function specName(file: string): string {
  return basename(file).replace(/\.json$/, '');
}

/** The steps of the counterexample, or for a run without one the steps to the deepest state explored. */
export function depthOf(r: CheckResult): number {
  return r.trace ? r.trace.steps.length : r.stats.depth;
}

function compare(expect: Spec['expect'], r: CheckResult, pin: { states: boolean; depth: boolean } = { states: true, depth: true }): string | undefined {
  const v = r.verdict;
  if (v.status !== expect.status) {
    const got = v.status === 'violation' ? `violation (${v.kind}${v.name && v.name !== v.kind ? ` ${v.name}` : ''})` : v.status;
    return `expected ${expect.status}, got ${got}`;
  }
  if (expect.status === 'violation') {
    if (expect.kind && expect.kind !== v.kind) return `expected a ${expect.kind} violation, got ${v.kind} (${v.name})`;
    if (expect.name && expect.name !== v.name) return `expected ${expect.kind} ${expect.name}, got ${v.kind} ${v.name}`;
  }
  // States and depth are pinned for the spec's own search (pinsOf): another one compares the verdict only.
  if (pin.states && expect.states !== undefined && expect.states !== r.stats.states) return `expected ${expect.states} states, explored ${r.stats.states}`;
  if (pin.depth && expect.depth !== undefined) {
    const depth = depthOf(r);
    const what = r.trace ? 'a counterexample of' : 'the deepest state at';
    if (expect.depth !== depth) return `expected depth ${expect.depth} (steps), got ${what} ${depth} steps`;
  }
  return undefined;
}

/**
 * Which of a spec's pinned counts a run can be held to. They are its own search's: other reductions, another strategy
 * or seed, a preemption bound (states are (state, last thread) pairs), a bitstate store, or a bound of its own that
 * cut the search (or a random walk's depth) count otherwise, so the verdict alone is compared; --workers stopping at its first violation may store other states than one thread (the
 * counterexample's length is the same).
 */
function pinsOf(spec: Spec, o: CheckOptions, r: CheckResult): { states: boolean; depth: boolean } {
  const sorted = (l: readonly string[]) => [...l].sort().join();
  const own =
    (o.reduce === undefined || sorted(o.reduce) === sorted(spec.reduce ?? [])) &&
    (o.strategy === undefined || o.strategy === (spec.strategy ?? 'bfs')) &&
    (o.seed === undefined || o.seed === spec.seed) &&
    o.preemptions === undefined &&
    o.bitstate === undefined;
  const stoppedEarly = (o.workers ?? 1) > 1 && r.verdict.status === 'violation' && spec.check?.stopAtFirst !== false;
  // A bound other than the spec's (--walks, --max-states, --max-depth, --timeout) changes the search where it cut it
  // (an incomplete verdict, or a violation that stands in the part built before the bound: a liveness search builds the
  // graph first, so a lasso found in a cut graph counts fewer states); a random walk's depth bound changes every walk.
  // Otherwise the search is the spec's own.
  const rebound = (k: 'walks' | 'maxStates' | 'maxDepth' | 'timeoutSeconds') => o[k] !== undefined && o[k] !== spec.bounds?.[k];
  const cut = r.verdict.status === 'incomplete' || (r.verdict.status === 'violation' && r.verdict.bound !== undefined);
  const cutElsewhere = cut && (rebound('walks') || rebound('maxStates') || rebound('maxDepth') || rebound('timeoutSeconds'));
  const walksElsewhere = (o.strategy ?? spec.strategy) === 'random' && rebound('maxDepth');
  const ownBounds = !cutElsewhere && !walksElsewhere;
  return { states: own && ownBounds && !stoppedEarly, depth: own && ownBounds };
}

/** What the run should be told: the spec's values with the command line's on top, and what changed. */
function mergeOverrides(spec: Pick<Spec, 'variant' | 'params'>, o: CheckOptions): { variant?: string; overrides?: SpecOutcome['overrides'] } {
  const overrides: NonNullable<SpecOutcome['overrides']> = {};
  if (o.variant !== undefined && o.variant !== spec.variant) overrides.variant = { spec: spec.variant ?? null, run: o.variant };
  for (const [k, v] of Object.entries(o.params ?? {})) {
    if (spec.params?.[k] !== v) (overrides.params ??= {})[k] = { spec: spec.params?.[k] ?? null, run: v };
  }
  return {
    variant: o.variant ?? spec.variant,
    overrides: overrides.variant || overrides.params ? overrides : undefined,
  };
}

/** `file`: the target's path as given, which a message may begin with instead of base.spec (the path relative to here). */
function errorOutcome(base: Pick<SpecOutcome, 'spec' | 'name' | 'implicitExpectation'>, e: unknown, label: string, file?: string): SpecOutcome {
  if (e instanceof InputError) {
    const given = file !== undefined && e.message.startsWith(`${file}:`) ? `${base.spec}${e.message.slice(file.length)}` : e.message;
    const msg = given.startsWith(base.spec) ? given : `${base.spec}: ${given}`;
    return { ...base, error: { kind: 'input', message: msg }, matched: false };
  }
  if (e instanceof ModelError || e instanceof ModelRuntimeError) {
    return { ...base, error: { kind: 'model', message: `${base.spec}: model ${label}: ${e.message}` }, matched: false };
  }
  return { ...base, error: { kind: 'internal', message: `${base.spec}: internal error: ${(e as Error)?.stack ?? thrownMessage(e)}` }, matched: false };
}

/** Writes a checkpoint; a path that cannot be written (checked before the run, but the disk can fill) is bad input naming it. */
function saveCheckpoint(file: string, bytes: Uint8Array): void {
  try {
    writeFileAtomic(file, bytes);
  } catch (e) {
    throw new InputError(`option --checkpoint ${file}: cannot write it (${(e as NodeJS.ErrnoException).code ?? thrownMessage(e)}); give a file path in a directory you can write to`);
  }
}

/** assertionsNamedNowhere, once per model and params in a run of many specs. */
const deadCache = new WeakMap<ModelDefinition, Map<string, string[]>>();
function deadAssertions(def: ModelDefinition, params: Record<string, ParamValue>): string[] {
  if (!def.assertions || Object.keys(def.assertions).length === 0) return [];
  let byParams = deadCache.get(def);
  if (!byParams) deadCache.set(def, (byParams = new Map()));
  const key = JSON.stringify(params);
  let dead = byParams.get(key);
  if (!dead) byParams.set(key, (dead = assertionsNamedNowhere(def, params)));
  return dead;
}

/** Runs one target: a spec file, or a model checked without a spec. */
export async function runTarget(target: Target, o: CheckOptions): Promise<SpecOutcome> {
  const base = { spec: target.label, name: target.name, ...(target.kind === 'model' ? { implicitExpectation: true } : {}) };
  let spec: Spec;
  let baseDir: string;
  let where: { model: string; variant: string; params: string };
  let implicit = false;
  if (target.kind === 'spec') {
    try {
      spec = loadSpec(target.file);
    } catch (e) {
      return errorOutcome(base, e, '', target.file);
    }
    baseDir = dirname(resolve(target.file));
    where = { model: `${target.label}: $.model`, variant: `${target.label}: $.variant`, params: `${target.label}: $.params` };
  } else {
    // Deadlock, assertions and every invariant; a clean model passes.
    spec = { model: target.model, expect: { status: 'pass' } };
    baseDir = process.cwd();
    where = { model: target.label, variant: '--variant', params: '--param' };
    implicit = true;
  }
  try {
    const { def, path: modelPath, bundled } = await loadModel(spec.model, baseDir, where.model);
    // The spec's values are checked against the model, then the command line's, each error blamed on its source.
    const params = overlayParams(def, spec.params ?? {}, where.params, o.params ?? {});
    if (spec.variant !== undefined) resolveVariant(def, spec.variant, where.variant);
    const run = mergeOverrides(spec, o);
    const variant = resolveVariant(def, run.variant, o.variant !== undefined ? '--variant' : where.variant);
    checkExpectedName(def, params, variant, spec.check, spec.expect);
    if ((o.workers ?? 1) > 1 && !o.strategy && spec.strategy === 'dfs') {
      throw new InputError(`option --workers ${o.workers}: the spec asks for "strategy": "dfs" ($.strategy) and the parallel search is breadth-first; drop --workers for this spec, or pass --strategy bfs`);
    }
    if ((o.workers ?? 1) > 1 && !o.strategy && spec.strategy === 'random') {
      throw new InputError(
        `option --workers ${o.workers}: the spec asks for "strategy": "random" ($.strategy): random walks run on one thread and the parallel search is breadth-first; drop --workers for this spec`,
      );
    }
    const strategy = o.strategy ?? spec.strategy ?? 'bfs';
    // (On a spec that is not random walks, --seed and --walks may be meant for the others of a folder of specs.)
    const walkOption = o.seed !== undefined ? '--seed' : o.walks !== undefined ? '--walks' : undefined;
    if (walkOption && target.kind === 'model' && strategy !== 'random') {
      throw new InputError(`option ${walkOption}: the seed and the walks are for random walks, and ${target.label} runs ${strategy}; drop ${walkOption} or add --strategy random`);
    }
    let resume: { bytes: Uint8Array; file: string } | undefined;
    if (o.resume) {
      try {
        resume = { bytes: readFileSync(o.resume), file: o.resume };
      } catch (e) {
        throw new InputError(`--resume ${o.resume}: cannot read the checkpoint: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; give the file --checkpoint wrote`);
      }
    }
    const checkpointFile = o.checkpoint?.file;
    let cross: CrossCheckResult | undefined;
    // (Their modules are loaded by the runs that ask for them: start-up is most of a small check.)
    if (o.crossCheck) {
      const { crossCheck } = await import('../explorer/crosscheck.ts');
      cross = crossCheck(instantiate(def, params, variant).system.machine);
    }
    if (o.checkFootprints) {
      const { checkFootprints } = await import('../explorer/reduce/check.ts');
      checkFootprints(instantiate(def, params, variant).packed, {
        model: def,
        options: { params, variant },
        invariants: selectInvariants(def, params, variant, spec.check?.invariants),
        assertions: def.assertions,
        maxStates: o.maxStates ?? 20000,
      });
    }
    const result = checkModel({
      model: def,
      params,
      variant,
      check: { ...spec.check, ...(o.fairness ? { fairness: o.fairness } : {}), ...(o.lockOrder ? { lockOrder: true } : {}) },
      strategy,
      seed: o.seed ?? spec.seed,
      walks: o.walks ?? spec.bounds?.walks,
      ...(checkpointFile ? { checkpoint: { everySeconds: o.checkpoint!.everySeconds, write: (bytes: Uint8Array) => saveCheckpoint(checkpointFile, bytes) } } : {}),
      ...(resume ? { resume } : {}),
      bitstate: o.bitstate,
      preemptions: o.preemptions,
      maxStates: o.maxStates ?? spec.bounds?.maxStates,
      maxDepth: o.maxDepth ?? spec.bounds?.maxDepth,
      timeoutSeconds: o.timeoutSeconds ?? spec.bounds?.timeoutSeconds,
      stopAtFirst: spec.check?.stopAtFirst,
      workers: o.workers,
      reduce: o.reduce ?? spec.reduce,
      modelPath,
      ...(o.nats ? { nats: { ...o.nats, model: { path: modelPath, ...(bundled ? { bundled: spec.model } : {}) } } } : {}),
      coverage: o.coverage,
      onProgress: o.onProgress ? (p) => o.onProgress!(target.label, p, strategy) : undefined,
      spec: target.kind === 'spec' ? target.label : undefined,
    });
    const warnings: string[] = [];
    if (spec.check?.assertions ?? true) {
      for (const name of deadAssertions(def, params)) {
        warnings.push(
          `model ${def.name}: assertion '${name}' is declared but no state of any variant names it (meta.assert), so it is never checked; name it in the state where it must hold, or remove it`,
        );
      }
    }
    let mismatch = compare(spec.expect, result, pinsOf(spec, o, result));
    if (!mismatch && cross && cross.status !== 'agree') {
      mismatch = cross.status === 'cut'
        ? `cross-check cut: more than ${cross.limit} states; cross-check a smaller instance (--param)`
        : `cross-check: the engine and XState's transition() differ at ${cross.difference!.state}`;
    }
    let counterexample: string | undefined;
    if (result.trace && o.save) {
      mkdirSync(o.outDir, { recursive: true });
      const out = join(o.outDir, `${target.name}.json`);
      // A model loaded by path: the trace says where it is, relative to the trace, so replay works from anywhere.
      const trace = bundled || !modelPath ? result.trace : { ...result.trace, modelPath: modelPathFrom(out, modelPath) };
      writeFileSync(out, JSON.stringify(trace, null, 2) + '\n');
      counterexample = relative(process.cwd(), out) || out;
    }
    return {
      ...base,
      result,
      expected: spec.expect,
      ...(implicit ? { implicitExpectation: true } : {}),
      ...(run.overrides && target.kind === 'spec' ? { overrides: run.overrides } : {}),
      ...(cross ? { crossCheck: cross } : {}),
      matched: mismatch === undefined,
      mismatch,
      counterexample,
      ...(!bundled && modelPath ? { modelFile: resolve(modelPath) } : {}),
      ...(warnings.length ? { warnings } : {}),
    };
  } catch (e) {
    return errorOutcome(base, e, spec.model);
  }
}

/**
 * The params of a run: `base` (a spec's or a trace's, errors blamed on `baseWhere`) with the command line's
 * --param values on top (errors blamed on the option), defaults filled in.
 */
export function overlayParams(def: ModelDefinition, base: Record<string, unknown>, baseWhere: string, given: Record<string, ParamValue>): Record<string, ParamValue> {
  const fromBase = resolveParams(def, base, baseWhere);
  if (Object.keys(given).length === 0) return fromBase;
  resolveParams(def, given, '--param');
  return resolveParams(def, { ...base, ...given }, '--param');
}

/** Runs one spec file. */
export function runSpec(file: string, o: CheckOptions): Promise<SpecOutcome> {
  const label = relative(process.cwd(), resolve(file)) || file;
  return runTarget({ kind: 'spec', file, label, name: specName(file) }, o);
}
