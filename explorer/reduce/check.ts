// --check-footprints: runs the guards and actions of every enabled step of every reachable state (unreduced
// breadth-first, up to a bound) against a recording proxy of the context, and fails, naming the guard or action
// and the path, when one reads or writes a path outside its declared footprint. With symmetry groups it also
// checks that swapping two threads of a group is an automorphism: the swapped state has the swapped successors
// and the same verdicts of invariants and assertions (so a thread-name list that is kept sorted but not declared
// as a set, a closure that captures a thread's identity, or a property that names one thread, are caught).
// Invariants and assertions with a declared property footprint (ModelDefinition.propertyFootprints, what partial
// order takes as visible) are run the same way, on every state (an assertion where it is in force), and fail
// when they read a context path or a thread's location outside the declaration.
import { and, not, or } from 'xstate';
import { inPlaceHint, ModelError, ModelRuntimeError, thrownMessage } from '../errors.ts';
import type { Assertion, Context, Invariant, ModelDefinition, ModelCreateOptions, ThreadLocations } from '../model.ts';
import type { PackedSystem } from '../packed.ts';
import { fingerprint } from '../store/index.ts';
import { footprintOf, type FootprintDecl } from './declare.ts';
import { covered, EVERYTHING, resolveDecl, type Footprint } from './footprint.ts';
import { compileSymmetry, createRepresentative, namesPattern } from './symmetry.ts';
import { checkPropertyFootprint, symmetryGroups } from './index.ts';
import { systemFootprints } from './footprint.ts';

export class FootprintError extends ModelError {}

const BUILTIN = new Map<unknown, 'and' | 'or' | 'not'>([
  [(and([]) as any).check, 'and'],
  [(or([]) as any).check, 'or'],
  [(not(() => true) as any).check, 'not'],
]);

// ----------------------------------------------------------------------------------------------
// The recording proxy.

interface Recorder {
  on: boolean;
  reads: Set<string>;
  raw: WeakMap<object, object>;
}

/**
 * A read-only view of `value` at `path` that records the paths of the primitive values read. A value copied by
 * a spread or Object.assign (the property's descriptor is asked just before its value) is not a read: it moves
 * unchanged, and the writes are found by comparing the result with the input. `in` is a read of the key.
 */
function recording(value: any, path: string, rec: Recorder): any {
  if (value === null || typeof value !== 'object') return value;
  let lastDescriptor: PropertyKey | undefined;
  // A shallow copy as the target: contexts are frozen, and a proxy must return a frozen property's own value.
  const p = new Proxy(Array.isArray(value) ? value.slice() : { ...value }, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key === 'symbol') return v;
      const copy = key === lastDescriptor;
      lastDescriptor = undefined;
      if (copy || !rec.on) return v;
      const own = Object.prototype.hasOwnProperty.call(target, key);
      if (!own) return v; // methods of Array.prototype and the like
      const sub = path === '' ? String(key) : `${path}.${String(key)}`;
      if (v !== null && typeof v === 'object') return recording(v, sub, rec);
      rec.reads.add(sub);
      return v;
    },
    getOwnPropertyDescriptor(target, key) {
      lastDescriptor = key;
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    has(target, key) {
      // (on arrays, slice/map ask has(i) before get(i): the get records the element if it is a read)
      if (rec.on && typeof key === 'string' && !Array.isArray(target)) rec.reads.add(path === '' ? key : `${path}.${key}`);
      return Reflect.has(target, key);
    },
    set() {
      throw new TypeError('the context is read-only');
    },
    deleteProperty() {
      throw new TypeError('the context is read-only');
    },
  });
  rec.raw.set(p, value);
  return p;
}

/** A view of the threads' locations that records whose location is read (listing the threads reads them all). */
function recordingLocations(loc: ThreadLocations, read: Set<string>): ThreadLocations {
  const all = () => Object.keys(loc).forEach((t) => read.add(t));
  return new Proxy(
    { ...loc },
    {
      get(target, key, receiver) {
        if (typeof key === 'string' && Object.prototype.hasOwnProperty.call(target, key)) read.add(key);
        return Reflect.get(target, key, receiver);
      },
      has(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        all();
        return Reflect.ownKeys(target);
      },
      set() {
        throw new TypeError('the thread locations are read-only');
      },
    },
  );
}

/** A deep copy of `v` with every recording proxy replaced by what it wraps. */
function unwrap(v: any, rec: Recorder): any {
  if (v === null || typeof v !== 'object') return v;
  const raw = rec.raw.get(v);
  if (raw) return raw;
  if (Array.isArray(v)) return v.map((x) => unwrap(x, rec));
  const out: Record<string, any> = {};
  for (const k of Object.keys(v)) out[k] = unwrap(v[k], rec);
  return out;
}

/** Paths where two plain values differ (arrays of another length differ as a whole). */
function diff(a: any, b: any, path: string, out: string[]): void {
  if (Object.is(a, b)) return;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    if (Array.isArray(a) && a.length !== b.length) {
      out.push(path);
      return;
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) diff(a[k], b[k], path === '' ? k : `${path}.${k}`, out);
    return;
  }
  out.push(path);
}

/**
 * True when `path` lies at or below a declared path, or is a container on the way to one (`in` tests of
 * getIn), or the length of such a container (copying an array on the way, as updateIn does).
 */
function allowedRead(path: string, decl: readonly string[]): boolean {
  if (covered(path, decl)) return true;
  const container = path.endsWith('.length') ? path.slice(0, -'.length'.length) : path;
  for (const d of decl) if (d === EVERYTHING || (d.startsWith(container) && d[container.length] === '.')) return true;
  return false;
}

// ----------------------------------------------------------------------------------------------

export interface FootprintCheckOptions {
  model: Pick<ModelDefinition, 'name' | 'footprints' | 'symmetry' | 'propertyFootprints'>;
  options: ModelCreateOptions;
  invariants?: Record<string, Invariant>;
  assertions?: Record<string, Assertion>;
  /** Stop after this many states (the check then covers only them). Default 20000. */
  maxStates?: number;
}

export interface FootprintCheckResult {
  states: number;
  /** Guard and action calls checked against a declaration. */
  checked: number;
  /** Undeclared guards/actions met (not checkable: they count as touching everything). */
  undeclared: string[];
  /** Transpositions checked for automorphism (states x pairs). */
  symmetryChecks: number;
  complete: boolean;
}

/** Runs the check; throws a FootprintError naming the guard or action, the state and the path on a violation. */
export function checkFootprints(packed: PackedSystem, o: FootprintCheckOptions): FootprintCheckResult {
  const system = packed.system;
  const machine: any = system.machine;
  const guardImpls: Record<string, any> = machine.implementations.guards ?? {};
  const actionImpls: Record<string, any> = machine.implementations.actions ?? {};
  const byName = o.model.footprints ?? {};
  const rec: Recorder = { on: true, reads: new Set(), raw: new WeakMap() };
  const maxStates = o.maxStates ?? 20000;
  const undeclared = new Set<string>();
  let checked = 0;

  const declOf = (kind: 'guard' | 'action', type: string | null, impl: any): FootprintDecl | undefined =>
    (type !== null ? byName[type] : undefined) ?? footprintOf(impl);

  const fail = (what: string, where: string, msg: string): never => {
    throw new FootprintError(`--check-footprints: ${what} at ${where} ${msg}`, { feature: 'footprint' });
  };

  const verify = (what: string, where: string, fp: Footprint, reads: Iterable<string>, writes: string[]) => {
    checked++;
    const readable = [...fp.reads, ...fp.writes];
    for (const r of reads) {
      if (!allowedRead(r, readable)) fail(what, where, `reads ${r}, outside its declared footprint (reads ${JSON.stringify(fp.reads)}, writes ${JSON.stringify(fp.writes)}): add it to the declaration`);
    }
    for (const w of writes) {
      if (!covered(w, fp.writes)) fail(what, where, `writes ${w}, outside its declared writes ${JSON.stringify(fp.writes)}: add it to the declaration`);
    }
  };

  /** Evaluates a guard expression, checking each declared named guard on the way. */
  const evalGuard = (g: any, ctx: Context, ev: any, where: string): boolean => {
    if (g === undefined || g === null) return true;
    if (typeof g === 'function') {
      if (g.check && Array.isArray(g.guards)) {
        const kind = BUILTIN.get(g.check) ?? /^(and|or|not)\d*$/.exec(g.name ?? '')?.[1];
        if (!kind) fail(`guard ${g.name}`, where, 'is a built-in guard the footprint check does not know');
        // Evaluate every part (each is checked); combine as XState does.
        const vals: boolean[] = g.guards.map((x: any) => evalGuard(x, ctx, ev, where));
        return kind === 'not' ? !vals[0] : kind === 'or' ? vals.some(Boolean) : vals.every(Boolean);
      }
      const decl = footprintOf(g);
      return runGuard(`inline guard ${g.name || ''}`.trim(), decl, undefined, (c) => g({ context: c, event: ev }, undefined), ctx, where);
    }
    const type = typeof g === 'string' ? g : g.type;
    const params = typeof g === 'string' ? undefined : g.params;
    const impl = guardImpls[type];
    if (typeof impl !== 'function') return evalGuard(impl, ctx, ev, where);
    if (impl.check && Array.isArray(impl.guards)) return evalGuard(impl, ctx, ev, where);
    const p = typeof params === 'function' ? params({ context: ctx, event: ev }) : params;
    return runGuard(`guard ${type}`, typeof params === 'function' ? undefined : declOf('guard', type, impl), p, (c) => impl({ context: c, event: ev }, p), ctx, where);
  };

  /** Runs the model's own code: what it throws is the model's error naming the guard or action and the state, as in the search. */
  const model = <T>(what: string, where: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ModelError || e instanceof ModelRuntimeError) throw e;
      throw new ModelRuntimeError(`${what} threw at state ${where}: ${thrownMessage(e)}${inPlaceHint(e)}`, { state: where }, e);
    }
  };

  const runGuard = (what: string, decl: FootprintDecl | undefined, params: unknown, call: (c: Context) => unknown, ctx: Context, where: string): boolean => {
    if (!decl) {
      undeclared.add(what);
      return !!model(what, where, () => call(ctx));
    }
    rec.reads = new Set();
    rec.on = true;
    const v = !!model(what, where, () => call(recording(ctx, '', rec)));
    rec.on = false;
    verify(what, where, resolveDecl(decl, params, what), rec.reads, []);
    return v;
  };

  /** Runs one action definition on ctx (checking it when declared); returns the next context. */
  const runAction = (a: any, ctx: Context, ev: any, where: string): Context => {
    let impl: any;
    let type: string | null = null;
    let params: unknown;
    if (typeof a === 'function') impl = a;
    else {
      type = typeof a === 'string' ? a : a.type;
      params = typeof a === 'string' ? undefined : a.params;
      impl = actionImpls[type!];
      if (typeof impl === 'string' || (impl && typeof impl === 'object')) return runAction(impl, ctx, ev, where);
    }
    if (!impl || impl.type === 'xstate.log') return ctx;
    if (impl.type !== 'xstate.assign') return ctx;
    const what = type ? `action ${type}` : 'inline assign';
    const p = typeof params === 'function' ? model(what, where, () => (params as any)({ context: ctx, event: ev })) : params;
    const apply = (c: Context) => {
      const args = { context: c, event: ev };
      const asg = impl.assignment;
      let partial: Record<string, unknown>;
      if (typeof asg === 'function') partial = asg(args, p);
      else {
        partial = {};
        for (const k of Object.keys(asg)) partial[k] = typeof asg[k] === 'function' ? asg[k](args, p) : asg[k];
      }
      return Object.assign({}, c, partial);
    };
    let decl = declOf('action', type, impl);
    if (!decl && impl.assignment && typeof impl.assignment === 'object' && Object.keys(impl.assignment).every((k) => typeof impl.assignment[k] !== 'function')) {
      decl = { writes: Object.keys(impl.assignment) };
    }
    if (!decl || typeof params === 'function') {
      undeclared.add(what);
      return model(what, where, () => apply(ctx));
    }
    rec.reads = new Set();
    rec.on = true;
    const out = model(what, where, () => apply(recording(ctx, '', rec)));
    rec.on = false;
    const next = unwrap(out, rec);
    const writes: string[] = [];
    diff(ctx, next, '', writes);
    const fp = resolveDecl(decl, p, what);
    verify(what, where, fp, rec.reads, writes);
    for (const s of fp.sets) {
      const arr = s.split('.').reduce((v: any, k) => (v == null ? v : v[k]), next);
      if (Array.isArray(arr) && arr.some((x, i) => i > 0 && arr[i - 1] > x)) fail(what, where, `declares ${s} a sorted set, but left it unsorted: ${JSON.stringify(arr)}`);
    }
    return next;
  };

  // Properties with a declared footprint: what they read must lie inside it (partial order trusts it for C2).
  const declaredProps = o.model.propertyFootprints ?? {};
  const threadNames = system.threads.map((t) => t.name);
  /** The declarations already checked to be well formed (once each, at the first state the property runs in). */
  const wellFormed = new Set<string>();
  const checkProperty = (kind: 'invariant' | 'assertion', name: string, f: Invariant | Assertion | undefined, leaves: ArrayLike<number>, ctx: Context) => {
    const decl = Object.hasOwn(declaredProps, name) ? declaredProps[name] : undefined;
    if (decl === undefined || typeof f !== 'function') return;
    if (!wellFormed.has(name)) {
      checkPropertyFootprint(o.model.name, name, decl, threadNames);
      wellFormed.add(name);
    }
    const loc = system.locations(leaves);
    const where = Object.entries(loc).map(([t, l]) => `${t}.${l}`).join(', ');
    const what = `${kind} ${name}`;
    const threadsRead = new Set<string>();
    rec.reads = new Set();
    rec.on = true;
    try {
      model(what, where, () => f(recording(ctx, '', rec), recordingLocations(loc, threadsRead)));
    } finally {
      rec.on = false;
    }
    checked++;
    for (const r of rec.reads) {
      if (!allowedRead(r, decl.context)) {
        fail(what, where, `reads ${r}, outside its declared property footprint (context ${JSON.stringify(decl.context)}): add it to propertyFootprints.${name}.context`);
      }
    }
    const locations = decl.locations ?? true;
    if (locations === true) return;
    for (const t of threadsRead) {
      if (locations === false || !locations.includes(t)) {
        fail(what, where, `reads the location of thread ${t}, outside its declared locations ${JSON.stringify(locations)}: add '${t}' to propertyFootprints.${name}.locations (or make it true)`);
      }
    }
  };
  const checkProperties = (leaves: ArrayLike<number>, ctx: Context) => {
    for (const [n, f] of Object.entries(o.invariants ?? {})) checkProperty('invariant', n, f, leaves, ctx);
    for (const t of system.threads) for (const n of t.asserts[leaves[t.index]]) checkProperty('assertion', n, o.assertions?.[n], leaves, ctx);
  };

  const eventObjects = system.events.map((type) => ({ type }));
  const checkState = (leaves: ArrayLike<number>, ctx: Context) => {
    for (const t of system.threads) {
      const leaf = leaves[t.index];
      for (const e of t.leafEvents[leaf]) {
        const cands = t.candidates[leaf][e]!;
        const defs: any[] = [];
        for (let n = t.leaves[leaf]; n && n !== t.node.parent; n = n.parent) defs.push(...((n.transitions as Map<string, any[]>).get(system.events[e]) ?? []));
        const where = `${t.name}.${t.leafPaths[leaf]} on ${system.events[e]}`;
        for (let i = 0; i < cands.length; i++) {
          if (!evalGuard(defs[i].guard, ctx, eventObjects[e], where)) continue;
          // the taken transition: exit actions, its actions, entry (and initial) actions, in order
          const tr = cands[i];
          let c = ctx;
          const run = (list: any) => {
            for (const a of list === undefined ? [] : Array.isArray(list) ? list : [list]) c = runAction(a, c, eventObjects[e], where);
          };
          for (const n of tr.exits) run(n.config?.exit);
          run(defs[i].actions);
          for (const n of tr.entries) {
            run(n.config?.entry);
            if (tr.defaultEntries.has(n) && n.type === 'compound') run(n.initial?.actions);
          }
          break;
        }
      }
    }
  };

  // Symmetry: adjacent transpositions of each group generate all its permutations.
  const groups = symmetryGroups(o.model, o.options).filter((g) => g.threads.length > 1);
  const fps = groups.length ? systemFootprints(system, { byName }) : null;
  const sym = groups.length ? compileSymmetry(system, groups, fps!.sets) : null;
  const permuter = sym ? createRepresentative(packed, sym) : null;
  const swaps: Array<{ perm: Int32Array; events: Int32Array }> = [];
  if (sym) {
    for (const g of sym.groups) {
      for (let j = 1; j < g.members.length; j++) {
        const a = g.members[j - 1];
        const b = g.members[j];
        const perm = Int32Array.from({ length: system.threads.length }, (_, i) => (i === a ? b : i === b ? a : i));
        const na = system.threads[a].name;
        const nb = system.threads[b].name;
        const re = namesPattern([na, nb]);
        const events = Int32Array.from(system.events, (name) => {
          const swapped = name.replace(re, (m) => (m === na ? nb : na));
          const k = system.events.indexOf(swapped);
          if (k < 0) throw new FootprintError(`--check-footprints: symmetry: event ${name} of the swap ${na}<->${nb} has no counterpart ${swapped}`, { feature: 'symmetry' });
          return k;
        });
        swaps.push({ perm, events });
      }
    }
  }
  const fp = new Uint32Array(2);
  const keyOf = (leaves: ArrayLike<number>, ctx: Context) => {
    const w = packed.encodeView(leaves, ctx);
    fingerprint(w, fp, w.length);
    return `${fp[0]}:${fp[1]}`;
  };
  /** Invariant verdicts, and assertion verdicts per thread (thread i reported as perm[i]). */
  const verdicts = (leaves: ArrayLike<number>, ctx: Context, perm?: Int32Array) => {
    const loc = system.locations(leaves);
    const out: string[] = [];
    for (const [n, f] of Object.entries(o.invariants ?? {})) out.push(`${n}=${!!f(ctx, loc)}`);
    for (const t of system.threads) {
      for (const n of t.asserts[leaves[t.index]]) out.push(`${perm ? perm[t.index] : t.index}:${n}=${!!o.assertions?.[n]?.(ctx, loc)}`);
    }
    return out.sort();
  };
  let symmetryChecks = 0;
  const checkSymmetry = (leaves: Int32Array, ctx: Context) => {
    for (const s of swaps) {
      symmetryChecks++;
      const img = permuter!.applyPermutation(leaves, ctx, s.perm);
      const where = `swap ${[...s.perm].map((x, i) => (x !== i ? system.threads[i].name : '')).filter(Boolean).join('<->')}`;
      const v1 = verdicts(leaves, ctx, s.perm);
      const v2 = verdicts(img.leaves, img.context);
      if (v1.join() !== v2.join()) fail('symmetry', where, `changes a property's verdict (${v1.join(', ')} vs ${v2.join(', ')}): the property names a thread of the group, or the threads differ`);
      for (let e = 0; e < system.events.length; e++) {
        const r1 = system.step(leaves, ctx, e);
        const r2 = system.step(img.leaves, img.context, s.events[e]);
        if (!r1 !== !r2) fail('symmetry', where, `event ${system.events[e]} is ${r1 ? '' : 'not '}enabled but its image ${system.events[s.events[e]]} is ${r2 ? '' : 'not '}enabled`);
        if (!r1 || !r2) continue;
        const want = permuter!.applyPermutation(r1.leaves, r1.context, s.perm);
        if (keyOf(want.leaves, want.context) !== keyOf(r2.leaves, r2.context)) {
          fail('symmetry', where, `event ${system.events[e]}: the swapped successor differs from the successor of the swapped state ` +
            `(a list of thread names kept sorted but not declared as a set, or a guard/action that depends on a thread's name)`);
        }
      }
    }
  };

  // Unreduced breadth-first walk.
  const init = packed.initial();
  const seen = new Set<string>([keyOf(init.leaves, init.context)]);
  const queue: Array<{ leaves: Int32Array; context: Context }> = [{ leaves: init.leaves, context: init.context }];
  let complete = true;
  for (let h = 0; h < queue.length; h++) {
    const { leaves, context } = queue[h];
    checkState(leaves, context);
    checkProperties(leaves, context);
    if (swaps.length) checkSymmetry(leaves, context);
    if (system.allFinal(leaves)) continue;
    for (let e = 0; e < system.events.length; e++) {
      const r = system.step(leaves, context, e);
      if (!r) continue;
      const k = keyOf(r.leaves, r.context);
      if (seen.has(k)) continue;
      if (seen.size >= maxStates) {
        complete = false;
        continue;
      }
      seen.add(k);
      queue.push({ leaves: r.leaves, context: packed.decodeContext(packed.encode(r.leaves, r.context)) });
    }
  }
  return { states: seen.size, checked, undeclared: [...undeclared].sort(), symmetryChecks, complete };
}

export { EVERYTHING };
