// `interleave swarm`: N diversified searches of one spec (explorer/swarm.ts plans and merges them).
//   swarm SPEC --jobs N          runs the N shards as child processes here and merges their results
//   swarm SPEC --shard I/N       runs one shard (I from JOB_COMPLETION_INDEX when set) and writes its result JSON
//   swarm --merge FILES...       merges shard results written anywhere (a Kubernetes Indexed Job, a CI matrix)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { InputError, placed } from '../explorer/errors.ts';
import { checkExpectedName, checkModel, resolveParams, resolveVariant, TOOL_VERSION } from '../explorer/index.ts';
import type { Progress } from '../explorer/outcome.ts';
import { endsTheSwarm, mergeShards, planJob, shardResult, swarmDisagreement, type MergedSwarm, type ShardResult } from '../explorer/swarm.ts';
import { specName } from './check.ts';
import { writeFileAtomic } from './files.ts';
import { loadModel, modelPathFrom, REPO_ROOT } from './models.ts';
import { nothingCheckedText, progressText } from './report.ts';
import { loadShard, loadSpec } from './spec.ts';
import { writableDir } from './targets.ts';

/** The swarm's options, as the command line gave them (strings are parsed here). */
export interface SwarmArgs {
  positional: string[];
  jobs?: string;
  shard?: string;
  merge: boolean;
  seed?: number;
  timeoutSeconds?: number;
  maxStates?: number;
  maxDepth?: number;
  /** Directory for shard results, the merged result and the counterexample (default swarm-results). */
  out?: string;
  json: boolean;
  quiet: boolean;
  /** Let every job run to its budget instead of stopping the others at the first violation. */
  waitAll: boolean;
}

export interface SwarmIo {
  out(s: string): void;
  err(s: string): void;
}

/** Without a budget of its own or the spec's, each job runs this long. */
export const DEFAULT_JOB_SECONDS = 60;
const DEFAULT_OUT = 'swarm-results';

/** "I/N" -> [I, N]; with JOB_COMPLETION_INDEX set (a Kubernetes Indexed Job) the index comes from it, and "N" alone is enough. */
export function parseShard(raw: string, env: NodeJS.ProcessEnv = process.env): { index: number; count: number } {
  const fromEnv = env.JOB_COMPLETION_INDEX;
  const m = /^(?:(\d+)\/)?(\d+)$/.exec(raw.trim());
  if (!m) throw new InputError(`--shard ${raw}: expected I/N (shard I of N, I from 0 to N-1), e.g. --shard 0/4`);
  const count = Number(m[2]);
  if (count < 1) throw new InputError(`--shard ${raw}: the number of shards must be at least 1`);
  let index = m[1] === undefined ? undefined : Number(m[1]);
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw new InputError(`JOB_COMPLETION_INDEX=${fromEnv}: expected a whole number (set by a Kubernetes Indexed Job)`);
    const e = Number(fromEnv);
    if (index !== undefined && index !== e) {
      throw new InputError(`--shard ${raw} disagrees with JOB_COMPLETION_INDEX=${fromEnv}; give --shard ${count} (the count only) or unset JOB_COMPLETION_INDEX`);
    }
    index = e;
  }
  if (index === undefined) throw new InputError(`--shard ${raw}: no shard index; give --shard I/${count}, or set JOB_COMPLETION_INDEX`);
  if (index >= count) throw new InputError(`--shard ${raw}: index ${index} is out of range for ${count} shards (0 to ${count - 1})`);
  return { index, count };
}

function shardFile(outDir: string, spec: string, index: number, count: number): string {
  return join(outDir, `${specName(spec)}.shard-${index}-of-${count}.json`);
}

function relPath(f: string): string {
  return relative(process.cwd(), f) || f;
}

export async function cmdSwarm(a: SwarmArgs, io: SwarmIo): Promise<number> {
  const outDir = resolve(a.out ?? DEFAULT_OUT);
  // Checked before anything runs: a search is not lost to an output that cannot be written.
  writableDir(outDir, `option --out ${a.out ?? DEFAULT_OUT}`);
  if (a.merge) {
    if (a.jobs !== undefined || a.shard !== undefined) throw new InputError('swarm --merge takes shard result files, not --jobs or --shard');
    const searchOnly = a.seed !== undefined ? '--seed' : a.timeoutSeconds !== undefined ? '--timeout' : a.maxStates !== undefined ? '--max-states' : a.maxDepth !== undefined ? '--max-depth' : a.waitAll ? '--wait-all' : undefined;
    if (searchOnly) throw new InputError(`swarm --merge: option ${searchOnly} is for the searches (--jobs, --shard), not the merge; drop it`);
    if (a.positional.length === 0) throw new InputError('usage: interleave swarm --merge SHARD.json ... (the files written by swarm SPEC --shard I/N)');
    const results = a.positional.map((f) => loadShard(f));
    return report(mergeShards(results, a.positional), outDir, a, io);
  }
  if (a.positional.length !== 1) throw new InputError('usage: interleave swarm SPEC.json --jobs N | --shard I/N  (or swarm --merge FILES...)');
  if ((a.jobs === undefined) === (a.shard === undefined)) {
    throw new InputError('swarm: give --jobs N (run N jobs here) or --shard I/N (run one shard), not both and not neither');
  }
  const specFile = a.positional[0];
  if (a.shard !== undefined) {
    const { index, count } = parseShard(a.shard);
    const r = await runShard(specFile, index, count, a, a.quiet ? undefined : (p, label) => io.err(`shard ${index}/${count} ${label}: ${p}`));
    const file = shardFile(outDir, specFile, index, count);
    writeFileAtomic(file, JSON.stringify(r, null, 2) + '\n');
    if (r.nothingChecked) io.err(nothingCheckedText(r.spec));
    const v = r.verdict;
    const what = v.status === 'violation' ? `${v.kind}${v.name && v.name !== v.kind ? ` ${v.name}` : ''} after ${r.trace?.steps.length} steps` : v.status;
    if (!a.json) io.out(`shard ${index}/${count} (${r.job.label}): ${what}, ${r.stats.states} states, ${r.stats.seconds.toFixed(2)}s; wrote ${relPath(file)}`);
    else io.out(JSON.stringify({ shard: r.shard, job: r.job, verdict: r.verdict, stats: r.stats, result: relPath(file) }, null, 2));
    return 0;
  }
  const jobs = Number(a.jobs);
  if (!/^\d+$/.test(String(a.jobs)) || jobs < 1 || jobs > 256) throw new InputError(`--jobs ${a.jobs}: expected a whole number of jobs from 1 to 256`);
  loadSpec(specFile); // a bad spec is reported once, here, not by every job
  return report(await runJobs(specFile, jobs, outDir, a, io), outDir, a, io);
}

/** Runs shard `index` of `count` in this process and returns its result. */
export async function runShard(
  specFile: string,
  index: number,
  count: number,
  a: Pick<SwarmArgs, 'seed' | 'timeoutSeconds' | 'maxStates' | 'maxDepth'>,
  onProgress?: (line: string, label: string) => void,
): Promise<ShardResult> {
  const spec = loadSpec(specFile);
  const rel = relPath(resolve(specFile));
  const { def, path: modelPath } = await loadModel(spec.model, dirname(resolve(specFile)), `${rel}: $.model`);
  // The spec's values are checked against the model here, blamed on the spec and their JSON path (as check does).
  const params = resolveParams(def, spec.params ?? {}, `${rel}: $.params`);
  const variant = resolveVariant(def, spec.variant, `${rel}: $.variant`);
  const seed = a.seed ?? spec.seed ?? 0;
  // Random walks check neither liveness nor the lock order (recorded by the exhaustive searches only): depth-first jobs instead.
  const liveness = !!spec.check?.livelock || spec.check?.starvation !== undefined || !!spec.check?.lockOrder;
  const job = planJob(index, count, { seed, liveness, maxDepth: a.maxDepth ?? spec.bounds?.maxDepth });
  let result;
  try {
    checkExpectedName(def, params, variant, spec.check, spec.expect);
    result = checkModel({
      model: def,
      params,
      variant,
      check: spec.check,
      strategy: job.strategy,
      seed: job.seed,
      eventOrderSeed: job.eventOrderSeed,
      maxDepth: job.maxDepth,
      maxStates: a.maxStates ?? spec.bounds?.maxStates,
      timeoutSeconds: a.timeoutSeconds ?? spec.bounds?.timeoutSeconds ?? DEFAULT_JOB_SECONDS,
      stopAtFirst: true,
      // Every job records what it covered; the merge unites them (explorer/coverage.ts).
      coverage: true,
      modelPath,
      spec: rel,
      onProgress: onProgress ? (p: Progress) => onProgress(progressText(p, job.strategy), job.label) : undefined,
    });
  } catch (e) {
    // A bad check field is the spec's, a guard or action that throws the model's: both named with the spec.
    throw placed(e instanceof InputError ? e : placed(e, `model ${spec.model}`), rel);
  }
  return shardResult({ spec: rel, seed, index, count, job, toolVersion: TOOL_VERSION, result, expect: spec.expect });
}

/** Runs the N shards as child processes of this one; at the first violation the others are stopped (unless waitAll). */
async function runJobs(specFile: string, count: number, outDir: string, a: SwarmArgs, io: SwarmIo): Promise<MergedSwarm> {
  const bin = join(REPO_ROOT, 'bin', 'interleave.js');
  const files = Array.from({ length: count }, (_, i) => shardFile(outDir, specFile, i, count));
  for (const f of files) rmSync(f, { force: true }); // a stale result of an earlier swarm must not be merged
  const env = { ...process.env };
  delete env.JOB_COMPLETION_INDEX;
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopOthers = () => {
    if (stopping || a.waitAll) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  const exits = Array.from({ length: count }, (_, i) => {
    const args = [bin, 'swarm', specFile, '--shard', `${i}/${count}`, '--out', outDir];
    if (a.seed !== undefined) args.push('--seed', String(a.seed));
    if (a.timeoutSeconds !== undefined) args.push('--timeout', String(a.timeoutSeconds));
    if (a.maxStates !== undefined) args.push('--max-states', String(a.maxStates));
    if (a.maxDepth !== undefined) args.push('--max-depth', String(a.maxDepth));
    if (a.quiet || a.json) args.push('--quiet');
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let errText = '';
    let outText = '';
    child.stdout!.on('data', (d) => (outText += String(d)));
    child.stderr!.on('data', (d) => {
      const s = String(d);
      errText += s;
      // Progress per job: each child's lines, already prefixed with its shard and job.
      if (!a.quiet && !a.json) for (const line of s.split('\n')) if (line.startsWith('shard ')) io.err(line);
    });
    return new Promise<void>((done) => {
      child.on('close', (code, signal) => {
        if (code === 0 && existsSync(files[i])) {
          if (!a.quiet && !a.json) io.err(outText.trim());
          try {
            if (endsTheSwarm(loadShard(files[i]))) stopOthers();
          } catch {
            // reported by the merge below
          }
        } else if (!(stopping && signal === 'SIGTERM')) {
          io.err(`swarm: job ${i} failed (${signal ?? `exit ${code}`}): ${errText.trim().split('\n').slice(-3).join(' | ')}`);
          if (code === 2) stopOthers();
        }
        done();
      });
    });
  });
  await Promise.all(exits);
  const present = files.filter((f) => existsSync(f));
  if (present.length === 0) throw new InputError(`swarm ${specFile}: no job wrote a result (see the errors above)`);
  return mergeShards(present.map((f) => loadShard(f)), present.map(relPath));
}

/**
 * A counterexample of a model loaded by path, as check writes one: with modelPath, the model's path relative to
 * `file`, so replay finds it from any directory (the trace's spec is relative to where the swarm ran). Unchanged
 * when the model is bundled, or when the spec is not here (shards merged on another machine).
 */
async function withModelPath(trace: NonNullable<MergedSwarm['trace']>, file: string): Promise<NonNullable<MergedSwarm['trace']>> {
  if (!trace.spec || trace.modelPath) return trace;
  try {
    const spec = loadSpec(trace.spec);
    const { path, bundled } = await loadModel(spec.model, dirname(resolve(trace.spec)), `${trace.spec}: $.model`);
    return bundled ? trace : { ...trace, modelPath: modelPathFrom(file, path) };
  } catch {
    return trace;
  }
}

/** Prints a merged swarm, writes it and its counterexample under outDir, and picks the exit code. */
async function report(m: MergedSwarm, outDir: string, a: SwarmArgs, io: SwarmIo): Promise<number> {
  const base = specName(m.spec);
  let counterexample: string | undefined;
  if (m.trace) {
    counterexample = join(outDir, `${base}.counterexample.json`);
    writeFileAtomic(counterexample, JSON.stringify(await withModelPath(m.trace, counterexample), null, 2) + '\n');
  }
  const mergedFile = join(outDir, `${base}.swarm.json`);
  const { trace: _trace, ...summary } = m;
  const doc = { ...summary, counterexample: counterexample ? relPath(counterexample) : null };
  writeFileAtomic(mergedFile, JSON.stringify(doc, null, 2) + '\n');
  const disagreement = m.expect ? swarmDisagreement(m.expect, m.verdict) : undefined;
  // As check says it (every output mode): the swarm counted states and could find nothing.
  if (m.nothingChecked) io.err(nothingCheckedText(m.spec));
  if (a.json) {
    io.out(JSON.stringify({ ...doc, matched: m.expect ? disagreement === undefined : null, ...(disagreement ? { mismatch: disagreement } : {}) }, null, 2));
  } else {
    io.out(`swarm ${m.spec}: ${m.count} jobs, seed ${m.seed} (${m.model} variant ${m.variant})`);
    for (const s of m.shards) {
      const v = s.verdict;
      const what = v.status === 'violation' ? `${v.kind}${v.name && v.name !== v.kind ? `:${v.name}` : ''}` : v.status === 'incomplete' ? `incomplete (${s.exhaustive ? 'explored all' : v.bound?.name})` : v.status;
      io.out(`  job ${String(s.index).padStart(2)}  ${s.job.label.padEnd(48)}  ${what.padEnd(22)}  ${String(s.stats.states).padStart(9)} states  ${s.stats.seconds.toFixed(2)}s`);
    }
    for (const i of m.missing) io.out(`  job ${String(i).padStart(2)}  (no result: stopped after another job's violation, or failed)`);
    const v = m.verdict;
    io.out('');
    io.out(`verdict: ${v.status === 'violation' ? `${v.kind?.toUpperCase()}${v.name && v.name !== v.kind ? ` ${v.name}` : ''} after ${m.trace!.steps.length} steps` : v.status.toUpperCase()}: ${v.message}`);
    io.out(`totals: ${m.stats.states} states and ${m.stats.transitions} transitions summed over jobs, deepest ${m.stats.depth}, ${m.stats.walks} random walks, longest job ${m.stats.seconds.toFixed(2)}s`);
    if (m.coverage) {
      const c = m.coverage;
      io.out(`coverage (all jobs): ${c.transitions.taken} of ${c.transitions.total} transitions taken, ${c.states.reached} of ${c.states.total} states reached${c.complete ? '' : ' (in these partial runs)'}`);
    }
    if (m.expect) io.out(`expected ${m.expect.status}${m.expect.kind ? ` (${m.expect.kind}${m.expect.name ? ` ${m.expect.name}` : ''})` : ''}: ${disagreement ? `DISAGREES: ${disagreement}` : 'agrees'}`);
    io.out(`merged result: ${relPath(mergedFile)}`);
    if (counterexample) {
      const c = relPath(counterexample);
      io.out(`counterexample (seed ${m.trace!.seed ?? m.seed}): npx interleave show ${c}  |  npx interleave replay ${c}`);
    }
  }
  return m.expect && disagreement ? 1 : 0;
}
