// Random walks: reproducible from the seed, the trace replays and records the seed, and a run that
// finds nothing is incomplete (never pass) with what it covered.
import { describe, expect, it, vi } from 'vitest';
import sbFreeze from '../../../machines/sb-freeze/index.ts';
import philosophers from '../../../machines/philosophers/index.ts';
import xfs from '../../../machines/xfs-inodegc/index.ts';
import { PackedSystem } from '../../../explorer/packed.ts';
import { checkModel, instantiate, selectInvariants } from '../../../explorer/index.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import { validateTraceObject } from '../../../cli/spec.ts';

const big = { writers: 5, umountWriters: 1, faulters: 5, intwriters: 5 };

describe('random walks', () => {
  it('find the sb-freeze umount-held deadlock past exhaustive reach (5/5/5), reproducibly, with a trace that replays', () => {
    const run = () => checkModel({ model: sbFreeze, variant: 'umount-held', params: big, strategy: 'random', seed: 7, timeoutSeconds: 20 });
    const a = run();
    expect(a.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(a.seed).toBe(7);
    expect(a.stats.seconds).toBeLessThan(20);
    const b = run();
    expect(b.trace!.steps).toEqual(a.trace!.steps);
    expect(a.trace!.seed).toBe(7);
    expect(a.trace!.options).toMatchObject({ strategy: 'random', seed: 7 });
    expect(validateTraceObject(a.trace)).toEqual([]);
    const packed = instantiate(sbFreeze, a.params, 'umount-held');
    const r = replayTrace(packed, sbFreeze, a.trace!, selectInvariants(sbFreeze, a.params, 'umount-held', true));
    expect(r.status).toBe('reproduced');
    // Another seed walks elsewhere.
    const c = checkModel({ model: sbFreeze, variant: 'umount-held', params: big, strategy: 'random', seed: 8, timeoutSeconds: 20 });
    expect(c.verdict.kind).toBe('deadlock');
    expect(c.trace!.steps.map((s) => s.event)).not.toEqual(a.trace!.steps.map((s) => s.event));
  });

  it('the trace numbers the violating walk from 0 (options.walk), stats.walks counts the walks taken: walk + 1, and --walks walk + 1 finds it again', () => {
    // One convention: options.walk is the walk's index (0: the first), documented in the README and the trace schema.
    const req = { model: sbFreeze, variant: 'umount-held', params: { writers: 2, umountWriters: 1, faulters: 1, intwriters: 1 }, strategy: 'random' as const, seed: 5 };
    const r = checkModel({ ...req, timeoutSeconds: 20 });
    const walk = r.trace!.options.walk as number;
    expect(walk).toBeGreaterThan(0);
    expect((r.stats as { walks?: number }).walks).toBe(walk + 1);
    const again = checkModel({ ...req, walks: walk + 1 });
    expect(again.trace!.steps).toEqual(r.trace!.steps);
    expect(again.trace!.options.walk).toBe(walk);
    expect(checkModel({ ...req, walks: walk }).verdict).toMatchObject({ status: 'incomplete', bound: { name: 'walks', limit: walk } });
  });

  it('never reports pass on the generic variant: incomplete with walks and distinct states', () => {
    const r = checkModel({ model: sbFreeze, variant: 'generic', params: big, strategy: 'random', seed: 7, walks: 200, coverage: true });
    expect(r.verdict.status).toBe('incomplete');
    expect(r.verdict.bound).toEqual({ name: 'walks', limit: 200 });
    expect('walks' in r.stats && r.stats.walks).toBe(200);
    expect(r.stats.states).toBeGreaterThan(1000);
    expect(r.verdict.message).toMatch(/200 walks .* distinct states/);
    // Coverage of walks is never complete: a transition no walk took may still be reachable.
    expect(r.coverage!.complete).toBe(false);
    expect(r.coverage!.transitions.taken).toBeGreaterThan(0);
    // Even a space the walks cover entirely is not a pass.
    const small = checkModel({ model: philosophers, variant: 'ordered', params: { n: 3 }, strategy: 'random', seed: 1, walks: 500 });
    expect(small.verdict.status).toBe('incomplete');
  });

  it('end at --max-depth and stop at the state budget', () => {
    const r = checkModel({ model: sbFreeze, variant: 'generic', params: big, strategy: 'random', seed: 3, maxDepth: 5, maxStates: 300 });
    expect(r.stats.depth).toBeLessThanOrEqual(5);
    expect(r.verdict.bound).toEqual({ name: 'maxStates', limit: 300 });
  });

  it('need a seed', () => {
    expect(() => checkModel({ model: philosophers, strategy: 'random' })).toThrow(/seed/);
  });
});

describe('random walks check new states on their words', () => {
  it('decode a new state only where a property needs its context, and still find an invariant violation', () => {
    const decodes = vi.spyOn(PackedSystem.prototype, 'decodeContext');
    try {
      const a = checkModel({ model: xfs, variant: 'mainline', params: { cpus: 2, evictors: 2 }, strategy: 'random', seed: 3, walks: 300, check: { invariants: true, assertions: true } });
      expect(a.verdict.status).toBe('incomplete');
      expect(a.stats.states).toBeGreaterThan(500);
      // Each new state was decoded for its checks before; the declared invariants hold on the words.
      expect(decodes.mock.calls.length).toBeLessThan(a.stats.states / 10);
      // Where an invariant is false the words do not show it holds: the state is decoded and checked.
      const b = checkModel({ model: xfs, variant: 'posted', params: { cpus: 1, evictors: 2, debugAssert: false }, strategy: 'random', seed: 3, walks: 2000, check: { deadlock: false, assertions: false, invariants: ['noUmountHolderWaitsForWorker'] } });
      expect(b.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'noUmountHolderWaitsForWorker' });
    } finally {
      decodes.mockRestore();
    }
  });
});
