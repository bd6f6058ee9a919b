// The stores (explorer/store/): the fingerprint set of the safety searches (fingerprints in the table slots, parent
// links and events per id), the fingerprint index of the liveness strategy, and saving and restoring both.
import { describe, expect, it } from 'vitest';
import { fingerprint, FingerprintIndex, FingerprintSet, type Store } from '../../explorer/store/index.ts';

/** Deterministic pseudo-random 64-bit fingerprints (xorshift), all distinct with overwhelming probability. */
function fps(n: number, seed = 12345): Array<[number, number]> {
  let x = seed | 0;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x | 0;
  };
  return Array.from({ length: n }, () => [next(), next()] as [number, number]);
}

describe('FingerprintSet', () => {
  it('adds new fingerprints with dense ids and reports duplicates', () => {
    const s = new FingerprintSet(10);
    expect(s.add(1, 2, -1, -1)).toBe(0);
    expect(s.add(3, 4, 0, 7)).toBe(1);
    expect(s.add(1, 2, 1, 3)).toBe(-1);
    expect(s.has(3, 4)).toBe(true);
    expect(s.has(4, 3)).toBe(false);
    expect(s.size).toBe(2);
  });

  it('keeps (0, 0), which marks an empty slot, distinguishable from an empty table', () => {
    const s = new FingerprintSet(10);
    expect(s.has(0, 0)).toBe(false);
    expect(s.add(0, 0, -1, -1)).toBe(0);
    expect(s.has(0, 0)).toBe(true);
    expect(s.add(0, 0, 0, 1)).toBe(-1);
  });

  it.each([
    ['in place', true],
    ['by copying', false],
  ])('keeps every member across many growth steps (%s) and finds no non-member', (_, inPlace) => {
    const all = fps(300_000);
    const s = new FingerprintSet(10, 16, { inPlace });
    all.slice(0, 200_000).forEach(([h, l], i) => {
      if (s.add(h, l, i - 1, i % 10) !== i) throw new Error(`${h},${l} did not get id ${i}`);
    });
    for (const [h, l] of all.slice(0, 200_000)) if (!s.has(h, l)) throw new Error(`lost ${h},${l}`);
    for (const [h, l] of all.slice(200_000)) if (s.has(h, l)) throw new Error(`phantom ${h},${l}`);
    expect(s.size).toBe(200_000);
  });

  it('past the size where it keeps a cache of recent fingerprints: duplicates (also (0, 0) and fingerprints sharing low bits) are -1, new ones get the next id', () => {
    // A table from 2^19 slots has the cache: fingerprints with equal low 15 bits share its entries.
    const s = new FingerprintSet(10, 1 << 19);
    const all = fps(40_000, 99);
    const twins = all.map(([h, l]) => [h ^ 0x5555, l ^ 0x10000] as [number, number]); // same low bits, another fingerprint
    expect(s.add(0, 0, -1, -1)).toBe(0);
    expect(s.add(0, 1, -1, -1)).toBe(-1); // (0, 0) is kept as (0, 1)
    let id = 1;
    all.forEach(([h, l]) => expect(s.add(h, l, 0, 1)).toBe(id++));
    all.forEach(([h, l]) => expect(s.add(h, l, 0, 1)).toBe(-1));
    twins.forEach(([h, l]) => expect(s.add(h, l, 0, 1)).toBe(id++));
    all.forEach(([h, l]) => expect(s.add(h, l, 0, 1)).toBe(-1));
    twins.forEach(([h, l]) => expect(s.add(h, l, 0, 1)).toBe(-1));
    expect(s.add(0, 0, 0, 1)).toBe(-1);
    expect(s.size).toBe(1 + 2 * all.length);
    for (const [h, l] of [...all, ...twins]) expect(s.has(h, l)).toBe(true);
  });

  it('grows its table in place (one buffer, no second table) and keeps every member found after each step', () => {
    // Some fingerprints hash to the first or the last slots (lo = 0: the slot is hi's share of the table): they
    // crowd there and take the rehash's set-aside path (new home below the slot they sat in; probing past the end).
    // Past the 4-fold steps of a small table (to 2^16 slots), into the 1.18-fold ones.
    const all = fps(150_000, 99).map(([h, l], i) => (i % 40 === 0 ? [h & 0xfffff, 0] : i % 40 === 1 ? [h | 0xfff00000, 0] : [h, l]) as [number, number]);
    const s = new FingerprintSet(10, 16);
    const buffer = s.save().arrays.table.buffer;
    const factors: number[] = [];
    let bytes = s.save().arrays.table.byteLength;
    all.forEach(([h, l], i) => {
      s.add(h, l, i - 1, 0);
      const t = s.save().arrays.table;
      if (t.byteLength === bytes) return;
      factors.push(t.byteLength / bytes);
      bytes = t.byteLength;
      expect(t.buffer).toBe(buffer);
      for (const [h2, l2] of all.slice(0, i + 1)) if (!s.has(h2, l2)) throw new Error(`lost ${h2},${l2} after growing to ${bytes} bytes`);
    });
    expect(factors.filter((f) => f === 4).length).toBe(6);
    expect(factors.filter((f) => f > 1.17 && f < 1.19).length).toBeGreaterThan(4);
    expect(s.size).toBe(new Set(all.map(([h, l]) => `${h},${l}`)).size);
  });

  it('rebuilds the path of events from the parent links', () => {
    const s = new FingerprintSet(300);
    const a = s.add(1, 1, -1, -1);
    const b = s.add(2, 2, a, 5);
    const c = s.add(3, 3, b, 254);
    const d = s.add(4, 4, a, 9);
    expect(s.pathTo(c)).toEqual([5, 254]);
    expect(s.pathTo(d)).toEqual([9]);
    expect(s.pathTo(a)).toEqual([]);
  });

  it('stays within 16 bytes per state (table, parents, 1-byte events) at every size past the first tables', () => {
    const s = new FingerprintSet(48);
    const fp = new Uint32Array(2);
    const words = new Int32Array(1);
    let worst = 0;
    let minLoad = 1;
    for (let i = 0; i < 400_000; i++) {
      words[0] = i;
      fingerprint(words, fp);
      s.add(fp[0], fp[1], i - 1, i % 48);
      if (i >= 50_000 && i % 97 === 0) {
        worst = Math.max(worst, s.bytesPerStateUsed());
        minLoad = Math.min(minLoad, s.load);
      }
    }
    expect(worst).toBeLessThanOrEqual(16);
    expect(minLoad).toBeGreaterThan(0.74);
  });

  it('uses 2-byte events for models with 255 or more events', () => {
    const s = new FingerprintSet(1000);
    const a = s.add(1, 1, -1, -1);
    const b = s.add(2, 2, a, 999);
    expect(s.pathTo(b)).toEqual([999]);
  });
});

describe('save and restore', () => {
  // Fills a store, saves it, restores a copy through a structured clone (as a checkpoint file would
  // carry the typed arrays), and checks that the copy answers like the original and keeps growing.
  const roundTrip = (make: () => Store, restore: (image: ReturnType<Store['save']>) => Store) => {
    const s = make();
    const all = fps(5000, 777);
    const ids = all.slice(0, 3000).map(([hi, lo], i) => s.add(hi, lo, i - 1, i % 7));
    const copy = restore(structuredClone(s.save()));
    expect(copy.size).toBe(s.size);
    expect(copy.bytesPerStateUsed()).toBeCloseTo(s.bytesPerStateUsed(), 6);
    for (const id of [0, 1, 1023, 1024, 2999]) expect(copy.pathTo(ids[id])).toEqual(s.pathTo(ids[id]));
    // Every stored fingerprint is seen again, every new one is new, in both.
    for (const [hi, lo] of all.slice(0, 3000)) expect(copy.add(hi, lo, 0, 0)).toBeLessThan(0);
    for (const [hi, lo] of all.slice(3000)) expect(copy.add(hi, lo, 0, 1)).toBeGreaterThanOrEqual(0);
    expect(copy.size).toBe(5000);
  };

  it('a fingerprint set (1-byte and 2-byte events)', () => {
    roundTrip(() => new FingerprintSet(10), (i) => FingerprintSet.restore(i));
    roundTrip(() => new FingerprintSet(300), (i) => FingerprintSet.restore(i));
  });

  it('a fingerprint index', () => {
    roundTrip(() => new FingerprintIndex(), (i) => FingerprintIndex.restore(i));
  });
});
