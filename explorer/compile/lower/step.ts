// The step over packed words: the successors of a state being expanded, computed on its words where the
// transition is lowered (its guard and every action of its sequence, ./plans.ts), and by the compiled step
// on the decoded context (../step.ts) where it is not. A lowered transition skips decode and encode: the
// successor is the state's words, copied, with the thread's leaf set and the actions' writes patched in.
// The decoded context of the state is made only when something needs it (a guard or action that is not
// lowered, a lowered one that cannot compute this state exactly (BAIL), the reductions, lock order), and a
// successor's context only when a property check asks for it.
//
// Same result as the compiled step, by construction: the same candidates in the same order, the first
// enabled per thread; a lowered guard or action computes what the function computes on the decoded
// context or BAILs; anything else (two threads stepping together, the machine finishing, a BAIL) takes
// the compiled step for that event. The differential tests check it on every reachable state of every
// bundled model; INTERLEAVE_LOWER=0 turns the word path off (then every step is the compiled step).
import type { WordBuffer } from '../../codec.ts';
import type { Context } from '../../model.ts';
import type { PackedSystem } from '../../packed.ts';
import type { CompiledSystem, CompiledTransition, Event } from '../types.ts';
import { Linker, type LinkedAction, type LinkedGuard } from './link.ts';
import { BAIL, WRITES } from './words.ts';
import { finishFingerprint, mixA, mixB, mixOffA, mixOffB, mixSums, STEP_A, STEP_B } from '../../store/fingerprint.ts';
import { viewOf } from '../../views.ts';

/** The word path is on unless INTERLEAVE_LOWER=0 (for the differential comparison, and to measure it). */
export function loweringEnabledByDefault(): boolean {
  return (globalThis as any).process?.env?.INTERLEAVE_LOWER !== '0';
}

/** A candidate transition with its linked word operations. */
interface Candidate {
  tr: CompiledTransition;
  /** The linked guard; null when the transition has no guard; undefined when its guard is not lowered. */
  guard: LinkedGuard | null | undefined;
  /** The linked action sequence, or null when some action is not lowered. */
  actions: LinkedAction[] | null;
  /** Runs of its lowered guard or actions, and how many of them BAILed (a throw is slow: see bailed()). */
  runs: number;
  bails: number;
  /** Its target is a final state of its thread (the machine may finish: the compiled step runs the exits). */
  final: boolean;
}

/** After this many BAILs, a candidate whose lowered code BAILs on more than a quarter of its runs is unlinked. */
const BAIL_LIMIT = 32;

/** How many steps took each path (for tests: the fallback is taken where the compiler refused). */
export interface StepCounts {
  lowered: number;
  fallback: number;
}

export class WordStep {
  private readonly system: CompiledSystem;
  private readonly T: number;
  /** candidates[thread][leaf][event], as the compiled tables, with linked word operations. */
  private readonly candidates: Array<Array<Array<Candidate[] | undefined>>>;
  /** The same, flat per thread: byLeafEvent[thread][leaf * events + event] (one look-up less per step). */
  private readonly byLeafEvent: Array<Array<Candidate[] | undefined>>;
  private readonly E: number;
  private readonly eventObjects: Event[];
  private readonly buf: WordBuffer;
  /** The decoded context of the state being expanded (null until needed). */
  private ctx: Context | null = null;
  /** The successor's context when the compiled step made it (null after a lowered step: decoded on demand). */
  private next: Context | null = null;
  private nextLength = 0;
  /** Use the word path in this expansion. */
  private fast = false;
  /** The successor's leaves are in the `out` array given to successor (the compiled step); else only in its words. */
  private leavesInOut = true;
  readonly counts: StepCounts = { lowered: 0, fallback: 0 };
  private readonly linker: Linker;

  constructor(
    private readonly packed: PackedSystem,
    /** Link the lowered plans (false: every step is the compiled step on the decoded context). */
    readonly enabled: boolean,
  ) {
    const system = (this.system = packed.system);
    this.T = packed.threadCount;
    this.buf = packed.buffer;
    const linker = (this.linker = new Linker(packed.codec, this.T));
    const linked = new Map<CompiledTransition, Candidate>();
    const link = (tr: CompiledTransition): Candidate => {
      let c = linked.get(tr);
      if (c === undefined) {
        const guard = tr.guardLowered === null ? null : enabled && tr.guardLowered.plan ? linker.guard(tr.guardLowered.plan) : undefined;
        const actions = enabled && tr.sequenceLowered.plan ? tr.sequenceLowered.plan.map((p) => linker.action(p)) : null;
        const final = tr.target >= 0 && system.threads[tr.thread].isFinal[tr.target] === true;
        linked.set(tr, (c = { tr, guard, actions, runs: 0, bails: 0, final }));
      }
      return c;
    };
    this.candidates = system.threads.map((t) => t.candidates.map((byEvent) => byEvent.map((cands) => (cands === undefined ? undefined : cands.map(link)))));
    const E = (this.E = system.events.length);
    this.byLeafEvent = this.candidates.map((byLeaf) => {
      const flat: Array<Candidate[] | undefined> = new Array(byLeaf.length * E).fill(undefined);
      byLeaf.forEach((byEvent, leaf) => byEvent.forEach((cands, e) => (flat[leaf * E + e] = cands)));
      return flat;
    });
    this.eventObjects = system.events.map((type) => Object.freeze({ type }));
    this.lowered = this.candidates.map(() => new Uint8Array(0));
    this.markLowered();
  }

  /**
   * lowered[thread][leaf]: every candidate transition there is lowered (guard and actions). A state is stepped
   * on the words only when every thread's leaf is: where some step needs the decoded context anyway, the
   * compiled step is as cheap for the others (the context is there, and its successors' contexts come free
   * for the property checks, which a step on the words would have to decode).
   */
  private lowered: Uint8Array[];

  private markLowered(): void {
    this.lowered = this.candidates.map((byLeaf) =>
      Uint8Array.from(byLeaf, (byEvent) => (byEvent.every((cands) => cands === undefined || cands.every((c) => c.guard !== undefined && c.actions !== null)) ? 1 : 0)),
    );
  }

  /** A lowered guard or action BAILed: count it, and unlink the candidate's lowering if it BAILs too often. */
  private bailed(c: Candidate): void {
    if (++c.bails >= BAIL_LIMIT && c.bails * 4 > c.runs) {
      c.guard = c.guard === null ? null : undefined;
      c.actions = null;
      this.markLowered();
    }
  }

  /** Starts expanding a state (its words are copied into packed.own); `fast`: the word path may be used. */
  begin(words: Int32Array, fast: boolean): void {
    this.packed.beginWords(words);
    this.linker.newState();
    this.ctx = null;
    let on = fast && this.enabled;
    if (on) {
      const own = this.packed.own;
      for (let t = 0; t < this.T; t++) {
        if (this.lowered[t][own[t]] === 0) {
          on = false;
          break;
        }
      }
    }
    this.fast = on;
    // The words every successor starts from, copied by TypedArray.set (a memory copy) per successor, and
    // their fingerprint mixes, from which a successor's fingerprint is computed over the words it changed.
    if (on) {
      // One view per length of the buffer, kept (no view made per state).
      const own = this.packed.own;
      const n = this.packed.ownLength;
      this.ownWords = viewOf(this.ownViews, own, n);
      this.mixOwn(this.ownWords);
    }
  }

  /**
   * Each word's mixes of the state being expanded, kept for its successors (which swap a few of them), and
   * their sums. A state popped after one of the same length (a breadth-first queue pops siblings and
   * cousins in turn) differs from it in a few words: only those are mixed again, also after one of
   * another length (the words before a list that grew or shrank keep their places).
   */
  private mixOwn(own: Int32Array): void {
    const n = own.length;
    if (this.ownMixA.length < n) {
      // Room for states twice as long: this path ran at the first state, before its type feedback was kept, so
      // each later growth threw away the optimised begin it is inlined into.
      const room = 2 * n + 16;
      this.ownMixA = new Int32Array(room);
      this.ownMixB = new Int32Array(room);
      this.mixedWords = new Int32Array(room);
      this.stamp = new Int32Array(room);
      this.mixedLength = -1;
    }
    const ma = this.ownMixA;
    const mb = this.ownMixB;
    const mw = this.mixedWords;
    let a = this.ownSums[0];
    let b = this.ownSums[1];
    const m = this.mixedLength;
    if (m !== n) {
      // The sums are over the first mixedLength positions. Positions past a shorter state leave them;
      // positions past a longer one enter with zero mixes, their words counted as changed.
      if (m < 0) {
        a = 0;
        b = 0;
      }
      for (let i = n; i < m; i++) {
        a = (a - ma[i]) | 0;
        b = (b - mb[i]) | 0;
      }
      for (let i = Math.max(m, 0); i < n; i++) {
        mw[i] = ~own[i];
        ma[i] = 0;
        mb[i] = 0;
      }
      this.mixedLength = n;
    }
    for (let i = 0; i < n; i++) {
      const k = own[i];
      if (k === mw[i]) continue;
      mw[i] = k;
      const x = mixA(k, i);
      const y = mixB(k, i);
      a = (a - ma[i] + x) | 0;
      b = (b - mb[i] + y) | 0;
      ma[i] = x;
      mb[i] = y;
    }
    this.ownSums[0] = a;
    this.ownSums[1] = b;
  }

  private readonly ownSums = new Int32Array(2);
  /** The sums of a successor's moved words (updateSums). */
  private readonly movedSums = new Int32Array(2);
  /** The expanded state's words' mixes per position (lanes A and B). */
  private ownMixA = new Int32Array(0);
  private ownMixB = new Int32Array(0);
  /** The words ownMixA/B are the mixes of (the first mixedLength; -1: none). */
  private mixedWords = new Int32Array(0);
  private mixedLength = -1;
  /** The last successor's fingerprint sums (when sumsKnown: it was a lowered step that moved no words). */
  private readonly nextSums = new Int32Array(2);
  private sumsKnown = false;
  /** The last successor was a lowered step whose sums are not made yet (fingerprintInto makes them). */
  private sumsPending = false;
  /** Positions already counted in this successor's sums (== epoch), so a word written twice counts once. */
  private stamp = new Int32Array(0);
  private epoch = 0;

  /**
   * The fingerprint of the successor last made by `successor` into `out`, from the expanded state's sums
   * and the words the step wrote; false when it is not known that way (then fingerprint its words). Asked
   * before the next step (the sums are made here, from WRITES, only for a successor whose fingerprint is
   * wanted: a symmetry-reduced search fingerprints most successors' representatives instead).
   */
  fingerprintInto(out: Uint32Array, length: number): boolean {
    if (this.sumsPending) {
      this.sumsPending = false;
      this.updateSums(this.buf.words, this.buf.length);
    }
    if (!this.sumsKnown) return false;
    finishFingerprint(this.nextSums[0], this.nextSums[1], length, out);
    return true;
  }

  /**
   * The successor's sums: the expanded state's, with each position written (WRITES, once each) swapped from
   * old word to new; from WRITES.from on (words moved there) the expanded state's mixes are taken out and
   * the successor's `length` words mixed in. False when that cannot be done (the sums are not known).
   */
  private updateSums(w: Int32Array, length: number): boolean {
    const n = this.packed.ownLength;
    const from = WRITES.from;
    // A step that changes the length moves words: a writer that did not say from where cannot be trusted.
    if (length !== n && from >= length && from >= n) return false;
    const ma = this.ownMixA;
    const mb = this.ownMixB;
    if (++this.epoch === 0x3fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    const stamp = this.stamp;
    const epoch = this.epoch;
    let a = this.ownSums[0];
    let b = this.ownSums[1];
    const pos = WRITES.pos;
    for (let k = 0; k < WRITES.count; k++) {
      const p = pos[k];
      if (p >= from || stamp[p] === epoch) continue;
      stamp[p] = epoch;
      a = (a - ma[p] + mixA(w[p], p)) | 0;
      b = (b - mb[p] + mixB(w[p], p)) | 0;
    }
    if (from < 0x7fffffff) {
      // From `from` on, the words moved: compare each with the expanded state's word at the same position and
      // swap the mixes of those that differ. A region moved by a whole value often holds the same words where it
      // was (record tags, the kinds of fields, small values): on btrfs-send's largest spec about half of them.
      const mw = this.mixedWords;
      const m = length < n ? length : n;
      let oa = Math.imul(from + 1, STEP_A);
      let ob = Math.imul(from + 1, STEP_B);
      for (let i = from; i < m; i++) {
        const k = w[i];
        if (k !== mw[i]) {
          a = (a - ma[i] + mixOffA(k, oa)) | 0;
          b = (b - mb[i] + mixOffB(k, ob)) | 0;
        }
        oa = (oa + STEP_A) | 0;
        ob = (ob + STEP_B) | 0;
      }
      // The expanded state's words past the successor's end leave the sums; the successor's past its end enter.
      for (let i = m; i < n; i++) {
        a = (a - ma[i]) | 0;
        b = (b - mb[i]) | 0;
      }
      if (length > m) {
        const moved = this.movedSums;
        mixSums(w, m, length, moved);
        a = (a + moved[0]) | 0;
        b = (b + moved[1]) | 0;
      }
    }
    // (In a typed array: an int32 out of the small-integer range in a field would be boxed per store.)
    this.nextSums[0] = a;
    this.nextSums[1] = b;
    this.sumsKnown = true;
    return true;
  }

  private ownWords: Int32Array = new Int32Array(0);
  private readonly ownViews: Int32Array[] = [];

  /** The decoded context of the state being expanded. */
  context(): Context {
    if (this.ctx === null) this.ctx = this.packed.decodeOwn();
    return this.ctx;
  }

  /** The context of the successor last made by `successor`. */
  nextContext(): Context {
    if (this.next === null) this.next = this.packed.decodeContext(this.buf.words.subarray(0, this.nextLength));
    return this.next;
  }

  /**
   * The successor by event `e` of the state being expanded: its leaves into `out`, its words the first
   * (returned) many of packed.encoded; -1 when no thread has an enabled transition for `e`. The
   * transitions taken are in system.taken.
   */
  successor(e: number, out: Int32Array): number {
    this.sumsKnown = false;
    this.sumsPending = false;
    if (!this.fast) return this.compiledStep(e, out);
    const own = this.packed.own;
    const ts = this.system.eventThreads[e];
    const E = this.E;
    let count = 0;
    let chosen: Candidate | null = null;
    let decodedGuard = false;
    for (let k = 0; k < ts.length; k++) {
      const t = ts[k];
      const cands = this.byLeafEvent[t][own[t] * E + e];
      if (cands === undefined) continue;
      for (let c = 0; c < cands.length; c++) {
        const cand = cands[c];
        let ok: boolean;
        if (cand.guard === null) ok = true;
        else if (cand.guard !== undefined) {
          cand.runs++;
          try {
            ok = cand.guard(own);
          } catch (x) {
            if (x !== BAIL) throw x;
            this.bailed(cand);
            ok = cand.tr.guard!(this.context(), this.eventObjects[e]);
            decodedGuard = true;
          }
        } else {
          ok = cand.tr.guard!(this.context(), this.eventObjects[e]);
          decodedGuard = true;
        }
        if (ok) {
          count++;
          chosen = cand;
          break;
        }
      }
    }
    if (decodedGuard) this.packed.checkStep(this.ctx!, e);
    if (count === 0) return -1;
    if (count > 1 || chosen!.actions === null) return this.compiledStep(e, out);
    const tr = chosen!.tr;
    const b = this.buf;
    b.reset();
    const n = this.packed.ownLength;
    b.ensure(n);
    const w = b.words;
    w.set(this.ownWords);
    b.length = n;
    WRITES.clear();
    // The leaves are the first words: `out` is filled only when asked for (leavesInto).
    if (tr.target >= 0) {
      w[tr.thread] = tr.target;
      WRITES.log(tr.thread);
    }
    // The machine finishing runs every active state's exit actions: the compiled step does that.
    if (chosen!.final && this.system.allFinal(w)) return this.compiledStep(e, out);
    const actions = chosen!.actions!;
    chosen!.runs++;
    try {
      for (let k = 0; k < actions.length; k++) actions[k](b);
    } catch (x) {
      if (x !== BAIL) throw x;
      this.bailed(chosen!);
      return this.compiledStep(e, out);
    }
    const taken = this.system.taken as CompiledTransition[];
    taken[0] = tr;
    if (taken.length !== 1) taken.length = 1;
    this.sumsPending = !WRITES.rehash;
    this.next = null;
    this.nextLength = b.length;
    this.leavesInOut = false;
    this.counts.lowered++;
    return b.length;
  }

  /** The leaves of the successor last made by `successor`, in `out` (the array it was given). */
  leavesInto(out: Int32Array): Int32Array {
    if (!this.leavesInOut) {
      const w = this.buf.words;
      for (let i = 0; i < this.T; i++) out[i] = w[i];
      this.leavesInOut = true;
    }
    return out;
  }

  /** The compiled step on the decoded context, then encode. */
  private compiledStep(e: number, out: Int32Array): number {
    const ctx = this.context();
    const next = this.system.stepInto(this.packed.own, ctx, e, out);
    this.packed.checkStep(ctx, e);
    if (next === null) return -1;
    this.counts.fallback++;
    this.leavesInOut = true;
    this.next = next;
    return (this.nextLength = this.packed.encodeInto(out, next));
  }
}
