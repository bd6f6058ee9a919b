// A fingerprint index: stored states by 64-bit fingerprint, each with a dense id, its parent's id and the
// event that reached it (a trace is rebuilt by walking parent links back to the initial state).
import { ensureCapacity } from './growable.ts';
import { expectKind, type Store, type StoreImage } from './index.ts';

const NO_EVENT = 0xffff;

/**
 * The fingerprint index of the liveness strategy, which needs the id of a duplicate to record the edge:
 * a hash table of ids over per-id fingerprints, parent links and events.
 */
export class FingerprintIndex implements Store {
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
    hi >>>= 0; // as stored (signed or unsigned 32-bit halves are the same fingerprint)
    lo >>>= 0;
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
    hi >>>= 0;
    lo >>>= 0;
    let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) & this.mask;
    for (;;) {
      const v = this.table[slot];
      if (v === 0) return -1;
      const id = v - 1;
      if (this.fpHi[id] === hi && this.fpLo[id] === lo) return id;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Event indices from the initial state to `id`. */
  pathTo(id: number): number[] {
    const path: number[] = [];
    for (let s = id; this.parents[s] >= 0; s = this.parents[s]) path.push(this.events[s]);
    return path.reverse();
  }

  /** The store as typed arrays (the used part) and numbers, for a checkpoint. */
  save(): StoreImage {
    const n = this.size;
    return {
      kind: 'fingerprint-index',
      numbers: { size: n },
      arrays: { table: this.table, fpHi: this.fpHi.subarray(0, n), fpLo: this.fpLo.subarray(0, n), parents: this.parents.subarray(0, n), events: this.events.subarray(0, n) },
    };
  }

  /** A store equal to the one saved. */
  static restore(image: StoreImage): FingerprintIndex {
    expectKind(image, 'fingerprint-index');
    const n = image.numbers.size;
    const s = new FingerprintIndex(Math.max(n, 16));
    s.table = Int32Array.from(image.arrays.table);
    s.mask = s.table.length - 1;
    s.fpHi.set(image.arrays.fpHi);
    s.fpLo.set(image.arrays.fpLo);
    s.parents.set(image.arrays.parents);
    s.events.set(image.arrays.events);
    s.size = n;
    return s;
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
