// ITF (the Informal Trace Format of Apalache and Quint, ADR-015): `show TRACE --itf` writes a trace as
// ITF JSON, and `replay` (and `show`) read back an ITF trace we exported.
//
// Shape: {"#meta": {...}, "vars": [...], "states": [{"#meta": {"index": i}, var: value, ...}], "loop"?: i}.
// State 0 is the initial state, state i the state after step i. Variables: `pc` (each thread's location,
// a record thread -> dotted state path), one variable per top-level field of the shared context (a field the model
// adds after the initial state is {"#unserializable": "undefined"} in the states before it), and
// `mbt::actionTaken` (Quint's name for the action variable: "init", then the event of each step).
// Values: integers as {"#bigint": "n"}, strings and booleans as themselves, arrays as ITF lists, records
// as ITF records ({"#map": [[k, v], ...]} when a key starts with '#'), null as {"#unserializable": "null"}.
// What ITF has no room for (the model, variant and params, the violation, the deadlock report) goes in
// "#meta".interleave, so the trace can be replayed on the model.
import { dirname, resolve } from 'node:path';
import { InputError } from '../explorer/errors.ts';
import type { Plain } from '../explorer/model.ts';
import { diffContext, TRACE_FORMAT, TRACE_VERSION, type Trace, type TraceStep } from '../explorer/trace.ts';

export const ITF_ACTION = 'mbt::actionTaken';
export const ITF_PC = 'pc';
/** A context field's value in a state where the field is absent (the model adds it later): ITF needs every variable in every state. */
const ITF_ABSENT = { '#unserializable': 'undefined' } as const;
const ITF_FORMAT_DESCRIPTION = 'https://apalache-mc.org/docs/adr/015adr-trace.html';

export type ItfValue = boolean | string | ItfValue[] | { [key: string]: ItfValue };

export interface ItfTrace {
  '#meta': Record<string, unknown>;
  vars: string[];
  states: Array<{ '#meta': { index: number } } & Record<string, ItfValue | { index: number }>>;
  loop?: number;
}

export function toItfValue(v: Plain, where: string): ItfValue {
  if (v === null) return { '#unserializable': 'null' };
  if (v === undefined) throw new InputError(`${where}: no value (a hole the trace's changes left); the trace was edited: re-run check to make a fresh one`);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new InputError(`${where}: ${v} is not an integer; ITF has integers only`);
    return { '#bigint': String(v) };
  }
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x, i) => toItfValue(x, `${where}[${i}]`));
  const keys = Object.keys(v);
  if (keys.some((k) => k.startsWith('#'))) return { '#map': keys.map((k) => [k, toItfValue(v[k], `${where}.${k}`)]) };
  const out: Record<string, ItfValue> = {};
  for (const k of keys) out[k] = toItfValue(v[k], `${where}.${k}`);
  return out;
}

export function fromItfValue(v: unknown, where: string): Plain {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (Array.isArray(v)) return v.map((x, i) => fromItfValue(x, `${where}[${i}]`));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('#bigint' in o) {
      const n = Number(o['#bigint']);
      if (typeof o['#bigint'] !== 'string' || !Number.isSafeInteger(n)) {
        throw new InputError(`${where}: {"#bigint": ${JSON.stringify(o['#bigint'])}} is not an integer interleave can hold (safe integers only)`);
      }
      return n;
    }
    if ('#unserializable' in o && o['#unserializable'] === 'null') return null;
    if ('#map' in o) {
      const out: Record<string, Plain> = {};
      const pairs = o['#map'];
      if (!Array.isArray(pairs)) throw new InputError(`${where}: "#map" must be a list of [key, value] pairs`);
      pairs.forEach((p, i) => {
        if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string') {
          throw new InputError(`${where}["#map"][${i}]: expected a [string key, value] pair (interleave records have string keys)`);
        }
        out[p[0]] = fromItfValue(p[1], `${where}.${p[0]}`);
      });
      return out;
    }
    for (const tag of ['#tup', '#set', '#unserializable']) {
      if (tag in o) throw new InputError(`${where}: ${tag} values have no counterpart in an interleave context; only traces interleave exported can be read`);
    }
    const out: Record<string, Plain> = {};
    for (const [k, x] of Object.entries(o)) out[k] = fromItfValue(x, `${where}.${k}`);
    return out;
  }
  throw new InputError(`${where}: ${JSON.stringify(v)} is not an ITF value interleave reads (integers as {"#bigint": "n"})`);
}

/** The context's top-level fields, each an ITF variable (renamed ctx::NAME if it would clash with ours or with a state's #meta). */
function contextVar(key: string): string {
  return key === ITF_PC || key === ITF_ACTION || key.startsWith('ctx::') || key.startsWith('#') ? `ctx::${key}` : key;
}

/** A trace as ITF: one state per step plus the initial state. */
export function toItf(trace: Trace, source: string): ItfTrace {
  const ctx0 = trace.initial.context;
  if (ctx0 === null || typeof ctx0 !== 'object' || Array.isArray(ctx0)) {
    throw new InputError(`${source}: the context is not a record; ITF needs named variables`);
  }
  const contexts = contextsOf(trace, source);
  // Every top-level field of any state, in the order they appear: a model may add one after the initial state.
  const ctxKeys = [...new Set(contexts.flatMap((c) => (c !== null && typeof c === 'object' && !Array.isArray(c) ? Object.keys(c) : [])))];
  const locations = [trace.initial.locations, ...trace.steps.map((s) => s.locations)];
  const actions = ['init', ...trace.steps.map((s) => s.event)];
  const states = contexts.map((c, i) => {
    const st: Record<string, ItfValue | { index: number }> = { '#meta': { index: i } };
    st[ITF_PC] = toItfValue(locations[i] as Plain, `${source}: state ${i}: pc`);
    for (const k of ctxKeys) st[contextVar(k)] = Object.hasOwn(c as object, k) ? toItfValue((c as Record<string, Plain>)[k], `${source}: state ${i}: ${k}`) : { ...ITF_ABSENT };
    st[ITF_ACTION] = actions[i];
    return st as ItfTrace['states'][number];
  });
  const { steps: _steps, initial: _initial, final: _final, ...rest } = trace;
  const itf: ItfTrace = {
    '#meta': {
      format: 'ITF',
      'format-description': ITF_FORMAT_DESCRIPTION,
      source,
      description: `interleave counterexample: ${trace.model} variant ${trace.variant}: ${trace.violation.kind}${trace.violation.name !== trace.violation.kind ? ` ${trace.violation.name}` : ''}`,
      // What ITF has no room for: enough to rebuild the interleave trace and replay it.
      // A model loaded by path: its absolute path, since the ITF is saved wherever its reader likes (modelPath is relative to the trace).
      interleave: { ...rest, ...(rest.modelPath ? { modelPath: resolve(dirname(source), rest.modelPath) } : {}), steps: trace.steps.map((s) => ({ threads: s.threads, ...(s.progress ? { progress: true } : {}), ...(s.watch ? { watch: s.watch } : {}) })), ...(trace.initial.watch ? { initialWatch: trace.initial.watch } : {}) },
    },
    vars: [ITF_PC, ...ctxKeys.map(contextVar), ITF_ACTION],
    states,
  };
  if (trace.loopStart !== undefined) itf.loop = trace.loopStart - 1;
  return itf;
}

/**
 * Sets `path` (as diffContext writes it: a.b[2].c, or a["b.c"] for a key keyPath quotes) in a copy of `root`. A path through something that is not a
 * record or array (an edited trace) is bad input: `where` names the change and `when` the step.
 */
function setPath(root: Plain, path: string, value: Plain | undefined, where: string, when: string): Plain {
  if (path === '(context)') return value ?? null;
  const parts = [...path.matchAll(/\[("(?:[^"\\]|\\.)*")\]|\[(\d+)\]|([^.[\]]+)/g)].map((m) =>
    m[1] !== undefined ? (JSON.parse(m[1]) as string) : m[2] !== undefined ? Number(m[2]) : m[3],
  );
  const copy = (v: Plain): any => (Array.isArray(v) ? [...v] : v && typeof v === 'object' ? { ...v } : v);
  const top = copy(root);
  let node = top;
  parts.forEach((p, i) => {
    if (node === null || typeof node !== 'object') {
      const through = i === 0 ? 'the context' : parts.slice(0, i).map((q, k) => (typeof q === 'number' ? `[${q}]` : k ? `.${q}` : q)).join('');
      const is = node === undefined ? 'absent' : JSON.stringify(node);
      throw new InputError(`${where}: '${path}' goes through ${through}, which is ${is} ${when}, not a record or array; the trace was edited: re-run check to make a fresh one`);
    }
    if (i === parts.length - 1) {
      if (value === undefined) delete node[p];
      else node[p] = value;
    } else {
      node[p] = copy(node[p]);
      node = node[p];
    }
  });
  return top;
}

/** The full context along a trace: the initial one (index 0), then after each step (its changes applied). `source` names the trace in errors. */
export function contextsOf(trace: Trace, source = 'the trace'): Plain[] {
  const out: Plain[] = [trace.initial.context];
  trace.steps.forEach((s, i) => {
    let ctx = out[out.length - 1];
    s.changes.forEach((c, j) => {
      ctx = setPath(ctx, c.path, c.to as Plain | undefined, `${source}: $.steps[${i}].changes[${j}].path`, `before step ${i + 1}`);
    });
    out.push(ctx);
  });
  return out;
}

export function isItf(data: unknown): boolean {
  return !!data && typeof data === 'object' && Array.isArray((data as any).vars) && Array.isArray((data as any).states);
}

/** An ITF trace that interleave exported, back as an interleave trace. Errors name the file and the path. */
export function fromItf(data: unknown, file: string): Trace {
  const itf = data as ItfTrace;
  const meta = (itf['#meta'] ?? {}) as Record<string, any>;
  const il = meta.interleave;
  if (!il || typeof il !== 'object' || typeof il.model !== 'string' || !il.violation) {
    throw new InputError(
      `${file}: $["#meta"].interleave: missing; this ITF trace was not exported by interleave (interleave show TRACE --itf), so it does not say which model, variant and violation it is about`,
      file,
    );
  }
  itf.vars.forEach((v, i) => {
    if (typeof v !== 'string') throw new InputError(`${file}: $.vars[${i}]: expected a variable name (a string), got ${JSON.stringify(v)}`, file);
  });
  itf.states.forEach((st, i) => {
    if (!st || typeof st !== 'object' || Array.isArray(st)) {
      throw new InputError(`${file}: $.states[${i}]: expected a state record ({"#meta", "pc", ...}), got ${Array.isArray(st) ? 'an array' : JSON.stringify(st)}`, file);
    }
  });
  const where = (i: number, v: string) => `${file}: $.states[${i}]${/^[A-Za-z_]\w*$/.test(v) ? `.${v}` : `[${JSON.stringify(v)}]`}`;
  const ctxVars = itf.vars.filter((v) => v !== ITF_PC && v !== ITF_ACTION);
  const decode = (i: number) => {
    const st = itf.states[i] as Record<string, unknown>;
    for (const v of [ITF_PC, ITF_ACTION, ...ctxVars]) {
      if (!(v in st)) throw new InputError(`${where(i, v)}: missing; every state needs every variable in $.vars`, file);
    }
    const pc = fromItfValue(st[ITF_PC], where(i, ITF_PC));
    if (!pc || typeof pc !== 'object' || Array.isArray(pc) || Object.values(pc).some((x) => typeof x !== 'string')) {
      throw new InputError(`${where(i, ITF_PC)}: expected a record of thread -> state path`, file);
    }
    const context: Record<string, Plain> = {};
    for (const v of ctxVars) {
      const x = st[v] as Record<string, unknown>;
      // A field absent in this state (ITF_ABSENT): the model adds it later.
      if (x && typeof x === 'object' && Object.keys(x).length === 1 && x['#unserializable'] === ITF_ABSENT['#unserializable']) continue;
      context[v.startsWith('ctx::') ? v.slice(5) : v] = fromItfValue(x, where(i, v));
    }
    const action = st[ITF_ACTION];
    if (typeof action !== 'string') throw new InputError(`${where(i, ITF_ACTION)}: expected the event name as a string`, file);
    return { locations: pc as Record<string, string>, context: context as Plain, action };
  };
  if (itf.states.length === 0) throw new InputError(`${file}: $.states: empty; an ITF trace needs at least the initial state`, file);
  const decoded = itf.states.map((_, i) => decode(i));
  const extra: Array<{ threads?: string[]; progress?: boolean; watch?: Record<string, string | number | boolean> }> = Array.isArray(il.steps) ? il.steps : [];
  const steps: TraceStep[] = decoded.slice(1).map((s, k) => {
    const before = decoded[k];
    const threads = extra[k]?.threads ?? Object.keys(s.locations).filter((t) => before.locations[t] !== s.locations[t] || s.action.startsWith(t + '.'));
    const from: Record<string, string> = {};
    for (const t of threads) from[t] = before.locations[t];
    return {
      step: k + 1,
      event: s.action,
      threads,
      from,
      locations: s.locations,
      changes: diffContext(before.context, s.context),
      ...(extra[k]?.progress ? { progress: true } : {}),
      ...(extra[k]?.watch ? { watch: extra[k].watch } : {}),
    };
  });
  const { steps: _s, initialWatch, ...rest } = il;
  const last = decoded[decoded.length - 1];
  const trace: Trace = {
    ...rest,
    format: TRACE_FORMAT,
    version: typeof il.version === 'number' ? il.version : TRACE_VERSION,
    initial: { locations: decoded[0].locations, context: decoded[0].context, ...(initialWatch ? { watch: initialWatch } : {}) },
    steps,
    final: { locations: last.locations, context: last.context },
  };
  if (typeof itf.loop === 'number') trace.loopStart = itf.loop + 1;
  return trace;
}
