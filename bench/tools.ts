// Benchmark plumbing: finds SPIN/rumur/cc, builds and runs the philosophers models in them, measures child processes.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = dirname(BENCH_DIR);
export const PROMELA_SOURCE = join(BENCH_DIR, 'promela', 'philosophers.pml');
export const MURPHI_SOURCE = join(BENCH_DIR, 'murphi', 'philosophers.m');
export const INSTALL_HINT = 'install with `bash bench/setup.sh` (apt-get install -y spin rumur gcc libc6-dev time)';

/** SPIN's compile flags, as issue 3 fixes them: full state storage, no partial-order reduction. */
export const SPIN_CFLAGS = ['-O2', '-DSAFETY', '-DNOREDUCE'];
/** rumur's generated verifier, compiled with the flags rumur's own output recommends. */
export const RUMUR_CFLAGS = ['-std=c11', '-O3', '-march=native', '-fwhole-program', '-mcx16'];

/** Absolute path of a command on PATH, or null. */
export function which(command: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const out = r.stdout.trim();
  return r.status === 0 && out ? out : null;
}

function firstLine(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

export interface ToolStatus {
  name: 'spin' | 'rumur';
  available: boolean;
  version: string;
  /** Why it cannot run, with the fix; empty when available. */
  note: string;
}

function detect(name: 'spin' | 'rumur', versionArgs: string[]): ToolStatus {
  const missing = [name, 'cc'].filter((c) => !which(c));
  if (missing.length > 0) {
    return { name, available: false, version: '', note: `${missing.join(' and ')} not installed: ${INSTALL_HINT}` };
  }
  return { name, available: true, version: firstLine(name, versionArgs), note: '' };
}

export const detectSpin = (): ToolStatus => detect('spin', ['-V']);
export const detectRumur = (): ToolStatus => detect('rumur', ['--version']);

export interface Measured {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** Peak resident set size of the child, from GNU time (exact) or /proc VmHWM polling (fallback). */
  peakRssBytes: number | null;
  timedOut: boolean;
}

const GNU_TIME = '/usr/bin/time';

function readVmHwm(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Runs one command as a child process and measures wall time and peak RSS.
 * With GNU time present the child runs under `time -v -o FILE` (exact ru_maxrss); otherwise
 * /proc/<pid>/status VmHWM is polled every 20 ms (may miss the last few milliseconds).
 */
export function runMeasured(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutSeconds?: number } = {},
): Promise<Measured> {
  const useTime = existsSync(GNU_TIME);
  const scratch = mkdtempSync(join(tmpdir(), 'interleave-bench-time-'));
  const timeFile = join(scratch, 'time.txt');
  const [cmd, argv] = useTime ? [GNU_TIME, ['-v', '-o', timeFile, command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, argv, { cwd: options.cwd ?? REPO_DIR, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let polled: number | null = null;
    const poll = useTime
      ? null
      : setInterval(() => {
          const v = child.pid ? readVmHwm(child.pid) : null;
          if (v !== null) polled = Math.max(polled ?? 0, v);
        }, 20);
    let timedOut = false;
    const timer =
      options.timeoutSeconds !== undefined
        ? setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid!, 'SIGKILL'); // the whole group: time(1) and the tool under it
            } catch {
              /* already gone */
            }
          }, options.timeoutSeconds * 1000)
        : null;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallSeconds = (performance.now() - started) / 1000;
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      let peakRssBytes: number | null = polled;
      if (useTime && existsSync(timeFile)) {
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'));
        if (m) peakRssBytes = Number(m[1]) * 1024;
      }
      rmSync(scratch, { recursive: true, force: true });
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        wallSeconds,
        peakRssBytes,
        timedOut,
      });
    });
  });
}

/** One tool's result on one model instance; `note` explains a missing or failed run. */
export interface ToolRun {
  tool: string;
  states: number | null;
  transitions: number | null;
  depth: number | null;
  /** Search time: the tool's own figure where it has a precise one, else wall time of the run. */
  seconds: number | null;
  wallSeconds: number | null;
  peakRssBytes: number | null;
  /** Bytes per stored state as the tool accounts it (see the `bytesNote`). */
  bytesPerState: number | null;
  bytesNote: string;
  /** True when the whole reachable space was explored. */
  complete: boolean;
  note: string;
}

export function emptyRun(tool: string, note: string): ToolRun {
  return {
    tool,
    states: null,
    transitions: null,
    depth: null,
    seconds: null,
    wallSeconds: null,
    peakRssBytes: null,
    bytesPerState: null,
    bytesNote: '',
    complete: false,
    note,
  };
}

function num(re: RegExp, text: string): number | null {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

function tail(text: string, lines = 3): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

/** Murphi source for N philosophers: the bundled model with its `const N` line rewritten. */
export function murphiSource(n: number): string {
  const src = readFileSync(MURPHI_SOURCE, 'utf8');
  const out = src.replace(/^ {2}N: \d+;$/m, `  N: ${n};`);
  if (out === src && n !== 4) throw new Error(`could not find the "  N: <n>;" line in ${MURPHI_SOURCE}`);
  return out;
}

async function mustSucceed(step: string, command: string, args: string[], cwd: string): Promise<void> {
  const r = await runMeasured(command, args, { cwd, timeoutSeconds: 300 });
  if (r.code !== 0) throw new Error(`${step} failed (exit ${r.code}): ${tail(r.stdout + r.stderr, 5)}`);
}

/**
 * Builds pan for N philosophers (spin -DN=n -a; cc -O2 -DSAFETY -DNOREDUCE) and runs it with -c0 (the
 * deadlock is counted, the search goes on) and -m deep enough: the state count when another tool has
 * measured it, else 2,000,000; if pan says the depth limit cut the search, it is rerun 10x deeper.
 */
export async function runSpin(n: number, options: { timeoutSeconds?: number; states?: number | null } = {}): Promise<ToolRun> {
  const status = detectSpin();
  if (!status.available) return emptyRun('SPIN', status.note);
  let dir: string | null = null;
  try {
    dir = await buildPan(n);
    return await runPan(dir, options);
  } catch (e) {
    return emptyRun('SPIN', (e as Error).message);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds pan for N philosophers in a new temporary folder (spin -DN=n -a; cc with SPIN_CFLAGS); returns the folder. */
export async function buildPan(n: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `interleave-bench-spin-${n}-`));
  copyFileSync(PROMELA_SOURCE, join(dir, 'philosophers.pml'));
  await mustSucceed('spin -a', 'spin', [`-DN=${n}`, '-a', 'philosophers.pml'], dir);
  await mustSucceed('cc pan.c', 'cc', [...SPIN_CFLAGS, '-o', 'pan', 'pan.c'], dir);
  return dir;
}

/** Runs a built pan (buildPan) once as runSpin describes; its wall time is the pan process's. */
export async function runPan(dir: string, options: { timeoutSeconds?: number; states?: number | null } = {}): Promise<ToolRun> {
  // A DFS stack never holds more states than there are, so a known count bounds -m without cutting; pan
  // touches its whole stack, so a needlessly deep -m would inflate SPIN's peak RSS.
  const firstDepth = options.states ? Math.max(10_000, options.states + 10) : 2_000_000;
  for (let maxDepth = firstDepth; ; maxDepth *= 10) {
    const r = await runMeasured('./pan', ['-c0', `-m${maxDepth}`], { cwd: dir, timeoutSeconds: options.timeoutSeconds });
    const text = r.stdout + r.stderr;
    if (r.timedOut) return { ...emptyRun('SPIN', `timed out after ${options.timeoutSeconds}s`), wallSeconds: r.wallSeconds };
    if (/max search depth too small/.test(text) && maxDepth < 1e9) continue;
    const states = num(/(\d+) states, stored/, text);
    if (states === null) return emptyRun('SPIN', `could not read pan's output: ${tail(text)}`);
    const stateMb = num(/([\d.]+)\s+actual memory usage for states/, text);
    const hashMb = num(/([\d.]+)\s+memory used for hash table/, text);
    const storedMatched = num(/(\d+) transitions \(= stored\+matched\)/, text);
    return {
      tool: 'SPIN',
      states,
      // stored+matched counts the initial state as "stored" with no edge into it.
      transitions: storedMatched === null ? null : storedMatched - 1,
      depth: num(/depth reached (\d+)/, text),
      seconds: num(/pan: elapsed time ([\d.e+-]+) seconds/, text) ?? r.wallSeconds,
      wallSeconds: r.wallSeconds,
      peakRssBytes: r.peakRssBytes,
      bytesPerState: stateMb !== null ? (stateMb * 1024 * 1024) / states : null,
      bytesNote: `pan's state storage; its hash table (${hashMb ?? '?'} MB, fixed by -w) and DFS stack come on top`,
      complete: !/max search depth too small/.test(text),
      note: `-m${maxDepth}, errors: ${num(/errors: (\d+)/, text)} (the deadlock, counted by -c0)`,
    };
  }
}

/**
 * Generates and builds rumur's verifier for N philosophers and runs it. Deadlock detection stays on
 * (`stuck`, the same notion as SPIN's invalid end state) and --max-errors is raised so the first deadlock
 * does not end the search. rumur only prints whole seconds, so the wall time of the run is used.
 */
export async function runRumur(n: number, options: { threads: number; timeoutSeconds?: number }): Promise<ToolRun> {
  const label = `rumur (${options.threads} thread${options.threads === 1 ? '' : 's'})`;
  const status = detectRumur();
  if (!status.available) return emptyRun(label, status.note);
  const dir = mkdtempSync(join(tmpdir(), `interleave-bench-rumur-${n}-`));
  try {
    writeFileSync(join(dir, 'philosophers.m'), murphiSource(n));
    await mustSucceed(
      'rumur',
      'rumur',
      [
        '--deadlock-detection',
        'stuck',
        '--max-errors',
        '1000000000',
        '--counterexample-trace',
        'off',
        '--threads',
        String(options.threads),
        '--output',
        'verifier.c',
        'philosophers.m',
      ],
      dir,
    );
    await mustSucceed('cc verifier.c', 'cc', [...RUMUR_CFLAGS, '-o', 'verifier', 'verifier.c', '-lpthread'], dir);
    const r = await runMeasured('./verifier', [], { cwd: dir, timeoutSeconds: options.timeoutSeconds });
    if (r.timedOut) return { ...emptyRun(label, `timed out after ${options.timeoutSeconds}s`), wallSeconds: r.wallSeconds };
    const text = r.stdout + r.stderr;
    const m = /(\d+) states, (\d+) rules fired in/.exec(text);
    if (!m) return emptyRun(label, `could not read the verifier's output: ${tail(text)}`);
    const states = Number(m[1]);
    return {
      tool: label,
      states,
      transitions: Number(m[2]),
      depth: null,
      seconds: r.wallSeconds,
      wallSeconds: r.wallSeconds,
      peakRssBytes: r.peakRssBytes,
      bytesPerState: r.peakRssBytes !== null ? r.peakRssBytes / states : null,
      bytesNote: 'peak RSS / states (rumur prints no memory breakdown)',
      complete: true,
      note: `${num(/(\d+) error\(s\) found/, text) ?? 0} error(s): the deadlock, search continued`,
    };
  } catch (e) {
    return emptyRun(label, (e as Error).message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
