// Search: shortest counterexamples under BFS, DFS behind the same interface, bounds that make a run
// incomplete (never pass), and determinism.
import { describe, expect, it } from 'vitest';
import philosophers from '../../machines/philosophers/index.ts';
import { checkModel } from '../../explorer/index.ts';

describe('search', () => {
  it('BFS finds the philosophers deadlock with a shortest trace of N steps', () => {
    for (const n of [3, 5, 7]) {
      const r = checkModel({ model: philosophers, params: { n } });
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
      expect(r.trace!.steps).toHaveLength(n);
      expect(r.trace!.deadlock!.cycle).toHaveLength(n);
    }
  });

  it('DFS finds the same deadlock and explores the same space when it does not stop', () => {
    const d = checkModel({ model: philosophers, params: { n: 6 }, strategy: 'dfs' });
    expect(d.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const full = checkModel({ model: philosophers, params: { n: 6 }, strategy: 'dfs', stopAtFirst: false });
    expect(full.stats.states).toBe(198);
  });

  it('a run cut by maxStates is incomplete, never pass', () => {
    const r = checkModel({ model: philosophers, variant: 'ordered', params: { n: 8 }, maxStates: 100 });
    expect(r.verdict.status).toBe('incomplete');
    expect(r.verdict.bound).toEqual({ name: 'maxStates', limit: 100 });
    expect(r.stats.states).toBeLessThanOrEqual(100);
  });

  it('a run cut by maxDepth is incomplete; a depth bound above the diameter is a pass', () => {
    const cut = checkModel({ model: philosophers, variant: 'ordered', params: { n: 6 }, maxDepth: 3 });
    expect(cut.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxDepth', limit: 3 } });
    const full = checkModel({ model: philosophers, variant: 'ordered', params: { n: 6 }, maxDepth: 1000 });
    expect(full.verdict.status).toBe('pass');
  });

  it('a violation found within the bound is still reported as a violation', () => {
    const r = checkModel({ model: philosophers, params: { n: 4 }, maxDepth: 10 });
    expect(r.verdict.status).toBe('violation');
  });

  it('a timeout makes the run incomplete', () => {
    const r = checkModel({ model: philosophers, variant: 'ordered', params: { n: 12 }, timeoutSeconds: 0.05 });
    expect(r.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'timeout' } });
  });

  it('is deterministic: same states, same trace', () => {
    const a = checkModel({ model: philosophers, params: { n: 6 } });
    const b = checkModel({ model: philosophers, params: { n: 6 } });
    expect(JSON.stringify(a.trace)).toBe(JSON.stringify(b.trace));
    expect(a.stats.states).toBe(b.stats.states);
  });

  it('checks invariants and reports the first violating state with a shortest trace', () => {
    const r = checkModel({ model: philosophers, params: { n: 4 }, check: { deadlock: false }, stopAtFirst: false });
    expect(r.verdict.status).toBe('pass');
    expect(r.stats.states).toBe(34);
  });
});
