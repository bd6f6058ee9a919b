// The state store: a 64-bit fingerprint set (open addressing over typed arrays) with parent links.
//
// Each stored state gets a dense id. Per id we keep its fingerprint (two uint32 words), its parent id
// and the event index that led to it; the hash table holds ids only. A trace is rebuilt by walking
// parent links back to the initial state and replaying the recorded events, so full states need
// not be kept. Fingerprints are 64-bit hashes: two different states collide with probability about
// n^2 / 2^65 (below 1e-7 for 10^6 states), the same trade SPIN's hash-compact and TLC make.

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

const NO_EVENT = 0xffff;

export class StateStore {
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
    const n = this.fpHi.length * 2;
    const grow = <T extends Uint32Array | Int32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.fpHi = grow(this.fpHi, (k) => new Uint32Array(k));
    this.fpLo = grow(this.fpLo, (k) => new Uint32Array(k));
    this.parents = grow(this.parents, (k) => new Int32Array(k));
    this.events = grow(this.events, (k) => new Uint16Array(k));
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
