// Compiles actions into context transformers, following XState's resolveAssign: assign() (inline or named,
// with params), log (dropped); every other action is rejected by name. Also the per-state entry and exit
// action lists, compiled once per state node.
import type { AnyStateMachine } from 'xstate';
import { inPlaceHint, ModelError, ModelRuntimeError, thrownMessage } from '../errors.ts';
import type { Context } from '../model.ts';
import { UNSUPPORTED_ACTIONS } from './features.ts';
import { freshCopy, SINGLE_ASSIGN_SOURCE, singleAssignFactory } from './fresh.ts';
import { nodePath } from './nodes.ts';
import { lowerAssign, type AssignPlan, type Lowered } from './lower/plans.ts';
import type { ActionFn, Event, LockAction, StateNode, Where } from './types.ts';

/** The lowering of each compiled action (./lower/plans.ts), by its closure. */
const loweredActions = new WeakMap<ActionFn, Lowered<AssignPlan>>();

/** How a compiled action was lowered (every ActionFn comes from an assign). */
export function loweringOf(fn: ActionFn): Lowered<AssignPlan> {
  return loweredActions.get(fn) ?? { plan: null, why: 'not an assign' };
}

/** Compiles actions into context transformers, following XState's resolveAssign. */
export function createActionCompiler(machine: AnyStateMachine) {
  const impls: Record<string, unknown> = (machine.implementations as any).actions ?? {};
  const regions = new Set(Object.keys((machine.root as any)?.states ?? {}));

  /** An assign's closure, with its lowering recorded (`params`: fixed params, or a function of the context). */
  function assignFn(a: any, paramsOf: (ctx: Context, ev: Event) => unknown, name: string, where: Where, params?: unknown): ActionFn {
    const fn = assignClosure(a, paramsOf, name, where);
    loweredActions.set(fn, typeof params === 'function' ? { plan: null, why: `action ${name} has dynamic params` } : lowerAssign(a.assignment, params));
    return fn;
  }

  function assignClosure(a: any, paramsOf: (ctx: Context, ev: Event) => unknown, name: string, where: Where): ActionFn {
    const assignment = a.assignment;
    // One args object per action, refilled per call (actions do not nest, and none keeps its args).
    const args = actionArgs(name, where, ['spawn', 'self', 'system']);
    const keys = typeof assignment === 'function' ? null : Object.keys(assignment);
    // (`__proto__` would hit the prototype setter on a plain write: it takes the general path, as in XState.)
    const single = keys !== null && keys.length === 1 && keys[0] !== '__proto__' ? keys[0] : null;
    const singleValue = single === null ? undefined : assignment[single];
    const fail = actionFailure(name, where);
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

  /**
   * A log: XState evaluates a function value when it resolves the action (with the args and params), so one that
   * throws fails the step; its result is dropped. A value that is not a function does nothing.
   */
  function logFn(f: any, paramsOf: (ctx: Context, ev: Event) => unknown, name: string, where: Where): ActionFn | null {
    const value = f.value;
    if (typeof value !== 'function') return null;
    const args = actionArgs(name, where, ['self', 'system']);
    const fail = actionFailure(name, where);
    return (ctx, ev) => {
      try {
        args.context = ctx;
        args.event = ev;
        value(args, paramsOf(ctx, ev));
        return ctx;
      } catch (e) {
        return fail(e);
      }
    };
  }

  function compile(a: unknown, where: Where): ActionFn | null {
    if (typeof a === 'function') {
      const f = a as any;
      if (f.type === 'xstate.assign') return assignFn(f, () => undefined, 'inline assign', where);
      if (f.type === 'xstate.log') return logFn(f, () => undefined, 'inline log', where);
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
    if (typeof resolved !== 'function') {
      // XState calls the implementation it finds under the name: it does not look a name or { type, params } up again.
      throw new ModelError(
        `action '${type}' at state ${where.state}${where.event ? ` on event ${where.event}` : ''} is implemented by ` +
          `${JSON.stringify(resolved) ?? String(resolved)}, which is not a function: XState does not resolve it again; ` +
          `give setup({ actions }) the assign(...) itself`,
        { ...where, action: type, feature: 'action implementation' },
      );
    }
    const paramsOf =
      hasParams && typeof params === 'function'
        ? (ctx: Context, ev: Event) => (params as any)({ context: ctx, event: ev })
        : () => params;
    if (resolved.type === 'xstate.assign') {
      const fn = assignFn(resolved, paramsOf, type, where, params);
      if (resolved.lockEffect) {
        if (!(hasParams && typeof params === 'function')) checkLockThread(type, params, where, regions);
        Object.assign(fn, { lockEffect: resolved.lockEffect, lockParams: paramsOf, lockAction: type, lockWhere: where } satisfies LockAction);
      }
      return fn;
    }
    if (resolved.type === 'xstate.log') return logFn(resolved, paramsOf, type, where);
    return compile(resolved, where);
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

/** Entry and exit actions per state node, compiled once each. */
export interface StateActions {
  entryOf(n: StateNode): ActionFn[];
  /** Entry actions of a state entered by default (XState's statesForDefaultEntry): entry, then `initial` actions. */
  defaultEntryOf(n: StateNode): ActionFn[];
  exitOf(n: StateNode): ActionFn[];
  /** The machine's `output` as XState computes it when the machine is done (none when it is not a function). */
  rootOutput: ActionFn | null;
}

export function createStateActions(actions: ReturnType<typeof createActionCompiler>, root: StateNode): StateActions {
  const entryActionsCache = new Map<StateNode, ActionFn[]>();
  const exitActionsCache = new Map<StateNode, ActionFn[]>();
  const entryOf = (n: StateNode) => {
    let a = entryActionsCache.get(n);
    if (!a) {
      a = actions.compileList(n.config?.entry, { state: nodePath(n) });
      // XState computes a final state's output right after its entry actions (for the done event of its parent).
      const output = n.type === 'final' && n.parent?.type === 'compound' ? outputFn(n.output, `the output of ${nodePath(n)}`, { state: nodePath(n) }) : null;
      if (output) a.push(output);
      entryActionsCache.set(n, a);
    }
    return a;
  };
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
  return { entryOf, defaultEntryOf, exitOf, rootOutput: outputFn(root.output, "the machine's output", { state: '(root)' }) };
}

/**
 * A lock acquisition declared in a thread's states takes the lock for that thread: the lock-order check records
 * its edges under params.thread, and the primitive its owner. A kernel helper given ANOTHER thread's name there
 * (mutex_lock('a', 't1') in t0's states) is the model's slip. A name that is no thread of the machine is left to
 * the model (its own names for its tasks: reports then name them). Static params only (a function of the context
 * is read per step).
 */
function checkLockThread(action: string, params: unknown, where: Where, regions: Set<string>): void {
  const thread = where.state === '(root)' ? undefined : where.state.split('.')[0];
  const named = params && typeof params === 'object' ? (params as { thread?: unknown }).thread : undefined;
  if (thread === undefined || typeof named !== 'string' || named === thread || !regions.has(named)) return;
  throw new ModelError(
    `state ${where.state}${where.event ? ` on event ${where.event}` : ''}: action ${action} takes its lock for thread '${named}', but the state is in ` +
      `thread ${thread}'s region; a thread takes its own locks: give the helper '${thread}' (or move the step into ${named}'s region)`,
    { ...where, action, feature: 'lock thread' },
  );
}

/** What an action that threw is reported as: the model's error naming the action, its state and event. */
function actionFailure(name: string, where: Where): (e: unknown) => never {
  return (e) => {
    throw new ModelRuntimeError(
      `action ${name} threw at state ${where.state}${where.event ? ` on event ${where.event}` : ''}: ${thrownMessage(e)}${inPlaceHint(e)}`,
      { state: where.state, event: where.event, action: name },
      e,
    );
  };
}

/**
 * An `output` function evaluated as XState does (with the context, the event and the actor's self, which the
 * engine has none of): its value is dropped, so only a throw matters, and that is the model's error.
 */
function outputFn(output: unknown, name: string, where: Where): ActionFn | null {
  if (typeof output !== 'function') return null;
  const args = actionArgs(name, where, ['self']);
  return (ctx, ev) => {
    try {
      args.context = ctx;
      args.event = ev;
      output(args);
      return ctx;
    } catch (e) {
      throw new ModelRuntimeError(`${name} threw at state ${where.state}${where.event ? ` on event ${where.event}` : ''}: ${thrownMessage(e)}`, { state: where.state, event: where.event }, e);
    }
  };
}

/**
 * The args object an action is called with: the context and event, refilled per call, and the actor's own
 * members XState adds (`spawn`, `self`, `system`), which the engine has no actors for: reading one throws (the
 * action's error), where a missing value would silently compute something else. They are not enumerable, so
 * an action that copies its args (`({ context, ...rest })`, `{ ...args }`) without reading them still runs.
 */
function actionArgs(name: string, where: Where, unmodelled: string[]): { context: Context; event: Event } {
  const args = { context: null as unknown as Context, event: null as unknown as Event };
  for (const key of unmodelled) {
    Object.defineProperty(args, key, {
      enumerable: false,
      get() {
        // (Its caller reports it as the action's error, naming the action, state and event.)
        throw new ModelError(`it reads ${key}, which interleave does not support (it has no actors): compute the value from the context and the event`, {
          ...where,
          action: name,
          feature: key,
        });
      },
    });
  }
  return args;
}
