// Declared record operations (explorer/compile/lower/declared.ts, PathOp/Expr rec*): on random contexts, each
// operation run on the packed words gives the words the codec gives for the JavaScript it stands for, or
// BAILs exactly where that JavaScript throws (or, rarely, where the words cannot hold the result).
import { describe, expect, it } from 'vitest';
import { ContextCodec, WordBuffer } from '../../../../explorer/codec.ts';
import * as L from '../../../../explorer/compile/lower/declared.ts';
import { Linker } from '../../../../explorer/compile/lower/link.ts';
import { lowerGuardFn } from '../../../../explorer/compile/lower/plans.ts';
import { rng } from '../../../helpers/rng.ts';
import { runDeclaredAction, type DeclaredOp } from '../../../helpers/declared-action.ts';

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const NAMES = ['a', 'b', 'c', 'a#q'];
const KEYS = ['a', 'b', 'c', 't1'];

/** A record of lists (some keys), a record of scalars, lists of strings or ints, and a scalar. */
function randomContext(r: () => number): Record<string, any> {
  const list = () => {
    const n = Math.floor(r() * 4);
    const ints = r() < 0.2;
    return Array.from({ length: n }, () => (ints ? Math.floor(r() * 3) : pick(r, NAMES)));
  };
  const lists: Record<string, unknown> = {};
  for (const k of KEYS) if (r() < 0.5) lists[k] = r() < 0.9 ? list() : pick(r, [null, 3]);
  const run: Record<string, unknown> = {};
  for (const k of KEYS) if (r() < 0.7) run[k] = pick(r, [null, null, 'a', 'b', 't1']);
  return { n: 1, r: lists, run, s: { w: list() }, ys: list(), tail: pick(r, ['x', 3]) };
}

const isList = (v: unknown) => Array.isArray(v);
const keyOf = (rec: Record<string, unknown>, x: unknown) => Object.keys(rec).find((k) => rec[k] === x);
const misuse = (): never => {
  throw new Error('misuse');
};
/** The record with every list edited by fn (a value that is not a list: the operation cannot run). */
const eachList = (rec: Record<string, unknown>, fn: (xs: unknown[]) => unknown[]) =>
  Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, isList(v) ? fn(v as unknown[]) : misuse()]));

type Op = DeclaredOp;
const OPS: Op[] = [
  { name: 'recPut (list)', decl: (p) => [L.recPut(L.path('r'), p.k, [p.x, 'z'])], js: (c, p) => ({ ...c, r: { ...c.r, [p.k]: [p.x, 'z'] } }) },
  { name: 'recPut (scalar)', decl: (p) => [L.recPut(L.path('run'), p.k, p.x)], js: (c, p) => ({ ...c, run: { ...c.run, [p.k]: p.x } }) },
  {
    name: 'recDelete',
    decl: (p) => [L.recDelete(L.path('r'), p.k)],
    js: (c, p) => {
      const { [p.k]: _, ...rest } = c.r;
      return { ...c, r: rest };
    },
  },
  {
    name: 'recSetList of recListAt (values before the action)',
    decl: () => [L.recSetList(L.path('ys'), L.recListAt(L.path('s.w'))), L.recSetList(L.path('s.w'), [])],
    js: (c) => ({ ...c, ys: c.s.w, s: { ...c.s, w: [] } }),
  },
  {
    name: 'recEachValue',
    decl: (p) => [L.recEachValue(L.path('r'), [L.editRemoveAll(p.x + '#q'), L.editReplaceAll(p.y, p.x), L.editRemoveOneIfMore(p.x, L.cond(L.eq(L.read('n'), L.lit(1)), 1, 0))])],
    js: (c, p) => ({
      ...c,
      r: eachList(c.r, (xs) => {
        let out = xs.filter((y) => y !== p.x + '#q').map((y) => (y === p.y ? p.x : y));
        if (out.filter((y) => y === p.x).length > (c.n === 1 ? 1 : 0)) out = out.filter((_, i) => i !== out.indexOf(p.x));
        return out;
      }),
    }),
  },
  {
    name: 'recSetKeyOf (none: misuse)',
    decl: (p) => [L.recSetKeyOf(L.path('run'), p.x, null)],
    js: (c, p) => {
      const k = keyOf(c.run, p.x);
      if (k === undefined) misuse();
      return { ...c, run: { ...c.run, [k!]: null } };
    },
  },
  { name: 'recPut of recKeys (sorted)', decl: (p) => [L.recPut(L.path('r'), p.k, L.recKeys(L.path('run')))], js: (c, p) => ({ ...c, r: { ...c.r, [p.k]: Object.keys(c.run).sort() } }) },
  { name: 'recSetEach', decl: (p) => [L.recSetEach(L.path('run'), p.x)], js: (c, p) => ({ ...c, run: Object.fromEntries(Object.keys(c.run).map((k) => [k, p.x])) }) },
  { name: 'recSetEach (a boolean)', decl: () => [L.recSetEach(L.path('run'), true)], js: (c) => ({ ...c, run: Object.fromEntries(Object.keys(c.run).map((k) => [k, true])) }) },
  {
    name: 'recWhen (nested, conditions before the action)',
    decl: (p) => [
      L.recWhen(L.includes(L.path('ys'), p.x), [L.removeOne(L.path('ys'), p.x), L.recWhen(L.recHasKey(L.path('r'), p.k), [L.recDelete(L.path('r'), p.k)])], [L.append(L.path('ys'), p.x)]),
      L.recWhen(L.includes(L.path('ys'), p.x), [L.set(L.path('n'), 2)]),
    ],
    js: (c, p) => {
      if (!c.ys.includes(p.x)) return { ...c, ys: [...c.ys, p.x] };
      const { [p.k]: _, ...rest } = c.r;
      return { ...c, n: 2, ys: c.ys.filter((_: unknown, i: number) => i !== c.ys.indexOf(p.x)), r: p.k in c.r ? rest : c.r };
    },
  },
  {
    name: 'check on recSize and recKeyOf',
    decl: (p) => {
      const k = L.recKeyOf(L.path('run'), p.x);
      return [L.check(L.eq(L.recSize(L.path('run')), L.lit(2))), L.recPut(L.path('r'), 'a', L.cond(L.eq(k, L.lit(undefined)), 'none', k))];
    },
    js: (c, p) => {
      if (Object.keys(c.run).length !== 2) misuse();
      return { ...c, r: { ...c.r, a: keyOf(c.run, p.x) ?? 'none' } };
    },
  },
];

describe('declared record operations on the packed words', () => {
  it('give the words of the JavaScript result, or BAIL where it throws', () => {
    const r = rng(77);
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const tally: Record<string, { agreed: number; misuses: number; bailed: number }> = {};
    for (const op of OPS) {
      const t = (tally[op.name] = { agreed: 0, misuses: 0, bailed: 0 });
      for (let i = 0; i < 400; i++) {
        const p = { x: pick(r, NAMES.slice(0, 3)), y: pick(r, NAMES), k: pick(r, KEYS) };
        const got = runDeclaredAction(codec, linker, op, p, randomContext(r));
        if (got === 'agreed') t.agreed++;
        else if (got === 'misuse') t.misuses++;
        else t.bailed++;
      }
    }
    // Not vacuous: every operation is exact on many contexts; the misuse cases are met and BAIL.
    for (const [name, t] of Object.entries(tally)) {
      expect({ name, enough: t.agreed > 80 }).toEqual({ name, enough: true });
      expect({ name, bailed: t.bailed }).toEqual({ name, bailed: 0 });
    }
    expect(tally['recSetKeyOf (none: misuse)'].misuses).toBeGreaterThan(20);
    expect(tally['recEachValue'].misuses).toBeGreaterThan(5);
    // recSetEach on a record holding a list BAILs (the declaration is for records of scalars)
    const lists: Op = { name: 'recSetEach (a list field)', decl: () => [L.recSetEach(L.path('r'), true)], js: () => misuse() };
    expect(runDeclaredAction(codec, linker, lists, {}, { r: { a: true, b: ['x'] } })).toBe('misuse');
  });

  it('guards read records: recHasKey, recSize, recKeyOf, a field that may be absent', () => {
    const r = rng(78);
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const decl: L.GuardDecl = (p) =>
      L.or(
        L.and(L.recHasKey(L.path('r'), p.k), L.eq(L.recSize(L.path('run')), L.lit(3))),
        L.eq(L.recKeyOf(L.path('run'), p.x), L.lit('b')),
        L.not(L.recHasKey(L.path('run'), p.k)),
      );
    const js = (c: any, p: any) => (p.k in c.r && Object.keys(c.run).length === 3) || keyOf(c.run, p.x) === 'b' || !(p.k in c.run);
    let agreed = 0;
    const seen = new Set<boolean>();
    for (let i = 0; i < 1000; i++) {
      const p = { x: pick(r, NAMES), k: pick(r, KEYS) };
      const g = lowerGuardFn(Object.assign(() => false, { [L.LOWERING]: decl }), p);
      const buf = new WordBuffer(64);
      codec.encode(randomContext(r), buf);
      const [ctx] = codec.decode(buf.view(), 0);
      linker.newState();
      const got = !!linker.guard(g.plan!)(buf.view());
      expect({ ctx, p, got }).toEqual({ ctx, p, got: !!js(ctx, p) });
      seen.add(got);
      agreed++;
    }
    expect(agreed).toBe(1000);
    expect(seen.size).toBe(2);
  });

  it('recKeyOf BAILs on a record with an array-index key (Object.keys would list it first)', () => {
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const g = lowerGuardFn(Object.assign(() => false, { [L.LOWERING]: () => L.eq(L.recKeyOf(L.path('run'), 'a'), L.lit('b')) }), {});
    const buf = new WordBuffer(64);
    codec.encode({ run: { b: 'a', 7: 'a' } }, buf);
    linker.newState();
    expect(() => linker.guard(g.plan!)(buf.view())).toThrow(expect.objectContaining({ bail: true }));
  });
});
