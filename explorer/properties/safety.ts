// The safety properties checked per state: state assertions and invariants (stateChecker), and the
// deadlock of a state where nothing is enabled and some thread has not finished (deadlockAt). Every
// safety strategy (bfs, dfs, the parallel partitions) checks states through these.
import type { CompiledSystem } from '../compile/index.ts';
import { inPlaceHint, ModelError, ModelRuntimeError, thrownMessage } from '../errors.ts';
import type { Assertion, Context, Invariant, ThreadLocations } from '../model.ts';
import type { Violation } from '../outcome.ts';
import type { PackedSystem } from '../packed.ts';
import { wordProperties } from './words.ts';

/** A violation found at a stored state (its id in the strategy's store). */
export interface Finding extends Violation {
  stateId: number;
}

export interface SafetySelection {
  /** Check state assertions (meta.assert); default true. */
  assertions?: boolean;
  invariants?: Record<string, Invariant>;
  assertionPredicates?: Record<string, Assertion>;
}

export interface StateChecker {
  /** False when there is nothing to check per state (no invariants, no asserting state). */
  needed: boolean;
  /** The state properties of a state: a violation, or undefined. */
  check(leaves: ArrayLike<number>, ctx: Context, id: number, depth: number): Finding | undefined;
  /**
   * Given the packed system: true when the state's words (leaves, then context) show that `check` would find
   * nothing there (./words.ts: the invariants and the assertions that apply there hold on the words); false:
   * run `check`. Null when the invariants are not all declared.
   */
  holdsOnWords: ((words: Int32Array) => boolean) | null;
  /**
   * Whether a new state, by its words, has to be checked (`check` on its decoded context): false when nothing
   * is checked per state or its words show the properties hold. Every search asks this before decoding a state
   * for its checks.
   */
  mustCheck: (words: Int32Array) => boolean;
}

/** The threads' locations as the predicates' errors name a state: `t@state, u@state`. */
const stateText = (loc: ThreadLocations) => Object.entries(loc).map(([t, s]) => `${t}@${s}`).join(', ');

/**
 * The per-state property checks (state assertions and invariants), shared by the sequential and the
 * parallel search. Validates up front that every asserted name is defined.
 */
export function stateChecker(
  system: CompiledSystem,
  options: SafetySelection,
  /** The packed system of the search: with it, states may be checked on their words first. */
  packed?: PackedSystem,
): StateChecker {
  const threads = system.threads;
  const checkAssertions = options.assertions ?? true;
  const invariants = Object.entries(options.invariants ?? {});
  const predicates = options.assertionPredicates ?? {};
  // Validate assertion names up front.
  const hasAsserts = threads.map((t) => t.asserts.map((a) => a.length > 0));
  if (checkAssertions) {
    for (const t of threads) {
      t.asserts.forEach((names, leaf) => {
        for (const n of names) {
          if (typeof predicates[n] !== 'function') {
            const known = Object.keys(predicates);
            throw new ModelError(
              `state ${t.name}.${t.leafPaths[leaf]} asserts '${n}', which the model's assertions do not define ` +
                `(defined: ${known.length ? known.join(', ') : 'none'}); add it to the model's assertions`,
              { state: `${t.name}.${t.leafPaths[leaf]}`, feature: 'meta.assert' },
            );
          }
        }
      });
    }
  }
  const needChecks = invariants.length > 0 || (checkAssertions && hasAsserts.some((h) => h.some(Boolean)));

  const callPredicate = (kind: 'assertion' | 'invariant', name: string, fn: (c: Context, t: ThreadLocations) => boolean, ctx: Context, loc: ThreadLocations) => {
    let r: unknown;
    try {
      r = fn(ctx, loc);
    } catch (e) {
      const at = stateText(loc);
      throw new ModelRuntimeError(
        `${kind} ${name} threw in the state where ${at}: ${thrownMessage(e)}${inPlaceHint(e)}; fix the predicate: it must return true or false in every reachable state`,
        { predicate: name, state: at },
        e,
      );
    }
    // undefined is a predicate that forgot its `return` (a body in braces), not a verdict: never "violated".
    if (r === undefined) {
      const at = stateText(loc);
      throw new ModelRuntimeError(
        `${kind} ${name} returned undefined in the state where ${at}; fix the predicate: it must return true or false ` +
          `in every reachable state (a function body in braces needs a return)`,
        { predicate: name, state: at },
      );
    }
    return !!r;
  };

  /** Checks the state properties of a state; returns a violation or undefined. */
  const check = (leaves: ArrayLike<number>, ctx: Context, id: number, depth: number): Finding | undefined => {
    if (!needChecks) return undefined;
    const loc = system.locations(leaves);
    if (checkAssertions) {
      for (const t of threads) {
        const leaf = leaves[t.index];
        if (!hasAsserts[t.index][leaf]) continue;
        for (const name of t.asserts[leaf]) {
          if (!callPredicate('assertion', name, predicates[name], ctx, loc)) {
            return {
              kind: 'assertion',
              name,
              thread: t.name,
              message: `assertion ${name} failed in thread ${t.name} at ${t.leafPaths[leaf]}`,
              stateId: id,
              depth,
            };
          }
        }
      }
    }
    for (const [name, fn] of invariants) {
      if (!callPredicate('invariant', name, fn, ctx, loc)) {
        return { kind: 'invariant', name, message: `invariant ${name} violated`, stateId: id, depth };
      }
    }
    return undefined;
  };

  const holdsOnWords = packed !== undefined && needChecks ? wordProperties(packed, invariants, checkAssertions ? predicates : null) : null;
  const mustCheck = !needChecks ? () => false : holdsOnWords === null ? () => true : (words: Int32Array) => !holdsOnWords(words);
  return { needed: needChecks, check, holdsOnWords, mustCheck };
}

/** The deadlock violation of a state where no step is enabled and some thread is neither final nor at a valid end. */
export function deadlockAt(system: CompiledSystem, leaves: ArrayLike<number>, id: number, depth: number): Finding {
  const at = (t: CompiledSystem['threads'][number]) => `${t.name}@${t.leafPaths[leaves[t.index]]}`;
  const stuck = system.threads.filter((t) => !t.isEnd[leaves[t.index]]).map(at);
  const idle = system.threads.filter((t) => t.isEnd[leaves[t.index]] && !t.isFinal[leaves[t.index]]).map(at);
  const ended = idle.length ? `; at a valid end (meta.end): ${idle.join(', ')}` : '';
  // A state with no transitions at all is where a thread ended, most likely, but without type: 'final'.
  const last = system.threads.filter((t) => !t.isEnd[leaves[t.index]] && t.leafEvents[leaves[t.index]]!.length === 0).map(at);
  const unmarked = last.length
    ? `; ${last.join(', ')} ${last.length > 1 ? 'have' : 'has'} no transitions: if a thread ends there, mark the state type: 'final' (or meta: { end: true })`
    : '';
  return { kind: 'deadlock', name: 'deadlock', message: `no step is enabled; not finished: ${stuck.join(', ')}${ended}${unmarked}`, stateId: id, depth };
}
