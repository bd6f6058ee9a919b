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
  headerFields,
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

/**
 * The store image saved by storeSections (a fingerprint set's: the only store checkpoints hold), its header part
 * `head` at `path` checked field by field and against the arrays, so a store restored is one a search could have left.
 */
export function storeImage(head: ReturnType<typeof storeSections>, prefix: string, sections: Sections, file: string, path = 'state.store'): StoreImage {
  const { need, wrong } = headerFields(file);
  need(head, path, 'object');
  if (head.kind !== 'fingerprint-set') throw wrong(`${path}.kind`, head.kind, '"fingerprint-set"');
  const numbers = need<Record<string, number>>(head.numbers, `${path}.numbers`, 'object');
  for (const k of ['size', 'cap', 'eventCount']) need(numbers[k], `${path}.numbers.${k}`, 'count');
  const arrays: Record<string, TypedArray> = {};
  for (const name of ['table', 'parents', 'events']) {
    const kind = need<string>(need(head.arrays, `${path}.arrays`, 'object')[name], `${path}.arrays.${name}`, 'string');
    if (!Object.hasOwn(ARRAYS, kind)) throw wrong(`${path}.arrays.${name}`, kind, `one of ${Object.keys(ARRAYS).join(', ')}`);
    const bytes = sections.get(`${prefix}.${name}`);
    if (!bytes) throw new InputError(`${file}: the checkpoint's ${prefix}.${name} is missing; start afresh without --resume`, file);
    const Make = ARRAYS[kind as ArrayKind];
    const a = new Make(Math.floor(bytes.byteLength / Make.BYTES_PER_ELEMENT));
    bytesOf(a).set(bytes.subarray(0, a.byteLength));
    arrays[name] = a;
  }
  const { size, cap } = numbers;
  if (cap < 16 || arrays.table.length !== cap * 2) throw wrong(`${path}.numbers.cap`, cap, `the table's ${arrays.table.length / 2} slots (16 or more)`);
  if (size > cap || size > arrays.parents.length || arrays.events.length !== arrays.parents.length) {
    throw wrong(`${path}.numbers.size`, size, `at most the ${Math.min(cap, arrays.parents.length)} states its table and parent links hold`);
  }
  return { kind: head.kind, numbers, arrays };
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

/** The header's counters at `path`: an object whose `names` are counts (`optional` ones may be absent), or the error. */
function savedCounters<T>(need: ReturnType<typeof headerFields>['need'], value: unknown, path: string, names: string[], optional: string[]): T {
  const c = need<Record<string, unknown>>(value, path, 'object');
  for (const k of names) need(c[k], `${path}.${k}`, 'number');
  for (const k of optional) if (c[k] !== undefined) need(c[k], `${path}.${k}`, 'object');
  return c as T;
}

export function restoreBfs(space: StateSpace, src: ResumeSource): { store: FingerprintSet; frontier: FifoQueue; counters: SearchCounters } {
  const { header, sections } = decodeCheckpoint(src.bytes, src.file);
  verifyIdentity(header, src.identity, src.file);
  const st = header.state as { search: string; counters: SearchCounters; store: ReturnType<typeof storeSections>; frontierCount: number; strings: string[] };
  const { need, wrong } = headerFields(src.file);
  if (need(st.search, 'state.search', 'string') !== 'bfs') throw new InputError(`${src.file}: a checkpoint of a ${st.search} search; this run is breadth-first on one thread`, src.file);
  const counters = savedCounters<SearchCounters>(need, st.counters, 'state.counters', ['transitions', 'maxSeenDepth', 'expanded', 'seconds'], ['first', 'bound']);
  restoreStrings(space, need(st.strings, 'state.strings', 'strings'), src.file, true);
  const store = FingerprintSet.restore(storeImage(st.store, 'store', sections, src.file));
  const records = int32Section(sections, 'frontier', src.file);
  // Each record: fingerprint (2 words), length, words; the count must walk them exactly.
  let at = 0;
  let n = need<number>(st.frontierCount, 'state.frontierCount', 'count');
  for (; n > 0 && at + 3 <= records.length; n--) at += 3 + Math.max(0, records[at + 2]);
  if (n !== 0 || at !== records.length) throw wrong('state.frontierCount', st.frontierCount, `the number of states in the saved frontier`);
  const frontier = FifoQueue.restore(records, st.frontierCount);
  return { store, frontier, counters };
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
  const { need } = headerFields(src.file);
  if (need(st.search, 'state.search', 'string') !== 'parallel-bfs' || need<Saved[]>(st.partitions, 'state.partitions', 'list').length !== workers) {
    throw new InputError(`${src.file}: a checkpoint of a ${st.search} search; this run is breadth-first on ${workers} threads`, src.file);
  }
  const counters = savedCounters<ParallelSnapshot['counters']>(need, st.counters, 'state.counters', ['depth', 'states', 'deepest', 'seconds'], ['first', 'bound']);
  const partitions = st.partitions.map((p, i) => {
    const path = `state.partitions[${i}]`;
    savedCounters(need, p, path, ['currentCount', 'transitions', 'deepest'], ['violation']);
    return { ...p, store: storeImage(p.store, `p${i}.store`, sections, src.file, `${path}.store`), current: int32Section(sections, `p${i}.current`, src.file) };
  });
  const inboxes = Array.from({ length: workers }, (_, q) => int32Section(sections, `inbox.${q}`, src.file));
  return { partitions, inboxes, counters, strings: need(st.strings, 'state.strings', 'strings') };
}
