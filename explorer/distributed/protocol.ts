// What the coordinator of a distributed search and its NATS workers say to each other, and on which subjects.
//
// Control: core NATS request/reply on per-worker subjects (the coordinator asks, the worker answers when the
// step is done). Data: batches of states as core NATS requests on per-partition subjects, each acknowledged
// by the owner once stored, so a round's sends are all delivered before its report reaches the coordinator
// (the barrier). Everything of a run lives under interleave.run.<run id>., so workers of a dead run ignore
// the next one's traffic.
import type { PartitionSetup } from '../parallel/build.ts';
import type { RoundLimits } from '../parallel/partition.ts';
import { monotonicMs } from '../strategies/clock.ts';

export const PREFIX = 'interleave';
/** Idle workers listen here, in one queue group, to be recruited by a coordinator. */
export const RECRUIT = `${PREFIX}.recruit`;
export const WORKERS_QUEUE = 'interleave-workers';
/** A batch's payload stays under NATS's default max_payload (1 MiB). */
export const BATCH_WORDS = 1 << 17;

export const subjects = (run: string) => ({
  /** Commands to one worker (by the id it gave when recruited). */
  control: (worker: string) => `${PREFIX}.run.${run}.ctl.${worker}`,
  /** The coordinator's heartbeat probe of a worker. */
  ping: (worker: string) => `${PREFIX}.run.${run}.ping.${worker}`,
  /** States sent to a partition. */
  data: (partition: number) => `${PREFIX}.run.${run}.data.${partition}`,
  /** Workers probe the coordinator here; nobody answering means it is gone. */
  coordinator: `${PREFIX}.run.${run}.coord`,
});

/** The recruit request and its answer. */
export interface RecruitRequest {
  run: string;
  version: string;
}
export type RecruitReply = { id: string; name: string; version: string } | { busy: true };

/** Where a worker finds the model: a bundled name, else a module path it must have too. */
export interface ModelRef {
  path: string;
  bundled?: string;
}

/** A worker's part of a run: the model to load, and its partition (as a worker thread's, explorer/parallel/build.ts). */
export interface DistributedInit extends PartitionSetup {
  model: ModelRef;
}

/** RoundLimits over the wire: no Infinity in JSON, and a deadline as time left (clocks differ between machines). */
export interface WireLimits {
  depth: number;
  maxDepth: number | null;
  msLeft: number | null;
  deadlock: boolean;
  stopAtFirst: boolean;
}

export function toWire(l: RoundLimits): WireLimits {
  return {
    depth: l.depth,
    maxDepth: Number.isFinite(l.maxDepth) ? l.maxDepth : null,
    msLeft: Number.isFinite(l.deadline) ? Math.max(0, l.deadline - monotonicMs()) : null,
    deadlock: l.deadlock,
    stopAtFirst: l.stopAtFirst,
  };
}

export function fromWire(w: WireLimits): RoundLimits {
  return {
    depth: w.depth,
    maxDepth: w.maxDepth ?? Infinity,
    deadline: w.msLeft === null ? Infinity : monotonicMs() + w.msLeft,
    deadlock: w.deadlock,
    stopAtFirst: w.stopAtFirst,
  };
}

export type Command =
  | { cmd: 'init'; init: DistributedInit }
  | { cmd: 'arrive'; depth: number; stopAtFirst: boolean; maxDepth?: number | null; expect: number; strings: string[] }
  | { cmd: 'round'; limits: WireLimits; expand: boolean }
  | { cmd: 'link'; local: number }
  | { cmd: 'end' };

/**
 * A batch of states for one partition: [sender, sequence number, ...records] with the records of
 * explorer/parallel/partition.ts's outboxes, whole records only. Returns the batches of an outbox.
 */
export function batches(sender: number, outbox: Int32Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  let seq = 0;
  while (from < outbox.length) {
    let to = from;
    // Whole records [parent, event, hi, lo, length, ...words], at least one per batch.
    do to += 5 + outbox[to + 4];
    while (to < outbox.length && to + 5 + outbox[to + 4] - from <= BATCH_WORDS);
    const b = new Int32Array(2 + to - from);
    b[0] = sender;
    b[1] = seq++;
    b.set(outbox.subarray(from, to), 2);
    out.push(new Uint8Array(b.buffer));
    from = to;
  }
  return out;
}

/** A received batch: who sent it, its number, its records (copied: message buffers are not aligned). */
export function unbatch(data: Uint8Array): { sender: number; seq: number; records: Int32Array } {
  // A copy (a Node Buffer's slice() is a view into a shared pool).
  const words = new Int32Array(new Uint8Array(data).buffer);
  return { sender: words[0], seq: words[1], records: words.subarray(2) };
}
