// Bitstate hashing (SPIN's -DBITSTATE, Holzmann's supertrace): the visited set as a bit array of 2^w
// bits addressed by k hashes of a state's 64-bit fingerprint. A state whose k bits are all set already
// is taken for seen, so a new state can be skipped when its bits were set by others: the search covers
// only part of the space, never more, and its no-violation outcome is incomplete, never pass. Parent
// links are still kept per stored state (6 bytes: the parent's id and the event's index; 8 for a model of 65,535
// events or more, whose indices do not fit 16 bits), so every violation found has a trace that replays.
//
// Coverage is estimated as SPIN's "hash factor" suggests: a state added when a fraction f of the bits is
// set is wrongly skipped with probability f^k; the mean of that over the run is the expected share of
// new states lost, and 1 minus it the expected coverage.
import type { Store, StoreImage } from './store/index.ts';

export const DEFAULT_BITSTATE_LOG2 = 27;
export const BITSTATE_HASHES = 3;

const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;

export interface BitstateEstimate {
  bits: number;
  hashes: number;
  states: number;
  /** Bits per stored state (SPIN's hash factor). */
  hashFactor: number;
  /** Fraction of bits set. */
  fill: number;
  /** Expected fraction of the states reached that were stored (1 - mean false-positive probability). */
  coverage: number;
}

export class BitstateSet implements Store {
  private readonly words: Int32Array;
  private readonly mask: number;
  private setBits = 0;
  private lossSum = 0;
  private readonly parents: Int32Array[] = [];
  private readonly events: Array<Uint16Array | Uint32Array> = [];
  /** Event indices take 32 bits when the model has 0xffff events or more (0xffff, or 0xffffffff, is "none"). */
  private readonly wideEvents: boolean;
  size = 0;

  /** `eventCount`: the model's number of events, which decides the width of the event indices kept. */
  constructor(
    readonly log2Bits = DEFAULT_BITSTATE_LOG2,
    readonly hashes = BITSTATE_HASHES,
    eventCount = 0,
  ) {
    if (!Number.isInteger(log2Bits) || log2Bits < 10 || log2Bits > 32) throw new RangeError(`bitstate: 2^${log2Bits} bits: give 10 to 32`);
    this.wideEvents = eventCount >= 0xffff;
    this.words = new Int32Array(2 ** (log2Bits - 5));
    this.mask = 2 ** log2Bits - 1;
  }

  get bits(): number {
    return this.mask + 1;
  }

  /** The i-th bit index of a fingerprint (double hashing: hi + i * lo, lo forced odd). */
  private bit(hi: number, lo: number, i: number): number {
    const h = (hi + Math.imul(i, lo | 1)) >>> 0;
    return this.log2Bits === 32 ? h : h & this.mask;
  }

  has(hi: number, lo: number): boolean {
    for (let i = 0; i < this.hashes; i++) {
      const b = this.bit(hi, lo, i);
      if ((this.words[b >>> 5] & (1 << (b & 31))) === 0) return false;
    }
    return true;
  }

  /** Adds a state: its new id, or -1 when all its bits were set already (seen, or a collision). */
  add(hi: number, lo: number, parent: number, event: number): number {
    const fill = this.setBits / (this.mask + 1);
    let fresh = false;
    for (let i = 0; i < this.hashes; i++) {
      const b = this.bit(hi, lo, i);
      const w = b >>> 5;
      const m = 1 << (b & 31);
      if ((this.words[w] & m) === 0) {
        this.words[w] |= m;
        this.setBits++;
        fresh = true;
      }
    }
    if (!fresh) return -1;
    this.lossSum += fill ** this.hashes;
    const id = this.size++;
    const c = id >>> CHUNK_BITS;
    if (c === this.parents.length) {
      this.parents.push(new Int32Array(CHUNK));
      this.events.push(this.wideEvents ? new Uint32Array(CHUNK) : new Uint16Array(CHUNK));
    }
    this.parents[c][id & (CHUNK - 1)] = parent;
    this.events[c][id & (CHUNK - 1)] = event < 0 ? (this.wideEvents ? 0xffffffff : 0xffff) : event;
    return id;
  }

  pathTo(id: number): number[] {
    const path: number[] = [];
    for (let s = id; ; ) {
      const p = this.parents[s >>> CHUNK_BITS][s & (CHUNK - 1)];
      if (p < 0) break;
      path.push(this.events[s >>> CHUNK_BITS][s & (CHUNK - 1)]);
      s = p;
    }
    return path.reverse();
  }

  bytesPerStateUsed(): number {
    if (this.size === 0) return 0;
    return (this.words.byteLength + this.parents.length * CHUNK * (this.wideEvents ? 8 : 6)) / this.size;
  }

  save(): StoreImage {
    throw new Error('internal: a bitstate store is not saved in checkpoints');
  }

  estimate(): BitstateEstimate {
    const bits = this.mask + 1;
    return {
      bits,
      hashes: this.hashes,
      states: this.size,
      hashFactor: this.size ? bits / this.size : Infinity,
      fill: this.setBits / bits,
      coverage: this.size ? 1 - this.lossSum / this.size : 1,
    };
  }
}
