// Loads and validates spec files (schemas/spec.schema.json) and trace files, with errors that name
// the file, the JSON path and the fix.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../explorer/errors.ts';
import type { Fairness, StarvationGoal } from '../explorer/properties/liveness.ts';
import { TRACE_FORMAT, TRACE_VERSION, type Trace } from '../explorer/trace.ts';
import { fromItf, isItf } from './itf.ts';
import { REPO_ROOT } from './models.ts';
import type { ShardResult } from '../explorer/swarm.ts';

export interface Spec {
  description?: string;
  model: string;
  variant?: string;
  params?: Record<string, number | boolean | string>;
  check?: {
    deadlock?: boolean;
    assertions?: boolean;
    invariants?: boolean | string[];
    stopAtFirst?: boolean;
    livelock?: boolean;
    lockOrder?: boolean;
    starvation?: StarvationGoal | StarvationGoal[];
    fairness?: Fairness;
  };
  strategy?: 'bfs' | 'dfs' | 'random';
  seed?: number;
  reduce?: Array<'symmetry' | 'por'>;
  bounds?: { maxStates?: number; maxDepth?: number; timeoutSeconds?: number; walks?: number };
  expect: { status: 'pass' | 'violation' | 'incomplete'; kind?: string; name?: string; states?: number; depth?: number };
}

/** The options of every validator: compiled here, or ahead of time by the build (scripts/build.mjs, AJV_OPTIONS). */
const AJV_OPTIONS = { allErrors: true, strict: false };
const require = createRequire(import.meta.url);
let ajv: import('ajv').default | null = null;
const validators = new Map<string, ValidateFunction>();

/**
 * The validator of a schema: from the build, the one it compiled ahead of time (dist/schemas/<name>.validate.cjs,
 * made from the same schema with the same options, so no ajv to load and no code to generate at start); else
 * compiled by ajv now.
 */
function validatorFor(schemaFile: string): ValidateFunction {
  let v = validators.get(schemaFile);
  if (!v && import.meta.url.endsWith('.js')) {
    const built = new URL(`../schemas/${schemaFile.replace(/\.schema\.json$/, '')}.validate.cjs`, import.meta.url);
    if (existsSync(built)) {
      v = require(fileURLToPath(built)) as ValidateFunction;
      validators.set(schemaFile, v);
    }
  }
  if (!v) {
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', schemaFile), 'utf8'));
    // Loaded on first use: the build's precompiled validators need no ajv.
    ajv ??= new (require('ajv') as any)(AJV_OPTIONS) as import('ajv').default;
    try {
      v = ajv.compile(schema);
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      // ajv compiles schemas to code; keep the same clear error for every later spec (a second compile
      // would only say the schema id is taken).
      const fail = new Error(`schemas/${schemaFile} cannot be compiled: code generation from strings is disallowed; run interleave without --disallow-code-generation-from-strings`);
      v = (() => {
        throw fail;
      }) as unknown as ValidateFunction;
    }
    validators.set(schemaFile, v);
  }
  return v;
}

/** JSON pointer "/expect/kind" -> "$.expect.kind"; array indices as [i]. */
export function jsonPath(pointer: string): string {
  if (!pointer) return '$';
  return (
    '$' +
    pointer
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
      .join('')
  );
}

function describe(e: ErrorObject, schemaFile: string): string {
  const path = jsonPath(e.instancePath);
  const p = e.params as any;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${path}: unknown field '${p.additionalProperty}'; remove it or fix its spelling (see schemas/${schemaFile} for the fields)`;
    case 'required':
      return `${path}: missing field '${p.missingProperty}'; add it`;
    case 'enum':
      return `${path}: must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
    case 'const':
      return `${path}: must be ${JSON.stringify(p.allowedValue)}`;
    case 'type':
      return `${path}: must be ${p.type === 'integer' ? 'a whole number' : String(p.type).replace(/,/g, ' or ')}`;
    case 'minimum':
      return `${path}: must be at least ${p.limit}; give a number of at least ${p.limit}`;
    case 'exclusiveMinimum':
      return `${path}: must be greater than ${p.limit}; give a ${p.limit === 0 ? 'positive number' : `number above ${p.limit}`}`;
    case 'maximum':
      return `${path}: must be at most ${p.limit}; give a smaller number`;
    case 'minLength':
      return `${path}: must not be empty; write a value there`;
    case 'minItems':
      return `${path}: must not be empty; give at least ${p.limit === 1 ? 'one' : p.limit}`;
    case 'uniqueItems':
      return `${path}[${Math.max(p.i, p.j)}]: the same as ${path}[${Math.min(p.i, p.j)}]; remove one of them`;
    case 'not':
      return `${path}: 'kind' and 'name' go only with "status": "violation"; remove them or set the status to violation`;
    default:
      return `${path}: ${e.message}`;
  }
}

/**
 * The errors worth reading. A field that may take one of several forms (oneOf: a boolean or a list, a goal or a
 * list of goals) gets an error from each form; when the value has one form's type (another error is about it or
 * what it holds), the other forms' type errors only mislead and are left out; when it has none, they are said
 * as one ("must be boolean or array").
 */
function formatErrors(errors: ErrorObject[], schemaFile: string): string[] {
  const useful = errors.filter((e) => e.keyword !== 'if' && e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
  // (A value of the wrong type gets no other error from the same schema: ajv checks the other keywords only on their type.)
  const isType = (e: ErrorObject) => e.keyword === 'type';
  const inside = (e: ErrorObject, at: string) => e.instancePath === at || e.instancePath.startsWith(at + '/');
  const kept: ErrorObject[] = [];
  const types = new Map<string, string[]>();
  for (const e of useful) {
    if (!isType(e)) kept.push(e);
    else if (!useful.some((o) => !isType(o) && inside(o, e.instancePath))) {
      const list = types.get(e.instancePath);
      if (list) list.push(String((e.params as { type: string }).type));
      else (types.set(e.instancePath, [String((e.params as { type: string }).type)]), kept.push(e));
    }
  }
  const lines = (kept.length ? kept : errors).map((e) =>
    isType(e) ? describe({ ...e, params: { type: types.get(e.instancePath)!.join(',') } }, schemaFile) : describe(e, schemaFile),
  );
  return [...new Set(lines)];
}

export function parseJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory, not a file' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message);
    throw new InputError(`${file}: cannot read the ${what}: ${why}; give the path of a ${what} file`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // Node says "at position N" (and some versions "(line L column C)"); for an unexpected token or at the end
    // of the input, neither: then the scan below finds where.
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : jsonErrorOffset(text);
    let where = '';
    if (pos >= 0) {
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      const col = pos - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${col}`;
    }
    const fix = text.charCodeAt(0) === 0xfeff ? 'the file starts with a byte-order mark (U+FEFF); save it as UTF-8 without one' : 'fix the JSON syntax there';
    throw new InputError(`${file}: the ${what} is not valid JSON${where}: ${msg}; ${fix}`, file);
  }
}

/** Where JSON.parse fails on `text`: the offset of the first character that is not valid JSON (text.length at a premature end), or -1. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const c of word) {
      if (text[i] !== c) fail();
      i++;
    }
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail();
      if (c !== 0x5c) {
        i++;
        continue;
      }
      i++;
      if ('"\\/bfnrt'.includes(text[i] ?? 'x')) i++;
      else if (text[i] === 'u') {
        i++;
        for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail();
      } else fail();
    }
  };
  const digits = () => {
    const start = i;
    while (text[i] >= '0' && text[i] <= '9') i++;
    if (i === start) fail();
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') (i++, digits());
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          string();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === close) return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    // (Nesting too deep for this scan's stack: no position.)
    return typeof at === 'number' ? Math.min(at, text.length) : -1;
  }
}

export function loadSpec(file: string): Spec {
  const data = parseJsonFile(file, 'spec');
  if ((data as { format?: unknown } | null)?.format === TRACE_FORMAT) {
    throw new InputError(`${file}: this is a counterexample trace, not a spec: read it with interleave show ${file}, re-run it with interleave replay ${file}`, file);
  }
  const validate = validatorFor('spec.schema.json');
  if (!validate(data)) {
    const lines = formatErrors(validate.errors ?? [], 'spec.schema.json');
    throw new InputError(`${file}: invalid spec:\n  ${lines.join('\n  ')}`, file);
  }
  return data as Spec;
}

/** A saved trace: interleave's own JSON, or an ITF trace interleave exported (./itf.ts). */
export function loadTrace(file: string): Trace {
  const raw = parseJsonFile(file, 'trace') as Record<string, unknown> | null;
  if (raw && typeof raw === 'object' && !('format' in raw) && !isItf(raw) && ('expect' in raw || 'model' in raw)) {
    throw new InputError(`${file}: this is a spec, not a counterexample trace: run interleave check ${file} (it writes the trace to counterexamples/), then show or replay that trace`, file);
  }
  const data = (isItf(raw) ? fromItf(raw, file) : raw) as Record<string, unknown> | null;
  const validate = validatorFor('trace.schema.json');
  if (!validate(data)) {
    const lines = formatErrors(validate.errors ?? [], 'trace.schema.json');
    throw new InputError(`${file}: invalid trace:\n  ${lines.join('\n  ')}`, file);
  }
  const problem = traceProblem(data as unknown as Trace);
  if (problem) throw new InputError(`${file}: invalid trace: ${problem}`, file);
  return data as unknown as Trace;
}

/** What the schema cannot say: the format version this interleave reads, step numbers, the loop of a lasso. */
function traceProblem(t: Trace): string | null {
  if (t.version > TRACE_VERSION) {
    return `$.version: ${t.version} is a newer trace format than this interleave reads (${TRACE_VERSION}), written by interleave ${t.tool?.version ?? '?'}; upgrade interleave (interleave --version) or re-run check with this one`;
  }
  const threads = new Set(t.threads);
  for (let i = 0; i < t.steps.length; i++) {
    const s = t.steps[i];
    if (s.step !== i + 1) return `$.steps[${i}].step: ${s.step}, expected ${i + 1} (steps are numbered from 1 in order); the trace was edited: re-run check to make a fresh one`;
    const stranger = s.threads.find((x) => !threads.has(x));
    if (stranger !== undefined) return `$.steps[${i}].threads: '${stranger}' is not one of the trace's threads (${t.threads.join(', ')}); re-run check to make a fresh trace`;
  }
  const lasso = t.violation.kind === 'livelock' || t.violation.kind === 'starvation';
  if (t.loopStart !== undefined && (t.loopStart < 1 || t.loopStart > t.steps.length)) {
    return `$.loopStart: ${t.loopStart} is not a step of the trace (steps 1..${t.steps.length}); the loop must start at one of them: re-run check to make a fresh trace`;
  }
  if (lasso && t.loopStart === undefined) return `$.loopStart: missing; a ${t.violation.kind} trace is a lasso and needs the step its loop starts at`;
  if (!lasso && t.loopStart !== undefined) return `$.loopStart: only livelock and starvation traces have a loop; remove it (the violation is a ${t.violation.kind})`;
  return null;
}

/** Loads a swarm shard result (schemas/swarm-shard.schema.json; its trace against the trace schema). */
export function loadShard(file: string): ShardResult {
  const data = parseJsonFile(file, 'swarm shard result');
  // The shard schema refers to these by id.
  validatorFor('trace.schema.json');
  validatorFor('check-result.schema.json');
  const validate = validatorFor('swarm-shard.schema.json');
  if (!validate(data)) {
    const lines = formatErrors(validate.errors ?? [], 'swarm-shard.schema.json');
    throw new InputError(`${file}: invalid swarm shard result:\n  ${lines.join('\n  ')}\n  (write it with interleave swarm SPEC --shard I/N)`, file);
  }
  return data as ShardResult;
}

export function validateTraceObject(data: unknown): string[] {
  const validate = validatorFor('trace.schema.json');
  return validate(data) ? [] : formatErrors(validate.errors ?? [], 'trace.schema.json');
}
