// Fuzz: random guard and assign bodies over a context of every encoding form (ints, floats, booleans,
// strings, null, int arrays, mixed arrays, records), run lowered on the packed words and as JavaScript on
// the decoded context. Wherever the lowered code does not BAIL it must give the same guard value, and the
// same successor words, byte for byte; wherever the function throws, the lowered code must BAIL.
import { describe, expect, it } from 'vitest';
import { ContextCodec, WordBuffer } from '../../../../explorer/codec.ts';
import { Linker } from '../../../../explorer/compile/lower/link.ts';
import { lowerAssign, lowerGuardFn } from '../../../../explorer/compile/lower/plans.ts';
import { BAIL } from '../../../../explorer/compile/lower/words.ts';
import { rng } from '../../../helpers/rng.ts';
import { runOnCopy } from '../../../helpers/declared-action.ts';

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function randomContext(r: () => number): Record<string, unknown> {
  const int = () => Math.floor(r() * 7) - 3;
  return {
    a: int(),
    b: r() < 0.5,
    s: pick(r, ['x', 'y', null, '']),
    xs: [int(), int(), int()],
    m: pick(r, [[int(), null], [int(), 'x'], [1.5]]),
    r: { n: int(), t: pick(r, ['x', 'y']) },
    f: pick(r, [1.5, -0.5, 2, 0]),
    z: pick(r, [0, null, true, 'x', [1], { k: 1 }]),
  };
}

const LEAVES = [
  'context.a', 'context.b', 'context.s', 'context.xs[0]', 'context.xs[2]', 'context.xs[3]', 'context.xs.length', 'context.m[0]',
  'context.m[1]', 'context.m.length', 'context.r.n', 'context.r.t', 'context.f', 'context.z', 'context.r', 'context.xs',
  'context.s.length', 'context.nope', 'context.a.b', 'p.i', 'p.k', 'p.arr[1]', '1', '-1', '0', "'x'", 'null', 'true', 'undefined',
];
const BIN = ['===', '!==', '==', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '&', '|', '<<'];

function randomExpr(r: () => number, depth: number): string {
  const roll = r();
  if (depth <= 0 || roll < 0.3) return pick(r, LEAVES);
  if (roll < 0.65) return `(${randomExpr(r, depth - 1)} ${pick(r, BIN)} ${randomExpr(r, depth - 1)})`;
  if (roll < 0.8) return `(${randomExpr(r, depth - 1)} ${pick(r, ['&&', '||', '??'])} ${randomExpr(r, depth - 1)})`;
  if (roll < 0.9) return `(${pick(r, ['!', '-', 'typeof'])} ${randomExpr(r, depth - 1)})`;
  return `(${randomExpr(r, depth - 1)} ? ${randomExpr(r, depth - 1)} : ${randomExpr(r, depth - 1)})`;
}

function randomBody(r: () => number): string {
  if (r() < 0.6) return `({ context }, p) => ${randomExpr(r, 3)}`;
  return `({ context }, p) => { const v = ${randomExpr(r, 2)}; return ${randomExpr(r, 2).replace(/context\.a/g, 'v')}; }`;
}

function randomAssign(r: () => number): { key: string; src: string } {
  if (r() < 0.3) {
    const at = pick(r, ['0', '2', '3', 'p.i']);
    return { key: 'xs', src: `({ context }, p) => { const xs = ${pick(r, ['context.xs.slice()', '[...context.xs]'])}; xs[${at}] = ${randomExpr(r, 2)}; return xs; }` };
  }
  return { key: pick(r, ['a', 'b', 's', 'f', 'r', 'z', 'xs']), src: randomBody(r) };
}

const params = { i: 1, k: 'x', arr: [5, 6] };
const make = (src: string) => new Function(`return (${src});`)() as Function;
type Outcome = { value: unknown } | { threw: true };
const run = (f: () => unknown): Outcome => {
  try {
    return { value: f() };
  } catch {
    return { threw: true };
  }
};

describe('lowered guards and assigns agree with JavaScript on the decoded context', () => {
  it('random guard bodies', () => {
    const r = rng(20);
    let agreed = 0;
    let bailed = 0;
    let refused = 0;
    for (let i = 0; i < 1500; i++) {
      const src = randomBody(r);
      const fn = make(src);
      const lowered = lowerGuardFn(fn, params);
      if (lowered.plan === null) {
        refused++;
        continue;
      }
      const codec = new ContextCodec(true);
      const linker = new Linker(codec, 0);
      const linked = linker.guard(lowered.plan);
      for (let c = 0; c < 4; c++) {
        linker.newState();
        const buf = new WordBuffer(64);
        codec.encode(randomContext(r), buf);
        const words = buf.view();
        const [ctx] = codec.decode(words, 0);
        const js = run(() => !!fn({ context: ctx }, params));
        let got: boolean;
        try {
          got = linked(words);
        } catch (e) {
          if (e !== BAIL) throw e;
          bailed++;
          continue;
        }
        expect({ src, ctx, got }).toEqual({ src, ctx, got: 'value' in js ? js.value : 'must bail' });
        agreed++;
      }
    }
    // The fuzz is not vacuous: most bodies lower, and many of their runs are exact rather than BAIL.
    console.log(`guards: ${agreed} agreed, ${bailed} bailed, ${refused} refused`);
    expect(refused).toBeLessThan(150);
    expect(agreed).toBeGreaterThan(2000);
  });

  it('random assign bodies', () => {
    const r = rng(21);
    let agreed = 0;
    let bailed = 0;
    let refused = 0;
    for (let i = 0; i < 1500; i++) {
      // One key, or two (each value from the same pre-assign context; locals of both in one action).
      const parts = [randomAssign(r)];
      if (r() < 0.3) {
        const more = randomAssign(r);
        if (more.key !== parts[0].key) parts.push(more);
      }
      const src = parts.map((p) => `${p.key}: ${p.src}`).join(', ');
      const fns = parts.map((p) => [p.key, make(p.src)] as const);
      const lowered = lowerAssign(Object.fromEntries(fns), params);
      if (lowered.plan === null) {
        refused++;
        continue;
      }
      const codec = new ContextCodec(true);
      const linker = new Linker(codec, 0);
      const linked = linker.action(lowered.plan);
      for (let c = 0; c < 4; c++) {
        // A new state: the places found in the last one's words are forgotten.
        linker.newState();
        const buf = new WordBuffer(64);
        codec.encode(randomContext(r), buf);
        const before = buf.view().slice();
        const [ctx] = codec.decode(before, 0) as [Record<string, unknown>, number];
        // As assign: the value from the pre-step context, then the context with the key replaced, encoded.
        const js = run(() => {
          const next = { ...ctx, ...Object.fromEntries(fns.map(([key, fn]) => [key, fn({ context: ctx }, params)])) };
          const out = new WordBuffer(64);
          codec.encode(next, out);
          return Array.from(out.view());
        });
        // Twice, as for two successors of one state: the second takes the places the first found.
        let bails = 0;
        for (let twice = 0; twice < 2; twice++) {
          const out = runOnCopy([linked], before);
          if (out === null) {
            bails++;
            continue;
          }
          expect({ src, ctx, twice, words: Array.from(out.view()) }).toEqual({ src, ctx, twice, words: 'value' in js ? js.value : 'must bail' });
        }
        if (bails > 0) bailed++;
        else agreed++;
      }
    }
    console.log(`assigns: ${agreed} agreed, ${bailed} bailed, ${refused} refused`);
    expect(refused).toBeLessThan(150);
    expect(agreed).toBeGreaterThan(1500);
  });

  it('many guards and assigns linked on one linker, over records with odd keys', () => {
    // A model's guards and actions share one linker (its places per path): paths whose keys are the empty
    // string, hold a \0, or name an array index, length or a prototype property, in records and arrays of any
    // depth, below a context that is a record or an array.
    const r = rng(22);
    const keys = ['a', '', 'a\u0000b', '0', 'length', 'constructor', 'xs'];
    const value = (depth: number): unknown => {
      const roll = r();
      if (depth <= 0 || roll < 0.5) return pick(r, [0, 1, -1, 2.5, 'x', '', null, true]);
      if (roll < 0.7) return Array.from({ length: Math.floor(r() * 3) }, () => value(depth - 1));
      return Object.fromEntries(keys.filter(() => r() < 0.4).map((k) => [k, value(depth - 1)]));
    };
    const read = () => {
      let s = `context[${JSON.stringify(pick(r, keys))}]`;
      for (let n = Math.floor(r() * 3); n > 0; n--) s += pick(r, [`[${JSON.stringify(pick(r, keys))}]`, '[0]', '[1]', '.length']);
      return s;
    };
    const body = (depth: number): string => {
      const roll = r();
      if (depth <= 0 || roll < 0.4) return r() < 0.2 ? pick(r, ['1', "''", 'null', "'x'"]) : read();
      if (roll < 0.7) return `(${body(depth - 1)} ${pick(r, ['===', '!==', '==', '<', '+', '-'])} ${body(depth - 1)})`;
      if (roll < 0.85) return `(${body(depth - 1)} ${pick(r, ['&&', '||', '??'])} ${body(depth - 1)})`;
      return `(${body(depth - 1)} ? ${body(depth - 1)} : ${body(depth - 1)})`;
    };
    let agreed = 0;
    let bailed = 0;
    for (let round = 0; round < 10; round++) {
      const codec = new ContextCodec(true);
      const linker = new Linker(codec, 0);
      const guards: Array<{ src: string; fn: Function; linked: (w: Int32Array) => boolean }> = [];
      const actions: Array<{ src: string; key: string; fn: Function; linked: (out: WordBuffer) => void }> = [];
      for (let i = 0; i < 60; i++) {
        const src = `({ context }) => ${body(2)}`;
        const fn = make(src);
        const guard = lowerGuardFn(fn, undefined).plan;
        if (guard) guards.push({ src, fn, linked: linker.guard(guard) });
        const key = pick(r, keys);
        const action = lowerAssign({ [key]: fn }, undefined).plan;
        if (action) actions.push({ src, key, fn, linked: linker.action(action) });
      }
      for (let c = 0; c < 20; c++) {
        const buf = new WordBuffer(64);
        // (Sometimes the context itself is an array: of int32s, or of anything.)
        const roll = r();
        const record = () => Object.fromEntries(keys.filter(() => r() < 0.7).map((k) => [k, value(2)]));
        codec.encode(roll < 0.8 ? record() : roll < 0.9 ? [1, 2, 3] : [value(1), value(1)], buf);
        const words = buf.view().slice();
        const [ctx] = codec.decode(words, 0) as [Record<string, unknown>, number];
        linker.newState();
        const exact = (src: string, js: Outcome, f: () => unknown) => {
          try {
            expect({ src, ctx, got: f() }).toEqual({ src, ctx, got: 'value' in js ? js.value : 'must bail' });
            agreed++;
          } catch (e) {
            if (e !== BAIL) throw e;
            bailed++;
          }
        };
        for (const g of guards) exact(g.src, run(() => !!g.fn({ context: ctx })), () => g.linked(words));
        for (const a of actions) {
          const js = run(() => {
            const out = new WordBuffer(64);
            codec.encode({ ...ctx, [a.key]: a.fn({ context: ctx }) }, out);
            return Array.from(out.view());
          });
          exact(`${JSON.stringify(a.key)}: ${a.src}`, js, () => {
            const out = runOnCopy([a.linked], words);
            if (out === null) throw BAIL;
            return Array.from(out.view());
          });
        }
      }
    }
    console.log(`one linker: ${agreed} agreed, ${bailed} bailed`);
    expect(agreed).toBeGreaterThan(3000);
  });
});

