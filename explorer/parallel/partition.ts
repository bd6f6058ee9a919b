// One thread's share of a parallel breadth-first search: the states whose fingerprint it owns.
//
// The state space is split by fingerprint: partition p of W owns the states with fp mod W = p, keeps
// them in its own visited set and expands them. A successor owned by another partition goes into an
// outbox for it, with its parent and event; the owner takes it in at the start of the next round. One
// round is one BFS level in every partition, so depths are exact and the shortest counterexample is
// found, as in the sequential search. State ids are global: local id * W + p.
import { PackedRecords } from '../frontier/index.ts';
import { monotonicMs } from '../strategies/clock.ts';
import { deadlockAt, type Finding, type StateChecker } from '../properties/safety.ts';
import type { StateSpace, Visit } from '../space/index.ts';
import { FingerprintSet, type StoreImage } from '../store/index.ts';

/** log2 of the entries of the sent-states cache (8 bytes each). */
const SENT_BITS = 18;

export interface RoundLimits {
  /** Depth of the states expanded this round. */
  depth: number;
  maxDepth: number;
  /** Stop at the first violation: a violating state is not queued for expansion. */
  stopAtFirst: boolean;
  /** monotonicMs() deadline (Infinity: none). */
  deadline: number;
  deadlock: boolean;
}

export interface RoundReport {
  /** Records [parent gid, event, fp hi, fp lo, length, ...words] per destination partition (own slot empty). */
  outboxes: Int32Array[];
  /** States waiting to be expanded next round. */
  queued: number;
  /** Records in each outbox. */
  sent: number[];
  size: number;
  transitions: number;
  deepest: number;
  /** Bytes of the visited set. */
  storeBytes: number;
  violation?: Finding;
  bound?: 'maxStates' | 'maxDepth' | 'timeout';
}

/** After taking in a round's received states: the first violation among them (or earlier), and the bound hit. */
export interface ArrivalReport {
  violation?: Finding;
  bound?: 'maxStates' | 'maxDepth';
}

/** A partition between two rounds, as saved in a checkpoint (explorer/resume.ts): plain data and typed arrays. */
export interface PartitionSnapshot {
  store: StoreImage;
  /** The records of the states to expand next round. */
  current: Int32Array;
  currentCount: number;
  transitions: number;
  deepest: number;
  violation?: Finding;
}

export class Partition {
  store: FingerprintSet;
  private current = new PackedRecords();
  private currentCount = 0;
  private next = new PackedRecords();
  private nextCount = 0;
  private outboxes: PackedRecords[];
  private readonly sent = new Int32Array(2 << SENT_BITS);
  private readonly sentRecords: number[];
  transitions = 0;
  /** Largest depth of a state this partition stored. */
  deepest = 0;
  /** The first violation this partition met at the smallest depth. */
  violation: Finding | undefined;
  private arrivalBound: ArrivalReport['bound'];

  constructor(
    private readonly space: StateSpace,
    private readonly checker: StateChecker,
    readonly index: number,
    readonly count: number,
    /**
     * The maxStates budget all partitions draw from (one Int32 in shared memory: states that may still be
     * stored), or null for no bound. Shared, so that a round that finds its new states unevenly spread
     * over the partitions is not cut while the total is within the bound.
     */
    private readonly budget: Int32Array | null = null,
    /** Called every 1024 states handled: tells the main thread the worker is alive. */
    private readonly heartbeat: () => void = () => {},
  ) {
    this.store = new FingerprintSet(space.system.events.length);
    this.outboxes = Array.from({ length: count }, () => new PackedRecords());
    this.sentRecords = new Array(count).fill(0);
  }

  private owner(lo: number): number {
    return (lo >>> 0) % this.count;
  }

  /** Takes one state from the maxStates budget; false when it is spent. */
  private take(hi: number, lo: number): boolean {
    if (this.budget === null || this.store.has(hi, lo)) return true;
    return Atomics.sub(this.budget, 0, 1) > 0;
  }

  private record(v: Finding | undefined): void {
    if (v && (!this.violation || v.depth < this.violation.depth)) this.violation = v;
  }

  /** Stores the initial state if this partition owns it (not queued if it violates and stopAtFirst). */
  seed(stopAtFirst: boolean): void {
    const init = this.space.initial();
    const [hi, lo] = this.space.fp;
    if (this.owner(lo) !== this.index) return;
    this.take(hi, lo);
    const local = this.store.add(hi, lo, -1, -1);
    const gid = local * this.count + this.index;
    const v = this.checker.check(init.leaves, init.context, gid, 0);
    this.record(v);
    if (v && stopAtFirst) return;
    this.current.append(gid, 0, init.words);
    this.currentCount++;
  }

  /**
   * The first half of a round: takes in the states other partitions found for this one (at depth
   * `depth`) and checks them. With stopAtFirst a violating state is not queued; the main thread then
   * expands the level only if no partition found a violation at this depth or above.
   */
  arrive(inboxes: Int32Array[], depth: number, stopAtFirst: boolean, maxDepth = Infinity): ArrivalReport {
    let bound: ArrivalReport['bound'];
    // States sent from the depth bound: one stored already cuts nothing, a new one cuts the search (not stored).
    const beyond = depth > maxDepth;
    let handled = 0;
    for (const inbox of inboxes) {
      for (let p = 0; p < inbox.length; ) {
        if ((++handled & 1023) === 0) this.heartbeat();
        const parent = inbox[p];
        const event = inbox[p + 1];
        const hi = inbox[p + 2];
        const lo = inbox[p + 3];
        const len = inbox[p + 4];
        const at = p + 5;
        p = at + len;
        if (beyond) {
          if (!this.store.has(hi, lo)) bound = 'maxDepth';
          continue;
        }
        if (!this.take(hi, lo)) {
          bound = 'maxStates';
          continue;
        }
        const local = this.store.add(hi, lo, parent, event);
        if (local < 0) continue;
        const words = inbox.subarray(at, at + len);
        if (depth > this.deepest) this.deepest = depth;
        const gid = local * this.count + this.index;
        // (Checked on the words first: string ids are content hashes, the same in every thread, and the shared
        // table names any of them.)
        if (this.checker.mustCheck(words)) {
          const v = this.checker.check(words, this.space.decodeContext(words), gid, depth);
          this.record(v);
          if (v && stopAtFirst) continue;
        }
        this.current.append(gid, depth, words, len);
        this.currentCount++;
      }
    }
    this.arrivalBound = bound;
    return { violation: this.violation, bound };
  }

  /**
   * The second half of a round: expands every queued state of this depth (unless `expand` is false) and
   * returns the outboxes for the other partitions.
   */
  round(limits: RoundLimits, expand: boolean): RoundReport {
    let bound: RoundReport['bound'] = this.arrivalBound;
    this.arrivalBound = undefined;
    if (expand) bound = this.expand(limits, bound);
    else {
      this.current.end = 0;
      this.currentCount = 0;
    }
    // Next round's states: this round's own discoveries (received ones are appended to them).
    const done = this.current;
    this.current = this.next;
    this.currentCount = this.nextCount;
    this.next = done;
    this.next.end = 0;
    this.nextCount = 0;
    const outboxes = this.outboxes.map((o) => o.buf.slice(0, o.end));
    const sent = this.sentRecords.slice();
    for (const o of this.outboxes) o.end = 0;
    this.sentRecords.fill(0);
    return {
      outboxes,
      sent,
      queued: this.currentCount,
      size: this.store.size,
      transitions: this.transitions,
      deepest: this.deepest,
      storeBytes: this.store.bytesPerStateUsed() * this.store.size,
      violation: this.violation,
      bound,
    };
  }

  private expand(limits: RoundLimits, bound: RoundReport['bound']): RoundReport['bound'] {
    const space = this.space;
    const depth = limits.depth;
    const buf = this.current.buf;
    let gid = 0;
    const atDepthLimit = depth >= limits.maxDepth;
    const visit: Visit = (e, words, n, hi, lo) => {
      const owner = this.owner(lo);
      // Beyond the depth bound only a new state cuts the search, as in the sequential search: here for the states
      // this partition owns; another partition's are sent to it and it decides on arrival (arrive's maxDepth).
      if (atDepthLimit && owner === this.index && !this.store.has(hi, lo)) {
        bound = 'maxDepth';
        return true;
      }
      this.transitions++;
      if (owner !== this.index) {
        this.send(owner, gid, e, words, n, hi, lo);
        return false;
      }
      if (atDepthLimit) return false;
      if (!this.take(hi, lo)) {
        bound = 'maxStates';
        return false;
      }
      const local = this.store.add(hi, lo, gid, e);
      if (local < 0) return false;
      if (depth + 1 > this.deepest) this.deepest = depth + 1;
      const nid = local * this.count + this.index;
      if (this.checker.mustCheck(words)) {
        // (Decoded only when some property reads it: the words show the others hold.)
        const v = this.checker.check(space.nextLeaves, space.nextContext, nid, depth + 1);
        this.record(v);
        if (v && limits.stopAtFirst) return false;
      }
      this.next.append(nid, depth + 1, words, n);
      this.nextCount++;
      return false;
    };
    let expanded = 0;
    for (let p = 0; p < this.current.end; ) {
      gid = buf[p];
      const len = buf[p + 2];
      const words = buf.subarray(p + 3, p + 3 + len);
      p += 3 + len;
      if ((++expanded & 1023) === 0) {
        this.heartbeat();
        if (monotonicMs() > limits.deadline) {
          space.endExpansions();
          return 'timeout';
        }
      }
      const successors = space.expand(words, visit);
      if (successors === 0 && limits.deadlock && !space.allEnded()) this.record(deadlockAt(space.system, space.leaves, gid, depth));
    }
    space.endExpansions();
    return bound;
  }

  /**
   * Queues a successor for its owner: [parent gid, event, fp hi, fp lo, length, ...words]. A state already
   * sent to its owner (in this round or an earlier one, so at no greater depth) is not sent again: `sent`
   * is a direct-mapped cache of fingerprints sent (a miss only costs a duplicate the owner drops).
   */
  private send(owner: number, parent: number, event: number, words: Int32Array, n: number, fpHi: number, fpLo: number): void {
    const hi = fpHi | 0;
    const lo = fpLo | 0;
    const slot = ((hi ^ Math.imul(lo, 0x2545f491)) >>> (32 - SENT_BITS)) << 1;
    const sent = this.sent;
    if (sent[slot] === hi && sent[slot + 1] === lo && (hi | lo) !== 0) return;
    sent[slot] = hi;
    sent[slot + 1] = lo;
    this.sentRecords[owner]++;
    const o = this.outboxes[owner];
    o.ensure(5 + n);
    const b = o.buf;
    let at = o.end;
    b[at++] = parent;
    b[at++] = event;
    b[at++] = hi;
    b[at++] = lo;
    b[at++] = n;
    for (let i = 0; i < n; i++) b[at + i] = words[i];
    o.end = at + n;
  }

  /** This partition between two rounds: its store, the states it expands next round, its counters (copies). */
  save(): PartitionSnapshot {
    const image = this.store.save();
    const arrays = Object.fromEntries(Object.entries(image.arrays).map(([k, a]) => [k, a.slice()]));
    return {
      store: { ...image, arrays },
      current: this.current.buf.slice(0, this.current.end),
      currentCount: this.currentCount,
      transitions: this.transitions,
      deepest: this.deepest,
      violation: this.violation,
    };
  }

  /** Takes the place of seed() when a search resumes: the partition as save() left it. */
  restore(snap: PartitionSnapshot): void {
    this.store = FingerprintSet.restore(snap.store);
    this.current.end = 0;
    this.current.ensure(snap.current.length);
    this.current.buf.set(snap.current);
    this.current.end = snap.current.length;
    this.currentCount = snap.currentCount;
    this.transitions = snap.transitions;
    this.deepest = snap.deepest;
    this.violation = snap.violation;
  }

  /** The parent (global id, -1 for the initial state) and event of a state this partition stores (local id). */
  link(local: number): { parent: number; event: number } {
    return { parent: this.store.parentOf(local), event: this.store.eventOf(local) };
  }
}
