// Swarm verification (SPIN's swarm, Holzmann et al.): N small searches diversified by strategy, seed,
// successor order and depth bound, run in parallel anywhere (local processes, a Kubernetes Indexed Job,
// a CI matrix), each writing a shard result; merging keeps the shortest counterexample found, the union
// of coverage and the totals. Plain data in and out: the CLI runs the processes and writes the files.
//
// A swarm finds bugs; it never proves their absence. So the merged outcome is a violation or incomplete,
// never pass, even when one job's breadth- or depth-first search happened to explore the whole space: the
// result then names that job (`exhaustive`), and `interleave check` is the command that gives the pass.
import { mergeCoverage, type Coverage } from './coverage.ts';
import { InputError } from './errors.ts';
import type { CheckResult } from './index.ts';
import type { ParamValue } from './model.ts';
import { deriveSeed } from './prng.ts';
import { DEFAULT_WALK_DEPTH } from './strategies/random.ts';
import type { Trace } from './trace.ts';

export const SHARD_FORMAT = 'interleave-swarm-shard';
export const SHARD_VERSION = 2;
/** Walks of the short-walk jobs end here (unless --max-depth is lower). */
export const SHORT_WALK_DEPTH = 100;

/** A verdict as shard files carry it (a check's verdict, or the swarm's merged one). */
export interface SwarmVerdict {
  status: 'pass' | 'violation' | 'incomplete';
  kind?: string;
  name?: string;
  message?: string;
  bound?: { name: string; limit: number };
}

/** What one job of a swarm runs. */
export interface SwarmJob {
  strategy: 'bfs' | 'dfs' | 'random';
  /** Random walks: their seed. */
  seed?: number;
  /** Depth-first jobs: the seed of their successor order. */
  eventOrderSeed?: number;
  /** The depth bound (random walks: their length). */
  maxDepth?: number;
  /** One line for progress and reports. */
  label: string;
}

export interface PlanInput {
  /** The swarm's base seed (every job's seed derives from it and the job's index). */
  seed: number;
  /** The spec checks livelock, starvation or the lock order, which random walks do not: those jobs search depth-first. */
  liveness: boolean;
  /** The spec's or the command line's depth bound. */
  maxDepth?: number;
}

/**
 * Job `index` of `count`: job 0 is the breadth-first search (shortest counterexamples, and a real pass
 * if it finishes); then, in turn, depth-first over a permuted successor order, random walks, and short
 * random walks, each with its own seed derived from the base seed.
 */
export function planJob(index: number, count: number, o: PlanInput): SwarmJob {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`swarm: the number of jobs must be a whole number of at least 1, got ${count}`);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new InputError(`swarm: shard index ${index} is out of range for ${count} shards (indices run from 0 to ${count - 1})`);
  }
  const depth = o.maxDepth;
  const seed = deriveSeed(o.seed, index);
  const dfs = (): SwarmJob => ({
    strategy: 'dfs',
    eventOrderSeed: seed,
    ...(depth !== undefined ? { maxDepth: depth } : {}),
    label: `dfs, successor order ${seed}${depth !== undefined ? `, depth <= ${depth}` : ''}`,
  });
  if (index === 0) return { strategy: 'bfs', ...(depth !== undefined ? { maxDepth: depth } : {}), label: `bfs${depth !== undefined ? `, depth <= ${depth}` : ''}` };
  const kind = index % 3;
  if (kind === 1 || o.liveness) return dfs();
  const walk = kind === 2 ? (depth ?? DEFAULT_WALK_DEPTH) : Math.min(depth ?? SHORT_WALK_DEPTH, SHORT_WALK_DEPTH);
  return { strategy: 'random', seed, maxDepth: walk, label: `random walks, seed ${seed}, walks of <= ${walk} steps` };
}

/** One shard's result file (schemas/swarm-shard.schema.json). */
export interface ShardResult {
  format: typeof SHARD_FORMAT;
  version: number;
  tool: { name: string; version: string };
  spec: string;
  model: string;
  variant: string;
  params: Record<string, ParamValue>;
  /** The swarm's base seed. */
  seed: number;
  shard: { index: number; count: number };
  job: SwarmJob;
  verdict: SwarmVerdict;
  stats: { states: number; transitions: number; depth: number; seconds: number; walks?: number };
  /** The job's coverage (transitions taken, states reached; explorer/coverage.ts). */
  coverage: Coverage | null;
  trace: Trace | null;
  /** True when this job explored the whole state space and found no violation (its verdict says incomplete all the same). */
  exhaustive?: boolean;
  /** True when the spec checks no property at all (CheckResult.nothingChecked): the job counted states, nothing else. */
  nothingChecked?: true;
  /** The spec's expectation, so a merge away from the spec file can still compare. */
  expect?: SwarmExpectation;
}

export interface SwarmExpectation {
  status: 'pass' | 'violation' | 'incomplete';
  kind?: string;
  name?: string;
}

export function shardResult(o: {
  spec: string;
  seed: number;
  index: number;
  count: number;
  job: SwarmJob;
  toolVersion: string;
  result: CheckResult;
  expect?: SwarmExpectation;
}): ShardResult {
  const r = o.result;
  return {
    format: SHARD_FORMAT,
    version: SHARD_VERSION,
    tool: { name: 'interleave', version: o.toolVersion },
    spec: o.spec,
    model: r.model,
    variant: r.variant,
    params: r.params,
    seed: o.seed,
    shard: { index: o.index, count: o.count },
    job: o.job,
    // A job that explored everything is a real pass of its search, but a swarm result never says pass.
    verdict:
      r.verdict.status === 'pass'
        ? { status: 'incomplete', message: `${o.job.label}: explored the whole state space (${r.stats.states} states), no violation; a swarm never reports pass: run interleave check for the verdict` }
        : r.verdict,
    ...(r.verdict.status === 'pass' ? { exhaustive: true } : {}),
    ...(r.nothingChecked ? { nothingChecked: true as const } : {}),
    stats: {
      states: r.stats.states,
      transitions: r.stats.transitions,
      depth: r.stats.depth,
      seconds: Number(r.stats.seconds.toFixed(3)),
      ...('walks' in r.stats ? { walks: r.stats.walks } : {}),
    },
    coverage: r.coverage ?? null,
    trace: r.trace ?? null,
    ...(o.expect ? { expect: { status: o.expect.status, ...(o.expect.kind ? { kind: o.expect.kind } : {}), ...(o.expect.name ? { name: o.expect.name } : {}) } } : {}),
  };
}

/**
 * Whether a swarm's outcome agrees with a spec's expectation: the expected violation (kind, and name if
 * given) was found; or none was expected and none was found (a swarm that found nothing is incomplete,
 * which is all a swarm can say about a spec that expects pass). Returns the disagreement, or undefined.
 */
export function swarmDisagreement(expect: SwarmExpectation, v: SwarmVerdict): string | undefined {
  if (expect.status === 'violation') {
    const a = /^[aeiou]/.test(expect.kind ?? '') ? 'an' : 'a';
    if (v.status !== 'violation') return `expected ${a} ${expect.kind} violation; no job found one`;
    if (expect.kind && v.kind !== expect.kind) return `expected ${a} ${expect.kind} violation, the swarm found ${v.kind} (${v.name})`;
    if (expect.name && v.name !== expect.name) return `expected ${expect.kind} ${expect.name}, the swarm found ${v.kind} ${v.name}`;
    return undefined;
  }
  if (v.status === 'violation') return `expected ${expect.status}, the swarm found ${v.kind} (${v.name})`;
  return undefined;
}

/** Whether a job's verdict is the violation the spec expects (kind, and name if given). */
export function foundExpected(expect: SwarmExpectation, v: SwarmVerdict): boolean {
  return expect.status === 'violation' && v.status === 'violation' && swarmDisagreement(expect, v) === undefined;
}

/**
 * Whether a job's result ends the swarm (--jobs stops the others): a violation, unless the spec expects another one
 * (then the others, the breadth-first job among them, go on looking for the expected one, within their budgets).
 */
export function endsTheSwarm(r: Pick<ShardResult, 'verdict' | 'expect'>): boolean {
  if (r.verdict.status !== 'violation') return false;
  return r.expect?.status !== 'violation' || foundExpected(r.expect, r.verdict);
}

export interface MergedSwarm {
  spec: string;
  model: string;
  variant: string;
  params: Record<string, ParamValue>;
  seed: number;
  count: number;
  /** Shards that reported (by index), and the indices of those that did not. */
  shards: Array<{ index: number; job: SwarmJob; verdict: SwarmVerdict; stats: ShardResult['stats']; exhaustive?: boolean }>;
  missing: number[];
  verdict: SwarmVerdict;
  /** Totals over the jobs: states and transitions are sums of each job's own (jobs overlap); depth the deepest; seconds the longest job. */
  stats: { states: number; transitions: number; depth: number; seconds: number; walks: number };
  coverage: Coverage | null;
  /** The shard whose job explored the whole space without a violation, if any. */
  exhaustive?: number;
  /** True when the shards checked no property at all (ShardResult.nothingChecked): the swarm counted states, nothing else. */
  nothingChecked?: true;
  /** The shortest counterexample found, and the shard that found it. */
  trace: Trace | null;
  from?: number;
  expect?: SwarmExpectation;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Merges shard results of one swarm. `names[i]` names the file of `results[i]` in errors. Refuses
 * results of different specs, models, variants, params, shard counts or seeds, and a shard given twice.
 */
export function mergeShards(results: ShardResult[], names: string[] = results.map((_, i) => `result ${i + 1}`)): MergedSwarm {
  if (results.length === 0) throw new InputError('swarm --merge: no shard results given; pass the shard JSON files (e.g. swarm-results/*.json)');
  const first = results[0];
  const seen = new Map<number, string>();
  results.forEach((r, i) => {
    for (const key of ['spec', 'model', 'variant', 'params', 'seed'] as const) {
      if (!same(r[key], first[key])) {
        throw new InputError(
          `${names[i]}: $.${key} is ${JSON.stringify(r[key])} but ${names[0]} has ${JSON.stringify(first[key])}; merge only the shards of one swarm run`,
        );
      }
    }
    if (r.shard.count !== first.shard.count) {
      throw new InputError(`${names[i]}: $.shard.count is ${r.shard.count} but ${names[0]} has ${first.shard.count}; merge only the shards of one swarm run`);
    }
    if (r.shard.index >= r.shard.count) {
      throw new InputError(`${names[i]}: $.shard.index ${r.shard.index} is out of range for ${r.shard.count} shards`);
    }
    const dup = seen.get(r.shard.index);
    if (dup !== undefined) throw new InputError(`${names[i]}: shard ${r.shard.index} is also in ${dup}; give each shard's result once`);
    seen.set(r.shard.index, names[i]);
  });
  const count = first.shard.count;
  const sorted = [...results].sort((a, b) => a.shard.index - b.shard.index);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));

  // The shortest counterexample of the violation the spec expects, if a job found it; else the shortest. (Each job stops
  // at its first violation: a depth-first job may meet another property's violation before the expected one.)
  const violating = sorted.filter((r) => r.verdict.status === 'violation' && r.trace);
  const expected = first.expect ? violating.filter((r) => foundExpected(first.expect!, r.verdict)) : [];
  let best: ShardResult | undefined;
  for (const r of expected.length ? expected : violating) if (!best || r.trace!.steps.length < best.trace!.steps.length) best = r;
  const stats = {
    states: sorted.reduce((a, r) => a + r.stats.states, 0),
    transitions: sorted.reduce((a, r) => a + r.stats.transitions, 0),
    depth: Math.max(...sorted.map((r) => r.stats.depth)),
    seconds: Math.max(...sorted.map((r) => r.stats.seconds)),
    walks: sorted.reduce((a, r) => a + (r.stats.walks ?? 0), 0),
  };
  let verdict: SwarmVerdict;
  let exhaustiveShard: number | undefined;
  if (best) {
    const v = best.verdict;
    verdict = {
      status: 'violation',
      kind: v.kind,
      name: v.name,
      message:
        `${v.message} (shard ${best.shard.index}: ${best.job.label}; the shortest of ${expected.length || violating.length} found` +
        `${expected.length && expected.length < violating.length ? ` that the spec expects, of ${violating.length} violations found` : ''})`,
    };
  } else {
    // Shards written before `exhaustive` existed said pass in their verdict.
    const exhaustive = sorted.find((r) => r.exhaustive || r.verdict.status === 'pass');
    verdict = {
      status: 'incomplete',
      message:
        `no violation in ${sorted.length} of ${count} jobs (${stats.states} states summed over jobs, ${stats.walks} random walks)` +
        `${missing.length ? `; shards ${missing.join(', ')} did not report` : ''}; ` +
        (exhaustive
          ? `shard ${exhaustive.shard.index} (${exhaustive.job.label}) explored the whole state space, but a swarm never reports pass: interleave check ${first.spec} gives the verdict`
          : `no job was exhaustive; a swarm proves nothing: interleave check ${first.spec} (exhaustive) gives the verdict`),
    };
    if (exhaustive) exhaustiveShard = exhaustive.shard.index;
  }
  const coverage = mergeCoverage(sorted.map((r) => r.coverage).filter((c): c is Coverage => c !== null)) ?? null;
  return {
    spec: first.spec,
    model: first.model,
    variant: first.variant,
    params: first.params,
    seed: first.seed,
    count,
    shards: sorted.map((r) => ({ index: r.shard.index, job: r.job, verdict: r.verdict, stats: r.stats, ...(r.exhaustive ? { exhaustive: true } : {}) })),
    missing,
    verdict,
    stats,
    coverage,
    trace: best?.trace ?? null,
    ...(best ? { from: best.shard.index } : {}),
    ...(exhaustiveShard !== undefined ? { exhaustive: exhaustiveShard } : {}),
    ...(sorted.some((r) => r.nothingChecked) ? { nothingChecked: true as const } : {}),
    ...(first.expect ? { expect: first.expect } : {}),
  };
}
