// The context codec: every plain value round-trips, equal contexts give equal words whatever the key
// order, and -0 is the same state as 0 (as in the reference's canonical JSON).
import { describe, expect, it } from 'vitest';
import { ContextCodec, WordBuffer } from '../../explorer/codec.ts';

const words = (codec: ContextCodec, v: unknown) => {
  const b = new WordBuffer(4);
  codec.encode(v, b);
  return [...b.view()];
};

describe('codec', () => {
  it('round-trips plain data', () => {
    const codec = new ContextCodec();
    const v = { a: 1, b: [true, false, null, 'x', 2.5, -7, [1, [2]]], c: { d: 'y', e: {} }, f: [] };
    const [back] = codec.decode(Int32Array.from(words(codec, v)), 0);
    expect(back).toEqual(v);
  });
  it('encodes records canonically, whatever the key order', () => {
    const codec = new ContextCodec();
    expect(words(codec, { a: 1, b: { x: 1, y: 2 } })).toEqual(words(codec, { b: { y: 2, x: 1 }, a: 1 }));
  });
  it('decodes records of one shape through a generated decoder, and others sharing its first key and size by the general path', () => {
    const codec = new ContextCodec();
    const a = { k: 1, m: [2, 3], 'q"uote': 'x' };
    const b = { k: 'y', n: { k: 4, m: [5], 'q"uote': null }, z: true }; // same first key and size as a, other keys
    for (let round = 0; round < 3; round++) {
      for (const v of [a, b, [a, b, a]]) {
        const [back] = codec.decode(Int32Array.from(words(codec, v)), 0);
        expect(back).toEqual(v);
        if (!Array.isArray(back)) expect(Object.isFrozen(back)).toBe(true);
      }
    }
  });
  it('stores -0 as 0', () => {
    const codec = new ContextCodec();
    expect(words(codec, { n: -0, xs: [-0, 1] })).toEqual(words(codec, { n: 0, xs: [0, 1] }));
  });
  it('rejects a non-plain value, naming its path', () => {
    const codec = new ContextCodec();
    expect(() => words(codec, { a: { b: [1, new Map()] } })).toThrow(/context\.a\.b\[1\] is a Map, not plain data/);
  });
  it('rejects undefined, NaN, the infinities and a value that contains itself, naming the path', () => {
    const codec = new ContextCodec();
    expect(() => words(codec, { a: { u: undefined } })).toThrow(/context\.a\.u is undefined/);
    expect(() => words(codec, { xs: [1, NaN] })).toThrow(/context\.xs\[1\] is NaN: .*numbers must be finite/);
    expect(() => words(codec, { n: -Infinity })).toThrow(/context\.n is -Infinity/);
    const loop: Record<string, unknown> = { k: 1 };
    loop.me = [loop];
    expect(() => words(codec, { loop })).toThrow(/context\.loop\.me\[0\] refers back to a record or array that contains it/);
    // The same record twice (a DAG, not a cycle) is plain data.
    const shared = { k: 1 };
    expect(() => words(codec, { a: shared, b: shared })).not.toThrow();
  });
});
