// The cross-check: walks every reachable state with XState's own transition() (explorer/reference.ts) and
// compares, event by event, the successor the compiled engine computes. Users run it on their own models
// (`interleave check --cross-check`, and `crossCheck` in interleave/testing); the test suite on every model.
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { compileMachine } from './compile/index.ts';
import { ModelError } from './errors.ts';
import type { Context } from './model.ts';
import { PackedSystem } from './packed.ts';
import { StateSpace } from './space/index.ts';
import { fingerprint } from './store/index.ts';
import { canonicalJson, createReferenceStepper, referenceKey, threadLocationsOf } from './reference.ts';

export interface CrossCheckResult {
  /** agree: every reachable state has the same successors; differ: the first state where they do not; cut: more states than the limit. */
  status: 'agree' | 'differ' | 'cut';
  /** States walked. */
  states: number;
  limit: number;
  /** Where they differ: the state (thread locations | context) and each side's successors by event. */
  difference?: { state: string; engine: Record<string, string>; xstate: Record<string, string> };
}

/** Walks every reachable state (up to `limit`) with the reference stepper and compares successor sets. */
export function crossCheck(machine: AnyStateMachine, options: { limit?: number; lowered?: boolean } = {}): CrossCheckResult {
  const limit = options.limit ?? 20000;
  const system = compileMachine(machine);
  // The step the searches take: the state space over packed words (lowered transitions on the words,
  // unless `lowered` is false or INTERLEAVE_LOWER=0), compared too.
  const packed = new PackedSystem(system, options.lowered === undefined ? {} : { lowered: options.lowered });
  const space = new StateSpace(packed);
  const ref = createReferenceStepper(machine);
  const init = ref.initial();
  const seen = new Set<string>([referenceKey(init)]);
  const queue: AnyMachineSnapshot[] = [init];
  const toLeaves = (s: AnyMachineSnapshot) => {
    const loc = threadLocationsOf(s);
    return Int32Array.from(
      system.threads.map((t) => {
        const i = t.leafPaths.indexOf(loc[t.name]);
        if (i < 0) throw new Error(`thread ${t.name} at unknown leaf ${loc[t.name]}`);
        return i;
      }),
    );
  };
  const compiledKey = (leaves: Int32Array, ctx: unknown) => {
    const loc = system.locations(leaves);
    return Object.keys(loc).map((k) => `${k}=${loc[k]}`).join(';') + '|' + canonicalJson(ctx);
  };
  const initKey = compiledKey(system.initialLeaves, system.initialContext);
  if (initKey !== referenceKey(init)) {
    return { status: 'differ', states: 1, limit, difference: { state: '(initial state)', engine: { '(initial)': initKey }, xstate: { '(initial)': referenceKey(init) } } };
  }
  const fpOfWords = new Uint32Array(2);
  /** The successors the state space gives (null when the context does not encode: the search reports that). */
  const successorsInSpace = (leaves: Int32Array, context: unknown): Map<string, string> | null => {
    let words: Int32Array;
    try {
      words = packed.encode(leaves, context as Context);
    } catch (e) {
      if (e instanceof ModelError) return null;
      throw e;
    }
    const out = new Map<string, string>();
    space.expand(words, (e, next, len, hi, lo) => {
      const d = packed.decode(next.subarray(0, len));
      // The fingerprint the space gives (incremental after a step on the words) must be its words' own.
      fingerprint(next, fpOfWords, len);
      const key = compiledKey(d.leaves, d.context);
      out.set(system.events[e], (fpOfWords[0] | 0) === hi && (fpOfWords[1] | 0) === lo ? key : `${key} (fingerprint ${hi},${lo} is not its words' ${fpOfWords[0] | 0},${fpOfWords[1] | 0})`);
    });
    space.endExpansions();
    return out;
  };
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head];
    const leaves = toLeaves(s);
    // The engine steps first: a guard or action that throws is then the model error naming it and the state
    // (as in the search), not XState's own error out of transition().
    const actual = new Map<string, string>();
    if (!system.allFinal(leaves)) {
      system.events.forEach((ev, e) => {
        const r = system.step(leaves, s.context, e);
        if (r) actual.set(ev, compiledKey(r.leaves, r.context));
      });
    }
    const expected = new Map<string, string>();
    const successors = ref.successors(s);
    for (const { event, next } of successors) expected.set(event, referenceKey(next));
    const packedSuccessors = successorsInSpace(leaves, s.context);
    if (packedSuccessors !== null && canonicalJson([...packedSuccessors].sort()) !== canonicalJson([...actual].sort())) {
      return {
        status: 'differ',
        states: seen.size,
        limit,
        difference: { state: referenceKey(s), engine: Object.fromEntries([...packedSuccessors].sort()), xstate: Object.fromEntries([...expected].sort()) },
      };
    }
    if (canonicalJson([...actual].sort()) !== canonicalJson([...expected].sort())) {
      return {
        status: 'differ',
        states: seen.size,
        limit,
        difference: { state: referenceKey(s), engine: Object.fromEntries([...actual].sort()), xstate: Object.fromEntries([...expected].sort()) },
      };
    }
    for (const { next } of successors) {
      const k = referenceKey(next);
      if (!seen.has(k)) {
        seen.add(k);
        queue.push(next);
        if (seen.size > limit) return { status: 'cut', states: seen.size, limit };
      }
    }
  }
  return { status: 'agree', states: seen.size, limit };
}
