// The parallel safety search: breadth-first over W partitions of the state space, the main thread running
// partition 0 and W-1 worker threads the others (explorer/parallel/partition.ts). Rounds are BFS levels,
// each in two halves: every partition takes in and checks the states others found for it; then, unless
// (stopping at the first violation) one of them violates, every partition expands its level. The main
// thread waits for the workers' reports (synchronously: Atomics.wait on a shared counter, then receiveMessageOnPort), so
// checkModel stays synchronous. Same states, transitions and verdicts as the sequential search, and a
// counterexample of the same (shortest) length; which of several shortest ones is found may differ.
import type { ParamValue } from '../model.ts';
import type { Bound, Outcome } from '../outcome.ts';
import { Partition, type ArrivalReport, type RoundLimits, type RoundReport } from '../parallel/partition.ts';
import { acquireWorkers, receive, releaseWorkers } from '../parallel/pool.ts';
import type { WorkerInit } from '../parallel/protocol.ts';
import type { Finding } from '../properties/safety.ts';
import type { PathStore } from '../store/index.ts';
import type { SafetyTask, Strategy } from './index.ts';
import { restoreParallel, restoreStrings, saveParallel } from '../resume.ts';
import { SharedStrings } from '../parallel/strings.ts';

export interface ParallelTask extends SafetyTask {
  /** Partitions, including the main thread's (2 = the main thread and one worker). */
  workers: number;
  /** Module of the model: each worker builds its own instance from it. */
  modelPath: string;
  params: Record<string, ParamValue>;
  variant: string;
  /** Built with SharedStrings over this buffer (the workers share it). */
  strings: SharedArrayBuffer;
  /** Names of the invariants the checker checks (the workers select them again). */
  invariantNames: string[];
  assertions: boolean;
  /** Reductions the workers apply to their spaces as the main thread did (explorer/reduce/). */
  reduce?: string[];
}

class PartitionedPaths implements PathStore {
  constructor(
    private readonly links: Array<{ parents: Int32Array; events: Int32Array }>,
    readonly size: number,
  ) {}
  pathTo(id: number): number[] {
    const W = this.links.length;
    const path: number[] = [];
    for (let g = id; ; ) {
      const p = g % W;
      const l = (g - p) / W;
      const parent = this.links[p].parents[l];
      if (parent < 0) break;
      path.push(this.links[p].events[l]);
      g = parent;
    }
    return path.reverse();
  }
}

function parallelSearch(options: ParallelTask): Outcome {
  const W = options.workers;
  const resumed = options.resume ? restoreParallel(options.resume, W) : undefined;
  // The strings the saved states use, back in the shared table (ids are hashes: the same ids as before).
  if (resumed) restoreStrings(options.space, resumed.strings, options.resume!.file, false);
  const start = performance.now() - (resumed?.counters.seconds ?? 0) * 1000;
  const { maxStates = Infinity, maxDepth = Infinity, timeoutSeconds } = options.bounds;
  const deadline = timeoutSeconds ? start + timeoutSeconds * 1000 : Infinity;
  const stopAtFirst = options.stopAtFirst;
  const progressMs = (options.progressInterval ?? 1) * 1000;
  const budget = maxStates === Infinity ? null : new Int32Array(new SharedArrayBuffer(4));
  if (budget) budget[0] = Math.min(maxStates - (resumed?.counters.states ?? 0), 0x7fffffff);
  const main = new Partition(options.space, options.checker, 0, W, budget);
  const handles = acquireWorkers(W - 1);
  let ok = false;
  try {
    handles.forEach((h, k) => {
      const init: WorkerInit = {
        modelPath: options.modelPath,
        params: options.params,
        variant: options.variant,
        invariants: options.invariantNames,
        assertions: options.assertions,
        reduce: options.reduce ?? [],
        stopAtFirst,
        index: k + 1,
        count: W,
        strings: options.strings,
        budget,
        ...(resumed ? { resume: resumed.partitions[k + 1] } : {}),
      };
      h.port.postMessage({ cmd: 'init', init });
    });
    if (resumed) main.restore(resumed.partitions[0]);
    else main.seed(stopAtFirst);
    for (const h of handles) receive(h, 'building the model');

    let inboxes: Int32Array[][] = resumed ? resumed.inboxes.map((b) => (b.length ? [b] : [])) : Array.from({ length: W }, () => []);
    let reports: RoundReport[] = [];
    let states = resumed?.counters.states ?? 1;
    let first: { v: Finding; p: number } | undefined = resumed?.counters.first;
    let bound: Bound | undefined = resumed?.counters.bound;
    let deepest = resumed?.counters.deepest ?? 0;
    let lastProgress = performance.now();
    const sink = options.checkpoint;
    let lastCheckpoint = performance.now();
    const consider = (v: Finding | undefined, p: number) => {
      if (v && (!first || v.depth < first.v.depth || (v.depth === first.v.depth && p < first.p))) first = { v, p };
    };
    for (let depth = resumed?.counters.depth ?? 0; ; depth++) {
      // Checkpoints are taken between two rounds: every partition's store and next states, and the states in transit.
      if (sink && performance.now() - lastCheckpoint >= sink.everySeconds * 1000) {
        const partitions = [main.save(), ...handles.map((h) => (h.port.postMessage({ cmd: 'save' }), receive(h, 'saving a checkpoint').snapshot))];
        const transit = inboxes.map((list) => {
          const out = new Int32Array(list.reduce((a, b) => a + b.length, 0));
          let at = 0;
          for (const b of list) (out.set(b, at), (at += b.length));
          return out;
        });
        const seconds = (performance.now() - start) / 1000;
        saveParallel(sink, { partitions, inboxes: transit, counters: { depth, states, deepest, seconds, first, bound }, strings: new SharedStrings(options.strings).all() });
        lastCheckpoint = performance.now();
      }
      // First half: every partition takes in (and checks) the states sent to it.
      handles.forEach((h, i) => {
        const mine = inboxes[i + 1];
        h.port.postMessage({ cmd: 'arrive', inboxes: mine, depth }, mine.map((b) => b.buffer as ArrayBuffer));
      });
      const arrivals = [main.arrive(inboxes[0], depth, stopAtFirst), ...handles.map((h) => receive(h, `taking in round ${depth}`).arrival as ArrivalReport)];
      arrivals.forEach((a, p) => consider(a.violation, p));
      // Second half: a violation at this depth or above stops the level (as the sequential search stops
      // before expanding it), so no deadlock of this depth can win over it.
      const expand = !(stopAtFirst && first && first.v.depth <= depth);
      const limits: RoundLimits = { depth, maxDepth, deadline, deadlock: options.deadlock, stopAtFirst };
      handles.forEach((h) => h.port.postMessage({ cmd: 'round', limits, expand }));
      const mine = main.round(limits, expand);
      reports = [mine, ...handles.map((h) => receive(h, `running round ${depth}`).report as RoundReport)];
      inboxes = Array.from({ length: W }, (_, q) => reports.map((r) => r.outboxes[q]).filter((b) => b.length > 0));
      states = reports.reduce((a, r) => a + r.size, 0);
      const queued = reports.reduce((a, r) => a + r.queued + r.sent.reduce((x, y) => x + y, 0), 0);
      deepest = Math.max(...reports.map((r) => r.deepest));
      reports.forEach((r, p) => consider(r.violation, p));
      for (const r of reports) {
        if (r.bound === 'timeout') bound = { name: 'timeout', limit: timeoutSeconds ?? 0 };
        else if (r.bound === 'maxStates' && bound?.name !== 'timeout') bound = { name: 'maxStates', limit: maxStates };
        else if (r.bound === 'maxDepth' && !bound) bound = { name: 'maxDepth', limit: maxDepth };
      }
      const now = performance.now();
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

    const links = [main.links(), ...handles.map((h) => (h.port.postMessage({ cmd: 'links' }), receive(h, 'collecting the parent links').links))];
    const stats = {
      states,
      transitions: reports.reduce((a, r) => a + r.transitions, 0),
      depth: deepest,
      seconds: (performance.now() - start) / 1000,
      bytesPerState: states === 0 ? 0 : reports.reduce((a, r) => a + r.storeBytes, 0) / states,
    };
    const store = new PartitionedPaths(links, states);
    const found = first as { v: Finding; p: number } | undefined;
    ok = true;
    if (found) {
      const { stateId, ...violation } = found.v;
      return { status: 'violation', violation, path: store.pathTo(stateId), ...(bound ? { bound } : {}), stats };
    }
    if (bound) return { status: 'incomplete', bound, stats };
    return { status: 'pass', stats };
  } finally {
    // Workers that finished a run serve the next one; after an error they are stopped.
    releaseWorkers(handles, ok);
  }
}

export const parallel: Strategy<ParallelTask> = { name: 'parallel', run: parallelSearch };
