// A fingerprint set with parent links: the store of the safety searches, at most 16 bytes per state.
/// <reference lib="es2024.arraybuffer" />
import { expectKind, type Store, type StoreImage } from './index.ts';

/**
 * The fingerprint set of the safety searches (bfs, dfs, each parallel partition): fingerprints live in the hash table's own slots, and per
 * state id only the parent id (4 bytes) and the event index (1 byte when the model has fewer than
 * 255 events, else 2) are kept. A duplicate is only ever asked "seen before?", so the table needs no
 * ids; a trace needs only the parent links and events. The table is linear probing over an Int32Array
 * of (hi, lo) pairs whose load stays between MAX_LOAD / GROWTH and MAX_LOAD: it grows by GROWTH, not by
 * doubling, to any size (the slot is a multiply-shift range reduction of the hash, not a mask), so
 * the table never sits at half load after a growth step. With 1-byte events that keeps the visited
 * set plus parent links at 8 / load + 5 = 14.1 to 15.8 bytes per state at every size past 57k states (a
 * smaller table grows 4-fold: SMALL_TABLE). Per-id records are chunked, so they need no copying and at most
 * one chunk of slack.
 *
 * The table grows in place: it lives in a resizable ArrayBuffer that reserves address space for the
 * largest table (no memory until used), so a growth step commits only the added slots and rehashes
 * within the one table (grow() below), instead of copying into a second table while the first is
 * still held (a peak of 2.18 tables: up to 9 bytes per state more at the moment of growth). Where the
 * runtime cannot reserve the space, the table is a plain Int32Array grown by copying.
 */
const MAX_LOAD = 0.875;
const GROWTH = 1.18;
/**
 * Below this many slots (a 512 KiB table) the table grows 4-fold, not by GROWTH: a run's first 57k states take
 * 7 growth steps instead of 50, whose rehashing (about 6.5 slot moves per state stored, by GROWTH) ran in the
 * first, unoptimised part of the search, and whose loop V8 then compiled on the other core while the search
 * waited for its own functions. Memory is not the question at that size.
 */
const SMALL_TABLE = 1 << 16;
const CHUNK_BITS = 10;
const CHUNK = 1 << CHUNK_BITS;
const TWO_32 = 4294967296;
/** The adds that also run the chunk-making path (addChunk), its result dropped. */
const PRIME_ADDS = 256;
/** The cache of recent fingerprints (add): 2^15 entries, 256 KiB, once the table has 2^19 slots (4 MiB). */
const RECENT = 1 << 15;
const RECENT_MASK = RECENT - 1;
const RECENT_FROM = 1 << 19;
/** The largest resizable ArrayBuffer V8 allows (2^32 bytes, a multiple of 8): about 470M states in place. */
const MAX_TABLE_BYTES = TWO_32 - 8;

/** Options of a fingerprint set (tests use `inPlace: false` to take the copying growth). */
export interface FingerprintSetOptions {
  /** Grow the table in place in a resizable ArrayBuffer (default true; false: a plain array, copied on growth). */
  inPlace?: boolean;
}

/** The home slot of a fingerprint in a table of `cap` slots (probe() and the rehash): a multiply-shift range reduction, monotone in the hash and in cap. */
function homeSlot(hi: number, lo: number, cap: number): number {
  return Math.floor(((hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0) * cap / TWO_32);
}

/** A zeroed table of `slots` (hi, lo) pairs: length-tracking over a resizable buffer when `inPlace` and the runtime allows. */
function newTable(slots: number, inPlace: boolean): Int32Array {
  if (inPlace) {
    try {
      return new Int32Array(new ArrayBuffer(slots * 8, { maxByteLength: MAX_TABLE_BYTES }));
    } catch {
      // No resizable buffers, or no address space left to reserve: grow by copying.
    }
  }
  return new Int32Array(slots * 2);
}

export class FingerprintSet implements Store {
  private table: Int32Array; // (hi, lo) per slot; (0, 0) = empty
  private cap: number;
  private limit: number;
  private readonly parentChunks: Int32Array[] = [];
  private readonly eventChunks: Array<Uint8Array | Uint16Array> = [];
  private readonly wideEvents: boolean;
  private readonly noEvent: number;
  size = 0;

  /**
   * `eventCount`: the model's number of events (decides 1- or 2-byte event indices). The table starts at 16 slots
   * (growth steps at the 14th, 56th and 224th state, a few hundred slots moved): a table that first grew at the 3,585th
   * state made add's growth a path never run before the search was optimised, and threw away the optimised
   * add and the visit and expand it is inlined into.
   */
  constructor(eventCount: number, initialSlots = 16, options: FingerprintSetOptions = {}) {
    if (eventCount > 0xfffe) throw new RangeError(`${eventCount} events: at most ${0xfffe} are supported`);
    this.wideEvents = eventCount >= 0xff;
    this.noEvent = this.wideEvents ? 0xffff : 0xff;
    this.cap = Math.max(16, initialSlots);
    this.table = newTable(this.cap, options.inPlace ?? true);
    this.limit = Math.floor(this.cap * MAX_LOAD);
    if (this.cap >= RECENT_FROM) this.recent = new Int32Array(RECENT * 2);
  }

  /**
   * Fingerprints seen lately, direct-mapped by their low bits: a duplicate found here costs no probe of
   * the table, which past a few MB misses the CPU caches on nearly every look-up. Most duplicates of a
   * breadth-first search are reached again within a few levels (a.b = b.a), so most hit here. Only
   * stored fingerprints are ever put here, so a hit is a duplicate. Made once the table outgrows
   * RECENT_FROM slots (smaller tables stay in the caches anyway).
   */
  private recent: Int32Array | null = null;

  /** Adds a state by fingerprint: its new id, or -1 when it was already stored. */
  add(hi: number, lo: number, parent: number, event: number): number {
    const recent = this.recent;
    let r = 0;
    if (recent !== null) {
      hi |= 0;
      lo |= 0;
      if (hi === 0 && lo === 0) lo = 1;
      r = (lo & RECENT_MASK) << 1;
      if (recent[r] === hi && recent[r + 1] === lo) return -1;
    }
    const slot = this.probe(hi, lo);
    if (recent !== null) {
      recent[r] = this.probeHi;
      recent[r + 1] = this.probeLo;
    }
    if (slot >= 0) return -1;
    const i = ~slot << 1;
    this.table[i] = this.probeHi;
    this.table[i + 1] = this.probeLo;
    const id = this.size++;
    const c = id >>> CHUNK_BITS;
    if (c === this.parentChunks.length || id < PRIME_ADDS) this.addChunk(c === this.parentChunks.length);
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

  /**
   * The slot holding the fingerprint, or ~(the empty slot where it would go) (= -slot - 1: as int32 bits, since
   * -slot is -0, not a small integer, at slot 0, which sent the optimised add back to the interpreter).
   */
  private probe(hi: number, lo: number): number {
    hi |= 0;
    lo |= 0;
    if (hi === 0 && lo === 0) lo = 1;
    this.probeHi = hi;
    this.probeLo = lo;
    const t = this.table;
    const cap = this.cap;
    let slot = homeSlot(hi, lo, cap);
    for (;;) {
      const i = slot << 1;
      const h = t[i];
      const l = t[i + 1];
      if (h === hi && l === lo) return slot;
      if (h === 0 && l === 0) return ~slot;
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

  /** The store as typed arrays and numbers, for a checkpoint. */
  save(): StoreImage {
    const chunks = this.parentChunks.length;
    const parents = new Int32Array(chunks * CHUNK);
    const events = this.wideEvents ? new Uint16Array(chunks * CHUNK) : new Uint8Array(chunks * CHUNK);
    for (let c = 0; c < chunks; c++) {
      parents.set(this.parentChunks[c], c * CHUNK);
      events.set(this.eventChunks[c], c * CHUNK);
    }
    return { kind: 'fingerprint-set', numbers: { size: this.size, cap: this.cap, eventCount: this.wideEvents ? 0xff : 0 }, arrays: { table: this.table, parents, events } };
  }

  /** A store equal to the one saved. */
  static restore(image: StoreImage): FingerprintSet {
    expectKind(image, 'fingerprint-set');
    const { size, cap, eventCount } = image.numbers;
    const s = new FingerprintSet(eventCount, cap);
    s.table.set(image.arrays.table);
    s.size = size;
    const { parents, events } = image.arrays;
    for (let at = 0; at < parents.length; at += CHUNK) {
      s.parentChunks.push(Int32Array.from(parents.subarray(at, at + CHUNK)));
      s.eventChunks.push(s.wideEvents ? Uint16Array.from(events.subarray(at, at + CHUNK)) : Uint8Array.from(events.subarray(at, at + CHUNK)));
    }
    return s;
  }

  /** Bytes per stored state: the whole table plus the allocated parent and event chunks. */
  bytesPerStateUsed(): number {
    if (this.size === 0) return 0;
    const records = this.parentChunks.length * CHUNK * (4 + (this.wideEvents ? 2 : 1));
    return (this.table.byteLength + records + (this.recent?.byteLength ?? 0)) / this.size;
  }

  /** The table's current load (for tests). */
  get load(): number {
    return this.size / this.cap;
  }

  /**
   * The next chunk of parent links and events (`next`), or, in the first PRIME_ADDS adds, an empty one thrown
   * away: the path runs then, before add is optimised. Met first at the 1,024th id, after, it sent the optimised
   * add (and the visit it is inlined into) back to the interpreter.
   */
  private addChunk(next: boolean): void {
    const n = next ? CHUNK : 0;
    (next ? this.parentChunks : this.primed).push(new Int32Array(n));
    (next ? this.eventChunks : this.primedEvents).push(this.wideEvents ? new Uint16Array(n) : new Uint8Array(n));
    if (!next) {
      this.primed.length = 0;
      this.primedEvents.length = 0;
    }
  }

  private readonly primed: Int32Array[] = [];
  private readonly primedEvents: Array<Uint8Array | Uint16Array> = [];

  /** Grows the table by GROWTH (4-fold while small): in place when its buffer can be resized that far, else by copying. */
  private grow(): void {
    const oldCap = this.cap;
    const cap = oldCap < SMALL_TABLE ? Math.min(oldCap * 4, SMALL_TABLE) : Math.ceil(oldCap * GROWTH);
    const buffer = this.table.buffer;
    if (buffer instanceof ArrayBuffer && buffer.resizable && cap * 8 <= buffer.maxByteLength) this.growInPlace(buffer, oldCap, cap);
    else this.growByCopy(oldCap, cap);
    this.cap = cap;
    this.limit = Math.floor(cap * MAX_LOAD);
    if (this.recent === null && cap >= RECENT_FROM) this.recent = new Int32Array(RECENT * 2);
  }

  /**
   * Rehashes within the one table, grown to `cap` slots. A fingerprint's home slot only moves up as the table
   * grows (homeSlot is monotone in cap), so the old slots are taken from the top down: everything at or above
   * the slot being taken is already the new table, and a fingerprint whose new home is there is placed by
   * probing up within it (the slots it passes stay filled, so the probe sequence stays intact). The few whose
   * new home lies below the slot they sat in (displaced far, near the start), or whose probe would wrap past
   * the end, are set aside and inserted last, by the ordinary probe, into the finished table.
   */
  private growInPlace(buffer: ArrayBuffer, oldCap: number, cap: number): void {
    buffer.resize(cap * 8); // the new slots read as empty
    const t = this.table; // length-tracking: now cap slots
    const aside: number[] = [];
    for (let s = oldCap - 1; s >= 0; s--) {
      const i = s << 1;
      const hi = t[i];
      const lo = t[i + 1];
      if (hi === 0 && lo === 0) continue;
      t[i] = 0;
      t[i + 1] = 0;
      let slot = homeSlot(hi, lo, cap);
      if (slot < s) {
        aside.push(hi, lo);
        continue;
      }
      while (slot < cap && (t[slot << 1] !== 0 || t[(slot << 1) + 1] !== 0)) slot++;
      if (slot === cap) {
        aside.push(hi, lo);
        continue;
      }
      t[slot << 1] = hi;
      t[(slot << 1) + 1] = lo;
    }
    for (let k = 0; k < aside.length; k += 2) place(t, cap, aside[k], aside[k + 1]);
  }

  /** Rehashes into a new table of `cap` slots (the old one is garbage once done). */
  private growByCopy(oldCap: number, cap: number): void {
    const old = this.table;
    const t = new Int32Array(cap * 2);
    for (let s = 0; s < oldCap; s++) {
      const hi = old[s << 1];
      const lo = old[(s << 1) + 1];
      if (hi !== 0 || lo !== 0) place(t, cap, hi, lo);
    }
    this.table = t;
  }
}

/** Puts a fingerprint known to be absent into the first empty slot from its home (wrapping at the end). */
function place(t: Int32Array, cap: number, hi: number, lo: number): void {
  let slot = homeSlot(hi, lo, cap);
  while (t[slot << 1] !== 0 || t[(slot << 1) + 1] !== 0) if (++slot === cap) slot = 0;
  t[slot << 1] = hi;
  t[(slot << 1) + 1] = lo;
}
