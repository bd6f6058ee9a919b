// Swarm planning and merging: jobs diversified by strategy, seed, successor order and depth; the merge
// keeps the shortest counterexample, sums the counts, unites the coverage, and refuses results of
// different swarms.
import { describe, expect, it } from 'vitest';
import philosophers from '../../machines/philosophers/index.ts';
import { checkModel } from '../../explorer/index.ts';
import { mergeShards, planJob, shardResult, swarmDisagreement, type ShardResult } from '../../explorer/swarm.ts';
import { InputError } from '../../explorer/errors.ts';

const plan = (n: number, liveness = false) => Array.from({ length: n }, (_, i) => planJob(i, n, { seed: 7, liveness }));

function shard(index: number, count: number, variant = 'naive'): ShardResult {
  const job = planJob(index, count, { seed: 7, liveness: false });
  const strategy = job.strategy;
  const result = checkModel({
    model: philosophers,
    params: { n: 4 },
    variant,
    strategy,
    seed: job.seed,
    eventOrderSeed: job.eventOrderSeed,
    walks: strategy === 'random' ? 50 : undefined,
    coverage: true,
  });
  return shardResult({ spec: 'specs/p.json', seed: 7, index, count, job, toolVersion: 'test', result, expect: { status: 'violation', kind: 'deadlock' } });
}

describe('swarm plan', () => {
  it('diversifies: bfs first, then dfs over permuted successor orders and random walks of two lengths, each with its own seed', () => {
    const jobs = plan(6);
    expect(jobs.map((j) => j.strategy)).toEqual(['bfs', 'dfs', 'random', 'random', 'dfs', 'random']);
    const seeds = jobs.flatMap((j) => [j.seed, j.eventOrderSeed]).filter((s) => s !== undefined);
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(jobs[2].maxDepth).toBe(1000);
    expect(jobs[3].maxDepth).toBe(100);
    expect(planJob(2, 6, { seed: 7, liveness: false })).toEqual(jobs[2]);
    expect(planJob(2, 6, { seed: 8, liveness: false }).seed).not.toBe(jobs[2].seed);
  });

  it('uses no random walks when the spec checks liveness (walks do not check it)', () => {
    expect(plan(4, true).map((j) => j.strategy)).toEqual(['bfs', 'dfs', 'dfs', 'dfs']);
  });

  it('refuses an index out of range', () => {
    expect(() => planJob(4, 4, { seed: 1, liveness: false })).toThrow(InputError);
  });

  it('a permuted successor order explores the same space (same states and transitions) as the fixed one', () => {
    const a = checkModel({ model: philosophers, params: { n: 5 }, strategy: 'dfs', stopAtFirst: false });
    const b = checkModel({ model: philosophers, params: { n: 5 }, strategy: 'dfs', stopAtFirst: false, eventOrderSeed: 99 });
    expect([b.stats.states, b.stats.transitions]).toEqual([a.stats.states, a.stats.transitions]);
    expect(b.trace!.options).toMatchObject({ eventOrderSeed: 99 });
  });
});

describe('swarm merge', () => {
  const results = [shard(0, 3), shard(1, 3), shard(2, 3)];

  it('keeps the shortest counterexample, sums the counts, unites the coverage', () => {
    const m = mergeShards(results);
    expect(m.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const lengths = results.map((r) => r.trace!.steps.length);
    expect(m.trace!.steps).toHaveLength(Math.min(...lengths));
    expect(m.from).toBe(0);
    expect(m.stats.states).toBe(results.reduce((a, r) => a + r.stats.states, 0));
    expect(m.stats.walks).toBe(results[2].stats.walks);
    // Never taken in the union only if no job took it; taken at least as often as by any one job.
    const c = m.coverage!;
    for (const r of results) expect(c.transitions.taken).toBeGreaterThanOrEqual(r.coverage!.transitions.taken);
    for (const [t, th] of c.threads.entries()) {
      for (const tr of th.neverTaken) for (const r of results) expect(r.coverage!.threads[t].neverTaken).toContainEqual(tr);
    }
    expect(c.complete).toBe(false);
    expect(m.missing).toEqual([]);
    expect(swarmDisagreement(m.expect!, m.verdict)).toBeUndefined();
  });

  it('says which shards did not report', () => {
    expect(mergeShards([results[2]]).missing).toEqual([0, 1]);
  });

  it('is never pass: incomplete without a violation, naming the job that was exhaustive if one was', () => {
    const fine = shard(2, 3, 'ordered');
    const m = mergeShards([fine]);
    expect(m.verdict.status).toBe('incomplete');
    expect(m.verdict.message).toMatch(/no job was exhaustive; a swarm proves nothing: interleave check specs\/p\.json/);
    expect(m.exhaustive).toBeUndefined();
    const bfs = shard(0, 3, 'ordered');
    expect(bfs.verdict.status).toBe('incomplete');
    expect(bfs.exhaustive).toBe(true);
    const both = mergeShards([fine, bfs]);
    expect(both.verdict.status).toBe('incomplete');
    expect(both.exhaustive).toBe(0);
    expect(both.verdict.message).toMatch(/shard 0 \(bfs\) explored the whole state space, but a swarm never reports pass: interleave check specs\/p\.json gives the verdict/);
    expect(both.coverage!.complete).toBe(true);
    expect(swarmDisagreement({ status: 'violation', kind: 'deadlock' }, m.verdict)).toMatch(/no job found one/);
    expect(swarmDisagreement({ status: 'pass' }, m.verdict)).toBeUndefined();
  });

  it('refuses results of another swarm and a shard given twice, naming the file', () => {
    const other = { ...results[1], variant: 'ordered' };
    expect(() => mergeShards([results[0], other], ['a.json', 'b.json'])).toThrow(/b\.json: \$\.variant is "ordered" but a\.json has "naive"/);
    expect(() => mergeShards([results[0], results[0]], ['a.json', 'c.json'])).toThrow(/c\.json: shard 0 is also in a\.json/);
    expect(() => mergeShards([results[0], { ...results[1], shard: { index: 1, count: 4 } }], ['a.json', 'd.json'])).toThrow(/shard\.count/);
    expect(() => mergeShards([])).toThrow(InputError);
  });
});
