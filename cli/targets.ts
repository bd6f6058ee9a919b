// What `check` is asked to run (spec files, the specs in a directory, models without a spec), and where its
// outputs go: checked before anything runs, so bad input loses nothing and no trace lands on a spec.
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { CHECKPOINT_MAGIC } from '../explorer/checkpoint.ts';
import { InputError } from '../explorer/errors.ts';
import type { ParamValue } from '../explorer/model.ts';
import { bundledModelNames, looksLikePath } from './models.ts';
import { specName } from './check.ts';
import { loadSpec } from './spec.ts';

export type Target =
  | { kind: 'spec'; file: string; label: string; name: string }
  | { kind: 'model'; model: string; label: string; name: string };

/**
 * Whether a JSON file is a spec, by its content: an object with a "model" or an "expect" field, not a
 * counterexample trace. Text that does not parse counts as a spec if it mentions either field (a broken
 * spec is reported, not skipped).
 */
export function looksLikeSpec(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return true; // unreadable: loading it reports why
  }
  try {
    const data = JSON.parse(text);
    if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
    if (data.format === 'interleave-trace') return false;
    return 'model' in data || 'expect' in data;
  } catch {
    return /"(model|expect)"\s*:/.test(text) && !/"format"\s*:\s*"interleave-trace"/.test(text);
  }
}

/** The specs among a directory's *.json files (not recursive), sorted. */
export function specsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile() && looksLikeSpec(f));
}

const MODEL_EXT = new Set(['.ts', '.mts', '.js', '.mjs']);

function modelTraceName(model: string, variant: string | undefined, params: Record<string, ParamValue>): string {
  const base = looksLikePath(model) ? basename(model, extname(model)) : model;
  const ps = Object.entries(params).map(([k, v]) => `-${k}${v}`).join('');
  return `${base}${variant ? `-${variant}` : ''}${ps}`.replace(/[^A-Za-z0-9._=-]/g, '_');
}

/** Resolves check's arguments into targets; anything that is neither a spec, a directory nor a model is an error. */
export function collectTargets(args: string[], o: { variant?: string; params: Record<string, ParamValue> }): Target[] {
  const out: Target[] = [];
  const label = (f: string) => relative(process.cwd(), resolve(f)) || f;
  const given = args.length ? args : ['specs'];
  for (const a of given) {
    if (existsSync(a) && statSync(a).isDirectory()) {
      const files = specsIn(a);
      if (files.length === 0) throw new InputError(`${a}: the directory has no spec files (*.json with "model" and "expect"); give a spec, a directory of specs or a model`);
      for (const f of files) out.push({ kind: 'spec', file: f, label: label(f), name: specName(f) });
    } else if (existsSync(a) && a.endsWith('.json')) {
      out.push({ kind: 'spec', file: a, label: label(a), name: specName(a) });
    } else if (existsSync(a) && MODEL_EXT.has(extname(a))) {
      out.push({ kind: 'model', model: resolve(a), label: label(a), name: modelTraceName(a, o.variant, o.params) });
    } else if (!looksLikePath(a) && bundledModelNames().includes(a)) {
      out.push({ kind: 'model', model: a, label: a, name: modelTraceName(a, o.variant, o.params) });
    } else if (existsSync(a)) {
      throw new InputError(`${a}: neither a spec (*.json) nor a model module (${[...MODEL_EXT].join(', ')}); give a spec, a directory of specs, a model module or a bundled model`);
    } else if (!args.length) {
      throw new InputError(`no specs/ directory here (${process.cwd()}); give a spec, a directory of specs or a model: interleave check MODEL|SPEC|DIR`);
    } else {
      const models = bundledModelNames();
      throw new InputError(
        `${a}: no such spec file, directory or model; give a spec (*.json), a directory of specs, a model module (*.ts) or a bundled model (${models.join(', ')})`,
      );
    }
  }
  return out;
}

function nearestExisting(p: string): string {
  let d = resolve(p);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** A directory that is there or can be made, and written in; else bad input naming `what` (the option). */
export function writableDir(dir: string, what: string): void {
  const at = nearestExisting(dir);
  if (!statSync(at).isDirectory()) throw new InputError(`${what}: ${at} is a file, not a directory; give a directory`);
  try {
    accessSync(at, constants.W_OK);
  } catch {
    throw new InputError(`${what}: cannot write in ${at} (permission denied); give a directory you can write to`);
  }
}

function isTraceFile(file: string): boolean {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))?.format === 'interleave-trace';
  } catch {
    return false;
  }
}

/**
 * Checks, before anything runs, that every output can be written and overwrites nothing but earlier
 * output: the counterexample directory, each trace file (never a spec, never a file that is not a trace,
 * never two targets into one file), the JUnit file, the checkpoint (never a spec, another output or a file that is
 * not a checkpoint) and the HTML viewers (never over a file that is not one).
 */
export function checkOutputs(targets: Target[], o: { outDir: string; save: boolean; junit?: string; checkpoint?: string; resume?: string; html?: string }): void {
  const inputs = new Set(targets.filter((t) => t.kind === 'spec').map((t) => resolve((t as { file: string }).file)));
  if (o.save) {
    if (existsSync(o.outDir) && !statSync(o.outDir).isDirectory()) {
      throw new InputError(`option --out ${o.outDir}: it is a file, not a directory; give a directory for the counterexamples (or --no-save)`);
    }
    writableDir(o.outDir, `option --out ${o.outDir}`);
    const seen = new Map<string, string>();
    for (const t of targets) {
      const out = resolve(o.outDir, `${t.name}.json`);
      if (inputs.has(out)) {
        throw new InputError(`option --out ${o.outDir}: the counterexample of ${t.label} would be written over the spec ${t.label}; give --out another directory (or --no-save)`);
      }
      if (existsSync(out) && (!statSync(out).isFile() || !isTraceFile(out))) {
        throw new InputError(`option --out ${o.outDir}: ${out} exists and is not a counterexample trace, and the trace of ${t.label} would replace it; give --out another directory (or --no-save)`);
      }
      const other = seen.get(out);
      if (other) throw new InputError(`${other} and ${t.label} would both write their counterexample to ${out}; check them in separate runs or with different --out`);
      seen.set(out, t.label);
    }
  }
  if (o.junit !== undefined) {
    const file = resolve(o.junit);
    if (o.save && targets.some((t) => resolve(o.outDir, `${t.name}.json`) === file)) {
      throw new InputError(`option --junit ${o.junit}: a counterexample trace would be written there too; give the JUnit XML another file name`);
    }
    if (inputs.has(file)) throw new InputError(`option --junit ${o.junit}: that is a spec being checked; give another file for the JUnit XML`);
    if (!existsSync(dirname(file)) || !statSync(dirname(file)).isDirectory()) {
      throw new InputError(`option --junit ${o.junit}: the directory ${dirname(file)} does not exist; create it or give another path`);
    }
    writableDir(dirname(file), `option --junit ${o.junit}`);
    if (existsSync(file)) {
      if (!statSync(file).isFile()) throw new InputError(`option --junit ${o.junit}: it is a directory; give a file name, e.g. ${join(o.junit, 'interleave.xml')}`);
      const head = readFileSync(file, 'utf8').trimStart();
      if (head !== '' && !head.startsWith('<')) throw new InputError(`option --junit ${o.junit}: it exists and is not XML; refusing to replace it: give another file`);
    }
  }
  if (o.checkpoint !== undefined) {
    const file = resolve(o.checkpoint);
    const what = `option --checkpoint ${o.checkpoint}`;
    if (inputs.has(file)) throw new InputError(`${what}: that is a spec being checked; give another file for the checkpoint`);
    if (o.junit !== undefined && resolve(o.junit) === file) throw new InputError(`${what}: --junit writes there too; give the checkpoint another file`);
    const trace = o.save ? targets.find((t) => resolve(o.outDir, `${t.name}.json`) === file) : undefined;
    if (trace) throw new InputError(`${what}: the counterexample of ${trace.label} is written there too; give the checkpoint another file`);
    writableDir(dirname(file), what);
    // The file --resume reads is the one a run keeps saving to (--resume F --checkpoint F): that one is checked as it is read.
    if (existsSync(file) && (o.resume === undefined || resolve(o.resume) !== file)) {
      if (!statSync(file).isFile()) throw new InputError(`${what}: it is a directory; give a file name, e.g. ${join(o.checkpoint, 'run.ckpt')}`);
      if (!isCheckpointFile(file)) throw new InputError(`${what}: it exists and is not an interleave checkpoint; refusing to replace it: give another file`);
    }
  }
  if (o.html !== undefined) {
    const what = `option --html ${o.html}`;
    if (existsSync(o.html) && !statSync(o.html).isDirectory()) throw new InputError(`${what}: it is a file, not a directory; give a directory for the HTML viewers`);
    writableDir(o.html, what);
    for (const t of targets) {
      const file = join(o.html, `${t.name}.html`);
      checkViewerPath(file, `${what}: ${file} `, 'give --html another directory');
    }
  }
}

/** The first bytes of every checkpoint file (explorer/checkpoint.ts). */
function isCheckpointFile(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(CHECKPOINT_MAGIC.length);
      const n = readSync(fd, head, 0, head.length, 0);
      return n === 0 || head.toString('latin1', 0, n) === CHECKPOINT_MAGIC;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** The mark of an HTML viewer interleave wrote (cli/html.ts puts it in the page's head). */
export const VIEWER_GENERATOR = '<meta name="generator" content="interleave">';

/**
 * An HTML viewer may replace an earlier one (or an empty file), nothing else; `where` begins the message
 * ("option --html DIR: DIR/x.html "), `fix` ends it. A directory is left to the write, which names it.
 */
export function checkViewerPath(file: string, where: string, fix: string): void {
  if (!existsSync(file) || !statSync(file).isFile()) return;
  const text = readFileSync(file, 'utf8');
  if (text.trim() !== '' && !text.includes(VIEWER_GENERATOR)) {
    throw new InputError(`${where}exists and is not an interleave HTML viewer; refusing to replace it: ${fix}`);
  }
}

/**
 * --fairness picks the fairness of the livelock and starvation checks, and nothing else: a run none of whose
 * targets checks either would ignore it, so that is bad input. A directory may mix specs, so one liveness spec
 * is enough; a spec that cannot be read counts as one (it reports its own error when it runs).
 */
export function checkFairnessUsed(targets: Target[], fairness: string): void {
  const live = (t: Target) => {
    if (t.kind !== 'spec') return false; // (a model checked without a spec: deadlock, assertions, invariants)
    try {
      const c = loadSpec(t.file).check;
      return !!c?.livelock || c?.starvation !== undefined;
    } catch {
      return true;
    }
  };
  if (!targets.some(live)) {
    throw new InputError(
      `option --fairness ${fairness}: no spec or model of this run checks livelock or starvation, the checks fairness is for ` +
        `("check": {"livelock": true} or {"starvation": ...}); drop --fairness`,
    );
  }
}
