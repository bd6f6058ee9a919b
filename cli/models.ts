// Finds models: bundled ones under machines/<name>/index.ts, or a module path given by a spec.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError, thrownMessage } from '../explorer/errors.ts';
import type { ModelDefinition } from '../explorer/model.ts';

/** This module's tree: the sources, or the compiled build in dist/ (scripts/build.mjs mirrors the tree there). */
const TREE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Running from the build: then the bundled models are its compiled .js, and the package root is one level up. */
const COMPILED = import.meta.url.endsWith('.js');
/** The package root (schemas/, bin/, package.json). */
export const REPO_ROOT = COMPILED ? resolve(TREE, '..') : TREE;
const MACHINES_DIR = join(TREE, 'machines');
const MODEL_INDEX = COMPILED ? 'index.js' : 'index.ts';
/** Folders under machines/ that hold helpers, not models. */
const NOT_MODELS = new Set(['kernel']);

export function bundledModelNames(): string[] {
  if (!existsSync(MACHINES_DIR)) return [];
  return readdirSync(MACHINES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !NOT_MODELS.has(d.name) && existsSync(join(MACHINES_DIR, d.name, MODEL_INDEX)))
    .map((d) => d.name)
    .sort();
}

/** Whether `x` looks like defineModel's result (a name, variants and create). */
export function isModelDefinition(x: unknown): x is ModelDefinition {
  const m = x as ModelDefinition;
  return !!m && typeof m === 'object' && typeof m.name === 'string' && typeof m.create === 'function' && typeof m.variants === 'object';
}

/**
 * A model that is not part of the build (the user's own, often TypeScript) needs the loaders: tsx, and the hooks
 * that resolve its imports of xstate and interleave from this install. bin/ registers them up front when it
 * runs the sources; the build registers them here, only when such a model loads (they cost a few hundred ms).
 */
async function ensureLoaders(file: string): Promise<void> {
  if (!COMPILED || file.startsWith(TREE + sep)) return;
  const { registerLoaders } = await import('../bin/register.mjs');
  await registerLoaders({ dist: true });
}

async function importModel(file: string, label: string): Promise<ModelDefinition> {
  let mod: any;
  await ensureLoaders(file);
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    const esm = esmInCommonJs(file, e);
    if (esm) throw new InputError(`${label}: the model module ${file} failed to load: ${thrownMessage(e)}; ${esm}`);
    throw new InputError(`${label}: the model module ${file} failed to load: ${thrownMessage(e)}; fix the module (it must import and run without error)`);
  }
  const def = mod.default ?? mod.model;
  if (!isModelDefinition(def)) {
    const named = Object.keys(mod).find((k) => isModelDefinition(mod[k]));
    const hint = named ? `; it exports ${named}, a model: make it the default export (export default ${named})` : '';
    throw new InputError(
      `${label}: ${file} does not export a model: its default export must be defineModel({ name, params, variants, defaultVariant, create })${hint}`,
    );
  }
  const problem = definitionProblem(def);
  if (problem) throw new InputError(`${label}: the model in ${file}: ${problem}`);
  return def;
}

/**
 * The fix when a .js model written as CommonJS requires interleave or xstate, or one written as an ES module
 * (import/export) loaded as CommonJS: node reads a .js file as
 * CommonJS unless the nearest package.json says "type": "module" (npm init writes "type": "commonjs"). Null when
 * the error is something else.
 */
function esmInCommonJs(file: string, e: unknown): string | null {
  if (!/\.js$/.test(file)) return null;
  // A CommonJS model's require('interleave') gets the package's ES module entry (a syntax error there), and its
  // require('xstate') the folder's own xstate, or none: the hooks that map them serve import only.
  if (/\brequire\(\s*['"](interleave|xstate)/.test(readFileSync(file, 'utf8'))) {
    return `a CommonJS model cannot require('interleave') or require('xstate') (they resolve to interleave's ES modules and its own xstate only through import): write the model with import and export default, as a .ts or .mjs file or under "type": "module"`;
  }
  // Node names the file and line of the offending statement first: the model's own import/export.
  if (!(e instanceof SyntaxError) || !e.stack?.startsWith(`${file}:`)) return null;
  if (!/Cannot use import statement outside a module|Unexpected token 'export'/.test(e.message)) return null;
  let pkg: string | null = null;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      pkg = join(dir, 'package.json');
      break;
    }
    if (dirname(dir) === dir) break;
  }
  const where = pkg ? `${pkg} makes .js files CommonJS: add "type": "module" to it` : `add a package.json with "type": "module" beside it`;
  return `a .js model written with import/export is an ES module; ${where}, or rename the model .mjs (or write it in TypeScript, .ts, which always loads as an ES module)`;
}

/** What is wrong with a model definition's declared fields (the explorer trusts them), or null. */
function definitionProblem(def: ModelDefinition): string | null {
  const isRecord = (x: unknown) => !!x && typeof x === 'object' && !Array.isArray(x);
  if (!isRecord(def.variants) || Object.keys(def.variants).length === 0) return `variants must be a record with at least one variant, e.g. variants: { base: { description: '...' } }`;
  if (typeof def.defaultVariant !== 'string') return `defaultVariant must name one of its variants (${Object.keys(def.variants).join(', ')})`;
  if (!isRecord(def.params)) return `params must be a record (params: {} when it has none), e.g. params: { n: { default: 2, min: 1, description: '...' } }`;
  for (const [k, p] of Object.entries(def.params)) {
    if (!isRecord(p) || !['number', 'boolean', 'string'].includes(typeof p.default)) {
      return `params.${k} needs a default that is a number, boolean or string, e.g. ${k}: { default: 2, description: '...' }`;
    }
  }
  if (def.symmetry !== undefined && typeof def.symmetry !== 'function') {
    return `symmetry must be a function of the options returning the groups, e.g. symmetry: ({ params }) => [{ threads: ['w0', 'w1'] }]`;
  }
  if (def.footprints !== undefined) {
    if (!isRecord(def.footprints)) return `footprints must be a record of declarations by guard or action name, e.g. footprints: { take: { reads: ['lock'], writes: ['lock'] } }`;
    for (const [name, decl] of Object.entries(def.footprints)) {
      if (!isRecord(decl)) return `footprints.${name} must be a record { reads, writes, sets } of lists of context paths, e.g. ${name}: { reads: ['n'] }`;
      for (const k of ['reads', 'writes', 'sets'] as const) {
        const paths = (decl as Record<string, unknown>)[k];
        if (paths !== undefined && (!Array.isArray(paths) || paths.some((x) => typeof x !== 'string'))) {
          return `footprints.${name}.${k} must be a list of context paths, e.g. ${k}: ['n']`;
        }
      }
    }
  }
  for (const field of ['invariants', 'assertions', 'waits', 'watch'] as const) {
    const v = def[field];
    if (v === undefined) continue;
    if (!isRecord(v)) return `${field} must be a record of functions by name`;
    for (const [name, fn] of Object.entries(v)) if (typeof fn !== 'function') return `${field}.${name} must be a function`;
  }
  return null;
}

export function looksLikePath(model: string): boolean {
  return model.startsWith('.') || isAbsolute(model) || /\.(ts|js|mjs|mts)$/.test(model) || model.includes('/');
}

/**
 * Loads a model by bundled name, or by path relative to `baseDir`. `where` prefixes errors (file and JSON path);
 * `relativeTo` says in them what `baseDir` is.
 */
export async function loadModel(model: string, baseDir: string, where: string, relativeTo = 'the spec file'): Promise<{ def: ModelDefinition; path: string; bundled: boolean }> {
  if (looksLikePath(model)) {
    let file = resolve(baseDir, model);
    if (existsSync(file) && statSync(file).isDirectory()) {
      // A model folder: its index module, as for the bundled models.
      const index = ['index.ts', 'index.mts', 'index.js', 'index.mjs'].map((f) => join(file, f)).find((f) => existsSync(f));
      if (!index) throw new InputError(`${where}: ${file} is a folder without an index.ts; give the model module's file (e.g. ./my-model.ts)`);
      file = index;
    }
    if (!existsSync(file)) {
      throw new InputError(
        `${where}: no model module at ${file}${suggestModule(model, baseDir)}; give a bundled model name (${bundledModelNames().join(', ')}) or a path relative to ${relativeTo}`,
      );
    }
    return { def: await importModel(file, where), path: file, bundled: false };
  }
  const names = bundledModelNames();
  if (!names.includes(model)) {
    throw new InputError(`${where}: unknown model '${model}'${suggestModule(model, baseDir)}; bundled models: ${names.join(', ')}. For your own model, give a path relative to ${relativeTo}, e.g. "./my-model.ts"`);
  }
  const file = join(MACHINES_DIR, model, MODEL_INDEX);
  return { def: await importModel(file, where), path: file, bundled: true };
}

/**
 * A model module the user may have meant when `model` names none: with its extension left out, or relative to the
 * folder above `baseDir` or to the working directory rather than to `baseDir`. Empty when there is none.
 */
function suggestModule(model: string, baseDir: string): string {
  for (const dir of [baseDir, dirname(baseDir), process.cwd()]) {
    for (const ext of ['', '.ts', '.mts', '.js', '.mjs']) {
      const file = resolve(dir, model + ext);
      if (!existsSync(file) || !statSync(file).isFile() || !/\.m?[jt]s$/.test(file)) continue;
      const rel = relative(baseDir, file);
      return ` (did you mean "${rel.startsWith('.') ? rel : `./${rel}`}"? That module exists)`;
    }
  }
  return '';
}

export async function loadAllBundled(): Promise<ModelDefinition[]> {
  const out: ModelDefinition[] = [];
  for (const name of bundledModelNames()) out.push(await importModel(join(MACHINES_DIR, name, MODEL_INDEX), `machines/${name}`));
  return out;
}

/**
 * A trace's modelPath for a model loaded by path: the model file relative to the trace (or viewer) file that names
 * it, so replay and the viewer find the model from any directory.
 */
export function modelPathFrom(traceFile: string, modelFile: string): string {
  return relative(dirname(resolve(traceFile)), modelFile) || basename(modelFile);
}
