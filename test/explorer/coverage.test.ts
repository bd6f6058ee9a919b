// Coverage (explorer/coverage.ts): a transition whose guard can never hold is listed as never taken, its
// state as never reached; a run cut by a bound is not complete; abba's ordered variant covers everything.
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../explorer/index.ts';
import deadTransition from '../fixtures/coverage/dead-transition.ts';
import abba from '../../machines/abba/index.ts';
import philosophers from '../../machines/philosophers/index.ts';
import sbFreeze from '../../machines/sb-freeze/index.ts';
import { mergeCoverage } from '../../explorer/coverage.ts';

describe('coverage', () => {
  it('lists the transition that can never fire and the state it leads to, on a complete pass', () => {
    const r = checkModel({ model: deadTransition, coverage: true });
    expect(r.verdict.status).toBe('pass');
    const c = r.coverage!;
    expect(c.complete).toBe(true);
    expect(c.transitions).toEqual({ total: 6, taken: 4 });
    const t1 = c.threads.find((t) => t.thread === 'task1')!;
    expect(t1.neverTaken).toEqual([
      { state: 'idle', event: 'task1.lock', guard: 'lockedByBoth', target: 'impossible' },
      { state: 'impossible', event: 'task1.leave', target: 'done' },
    ]);
    expect(t1.neverReached).toEqual(['impossible']);
    expect(c.threads.find((t) => t.thread === 'task0')!.neverTaken).toEqual([]);
  });

  it('a run cut by maxStates is not complete, and takes fewer transitions', () => {
    const r = checkModel({ model: deadTransition, coverage: true, maxStates: 2 });
    expect(r.verdict.status).toBe('incomplete');
    expect(r.coverage!.complete).toBe(false);
    expect(r.coverage!.transitions.taken).toBeLessThan(4);
  });

  it('a model whose every transition fires has nothing uncovered; no coverage unless asked', () => {
    const r = checkModel({ model: abba, variant: 'ordered', coverage: true });
    expect(r.coverage!.transitions.taken).toBe(r.coverage!.transitions.total);
    expect(r.coverage!.states.reached).toBe(r.coverage!.states.total);
    expect(checkModel({ model: abba, variant: 'ordered' }).coverage).toBeUndefined();
  });

  it('a violation is complete coverage only when the search went on to the end (stopAtFirst false)', () => {
    const on = checkModel({ model: philosophers, variant: 'naive', params: { n: 4 }, coverage: true, stopAtFirst: false });
    expect(on.verdict.kind).toBe('deadlock');
    expect(on.coverage!.complete).toBe(true);
    const first = checkModel({ model: philosophers, variant: 'naive', params: { n: 4 }, coverage: true });
    expect(first.coverage!.complete).toBe(false);
  });

  it('liveness-only runs collect coverage too', () => {
    const r = checkModel({ model: deadTransition, coverage: true, check: { deadlock: false, assertions: false, invariants: false, livelock: true } });
    expect(r.coverage!.complete).toBe(true);
    expect(r.coverage!.transitions.taken).toBe(4);
  });

  it('under --reduce por runs unreduced (a pruned interleaving is not "never taken"): the unreduced counts, complete, and a note', () => {
    const params = { writers: 2, umountWriters: 1, faulters: 1, intwriters: 1 };
    const plain = checkModel({ model: sbFreeze, variant: 'generic', params, coverage: true });
    const por = checkModel({ model: sbFreeze, variant: 'generic', params, coverage: true, reduce: ['por'] });
    expect(por.reductions!.ran).toEqual([]);
    expect(por.reductions!.notes).toContain('coverage ran unreduced (por not applied)');
    expect(por.stats.states).toBe(plain.stats.states);
    expect(por.coverage).toEqual(plain.coverage);
    expect(por.coverage!.complete).toBe(true);
  });

  it('merges runs: never taken only if no run took it; complete if one run was', () => {
    const cut = checkModel({ model: deadTransition, coverage: true, maxStates: 2 }).coverage!;
    const full = checkModel({ model: deadTransition, coverage: true }).coverage!;
    expect(mergeCoverage([cut, full])).toEqual(full);
    expect(mergeCoverage([cut, cut])).toEqual(cut);
    expect(mergeCoverage([])).toBeUndefined();
  });
});
