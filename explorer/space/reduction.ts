// The reduction seam of the state space: the one place a state-space reduction plugs in, for every
// strategy at once (explorer/space/index.ts calls it; nothing else does).
//
// Two hooks, both identity until the reductions issue fills them in:
// - which of a state's candidate events to expand (partial order: an ample/persistent subset);
// - which representative of a successor is fingerprinted and stored (symmetry: a canonical
//   permutation of identical threads). The concrete successor is still what strategies keep on the
//   frontier and what traces replay, so counterexamples stay concrete.
// A reduction must never hide a violation: where soundness for a property is not proven, that
// property runs unreduced.
import type { Context } from '../model.ts';

export interface Reduction {
  /**
   * The events to expand at a state, a subsequence of `candidates` (the events some thread has a
   * transition for there, ascending). May return `candidates` itself. null: every candidate (then the
   * expanded state's context is not decoded for it).
   */
  expandEvents: ((leaves: Int32Array, context: Context, candidates: number[]) => ArrayLike<number>) | null;
  /**
   * The representative of a state whose packed words are `words[0 .. length)`: an array whose first `length`
   * words are the representative's (a permutation of identical threads keeps the length), to fingerprint.
   * May return `words` itself; otherwise a reused buffer, valid until the next call.
   */
  representative(words: Int32Array, length: number): Int32Array;
}
