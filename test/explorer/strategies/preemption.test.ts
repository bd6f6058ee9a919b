// Preemption-bounded search: schedules with the fewest preemptive context switches first; a search cut
// by the bound is incomplete naming it; with a bound that cuts nothing it is a real pass.
import { describe, expect, it, vi } from 'vitest';
import abba from '../../../machines/abba/index.ts';
import philosophers from '../../../machines/philosophers/index.ts';
import sbFreeze from '../../../machines/sb-freeze/index.ts';
import xfs from '../../../machines/xfs-inodegc/index.ts';
import { PackedSystem } from '../../../explorer/packed.ts';
import { checkModel, instantiate, selectInvariants } from '../../../explorer/index.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import type { ModelDefinition } from '../../../explorer/model.ts';
import type { CheckResult } from '../../../explorer/index.ts';

function replays(model: ModelDefinition, r: CheckResult): boolean {
  const packed = instantiate(model, r.params, r.variant);
  return replayTrace(packed, model, r.trace!, selectInvariants(model, r.params, r.variant, true)).status === 'reproduced';
}

/** Counted independently along a trace: a step by another thread while the last one could still run. */
function preemptionsAlong(model: ModelDefinition, r: CheckResult): number {
  const { system } = instantiate(model, r.params, r.variant);
  let leaves = system.initialLeaves;
  let ctx = system.initialContext;
  let last = -1;
  let count = 0;
  for (const step of r.trace!.steps) {
    const e = system.events.indexOf(step.event);
    const threads = system.eventThreads[e];
    const lastCanRun = system.candidateEvents(leaves).some((x) => system.eventThreads[x].includes(last) && system.step(leaves, ctx, x) !== null);
    if (last >= 0 && lastCanRun && !threads.includes(last)) count++;
    const next = system.step(leaves, ctx, e)!;
    leaves = next.leaves;
    ctx = next.context;
    last = threads[0];
  }
  return count;
}

describe('--preemptions', () => {
  it('ABBA needs one preemption: none with K=0 (incomplete, naming the bound), the deadlock with K=1', () => {
    const zero = checkModel({ model: abba, preemptions: 0 });
    expect(zero.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'preemptions', limit: 0 } });
    expect(zero.verdict.message).toMatch(/at most 0 preemptive context switches/);
    const one = checkModel({ model: abba, preemptions: 1 });
    expect(one.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(one.verdict.message).toMatch(/\(1 preemptive context switch\)/);
    expect(one.trace!.options).toMatchObject({ preemptions: 1, preemptionsUsed: 1 });
    expect(preemptionsAlong(abba, one)).toBe(1);
    expect(replays(abba, one)).toBe(true);
  });

  it('finds the sb-freeze umount-held deadlock with one preemption, and its trace replays', () => {
    const r = checkModel({ model: sbFreeze, variant: 'umount-held', preemptions: 3 });
    expect(r.verdict.kind).toBe('deadlock');
    expect(r.trace!.options).toMatchObject({ preemptionsUsed: 1 });
    expect(preemptionsAlong(sbFreeze, r)).toBe(1);
    expect(replays(sbFreeze, r)).toBe(true);
  });

  it('is a pass when the bound cut nothing, and refuses what it does not support', () => {
    const r = checkModel({ model: philosophers, variant: 'ordered', params: { n: 4 }, preemptions: 50 });
    expect(r.verdict.status).toBe('pass');
    expect(() => checkModel({ model: abba, preemptions: -1 })).toThrow(/--preemptions -1/);
    expect(() => checkModel({ model: abba, preemptions: 1, strategy: 'dfs' })).toThrow(/drop --strategy dfs/);
  });
});

describe('--preemptions checks new states on their words', () => {
  it('decodes a new state only where a property needs its context', () => {
    const run = (debugAssert: boolean) => checkModel({ model: xfs, variant: 'mainline', params: { cpus: 2, evictors: 2, debugAssert }, preemptions: 1, check: { invariants: true, assertions: true } });
    const decodes = vi.spyOn(PackedSystem.prototype, 'decodeContext');
    let r: CheckResult;
    let decoded: number;
    try {
      r = run(false);
      decoded = decodes.mock.calls.length;
    } finally {
      decodes.mockRestore();
    }
    expect(r.verdict.status).not.toBe('violation');
    expect(r.stats.states).toBeGreaterThan(500);
    // Each new state was decoded for its checks before; the declared invariants hold on the words.
    expect(decoded).toBeLessThan(r.stats.states / 10);
    // Where an assertion fails the words do not show it holds: the state is decoded and checked (xfs/517).
    expect(run(true).verdict).toMatchObject({ status: 'violation', kind: 'assertion', name: 'frozen < SB_FREEZE_FS' });
  });
});

describe('--preemptions with --max-depth', () => {
  it('a depth bound that cuts nothing (the deepest depth): a pass as without it, as the plain search says; one level less: incomplete', async () => {
    // Before, under preemption bounding any successor of a state at the bound cut the search, stored or not: the
    // whole space explored within K preemptions was reported incomplete (maxDepth).
    const { resolve } = await import('node:path');
    const model = (await import(resolve(import.meta.dirname, '../../fixtures/models/random-small.ts'))).default;
    const summary = (r: CheckResult) => ({ status: r.verdict.status, bound: r.verdict.bound?.name, states: r.stats.states, transitions: r.stats.transitions, depth: r.stats.depth });
    for (const seed of [1, 4, 12, 27]) {
      const req = { model, params: { seed }, stopAtFirst: false, preemptions: 50 };
      const free = checkModel(req);
      expect(free.verdict.status).toBe('pass');
      expect({ seed, ...summary(checkModel({ ...req, maxDepth: free.stats.depth })) }).toEqual({ seed, ...summary(free) });
      if (free.stats.depth > 0) expect({ seed, ...summary(checkModel({ ...req, maxDepth: free.stats.depth - 1 })) }).toMatchObject({ seed, status: 'incomplete', bound: 'maxDepth' });
    }
    // A preemption bound that cut something stays incomplete under a depth bound that cut nothing.
    const abbaFree = checkModel({ model: abba, preemptions: 0, stopAtFirst: false });
    expect(abbaFree.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'preemptions' } });
    expect(checkModel({ model: abba, preemptions: 0, stopAtFirst: false, maxDepth: abbaFree.stats.depth }).verdict).toMatchObject({ status: 'incomplete', bound: { name: 'preemptions' } });
  });
});
