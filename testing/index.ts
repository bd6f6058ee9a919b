// Test helpers for your own models under vitest: `import { check, crossCheck } from 'interleave/testing'`.
//   expect(await check(model, { variant, params })).toBeDeadlockFree();
//   expect(await check(model, { variant: 'buggy' })).toViolate('invariant', 'frozenBeforeWrite');
//   expect(await crossCheck(model, { variant })).toAgree();   // the engine vs XState's own transition()
// Importing this module registers the matchers with vitest's expect.
import { expect } from 'vitest';
import { crossCheck as crossCheckMachine, type CrossCheckResult } from '../explorer/crosscheck.ts';
import { checkModel, instantiate, resolveParams, resolveVariant, type CheckRequest, type CheckResult } from '../explorer/index.ts';
import type { ModelDefinition, ParamValue } from '../explorer/model.ts';
import { renderTrace } from '../cli/show.ts';

export interface CheckOptions extends Omit<CheckRequest, 'model' | 'params' | 'variant'> {
  variant?: string;
  params?: Record<string, ParamValue>;
}

/** Explores every interleaving of the model (deadlock, assertions and invariants unless `check` says otherwise). */
export async function check(model: ModelDefinition, options: CheckOptions = {}): Promise<CheckResult> {
  return checkModel({ ...options, model, stopAtFirst: options.stopAtFirst ?? true });
}

/** Steps every reachable state with the compiled engine and with XState's transition(), and compares. */
export async function crossCheck(model: ModelDefinition, options: { variant?: string; params?: Record<string, ParamValue>; limit?: number } = {}): Promise<CrossCheckResult> {
  const params = resolveParams(model, options.params);
  const variant = resolveVariant(model, options.variant);
  return crossCheckMachine(instantiate(model, params, variant).system.machine, { limit: options.limit });
}

function isCheckResult(x: unknown): x is CheckResult {
  return !!x && typeof x === 'object' && 'verdict' in x && 'stats' in x;
}

function describe(r: CheckResult): string {
  const v = r.verdict;
  const head = `${r.model} variant ${r.variant}: ${v.status}${v.kind ? ` (${v.kind}${v.name && v.name !== v.kind ? ` ${v.name}` : ''})` : ''}${v.message ? `: ${v.message}` : ''}`;
  return r.trace ? `${head}\n\n${renderTrace(r.trace)}` : head;
}

const notAResult = (received: unknown) => ({ pass: false, message: () => `expected the result of check(model, options), got ${JSON.stringify(received)?.slice(0, 80)}` });

expect.extend({
  /** The whole state space was explored and no deadlock (nor any other checked violation) was found. */
  toBeDeadlockFree(received: unknown) {
    if (!isCheckResult(received)) return notAResult(received);
    const v = received.verdict;
    const pass = v.status === 'pass';
    const why = v.status === 'incomplete' ? 'the search was cut before the whole state space was explored, so this is not a proof' : v.kind === 'deadlock' ? 'it deadlocks' : `another violation stopped the search first`;
    return { pass, message: () => (pass ? `expected a deadlock, but ${describe(received)}` : `expected no deadlock, but ${why}: ${describe(received)}`) };
  },
  /** The whole state space was explored and no violation was found. */
  toPass(received: unknown) {
    if (!isCheckResult(received)) return notAResult(received);
    const pass = received.verdict.status === 'pass';
    return { pass, message: () => (pass ? `expected a violation, but ${describe(received)}` : `expected a pass, but ${describe(received)}`) };
  },
  /** The check found a violation of this kind (deadlock, assertion, invariant, livelock, starvation) and, if given, name. */
  toViolate(received: unknown, kind: string, name?: string) {
    if (!isCheckResult(received)) return notAResult(received);
    const v = received.verdict;
    const pass = v.status === 'violation' && v.kind === kind && (name === undefined || v.name === name);
    const want = `${kind}${name ? ` ${name}` : ''}`;
    return { pass, message: () => (pass ? `expected no ${want}, but ${describe(received)}` : `expected a ${want} violation, but ${describe(received)}`) };
  },
  /** The cross-check walked every reachable state and the engine agreed with XState everywhere. */
  toAgree(received: unknown) {
    const r = received as CrossCheckResult;
    if (!r || typeof r !== 'object' || !('status' in r) || !('states' in r)) {
      return { pass: false, message: () => 'expected the result of crossCheck(model, options)' };
    }
    const pass = r.status === 'agree';
    const msg =
      r.status === 'cut'
        ? `more than ${r.limit} reachable states: cross-check a smaller instance (params) or raise limit`
        : r.status === 'differ'
          ? `the engine and XState differ at ${r.difference!.state}:\n  engine: ${JSON.stringify(r.difference!.engine)}\n  xstate: ${JSON.stringify(r.difference!.xstate)}`
          : `they agree on all ${r.states} states`;
    return { pass, message: () => msg };
  },
});

declare module 'vitest' {
  interface Matchers<T = any> {
    toBeDeadlockFree(): T;
    toPass(): T;
    toViolate(kind: 'deadlock' | 'assertion' | 'invariant' | 'livelock' | 'starvation' | (string & {}), name?: string): T;
    toAgree(): T;
  }
}

export type { CheckResult, CrossCheckResult };
