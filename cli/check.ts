// `interleave check`: load specs, run each, compare the outcome with the spec's expectation.
// A chain of typed stages with errors as values: load spec -> build model -> explore -> compare.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError, ModelError, ModelRuntimeError } from '../explorer/errors.ts';
import { checkModel, type CheckResult } from '../explorer/index.ts';
import type { Progress } from '../explorer/outcome.ts';
import type { Fairness } from '../explorer/properties/liveness.ts';
import type { SearchStrategyName } from '../explorer/strategies/index.ts';
import { writeFileAtomic } from './files.ts';
import { loadModel } from './models.ts';
import { loadSpec, type Spec } from './spec.ts';

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
  /** Fairness for livelock/starvation checks; overrides the spec's check.fairness. */
  fairness?: Fairness;
  /** Turn on the lock-order check for every spec (--lock-order). */
  lockOrder?: boolean;
  /** Directory for counterexample traces (default counterexamples/ under the working directory). */
  outDir: string;
  save: boolean;
  onProgress?: (spec: string, p: Progress, strategy: SearchStrategyName) => void;
}

export interface SpecOutcome {
  spec: string;
  name: string;
  /** Set when the spec could not be run (bad spec, bad model): exit 2. */
  error?: { kind: 'input' | 'model' | 'internal'; message: string };
  result?: CheckResult;
  expected?: Spec['expect'];
  matched: boolean;
  /** Why it did not match. */
  mismatch?: string;
  counterexample?: string;
}

/** Spec files named by the arguments: files as given, directories' *.json (not recursive), sorted. */
export function collectSpecFiles(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!existsSync(a)) throw new InputError(`${a}: no such spec file or directory`);
    if (statSync(a).isDirectory()) {
      const files = readdirSync(a)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(a, f));
      if (files.length === 0) throw new InputError(`${a}: the directory has no *.json spec files`);
      out.push(...files);
    } else out.push(a);
  }
  return out;
}

export function specName(file: string): string {
  return basename(file).replace(/\.json$/, '');
}

function compare(expect: Spec['expect'], r: CheckResult): string | undefined {
  const v = r.verdict;
  if (v.status !== expect.status) {
    const got = v.status === 'violation' ? `violation (${v.kind}${v.name && v.name !== v.kind ? ` ${v.name}` : ''})` : v.status;
    return `expected ${expect.status}, got ${got}`;
  }
  if (expect.status === 'violation') {
    if (expect.kind && expect.kind !== v.kind) return `expected a ${expect.kind} violation, got ${v.kind} (${v.name})`;
    if (expect.name && expect.name !== v.name) return `expected ${expect.kind} ${expect.name}, got ${v.kind} ${v.name}`;
  }
  if (expect.states !== undefined && expect.states !== r.stats.states) return `expected ${expect.states} states, explored ${r.stats.states}`;
  if (expect.depth !== undefined) {
    const depth = r.trace ? r.trace.steps.length : r.stats.depth;
    if (expect.depth !== depth) return `expected depth ${expect.depth}, got ${depth}`;
  }
  return undefined;
}

export async function runSpec(file: string, o: CheckOptions): Promise<SpecOutcome> {
  const name = specName(file);
  const rel = relative(process.cwd(), resolve(file)) || file;
  let spec: Spec;
  try {
    spec = loadSpec(file);
  } catch (e) {
    return { spec: rel, name, error: { kind: 'input', message: (e as Error).message }, matched: false };
  }
  try {
    const { def, path: modelPath } = await loadModel(spec.model, dirname(resolve(file)), `${rel}: $.model`);
    const strategy = o.strategy ?? spec.strategy ?? 'bfs';
    let resume: { bytes: Uint8Array; file: string } | undefined;
    if (o.resume) {
      try {
        resume = { bytes: readFileSync(o.resume), file: o.resume };
      } catch (e) {
        throw new InputError(`--resume ${o.resume}: cannot read the checkpoint: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; give the file --checkpoint wrote`);
      }
    }
    const checkpointFile = o.checkpoint?.file;
    const result = checkModel({
      model: def,
      params: spec.params,
      variant: spec.variant,
      check: { ...spec.check, ...(o.fairness ? { fairness: o.fairness } : {}), ...(o.lockOrder ? { lockOrder: true } : {}) },
      strategy,
      seed: o.seed ?? spec.seed,
      walks: o.walks ?? spec.bounds?.walks,
      ...(checkpointFile ? { checkpoint: { everySeconds: o.checkpoint!.everySeconds, write: (bytes: Uint8Array) => writeFileAtomic(checkpointFile, bytes) } } : {}),
      ...(resume ? { resume } : {}),
      bitstate: o.bitstate,
      preemptions: o.preemptions,
      maxStates: o.maxStates ?? spec.bounds?.maxStates,
      maxDepth: o.maxDepth ?? spec.bounds?.maxDepth,
      timeoutSeconds: o.timeoutSeconds ?? spec.bounds?.timeoutSeconds,
      stopAtFirst: spec.check?.stopAtFirst,
      workers: o.workers,
      modelPath,
      onProgress: o.onProgress ? (p) => o.onProgress!(rel, p, strategy) : undefined,
      spec: rel,
    });
    const mismatch = compare(spec.expect, result);
    let counterexample: string | undefined;
    if (result.trace && o.save) {
      mkdirSync(o.outDir, { recursive: true });
      const out = join(o.outDir, `${name}.json`);
      writeFileSync(out, JSON.stringify(result.trace, null, 2) + '\n');
      counterexample = relative(process.cwd(), out) || out;
    }
    return { spec: rel, name, result, expected: spec.expect, matched: mismatch === undefined, mismatch, counterexample };
  } catch (e) {
    if (e instanceof InputError) {
      const msg = e.message.startsWith(rel) ? e.message : `${rel}: ${e.message}`;
      return { spec: rel, name, error: { kind: 'input', message: msg }, matched: false };
    }
    if (e instanceof ModelError || e instanceof ModelRuntimeError) {
      return { spec: rel, name, error: { kind: 'model', message: `${rel}: model ${spec.model}: ${e.message}` }, matched: false };
    }
    return { spec: rel, name, error: { kind: 'internal', message: `${rel}: internal error: ${(e as Error)?.stack ?? e}` }, matched: false };
  }
}
