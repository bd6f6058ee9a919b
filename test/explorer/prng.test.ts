// The seeded generator: the same seed gives the same stream, neighbouring seeds unrelated ones,
// below(n) stays in range and is roughly uniform, and bad --seed values are refused.
import { describe, expect, it } from 'vitest';
import { createPrng, deriveSeed, MAX_SEED, parseSeed } from '../../explorer/prng.ts';
import { InputError } from '../../explorer/errors.ts';

const take = (seed: number, n: number) => {
  const g = createPrng(seed);
  return Array.from({ length: n }, () => g.next());
};

describe('prng', () => {
  it('repeats its stream for a seed, and differs between seeds (also above 2^32)', () => {
    expect(take(7, 50)).toEqual(take(7, 50));
    expect(take(7, 8)).not.toEqual(take(8, 8));
    expect(take(1, 8)).not.toEqual(take(2 ** 32 + 1, 8));
    for (const x of take(0, 100)) expect(x >>> 0).toBe(x);
  });

  it('below(n) stays in [0, n) and hits every value about equally', () => {
    const g = createPrng(42);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[g.below(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    expect(g.below(1)).toBe(0);
  });

  it('derives distinct safe-integer seeds per index', () => {
    const seeds = Array.from({ length: 20 }, (_, i) => deriveSeed(7, i));
    expect(new Set(seeds).size).toBe(20);
    for (const s of seeds) expect(Number.isSafeInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
    expect(deriveSeed(7, 3)).toBe(seeds[3]);
  });

  it('parses --seed values and refuses the rest with the fix', () => {
    expect(parseSeed('7')).toBe(7);
    expect(parseSeed(String(MAX_SEED))).toBe(MAX_SEED);
    expect(() => parseSeed('-1')).toThrow(InputError);
    expect(() => parseSeed('1.5')).toThrow(/whole number/);
    expect(() => parseSeed('99999999999999999999')).toThrow(/too large/);
  });
});
