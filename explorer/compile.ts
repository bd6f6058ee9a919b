// The compiler: turns an XState v5 machine (parallel root, one region per thread) into a fast
// transition system over (one leaf per thread, context).
//
// Semantics follow XState's own microstep (see node_modules/xstate .../raise-*.esm.js, `microstep`,
// `computeExitSet`, `computeEntrySet`, `getTransitionDomain`): for an event, each thread selects the
// first transition whose guard holds, walking from its active leaf up to the thread's region node;
// then exit actions of all exited states run (reverse document order), then the transitions'
// actions, then entry actions of entered states (document order). Guards see the pre-step context.
// When every thread ends in a final state the machine is done: XState runs the exit actions of all
// active states, and no further step is possible.
//
// What it does not support it rejects with a ModelError naming the state, the event and the feature.
import { and, initialTransition, not, or, type AnyStateMachine } from 'xstate';
import { inPlaceHint, ModelError, ModelRuntimeError, thrownMessage } from './errors.ts';
import type { Context, LockEffect, ThreadLocations } from './model.ts';
import { checkEventOwnership } from './ownership.ts';

type StateNode = any;
type Event = { type: string };

/** A compiled guard: evaluates against the pre-step context. */
export type GuardFn = (ctx: Context, event: Event) => boolean;
/** A compiled action: returns the next context (never mutates). */
export type ActionFn = (ctx: Context, event: Event) => Context;
/**
 * A compiled named action whose implementation declares a lock acquisition (`lockEffect`, see
 * LockEffect in model.ts): the declaration and the action's params, for the lock-order check.
 */
export interface LockAction {
  lockEffect: LockEffect;
  lockParams: (ctx: Context, event: Event) => unknown;
}

/** A named guard reference with resolved params, for wait reports. */
export interface GuardRef {
  type: string;
  params: unknown;
  /** True when the reference sits under a `not`. */
  negated: boolean;
}

export interface CompiledTransition {
  thread: number;
  event: number;
  /** Id of the state node that declares it. */
  source: string;
  guard: GuardFn | null;
  /** Named guards inside the guard expression (for wait reports). */
  guardRefs: (ctx: Context, event: Event) => GuardRef[];
  guardLabel: string;
  /** Leaf index after the transition, or -1 when the leaf does not change (targetless). */
  target: number;
  /** Nodes exited, in exit order (reverse document order), with their exit actions. */
  exits: StateNode[];
  /** Nodes entered, in entry order (document order), with their entry actions. */
  entries: StateNode[];
  /** The entered nodes that are entered by default (they also run their `initial` actions). */
  defaultEntries: Set<StateNode>;
  actions: ActionFn[];
  /** Exit actions, transition actions and entry actions in the order a lone transition runs them. */
  sequence: ActionFn[];
  /** The transition's `meta.progress`. */
  progress: boolean;
  meta: Record<string, unknown> | undefined;
}

export interface CompiledThread {
  name: string;
  index: number;
  node: StateNode;
  leaves: StateNode[];
  /** Dotted path of each leaf relative to the thread's region node. */
  leafPaths: string[];
  isFinal: boolean[];
  /** A valid place to stop: a final leaf, or `meta: { end: true }` on the leaf or an ancestor (SPIN's end labels). */
  isEnd: boolean[];
  /** Assertion names in force at each leaf (the leaf's and its ancestors' `meta.assert`). */
  asserts: string[][];
  /** `meta.progress` on the leaf or an ancestor. */
  progressLeaf: boolean[];
  /** `meta` of the leaf, merged over its ancestors' (nearest wins). */
  leafMeta: Array<Record<string, unknown>>;
  /** candidates[leaf][event]: transitions to try in order, or undefined. */
  candidates: Array<Array<CompiledTransition[] | undefined>>;
  /** For each leaf, the event indices that have candidates. */
  leafEvents: number[][];
}

export interface CompiledSystem {
  machine: AnyStateMachine;
  threads: CompiledThread[];
  events: string[];
  /** Threads that declare a transition for each event. */
  eventThreads: number[][];
  initialLeaves: Int32Array;
  initialContext: Context;
  /** Exit actions run when every thread is final (XState's "done" status), root last. */
  doneExit: (leaves: Int32Array, ctx: Context, event: Event) => Context;
  /**
   * Events that some thread has a transition for at these leaves, ascending: the only events worth
   * stepping. The returned array is reused by the next call.
   */
  candidateEvents(leaves: ArrayLike<number>): number[];
  /** Successor for an event, or null when no thread has an enabled transition for it. */
  step(leaves: Int32Array, ctx: Context, event: number): StepResult | null;
  /**
   * The search's allocation-free step: writes the next leaves into `out`, returns the next context
   * (or null when nothing is enabled); the transitions taken are left in `taken`.
   */
  stepInto(leaves: ArrayLike<number>, ctx: Context, event: number, out: Int32Array): Context | null;
  /** The transitions the last stepInto (or step) that returned a successor took; overwritten by the next one. */
  readonly taken: readonly CompiledTransition[];
  locations(leaves: ArrayLike<number>): ThreadLocations;
  allFinal(leaves: ArrayLike<number>): boolean;
  /** Every thread is final or at a valid end (`meta.end`): a state with no enabled step here is no deadlock. */
  allEnded(leaves: ArrayLike<number>): boolean;
}

export interface StepResult {
  leaves: Int32Array;
  context: Context;
  /** The transitions taken (one per thread that moved). */
  taken: CompiledTransition[];
}

const UNSUPPORTED_ACTIONS: Record<string, string> = {
  'xstate.raise': 'raise',
  'xstate.sendTo': 'sendTo',
  'xstate.sendParent': 'sendParent',
  'xstate.emit': 'emit',
  'xstate.enqueueActions': 'enqueueActions',
  'xstate.spawnChild': 'spawnChild',
  'xstate.stopChild': 'stopChild',
  'xstate.cancel': 'cancel',
};

function nodePath(node: StateNode): string {
  return node.path.length ? node.path.join('.') : '(root)';
}

function isDescendant(child: StateNode, parent: StateNode): boolean {
  let m = child;
  while (m.parent && m.parent !== parent) m = m.parent;
  return m.parent === parent;
}

function properAncestors(node: StateNode, upTo: StateNode | undefined): StateNode[] {
  const out: StateNode[] = [];
  // As XState's getProperAncestors: none when the node is the bound itself (a self-targeting transition).
  if (node === upTo) return out;
  let m = node.parent;
  while (m && m !== upTo) {
    out.push(m);
    m = m.parent;
  }
  return out;
}

interface Where {
  state: string;
  event?: string;
}

const BUILTIN_CHECKS = new Map<unknown, 'and' | 'or' | 'not'>([
  [(and([]) as any).check, 'and'],
  [(or([]) as any).check, 'or'],
  [(not(() => true) as any).check, 'not'],
]);

/**
 * Which of XState's and/or/not a built-in guard is: by its check function (the same xstate instance), else by
 * its name, allowing the numeric suffix a bundler adds when it renames (esbuild turns `and` into `and3`).
 */
function builtinGuardKind(f: any): 'and' | 'or' | 'not' | null {
  const byCheck = BUILTIN_CHECKS.get(f.check);
  if (byCheck) return byCheck;
  const m = /^(and|or|not)\d*$/.exec(typeof f.name === 'string' ? f.name : '');
  return m ? (m[1] as 'and' | 'or' | 'not') : null;
}

/** Compiles guard expressions into closures, following XState's evaluateGuard. */
function createGuardCompiler(machine: AnyStateMachine) {
  const impls: Record<string, unknown> = (machine.implementations as any).guards ?? {};

  function label(g: unknown): string {
    if (typeof g === 'string') return g;
    if (typeof g === 'function') {
      const f = g as any;
      if (f.check && Array.isArray(f.guards)) return `${builtinGuardKind(f) ?? f.name}(${f.guards.map(label).join(', ')})`;
      return f.name ? `inline ${f.name}` : 'inline guard';
    }
    if (g && typeof g === 'object' && 'type' in (g as any)) {
      const o = g as { type: unknown; params?: unknown };
      return 'params' in o ? `${String(o.type)}(${paramsLabel(o.params)})` : String(o.type);
    }
    return String(g);
  }

  /** A guard's params as a diagram shows them: mutexFree(A), below(a, 3); dynamic params as …. */
  function paramsLabel(p: unknown): string {
    if (typeof p === 'function') return '…';
    const one = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
    if (Array.isArray(p)) return p.map(one).join(', ');
    if (p && typeof p === 'object') return Object.values(p).map(one).join(', ');
    return p === undefined ? '' : one(p);
  }

  function compile(g: unknown, where: Where, depth = 0): { fn: GuardFn; refs: (ctx: Context, ev: Event, neg: boolean, out: GuardRef[]) => void } {
    if (depth > 64) throw new ModelError(`guard at ${where.state} on ${where.event} resolves in a cycle`, { ...where, feature: 'guard' });
    const lbl = label(g);
    const fail = (e: unknown): never => {
      if (e instanceof ModelRuntimeError) throw e;
      throw new ModelRuntimeError(
        `guard ${lbl} threw at state ${where.state} on event ${where.event}: ${thrownMessage(e)}${inPlaceHint(e)}`,
        { state: where.state, event: where.event, guard: lbl },
        e,
      );
    };
    const wrap = (fn: (ctx: Context, ev: Event) => boolean): GuardFn => (ctx, ev) => {
      try {
        return !!fn(ctx, ev);
      } catch (e) {
        return fail(e);
      }
    };
    const noRefs = () => {};
    if (typeof g === 'function') {
      const f = g as any;
      if ('check' in f) return compileBuiltin(f, where, depth);
      return { fn: wrap((ctx, ev) => f({ context: ctx, event: ev }, undefined)), refs: noRefs };
    }
    let type: string;
    let params: unknown;
    let hasParams = false;
    if (typeof g === 'string') {
      type = g;
    } else if (g && typeof g === 'object' && typeof (g as any).type === 'string') {
      type = (g as any).type;
      hasParams = 'params' in (g as any);
      params = (g as any).params;
    } else {
      throw new ModelError(`guard at ${where.state} on ${where.event} is not a function, name or {type, params}: ${String(g)}`, {
        ...where,
        feature: 'guard',
      });
    }
    const resolved = impls[type];
    if (resolved === undefined) {
      const known = Object.keys(impls);
      throw new ModelError(
        `guard '${type}' at state ${where.state} on event ${where.event} is not implemented; ` +
          `add it to setup({ guards }) (known guards: ${known.length ? known.join(', ') : 'none'})`,
        { ...where, guard: type, feature: 'guard' },
      );
    }
    if (typeof resolved !== 'function') return compile(resolved, where, depth + 1);
    if ('check' in (resolved as any)) return compileBuiltin(resolved as any, where, depth);
    const r = resolved as (args: unknown, params: unknown) => boolean;
    const paramsOf =
      hasParams && typeof params === 'function'
        ? (ctx: Context, ev: Event) => (params as any)({ context: ctx, event: ev })
        : () => params;
    // One args object per guard, refilled per call (guards do not nest, and none keeps its args).
    const args = { context: null as unknown as Context, event: null as unknown as Event };
    return {
      fn: freshCopy(GUARD_CALL_SOURCE, guardCallFactory)(args, r, paramsOf, fail),
      refs: (ctx, ev, neg, out) => out.push({ type, params: paramsOf(ctx, ev), negated: neg }),
    };
  }

  function compileBuiltin(f: any, where: Where, depth: number) {
    const kind = builtinGuardKind(f);
    if (kind === null) {
      throw new ModelError(
        `guard ${f.name || 'builtin'} at state ${where.state} on event ${where.event} is not supported ` +
          `(supported: inline and named guards, and/or/not); express it over the context instead`,
        { ...where, feature: `guard ${f.name || 'builtin'}` },
      );
    }
    const parts = (f.guards as unknown[]).map((p) => compile(p, where, depth + 1));
    const fns = parts.map((p) => p.fn);
    let fn: GuardFn;
    if (kind === 'not') fn = (ctx, ev) => !fns[0](ctx, ev);
    else if (kind === 'and') fn = (ctx, ev) => fns.every((h) => h(ctx, ev));
    else fn = (ctx, ev) => fns.some((h) => h(ctx, ev));
    const refs = (ctx: Context, ev: Event, neg: boolean, out: GuardRef[]) => {
      for (const p of parts) p.refs(ctx, ev, kind === 'not' ? !neg : neg, out);
    };
    return { fn, refs };
  }

  return { compile, label };
}

/**
 * A fresh copy of a closure factory: the same code, compiled as its own function, so each guard or action
 * made by it gets its own type feedback in V8 (closures of one shared function share feedback, and the calls
 * into the model's functions go megamorphic). The copy is compiled from `source`, the factory's code written
 * out as plain JavaScript (the factory's own toString is whatever the TypeScript loader made of it, with its
 * helpers); test/explorer/compile.test.ts checks the two agree. Where code generation from strings is
 * disallowed (node --disallow-code-generation-from-strings), the factory itself.
 */
function freshCopy<F extends (...args: any[]) => any>(source: string, factory: F): F {
  try {
    return new Function(`return (${source});`)() as F;
  } catch (e) {
    if (e instanceof EvalError) return factory;
    throw e;
  }
}

export const GUARD_CALL_SOURCE = `function guardCallFactory(args, guard, paramsOf, fail) {
  return function guardCall(ctx, ev) {
    try {
      args.context = ctx;
      args.event = ev;
      return !!guard(args, paramsOf(ctx, ev));
    } catch (e) {
      return fail(e);
    }
  };
}`;

export const SINGLE_ASSIGN_SOURCE = `function singleAssignFactory(args, key, value, paramsOf, fail) {
  return function assignOne(ctx, ev) {
    try {
      args.context = ctx;
      args.event = ev;
      const params = paramsOf(ctx, ev);
      const v = typeof value === 'function' ? value(args, params) : value;
      const out = { ...ctx };
      out[key] = v;
      return out;
    } catch (e) {
      return fail(e);
    }
  };
}`;

/** A named guard's call (GUARD_CALL_SOURCE): one args object, refilled per call (guards do not nest, and none keeps its args). */
export function guardCallFactory(
  args: { context: Context; event: Event },
  guard: (args: unknown, params: unknown) => boolean,
  paramsOf: (ctx: Context, ev: Event) => unknown,
  fail: (e: unknown) => never,
): GuardFn {
  return function guardCall(ctx: Context, ev: Event): boolean {
    try {
      args.context = ctx;
      args.event = ev;
      return !!guard(args, paramsOf(ctx, ev));
    } catch (e) {
      return fail(e);
    }
  };
}

/** assign({ key: value }), the common case (SINGLE_ASSIGN_SOURCE): no partial object; the result keeps ctx's keys in ctx's order. */
export function singleAssignFactory(
  args: { context: Context; event: Event },
  key: string,
  value: unknown,
  paramsOf: (ctx: Context, ev: Event) => unknown,
  fail: (e: unknown) => never,
): ActionFn {
  return function assignOne(ctx: Context, ev: Event): Context {
    try {
      args.context = ctx;
      args.event = ev;
      const params = paramsOf(ctx, ev);
      const v = typeof value === 'function' ? value(args, params) : value;
      const out: Record<string, unknown> = { ...ctx };
      out[key] = v;
      return out;
    } catch (e) {
      return fail(e);
    }
  };
}

/** Compiles actions into context transformers, following XState's resolveAssign. */
function createActionCompiler(machine: AnyStateMachine) {
  const impls: Record<string, unknown> = (machine.implementations as any).actions ?? {};

  function assignFn(a: any, paramsOf: (ctx: Context, ev: Event) => unknown, name: string, where: Where): ActionFn {
    const assignment = a.assignment;
    // One args object per action, refilled per call (actions do not nest, and none keeps its args).
    const args = { context: null as unknown as Context, event: null as unknown as Event };
    const keys = typeof assignment === 'function' ? null : Object.keys(assignment);
    // (`__proto__` would hit the prototype setter on a plain write: it takes the general path, as in XState.)
    const single = keys !== null && keys.length === 1 && keys[0] !== '__proto__' ? keys[0] : null;
    const singleValue = single === null ? undefined : assignment[single];
    const fail = (e: unknown): never => {
      throw new ModelRuntimeError(
        `action ${name} threw at state ${where.state}${where.event ? ` on event ${where.event}` : ''}: ${thrownMessage(e)}${inPlaceHint(e)}`,
        { state: where.state, event: where.event, action: name },
        e,
      );
    };
    if (single !== null) {
      // The common case, assign({ key: fn }), as its own compiled function (see freshCopy).
      return freshCopy(SINGLE_ASSIGN_SOURCE, singleAssignFactory)(args, single, singleValue, paramsOf, fail);
    }
    return (ctx, ev) => {
      try {
        args.context = ctx;
        args.event = ev;
        const params = paramsOf(ctx, ev);
        let partial: Record<string, unknown>;
        if (keys === null) partial = assignment(args, params);
        else {
          partial = {};
          for (const key of keys) {
            const v = assignment[key];
            partial[key] = typeof v === 'function' ? v(args, params) : v;
          }
        }
        return Object.assign({}, ctx, partial);
      } catch (e) {
        return fail(e);
      }
    };
  }

  function compile(a: unknown, where: Where): ActionFn | null {
    if (typeof a === 'function') {
      const f = a as any;
      if (f.type === 'xstate.assign') return assignFn(f, () => undefined, 'inline assign', where);
      if (f.type === 'xstate.log') return null;
      if (typeof f.type === 'string' && f.type.startsWith('xstate.')) {
        const feature = UNSUPPORTED_ACTIONS[f.type] ?? f.type;
        throw new ModelError(
          `action ${feature} at state ${where.state}${where.event ? ` on event ${where.event}` : ''} is not supported: ` +
            `threads communicate through the shared context; use assign() to change it`,
          { ...where, feature, action: feature },
        );
      }
      throw new ModelError(
        `custom action ${f.name || '(anonymous)'} at state ${where.state}${where.event ? ` on event ${where.event}` : ''} ` +
          `is not supported: only assign() changes state; write it as assign(...)`,
        { ...where, feature: 'custom action', action: f.name || '(anonymous)' },
      );
    }
    let type: string;
    let params: unknown;
    let hasParams = false;
    if (typeof a === 'string') type = a;
    else if (a && typeof a === 'object' && typeof (a as any).type === 'string') {
      type = (a as any).type;
      hasParams = 'params' in (a as any);
      params = (a as any).params;
    } else {
      throw new ModelError(`action at state ${where.state} is not a function, name or {type, params}: ${String(a)}`, {
        ...where,
        feature: 'action',
      });
    }
    const resolved = impls[type] as any;
    if (resolved === undefined) {
      const known = Object.keys(impls);
      throw new ModelError(
        `action '${type}' at state ${where.state}${where.event ? ` on event ${where.event}` : ''} is not implemented; ` +
          `add it to setup({ actions }) (known actions: ${known.length ? known.join(', ') : 'none'})`,
        { ...where, action: type, feature: 'action' },
      );
    }
    if (typeof resolved === 'function' && resolved.type === 'xstate.assign') {
      const paramsOf =
        hasParams && typeof params === 'function'
          ? (ctx: Context, ev: Event) => (params as any)({ context: ctx, event: ev })
          : () => params;
      const fn = assignFn(resolved, paramsOf, type, where);
      if (resolved.lockEffect) Object.assign(fn, { lockEffect: resolved.lockEffect, lockParams: paramsOf } satisfies LockAction);
      return fn;
    }
    if (typeof resolved === 'function' && resolved.type === 'xstate.log') return null;
    const inner = compile(resolved, where);
    return inner;
  }

  function compileList(list: unknown, where: Where): ActionFn[] {
    const arr = list === undefined ? [] : Array.isArray(list) ? list : [list];
    const out: ActionFn[] = [];
    for (const a of arr) {
      const fn = compile(a, where);
      if (fn) out.push(fn);
    }
    return out;
  }

  return { compileList };
}

function checkNodeFeatures(node: StateNode, isRoot: boolean): void {
  const where = nodePath(node);
  const cfg = node.config ?? {};
  const reject = (feature: string, fix: string) => {
    throw new ModelError(`state ${where} uses ${feature}, which interleave does not support: ${fix}`, { state: where, feature });
  };
  if (node.type === 'history') reject('a history state', 'model the remembered state in the context instead');
  if (!isRoot && node.type === 'parallel') {
    reject('a parallel state inside a thread', 'make each concurrent activity its own top-level region (thread)');
  }
  if (node.invoke?.length || cfg.invoke) reject('invoke', 'model the invoked activity as its own thread');
  if (cfg.after) reject("'after' (delayed transitions)", 'model time as an explicit thread or event');
  if (cfg.always) reject("'always' (eventless transitions)", 'give the step its own thread-qualified event');
  if (cfg.onDone) reject("'onDone'", 'add an explicit event from the final state instead');
  if (cfg.onError) reject("'onError'", 'remove it; errors are modelled in the context');
  for (const key of Object.keys(cfg.on ?? {})) {
    if (key.includes('*')) {
      throw new ModelError(`state ${where} has a wildcard event '${key}', which interleave does not support: name each event`, {
        state: where,
        event: key,
        feature: 'wildcard event',
      });
    }
  }
}

export function compileMachine(machine: AnyStateMachine): CompiledSystem {
  const root = machine.root as StateNode;
  if (root.type !== 'parallel') {
    throw new ModelError(
      `the machine's root is '${root.type}', but interleave needs type: 'parallel' at the root, ` +
        `with one top-level region per thread`,
      { state: '(root)', feature: 'root type' },
    );
  }
  checkNodeFeatures(root, true);
  if (root.config.on && Object.keys(root.config.on).length) {
    const ev = Object.keys(root.config.on)[0];
    throw new ModelError(`the root declares 'on' (event ${ev}); events belong to threads: move the transition into a thread`, {
      state: '(root)',
      event: ev,
      feature: 'root transition',
    });
  }

  const guards = createGuardCompiler(machine);
  const actions = createActionCompiler(machine);
  const events: string[] = [];
  const eventIndex = new Map<string, number>();
  const eventId = (type: string) => {
    let i = eventIndex.get(type);
    if (i === undefined) {
      i = events.length;
      events.push(type);
      eventIndex.set(type, i);
    }
    return i;
  };

  const regions: StateNode[] = Object.values(root.states);
  if (regions.length === 0) throw new ModelError('the machine has no threads (top-level regions)', { state: '(root)' });

  const threads: CompiledThread[] = [];
  const entryActionsCache = new Map<StateNode, ActionFn[]>();
  const exitActionsCache = new Map<StateNode, ActionFn[]>();
  const entryOf = (n: StateNode) => {
    let a = entryActionsCache.get(n);
    if (!a) entryActionsCache.set(n, (a = actions.compileList(n.config?.entry, { state: nodePath(n) })));
    return a;
  };
  /** Entry actions of a state entered by default (XState's statesForDefaultEntry): entry, then `initial` actions. */
  const defaultEntryOf = (n: StateNode) => {
    const initialActions = n.type === 'compound' ? n.initial?.actions : undefined;
    if (!initialActions || initialActions.length === 0) return entryOf(n);
    return [...entryOf(n), ...actions.compileList(initialActions, { state: nodePath(n) })];
  };
  const exitOf = (n: StateNode) => {
    let a = exitActionsCache.get(n);
    if (!a) exitActionsCache.set(n, (a = actions.compileList(n.config?.exit, { state: nodePath(n) })));
    return a;
  };

  regions.forEach((region, ti) => {
    const name = region.key as string;
    if (region.type === 'atomic' || region.type === 'final') {
      throw new ModelError(
        `thread ${name} has no states; give it an initial state and at least one state (a thread is a compound region)`,
        { state: nodePath(region), feature: 'atomic thread' },
      );
    }
    const leaves: StateNode[] = [];
    const visit = (n: StateNode) => {
      checkNodeFeatures(n, false);
      if (n.type === 'final' && n.parent !== region) {
        throw new ModelError(
          `state ${nodePath(n)} is a final state nested inside ${nodePath(n.parent)}; a thread's valid end must be a ` +
            `final state directly under the thread (XState finishes a region only there): move it up to ${nodePath(region)}, ` +
            `or make it an ordinary state`,
          { state: nodePath(n), feature: 'nested final state' },
        );
      }
      if (n.type === 'atomic' || n.type === 'final') leaves.push(n);
      else for (const c of Object.values(n.states)) visit(c);
    };
    visit(region);
    leaves.sort((a, b) => a.order - b.order);
    const leafIndex = new Map<StateNode, number>(leaves.map((l, i) => [l, i]));
    const rel = (n: StateNode) => n.path.slice(1).join('.');
    const chainOf = (leaf: StateNode) => {
      const chain: StateNode[] = [];
      for (let m = leaf; m && m !== root; m = m.parent) chain.push(m);
      return chain; // leaf .. region
    };

    const thread: CompiledThread = {
      name,
      index: ti,
      node: region,
      leaves,
      leafPaths: leaves.map(rel),
      isFinal: leaves.map((l) => l.type === 'final'),
      isEnd: [],
      asserts: [],
      progressLeaf: [],
      leafMeta: [],
      candidates: [],
      leafEvents: [],
    };

    /** The leaf reached by entering `target` (descending through initial states). */
    const settle = (target: StateNode, where: Where): StateNode => {
      let n = target;
      while (n.type === 'compound') {
        const init = n.initial?.target?.[0];
        if (!init) throw new ModelError(`state ${nodePath(n)} has no initial state; add initial: '<child>'`, { ...where, feature: 'initial' });
        n = init;
      }
      return n;
    };

    for (const leaf of leaves) {
      const chain = chainOf(leaf);
      const asserts: string[] = [];
      let progress = false;
      const meta: Record<string, unknown> = {};
      for (let i = chain.length - 1; i >= 0; i--) {
        const m = chain[i].meta;
        if (m && typeof m === 'object') {
          Object.assign(meta, m);
          if (m.assert !== undefined) {
            for (const a of Array.isArray(m.assert) ? m.assert : [m.assert]) {
              if (typeof a !== 'string') {
                throw new ModelError(`state ${nodePath(chain[i])} has meta.assert that is not a name: use a string naming a predicate in the model's assertions`, {
                  state: nodePath(chain[i]),
                  feature: 'meta.assert',
                });
              }
              asserts.push(a);
            }
          }
          if (m.progress) progress = true;
        }
      }
      thread.asserts.push(asserts);
      thread.progressLeaf.push(progress);
      thread.leafMeta.push(meta);
      if (meta.end !== undefined && typeof meta.end !== 'boolean') {
        throw new ModelError(`state ${nodePath(leaf)} has meta.end that is not a boolean: write meta: { end: true } to mark a valid end state`, {
          state: nodePath(leaf),
          feature: 'meta.end',
        });
      }
      thread.isEnd.push(leaf.type === 'final' || meta.end === true);

      const byEvent: Array<CompiledTransition[] | undefined> = [];
      for (const node of chain) {
        for (const [type, defs] of node.transitions as Map<string, any[]>) {
          if (type.startsWith('xstate.')) {
            throw new ModelError(
              `state ${nodePath(node)} handles the XState internal event '${type}', which interleave does not support: ` +
                `give the step its own thread-qualified event`,
              { state: nodePath(node), event: type, feature: 'internal event' },
            );
          }
          const ev = eventId(type);
          const list = (byEvent[ev] ??= []);
          for (const t of defs) {
            const where: Where = { state: nodePath(node), event: type };
            const targets: StateNode[] = t.target ?? [];
            let targetLeaf = -1;
            let exits: StateNode[] = [];
            let entries: StateNode[] = [];
            let defaultEntries = new Set<StateNode>();
            if (targets.length > 1) {
              throw new ModelError(`transition from ${where.state} on ${type} has several targets; a thread has one active state`, {
                ...where,
                feature: 'multiple targets',
              });
            }
            if (targets.length === 1) {
              const target = targets[0];
              if (target.type === 'history') {
                throw new ModelError(`transition from ${where.state} on ${type} targets a history state`, { ...where, feature: 'history' });
              }
              if (target !== region && !isDescendant(target, region)) {
                throw new ModelError(
                  `transition from ${where.state} on ${type} targets ${nodePath(target)}, outside thread ${name}; ` +
                    `threads interact only through the shared context`,
                  { ...where, feature: 'cross-thread target' },
                );
              }
              // Transition domain, as XState's getTransitionDomain.
              let domain: StateNode;
              if (!t.reenter && (target === node || isDescendant(target, node))) domain = node;
              else {
                const lca = properAncestors(node, undefined).find((a: StateNode) => isDescendant(target, a));
                domain = lca;
              }
              if (domain === root || domain === undefined) {
                throw new ModelError(`transition from ${where.state} on ${type} leaves thread ${name}`, { ...where, feature: 'cross-thread target' });
              }
              // Exit set: active nodes (the leaf's chain) that are descendants of the domain, plus the domain on reenter.
              const exitSet = chain.filter((n) => isDescendant(n, domain));
              if (t.reenter && node === domain) exitSet.push(domain);
              exits = exitSet.sort((a, b) => b.order - a.order);
              // Entry set: as computeEntrySet with addDescendantStatesToEnter/addAncestorStatesToEnter.
              const enter = new Set<StateNode>();
              // States entered by default run their `initial` actions after their entry actions.
              const byDefault = new Set<StateNode>();
              if (target !== node || node !== domain || t.reenter) {
                enter.add(target);
                byDefault.add(target);
              }
              const finalLeaf = settle(target, where);
              for (let m = finalLeaf; m !== target; m = m.parent) {
                enter.add(m);
                byDefault.add(m);
              }
              for (const a of properAncestors(target, domain)) enter.add(a);
              entries = [...enter].sort((a, b) => a.order - b.order);
              defaultEntries = byDefault;
              targetLeaf = leafIndex.get(finalLeaf)!;
            }
            const g = t.guard === undefined ? null : guards.compile(t.guard, where);
            const own = actions.compileList(t.actions, where);
            list.push({
              thread: ti,
              event: ev,
              source: nodePath(node),
              guard: g ? g.fn : null,
              guardRefs: g
                ? (ctx, e) => {
                    const out: GuardRef[] = [];
                    g.refs(ctx, e, false, out);
                    return out;
                  }
                : () => [],
              guardLabel: t.guard === undefined ? '' : guards.label(t.guard),
              target: targetLeaf,
              exits,
              entries,
              actions: own,
              sequence: [...exits.flatMap(exitOf), ...own, ...entries.flatMap((n) => (defaultEntries.has(n) ? defaultEntryOf(n) : entryOf(n)))],
              defaultEntries,
              progress: !!t.meta?.progress,
              meta: t.meta,
            });
          }
        }
      }
      thread.candidates.push(byEvent);
      thread.leafEvents.push(byEvent.map((l, i) => (l && l.length ? i : -1)).filter((i) => i >= 0));
    }
    threads.push(thread);
  });
  // Dense candidate tables: byEvent was filled at scattered event indices, which leaves V8 a holey (or
  // dictionary-mode) array; the step looks them up for every event of every expanded state.
  for (const t of threads) {
    t.candidates = t.candidates.map((byEvent) => Array.from({ length: events.length }, (_, e) => byEvent[e]));
  }
  // Entry/exit actions compile eagerly so unsupported ones are rejected up front.
  for (const t of threads) for (const leaf of t.leaves) for (let m = leaf; m; m = m.parent) (entryOf(m), exitOf(m));

  const eventThreads: number[][] = events.map(() => []);
  for (const t of threads) {
    const seen = new Set<number>();
    for (const evs of t.leafEvents) for (const e of evs) seen.add(e);
    for (const e of [...seen].sort((a, b) => a - b)) eventThreads[e].push(t.index);
  }
  for (const list of eventThreads) list.sort((a, b) => a - b);
  checkEventOwnership({ threads, events, eventThreads, joint: root.meta?.joint });

  // Initial state from XState itself: entry actions and initial states exactly as XState runs them.
  let init;
  try {
    [init] = initialTransition(machine);
  } catch (e) {
    throw new ModelRuntimeError(`the machine's initial state could not be computed: ${thrownMessage(e)}`, { state: '(root)' }, e);
  }
  const initialLeaves = new Int32Array(threads.length);
  const initNodes: StateNode[] = (init as any)._nodes;
  for (const t of threads) {
    const leaf = initNodes.find((n: StateNode) => (n.type === 'atomic' || n.type === 'final') && (n === t.node || isDescendant(n, t.node)));
    initialLeaves[t.index] = t.leaves.indexOf(leaf);
  }

  const runAll = (fns: ActionFn[], ctx: Context, ev: Event) => {
    for (const f of fns) ctx = f(ctx, ev);
    return ctx;
  };

  const doneExit = (leaves: Int32Array, ctx: Context, ev: Event) => {
    const active = new Set<StateNode>();
    for (const t of threads) for (let m = t.leaves[leaves[t.index]]; m; m = m.parent) active.add(m);
    for (const n of [...active].sort((a, b) => b.order - a.order)) ctx = runAll(exitOf(n), ctx, ev);
    return ctx;
  };

  const allFinal = (leaves: ArrayLike<number>) => {
    for (const t of threads) if (!t.isFinal[leaves[t.index]]) return false;
    return true;
  };

  const allEnded = (leaves: ArrayLike<number>) => {
    for (const t of threads) if (!t.isEnd[leaves[t.index]]) return false;
    return true;
  };

  const eventObjects = events.map((type) => Object.freeze({ type }));

  // The transitions the last successful stepInto took (reused: valid until the next successful step).
  const taken: CompiledTransition[] = [];

  /**
   * The successor for an event, without allocating beyond what the model's own actions do: the next
   * leaves go into `out` (which may be `leaves` itself only if the caller no longer needs them), the
   * transitions taken into the shared `taken` array; returns the next context, or null when no thread
   * has an enabled transition for the event.
   */
  const stepInto = (leaves: ArrayLike<number>, ctx: Context, e: number, out: Int32Array): Context | null => {
    const ev = eventObjects[e];
    const ts = eventThreads[e];
    let count = 0;
    for (let k = 0; k < ts.length; k++) {
      const t = threads[ts[k]];
      const cands = t.candidates[leaves[t.index]][e];
      if (cands === undefined) continue;
      for (let c = 0; c < cands.length; c++) {
        const tr = cands[c];
        if (tr.guard === null || tr.guard(ctx, ev)) {
          taken[count++] = tr;
          break;
        }
      }
    }
    if (count === 0) return null;
    // (Setting an array's length is a runtime call: only when the count changes, which is rare.)
    if (taken.length !== count) taken.length = count;
    const T = threads.length;
    for (let i = 0; i < T; i++) out[i] = leaves[i];
    let next = ctx;
    if (taken.length === 1) {
      const first = taken[0];
      const seq = first.sequence;
      for (let i = 0; i < seq.length; i++) next = seq[i](next, ev);
      if (first.target >= 0) out[first.thread] = first.target;
      // The machine is done only if this thread just reached a final state and all others are final.
      if (first.target >= 0 && threads[first.thread].isFinal[first.target] && allFinal(out)) next = doneExit(out, next, ev);
      return next;
    }
    const exits = taken.flatMap((t) => t.exits).sort((a, b) => b.order - a.order);
    const entries = taken.flatMap((t) => t.entries).sort((a, b) => a.order - b.order);
    for (const n of exits) next = runAll(exitOf(n), next, ev);
    for (const t of taken) next = runAll(t.actions, next, ev);
    for (const n of entries) next = runAll(taken.some((t) => t.defaultEntries.has(n)) ? defaultEntryOf(n) : entryOf(n), next, ev);
    for (const t of taken) if (t.target >= 0) out[t.thread] = t.target;
    if (allFinal(out)) next = doneExit(out, next, ev);
    return next;
  };

  const step = (leaves: Int32Array, ctx: Context, e: number): StepResult | null => {
    const out = new Int32Array(threads.length);
    const next = stepInto(leaves, ctx, e, out);
    if (next === null) return null;
    return { leaves: out, context: next, taken: taken.slice() };
  };

  const eventMark = new Uint8Array(events.length);
  const eventList: number[] = [];
  const candidateEvents = (leaves: ArrayLike<number>) => {
    eventList.length = 0;
    for (let k = 0; k < threads.length; k++) {
      const evs = threads[k].leafEvents[leaves[k]];
      for (let i = 0; i < evs.length; i++) {
        const e = evs[i];
        if (eventMark[e] === 0) {
          eventMark[e] = 1;
          eventList.push(e);
        }
      }
    }
    // Insertion sort: the list is short and nearly sorted (threads' events are numbered in order).
    for (let i = 1; i < eventList.length; i++) {
      const e = eventList[i];
      let j = i - 1;
      while (j >= 0 && eventList[j] > e) {
        eventList[j + 1] = eventList[j];
        j--;
      }
      eventList[j + 1] = e;
    }
    for (let i = 0; i < eventList.length; i++) eventMark[eventList[i]] = 0;
    return eventList;
  };

  return {
    machine,
    threads,
    events,
    eventThreads,
    candidateEvents,
    initialLeaves,
    initialContext: (init as any).context,
    doneExit,
    step,
    stepInto,
    taken,
    locations(leaves) {
      const out: ThreadLocations = {};
      for (const t of threads) out[t.name] = t.leafPaths[leaves[t.index]];
      return out;
    },
    allFinal,
    allEnded,
  };
}
