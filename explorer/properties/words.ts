// State properties on the packed words: where every invariant of a search has a declared expression, and so
// do the state assertions of the leaves a state's threads are at (explorer/compile/lower/declared.ts,
// declareInvariants, declareAssertions), a new state is first checked on its words, with no decoded context.
// Only "every invariant holds, and so does every state assertion that applies here" is decided there; a state
// where some invariant or applying assertion does not hold on the words, or cannot be computed there exactly
// (BAIL), or where an undeclared assertion applies, is decoded and checked by the functions (./safety.ts),
// which find the violation and word it. So a declaration can only skip a decode, never decide a verdict.
// The declarations must compute what the functions compute: test/explorer/properties/words.test.ts holds
// every declared invariant to its function on the reachable states of the bundled models' runs, and every
// declared assertion to its function on the reachable states where a thread's leaf asserts it.
import type { Assertion, Invariant } from '../model.ts';
import type { PackedSystem } from '../packed.ts';
import { declaredLowering } from '../compile/lower/declared.ts';
import type { Expr } from '../compile/lower/js.ts';
import { Linker } from '../compile/lower/link.ts';
import { BAIL } from '../compile/lower/words.ts';

/** The declared expression of an invariant or a state assertion, or undefined when it has none. */
export function propertyExpr(fn: Invariant | Assertion): Expr | undefined {
  const decl = declaredLowering(fn);
  return decl === undefined ? undefined : (decl as () => Expr)();
}

/** A leaf's state assertions on the words: none, some undeclared (the state is decoded), or these predicates. */
const NONE: readonly number[] = [];
const UNDECLARED: readonly number[] = [-1];

/**
 * A predicate over a state's words (leaves, then the context): true when every invariant holds there and so
 * does every state assertion of the threads' leaves (`assertions`: the model's, by name; null: assertions are
 * not checked); false when the state must be checked on its decoded context. Null when some invariant has no
 * declaration, or the word path is off (INTERLEAVE_LOWER=0).
 */
export function wordProperties(
  packed: PackedSystem,
  invariants: ReadonlyArray<readonly [string, Invariant]>,
  assertions: Readonly<Record<string, Assertion>> | null,
): ((w: Int32Array) => boolean) | null {
  if (!packed.lowered) return null;
  const exprs: Expr[] = [];
  for (const [, fn] of invariants) {
    const e = propertyExpr(fn);
    if (e === undefined) return null;
    exprs.push(e);
  }
  const threads = packed.system.threads;
  const linker = new Linker(packed.codec, packed.threadCount, threads);
  const preds = exprs.map((e) => linker.predicate(e));
  // Per thread, per leaf: the indices in `asserts` of the predicates of the assertions checked there.
  const asserts: Array<(w: Int32Array) => boolean> = [];
  const linked = new Map<string, number>();
  const assertionAt = (name: string): number => {
    let k = linked.get(name);
    if (k === undefined) {
      const fn = assertions?.[name];
      const e = fn === undefined ? undefined : propertyExpr(fn);
      k = e === undefined ? -1 : asserts.push(linker.predicate(e)) - 1;
      linked.set(name, k);
    }
    return k;
  };
  const leafAsserts = threads.map((t) =>
    t.asserts.map((names) => {
      if (assertions === null || names.length === 0) return NONE;
      const ks = names.map(assertionAt);
      return ks.includes(-1) ? UNDECLARED : ks;
    }),
  );
  const T = threads.length;
  return (w) => {
    linker.newState();
    try {
      for (let t = 0; t < T; t++) {
        const ks = leafAsserts[t][w[t]];
        if (ks === UNDECLARED) return false;
        for (let i = 0; i < ks.length; i++) if (!asserts[ks[i]](w)) return false;
      }
      for (let k = 0; k < preds.length; k++) if (!preds[k](w)) return false;
    } catch (x) {
      if (x !== BAIL) throw x;
      return false;
    }
    return true;
  };
}
