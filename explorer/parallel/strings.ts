// One string table shared by the threads of a parallel search: a string's id is a 32-bit hash of its
// content, so every thread encodes equal states to equal words, and ids (so fingerprints, so which thread
// owns a state) do not depend on which thread met a string first. The table in shared memory maps ids back
// to strings, for states a thread receives with strings it has not met yet; two different strings with one
// hash stop the run with an error (about 1 in 10^5 for 200 distinct strings).
import { ModelError } from '../errors.ts';
import type { StringTable } from '../codec.ts';

const SLOTS = 1 << 16; // distinct strings
const ARENA = 1 << 22; // UTF-16 code units of all strings together
// Int32 words: [lock, arena used], then per slot [used, id, offset, length].
const HEADER = 2;
const SLOT_WORDS = 4;

export function hash32(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export class SharedStrings implements StringTable {
  private readonly meta: Int32Array;
  private readonly arena: Uint16Array;
  private readonly ids = new Map<string, number>();
  private readonly strings = new Map<number, string>();

  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer((HEADER + SLOTS * SLOT_WORDS) * 4 + ARENA * 2);
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.meta = new Int32Array(buffer, 0, HEADER + SLOTS * SLOT_WORDS);
    this.arena = new Uint16Array(buffer, (HEADER + SLOTS * SLOT_WORDS) * 4, ARENA);
  }

  intern(s: string): number {
    const known = this.ids.get(s);
    if (known !== undefined) return known;
    const id = hash32(s);
    const m = this.meta;
    while (Atomics.compareExchange(m, 0, 0, 1) !== 0);
    try {
      let slot = id & (SLOTS - 1);
      for (let probes = 0; ; probes++) {
        if (probes === SLOTS) throw new ModelError(`more than ${SLOTS} distinct strings in the context: too many for the parallel search; run without --workers`, { feature: 'context' });
        const base = HEADER + slot * SLOT_WORDS;
        if (Atomics.load(m, base) === 0) {
          const at = m[1];
          if (at + s.length > ARENA) throw new ModelError('the strings in the context exceed the parallel search\'s string table; run without --workers', { feature: 'context' });
          for (let i = 0; i < s.length; i++) this.arena[at + i] = s.charCodeAt(i);
          m[1] = at + s.length;
          m[base + 1] = id;
          m[base + 2] = at;
          m[base + 3] = s.length;
          Atomics.store(m, base, 1); // published last: readers see the whole entry
          break;
        }
        if (m[base + 1] === id) {
          const other = this.read(base);
          if (other !== s) {
            throw new ModelError(
              `the context strings ${JSON.stringify(other)} and ${JSON.stringify(s)} have the same 32-bit hash, so the parallel ` +
                `search cannot tell them apart; run this model without --workers`,
              { feature: 'context' },
            );
          }
          break;
        }
        slot = (slot + 1) & (SLOTS - 1);
      }
    } finally {
      Atomics.store(m, 0, 0);
    }
    this.ids.set(s, id);
    this.strings.set(id, s);
    return id;
  }

  stringOf(id: number): string {
    const known = this.strings.get(id);
    if (known !== undefined) return known;
    const m = this.meta;
    let slot = id & (SLOTS - 1);
    for (let probes = 0; probes < SLOTS; probes++) {
      const base = HEADER + slot * SLOT_WORDS;
      if (Atomics.load(m, base) === 0) break;
      if (m[base + 1] === id) {
        const s = this.read(base);
        this.strings.set(id, s);
        this.ids.set(s, id);
        return s;
      }
      slot = (slot + 1) & (SLOTS - 1);
    }
    throw new Error(`corrupt state encoding: string id ${id} is in no thread's string table`);
  }

  /** Every string in the shared table (a checkpoint saves them; ids are hashes, so order does not matter). */
  all(): string[] {
    const out: string[] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      const base = HEADER + slot * SLOT_WORDS;
      if (Atomics.load(this.meta, base) !== 0) out.push(this.read(base));
    }
    return out;
  }

  private read(base: number): string {
    const at = this.meta[base + 2];
    const len = this.meta[base + 3];
    let s = '';
    for (let i = 0; i < len; i += 4096) s += String.fromCharCode(...this.arena.subarray(at + i, at + Math.min(len, i + 4096)));
    return s;
  }
}
