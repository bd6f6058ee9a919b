// Declared lowerings (explorer/compile/lower/declared.ts): the list operations run on the packed words give
// the words the codec gives for the JavaScript result, or BAIL exactly where the primitive's function throws
// (a misuse) or the words cannot hold the result; and the kernel primitives' declarations agree with their
// functions on every reachable state of a model that uses them, with the misuse error unchanged.
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { ContextCodec, WordBuffer } from '../../../../explorer/codec.ts';
import * as L from '../../../../explorer/compile/lower/declared.ts';
import { Linker } from '../../../../explorer/compile/lower/link.ts';
import type { Expr } from '../../../../explorer/compile/lower/js.ts';
import { lowerAssign, lowerGuardFn } from '../../../../explorer/compile/lower/plans.ts';
import { BAIL, WRITES } from '../../../../explorer/compile/lower/words.ts';
import { compileMachine } from '../../../../explorer/compile/index.ts';
import { crossCheck } from '../../../../explorer/crosscheck.ts';
import { defineModel } from '../../../../explorer/model.ts';
import { insertSorted, removeOne } from '../../../../machines/kernel/path.ts';
import { down_read, down_write, kernelActions, kernelGuards, percpu_down_read, percpu_up_read, rwsem, percpuRwsem, up_read, up_write, mutex, mutex_lock, mutex_unlock } from '../../../../machines/kernel/index.ts';
import { exploreWords } from '../../../helpers/explore-words.ts';
import { rng } from '../../../helpers/rng.ts';
import { runDeclaredAction, type DeclaredOp } from '../../../helpers/declared-action.ts';
import { checkErrors } from '../../../helpers/lowering.ts';

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const NAMES = ['a', 'b', 'c', 'r:a', 'w:b', 'r:c'];

/** A context with lists of every form the codec gives them: empty (an int32 array), strings, ints, mixed. */
function randomContext(r: () => number): Record<string, unknown> {
  const list = () => {
    const n = Math.floor(r() * 4);
    const kind = r();
    return Array.from({ length: n }, () => (kind < 0.7 ? pick(r, NAMES) : kind < 0.85 ? Math.floor(r() * 3) : pick(r, [null, 'a', 1.5])));
  };
  return { n: 1, s: { xs: list().sort(), w: list(), flag: r() < 0.5 }, ys: list(), tail: pick(r, ['x', 3, [1, 2]]) };
}

type Op = DeclaredOp;
// Each op with the JavaScript the primitives run for it (a throw is a misuse).
const OPS: Op[] = [
  { name: 'insertSorted', decl: (p) => [L.insertSorted(L.path('s.xs'), p.x)], js: (c, p) => ({ ...c, s: { ...c.s, xs: insertSorted(c.s.xs, p.x) } }) },
  {
    name: 'removeOne (misuse when absent)',
    decl: (p) => [L.removeOne(L.path('s.xs'), p.x)],
    js: (c, p) => {
      const xs = removeOne(c.s.xs, p.x);
      if (xs === null) throw new Error('misuse');
      return { ...c, s: { ...c.s, xs } };
    },
  },
  { name: 'removeOne (keep)', decl: (p) => [L.removeOne(L.path('ys'), p.x, 'keep')], js: (c, p) => ({ ...c, ys: removeOne(c.ys, p.x) ?? c.ys }) },
  { name: 'append', decl: (p) => [L.append(L.path('s.w'), p.x)], js: (c, p) => ({ ...c, s: { ...c.s, w: [...c.s.w, p.x] } }) },
  {
    name: 'setAt',
    decl: (p) => [L.setAt(L.path('s.w'), 1, p.x)],
    js: (c, p) => {
      if (c.s.w.length < 2) throw new Error('past the end');
      return { ...c, s: { ...c.s, w: c.s.w.map((y: unknown, i: number) => (i === 1 ? p.x : y)) } };
    },
  },
  { name: 'removeAll', decl: (p) => [L.removeAll(L.path('s.w'), p.x)], js: (c, p) => ({ ...c, s: { ...c.s, w: c.s.w.filter((y: unknown) => y !== p.x) } }) },
  {
    name: 'check then set',
    decl: (p) => [L.check(L.not(L.includes(L.path('s.w'), p.x))), L.set(L.path('s.flag'), true), L.append(L.path('s.w'), p.x)],
    js: (c, p) => {
      if (c.s.w.includes(p.x)) throw new Error('misuse');
      return { ...c, s: { ...c.s, flag: true, w: [...c.s.w, p.x] } };
    },
  },
  {
    name: 'wake',
    decl: (p) => [L.wake(L.path('s.w'), 'r:', L.path('s.xs'), L.path('ys'), p.x)],
    js: (c, p) => {
      let all = c.s.xs;
      let others = c.ys;
      for (const w of c.s.w) {
        if (typeof w !== 'string' || !w.startsWith('r:')) continue;
        all = insertSorted(all, w.slice(2));
        if (w.slice(2) !== p.x) others = insertSorted(others, w.slice(2));
      }
      return { ...c, s: { ...c.s, xs: all, w: c.s.w.filter((w: unknown) => !(typeof w === 'string' && w.startsWith('r:'))) }, ys: others };
    },
  },
  // List moves
  { name: 'clear', decl: () => [L.clear(L.path('s.w'))], js: (c) => ({ ...c, s: { ...c.s, w: [] } }) },
  {
    name: 'insertSortedOpt (kept when the value is undefined)',
    decl: (p) => [L.insertSortedOpt(L.path('s.xs'), L.cond(L.includes(L.path('s.xs'), p.x), L.lit(undefined), L.lit(p.x)))],
    js: (c, p) => (c.s.xs.includes(p.x) ? c : { ...c, s: { ...c.s, xs: insertSorted(c.s.xs, p.x) } }),
  },
  {
    name: 'moveSorted',
    decl: () => [L.moveSorted(L.path('s.w'), L.path('s.xs'))],
    js: (c) => {
      let xs = c.s.xs;
      for (const y of c.s.w) xs = insertSorted(xs, y);
      return { ...c, s: { ...c.s, xs, w: [] } };
    },
  },
];

describe('declared list operations on the packed words', () => {
  it('give the words of the JavaScript result, or BAIL where it throws or the words cannot hold it', () => {
    const r = rng(33);
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const tally = { agreed: 0, bailed: 0, misuses: 0 };
    for (const op of OPS) {
      for (let i = 0; i < 400; i++) {
        const p = { x: pick(r, [...NAMES, 1]) };
        const got = runDeclaredAction(codec, linker, op, p, randomContext(r));
        if (got === 'agreed') tally.agreed++;
        else if (got === 'misuse') tally.misuses++;
        else tally.bailed++;
      }
    }
    // Not vacuous: most runs are exact, misuses are met (and BAIL), and a BAIL is rare (a list holding a float).
    expect(tally.agreed).toBeGreaterThan(2000);
    expect(tally.misuses).toBeGreaterThan(50);
    expect(tally.bailed).toBeLessThan(tally.agreed / 5);
  });

  it('guards read lists: includes, length, the first element (undefined when empty), startsWith', () => {
    const r = rng(34);
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const decl: L.GuardDecl = (p) => L.or(L.includes(L.path('s.w'), p.x), L.and(L.eq(L.len(L.path('ys')), L.lit(0)), L.startsWith(L.at(L.path('s.xs'), 0), 'r')));
    const js = (c: any, p: any) => c.s.w.includes(p.x) || (c.ys.length === 0 && typeof c.s.xs[0] === 'string' && c.s.xs[0].startsWith('r'));
    let agreed = 0;
    for (let i = 0; i < 1000; i++) {
      const p = { x: pick(r, [...NAMES, 1]) };
      const g = lowerGuardFn(Object.assign(() => false, { [L.LOWERING]: decl }), p);
      const buf = new WordBuffer(64);
      codec.encode(randomContext(r), buf);
      const [ctx] = codec.decode(buf.view(), 0);
      linker.newState();
      try {
        expect(!!linker.guard(g.plan!)(buf.view())).toBe(!!js(ctx, p));
        agreed++;
      } catch (e) {
        if (e !== BAIL) throw e;
      }
    }
    expect(agreed).toBeGreaterThan(900);
  });
});

// List and entry reads: "tag:thread" entries as the folio lock keeps them, and the odd elements (no
// separator, not a string) where the JavaScript does something else or throws: those BAIL.
const ENTRIES = ['0:a', '1:b', 'h:a', '5:c', 'h:c', '12:b', 'a', 3, null, false, true];
type Read = { name: string; e: (p: { x: string }) => Expr; js: (ctx: any, p: { x: string }) => unknown };
const firstEntry = (c: any) => c.s.w[0];
const READS: Read[] = [
  { name: 'everyIs', e: (p) => L.everyIs(L.path('s.w'), p.x), js: (c, p) => c.s.w.every((y: unknown) => y === p.x) },
  { name: 'noneTruthy', e: () => L.noneTruthy(L.path('ys')), js: (c) => !c.ys.some((y: unknown) => y) },
  { name: 'entryOf', e: (p) => L.entryOf(L.path('s.w'), ':', p.x), js: (c, p) => c.s.w.find((e: string) => e.slice(e.indexOf(':') + 1) === p.x) },
  {
    name: 'strPart, toNumber, concat: the entry with one more lost wakeup',
    e: () => {
      const e = L.at(L.path('s.w'), 0);
      return L.concat(L.plus(L.toNumber(L.strPart(e, ':', 'before')), 1), ':', L.strPart(e, ':', 'after'));
    },
    js: (c) => `${Number(firstEntry(c).slice(0, firstEntry(c).indexOf(':'))) + 1}:${firstEntry(c).slice(firstEntry(c).indexOf(':') + 1)}`,
  },
  { name: 'cond, coalesce', e: (p) => L.cond(L.read('s.flag'), L.coalesce(L.at(L.path('ys'), 0), 'none'), p.x), js: (c, p) => (c.s.flag ? (c.ys[0] ?? 'none') : p.x) },
];

describe('list and entry reads on the packed words', () => {
  it('give the value the JavaScript gives, or BAIL (always where it throws)', () => {
    const r = rng(35);
    const codec = new ContextCodec(true);
    const linker = new Linker(codec, 0);
    const list = () => Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.75 ? pick(r, ENTRIES.slice(0, 6)) : pick(r, ENTRIES)));
    const tally = { agreed: 0, bailed: 0, throws: 0 };
    for (const read of READS) {
      for (let i = 0; i < 500; i++) {
        const p = { x: pick(r, ['a', 'b', 'c', '0:a']) };
        const buf = new WordBuffer(64);
        codec.encode({ n: 1, s: { w: list(), flag: r() < 0.5 }, ys: list() }, buf);
        const [ctx] = codec.decode(buf.view(), 0);
        let want: unknown;
        let throws = false;
        try {
          want = read.js(ctx, p);
        } catch {
          throws = true;
        }
        linker.newState();
        let got: unknown;
        try {
          got = linker.expr(read.e(p))(buf.view(), []);
        } catch (e) {
          if (e !== BAIL) throw e;
          if (throws) tally.throws++;
          else tally.bailed++;
          continue;
        }
        expect({ read: read.name, ctx, p, throws, got }).toEqual({ read: read.name, ctx, p, throws: false, got: want });
        tally.agreed++;
      }
    }
    expect(tally.agreed).toBeGreaterThan(1500);
    expect(tally.throws).toBeGreaterThan(20);
    expect(tally.bailed).toBeLessThan(tally.agreed / 5);
  });
});

// Two readers, a writer and a percpu reader on kernel primitives: every guard and action is declared, so
// every state is stepped on the words; the same graph with lowering off. (The threads end in states that are
// not final: the step into an all-final state runs every exit action, which the compiled step does.)
const machine = setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
  type: 'parallel',
  context: { sem: rwsem(), pc: percpuRwsem(), m: mutex() },
  states: {
    ...Object.fromEntries(
      ['r0', 'r1'].map((t) => [
        t,
        {
          initial: 'a',
          states: {
            a: { on: { [`${t}.down_read`]: down_read('sem', t, 'b') } },
            b: { on: { [`${t}.up_read`]: { ...up_read('sem', t), target: 'c' } } },
            c: { on: { [`${t}.percpu`]: { ...percpu_down_read('pc', t), target: 'd' } } },
            d: { on: { [`${t}.percpu_up`]: { ...percpu_up_read('pc', t), target: 'done' } } },
            done: {},
          },
        },
      ]),
    ),
    w: {
      initial: 'a',
      states: {
        a: { on: { 'w.down_write': down_write('sem', 'w', 'b') } },
        b: { on: { 'w.lock': { ...mutex_lock('m', 'w'), target: 'c' } } },
        c: { on: { 'w.unlock': { ...mutex_unlock('m', 'w'), target: 'd' } } },
        d: { on: { 'w.up_write': { ...up_write('sem', 'w'), target: 'done' } } },
        done: {},
      },
    },
  },
});

const explore = (lowered: boolean) => exploreWords(compileMachine(machine), lowered);

describe('places found once per state', () => {
  // A step's actions run in order on the successor's words; the places of fields and lists found in the
  // expanded state's words are mapped past the words earlier actions moved, and forgotten where an earlier
  // action replaced the record they were in. Each sequence runs twice on one state (two successors: the
  // second takes the places the first found) and must give the words of the JavaScript result, or BAIL
  // where the JavaScript throws.
  const seqs: Array<{ name: string; decls: L.ActionDecl[]; js: (c: any) => any }> = [
    {
      name: 'a list before the field grows, then the field is read and written',
      decls: [() => [L.insertSorted(L.path('a.xs'), 'b')], () => [L.set(L.path('b.owner'), L.read('b.n')), L.set(L.path('b.n'), L.plus(L.read('b.n'), 1))]],
      js: (c) => {
        const d = { ...c, a: { ...c.a, xs: [...c.a.xs, 'b'].sort() } };
        return { ...d, b: { ...d.b, owner: d.b.n, n: d.b.n + 1 } };
      },
    },
    {
      name: 'a list before the field shrinks, twice',
      decls: [() => [L.removeOne(L.path('a.xs'), 'a')], () => [L.removeOne(L.path('a.xs'), 'c', 'keep'), L.set(L.path('b.owner'), 'z')]],
      js: (c) => {
        const i = c.a.xs.indexOf('a');
        if (i < 0) throw new Error('absent');
        const xs = c.a.xs.filter((_: string, k: number) => k !== i);
        const j = xs.indexOf('c');
        return { ...c, a: { ...c.a, xs: j < 0 ? xs : xs.filter((_: string, k: number) => k !== j) }, b: { ...c.b, owner: 'z' } };
      },
    },
    {
      // (the first action reads b.owner before it writes, so its place is found in the expanded state's words)
      name: 'the record is replaced by null, then a field in it is written',
      decls: [() => [L.check(L.eq(L.read('b.owner'), L.lit(null))), L.set(L.path('b'), null)], () => [L.set(L.path('b.owner'), 'z')]],
      js: () => {
        throw new Error('b is null');
      },
    },
    {
      // (the same size: { n: int, owner: null } and { n: null, owner: int } take 7 words each, and owner's place
      // moves back by one: no word after the record moves, yet the place found before is gone)
      name: 'the record is replaced by one of the same size with its fields in other places, then a field in it is read and written',
      decls: [
        () => [L.check(L.eq(L.read('b.owner'), L.lit(null))), L.put(L.path('b'), L.obj({ n: null, owner: L.read('b.n') }))],
        () => [L.set(L.path('b.owner'), L.plus(L.read('b.owner'), 1))],
      ],
      js: (c) => ({ ...c, b: { n: null, owner: c.b.n + 1 } }),
    },
    {
      name: 'a field before it widens (an int to a string), then the list after it grows',
      decls: [() => [L.set(L.path('b.n'), 'wide')], () => [L.append(L.path('c'), 'q')]],
      js: (c) => ({ ...c, b: { ...c.b, n: 'wide' }, c: [...c.c, 'q'] }),
    },
  ];
  it('map places past moved words, and BAIL where the record they were in is gone', () => {
    const r = rng(35);
    const codec = new ContextCodec(true);
    const tally = { agreed: 0, bailed: 0 };
    for (const seq of seqs) {
      const linker = new Linker(codec, 0);
      const actions = seq.decls.map((d) => linker.action(lowerAssign(Object.assign(() => ({}), { [L.LOWERING]: d }), {}).plan!));
      for (let i = 0; i < 50; i++) {
        const ctx = { a: { xs: Array.from({ length: Math.floor(r() * 3) }, () => pick(r, ['a', 'c', 'd'])).sort() }, b: { owner: null, n: Math.floor(r() * 5) }, c: ['p'] };
        const buf = new WordBuffer(64);
        codec.encode(ctx, buf);
        const before = buf.view().slice();
        let want: number[] | 'throws';
        try {
          const out = new WordBuffer(64);
          codec.encode(seq.js(codec.decode(before, 0)[0]), out);
          want = Array.from(out.view());
        } catch {
          want = 'throws';
        }
        linker.newState();
        for (let twice = 0; twice < 2; twice++) {
          const out = new WordBuffer(8);
          out.ensure(before.length);
          out.words.set(before);
          out.length = before.length;
          WRITES.clear();
          let got: number[] | 'throws';
          try {
            for (const a of actions) a(out);
            got = Array.from(out.view());
          } catch (e) {
            if (e !== BAIL) throw e;
            got = 'throws';
          }
          expect({ seq: seq.name, ctx, twice, got }).toEqual({ seq: seq.name, ctx, twice, got: want });
          if (got === 'throws') tally.bailed++;
          else tally.agreed++;
        }
      }
    }
    expect(tally.agreed).toBeGreaterThan(200);
    expect(tally.bailed).toBeGreaterThan(100);
  });
});

describe('kernel primitives on the words', () => {
  it('step every state on the words, with the same successors as the decoded step', () => {
    const on = explore(true);
    const off = explore(false);
    expect(on.edges).toEqual(off.edges);
    expect(on.states.length).toBeGreaterThan(50);
    expect(on.counts.fallback).toBe(0);
    expect(on.counts.lowered).toBe(on.edges.length);
  });

  it('agree with XState transition() on every reachable state, word path on', () => {
    const r = crossCheck(machine, { lowered: true });
    expect(r.difference).toBeUndefined();
    expect(r.states).toBeGreaterThan(50);
  });

  it('a misuse BAILs on the words and the function reports it, as with lowering off', () => {
    // t runs up_read without holding the rwsem: rwsem_up_read's removeOne finds no hold (a misuse)
    const bad = setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
      type: 'parallel',
      context: { sem: rwsem() },
      states: { t: { initial: 'a', states: { a: { on: { 't.up_read': { ...up_read('sem', 't'), target: 'done' } } }, done: { type: 'final' } } } },
    });
    const model = defineModel({ name: 'misuse', description: 'up_read without down_read', params: {}, defaultVariant: 'v', variants: { v: { description: 'bad' } }, create: () => bad });
    const messages = checkErrors(model);
    expect(messages[0]).toMatch(/kernel primitive misuse: t up_read without a read hold/);
    expect(messages[0]).toBe(messages[1]);
  });
});
