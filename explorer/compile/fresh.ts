// Fresh compiled copies of the closure factories guards and actions are made by (see freshCopy).
import type { Context } from '../model.ts';
import type { ActionFn, Event, GuardFn } from './types.ts';

/**
 * A fresh copy of a closure factory: the same code, compiled as its own function, so each guard or action
 * made by it gets its own type feedback in V8 (closures of one shared function share feedback, and the calls
 * into the model's functions go megamorphic). The copy is compiled from `source`, the factory's code written
 * out as plain JavaScript (the factory's own toString is whatever the TypeScript loader made of it, with its
 * helpers); test/explorer/compile.test.ts checks the two agree. Where code generation from strings is
 * disallowed (node --disallow-code-generation-from-strings), the factory itself.
 */
export function freshCopy<F extends (...args: any[]) => any>(source: string, factory: F): F {
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
