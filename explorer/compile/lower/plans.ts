// What the build-time compiler lowers: a guard expression (and/or/not over lowered functions) and an
// assign action (each key's value a lowered function or a constant scalar), as plans the runtime links to
// word operations (./link.ts). A guard or action that is not lowered has no plan and runs on the decoded
// context, with the reason kept for tests and for `lowering` reports.
import { declaredLowering, type PathOp } from './declared.ts';
import { lowerFunction, Refused, type Expr, type FnPlan } from './js.ts';

export type GuardPlan = { k: 'fn'; fn: FnPlan } | { k: 'not'; a: GuardPlan } | { k: 'and' | 'or'; parts: GuardPlan[] };

export type AssignPlan =
  /** Each assigned key with its new value: a lowered value function, or a constant scalar. */
  | { keys: Array<{ key: string; fn: FnPlan | null; value?: unknown }>; ops?: undefined }
  /** A declared action (./declared.ts): operations on context paths. */
  | { ops: PathOp[]; keys?: undefined };

/** A plan, or why there is none. */
export type Lowered<P> = { plan: P; why?: undefined } | { plan: null; why: string };

const refusedBy = (e: unknown): { plan: null; why: string } => ({ plan: null, why: e instanceof Refused ? e.message : `not lowered (${String(e)})` });

/** Lowers a guard function with its params fixed (null params: a guard without params, or inline). */
export function lowerGuardFn(fn: Function, params: unknown): Lowered<GuardPlan> {
  try {
    const decl = declaredLowering(fn);
    if (decl !== undefined) {
      const e = decl(params) as Expr | null;
      if (e === null) throw new Refused(`declared lowering declines these params`);
      return { plan: { k: 'fn', fn: { locals: 0, ops: [], result: e } } };
    }
    return { plan: { k: 'fn', fn: lowerFunction(fn, params, false) } };
  } catch (e) {
    return refusedBy(e);
  }
}

/** and/or/not over parts: lowered when every part is. */
export function lowerGuardCombination(kind: 'and' | 'or' | 'not', parts: Lowered<GuardPlan>[]): Lowered<GuardPlan> {
  const bad = parts.find((p) => p.plan === null);
  if (bad) return { plan: null, why: bad.why! };
  const plans = parts.map((p) => p.plan!);
  return { plan: kind === 'not' ? { k: 'not', a: plans[0] } : { k: kind, parts: plans } };
}

const isScalar = (v: unknown) => v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';

/** Lowers an assign action (XState's assign({ key: fn | value })) with its params fixed. */
export function lowerAssign(assignment: unknown, params: unknown): Lowered<AssignPlan> {
  try {
    if (typeof assignment === 'function') {
      const decl = declaredLowering(assignment);
      if (decl === undefined) throw new Refused('assign(fn): a function of the whole context');
      const ops = decl(params) as PathOp[] | null;
      if (ops === null) throw new Refused(`declared lowering declines these params`);
      return { plan: { ops } };
    }
    if (assignment === null || typeof assignment !== 'object') throw new Refused('assignment that is not a record');
    const keys: AssignPlan['keys'] = [];
    for (const key of Object.keys(assignment)) {
      if (key === '__proto__') throw new Refused('assign to __proto__');
      const v = (assignment as Record<string, unknown>)[key];
      if (typeof v === 'function') {
        const fn = lowerFunction(v, params, true);
        if (fn.copyOf && (fn.copyOf.length !== 1 || fn.copyOf[0] !== key)) throw new Refused(`${key} set to a copy of another array`);
        keys.push({ key, fn });
      } else if (isScalar(v)) keys.push({ key, fn: null, value: v });
      else throw new Refused(`${key} set to a constant that is not a scalar`);
    }
    return { plan: { keys } };
  } catch (e) {
    return refusedBy(e);
  }
}
