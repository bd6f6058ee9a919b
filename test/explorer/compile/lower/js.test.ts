// The JavaScript subset compiler: what it accepts, and what it refuses (with the reason) to the fallback.
import { describe, expect, it } from 'vitest';
import { lowerFunction, Refused } from '../../../../explorer/compile/lower/js.ts';

const why = (fn: Function, params?: unknown, copy = false) => {
  try {
    lowerFunction(fn, params, copy);
    return 'lowered';
  } catch (e) {
    if (e instanceof Refused) return e.message;
    throw e;
  }
};

describe('lowerFunction', () => {
  it('accepts reads, params, comparisons, arithmetic, logic, locals', () => {
    expect(why(({ context }: any, p: any) => context.forks[p.fork] === -1, { fork: 2 })).toBe('lowered');
    expect(why((args: any) => args.context.n + 1 <= 3 && !args.context.done)).toBe('lowered');
    expect(why(({ context: c }: any, { max }: any) => { const n = c.n; return n < max ? 'low' : null; }, { max: 3 })).toBe('lowered');
    const o = { m({ context }: any) { return context.a.length > 0; } };
    expect(why(o.m)).toBe('lowered');
  });

  it('accepts the copy-and-set idiom on an array (assign values only)', () => {
    const f = ({ context }: any, p: any) => {
      const xs = context.xs.slice();
      xs[p.at] = p.v;
      return xs;
    };
    expect(why(f, { at: 1, v: 3 }, true)).toBe('lowered');
    expect(lowerFunction(f, { at: 1, v: 3 }, true).copyOf).toEqual(['xs']);
    expect(why(f, { at: 1, v: 3 }, false)).toBe('CallExpression');
  });

  it('refuses what it cannot prove equivalent', () => {
    const k = 3;
    expect(why(({ context }: any) => context.n < k)).toBe('free variable k');
    expect(why(({ context }: any) => context.xs.includes(1))).toBe('CallExpression');
    expect(why(({ event }: any) => event.type === 'x')).toBe('argument event (only the context is lowered)');
    expect(why(({ context }: any) => context.a?.b)).toBe('ChainExpression');
    expect(why(({ context }: any) => 'a' in context)).toBe('operator in');
    expect(why(({ context }: any, p: any) => context.xs[context.i] === p)).toBe('computed member with a key that is not a constant');
    expect(why(({ context }: any, p: any) => context.n < p.max, {})).toBe('params have no max');
    expect(why(({ context }: any) => {
      if (context.n) return 1;
      return 0;
    })).toBe('statement IfStatement');
    expect(why(Math.max)).toBe('source does not parse as a function');
  });
});
