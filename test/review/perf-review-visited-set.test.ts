// Review (perf commit c0d2dfc): FingerprintSet edge cases. Pins (passing): probing wraps from the last
// slot to slot 0, the wrapped run survives growth, (0, 0) is stored as (0, 1) (so those two
// fingerprints alias: a deliberate 2^-64 trade), ids stay dense and paths survive growth, and the
// 1-/2-byte event threshold.
import { describe, expect, it } from 'vitest';
import { FingerprintSet } from '../../explorer/store/index.ts';

describe('review: FingerprintSet edge cases', () => {
  it('wraps a probe run from the last slot to slot 0 and keeps it across growth', () => {
    const s = new FingerprintSet(10, 16);
    // lo = 0: the slot is floor((hi >>> 0) * cap / 2^32), so hi = -k (small k) lands on the last slot
    // and hi = k (small k) on slot 0.
    const fps: Array<[number, number]> = [];
    for (let k = 1; k <= 6; k++) fps.push([-k, 0]);
    for (let k = 1; k <= 6; k++) fps.push([k, 0]);
    fps.forEach(([h, l], i) => expect(s.add(h, l, i - 1, i % 10)).toBe(i));
    for (const [h, l] of fps) expect(s.has(h, l)).toBe(true);
    expect(s.has(7, 0)).toBe(false);
    expect(s.has(-7, 0)).toBe(false);
    // grow several times; everything (including the wrapped run) is still found, nothing duplicates
    for (let i = 0; i < 2000; i++) s.add(0x1000 + i, i * 7 + 1, i, i % 10);
    for (const [h, l] of fps) expect(s.add(h, l, 0, 0)).toBe(-1);
    expect(s.size).toBe(fps.length + 2000);
    expect(s.pathTo(fps.length - 1)).toEqual(Array.from({ length: fps.length - 1 }, (_, i) => (i + 1) % 10));
  });

  it('(0, 0) is kept as (0, 1): the two alias (documented trade), other fingerprints do not', () => {
    const s = new FingerprintSet(10);
    expect(s.add(0, 0, -1, -1)).toBe(0);
    expect(s.has(0, 1)).toBe(true);
    expect(s.add(0, 1, 0, 1)).toBe(-1);
    expect(s.has(1, 0)).toBe(false);
    // uint32 inputs (what fingerprint() produces) and their int32 views are the same fingerprint
    expect(s.add(0xffffffff, 0x80000000, 0, 2)).toBe(1);
    expect(s.has(-1, -0x80000000)).toBe(true);
  });

  it('1-byte events up to 254 events, 2-byte from 255', () => {
    const narrow = new FingerprintSet(254);
    narrow.add(1, 1, -1, -1);
    narrow.add(2, 2, 0, 253);
    expect(narrow.pathTo(1)).toEqual([253]);
    const wide = new FingerprintSet(255);
    wide.add(1, 1, -1, -1);
    wide.add(2, 2, 0, 254);
    expect(wide.pathTo(1)).toEqual([254]);
    expect(() => new FingerprintSet(0xffff)).toThrow(RangeError);
  });
});
