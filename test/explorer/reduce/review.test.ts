// Adversarial review of the reductions: small models built to make a reduction hide a violation. Each reduced
// search must find the violation the unreduced one finds (same kind), and its counterexample must replay
// unreduced; a declaration the reduction cannot honour is refused by name.
import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../../explorer/index.ts';
import { ModelError } from '../../../explorer/errors.ts';
import { checkFootprints, FootprintError } from '../../../explorer/reduce/check.ts';
import { defineModel, type ModelDefinition } from '../../../explorer/model.ts';
import type { ReductionName } from '../../../explorer/reduce/index.ts';
import { systemFootprints } from '../../../explorer/reduce/footprint.ts';
import { propertyReads } from '../../../explorer/reduce/index.ts';
import { porTables } from '../../../explorer/reduce/por.ts';
import { compileSymmetry, createRepresentative } from '../../../explorer/reduce/symmetry.ts';
import { replayTrace } from '../../../explorer/replay.ts';

/** Reduced and unreduced agree on the verdict's status and kind; a reduced counterexample replays unreduced. */
function agree(model: ModelDefinition, reduce: ReductionName[], check: any = { deadlock: false }) {
  const plain = checkModel({ model, check });
  const reduced = checkModel({ model, check, reduce });
  expect(plain.verdict.status).toBe('violation');
  expect(reduced.verdict.status).toBe(plain.verdict.status);
  expect(reduced.verdict.kind).toBe(plain.verdict.kind);
  const space = instantiate(model, {}, model.defaultVariant);
  const r = replayTrace(space, model, reduced.trace!, selectInvariants(model, {}, model.defaultVariant, true));
  expect(r.status, r.reason).toBe('reproduced');
  return { plain, reduced };
}

/** A one-variant model without params: the rest (create, symmetry, properties, footprints) as given. */
function tiny(name: string, rest: Partial<ModelDefinition> & Pick<ModelDefinition, 'create'>): ModelDefinition {
  return defineModel({ name, description: name, params: {}, variants: { main: { description: 'as is' } }, defaultVariant: 'main', ...rest } as any);
}

/**
 * Two identical threads w0, w1 (declared in `order`): one of them takes a token and moves to A; from A it goes
 * to an asserting state when the context names it in `form` (a record key or a string). The initial context
 * names w0, so only w0 can fail: symmetry must rename the name wherever `form` puts it, or it takes w1's
 * harmless state for w0's failing one.
 */
function namedIn(order: string[], form: (me: string) => string, where: 'key' | 'value' | 'list') {
  return tiny(`named-in-${where}`, {
    symmetry: () => [{ threads: ['w0', 'w1'] }],
    create: () => {
      const th = (me: string) => ({
        initial: 'i',
        states: {
          i: { on: { [`${me}.take`]: { guard: 'free', actions: 'take', target: 'A' } } },
          A: { on: { [`${me}.go`]: { guard: { type: 'named', params: { me } }, target: 'bad' } } },
          bad: { meta: { assert: 'never' } },
        },
      });
      const named = ({ context }: any, p: { me: string }) =>
        where === 'key' ? context.k[form(p.me)] === 1 : where === 'list' ? context.k.includes(form(p.me)) : context.k === form(p.me);
      return setup({ guards: { free: ({ context }: any) => !context.taken, named } as any, actions: { take: assign({ taken: true }) } as any }).createMachine({
        type: 'parallel',
        context: { taken: false, k: where === 'key' ? { [form('w0')]: 1 } : where === 'list' ? [form('w0')] : form('w0') },
        states: Object.fromEntries(order.map((n) => [n, th(n)])) as any,
      });
    },
    assertions: { never: () => false },
  });
}

describe('symmetry renames every reference to a thread', () => {
  const forms: Array<[string, (me: string) => string]> = [
    ['tag:thread', (me) => `x:${me}`],
    ['thread:tag', (me) => `${me}:x`],
    ['a:b:thread', (me) => `a:b:${me}`],
    ['thread.lock', (me) => `${me}.lock`],
    ['tag-thread', (me) => `x-${me}`],
  ];
  for (const [label, form] of forms) {
    for (const where of ['key', 'value', 'list'] as const) {
      it(`a "${label}" ${where === 'key' ? 'record key' : where === 'list' ? 'string in a list' : 'string'}: the violation is kept, whichever thread is declared first`, () => {
        for (const order of [['w0', 'w1'], ['w1', 'w0']]) agree(namedIn(order, form, where), ['symmetry']);
      });
    }
  }
});

/**
 * A group w0, w1 (declared in `order`) and a thread `boss` outside it whose code names w0: only w0's taking the
 * token lets boss fail, so w0 and w1 are not interchangeable although their own code is.
 */
function namedByOutsider(order: string[]) {
  return tiny('named-by-outsider', {
    symmetry: () => [{ threads: ['w0', 'w1'] }],
    create: () => {
      const th = (me: string) => ({ initial: 'i', states: { i: { on: { [`${me}.take`]: { guard: 'free', actions: { type: 'take', params: { me } }, target: 'A' } } }, A: {} } });
      const boss = { initial: 'i', states: { i: { on: { 'boss.check': { guard: { type: 'holder', params: { who: 'w0' } }, target: 'bad' } } }, bad: { meta: { assert: 'never' } } } };
      return setup({
        guards: { free: ({ context }: any) => context.holder === '', holder: ({ context }: any, p: { who: string }) => context.holder === p.who } as any,
        actions: { take: assign(({ context }: any, p: { me: string }) => ({ ...context, holder: p.me })) } as any,
      }).createMachine({ type: 'parallel', context: { holder: '' }, states: { ...Object.fromEntries(order.map((n) => [n, th(n)])), boss } as any });
    },
    assertions: { never: () => false },
  });
}

describe('symmetry groups are checked against every thread', () => {
  it('refuses a group one of whose threads is named by a thread outside it, naming that thread', () => {
    for (const order of [['w0', 'w1'], ['w1', 'w0']]) {
      const model = namedByOutsider(order);
      expect(checkModel({ model, check: { deadlock: false } }).verdict.status).toBe('violation');
      expect(() => checkModel({ model, check: { deadlock: false }, reduce: ['symmetry'] })).toThrow(ModelError);
      expect(() => checkModel({ model, check: { deadlock: false }, reduce: ['symmetry'] })).toThrow(/thread boss's code names w0/);
    }
  });

  it('refuses a group of three where one member names another (a, b name each other, c names b)', () => {
    const model = tiny('peers', {
      create: () => {
        const th = (me: string, peer: string) => ({ initial: 'i', states: { i: { on: { [`${me}.go`]: { guard: { type: 'is', params: { who: peer } }, target: 'e' } } }, e: { type: 'final' } } });
        return setup({ guards: { is: ({ context }: any, p: { who: string }) => context.x !== p.who } as any }).createMachine({
          type: 'parallel',
          context: { x: '' },
          states: { a: th('a', 'b'), b: th('b', 'a'), c: th('c', 'b') } as any,
        });
      },
    });
    const packed = instantiate(model, resolveParams(model, {}), 'main').packed;
    expect(() => compileSymmetry(packed.system, [{ threads: ['a', 'b', 'c'] }])).toThrow(/thread c's code names (a|b)/);
    // the pair a, b alone: c still names b
    expect(() => compileSymmetry(packed.system, [{ threads: ['a', 'b'] }])).toThrow(/thread c's code names b/);
  });
});

describe('partial order: the cycle proviso', () => {
  // Thread a sets f, then spins s2 -> s3 -> s2 forever touching nothing; b, once f is set, writes y, which the
  // invariant forbids. Every a step in the spin is independent and invisible, so only the proviso (the back edge
  // s3 -> s2 forces full expansion) makes the reduced search take b's step: leaves past the thread count
  // (s2, s3 with two threads) were never checked for back edges.
  const spin = tiny('spin', {
    footprints: { setF: { writes: ['f'] }, setY: { writes: ['y'] }, fSet: { reads: ['f'] } },
    create: () =>
      setup({ guards: { fSet: ({ context }: any) => context.f === 1 } as any, actions: { setF: assign({ f: 1 }), setY: assign({ y: 1 }) } as any }).createMachine({
        type: 'parallel',
        context: { f: 0, y: 0 },
        states: {
          a: { initial: 's0', states: { s0: { on: { 'a.0': 's1' } }, s1: { on: { 'a.1': { actions: 'setF', target: 's2' } } }, s2: { on: { 'a.2': 's3' } }, s3: { on: { 'a.3': 's2' } } } },
          b: { initial: 'i', states: { i: { on: { 'b.go': { guard: 'fSet', actions: 'setY', target: 'e' } } }, e: { type: 'final' } } },
        } as any,
      }),
    invariants: { noY: (ctx: any) => ctx.y !== 1 },
    propertyFootprints: { noY: { context: ['y'], locations: false } },
  });

  for (const strategy of ['bfs', 'dfs'] as const) {
    it(`${strategy}: a step ignored along a cycle of another thread is still taken`, () => {
      const plain = checkModel({ model: spin, strategy });
      const reduced = checkModel({ model: spin, strategy, reduce: ['por'] });
      expect(plain.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'noY' });
      expect(reduced.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'noY' });
    });
  }

  it("the proviso is each thread's own: leaves that close no cycle stay eligible", () => {
    const packed = instantiate(spin, {}, 'main').packed;
    const fps = systemFootprints(packed.system, { byName: spin.footprints });
    const t = porTables(packed.system, fps, propertyReads(spin, ['noY'], []));
    // a: s0, s2 eligible (s1 writes f, which b reads: that is C1 at run time, not a static reason); s3 closes the spin
    expect(t.reason[0]).toEqual(['', '', '', 'closes a cycle of the thread (C3)']);
    expect(t.eligible[0]).toEqual([true, true, true, false]);
  });
});

describe('--check-footprints and property footprints', () => {
  /** a sets x, b sets y, independently; the invariant forbids y before x and reads both, but `declared` says what it reads. */
  const race = (declared: { context: string[]; locations?: boolean | string[] }, reads: 'context' | 'locations') =>
    tiny('race', {
      footprints: { setX: { writes: ['x'] }, setY: { writes: ['y'] } },
      create: () =>
        setup({ actions: { setX: assign({ x: 1 }), setY: assign({ y: 1 }) } as any }).createMachine({
          type: 'parallel',
          context: { x: 0, y: 0 },
          states: {
            a: { initial: 'i', states: { i: { on: { 'a.go': { actions: 'setX', target: 'e' } } }, e: { type: 'final' } } },
            b: { initial: 'i', states: { i: { on: { 'b.go': { actions: 'setY', target: 'e' } } }, e: { type: 'final' } } },
          } as any,
        }),
      invariants: { yAfterX: reads === 'context' ? (ctx: any) => !(ctx.x === 0 && ctx.y === 1) : (ctx: any, threads) => !(threads.a === 'i' && ctx.y === 1) },
      propertyFootprints: { yAfterX: declared },
    });
  const footprintCheck = (model: ModelDefinition) =>
    checkFootprints(instantiate(model, {}, 'main').packed, { model, options: { params: {}, variant: 'main' }, invariants: selectInvariants(model, {}, 'main', true), assertions: model.assertions });

  it('names an invariant that reads a context path outside its declared property footprint', () => {
    const model = race({ context: ['y'], locations: false }, 'context');
    expect(checkModel({ model }).verdict.status).toBe('violation');
    expect(() => footprintCheck(model)).toThrow(FootprintError);
    expect(() => footprintCheck(model)).toThrow(/invariant yAfterX at .* reads x, outside its declared property footprint/);
    // declared as it reads, it passes the check, and partial order keeps the violation
    expect(() => footprintCheck(race({ context: ['x', 'y'], locations: false }, 'context'))).not.toThrow();
    expect(checkModel({ model: race({ context: ['x', 'y'], locations: false }, 'context'), reduce: ['por'] }).verdict.status).toBe('violation');
  });

  it("names an invariant that reads a thread's location it does not declare", () => {
    for (const locations of [false, ['b']]) {
      expect(() => footprintCheck(race({ context: ['y'], locations }, 'locations'))).toThrow(/invariant yAfterX at .* reads the location of thread a, outside its declared locations/);
    }
    expect(() => footprintCheck(race({ context: ['y'], locations: ['a'] }, 'locations'))).not.toThrow();
    expect(() => footprintCheck(race({ context: ['y'] }, 'locations'))).not.toThrow();
  });

  it('names an assertion that reads outside its declared property footprint, where it is in force', () => {
    const model = tiny('asserted', {
      create: () =>
        setup({}).createMachine({
          type: 'parallel',
          context: { x: 0, y: 0 },
          states: { a: { initial: 'i', states: { i: { on: { 'a.go': 'e' } }, e: { type: 'final', meta: { assert: 'calm' } } } } } as any,
        }),
      assertions: { calm: (ctx: any) => ctx.x + ctx.y === 0 },
      propertyFootprints: { calm: { context: ['x'], locations: false } },
    });
    expect(() => footprintCheck(model)).toThrow(/assertion calm at .* reads y, outside its declared property footprint/);
  });
});

describe('malformed reduction declarations are the model’s error, not a crash or a silent lie', () => {
  const withDecl = (decl: Partial<ModelDefinition>) =>
    tiny('decl', {
      ...decl,
      create: () =>
        setup({}).createMachine({
          type: 'parallel',
          context: { y: 0, idx: [0, 0] },
          states: Object.fromEntries(['w0', 'w1'].map((t) => [t, { initial: 'i', states: { i: { on: { [`${t}.go`]: 'e' } }, e: { type: 'final' } } }])) as any,
        }),
      invariants: { calm: (ctx: any) => ctx.y === 0 },
    });

  it('a symmetry group whose indexed is not a list of context paths', () => {
    for (const indexed of ['idx', [3], [null]]) {
      const model = withDecl({ symmetry: () => [{ threads: ['w0', 'w1'], indexed } as any] });
      expect(() => checkModel({ model, reduce: ['symmetry'] })).toThrow(ModelError);
      expect(() => checkModel({ model, reduce: ['symmetry'] })).toThrow(/symmetry\(\) group 0: indexed must be a list of context paths/);
    }
  });

  it('a property footprint without a list of context paths, or with locations that are not false, true or threads', () => {
    for (const pf of [{ locations: false }, { context: 'y' }, { context: ['y'], locations: 'w0' }, { context: ['y'], locations: ['w7'] }, 'y']) {
      const model = withDecl({ propertyFootprints: { calm: pf as any } });
      expect(() => checkModel({ model, reduce: ['por'] }), JSON.stringify(pf)).toThrow(ModelError);
      expect(() => checkModel({ model, reduce: ['por'] }), JSON.stringify(pf)).toThrow(/propertyFootprints\.calm/);
    }
    expect(checkModel({ model: withDecl({ propertyFootprints: { calm: { context: ['y'], locations: ['w0'] } } }), reduce: ['por'] }).verdict.status).toBe('pass');
    // --check-footprints, which runs before the search, refuses it the same way
    const model = withDecl({ propertyFootprints: { calm: { context: 'y' } as any } });
    expect(() => checkFootprints(instantiate(model, {}, 'main').packed, { model, options: { params: {}, variant: 'main' }, invariants: model.invariants })).toThrow(/propertyFootprints\.calm needs context/);
  });
});

describe('the representative renames names inside strings and keys like a plain whole-word renaming', () => {
  it('one name or several, in keys (re-sorted) and values, and never a name glued to other letters', () => {
    const model = tiny('words', {
      create: () =>
        setup({}).createMachine({
          type: 'parallel',
          context: { k: {}, v: [] },
          states: Object.fromEntries(['w0', 'w1', 'w2'].map((t) => [t, { initial: 'i', states: { i: { on: { [`${t}.go`]: 'e' } }, e: { type: 'final' } } }])) as any,
        }),
    });
    const packed = instantiate(model, {}, 'main').packed;
    const { permute } = createRepresentative(packed, compileSymmetry(packed.system, [{ threads: ['w0', 'w1', 'w2'] }]));
    const ctx = {
      k: { 'x:w0': 1, 'w1:y': 2, 'w2.lock': 3, 'w0->w2': 4, w10: 5, xw0: 6 },
      v: ['a:b:w0', 'w1/w2/w0', 'w0w1', 'w2', 'r:w1', { 'q-w2': 'w0.w1' }],
    };
    const names = ['w0', 'w1', 'w2'];
    const plain = (v: any, p: number[]): any => {
      const ren = (s: string) => s.replace(/(?<![A-Za-z0-9_])(w0|w1|w2)(?![A-Za-z0-9_])/g, (m) => names[p[names.indexOf(m)]]);
      if (typeof v === 'string') return ren(v);
      if (Array.isArray(v)) return v.map((x) => plain(x, p));
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([key, x]) => [ren(key), plain(x, p)]));
      return v;
    };
    for (const p of [[1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2]]) {
      const words = packed.encode([0, 0, 0], ctx);
      const img = permute(words, words.length, p).slice(0, words.length);
      expect(img).toEqual(packed.encode([0, 0, 0], plain(ctx, p)));
    }
  });
});

describe('--check-footprints on threads whose names are not plain words', () => {
  it('maps the events of a swap of cpu(0) and cpu(1) by their names, read literally', () => {
    const names = ['cpu(0)', 'cpu(1)'];
    const model = tiny('paren', {
      symmetry: () => [{ threads: names }],
      create: () =>
        setup({}).createMachine({
          type: 'parallel',
          context: {},
          states: Object.fromEntries(names.map((t) => [t, { initial: 'i', states: { i: { on: { [`${t}.go`]: 'e' } }, e: { type: 'final' } } }])) as any,
        }),
    });
    const r = checkFootprints(instantiate(model, {}, 'main').packed, { model, options: { params: {}, variant: 'main' }, invariants: {} });
    expect(r.symmetryChecks).toBe(r.states);
  });
});
