// The seeded pseudo-random generator every randomised search draws from (random walks, swarm
// diversification): no Math.random or Date.now inside a search, so a seed reproduces a run exactly.
//
// xoshiro128** (Blackman and Vigna) over four 32-bit words, seeded through splitmix32 so that
// neighbouring seeds (7, 8, 9 ...) give unrelated streams.
import { InputError } from './errors.ts';

/** Largest seed accepted: seeds are whole numbers that JSON and the command line carry exactly. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

export interface Prng {
  /** The seed the generator was created with. */
  readonly seed: number;
  /** The next 32-bit unsigned value. */
  next(): number;
  /** A whole number in [0, n) (n >= 1), without modulo bias. */
  below(n: number): number;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export function createPrng(seed: number): Prng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed ${seed}: expected a whole number from 0 to ${MAX_SEED}`);
  // Both halves of the seed feed the state, so seeds above 2^32 are distinct too.
  const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296), 0x27d4eb2d) };
  let a = splitmix32(st);
  let b = splitmix32(st);
  let c = splitmix32(st);
  let d = splitmix32(st);
  if ((a | b | c | d) === 0) a = 1;
  const next = (): number => {
    const r = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    return r;
  };
  const below = (n: number): number => {
    if (n <= 1) return 0;
    // Rejection sampling: drop the top partial bucket of the 32-bit range.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = next();
      if (x < limit) return x % n;
    }
  };
  return { seed, next, below };
}

/** Derives the seed of sub-run `index` from a base seed (swarm jobs): the index-th 32-bit draw of the base seed's stream. */
export function deriveSeed(base: number, index: number): number {
  const g = createPrng(base);
  let x = 0;
  for (let i = 0; i <= index; i++) x = g.next();
  return x;
}

/** Parses a --seed value: a whole number from 0 to MAX_SEED. */
export function parseSeed(raw: string, where = '--seed'): number {
  if (!/^\d+$/.test(raw.trim())) throw new InputError(`${where} ${raw}: expected a whole number from 0 to ${MAX_SEED}, e.g. --seed 7`);
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n)) throw new InputError(`${where} ${raw}: too large; the largest seed is ${MAX_SEED}`);
  return n;
}
