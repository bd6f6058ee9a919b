// The state space: the initial state and the successors of a state, over packed words. The only code
// that steps the compiled system (strategies, the liveness graph, the parallel partitions and the path
// walker of traces and replay all come here), and the one place a reduction plugs in (./reduction.ts).
//
// Successor order is fixed and documented: a state's candidate events ascending (the alphabet's order,
// document order of first appearance in the machine), so the same model and options give the same
// states and the same counterexample, byte for byte.
import type { CompiledSystem, CompiledTransition } from '../compile/index.ts';
import type { Context } from '../model.ts';
import { WordStep } from '../compile/lower/step.ts';
import type { PackedSystem } from '../packed.ts';
import { fingerprint } from '../store/index.ts';
import type { Reduction } from './reduction.ts';

export type { Reduction } from './reduction.ts';

/**
 * Called once per successor of an expanded state: the event, the successor's packed words (the first
 * `length` of `words`) and the 64-bit fingerprint (hi, lo, as signed 32-bit halves) of its representative. `words` is a reused
 * buffer, valid only during the call: copy what you keep. During the call the space also holds the
 * successor's leaves and context (`nextLeaves`, `nextContext`) and the transitions taken (`taken`,
 * one per thread that moved). Return true to stop expanding this state.
 */
export type Visit = (event: number, words: Int32Array, length: number, hi: number, lo: number) => boolean | void;

/**
 * The one per-transition hook every strategy calls from its visit (SearchTask.onTransition), for each step it
 * takes from stored state `stateId` by `event` (also into a state already stored): the space's `taken` and
 * `expanding` describe the step; `pathTo` gives the events from the initial state to a stored state (a random
 * walk passes -1 and its walk so far). Coverage and the lock-order check (explorer/index.ts) plug in here.
 */
export type TransitionHook = (stateId: number, event: number, pathTo: (id: number) => number[]) => void;

/** A state on a path: its leaves (one per thread) and its context, as stored (normalised by the codec). */
export interface PathState {
  leaves: Int32Array;
  context: Context;
}

export class StateSpace {
  readonly system: CompiledSystem;
  readonly threadCount: number;
  /** The successor's leaves (filled by the compiled step, or from the words on demand: nextLeaves). */
  private readonly leavesOut: Int32Array;
  /** The step over the packed words (lowered transitions on the words, the others on the decoded context). */
  readonly words: WordStep;
  /** The fingerprint of the initial state, or of the representative last fingerprinted. */
  readonly fp = new Uint32Array(2);
  /**
   * The first successors are fingerprinted whole, from their words (the same fingerprint): so that path has run
   * before expand is optimised. Met first later (the first successor of a step off the words), it sent the
   * optimised expand back to the interpreter mid-search. (V8 keeps type feedback for expand only after its first
   * few calls: 64 successors run past those.)
   */
  private wholeFirst = 64;

  constructor(
    readonly packed: PackedSystem,
    /**
     * null: no reduction (every candidate event expanded, every state its own representative). Set once
     * before a search (explorer/reduce/ builds it; liveness runs with none).
     */
    public reduction: Reduction | null = null,
  ) {
    this.system = packed.system;
    this.threadCount = packed.threadCount;
    this.leavesOut = new Int32Array(this.threadCount);
    this.words = new WordStep(packed, packed.lowered);
  }

  /** The leaves of the successor being visited (a reused buffer; valid during the visit). */
  get nextLeaves(): Int32Array {
    return this.words.leavesInto(this.leavesOut);
  }

  /** The context of the successor being visited (decoded on demand after a step on the words). */
  get nextContext(): Context {
    return this.words.nextContext();
  }

  /** The context of the state being expanded (valid during expand; decoded on demand). */
  get expanding(): Context {
    return this.words.context();
  }

  /** The transitions the visited successor took (one per thread that moved). */
  get taken(): readonly CompiledTransition[] {
    return this.system.taken;
  }

  /** The initial state: fresh words, leaves and context; its fingerprint in `fp`. */
  initial(): PathState & { words: Int32Array } {
    const init = this.packed.initial();
    this.fingerprintOf(init.words, init.words.length);
    return init;
  }

  /** Fingerprints the representative of a state's words into `fp`. */
  fingerprintOf(words: Int32Array, length: number): void {
    const r = this.reduction;
    if (r === null) fingerprint(words, this.fp, length);
    else {
      fingerprint(r.representative(words, length), this.fp, length);
    }
  }

  /** The leaves of the state last expanded (valid until the next expand). */
  get leaves(): Int32Array {
    return this.packed.own;
  }

  /**
   * Expands a state (its packed words; they may be a view into a frontier, which visits may overwrite:
   * they are copied first): calls `visit` once per successor, in the documented order. Returns how many
   * successors were visited (0 at a deadlock or when every thread has finished: `allFinal`).
   */
  expand(words: Int32Array, visit: Visit): number {
    const packed = this.packed;
    const system = this.system;
    const step = this.words;
    const r = this.reduction;
    // The steps run on the words with a reduction too: partial order decodes the expanded state's context
    // to choose its events (expandEvents; once per state), and symmetry's representative works on the
    // successor's words.
    step.begin(words, true);
    const leaves = packed.own;
    if (system.allFinal(leaves)) return 0;
    const nextLeaves = this.leavesOut;
    const fp = this.fp;
    const candidates = system.candidateEvents(leaves);
    const events = r === null || r.expandEvents === null ? candidates : r.expandEvents(leaves, step.context(), candidates);
    let visited = 0;
    for (let k = 0; k < events.length; k++) {
      const e = events[k];
      const len = step.successor(e, nextLeaves);
      if (len < 0) continue;
      visited++;
      const next = packed.encoded;
      // A step on the words knows its fingerprint from the expanded state's and the words it wrote; so does
      // a successor that is its own representative (symmetry permuted nothing). Any other: fingerprinted whole.
      const rep = r === null ? next : r.representative(next, len);
      if (rep !== next || this.wholeFirst > 0 || !step.fingerprintInto(fp, len)) {
        fingerprint(rep, fp, len);
        if (this.wholeFirst > 0) this.wholeFirst--;
      }
      // As int32 (| 0): small integers, never boxed when the visit is not inlined.
      if (visit(e, next, len, fp[0] | 0, fp[1] | 0) === true) break;
    }
    return visited;
  }

  /** True when every thread of the state last expanded is in a final state (a valid end). */
  allFinal(): boolean {
    return this.system.allFinal(this.packed.own);
  }

  /** True when every thread of the state last expanded is final or at a valid end (`meta.end`): no deadlock there. */
  allEnded(): boolean {
    return this.system.allEnded(this.packed.own);
  }

  /** Ends a run of expansions (drops the codec's cache of the last expanded state). */
  endExpansions(): void {
    this.packed.endExpansion();
  }

  /** Decodes a stored state's context (no step). */
  decodeContext(words: Int32Array): Context {
    return this.packed.decodeContext(words);
  }

  /**
   * One step off the hot path (traces, replay, reports): the successor of `from` by `event`, its context
   * normalised through the codec as a stored state's, and the transitions taken; or null when the event
   * is not enabled there.
   */
  step(from: PathState, event: number): (PathState & { taken: CompiledTransition[] }) | null {
    const r = this.system.step(from.leaves, from.context, event);
    if (!r) return null;
    return { leaves: r.leaves, context: this.packed.decodeContext(this.packed.encode(r.leaves, r.context)), taken: r.taken };
  }

  /** The threads that can move in a state (some transition of theirs is enabled). */
  enabledThreads(state: PathState): Set<number> {
    const out = new Set<number>();
    for (let e = 0; e < this.system.events.length; e++) this.system.step(state.leaves, state.context, e)?.taken.forEach((tr) => out.add(tr.thread));
    return out;
  }

  /** The first enabled event of a state (ascending), or -1 when none is. */
  firstEnabled(state: PathState): number {
    for (let e = 0; e < this.system.events.length; e++) if (this.system.step(state.leaves, state.context, e)) return e;
    return -1;
  }
}
