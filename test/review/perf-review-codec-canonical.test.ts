// Review (perf commits c0d2dfc/3dcaf24): canonical encoding with T_IARR and the record-shape cache
// (pin, passing). Equal contexts encode to the same words whatever their key insertion order or
// which shape the cache saw first; distinct contexts never share words; everything round-trips.
import { describe, expect, it } from 'vitest';
import { ContextCodec, WordBuffer } from '../../explorer/codec.ts';

const enc = (c: ContextCodec, v: unknown) => {
  const b = new WordBuffer(4);
  c.encode(v, b);
  return [...b.view()];
};

describe('review: canonical encoding (T_IARR, shape cache)', () => {
  it('equal values encode equally (insertion order, integer-like keys, -0, shape seen first)', () => {
    const c = new ContextCodec();
    const a1 = { b: [1, -0, 3], a: { '10': 1, '9': [], x: 'y' } };
    const a2 = { a: { x: 'y', '9': [], '10': 1 }, b: [1, 0, 3] };
    const a3: Record<string, unknown> = {};
    a3.b = [1, 0, 3];
    a3.a = Object.assign(Object.create(null), { x: 'y', '10': 1, '9': [] });
    const w1 = enc(c, a1);
    expect(enc(c, a2)).toEqual(w1);
    expect(enc(c, a3)).toEqual(w1);
    expect(enc(c, a1)).toEqual(w1);
    // the same key list cached, then a record of a different shape with the same first key
    expect(enc(c, { b: 1, a: 2 })).toEqual(enc(c, { a: 2, b: 1 }));
    expect(enc(c, { b: 1, c: 2 })).not.toEqual(enc(c, { b: 1, a: 2 }));
  });

  // (undefined is not plain data: the codec rejects it, test/explorer/codec.test.ts.)
  it('distinct values never share words, and all round-trip', () => {
    const c = new ContextCodec(false);
    const values: unknown[] = [
      [],
      {},
      [0],
      [4, 5],
      [4, 5.5],
      [true],
      [[]],
      [[0]],
      [null],
      ['a'],
      [1, 'a'],
      [2 ** 31],
      [-(2 ** 31)],
      { a: [] },
      { a: [1] },
      { a: [1], b: [] },
      { a: 1 },
      { b: 1 },
      [9, 0],
      [6, 0],
      [[1, 2], [3, 'x']],
    ];
    const seen = new Map<string, unknown>();
    for (const v of values) {
      const w = enc(c, v);
      const key = w.join(',');
      expect(seen.has(key), `${JSON.stringify(v)} collides with ${JSON.stringify(seen.get(key))}`).toBe(false);
      seen.set(key, v);
      const [back, end] = c.decode(Int32Array.from(w), 0);
      expect(end).toBe(w.length);
      expect(back).toEqual(v);
      expect(enc(c, back)).toEqual(w);
    }
  });
});
