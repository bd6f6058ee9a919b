// Declared nested-value operations (explorer/compile/lower/declared.ts "nested values"): put, setKey,
// deleteKey, choose and compute on the packed words give the words the codec gives for the JavaScript
// result, or BAIL exactly where the JavaScript throws; isNull and readAt read what JavaScript reads.
import { describe, expect, it } from 'vitest';
import { ContextCodec, WordBuffer } from '../../../../explorer/codec.ts';
import * as L from '../../../../explorer/compile/lower/declared.ts';
import { Linker } from '../../../../explorer/compile/lower/link.ts';
import { lowerAssign, lowerGuardFn } from '../../../../explorer/compile/lower/plans.ts';
import { BAIL } from '../../../../explorer/compile/lower/words.ts';
import { withoutKey } from '../../../../machines/kernel/path.ts';
import { rng } from '../../../helpers/rng.ts';
import { runDeclaredAction, type DeclaredOp } from '../../../helpers/declared-action.ts';

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const NAMES = ['a', 'b', 'c', 'zz', 'B', 'send'];

/** Records keyed by names (any subset, any insertion order), a field that is null or a record, nested arrays. */
function randomContext(r: () => number): Record<string, unknown> {
  const keyed: Record<string, unknown> = {};
  for (const k of NAMES) if (r() < 0.4) keyed[k] = pick(r, [1, 2, 'x', null, 1.5]);
  const run = r() < 0.4 ? null : r() < 0.8 ? { id: Math.floor(r() * 3), list: [pick(r, NAMES)], who: pick(r, [null, 'a']) } : pick(r, [7, 'x']);
  const rows = Array.from({ length: Math.floor(r() * 4) }, () => Array.from({ length: Math.floor(r() * 3) }, () => Math.floor(r() * 4)));
  return { a: pick(r, [0, 1]), keyed, run, rows, tags: pick(r, [['x', 'y'], [1, 2], []]), i: pick(r, [0, 1, 2, -1, 'k']) };
}

type Op = DeclaredOp;
const OPS: Op[] = [
  {
    name: 'put a record or null into a null-or-record field',
    decl: (p) => [L.put(L.path('run'), L.cond(L.isNull('run'), L.obj({ id: L.read('a'), list: L.arr(p.x, 'q'), who: null }), null))],
    js: (c, p) => ({ ...c, run: c.run === null ? { id: c.a, list: [p.x, 'q'], who: null } : null }),
  },
  {
    name: 'put an array built from reads',
    decl: (p) => [L.put(L.path('tags'), L.arr(L.read('a'), L.readAt(L.path('rows'), L.read('a'), 0), p.x))],
    js: (c, p) => {
      const row = c.rows[c.a];
      if (row === undefined) throw new Error('read through undefined');
      return { ...c, tags: [c.a, row[0], p.x] };
    },
  },
  { name: 'setKey', decl: (p) => [L.setKey(L.path('keyed'), p.x, L.read('a'))], js: (c, p) => ({ ...c, keyed: { ...c.keyed, [p.x]: c.a } }) },
  { name: 'deleteKey', decl: (p) => [L.deleteKey(L.path('keyed'), p.x)], js: (c, p) => ({ ...c, keyed: withoutKey(c.keyed, p.x) }) },
  {
    name: 'choose',
    decl: (p) => [L.choose(L.isNull('run'), [L.setKey(L.path('keyed'), p.x, 3)], [L.set(L.path('run', 'id'), 9), L.deleteKey(L.path('keyed'), p.x)])],
    js: (c, p) => {
      if (c.run === null) return { ...c, keyed: { ...c.keyed, [p.x]: 3 } };
      if (typeof c.run !== 'object') throw new Error('not a record');
      return { ...c, run: { ...c.run, id: 9 }, keyed: withoutKey(c.keyed, p.x) };
    },
  },
  {
    name: 'compute (a throw BAILs)',
    decl: (p) => [
      L.compute(['rows', 'keyed'], (c: any) => {
        if (c.rows.length === 0) throw new Error('misuse');
        return { rows: [...c.rows, [c.rows.length]], keyed: { ...c.keyed, [p.x]: c.rows.length } };
      }),
    ],
    js: (c, p) => {
      if (c.rows.length === 0) throw new Error('misuse');
      return { ...c, rows: [...c.rows, [c.rows.length]], keyed: { ...c.keyed, [p.x]: c.rows.length } };
    },
  },
];

describe('declared nested-value operations on the packed words', () => {
  it('give the words of the JavaScript result, or BAIL where it throws', () => {
    const r = rng(71);
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const tally: Record<string, { agreed: number; bailed: number }> = {};
    for (const op of OPS) {
      const t = (tally[op.name] = { agreed: 0, bailed: 0 });
      for (let i = 0; i < 300; i++) {
        const p = { x: pick(r, NAMES) };
        const got = runDeclaredAction(codec, linker, op, p, randomContext(r));
        // a BAIL only where the JavaScript throws
        expect({ op: op.name, got }).not.toEqual({ op: op.name, got: 'bailed' });
        if (got === 'misuse') {
          t.bailed++;
          continue;
        }
        t.agreed++;
      }
    }
    // Not vacuous: every op agrees on most contexts; those that can throw meet their throws.
    for (const op of OPS) expect({ op: op.name, many: tally[op.name].agreed > 100 }).toEqual({ op: op.name, many: true });
    for (const name of ['choose', 'compute (a throw BAILs)', 'put an array built from reads']) expect({ name, bails: tally[name].bailed > 10 }).toEqual({ name, bails: true });
  });

  it('a compute that reads a key it did not list fails loudly, not as a BAIL', () => {
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const plan = lowerAssign(Object.assign(() => ({}), { [L.LOWERING]: () => [L.compute(['a'], (c: any) => ({ a: c.a + c.i }))] }), {});
    const buf = new WordBuffer(64);
    codec.encode({ a: 1, i: 2 }, buf);
    expect(() => linker.action(plan.plan!)(buf)).toThrow(/declared compute read context.i, which is not in its reads list/);
  });

  it('isNull and readAt read what JavaScript reads (undefined past the end; BAIL through undefined)', () => {
    const r = rng(72);
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const decl: L.GuardDecl = () => L.or(L.isNull('run'), L.eq(L.readAt(L.path('rows'), L.read('i'), L.read('a')), L.lit(undefined)), L.eq(L.readAt(L.path('tags'), L.read('i')), L.lit('y')));
    const js = (c: any) => c.run === null || c.rows[c.i][c.a] === undefined || c.tags[c.i] === 'y';
    let agreed = 0;
    let bailed = 0;
    for (let i = 0; i < 1000; i++) {
      const g = lowerGuardFn(Object.assign(() => false, { [L.LOWERING]: decl }), {});
      const buf = new WordBuffer(64);
      codec.encode(randomContext(r), buf);
      const [ctx] = codec.decode(buf.view(), 0);
      let want: boolean | 'throws';
      try {
        want = !!js(ctx);
      } catch {
        want = 'throws';
      }
      linker.newState();
      try {
        expect({ ctx, got: !!linker.guard(g.plan!)(buf.view()) }).toEqual({ ctx, got: want });
        agreed++;
      } catch (e) {
        if (e !== BAIL) throw e;
        bailed++;
        // a BAIL where JavaScript throws, or reads an index that is not an array index ('k', -1)
        if (want !== 'throws') expect(['k', -1]).toContain((ctx as any).i);
      }
    }
    expect(agreed).toBeGreaterThan(500);
    expect(bailed).toBeGreaterThan(20);
  });
});
