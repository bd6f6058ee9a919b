// Preemption-bounded search (--preemptions K), after CHESS (Musuvathi and Qadeer) and Loom's
// preemption_bound: most concurrency bugs need few preemptive context switches, so schedules are
// explored in order of how many they need, fewest first, and none with more than K. A context switch is
// preemptive when the thread that ran last could still run; switching away from a thread that blocked
// or finished is free. The first counterexample found is one with the fewest preemptions.
//
// A state is the model state together with the thread that ran last. Searched as a 0-1 breadth-first
// search: bucket p holds states reached with p preemptions, buckets are drained in order, and a state
// is stored (and checked) when first taken out of a bucket, so it is kept with its fewest preemptions.
// When no successor was cut by K, every reachable state was explored and the outcome is a real pass;
// otherwise it is incomplete, naming the bound. A successor past --max-depth cuts the search only if it is
// never stored (reached within the bound another way), as in the breadth-first search.
import type { Bound, Outcome, SearchStats } from '../outcome.ts';
import { deadlockAt, type Finding } from '../properties/safety.ts';
import { FingerprintSet } from '../store/index.ts';
import { GrowableArray } from '../store/growable.ts';
import { SearchClock } from './clock.ts';
import { Successors } from './successors.ts';
import type { SafetyTask, Strategy } from './index.ts';

export interface PreemptionTask extends SafetyTask {
  preemptions: number;
}

/** A violation's outcome also says how many preemptive switches its path needs. */
export type PreemptionOutcome = Outcome & { preemptionsUsed?: number };

/** A FIFO of [parent, event, depth, last thread, fp hi, fp lo, length, ...words] records. */
class Bucket {
  buf = new Int32Array(1 << 12);
  head = 0;
  end = 0;
  push(parent: number, event: number, depth: number, last: number, hi: number, lo: number, words: Int32Array, len: number): void {
    if (this.end + 7 + len > this.buf.length) {
      const live = this.end - this.head;
      let cap = this.buf.length;
      while (cap < (live + 7 + len) * 2) cap *= 2;
      const next = new Int32Array(cap);
      next.set(this.buf.subarray(this.head, this.end));
      this.buf = next;
      this.head = 0;
      this.end = live;
    }
    const b = this.buf;
    let at = this.end;
    b[at++] = parent;
    b[at++] = event;
    b[at++] = depth;
    b[at++] = last;
    b[at++] = hi;
    b[at++] = lo;
    b[at++] = len;
    b.set(words.subarray(0, len), at);
    this.end = at + len;
  }
  get empty(): boolean {
    return this.head === this.end;
  }
}

/** The key of (state, thread that ran last): the state's fingerprint mixed with the thread. */
const keyHi = (hi: number, last: number) => hi ^ Math.imul(last + 1, 0x9e3779b1);
const keyLo = (lo: number, last: number) => lo ^ Math.imul(last + 1, 0x85ebca6b);

function preemptionBounded(task: PreemptionTask): PreemptionOutcome {
  const { space, checker, bounds } = task;
  const system = space.system;
  const K = task.preemptions;
  const maxStates = bounds.maxStates ?? Infinity;
  const maxDepth = bounds.maxDepth ?? Infinity;
  const clock = new SearchClock(task);
  const store = new FingerprintSet(system.events.length);
  const buckets: Bucket[] = Array.from({ length: K + 1 }, () => new Bucket());
  let transitions = 0;
  let deepest = 0;
  let bound: Bound | undefined;
  let violation: Finding | undefined;
  let used = 0;
  let popped = 0;
  /** The keys (hi, lo) of the successors past the depth bound not stored when met (not queued). */
  const beyond = new GrowableArray(new Int32Array(0));

  const init = space.initial();
  buckets[0].push(-1, -1, 0, -1, space.fp[0] | 0, space.fp[1] | 0, init.words, init.words.length);

  const succ = new Successors(task.onTransition ? { onTransition: task.onTransition, pathTo: (i) => store.pathTo(i) } : undefined);

  outer: for (let p = 0; p <= K; p++) {
    const q = buckets[p];
    while (!q.empty) {
      const b = q.buf;
      const h = q.head;
      const parent = b[h];
      const event = b[h + 1];
      const depth = b[h + 2];
      const last = b[h + 3];
      const hi = keyHi(b[h + 4], last);
      const lo = keyLo(b[h + 5], last);
      const len = b[h + 6];
      const words = b.subarray(h + 7, h + 7 + len);
      q.head = h + 7 + len;
      const timeout = clock.tick(++popped, () => ({ states: store.size, transitions, depth: deepest, queue: buckets.reduce((a, x) => a + (x.end - x.head > 0 ? 1 : 0), 0) }));
      if (timeout) {
        bound = timeout;
        break outer;
      }
      if (store.has(hi, lo)) continue;
      if (store.size >= maxStates) {
        bound = { name: 'maxStates', limit: maxStates };
        break outer;
      }
      const id = store.add(hi, lo, parent, event);
      if (depth > deepest) deepest = depth;
      // (Decoded only when some property needs the context: the words show the others hold.)
      const v = checker.mustCheck(words) ? checker.check(words.subarray(0, space.threadCount), space.decodeContext(words), id, depth) : undefined;
      if (v) {
        violation = v;
        used = p;
        break outer;
      }
      // Every successor first: whether the last thread can still run decides which switches are preemptive.
      succ.clear();
      succ.from = id;
      if (space.expand(words, succ.visit) === 0) {
        if (task.deadlock && !space.allEnded()) {
          violation = deadlockAt(system, space.leaves, id, depth);
          used = p;
          break outer;
        }
        continue;
      }
      const atDepthLimit = depth >= maxDepth;
      const lastEnabled = last >= 0 && succ.events.some((e) => system.eventThreads[e].includes(last));
      for (let k = 0; k < succ.count; k++) {
        const e = succ.events[k];
        const ts = system.eventThreads[e];
        const cost = last >= 0 && lastEnabled && !ts.includes(last) ? p + 1 : p;
        transitions++;
        if (cost > K) {
          if (!bound || bound.name === 'maxDepth') bound = { name: 'preemptions', limit: K };
          continue;
        }
        if (atDepthLimit) {
          // Past the depth bound: cut only if this (state, thread) is never stored, which is known at the end (states are
          // stored when taken out of a bucket, so one queued within the bound may not be yet).
          const bh = keyHi(succ.hi(k), ts[0]);
          const bl = keyLo(succ.lo(k), ts[0]);
          if (!store.has(bh, bl)) (beyond.push(bh), beyond.push(bl));
          continue;
        }
        const w = succ.wordsOf(k);
        buckets[cost].push(id, e, depth + 1, ts[0], succ.hi(k), succ.lo(k), w, w.length);
      }
    }
  }
  space.endExpansions();
  // A successor past the depth bound that was stored all the same (reached within the bound another way) cut nothing,
  // as in the breadth-first search; one that never was cut the search.
  for (let i = 0; i < beyond.length && !bound; i += 2) if (!store.has(beyond.data[i], beyond.data[i + 1])) bound = { name: 'maxDepth', limit: maxDepth };
  const stats: SearchStats = { states: store.size, transitions, depth: deepest, seconds: clock.seconds(), bytesPerState: store.bytesPerStateUsed() };
  if (violation) {
    const { stateId, ...v } = violation;
    return { status: 'violation', violation: v, path: store.pathTo(stateId), stats, preemptionsUsed: used };
  }
  if (bound) return { status: 'incomplete', bound, stats };
  return { status: 'pass', stats };
}

export const preemptionBound: Strategy<PreemptionTask, PreemptionOutcome> = { name: 'preemptions', run: preemptionBounded };
