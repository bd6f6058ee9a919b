// State properties on the packed words: where every invariant of a search has a declared lowering
// (explorer/compile/lower/declared.ts, declareInvariants), a new state is first checked on its words, with no
// decoded context. Only "every invariant holds, and no state assertion applies here" is decided there; a state
// where some invariant does not hold on the words, or cannot be computed there exactly (BAIL), or whose
// leaves assert, is decoded and checked by the functions (./safety.ts), which find the violation and word it.
// The declarations must compute what the functions compute: test/explorer/properties/words.test.ts holds
// every declared invariant to its function on every reachable state of the bundled models' specs.
import type { Invariant } from '../model.ts';
import type { PackedSystem } from '../packed.ts';
import { declaredLowering } from '../compile/lower/declared.ts';
import type { Expr } from '../compile/lower/js.ts';
import { Linker } from '../compile/lower/link.ts';
import { BAIL } from '../compile/lower/words.ts';

/** The declared expression of an invariant, or undefined when it has none. */
export function invariantExpr(fn: Invariant): Expr | undefined {
  const decl = declaredLowering(fn);
  return decl === undefined ? undefined : (decl as () => Expr)();
}

/**
 * A predicate over a state's words (leaves, then the context): true when every invariant holds there and no
 * thread's leaf asserts (with assertions on); false when the state must be checked on its decoded context.
 * Null when some invariant has no declaration, or the word path is off (INTERLEAVE_LOWER=0).
 */
export function wordInvariants(packed: PackedSystem, invariants: ReadonlyArray<readonly [string, Invariant]>, assertions: boolean): ((w: Int32Array) => boolean) | null {
  if (!packed.lowered || invariants.length === 0) return null;
  const exprs: Expr[] = [];
  for (const [, fn] of invariants) {
    const e = invariantExpr(fn);
    if (e === undefined) return null;
    exprs.push(e);
  }
  const threads = packed.system.threads;
  const linker = new Linker(packed.codec, packed.threadCount, threads);
  const preds = exprs.map((e) => linker.predicate(e));
  // Per thread, per leaf: a state assertion is checked there (then the state is decoded).
  const asserting = threads.map((t) => Uint8Array.from(t.asserts, (names) => (assertions && names.length > 0 ? 1 : 0)));
  const T = threads.length;
  return (w) => {
    for (let t = 0; t < T; t++) if (asserting[t][w[t]] === 1) return false;
    linker.newState();
    try {
      for (let k = 0; k < preds.length; k++) if (!preds[k](w)) return false;
    } catch (x) {
      if (x !== BAIL) throw x;
      return false;
    }
    return true;
  };
}
