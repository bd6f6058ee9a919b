// Compiles guard expressions (inline, named with params, and/or/not) into closures, following XState's
// evaluateGuard; what it does not support it rejects by name.
import { and, not, or, type AnyStateMachine } from 'xstate';
import { inPlaceHint, ModelError, ModelRuntimeError, thrownMessage } from '../errors.ts';
import type { Context } from '../model.ts';
import { freshCopy, GUARD_CALL_SOURCE, guardCallFactory } from './fresh.ts';
import { lowerGuardCombination, lowerGuardFn, type GuardPlan, type Lowered } from './lower/plans.ts';
import type { Event, GuardFn, GuardRef, Where } from './types.ts';

/** A compiled guard expression: the closure, its named references (for wait reports), and its lowering. */
export interface CompiledGuard {
  fn: GuardFn;
  refs: (ctx: Context, ev: Event, neg: boolean, out: GuardRef[], alt?: boolean) => void;
  lowered: Lowered<GuardPlan>;
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
export function createGuardCompiler(machine: AnyStateMachine) {
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

  function compile(g: unknown, where: Where, depth = 0): CompiledGuard {
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
      return { fn: wrap((ctx, ev) => f({ context: ctx, event: ev }, undefined)), refs: noRefs, lowered: lowerGuardFn(f, undefined) };
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
      refs: (ctx, ev, neg, out, alt = false) => out.push({ type, params: paramsOf(ctx, ev), negated: neg, alternative: alt }),
      lowered: hasParams && typeof params === 'function' ? { plan: null, why: `guard ${type} has dynamic params` } : lowerGuardFn(r, params),
    };
  }

  function compileBuiltin(f: any, where: Where, depth: number): CompiledGuard {
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
    // an `or` holds by its first branch that holds (XState's `some` stops there): that branch is what a transition
    // taken waited on; the others are alternatives, and all are when the `or` does not hold, is under a `not`, or
    // is itself an alternative (or when a branch throws here: the refs of a transition not taken, in a state where
    // XState never evaluated that `or`, as under an `and` whose earlier part is false)
    const firstHeld = (ctx: Context, ev: Event) => {
      try {
        return fns.findIndex((h) => h(ctx, ev));
      } catch {
        return -1;
      }
    };
    const refs = (ctx: Context, ev: Event, neg: boolean, out: GuardRef[], alt = false) => {
      const branching = kind === 'or' && parts.length > 1;
      const held = branching && !neg && !alt ? firstHeld(ctx, ev) : -1;
      parts.forEach((p, i) => p.refs(ctx, ev, kind === 'not' ? !neg : neg, out, alt || (branching && i !== held)));
    };
    return { fn, refs, lowered: lowerGuardCombination(kind, parts.map((p) => p.lowered)) };
  }

  return { compile, label };
}
