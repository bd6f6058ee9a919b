// `npm run bench`: philosophers in interleave, SPIN and rumur, kernel specs in interleave and the XState baseline -> BENCHMARKS.md.
// Options: --quick (N = 10, 12 only, short caps), --ns 10,12,14,16, --out FILE (default BENCHMARKS.md), --json FILE (raw results),
// --old DIR (a checkout of the previous commit, installed: the kernel models' largest specs run there and here alternately),
// --rounds N (alternations against --old, default 3), --sections philosophers,baseline,kernel,wall (which parts run;
// --old needs kernel).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { distState } from '../bin/tree.mjs';
import {
  BENCH_DIR,
  buildPan,
  detectRumur,
  detectSpin,
  emptyRun,
  REPO_DIR,
  runMeasured,
  runPan,
  runRumur,
  runSpin,
  RUMUR_CFLAGS,
  SPIN_CFLAGS,
  type ToolRun,
} from './tools.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    ns: { type: 'string' },
    out: { type: 'string', default: 'BENCHMARKS.md' },
    json: { type: 'string' },
    old: { type: 'string' },
    rounds: { type: 'string' },
    sections: { type: 'string', default: 'philosophers,baseline,kernel,wall' },
  },
});
/** Which parts run (--sections; a partial run belongs in its own --out file): the rest are left empty. */
const SECTIONS = new Set(opts.sections!.split(','));

/** Reachable states of the naive philosophers that every tool must reproduce (issue 3; N=14 cross-checked by SPIN and rumur). */
const KNOWN_STATES: Record<number, number> = { 4: 34, 6: 198, 8: 1154, 10: 6726, 16: 1331714 };
const NS = opts.ns ? opts.ns.split(',').map(Number) : opts.quick ? [10, 12] : [10, 12, 14, 16];
const BASELINE_NS = opts.quick ? [8] : [8, 10, 12];
const BASELINE_CAP_SECONDS = opts.quick ? 10 : 15;
/**
 * Whole-process wall time and search rate against SPIN's pan: these N, this many alternating pairs (the
 * search-rate ratio of issue 20 is read from the same pairs: one run, alternating; the wall-time target is at N=14).
 */
const WALL_NS = opts.quick ? [10] : [14, 16];
const WALL_PAIRS = opts.quick ? 3 : 5;
/** Alternations of old and new (--old). */
const OLD_ROUNDS = Number(opts.rounds ?? (opts.quick ? 1 : 3));
/** Hard cap on any one child process. */
const RUN_TIMEOUT_SECONDS = 300;
/** interleave's own search cap on philosophers (spec bounds.timeoutSeconds): a cut run still gives a rate. */
const INTERLEAVE_CAP_SECONDS = opts.quick ? 30 : 90;
/** Kernel specs: each spec's search cap when ranking a model's specs by size, and for the largest one's own run. */
const RANK_CAP_SECONDS = opts.quick ? 2 : 3;
const KERNEL_CAP_SECONDS = opts.quick ? 10 : 30;
/** Past this, remaining kernel-spec runs are skipped (with a note) to keep the bench near 10 minutes. */
const BUDGET_SECONDS = 540;
const THREADS = availableParallelism();
const benchStart = performance.now();
const LOAD_AT_START = loadavg();
const elapsed = () => (performance.now() - benchStart) / 1000;
const scratch = mkdtempSync(join(tmpdir(), 'interleave-bench-'));
const CLI = join(REPO_DIR, 'bin', 'interleave.js');
const RUN_TS = join(REPO_DIR, 'bin', 'run-ts.js');

const log = (msg: string) => process.stderr.write(`[bench ${elapsed().toFixed(0).padStart(4)}s] ${msg}\n`);

// ---------------------------------------------------------------- runners

interface SpecLike {
  description: string;
  model: string;
  variant?: string;
  params?: Record<string, number | boolean | string>;
  check?: Record<string, unknown>;
  bounds?: Record<string, number>;
  expect: Record<string, unknown>;
}

function interleaveAvailable(): string {
  return existsSync(join(REPO_DIR, 'cli', 'main.ts')) ? '' : 'interleave CLI not available yet (cli/main.ts is missing)';
}

/**
 * Runs `interleave check SPEC --json --quiet` in a scratch cwd (counterexamples land there, not in the repo);
 * with `workers` > 1, the parallel search (`--workers`), reported as its own tool; with `tree`, the CLI of
 * another checkout (--old).
 */
async function runInterleave(spec: SpecLike, name: string, workers = 1, tree?: { dir: string; tool: string }): Promise<ToolRun> {
  const tool = tree ? tree.tool : workers > 1 ? `interleave (${workers} workers)` : 'interleave';
  const missing = tree ? '' : interleaveAvailable();
  if (missing) return emptyRun(tool, missing);
  const dir = mkdtempSync(join(scratch, `${name}-`));
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec, null, 2));
  const cli = tree ? join(tree.dir, 'bin', 'interleave.js') : CLI;
  const args = [cli, 'check', file, '--json', '--quiet', '--no-save', ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const r = await runMeasured(process.execPath, args, {
    cwd: dir,
    timeoutSeconds: RUN_TIMEOUT_SECONDS,
  });
  if (r.timedOut) return { ...emptyRun(tool, `timed out after ${RUN_TIMEOUT_SECONDS}s`), wallSeconds: r.wallSeconds };
  let out: any;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    return emptyRun(tool, `no JSON on stdout (exit ${r.code}): ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  }
  const res = out?.results?.[0];
  const stats = res?.stats;
  if (!stats) {
    const err = res?.error?.message ?? JSON.stringify(res ?? out).slice(0, 200);
    return emptyRun(tool, `no stats in the JSON output: ${err}`);
  }
  const verdict = res?.verdict ?? {};
  const status: string = verdict.status ?? '?';
  return {
    tool,
    states: stats.states,
    transitions: stats.transitions,
    depth: stats.depth ?? null,
    seconds: stats.seconds,
    wallSeconds: r.wallSeconds,
    peakRssBytes: r.peakRssBytes,
    bytesPerState: stats.bytesPerState ?? null,
    bytesNote: "interleave's own figure: fingerprint set + parent links",
    complete: !verdict.bound && status !== 'incomplete',
    note:
      (status === 'violation' ? `violation (${verdict.kind ?? '?'})` : status) +
      (verdict.bound ? `, cut by ${verdict.bound.name} = ${verdict.bound.limit} (partial: rate only)` : ''),
  };
}

/** The XState-interpreter baseline (bench/baseline.ts) in a child process, capped at `cap` seconds. */
async function runBaseline(model: string, variant: string | undefined, params: object, cap: number): Promise<ToolRun> {
  const args = [RUN_TS, join('bench', 'baseline.ts'), '--model', model, '--params', JSON.stringify(params), '--seconds', String(cap)];
  if (variant) args.push('--variant', variant);
  const r = await runMeasured(process.execPath, args, { cwd: REPO_DIR, timeoutSeconds: cap + 120 });
  if (r.timedOut) return { ...emptyRun('XState baseline', `timed out after ${cap + 120}s`), wallSeconds: r.wallSeconds };
  let res: any;
  try {
    res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return emptyRun('XState baseline', `failed (exit ${r.code}): ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return {
    tool: 'XState baseline',
    states: res.states,
    transitions: res.transitions,
    depth: res.depth,
    seconds: res.seconds,
    wallSeconds: r.wallSeconds,
    peakRssBytes: r.peakRssBytes,
    bytesPerState: r.peakRssBytes !== null ? r.peakRssBytes / res.states : null,
    bytesNote: 'peak RSS / states (JSON keys in a Set, snapshots in the queue)',
    complete: res.complete,
    note: res.complete ? 'complete' : `cut at ${cap}s (partial: rate only)`,
  };
}

function philosophersSpec(n: number): SpecLike {
  return {
    description: `bench: naive dining philosophers, N=${n}; the search goes on past the deadlock so all states are counted`,
    model: 'philosophers',
    variant: 'naive',
    params: { n },
    // Invariants off: SPIN and rumur check no invariant either (deadlock and assertions only).
    check: { deadlock: true, assertions: true, invariants: false, stopAtFirst: false },
    bounds: { maxStates: 10_000_000, timeoutSeconds: INTERLEAVE_CAP_SECONDS },
    expect: { status: 'violation', kind: 'deadlock' },
  };
}

// ---------------------------------------------------------------- formatting

const rate = (r: ToolRun | undefined) => (r && r.states !== null && r.seconds ? r.states / r.seconds : null);
const int = (x: number | null | undefined) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const sec = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const mb = (x: number | null | undefined) => (x === null || x === undefined ? '–' : (x / 1048576).toFixed(1));
const bytes = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x < 100 ? x.toFixed(1) : x.toFixed(0));
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '–' : `${(a / b).toFixed(2)}x`);
const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function versionLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return 'not installed';
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0];
}

function machineInfo(): string[] {
  let model = cpus()[0]?.model ?? '?';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    /* not Linux */
  }
  const pkg = JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8'));
  const xstate = JSON.parse(readFileSync(join(REPO_DIR, 'node_modules', 'xstate', 'package.json'), 'utf8')).version;
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR, encoding: 'utf8' }).stdout?.trim() || '?';
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_DIR, encoding: 'utf8' }).stdout?.trim();
  return [
    `- Machine: ${availableParallelism()} CPUs (nproc), ${model}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${release()}`,
    `- interleave ${pkg.version} at ${rev}${dirty ? ' (with uncommitted changes)' : ''}; Node ${process.version}; XState ${xstate}`,
    `- SPIN: ${versionLine('spin', ['-V'])}; pan built with \`cc ${SPIN_CFLAGS.join(' ')}\`, run \`./pan -c0 -m<depth>\``,
    `- rumur: ${versionLine('rumur', ['--version'])}; verifier built with \`cc ${RUMUR_CFLAGS.join(' ')} -lpthread\``,
    `- cc: ${versionLine('cc', ['--version'])}`,
    `- Load average (1, 5, 15 min) when the run started: ${LOAD_AT_START.map((x) => x.toFixed(2)).join(', ')} ` +
      '(other work on the machine slows every tool; compare rows of one run, not across runs)',
    `- interleave ran from ${distState(REPO_DIR) === 'fresh' ? 'its build in dist/ (matching the sources)' : `its TypeScript sources through tsx (dist/ is ${distState(REPO_DIR)}: \`npm run build\`)`}`,
    `- Peak RSS: ${existsSync('/usr/bin/time') ? 'GNU time -v (ru_maxrss of the child)' : 'polled /proc/<pid>/status VmHWM (GNU time missing)'}`,
  ];
}

// ---------------------------------------------------------------- the runs

interface PhilosophersRow {
  n: number;
  runs: ToolRun[];
}

interface KernelRow {
  spec: string;
  model: string;
  /** The spec as run (capped), for the runs against --old. */
  ran: { spec: SpecLike; name: string };
  interleave: ToolRun;
  baseline: ToolRun;
  others: string[];
}

const interleaveRuns = new Map<number, ToolRun>();

/** interleave on philosophers N, run once per N and reused by both tables. */
async function interleavePhilosophers(n: number): Promise<ToolRun> {
  let r = interleaveRuns.get(n);
  if (!r) {
    r = await runInterleave(philosophersSpec(n), `philosophers-naive-${n}`);
    interleaveRuns.set(n, r);
  }
  return r;
}

async function philosophers(): Promise<PhilosophersRow[]> {
  const rows: PhilosophersRow[] = [];
  for (const n of NS) {
    const runs: ToolRun[] = [];
    const add = (r: ToolRun) => {
      runs.push(r);
      log(`philosophers N=${n} ${r.tool}: ${int(r.states)} states in ${sec(r.seconds)}s${r.note ? ` (${r.note})` : ''}`);
    };
    add(await interleavePhilosophers(n));
    // The parallel search on every CPU, next to rumur's run on every CPU (N >= 14: below, start-up dominates).
    if (THREADS > 1 && n >= 14) add(await runInterleave(philosophersSpec(n), `philosophers-naive-${n}-par`, THREADS));
    const rumur1 = await runRumur(n, { threads: 1, timeoutSeconds: RUN_TIMEOUT_SECONDS });
    // SPIN's -m is sized from a count another tool measured (see runSpin); rumur's, else interleave's.
    const known = [rumur1, runs[0]].find((r) => r.complete && r.states !== null)?.states ?? KNOWN_STATES[n] ?? null;
    add(await runSpin(n, { timeoutSeconds: RUN_TIMEOUT_SECONDS, states: known }));
    add(rumur1);
    if (THREADS > 1) add(await runRumur(n, { threads: THREADS, timeoutSeconds: RUN_TIMEOUT_SECONDS }));
    rows.push({ n, runs });
  }
  return rows;
}

async function philosophersBaseline(): Promise<PhilosophersRow[]> {
  const rows: PhilosophersRow[] = [];
  for (const n of BASELINE_NS) {
    const runs = [await interleavePhilosophers(n), await runBaseline('philosophers', 'naive', { n }, BASELINE_CAP_SECONDS)];
    for (const r of runs) log(`philosophers N=${n} ${r.tool}: ${int(r.states)} states in ${sec(r.seconds)}s (${r.note})`);
    rows.push({ n, runs });
  }
  return rows;
}

function bundledSpecs(): Array<{ file: string; spec: SpecLike }> {
  const dir = join(REPO_DIR, 'specs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: join('specs', f), spec: JSON.parse(readFileSync(join(dir, f), 'utf8')) as SpecLike }))
    .filter(({ spec }) => spec.model !== 'philosophers');
}

const paramWeight = (s: SpecLike) => Object.values(s.params ?? {}).reduce<number>((a, v) => a + (typeof v === 'number' ? v : 0), 0);

const capBounds = (spec: SpecLike, seconds: number): Record<string, number> => ({
  ...(spec.bounds ?? {}),
  timeoutSeconds: Math.min(spec.bounds?.timeoutSeconds ?? Infinity, seconds),
});

/**
 * Kernel models. Ranking: all kernel specs run in one interleave process, each cut at RANK_CAP_SECONDS,
 * with the search continued past violations (stopAtFirst: false) so the whole space is counted; per model
 * the spec with the most states is its "largest" (a cut spec counts what it reached). That one runs again
 * on its own (cut at KERNEL_CAP_SECONDS; its time and peak RSS are its own) and in the XState baseline.
 */
async function kernelSpecs(): Promise<{ rows: KernelRow[]; skipped: string[] }> {
  const skipped: string[] = [];
  const specs = bundledSpecs().map(({ file, spec }) => ({
    name: file.replace(/^specs\//, '').replace(/\.json$/, ''),
    file,
    spec: { ...spec, check: { ...(spec.check ?? {}), stopAtFirst: false } } as SpecLike,
  }));
  if (specs.length === 0) return { rows: [], skipped };
  const states = new Map<string, number>();
  const cut = new Set<string>();
  if (!interleaveAvailable()) {
    const dir = mkdtempSync(join(scratch, 'rank-'));
    for (const { name, spec } of specs) {
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ ...spec, bounds: capBounds(spec, RANK_CAP_SECONDS) }, null, 2));
    }
    const timeout = (RANK_CAP_SECONDS + 5) * specs.length + 30;
    const r = await runMeasured(process.execPath, [CLI, 'check', dir, '--json', '--quiet', '--no-save'], { cwd: dir, timeoutSeconds: timeout });
    try {
      for (const res of JSON.parse(r.stdout).results ?? []) {
        const name = String(res.spec ?? '').replace(/^.*\//, '').replace(/\.json$/, '');
        if (typeof res.stats?.states === 'number') states.set(name, res.stats.states);
        else skipped.push(`specs/${name}.json in interleave: ${res.verdict?.message ?? res.error?.message ?? 'no stats'}`);
        if (res.verdict?.bound) cut.add(name);
      }
    } catch {
      skipped.push(`ranking the kernel specs (${r.timedOut ? `timed out after ${timeout}s` : `exit ${r.code}, no JSON`}); ranked by parameters`);
    }
    log(`ranked ${specs.length} kernel specs by size in ${sec(r.wallSeconds)}s`);
  }
  const byModel = new Map<string, typeof specs>();
  for (const x of specs) byModel.set(x.spec.model, [...(byModel.get(x.spec.model) ?? []), x]);
  const rows: KernelRow[] = [];
  for (const [model, list] of [...byModel.entries()].sort()) {
    const ranked = [...list].sort(
      (a, b) => (states.get(b.name) ?? -1) - (states.get(a.name) ?? -1) || paramWeight(b.spec) - paramWeight(a.spec) || a.name.localeCompare(b.name),
    );
    const largest = ranked[0];
    const over = elapsed() > BUDGET_SECONDS;
    const ran = { spec: { ...largest.spec, bounds: capBounds(largest.spec, KERNEL_CAP_SECONDS) }, name: largest.name };
    const interleave = over ? emptyRun('interleave', `skipped: time budget of ${BUDGET_SECONDS}s spent`) : await runInterleave(ran.spec, ran.name);
    const baseline =
      elapsed() > BUDGET_SECONDS
        ? emptyRun('XState baseline', `skipped: time budget of ${BUDGET_SECONDS}s spent`)
        : await runBaseline(model, largest.spec.variant, largest.spec.params ?? {}, BASELINE_CAP_SECONDS);
    for (const r of [interleave, baseline]) log(`${largest.file} ${r.tool}: ${int(r.states)} states in ${sec(r.seconds)}s (${r.note})`);
    rows.push({
      spec: largest.file,
      model,
      ran,
      interleave,
      baseline,
      others: ranked.slice(1).map(({ name }) => `${name} ${states.has(name) ? int(states.get(name)) : '?'}${cut.has(name) ? '+' : ''}`),
    });
  }
  return { rows, skipped };
}

interface WallRow {
  n: number;
  interleave: ToolRun[];
  spin: ToolRun[];
  note: string;
}

/** Runs pair `i` of an alternation: a then b, or b then a on odd pairs, so neither always goes first. */
async function pairInTurn(i: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<void> {
  for (const f of i % 2 === 0 ? [a, b] : [b, a]) await f();
}

/**
 * Whole processes, start-up included: `interleave check` (node, loading the tool and the model, the search,
 * the report) against SPIN's pan (built once beforehand, as interleave is built at install), alternating
 * pair after pair so that load on the machine slows both alike.
 */
async function wholeProcess(): Promise<WallRow[]> {
  const rows: WallRow[] = [];
  if (!detectSpin().available || interleaveAvailable()) return rows;
  for (const n of WALL_NS) {
    const row: WallRow = { n, interleave: [], spin: [], note: '' };
    let dir: string | null = null;
    try {
      dir = await buildPan(n);
      // pan's -m is sized from a known count (runSpin): else from the first pair's interleave run, which goes first.
      const known = interleaveRuns.get(n)?.states ?? KNOWN_STATES[n] ?? null;
      for (let i = 0; i < WALL_PAIRS; i++) {
        await pairInTurn(
          i,
          async () => row.interleave.push(await runInterleave(philosophersSpec(n), `philosophers-wall-${n}-${i}`)),
          async () => row.spin.push(await runPan(dir!, { timeoutSeconds: RUN_TIMEOUT_SECONDS, states: known ?? row.interleave[0]?.states ?? null })),
        );
        log(`whole process N=${n} pair ${i + 1}: interleave ${sec(row.interleave[i].wallSeconds)}s, SPIN ${sec(row.spin[i].wallSeconds)}s`);
      }
    } catch (e) {
      row.note = (e as Error).message;
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
    rows.push(row);
  }
  return rows;
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : null);
const pairRatios = (a: ToolRun[], b: ToolRun[], f: (r: ToolRun) => number | null) =>
  a.map((x, i) => (f(x) !== null && b[i] && f(b[i]) ? f(x)! / f(b[i])! : null)).filter((x): x is number => x !== null);

/**
 * interleave's search states/s over SPIN's in a row's pairs (median of the pairs' ratios): equal state counts
 * (the counts column checks them), so SPIN's search seconds over interleave's.
 */
const searchRatio = (r: WallRow) => median(pairRatios(r.spin, r.interleave, (x) => x.seconds));
const times = (m: number | null) => (m === null ? '–' : `${m.toFixed(2)}x`);

function wallTable(rows: WallRow[]): string[] {
  const out = [
    '| N | pairs | interleave wall s (each run) | SPIN pan wall s (each run) | interleave median s | SPIN median s | interleave / SPIN (median of pair ratios) | ' +
      'interleave search s (each run) | SPIN search s (each run) | search states/s interleave / SPIN (median of pair ratios) | note |',
    '|---:|---:|---|---|---:|---:|---:|---|---|---:|---|',
  ];
  for (const r of rows) {
    const w = (x: ToolRun) => x.wallSeconds;
    const ratios = pairRatios(r.interleave, r.spin, w);
    out.push(
      `| ${r.n} | ${ratios.length} | ${r.interleave.map((x) => sec(w(x))).join(', ')} | ${r.spin.map((x) => sec(w(x))).join(', ')} | ` +
        `${sec(median(r.interleave.map(w).filter((x): x is number => x !== null)))} | ${sec(median(r.spin.map(w).filter((x): x is number => x !== null)))} | ` +
        `${ratios.length ? `${median(ratios)!.toFixed(2)}x` : '–'} | ` +
        `${r.interleave.map((x) => sec(x.seconds)).join(', ')} | ${r.spin.map((x) => sec(x.seconds)).join(', ')} | ${times(searchRatio(r))} | ` +
        `${mdCell(r.note || [...new Set(r.interleave.map((x) => x.note))].join('; '))} |`,
    );
  }
  return out;
}

interface OldRow {
  spec: string;
  old: ToolRun[];
  now: ToolRun[];
}

/** The warm comparison: per round, one process per tree running the spec WARM_RUNS times; the last WARM_KEPT measured. */
interface WarmRow {
  spec: string;
  /** Per round: states, and the median search seconds of the kept runs (null: the process failed, with a note). */
  old: Array<{ states: number | null; seconds: number | null; note: string }>;
  now: Array<{ states: number | null; seconds: number | null; note: string }>;
}

/** In-process runs per warm process, and how many of the last ones are measured (the first warm V8 up). */
const WARM_RUNS = 6;
const WARM_KEPT = 3;
/** Specs with fewer states are left out of the warm comparison (milliseconds of search). */
const WARM_MIN_STATES = 10_000;
/** Nor specs whose cold search took longer than this in either tree: warm-up is a small part of those already. */
const WARM_MAX_SECONDS = 5;

/** One warm process: the spec run WARM_RUNS times in one process of the tree at `dir` (from its sources). */
async function runWarm(spec: SpecLike, name: string, dir: string): Promise<WarmRow['old'][number]> {
  const work = mkdtempSync(join(scratch, `${name}-warm-`));
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec, null, 2));
  const r = await runMeasured(process.execPath, [join(dir, 'bin', 'run-ts.js'), join(BENCH_DIR, 'warm-harness.ts'), dir, file, String(WARM_RUNS)], {
    cwd: work,
    timeoutSeconds: RUN_TIMEOUT_SECONDS * WARM_RUNS,
  });
  const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  if (r.timedOut || lines.length < WARM_RUNS) {
    return { states: null, seconds: null, note: r.timedOut ? 'timed out' : `exit ${r.code}: ${(r.stdout + r.stderr).trim().split('\n').slice(-2).join(' | ')}` };
  }
  const runs = lines.map((l) => JSON.parse(l) as { states: number; seconds: number });
  return { states: runs[runs.length - 1].states, seconds: median(runs.slice(-WARM_KEPT).map((x) => x.seconds)), note: '' };
}

/**
 * The kernel models' largest specs (of at least WARM_MIN_STATES states, searched in under WARM_MAX_SECONDS cold), warm, in
 * the --old checkout and in this one, alternately.
 */
async function warmAgainstOld(kernel: KernelRow[], old: OldRow[]): Promise<WarmRow[]> {
  const dir = resolve(opts.old!);
  const rows: WarmRow[] = [];
  for (const k of kernel) {
    const cold = old.find((o) => o.spec === k.spec);
    const slowest = Math.max(...[...cold?.old ?? [], ...cold?.now ?? []].map((x) => x.seconds ?? Infinity));
    if (!cold || (cold.now[0]?.states ?? 0) < WARM_MIN_STATES || !(slowest <= WARM_MAX_SECONDS)) continue;
    const row: WarmRow = { spec: k.spec, old: [], now: [] };
    for (let i = 0; i < OLD_ROUNDS; i++) {
      await pairInTurn(
        i,
        async () => row.old.push(await runWarm(k.ran.spec, `${k.ran.name}-old-${i}`, dir)),
        async () => row.now.push(await runWarm(k.ran.spec, `${k.ran.name}-new-${i}`, REPO_DIR)),
      );
      const r = (x: WarmRow['old'][number]) => (x.states !== null && x.seconds ? int(x.states / x.seconds) : '–');
      log(`${k.spec} warm round ${i + 1}: previous ${r(row.old[i])} states/s, this ${r(row.now[i])} states/s`);
    }
    rows.push(row);
  }
  return rows;
}

function warmTable(rows: WarmRow[]): string[] {
  const out = [
    '| spec (largest of its model) | states (previous / this) | previous states/s (each round) | this states/s (each round) | states/s this / previous (median of pair ratios) | note |',
    '|---|---|---|---|---:|---|',
  ];
  const rateOf = (x: WarmRow['old'][number]) => (x.states !== null && x.seconds ? x.states / x.seconds : null);
  for (const r of rows) {
    const ratios = r.now.map((x, i) => {
      const a = rateOf(x);
      const b = r.old[i] ? rateOf(r.old[i]) : null;
      return a !== null && b !== null ? a / b : null;
    }).filter((x): x is number => x !== null);
    const notes = [...new Set([...r.old, ...r.now].map((x) => x.note).filter((x) => x))].join('; ');
    out.push(
      `| ${r.spec} | ${int(r.old[0]?.states ?? null)} / ${int(r.now[0]?.states ?? null)} | ${r.old.map((x) => int(rateOf(x))).join(', ')} | ` +
        `${r.now.map((x) => int(rateOf(x))).join(', ')} | ${ratios.length ? `${median(ratios)!.toFixed(2)}x` : '–'} | ${mdCell(notes)} |`,
    );
  }
  return out;
}

/** The scale tier (specs/scale/: the largest runs, minutes each) against --old: cut at this many seconds, a rate. */
const SCALE_CAP_SECONDS = opts.quick ? 10 : 40;

/** specs/scale/*.json as kernel rows to run against --old (capped: a cut run gives a rate). */
function scaleTier(): KernelRow[] {
  const dir = join(REPO_DIR, 'specs', 'scale');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const spec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as SpecLike;
      const capped = { ...spec, check: { ...(spec.check ?? {}), stopAtFirst: false }, bounds: capBounds(spec, SCALE_CAP_SECONDS) };
      const name = `scale-${f.replace(/\.json$/, '')}`;
      return { spec: `specs/scale/${f} (cut at ${SCALE_CAP_SECONDS}s)`, model: spec.model, ran: { spec: capped, name }, interleave: emptyRun('interleave', ''), baseline: emptyRun('XState baseline', ''), others: [] };
    });
}

/** The kernel models' largest specs (as run above), then the scale tier, in the --old checkout and in this one, alternately. */
async function againstOld(kernel: KernelRow[]): Promise<OldRow[]> {
  const dir = resolve(opts.old!);
  const rows: OldRow[] = [];
  for (const k of [...kernel, ...scaleTier()]) {
    const row: OldRow = { spec: k.spec, old: [], now: [] };
    for (let i = 0; i < OLD_ROUNDS; i++) {
      await pairInTurn(
        i,
        async () => row.old.push(await runInterleave(k.ran.spec, `${k.ran.name}-old-${i}`, 1, { dir, tool: 'previous commit' })),
        async () => row.now.push(await runInterleave(k.ran.spec, `${k.ran.name}-new-${i}`)),
      );
      log(`${k.spec} round ${i + 1}: previous ${int(rate(row.old[i]))} states/s, this ${int(rate(row.now[i]))} states/s`);
    }
    rows.push(row);
  }
  return rows;
}

function oldTable(rows: OldRow[]): string[] {
  const out = [
    '| spec (largest of its model) | states (previous / this) | previous states/s (each run) | this states/s (each run) | states/s this / previous (median of pair ratios) | ' +
      'wall s this / previous | peak RSS MB previous / this | note |',
    '|---|---|---|---|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const speed = pairRatios(r.now, r.old, rate);
    const wall = pairRatios(r.now, r.old, (x) => x.wallSeconds);
    const rss = (xs: ToolRun[]) => mb(median(xs.map((x) => x.peakRssBytes).filter((x): x is number => x !== null)));
    out.push(
      `| ${r.spec} | ${int(r.old[0]?.states)} / ${int(r.now[0]?.states)} | ${r.old.map((x) => int(rate(x))).join(', ')} | ${r.now.map((x) => int(rate(x))).join(', ')} | ` +
        `${speed.length ? `${median(speed)!.toFixed(2)}x` : '–'} | ${wall.length ? `${median(wall)!.toFixed(2)}x` : '–'} | ${rss(r.old)} / ${rss(r.now)} | ` +
        `${mdCell([...new Set([...r.old, ...r.now].map((x) => x.note))].join('; '))} |`,
    );
  }
  return out;
}

// ---------------------------------------------------------------- the report

function countCheck(n: number, runs: ToolRun[]): string {
  const counts = [...new Set(runs.filter((r) => r.states !== null && r.complete).map((r) => r.states))];
  const known = KNOWN_STATES[n];
  if (counts.length > 1) return `**MISMATCH: ${counts.join(' vs ')}**`;
  if (counts.length === 1 && known !== undefined && counts[0] !== known) return `**MISMATCH with the known ${known}**`;
  return counts.length === 1 ? 'agree' : '–';
}

function philosophersTable(rows: PhilosophersRow[]): string[] {
  const out = [
    '| N | tool | states | transitions | search s | wall s | states/s | peak RSS MB | bytes/state | vs SPIN | vs rumur 1t | vs rumur ' +
      `${THREADS}t | counts | note |`,
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const { n, runs } of rows) {
    const spin = rate(runs.find((r) => r.tool === 'SPIN'));
    const rumur1 = rate(runs.find((r) => r.tool === 'rumur (1 thread)'));
    const rumurN = rate(runs.find((r) => r.tool === `rumur (${THREADS} threads)`));
    const check = countCheck(n, runs);
    for (const r of runs) {
      const rr = rate(r);
      out.push(
        `| ${n} | ${r.tool} | ${int(r.states)} | ${int(r.transitions)} | ${sec(r.seconds)} | ${sec(r.wallSeconds)} | ${int(rr)} | ` +
          `${mb(r.peakRssBytes)} | ${bytes(r.bytesPerState)} | ${ratio(rr, spin)} | ${ratio(rr, rumur1)} | ${ratio(rr, rumurN)} | ${check} | ${mdCell(r.note)} |`,
      );
    }
  }
  return out;
}

function baselineTable(rows: PhilosophersRow[]): string[] {
  const out = [
    '| N | tool | states | transitions | search s | wall s | states/s | peak RSS MB | interleave / baseline | counts | note |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const { n, runs } of rows) {
    const il = rate(runs.find((r) => r.tool === 'interleave'));
    const bl = rate(runs.find((r) => r.tool === 'XState baseline'));
    for (const r of runs) {
      out.push(
        `| ${n} | ${r.tool} | ${int(r.states)} | ${int(r.transitions)} | ${sec(r.seconds)} | ${sec(r.wallSeconds)} | ${int(rate(r))} | ` +
          `${mb(r.peakRssBytes)} | ${r.tool === 'interleave' ? ratio(il, bl) : ''} | ${countCheck(n, runs)} | ${mdCell(r.note)} |`,
      );
    }
  }
  return out;
}

function kernelTable(rows: KernelRow[]): string[] {
  const out = [
    '| spec (largest of its model) | tool | states | transitions | search s | states/s | peak RSS MB | bytes/state | interleave / baseline | counts | note |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const row of rows) {
    const il = rate(row.interleave);
    const bl = rate(row.baseline);
    const both = [row.interleave, row.baseline].filter((r) => r.states !== null && r.complete);
    const check = both.length === 2 ? (both[0].states === both[1].states ? 'agree' : `**MISMATCH: ${both[0].states} vs ${both[1].states}**`) : '–';
    for (const r of [row.interleave, row.baseline]) {
      out.push(
        `| ${row.spec} | ${r.tool} | ${int(r.states)} | ${int(r.transitions)} | ${sec(r.seconds)} | ${int(rate(r))} | ${mb(r.peakRssBytes)} | ` +
          `${bytes(r.bytesPerState)} | ${r.tool === 'interleave' ? ratio(il, bl) : ''} | ${check} | ${mdCell(r.note)} |`,
      );
    }
  }
  return out;
}

/** Extra RSS per extra state between the two largest N: the slope that "memory linear in states" is about. */
function marginalBytes(rows: PhilosophersRow[], tool: string): number | null {
  const pts = rows
    .map(({ runs }) => runs.find((r) => r.tool === tool))
    .filter((r): r is ToolRun => !!r && r.states !== null && r.peakRssBytes !== null)
    .sort((a, b) => a.states! - b.states!);
  if (pts.length < 2) return null;
  const [a, b] = pts.slice(-2);
  return (b.peakRssBytes! - a.peakRssBytes!) / (b.states! - a.states!);
}

function targets(phil: PhilosophersRow[], base: PhilosophersRow[], kernel: KernelRow[], wall: WallRow[]): string[] {
  const out: string[] = [];
  const mark = (ok: boolean | null) => (ok === null ? 'not measured' : ok ? 'met' : '**not met**');
  for (const w of wall) {
    const s = searchRatio(w);
    out.push(`- N=${w.n}, interleave search states/s vs SPIN's, alternating pairs, median of pair ratios >= 1.0x (issue 20): ${times(s)} (${mark(s === null ? null : s >= 1.0)})`);
    if (w.n !== 14) continue;
    const m = median(pairRatios(w.interleave, w.spin, (x) => x.wallSeconds));
    out.push(`- N=${w.n}, whole-process wall time vs SPIN's pan <= 1.3x (issue 20): ${times(m)} (${mark(m === null ? null : m <= 1.3)})`);
  }
  for (const { n, runs } of phil.filter((r) => r.n >= 14)) {
    for (const ours of ['interleave', `interleave (${THREADS} workers)`]) {
      const mine = runs.find((r) => r.tool === ours);
      if (!mine) continue;
      const il = rate(mine);
      for (const tool of ['SPIN', 'rumur (1 thread)', `rumur (${THREADS} threads)`]) {
        const other = rate(runs.find((r) => r.tool === tool));
        out.push(`- N=${n}, ${ours} states/s vs ${tool} >= 1.0x: ${ratio(il, other)} (${mark(il === null || other === null ? null : il >= other)})`);
      }
      const bps = mine.bytesPerState;
      out.push(`- N=${n}, ${ours} bytes per stored state <= 16: ${bytes(bps)} (${mark(bps === null ? null : bps <= 16)})`);
    }
  }
  const ratios: string[] = [];
  for (const { n, runs } of base) ratios.push(`philosophers N=${n}: ${ratio(rate(runs.find((r) => r.tool === 'interleave')), rate(runs.find((r) => r.tool === 'XState baseline')))}`);
  for (const k of kernel) {
    // Below ~1000 states the search takes milliseconds and start-up effects swamp the rate.
    if ((k.interleave.states ?? 0) >= 1000) ratios.push(`${k.spec}: ${ratio(rate(k.interleave), rate(k.baseline))}`);
  }
  out.push(`- states/s vs the XState baseline >= 300x: ${ratios.join('; ') || 'not measured'}`);
  const slopes = ['interleave', 'SPIN', 'rumur (1 thread)']
    .map((t) => `${t} ${bytes(marginalBytes(phil, t))}`)
    .join(', ');
  out.push(`- Peak memory linear in states: extra peak RSS per extra state between the two largest N: ${slopes} bytes`);
  return out;
}

async function main() {
  const spin = detectSpin();
  const rumur = detectRumur();
  for (const t of [spin, rumur]) if (!t.available) log(`${t.name} rows skipped: ${t.note}`);
  const il = interleaveAvailable();
  if (il) log(`interleave rows skipped: ${il}`);

  const phil = SECTIONS.has('philosophers') ? await philosophers() : [];
  const base = SECTIONS.has('baseline') ? await philosophersBaseline() : [];
  const kernel = SECTIONS.has('kernel') ? await kernelSpecs() : { rows: [], skipped: [] };
  const wall = SECTIONS.has('wall') ? await wholeProcess() : [];
  const old = opts.old ? await againstOld(kernel.rows) : [];
  const warm = opts.old ? await warmAgainstOld(kernel.rows, old) : [];
  const total = elapsed();

  const notes: string[] = [];
  if (!spin.available) notes.push(`- SPIN rows are empty: ${spin.note}.`);
  if (!rumur.available) notes.push(`- rumur rows are empty: ${rumur.note}.`);
  if (il) notes.push(`- interleave rows are empty: ${il}.`);
  for (const s of kernel.skipped) notes.push(`- Not run: ${s}.`);
  if (kernel.rows.length === 0) notes.push('- No kernel-model specs in specs/ yet.');

  const lines = [
    `Generated by \`npm run bench\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} in ${total.toFixed(0)}s${opts.quick ? ' (--quick)' : ''}.`,
    '',
    ...machineInfo(),
    '',
    ...(notes.length ? ['Notes on this run:', '', ...notes, ''] : []),
    '### Targets (issue 3)',
    '',
    ...targets(phil, base, kernel.rows, wall),
    '',
    '### Dining philosophers: interleave vs SPIN vs rumur',
    '',
    ...philosophersTable(phil),
    '',
    '### Whole process and search rate: interleave vs SPIN (alternating pairs)',
    '',
    ...(wall.length ? wallTable(wall) : ['(SPIN or interleave not available)']),
    '',
    '### Dining philosophers: interleave vs the XState-interpreter baseline',
    '',
    ...baselineTable(base),
    '',
    '### Kernel models: interleave vs the XState-interpreter baseline',
    '',
    ...(kernel.rows.length ? kernelTable(kernel.rows) : ['(no kernel specs)']),
    '',
    ...(kernel.rows.some((r) => r.others.length)
      ? [
          `Other specs of the same models (interleave states; + = cut at ${RANK_CAP_SECONDS}s when ranking): ` +
            kernel.rows.flatMap((r) => r.others).join('; ') +
            '.',
          '',
        ]
      : []),
    ...(old.length
      ? [
          `### Kernel models' largest specs: this commit vs the previous one (${opts.old}, alternating, ${OLD_ROUNDS} round${OLD_ROUNDS === 1 ? '' : 's'})`,
          '',
          ...oldTable(old),
          '',
        ]
      : []),
    ...(warm.length
      ? [
          `### Kernel models' largest specs, warm: this commit vs the previous one (each spec run ${WARM_RUNS} times in one process per tree, ` +
            `from its sources with V8's defaults; the median search seconds of the last ${WARM_KEPT}; alternating, ${OLD_ROUNDS} round${OLD_ROUNDS === 1 ? '' : 's'})`,
          '',
          ...warmTable(warm),
          '',
        ]
      : []),
  ];

  const outFile = resolve(REPO_DIR, opts.out!);
  writeFileSync(outFile, mergeIntoReport(existsSync(outFile) ? readFileSync(outFile, 'utf8') : null, lines.join('\n')));
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ philosophers: phil, baseline: base, kernel, wall, old, warm }, null, 2) + '\n');
  log(`wrote ${relative(process.cwd(), outFile) || outFile} in ${total.toFixed(0)}s`);
}

const BEGIN = '<!-- bench:begin: generated by `npm run bench`; edit outside these markers -->';
const END = '<!-- bench:end -->';

/** Replaces the generated block of the report, keeping hand-written text (method, profile, next steps) around it. */
function mergeIntoReport(existing: string | null, generated: string): string {
  const block = `${BEGIN}\n${METHOD}\n\n## Latest run\n\n${generated}\n${END}`;
  if (existing && existing.includes(BEGIN) && existing.includes(END)) {
    return existing.slice(0, existing.indexOf(BEGIN)) + block + existing.slice(existing.indexOf(END) + END.length);
  }
  return `# Benchmarks\n\n${block}\n`;
}

const METHOD = `How to rerun: \`bash bench/setup.sh\` once (installs spin, rumur, gcc, GNU time), then \`npm run bench\`
(about 5 to 10 minutes; \`npm run bench -- --quick\` for a 1-minute smoke run). Without spin or rumur their rows
are left empty with the install hint; nothing is installed at run time.

Method:
- Dining philosophers, the naive variant, with one encoding in all tools: \`forks[k]\` holds the owner's index
  or -1, and each philosopher has a 3-valued state (thinking, hasOne, eating); sources:
  machines/philosophers/index.ts, bench/promela/philosophers.pml (each step a \`d_step\`, so no intermediate
  states), bench/murphi/philosophers.m. Every tool checks deadlock and goes on past it, so the whole reachable
  space is counted: 34, 198, 1154, 6726 states at N = 4, 6, 8, 10 and 1,331,714 at N = 16 in every tool
  (the "counts" column flags any disagreement). interleave's invariant check is off, as SPIN and rumur check none.
- Each tool runs in its own child process; peak RSS is that process's maximum resident set.
- SPIN: \`spin -DN=n -a\`, \`cc -O2 -DSAFETY -DNOREDUCE\` (no partial-order reduction, full state storage,
  default -w24 hash table), \`./pan -c0 -m<states+10>\` (a DFS stack never holds more states than there are;
  the count is rumur's from the same run; -m is raised tenfold if pan ever reports the depth limit was hit).
  Search seconds are pan's own elapsed time; transitions are pan's stored+matched minus the initial state.
  Bytes per state for SPIN: its "actual memory usage for states" over states (stored state vectors and their
  overhead); the hash table (128 MiB at the default -w24, whatever the count) and the DFS stack come on top.
- rumur: generated with \`--deadlock-detection stuck --max-errors 1000000000\`, compiled with rumur's recommended
  flags; run with 1 thread (comparable with the single-threaded interleave and SPIN) and with all CPUs. rumur prints
  whole seconds only, so its search seconds are the wall time of the verifier. Bytes per state: peak RSS / states.
- interleave: \`node bin/interleave.js check SPEC --json --quiet\` with \`check.stopAtFirst: false\`; search seconds
  and bytes per stored state (fingerprint set + parent links) are the engine's own figures; wall time includes
  Node start-up and loading the model.
- XState-interpreter baseline: bench/baseline.ts, the loop of \`exploreReference\` (XState \`transition()\` per
  event, canonical-JSON keys in a Set) with a time cap; a capped run gives a rate, not a count.
- Kernel models: every spec in specs/ runs in interleave with \`stopAtFirst: false\`, cut at 3 s each, to rank
  them by states; per model the spec with the most is its largest and is reported from its own run (cut at 30 s)
  next to the baseline's (cut at 15 s). A cut run gives a rate, not a count. The ratio target line leaves out
  specs under 1000 states (milliseconds of search; start-up effects swamp the rate).
- Whole process (issue 20): \`interleave check\` of philosophers N=14 and 16 as a child process, wall time from spawn to
  exit (Node start-up, loading the tool from its build in dist/ or from the sources, the model, the search, the
  report), against SPIN's \`./pan\` run (pan built once beforehand, as interleave is built at install), 5 pairs
  alternating which goes first; the ratio is the median of the pairs' ratios. The same pairs give the search-rate
  ratio of issue 20 (each tool's own search seconds, median of the pairs' ratios): one run, alternating, so load
  on the machine slows both alike, unlike the single runs of the philosophers table.
- Against the previous commit (\`npm run bench -- --old DIR\`, DIR an installed checkout of it): each kernel model's
  largest spec (the one of the kernel table, capped alike) runs there and here alternately, --rounds times;
  states/s is states over the search's own seconds (a capped run gives a rate), peak RSS is the process's. The
  scale tier (specs/scale/, minutes per run) follows, each spec cut at ${SCALE_CAP_SECONDS} s: a rate, not a count.
  Then the same largest specs (those of ${WARM_MIN_STATES} states or more whose cold searches took under ${WARM_MAX_SECONDS} s) warm: one process per tree runs the spec
  ${WARM_RUNS} times (bench/warm-harness.ts, the tree's own CLI from its sources, V8's defaults) and the median search
  seconds of the last ${WARM_KEPT} runs count, so the rate is the search's own, without V8's warm-up (which the cold
  runs above pay in full: a search of under a second runs much of itself before its hot code is optimised).
- Budget: philosophers N=16 in interleave is cut at 90 s, and past 9 minutes the remaining runs are skipped with
  a note, so the whole bench stays near 10 minutes on this 2-CPU machine.`;

try {
  await main();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
