// The parallel safety search: breadth-first over W partitions of the state space, the main thread running
// partition 0 and W-1 worker threads the others (explorer/parallel/partition.ts), in the level-synchronous
// rounds of explorer/parallel/levels.ts. This file is the worker threads' transport: it hands each partition
// the states the others found for it, and waits for the workers' reports synchronously (Atomics.wait on a
// shared counter, then receiveMessageOnPort), so checkModel stays synchronous. Same states, transitions and
// verdicts as the sequential search, and a counterexample of the same (shortest) length.
import type { ParamValue } from '../model.ts';
import type { Outcome } from '../outcome.ts';
import { levelSearch, type Peers } from '../parallel/levels.ts';
import { Partition, type ArrivalReport, type RoundLimits, type RoundReport } from '../parallel/partition.ts';
import { acquireWorkers, receive, releaseWorkers, type WorkerHandle } from '../parallel/pool.ts';
import type { WorkerInit } from '../parallel/protocol.ts';
import { SharedStrings } from '../parallel/strings.ts';
import { restoreParallel, restoreStrings, type ParallelSnapshot } from '../resume.ts';
import type { SafetyTask, Strategy } from './index.ts';

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

/**
 * Partition 0 on the main thread, the others on worker threads; the main thread routes the outboxes. Resumes
 * from a checkpoint (explorer/resume.ts) and saves one between two rounds.
 */
class ThreadPeers implements Peers {
  readonly count: number;
  private readonly main: Partition;
  private handles: WorkerHandle[] = [];
  private inboxes: Int32Array[][];
  private readonly budget: Int32Array | null;
  private readonly snapshot: ParallelSnapshot | undefined;
  readonly resumed: ParallelSnapshot['counters'] | undefined;

  constructor(private readonly options: ParallelTask) {
    this.count = options.workers;
    this.snapshot = options.resume ? restoreParallel(options.resume, this.count) : undefined;
    this.resumed = this.snapshot?.counters;
    // The strings the saved states use, back in the shared table (ids are hashes: the same ids as before).
    if (this.snapshot) restoreStrings(options.space, this.snapshot.strings, options.resume!.file, false);
    const { maxStates = Infinity } = options.bounds;
    const budget = maxStates === Infinity ? null : new Int32Array(new SharedArrayBuffer(4));
    if (budget) budget[0] = Math.min(maxStates - (this.resumed?.states ?? 0), 0x7fffffff);
    this.budget = budget;
    this.main = new Partition(options.space, options.checker, 0, this.count, budget);
    this.inboxes = this.snapshot ? this.snapshot.inboxes.map((b) => (b.length ? [b] : [])) : Array.from({ length: this.count }, () => []);
  }

  start(stopAtFirst: boolean): void {
    const o = this.options;
    this.handles = acquireWorkers(this.count - 1);
    this.handles.forEach((h, k) => {
      h.name = `worker thread ${k + 1} of the parallel search (partition ${k + 1} of ${this.count})`;
      const init: WorkerInit = {
        modelPath: o.modelPath,
        params: o.params,
        variant: o.variant,
        invariants: o.invariantNames,
        assertions: o.assertions,
        reduce: o.reduce ?? [],
        stopAtFirst,
        index: k + 1,
        count: this.count,
        strings: o.strings,
        budget: this.budget,
        ...(this.snapshot ? { resume: this.snapshot.partitions[k + 1] } : {}),
      };
      h.port.postMessage({ cmd: 'init', init });
    });
    if (this.snapshot) this.main.restore(this.snapshot.partitions[0]);
    else this.main.seed(stopAtFirst);
    for (const h of this.handles) receive(h, 'building the model');
  }

  arrive(depth: number, stopAtFirst: boolean, maxDepth: number): ArrivalReport[] {
    this.handles.forEach((h, i) => {
      const mine = this.inboxes[i + 1];
      h.port.postMessage({ cmd: 'arrive', inboxes: mine, depth, maxDepth }, mine.map((b) => b.buffer as ArrayBuffer));
    });
    return [this.main.arrive(this.inboxes[0], depth, stopAtFirst, maxDepth), ...this.handles.map((h) => receive(h, `taking in round ${depth}`).arrival as ArrivalReport)];
  }

  round(limits: RoundLimits, expand: boolean): RoundReport[] {
    this.handles.forEach((h) => h.port.postMessage({ cmd: 'round', limits, expand }));
    const mine = this.main.round(limits, expand);
    const reports = [mine, ...this.handles.map((h) => receive(h, `running round ${limits.depth}`).report as RoundReport)];
    this.inboxes = Array.from({ length: this.count }, (_, q) => reports.map((r) => r.outboxes[q]).filter((b) => b.length > 0));
    return reports;
  }

  save(): Omit<ParallelSnapshot, 'counters'> {
    const partitions = [this.main.save(), ...this.handles.map((h) => (h.port.postMessage({ cmd: 'save' }), receive(h, 'saving a checkpoint').snapshot))];
    // The states in transit, one buffer per destination.
    const inboxes = this.inboxes.map((list) => {
      const out = new Int32Array(list.reduce((a, b) => a + b.length, 0));
      let at = 0;
      for (const b of list) (out.set(b, at), (at += b.length));
      return out;
    });
    return { partitions, inboxes, strings: new SharedStrings(this.options.strings).all() };
  }

  link(gid: number): { parent: number; event: number } {
    const p = gid % this.count;
    const local = (gid - p) / this.count;
    if (p === 0) return this.main.link(local);
    const h = this.handles[p - 1];
    h.port.postMessage({ cmd: 'link', local });
    return receive(h, 'collecting the parent links').link;
  }

  close(ok: boolean): void {
    // Workers that finished a run serve the next one; after an error they are stopped.
    releaseWorkers(this.handles, ok);
  }
}

function parallelSearch(options: ParallelTask): Outcome {
  return levelSearch({ ...options, sharedBudget: true }, new ThreadPeers(options));
}

export const parallel: Strategy<ParallelTask> = { name: 'parallel', run: parallelSearch };
