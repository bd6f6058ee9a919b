// Saving and restoring a breadth-first safety search between two expansions (--checkpoint, --resume):
// the store with its parent links, the frontier, the counters, a pending violation, and the interned
// strings (so every state encodes to the same words after the restart). The file format is
// explorer/checkpoint.ts; the CLI writes the bytes atomically.
import {
  bytesOf,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  decodeCheckpoint,
  encodeCheckpoint,
  int32Section,
  verifyIdentity,
  type CheckpointIdentity,
  type Sections,
} from './checkpoint.ts';
import { InputError } from './errors.ts';
import { FifoQueue } from './frontier/index.ts';
import type { Bound } from './outcome.ts';
import type { Finding } from './properties/safety.ts';
import type { StateSpace } from './space/index.ts';
import { FingerprintSet, type StoreImage } from './store/index.ts';
import type { TypedArray } from './store/growable.ts';
import type { PartitionSnapshot } from './parallel/partition.ts';

/** Where a sequential search is between two expansions. */
export interface SearchCounters {
  transitions: number;
  maxSeenDepth: number;
  expanded: number;
  /** Seconds searched so far (earlier runs of a resumed search included). */
  seconds: number;
  first?: Finding;
  bound?: Bound;
}

/** How a search saves itself: every `everySeconds`, handing the file's bytes to `write`. */
export interface CheckpointSink {
  everySeconds: number;
  identity: CheckpointIdentity;
  write(bytes: Uint8Array): void;
}

/** A checkpoint to resume from: its bytes, the file name (for errors) and the identity it must have. */
export interface ResumeSource {
  bytes: Uint8Array;
  file: string;
  identity: CheckpointIdentity;
}

/** The default seconds between checkpoints. */
export const DEFAULT_CHECKPOINT_SECONDS = 60;

const ARRAYS = { Int32Array, Uint32Array, Uint16Array, Uint8Array } as const;
type ArrayKind = keyof typeof ARRAYS;

/** A store image as sections under `prefix`, and its header part (kind, numbers, array types). */
export function storeSections(image: StoreImage, prefix: string, sections: Sections): { kind: StoreImage['kind']; numbers: Record<string, number>; arrays: Record<string, ArrayKind> } {
  const arrays: Record<string, ArrayKind> = {};
  for (const [name, a] of Object.entries(image.arrays)) {
    arrays[name] = a.constructor.name as ArrayKind;
    sections.set(`${prefix}.${name}`, bytesOf(a).slice());
  }
  return { kind: image.kind, numbers: image.numbers, arrays };
}

/** The store image saved by storeSections. */
export function storeImage(head: ReturnType<typeof storeSections>, prefix: string, sections: Sections, file: string): StoreImage {
  const arrays: Record<string, TypedArray> = {};
  for (const [name, kind] of Object.entries(head.arrays)) {
    const bytes = sections.get(`${prefix}.${name}`);
    const Make = ARRAYS[kind];
    if (!bytes || !Make) throw new InputError(`${file}: the checkpoint's ${prefix}.${name} is missing or of an unknown type; start afresh without --resume`, file);
    const a = new Make(bytes.byteLength / Make.BYTES_PER_ELEMENT);
    bytesOf(a).set(bytes);
    arrays[name] = a;
  }
  return { kind: head.kind, numbers: head.numbers, arrays };
}

/** Re-interns saved strings in order: the same ids, so the same words and fingerprints. */
export function restoreStrings(space: StateSpace, strings: string[], file: string, ordered: boolean): void {
  strings.forEach((s, i) => {
    const id = space.packed.codec.intern(s);
    if (ordered && id !== i) throw new InputError(`${file}: the model's strings no longer match the checkpoint's; start afresh without --resume`, file);
  });
}

export function saveBfs(space: StateSpace, sink: CheckpointSink, store: FingerprintSet, frontier: FifoQueue, c: SearchCounters): void {
  const sections: Sections = new Map();
  const storeHead = storeSections(store.save(), 'store', sections);
  const f = frontier.save();
  sections.set('frontier', bytesOf(f.records));
  const strings = space.packed.codec.internedStrings();
  if (!strings) throw new Error('internal: a checkpoint of a one-thread search with a shared string table');
  sink.write(
    encodeCheckpoint(
      {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        ...sink.identity,
        progress: { states: store.size, transitions: c.transitions, depth: c.maxSeenDepth, queue: f.count, seconds: Number(c.seconds.toFixed(3)) },
        state: { search: 'bfs', counters: c, store: storeHead, frontierCount: f.count, strings: [...strings] },
      },
      sections,
    ),
  );
}

export function restoreBfs(space: StateSpace, src: ResumeSource): { store: FingerprintSet; frontier: FifoQueue; counters: SearchCounters } {
  const { header, sections } = decodeCheckpoint(src.bytes, src.file);
  verifyIdentity(header, src.identity, src.file);
  const st = header.state as { search: string; counters: SearchCounters; store: ReturnType<typeof storeSections>; frontierCount: number; strings: string[] };
  if (st.search !== 'bfs') throw new InputError(`${src.file}: a checkpoint of a ${st.search} search; this run is breadth-first on one thread`, src.file);
  restoreStrings(space, st.strings, src.file, true);
  const store = FingerprintSet.restore(storeImage(st.store, 'store', sections, src.file));
  const frontier = FifoQueue.restore(int32Section(sections, 'frontier', src.file), st.frontierCount);
  return { store, frontier, counters: st.counters };
}

/** A parallel search between two rounds: every partition, the states in transit, the round's counters. */
export interface ParallelSnapshot {
  partitions: PartitionSnapshot[];
  /** inboxes[q]: the records waiting for partition q, concatenated. */
  inboxes: Int32Array[];
  counters: { depth: number; states: number; deepest: number; seconds: number; first?: { v: Finding; p: number }; bound?: Bound };
  strings: string[];
}

export function saveParallel(sink: CheckpointSink, s: ParallelSnapshot): void {
  const sections: Sections = new Map();
  const partitions = s.partitions.map((p, i) => {
    sections.set(`p${i}.current`, bytesOf(p.current));
    const { store, current: _current, ...rest } = p;
    return { ...rest, store: storeSections(store, `p${i}.store`, sections) };
  });
  s.inboxes.forEach((b, q) => sections.set(`inbox.${q}`, bytesOf(b)));
  const transitions = s.partitions.reduce((a, p) => a + p.transitions, 0);
  sink.write(
    encodeCheckpoint(
      {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        ...sink.identity,
        progress: { states: s.counters.states, transitions, depth: s.counters.deepest, round: s.counters.depth, seconds: Number(s.counters.seconds.toFixed(3)) },
        state: { search: 'parallel-bfs', counters: s.counters, partitions, strings: s.strings },
      },
      sections,
    ),
  );
}

export function restoreParallel(src: ResumeSource, workers: number): ParallelSnapshot {
  const { header, sections } = decodeCheckpoint(src.bytes, src.file);
  verifyIdentity(header, src.identity, src.file);
  type Saved = Omit<PartitionSnapshot, 'store' | 'current'> & { store: ReturnType<typeof storeSections> };
  const st = header.state as { search: string; counters: ParallelSnapshot['counters']; partitions: Saved[]; strings: string[] };
  if (st.search !== 'parallel-bfs' || st.partitions.length !== workers) {
    throw new InputError(`${src.file}: a checkpoint of a ${st.search} search; this run is breadth-first on ${workers} threads`, src.file);
  }
  const partitions = st.partitions.map((p, i) => ({
    ...p,
    store: storeImage(p.store, `p${i}.store`, sections, src.file),
    current: int32Section(sections, `p${i}.current`, src.file),
  }));
  const inboxes = Array.from({ length: workers }, (_, q) => int32Section(sections, `inbox.${q}`, src.file));
  return { partitions, inboxes, counters: st.counters, strings: st.strings };
}
