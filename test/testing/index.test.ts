// The vitest helper users import (interleave/testing): check() with the matchers, and crossCheck() against
// XState's transition(); each matcher fails with the verdict (and the race diagram) when it should.
import { describe, expect, it } from 'vitest';
import { check, crossCheck } from '../../testing/index.ts';
import abba from '../../machines/abba/index.ts';
import philosophers from '../../machines/philosophers/index.ts';

describe('interleave/testing', () => {
  it('toBeDeadlockFree and toViolate on the two variants', async () => {
    expect(await check(abba, { variant: 'ordered' })).toBeDeadlockFree();
    expect(await check(abba, { variant: 'ordered' })).toPass();
    expect(await check(abba, { variant: 'abba' })).toViolate('deadlock');
    expect(await check(philosophers, { params: { n: 3 } })).toViolate('deadlock', 'deadlock');
  });

  it('a matcher that does not hold fails, showing the verdict and the race diagram', async () => {
    const r = await check(abba, { variant: 'abba' });
    expect(() => expect(r).toBeDeadlockFree()).toThrow(/expected no deadlock, but it deadlocks: abba variant abba: violation \(deadlock\)[\s\S]*Verdict: DEADLOCK after 2 steps/);
    expect(() => expect(r).toViolate('invariant', 'x')).toThrow(/expected a invariant x violation, but abba variant abba: violation/);
    expect(() => expect(r).not.toViolate('deadlock')).toThrow(/expected no deadlock/);
    const cut = await check(philosophers, { variant: 'ordered', params: { n: 6 }, maxStates: 10 });
    expect(() => expect(cut).toBeDeadlockFree()).toThrow(/the search was cut before the whole state space was explored, so this is not a proof/);
    expect(() => expect({}).toBeDeadlockFree()).toThrow(/expected the result of check\(model, options\)/);
    // a run that did not look for deadlocks proves no freedom from them, even when it checked something else
    const off = await check(abba, { variant: 'ordered', check: { deadlock: false, lockOrder: true } });
    expect(off.verdict.status).toBe('pass');
    expect(() => expect(off).toBeDeadlockFree()).toThrow(/deadlock was not checked \(check\.deadlock is false\)/);
  });

  it('under .not a matcher asks for the opposite claim, and a search cut short proves neither', async () => {
    const cut = await check(philosophers, { params: { n: 6 }, maxStates: 10 });
    expect(cut.verdict.status).toBe('incomplete');
    expect(() => expect(cut).not.toBeDeadlockFree()).toThrow(/expected a deadlock, but the search was cut before finding one, so this is not a proof/);
    expect(() => expect(cut).not.toPass()).toThrow(/expected a violation, but the search was cut before finding one/);
    expect(() => expect(cut).not.toViolate('deadlock')).toThrow(/expected no deadlock, but the search was cut short, so this is not a proof/);
    // a complete pass: no deadlock, no violation
    const ok = await check(abba, { variant: 'ordered' });
    expect(() => expect(ok).not.toBeDeadlockFree()).toThrow(/expected a deadlock, but none was found/);
    expect(() => expect(ok).not.toPass()).toThrow(/expected a violation, but none was found/);
    expect(ok).not.toViolate('deadlock');
    // a deadlock found: the negations that claim one hold
    const dead = await check(abba, { variant: 'abba' });
    expect(dead).not.toBeDeadlockFree();
    expect(dead).not.toPass();
    // a violation of another kind: no proof that there is none of this one
    expect(() => expect(dead).not.toViolate('invariant', 'x')).toThrow(/another violation stopped the search first, so this is not a proof/);
  });

  it('a check with every property off counts states only: the result says so (nothingChecked) and toPass/toBeDeadlockFree fail rather than pass vacuously', async () => {
    const off = { deadlock: false, assertions: false, invariants: false };
    const r = await check(abba, { variant: 'ordered', check: off });
    expect(r.verdict.status).toBe('pass');
    expect(r.nothingChecked).toBe(true);
    expect(r.stats.states).toBeGreaterThan(1);
    for (const claim of [() => expect(r).toPass(), () => expect(r).toBeDeadlockFree()]) {
      expect(claim).toThrow(/nothing was checked \(deadlock, assertions, invariants, livelock, starvation and lock order all off\): a pass proves only that the search finished; turn a check on, or read result\.stats\.states/);
    }
    expect(() => expect(r).not.toPass()).toThrow(/expected a violation, but none was found/);
    // Assertions on, but no state of the model asserts one: nothing is checked either.
    expect((await check(philosophers, { params: { n: 3 }, check: { ...off, assertions: true } })).nothingChecked).toBe(true);
    // One check on: the field is absent.
    for (const one of [{ deadlock: true }, { assertions: true }, { lockOrder: true }, { livelock: true }]) {
      expect((await check(abba, { variant: 'ordered', check: { ...off, ...one } })).nothingChecked).toBeUndefined();
    }
  });

  it("crossCheck walks every reachable state with XState's transition(): agree, or cut past the limit", async () => {
    const r = await crossCheck(philosophers, { params: { n: 3 } });
    expect(r).toAgree();
    expect(r.states).toBeGreaterThan(10);
    const cut = await crossCheck(philosophers, { params: { n: 3 }, limit: 5 });
    expect(cut.status).toBe('cut');
    expect(() => expect(cut).toAgree()).toThrow(/more than 5 reachable states/);
  });
});

describe('interleave/testing: a misspelt option or a module namespace is refused, not ignored', () => {
  it('an unknown property in check (check: { livelok: true }) is refused: the run would pass without checking it', async () => {
    await expect(check(abba, { variant: 'ordered', check: { livelok: true } } as any)).rejects.toThrow(
      /check\.livelok: unknown property; .*livelock/,
    );
  });
  it('an unknown option (maxstates) is refused naming the known ones', async () => {
    await expect(check(abba, { variant: 'ordered', maxstates: 10 } as any)).rejects.toThrow(/maxstates: unknown option; .*maxStates/);
    await expect(crossCheck(abba, { varaint: 'ordered' } as any)).rejects.toThrow(/varaint: unknown option; .*variant/);
  });
  it("a module namespace (import * as model) instead of its default export is refused naming the fix", async () => {
    const ns = { default: abba };
    await expect(check(ns as any)).rejects.toThrow(/not a model: .*default export.*import model from/);
    await expect(crossCheck(ns as any)).rejects.toThrow(/not a model: .*default export.*import model from/);
    await expect(check(undefined as any)).rejects.toThrow(/not a model: .*defineModel/);
  });
});

describe('interleave/testing: a bad option value is refused as bad input, not a crash or a silent pass', () => {
  it.each([
    [{ strategy: 'dfz' }, /strategy: 'dfz' is not one of bfs, dfs, random/],
    [{ check: { invariants: 'all' } }, /check\.invariants: expected true, false or a list of invariant names, got "all"/],
    [{ maxStates: Number.NaN }, /maxStates: expected a whole number of at least 0, got NaN/],
    [{ maxDepth: -1 }, /maxDepth: expected a whole number of at least 0, got -1/],
    [{ maxStates: 1.5 }, /maxStates: expected a whole number of at least 0, got 1\.5/],
    [{ reduce: ['symetry'] }, /symetry/],
  ])('%j', async (options, message) => {
    await expect(check(abba, { variant: 'ordered', ...(options as object) })).rejects.toThrow(message);
  });
});
