// The level-synchronous search loop shared by every partitioned search: worker threads (strategies/parallel.ts)
// and worker processes over NATS (explorer/distributed/). A transport (Peers) runs the two halves of a round
// on every partition and moves the states between them; this loop decides when to stop, which violation wins,
// folds the bounds and the counts, and rebuilds the counterexample from the owners' parent links.
import type { Bound, Outcome } from '../outcome.ts';
import { monotonicMs } from '../strategies/clock.ts';
import { saveParallel, type ParallelSnapshot } from '../resume.ts';
import type { Finding } from '../properties/safety.ts';
import type { SafetyTask } from '../strategies/index.ts';
import type { ArrivalReport, RoundLimits, RoundReport } from './partition.ts';

/** The partitions of one run, wherever they are. Every call covers all of them and returns in partition order. */
export interface Peers {
  readonly count: number;
  /** Resuming a checkpoint: where the saved search was (the transport restores the partitions in start()). */
  readonly resumed?: ParallelSnapshot['counters'] | undefined;
  /** Between two rounds: every partition and the states in transit, for a checkpoint (transports that can). */
  save?(): Omit<ParallelSnapshot, 'counters'>;
  /** Seeds every partition (the owner of the initial state stores it); returns when all are ready. */
  start(stopAtFirst: boolean): void;
  /** First half of a round: every partition takes in the states sent to it (beyond maxDepth: only checks they are stored). */
  arrive(depth: number, stopAtFirst: boolean, maxDepth: number): ArrivalReport[];
  /** Second half: every partition expands its level and sends the successors it does not own. */
  round(limits: RoundLimits, expand: boolean): RoundReport[];
  /** The parent and event of global state `gid` (gid = local * count + partition), kept by its owner. */
  link(gid: number): { parent: number; event: number };
  /** Ends the run; ok: it ended normally (the peers may serve another run), with this outcome. */
  close(ok: boolean, outcome?: Outcome): void;
}

/** A partition that stopped answering (a worker process that died or was cut off): the run is incomplete. */
export class LostPeer extends Error {
  override name = 'LostPeer';
  constructor(
    readonly partition: number,
    /** The worker's name as it introduced itself (host, pid, id). */
    readonly worker: string,
    readonly why: string,
  ) {
    super(`worker ${worker} (partition ${partition}) was lost: ${why}`);
  }
}

/** Follows the parent links from `gid` back to the initial state, each link asked of its owner. */
export function pathAcross(peers: Peers, gid: number): number[] {
  const path: number[] = [];
  for (let g = gid; ; ) {
    const { parent, event } = peers.link(g);
    if (parent < 0) break;
    path.push(event);
    g = parent;
  }
  return path.reverse();
}

export interface LevelOptions extends SafetyTask {
  /**
   * True when the partitions draw maxStates from one shared budget (worker threads); otherwise the bound
   * is checked between rounds, so a level may overshoot it before the run ends incomplete.
   */
  sharedBudget: boolean;
}

/**
 * Breadth-first over the partitions of `peers`, one BFS level per round. Same states, transitions and depth
 * as the sequential search; the counterexample is a shortest one, and of several at the same depth a broken
 * property before a deadlock (as the sequential search meets them), then the one of the lowest partition (then the
 * first that partition met), so a run is deterministic for a given count.
 */
export function levelSearch(options: LevelOptions, peers: Peers): Outcome {
  const resumed = peers.resumed;
  const start = monotonicMs() - (resumed?.seconds ?? 0) * 1000;
  const { maxStates = Infinity, maxDepth = Infinity, timeoutSeconds } = options.bounds;
  const deadline = timeoutSeconds ? start + timeoutSeconds * 1000 : Infinity;
  const stopAtFirst = options.stopAtFirst;
  const progressMs = (options.progressInterval ?? 1) * 1000;
  let ok = false;
  let outcome: Outcome | undefined;
  let reports: RoundReport[] = [];
  let deepest = resumed?.deepest ?? 0;
  let states = resumed?.states ?? 1;
  const stats = () => {
    const n = reports.length ? reports.reduce((a, r) => a + r.size, 0) : 0;
    return {
      states: n,
      transitions: reports.reduce((a, r) => a + r.transitions, 0),
      depth: deepest,
      seconds: (monotonicMs() - start) / 1000,
      bytesPerState: n === 0 ? 0 : reports.reduce((a, r) => a + r.storeBytes, 0) / n,
    };
  };
  try {
    let first: { v: Finding; p: number } | undefined = resumed?.first;
    let bound: Bound | undefined = resumed?.bound;
    let lastProgress = monotonicMs();
    const sink = options.checkpoint;
    let lastCheckpoint = monotonicMs();
    // The sequential search's order: shallower first; at one depth, a state that breaks a property (checked when
    // it is generated, a level before it is expanded) before a deadlock (found when it is expanded); then the
    // lowest partition.
    const rank = (v: Finding) => v.depth * 2 + (v.kind === 'deadlock' ? 1 : 0);
    const consider = (v: Finding | undefined, p: number) => {
      if (v && (!first || rank(v) < rank(first.v) || (rank(v) === rank(first.v) && p < first.p))) first = { v, p };
    };
    try {
      peers.start(stopAtFirst);
      for (let depth = resumed?.depth ?? 0; ; depth++) {
        // Checkpoints are taken between two rounds: every partition's store and next states, and the states in transit.
        if (sink && peers.save && monotonicMs() - lastCheckpoint >= sink.everySeconds * 1000) {
          const seconds = (monotonicMs() - start) / 1000;
          saveParallel(sink, { ...peers.save(), counters: { depth, states, deepest, seconds, first, bound } });
          lastCheckpoint = monotonicMs();
        }
        // First half: every partition takes in (and checks) the states sent to it.
        peers.arrive(depth, stopAtFirst, maxDepth).forEach((a, p) => consider(a.violation, p));
        // Second half: a violation at this depth or above stops the level (as the sequential search stops
        // before expanding it), so no deadlock of this depth can win over it.
        const expand = !(stopAtFirst && first && first.v.depth <= depth);
        const limits: RoundLimits = { depth, maxDepth, deadline, deadlock: options.deadlock, stopAtFirst };
        reports = peers.round(limits, expand);
        states = reports.reduce((a, r) => a + r.size, 0);
        const queued = reports.reduce((a, r) => a + r.queued + r.sent.reduce((x, y) => x + y, 0), 0);
        deepest = Math.max(...reports.map((r) => r.deepest));
        reports.forEach((r, p) => consider(r.violation, p));
        for (const r of reports) {
          if (r.bound === 'timeout') bound = { name: 'timeout', limit: timeoutSeconds ?? 0 };
          else if (r.bound === 'maxStates' && bound?.name !== 'timeout') bound = { name: 'maxStates', limit: maxStates };
          else if (r.bound === 'maxDepth' && !bound) bound = { name: 'maxDepth', limit: maxDepth };
        }
        if (!options.sharedBudget && states >= maxStates && queued > 0 && !bound) bound = { name: 'maxStates', limit: maxStates };
        const now = monotonicMs();
        if (options.onProgress && now - lastProgress >= progressMs) {
          lastProgress = now;
          const transitions = reports.reduce((a, r) => a + r.transitions, 0);
          options.onProgress({ states, transitions, depth: deepest, queue: queued, seconds: (now - start) / 1000 });
        }
        if (bound && bound.name !== 'maxDepth') break;
        if (!expand || queued === 0) break;
        if (stopAtFirst && first && first.v.depth <= depth) break;
        if (now > deadline) {
          bound = { name: 'timeout', limit: timeoutSeconds ?? 0 };
          break;
        }
      }
      const found = first as { v: Finding; p: number } | undefined;
      const result = stats();
      if (found) {
        const { stateId, ...violation } = found.v;
        outcome = { status: 'violation', violation, path: pathAcross(peers, stateId), ...(bound ? { bound } : {}), stats: result };
      } else if (bound) outcome = { status: 'incomplete', bound, stats: result };
      else outcome = { status: 'pass', stats: result };
      ok = true;
      return outcome;
    } catch (e) {
      // A lost partition: what it held is gone, so the run can only be incomplete (never a pass, and not a
      // violation either: its counterexample may run through the lost partition's parent links).
      if (!(e instanceof LostPeer)) throw e;
      ok = true;
      return (outcome = { status: 'incomplete', bound: { name: 'lostWorker', limit: e.partition, worker: e.worker, why: e.why }, stats: stats() });
    }
  } finally {
    peers.close(ok, outcome);
  }
}
