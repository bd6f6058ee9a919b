// The state stores: 64-bit fingerprint sets (open addressing over typed arrays) with parent links.
//
// Each stored state gets a dense id, and a trace is rebuilt by walking parent links back to the
// initial state and replaying the recorded events, so full states need not be kept. Two stores:
// - VisitedSet (the safety search): fingerprints in the table slots, parent and event per id;
//   at most 16 bytes per state (17 for models with 255 or more events). It answers only "seen before?"
//   for a duplicate.
// - StateStore (the liveness search, which needs the id of a duplicate to record the edge): a table
//   of ids over per-id fingerprints, parents and events.
// Fingerprints are 64-bit hashes: two different states collide with probability about n^2 / 2^65
// (below 1e-7 for 10^6 states), the same trade SPIN's hash-compact and TLC make.

import { ensureCapacity } from './store/growable.ts';

/** Two independent 32-bit hashes of an int32 sequence (murmur3-style mixing with two seeds). */
export function fingerprint(words: Int32Array, out: Uint32Array, length = words.length): void {
  let h1 = 0x9747b28c | 0;
  let h2 = 0x2545f491 | 0;
  for (let i = 0; i < length; i++) {
    let k = words[i];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let j = words[i] ^ 0x5bd1e995;
    j = Math.imul(j, 0x85ebca6b);
    j = (j << 13) | (j >>> 19);
    h2 = Math.imul(h2 ^ j, 0xc2b2ae35);
    h2 = (h2 + (h1 >>> 7)) | 0;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 ^= length * 31;
  h2 ^= h2 >>> 15;
  h2 = Math.imul(h2, 0x2c1b3c6d);
  h2 ^= h2 >>> 12;
  h2 = Math.imul(h2, 0x297a2d39);
  h2 ^= h2 >>> 15;
  out[0] = h1 >>> 0;
  out[1] = h2 >>> 0;
}

/** What a finished search hands on for traces: the parent links. */
export interface PathStore {
  readonly size: number;
  /** Event indices from the initial state to `id`. */
  pathTo(id: number): number[];
}

const NO_EVENT = 0xffff;

export class StateStore implements PathStore {
  private table: Int32Array; // id + 1, 0 = empty
  private mask: number;
  private fpHi: Uint32Array;
  private fpLo: Uint32Array;
  private parents: Int32Array;
  private events: Uint16Array;
  size = 0;

  constructor(initialCapacity = 1 << 12) {
    let cap = 1 << 10;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.table = new Int32Array(cap);
    this.mask = cap - 1;
    this.fpHi = new Uint32Array(initialCapacity);
    this.fpLo = new Uint32Array(initialCapacity);
    this.parents = new Int32Array(initialCapacity);
    this.events = new Uint16Array(initialCapacity);
  }

  /**
   * Adds a state by fingerprint. Returns its new id, or -(existing id) - 1 when it was already stored.
   */
  add(hi: number, lo: number, parent: number, event: number): number {
    let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) & this.mask;
    for (;;) {
      const v = this.table[slot];
      if (v === 0) break;
      const id = v - 1;
      if (this.fpHi[id] === hi && this.fpLo[id] === lo) return -id - 1;
      slot = (slot + 1) & this.mask;
    }
    const id = this.size++;
    if (id === this.fpHi.length) this.growRecords();
    this.fpHi[id] = hi;
    this.fpLo[id] = lo;
    this.parents[id] = parent;
    this.events[id] = event < 0 ? NO_EVENT : event;
    this.table[slot] = id + 1;
    if (this.size * 4 > this.table.length * 3) this.rehash();
    return id;
  }

  /** Id of a stored fingerprint, or -1. */
  find(hi: number, lo: number): number {
    let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) & this.mask;
    for (;;) {
      const v = this.table[slot];
      if (v === 0) return -1;
      const id = v - 1;
      if (this.fpHi[id] === hi && this.fpLo[id] === lo) return id;
      slot = (slot + 1) & this.mask;
    }
  }

  parentOf(id: number): number {
    return this.parents[id];
  }

  /** Event indices from the initial state to `id`. */
  pathTo(id: number): number[] {
    const path: number[] = [];
    for (let s = id; this.parents[s] >= 0; s = this.parents[s]) path.push(this.events[s]);
    return path.reverse();
  }

  /** Bytes per state counting only what is in use (records for stored states plus the table). */
  bytesPerStateUsed(): number {
    if (this.size === 0) return 0;
    return this.table.byteLength / this.size + 4 + 4 + 4 + 2;
  }

  private growRecords(): void {
    const n = this.size + 1;
    this.fpHi = ensureCapacity(this.fpHi, n);
    this.fpLo = ensureCapacity(this.fpLo, n);
    this.parents = ensureCapacity(this.parents, n);
    this.events = ensureCapacity(this.events, n);
  }

  private rehash(): void {
    const cap = this.table.length * 2;
    const table = new Int32Array(cap);
    const mask = cap - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = (this.fpHi[id] ^ Math.imul(this.fpLo[id], 0x9e3779b1)) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.table = table;
    this.mask = mask;
  }
}

/**
 * The visited set of the safety search: fingerprints live in the hash table's own slots, and per
 * state id only the parent id (4 bytes) and the event index (1 byte when the model has fewer than
 * 255 events, else 2) are kept. A duplicate is only ever asked "seen before?", so the table needs no
 * ids; a trace needs only the parent links and events. The table is linear probing over an Int32Array
 * of (hi, lo) pairs whose load stays between MAX_LOAD / GROWTH and MAX_LOAD: it grows by GROWTH, not by
 * doubling, to any size (the slot is a multiply-shift range reduction of the hash, not a mask), so
 * the table never sits at half load after a growth step. With 1-byte events that keeps the visited
 * set plus parent links at 8 / load + 5 = 14.1 to 15.8 bytes per state at every size (past the
 * initial table). Per-id records are chunked, so they need no copying and at most one chunk of slack.
 */
const MAX_LOAD = 0.875;
const GROWTH = 1.18;
const CHUNK_BITS = 10;
const CHUNK = 1 << CHUNK_BITS;
const TWO_32 = 4294967296;

export class VisitedSet implements PathStore {
  private table: Int32Array; // (hi, lo) per slot; (0, 0) = empty
  private cap: number;
  private limit: number;
  private readonly parentChunks: Int32Array[] = [];
  private readonly eventChunks: Array<Uint8Array | Uint16Array> = [];
  private readonly wideEvents: boolean;
  private readonly noEvent: number;
  size = 0;

  /** `eventCount`: the model's number of events (decides 1- or 2-byte event indices). */
  constructor(eventCount: number, initialSlots = 1 << 12) {
    if (eventCount > 0xfffe) throw new RangeError(`${eventCount} events: at most ${0xfffe} are supported`);
    this.wideEvents = eventCount >= 0xff;
    this.noEvent = this.wideEvents ? 0xffff : 0xff;
    this.cap = Math.max(16, initialSlots);
    this.table = new Int32Array(this.cap * 2);
    this.limit = Math.floor(this.cap * MAX_LOAD);
  }

  /** Adds a state by fingerprint: its new id, or -1 when it was already stored. */
  add(hi: number, lo: number, parent: number, event: number): number {
    const slot = this.probe(hi, lo);
    if (slot >= 0) return -1;
    const i = (-slot - 1) << 1;
    this.table[i] = this.probeHi;
    this.table[i + 1] = this.probeLo;
    const id = this.size++;
    const c = id >>> CHUNK_BITS;
    if (c === this.parentChunks.length) {
      this.parentChunks.push(new Int32Array(CHUNK));
      this.eventChunks.push(this.wideEvents ? new Uint16Array(CHUNK) : new Uint8Array(CHUNK));
    }
    this.parentChunks[c][id & (CHUNK - 1)] = parent;
    this.eventChunks[c][id & (CHUNK - 1)] = event < 0 ? this.noEvent : event;
    if (this.size > this.limit) this.grow();
    return id;
  }

  /** True when the fingerprint is stored. */
  has(hi: number, lo: number): boolean {
    return this.probe(hi, lo) >= 0;
  }

  // The fingerprint probe() looked for, as stored ((0, 0) marks an empty slot, so it is kept as (0, 1)).
  private probeHi = 0;
  private probeLo = 0;

  /** The slot holding the fingerprint, or -(the empty slot where it would go) - 1. */
  private probe(hi: number, lo: number): number {
    hi |= 0;
    lo |= 0;
    if (hi === 0 && lo === 0) lo = 1;
    this.probeHi = hi;
    this.probeLo = lo;
    const t = this.table;
    const cap = this.cap;
    let slot = Math.floor(((hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0) * cap / TWO_32);
    for (;;) {
      const i = slot << 1;
      const h = t[i];
      const l = t[i + 1];
      if (h === hi && l === lo) return slot;
      if (h === 0 && l === 0) return -slot - 1;
      if (++slot === cap) slot = 0;
    }
  }

  parentOf(id: number): number {
    return this.parentChunks[id >>> CHUNK_BITS][id & (CHUNK - 1)];
  }

  eventOf(id: number): number {
    return this.eventChunks[id >>> CHUNK_BITS][id & (CHUNK - 1)];
  }

  /** Event indices from the initial state to `id`. */
  pathTo(id: number): number[] {
    const path: number[] = [];
    for (let s = id; this.parentOf(s) >= 0; s = this.parentOf(s)) path.push(this.eventOf(s));
    return path.reverse();
  }

  /** Bytes per stored state: the whole table plus the allocated parent and event chunks. */
  bytesPerStateUsed(): number {
    if (this.size === 0) return 0;
    const records = this.parentChunks.length * CHUNK * (4 + (this.wideEvents ? 2 : 1));
    return (this.table.byteLength + records) / this.size;
  }

  /** The table's current load (for tests). */
  get load(): number {
    return this.size / this.cap;
  }

  private grow(): void {
    const old = this.table;
    const oldCap = this.cap;
    const cap = Math.ceil(oldCap * GROWTH);
    const t = new Int32Array(cap * 2);
    for (let s = 0; s < oldCap; s++) {
      const hi = old[s << 1];
      const lo = old[(s << 1) + 1];
      if (hi === 0 && lo === 0) continue;
      let slot = Math.floor(((hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0) * cap / TWO_32);
      while (t[slot << 1] !== 0 || t[(slot << 1) + 1] !== 0) if (++slot === cap) slot = 0;
      t[slot << 1] = hi;
      t[(slot << 1) + 1] = lo;
    }
    this.table = t;
    this.cap = cap;
    this.limit = Math.floor(cap * MAX_LOAD);
  }
}
