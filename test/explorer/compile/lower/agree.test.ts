// Guard and assign bodies found to be lowered wrongly: each is refused, or gives on the packed words what the
// JavaScript gives on the decoded context, or BAILs (and BAILs wherever the JavaScript throws). Linking and
// running the lowered code must throw nothing but BAIL.
import { describe, expect, it } from 'vitest';
import { ContextCodec, WordBuffer } from '../../../../explorer/codec.ts';
import { Linker } from '../../../../explorer/compile/lower/link.ts';
import { lowerAssign, lowerGuardFn } from '../../../../explorer/compile/lower/plans.ts';
import { BAIL, WRITES } from '../../../../explorer/compile/lower/words.ts';

/** A function from its source (sloppy-mode code, as `new Function` makes it). */
const make = (src: string) => new Function(`return (${src});`)() as Function;

type Outcome = { value: unknown } | { threw: true } | 'BAIL' | 'refused';

const outcome = (f: () => unknown): Outcome => {
  try {
    return { value: f() };
  } catch {
    return { threw: true };
  }
};

const lowered = (f: () => unknown): Outcome => {
  try {
    return { value: f() };
  } catch (e) {
    if (e === BAIL) return 'BAIL';
    throw e;
  }
};

/** The JavaScript's outcome and the lowered code's, for guards linked together on one linker and run on `ctx`. */
function guards(fns: Function[], ctx: unknown, params?: unknown): Array<{ js: Outcome; words: Outcome }> {
  const codec = new ContextCodec(true);
  const linker = new Linker(codec, 0);
  const plans = fns.map((fn) => lowerGuardFn(fn, params).plan);
  const linked = plans.map((plan) => (plan === null ? null : linker.guard(plan)));
  const buf = new WordBuffer(64);
  codec.encode(ctx, buf);
  const words = buf.view();
  const [decoded] = codec.decode(words, 0);
  linker.newState();
  return fns.map((fn, i) => {
    const g = linked[i];
    return { js: outcome(() => !!fn({ context: decoded, event: { type: 'e' } }, params)), words: g === null ? 'refused' : lowered(() => g(words)) };
  });
}

/** The same for an assign: the successor's words, as the codec encodes the JavaScript's new context. */
function assigns(assignment: Record<string, Function>, ctx: unknown, params?: unknown): { js: Outcome; words: Outcome } {
  const codec = new ContextCodec(true);
  const buf = new WordBuffer(64);
  codec.encode(ctx, buf);
  const before = buf.view().slice();
  const [decoded] = codec.decode(before, 0) as [Record<string, unknown>, number];
  const js = outcome(() => {
    const partial = Object.fromEntries(Object.keys(assignment).map((k) => [k, assignment[k]({ context: decoded, event: { type: 'e' } }, params)]));
    const out = new WordBuffer(64);
    codec.encode({ ...decoded, ...partial }, out);
    return Array.from(out.view());
  });
  const plan = lowerAssign(assignment, params).plan;
  if (plan === null) return { js, words: 'refused' };
  const linker = new Linker(codec, 0);
  const action = linker.action(plan);
  linker.newState();
  const out = new WordBuffer(before.length);
  out.words.set(before);
  out.length = before.length;
  WRITES.clear();
  return { js, words: lowered(() => (action(out), Array.from(out.view()))) };
}

/** Refused, BAIL, or the JavaScript's value (a JavaScript throw must BAIL or be refused). */
function expectAgree(r: { js: Outcome; words: Outcome }): void {
  if (r.words === 'refused' || r.words === 'BAIL') return;
  expect(r.words).toEqual(r.js);
}

describe('lowered guards and assigns: bodies once lowered wrongly', () => {
  it('the whole context read as a value (not a path below it)', () => {
    for (const src of ['({ context }) => !!context', '({ context }) => context', '(args) => typeof args.context === "object"', '({ context: c }) => c !== null']) {
      for (const r of guards([make(src)], { a: 1 })) expectAgree(r);
    }
    expectAgree(assigns({ a: make('({ context }) => context && 2') }, { a: 1 }));
  });

  it('sloppy-mode parameter names: a repeated name is the last parameter (the params), not the args', () => {
    // function (a, a): `a` is the params, so a.context is params.context, not the context
    const [r] = guards([make('function (a, a) { return a.context.n === 1; }')], { n: 2 }, { context: { n: 1 } });
    expect(r.js).toEqual({ value: true });
    expectAgree(r);
  });

  it('a function expression, an args parameter or a local named undefined: inside, `undefined` is that', () => {
    const [r] = guards([make('function undefined({ context }) { return context.xs[5] === undefined; }')], { xs: [1] });
    expect(r.js).toEqual({ value: false });
    expectAgree(r);
    const [s] = guards([make('(undefined) => undefined.context.xs[5] === undefined')], { xs: [1] });
    expect(s.js).toEqual({ value: false });
    expectAgree(s);
    // a local named undefined declared after a use: the use throws (before its declaration)
    const [t] = guards([make('({ context }) => { const a = context.xs[5] === undefined; const undefined = 1; return a; }')], { xs: [1] });
    expect(t.js).toEqual({ threw: true });
    expectAgree(t);
  });

  it('params that are not scalars, used as values: their conversions may throw', () => {
    // a record whose valueOf throws, and a symbol: the JavaScript throws (the guard's error), the words must BAIL
    const params = { o: { valueOf: () => { throw new Error('valueOf'); } }, sym: Symbol('s') };
    for (const src of ['({ context }, p) => context.a < p.o', '({ context }, p) => context.a + p.sym === 1']) {
      const [r] = guards([make(src)], { a: 1 }, params);
      expect(r.js).toEqual({ threw: true });
      expectAgree(r);
    }
  });

  it('a record key __proto__: the decoded record does not have it as its own', () => {
    // (a context made by JSON.parse has it as an own key, and the words keep it; decode assigns it, which sets no key)
    for (const r of guards([make('({ context }) => context.__proto__ === 5'), make("({ context }) => context['__proto__'] === 5")], JSON.parse('{ "__proto__": 5, "a": 1 }'))) {
      expect(r.js).toEqual({ value: false });
      expectAgree(r);
    }
  });

  it('keys that joined into another path: a key holding the separator, or the empty key', () => {
    // context['a\0b'] and context.a.b were one place (keys joined with \0); context[''] was the context record's
    const [r] = guards([make("({ context }) => context['a\\u0000b'] === 2 && context.a.b === 1")], { a: { b: 1 }, 'a\u0000b': 2 });
    expect(r.js).toEqual({ value: true });
    expectAgree(r);
    // with context[''] linked first, context.a (absent) was looked for in context['']
    const rs = guards([make("({ context }) => context[''].a === 7"), make('({ context }) => context.a === 7')], { '': { a: 7 }, b: 1 });
    expect(rs.map((x) => x.js)).toEqual([{ value: true }, { value: false }]);
    rs.forEach(expectAgree);
  });

  it('an assign on a context that is an array: the new context is a record of its elements and the key', () => {
    const r = assigns({ 0: make('({ context }) => context[0] + 1') }, [0, 5]);
    expect(r.js).not.toEqual({ threw: true });
    expectAgree(r);
  });
});
