// Test helpers for your own models under vitest: `import { check, crossCheck } from 'interleave/testing'`.
//   expect(await check(model, { variant, params })).toBeDeadlockFree();
//   expect(await check(model, { variant: 'buggy' })).toViolate('invariant', 'frozenBeforeWrite');
//   expect(await crossCheck(model, { variant })).toAgree();   // the engine vs XState's own transition()
// Importing this module registers the matchers with vitest's expect.
import { expect } from 'vitest';
import { crossCheck as crossCheckMachine, type CrossCheckResult } from '../explorer/crosscheck.ts';
import { checkModel, instantiate, resolveParams, resolveVariant, type CheckRequest, type CheckResult, type PropertySelection } from '../explorer/index.ts';
import { InputError } from '../explorer/errors.ts';
import { parseReduce } from '../explorer/reduce/index.ts';
import { STRATEGIES } from '../explorer/strategies/index.ts';
import { isModelDefinition } from '../cli/models.ts';
import type { ModelDefinition, ParamValue } from '../explorer/model.ts';
import { renderTrace } from '../cli/show.ts';

export interface CheckOptions extends Omit<CheckRequest, 'model' | 'params' | 'variant'> {
  variant?: string;
  params?: Record<string, ParamValue>;
}

/** Every option check() takes (the type makes this list complete): a misspelt one is refused, not ignored. */
const CHECK_OPTIONS: Record<keyof CheckOptions, true> = {
  variant: true, params: true, check: true, strategy: true, seed: true, walks: true, eventOrderSeed: true, checkpoint: true,
  resume: true, bitstate: true, preemptions: true, maxStates: true, maxDepth: true, timeoutSeconds: true, stopAtFirst: true,
  onProgress: true, spec: true, workers: true, modelPath: true, nats: true, coverage: true, reduce: true,
};
const PROPERTIES: Record<keyof PropertySelection, true> = {
  deadlock: true, assertions: true, invariants: true, livelock: true, starvation: true, fairness: true, lockOrder: true,
};
const CROSS_CHECK_OPTIONS: Record<string, true> = { variant: true, params: true, limit: true };

/** Refuses keys of `given` that `known` does not have: a misspelt property would be silently left unchecked. */
function refuseUnknown(given: unknown, known: Record<string, true>, what: string, prefix = ''): void {
  if (!given || typeof given !== 'object') return;
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(known, key)) throw new InputError(`${prefix}${key}: unknown ${what}; fix its spelling (known: ${Object.keys(known).join(', ')})`);
  }
}

function refuseNonModel(model: unknown, call: string): asserts model is ModelDefinition {
  if (isModelDefinition(model)) return;
  const ns = !!model && typeof model === 'object' && isModelDefinition((model as { default?: unknown }).default);
  throw new InputError(
    ns
      ? `${call}(model): not a model: this is the module's namespace; pass its default export (import model from './model.ts', not import * as model)`
      : `${call}(model): not a model: pass defineModel's result, the model module's default export (import model from './model.ts')`,
  );
}

/** Refuses option values the CLI and the spec schema would refuse (the search would crash on them, or run unbounded). */
function refuseBadValues(options: CheckOptions): void {
  const strategies = [...Object.keys(STRATEGIES), 'random'];
  if (options.strategy !== undefined && !strategies.includes(options.strategy)) {
    throw new InputError(`strategy: '${options.strategy}' is not one of ${strategies.join(', ')}`);
  }
  const inv = options.check?.invariants;
  if (inv !== undefined && typeof inv !== 'boolean' && !(Array.isArray(inv) && inv.every((n) => typeof n === 'string'))) {
    throw new InputError(`check.invariants: expected true, false or a list of invariant names, got ${JSON.stringify(inv)}`);
  }
  for (const key of ['maxStates', 'maxDepth', 'walks'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new InputError(`${key}: expected a whole number of at least 0, got ${v}`);
  }
  if (options.reduce !== undefined) parseReduce(options.reduce, 'reduce');
}

/** Explores every interleaving of the model (deadlock, assertions and invariants unless `check` says otherwise). */
export async function check(model: ModelDefinition, options: CheckOptions = {}): Promise<CheckResult> {
  refuseNonModel(model, 'check');
  refuseUnknown(options, CHECK_OPTIONS, 'option');
  refuseUnknown(options.check, PROPERTIES, 'property', 'check.');
  refuseBadValues(options);
  const result = checkModel({ ...options, model, stopAtFirst: options.stopAtFirst ?? true });
  if (options.check?.deadlock === false) deadlockOff.add(result);
  return result;
}

/** Results of check() runs asked not to look for deadlocks (toBeDeadlockFree cannot hold on them). */
const deadlockOff = new WeakSet<CheckResult>();

/** Steps every reachable state with the compiled engine and with XState's transition(), and compares. */
export async function crossCheck(model: ModelDefinition, options: { variant?: string; params?: Record<string, ParamValue>; limit?: number } = {}): Promise<CrossCheckResult> {
  refuseNonModel(model, 'crossCheck');
  refuseUnknown(options, CROSS_CHECK_OPTIONS, 'option');
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

/** A pass of a check that checked nothing proves nothing: toPass and toBeDeadlockFree say so instead of holding. */
const NOTHING_CHECKED =
  'nothing was checked (deadlock, assertions, invariants, livelock, starvation and lock order all off): a pass proves only that the search finished; ' +
  'turn a check on, or read result.stats.states to count states';

const notAResult = (received: unknown) => ({ pass: false, message: () => `expected the result of check(model, options), got ${JSON.stringify(received)?.slice(0, 80)}` });

// Under `.not` a matcher asks for the opposite claim, and a search cut short proves neither: `.not.toBeDeadlockFree()`
// holds only when a deadlock was found, `.not.toPass()` only when some violation was, and `.not.toViolate(kind)`
// only on a pass (a violation of another kind stopped the search before it, or was the one reported of several:
// neither proves there is none of this kind).
// vitest inverts `pass` under `.not`, so each matcher returns, when negated, the negation of the opposite claim.

expect.extend({
  /** The whole state space was explored and no deadlock (nor any other checked violation) was found. */
  toBeDeadlockFree(received: unknown) {
    if (!isCheckResult(received)) return notAResult(received);
    const v = received.verdict;
    if (this.isNot) {
      const deadlocks = v.status === 'violation' && v.kind === 'deadlock';
      const why = v.status === 'incomplete' ? 'the search was cut before finding one, so this is not a proof' : v.status === 'pass' ? 'none was found' : 'another violation stopped the search first';
      return { pass: !deadlocks, message: () => `expected a deadlock, but ${why}: ${describe(received)}` };
    }
    if (received.nothingChecked) return { pass: false, message: () => `expected no deadlock, but ${NOTHING_CHECKED}: ${describe(received)}` };
    if (deadlockOff.has(received)) {
      return { pass: false, message: () => `expected no deadlock, but deadlock was not checked (check.deadlock is false): turn it on: ${describe(received)}` };
    }
    const pass = v.status === 'pass';
    const why = v.status === 'incomplete' ? 'the search was cut before the whole state space was explored, so this is not a proof' : v.kind === 'deadlock' ? 'it deadlocks' : `another violation stopped the search first`;
    return { pass, message: () => `expected no deadlock, but ${why}: ${describe(received)}` };
  },
  /** The whole state space was explored and no violation was found. */
  toPass(received: unknown) {
    if (!isCheckResult(received)) return notAResult(received);
    const v = received.verdict;
    if (this.isNot) {
      const why = v.status === 'incomplete' ? 'the search was cut before finding one, so this is not a proof' : 'none was found';
      return { pass: v.status !== 'violation', message: () => `expected a violation, but ${why}: ${describe(received)}` };
    }
    if (received.nothingChecked) return { pass: false, message: () => `expected a pass, but ${NOTHING_CHECKED}: ${describe(received)}` };
    const pass = v.status === 'pass';
    return { pass, message: () => `expected a pass, but ${describe(received)}` };
  },
  /** The check found a violation of this kind (deadlock, assertion, invariant, livelock, starvation) and, if given, name. */
  toViolate(received: unknown, kind: string, name?: string) {
    if (!isCheckResult(received)) return notAResult(received);
    const v = received.verdict;
    const want = `${kind}${name ? ` ${name}` : ''}`;
    const found = v.status === 'violation' && v.kind === kind && (name === undefined || v.name === name);
    if (this.isNot) {
      const why = found ? `it has one` : v.status === 'incomplete' ? 'the search was cut short, so this is not a proof' : 'another violation stopped the search first, so this is not a proof';
      return { pass: v.status !== 'pass', message: () => `expected no ${want}, but ${why}: ${describe(received)}` };
    }
    return { pass: found, message: () => `expected a ${want} violation, but ${describe(received)}` };
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
