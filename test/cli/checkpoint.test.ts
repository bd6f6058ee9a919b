// Checkpoint and resume: a breadth-first run killed with SIGKILL at several points and resumed each time
// ends with exactly the states, transitions, depth, verdict and counterexample of a run never stopped;
// a checkpoint of another run is refused (exit 2, nothing written).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'interleave-checkpoint-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Philosophers n=14, the whole space (228k states, 14 levels, a checkpoint after each level): long enough to be
// killed twice mid-run even from the build with guards on the packed words (n=11 took 0.16 s there, and a
// resumed run could end before its third checkpoint).
const spec = join(work, 'philosophers-14.json');
writeFileSync(spec, JSON.stringify({ model: 'philosophers', variant: 'naive', params: { n: 14 }, check: { stopAtFirst: false }, expect: { status: 'violation', kind: 'deadlock' } }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs check as a child process and SIGKILLs it once the checkpoint file has been (re)written `writes` times. */
async function runAndKill(args: string[], file: string, writes: number): Promise<boolean> {
  const child = spawn(process.execPath, [join(root, 'bin', 'interleave.js'), 'check', spec, '--quiet', '--no-save', ...args], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  let seen = 0;
  let last = existsSync(file) ? statSync(file).mtimeMs : -1;
  while (!exited && seen < writes) {
    await sleep(20);
    const m = existsSync(file) ? statSync(file).mtimeMs : -1;
    if (m !== last) {
      seen++;
      last = m;
    }
  }
  const killed = !exited;
  if (killed) child.kill('SIGKILL');
  await new Promise((r) => (exited ? r(null) : child.on('exit', r)));
  return killed;
}

function summary(out: string, cx: string) {
  const r = JSON.parse(out).results[0];
  const trace = JSON.parse(readFileSync(cx, 'utf8'));
  return { verdict: r.verdict, states: r.stats.states, transitions: r.stats.transitions, depth: r.stats.depth, steps: trace.steps };
}

describe('--checkpoint and --resume', () => {
  it.each([['one thread', []], ['--workers 2', ['--workers', '2']]])(
    '%s: a run killed (SIGKILL) at several points and resumed ends exactly as the uninterrupted run',
    async (name, threads) => {
      const dir = join(work, name.replace(/\W+/g, '-'));
      const full = await runCli(['check', spec, ...threads, '--json', '--out', join(dir, 'full')]);
      expect(full.code).toBe(0);
      const expected = summary(full.out, join(dir, 'full', 'philosophers-14.json'));

      const ck = join(dir, 'run.ckpt');
      const every = [...threads, '--checkpoint', ck, '--checkpoint-every', '0.001'];
      // Killed after its first checkpoint, then resumed and killed again a few checkpoints later.
      expect(await runAndKill(every, ck, 1)).toBe(true);
      const firstSaved = readFileSync(ck);
      // The resumed run writes checkpoints of its own (so the file changes) and is killed again.
      expect(await runAndKill(['--resume', ck, ...every], ck, 3)).toBe(true);
      expect(readFileSync(ck).equals(firstSaved)).toBe(false);
      const resumed = await runCli(['check', spec, ...threads, '--json', '--resume', ck, '--out', join(dir, 'resumed')]);
      expect(resumed.code, resumed.err).toBe(0);
      expect(summary(resumed.out, join(dir, 'resumed', 'philosophers-14.json'))).toEqual(expected);
    },
  );

  it('refuses a checkpoint of another run, a damaged one, and checkpoints where they do not apply (exit 2, nothing written)', async () => {
    const ck = join(work, 'other.ckpt');
    const r0 = await runCli(['check', 'specs/philosophers-10.json', '--checkpoint', ck, '--checkpoint-every', '0.001', '--no-save']);
    expect(r0.code).toBe(0);
    const saved = readFileSync(ck);
    {
      const r = await runCli(['check', 'specs/philosophers-6.json', '--resume', ck, '--checkpoint', ck, '--no-save']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/the checkpoint is from another run: its param n is 10, this run's is 6; .*start afresh without --resume/);
      expect(readFileSync(ck).equals(saved)).toBe(true);
      const red = await runCli(['check', 'specs/philosophers-10.json', '--resume', ck, '--reduce', 'symmetry', '--no-save']);
      expect(red.code).toBe(2);
      expect(red.err).toMatch(/the checkpoint is from another run: its option reduce is \[\], this run's is \["symmetry"\]/);
      const cut = join(work, 'cut.ckpt');
      writeFileSync(cut, saved.subarray(0, saved.length - 8));
      const d = await runCli(['check', 'specs/philosophers-10.json', '--resume', cut, '--no-save']);
      expect(d.code).toBe(2);
      expect(d.err).toMatch(/cut\.ckpt: not a usable interleave checkpoint/);
    }
    const cases: Array<[string[], RegExp]> = [
      [['check', 'specs/philosophers-8.json', '--resume', join(work, 'missing.ckpt')], /--resume .*missing\.ckpt: cannot read the checkpoint: ENOENT/],
      [['check', 'specs/philosophers-8.json', '--strategy', 'dfs', '--checkpoint', join(work, 'x.ckpt')], /checkpoints are taken of the breadth-first search/],
      [['check', 'specs/philosophers-8.json', 'specs/philosophers-6.json', '--checkpoint', join(work, 'x.ckpt')], /give exactly one spec/],
      [['check', 'specs/philosophers-8.json', '--checkpoint-every', '5'], /--checkpoint-every needs --checkpoint FILE/],
      [['check', 'specs/liveness-backoff.json', '--checkpoint', join(work, 'x.ckpt')], /livelock and starvation checks cannot be checkpointed/],
      [['check', 'specs/philosophers-8.json', '--coverage', '--checkpoint', join(work, 'x.ckpt')], /--checkpoint: coverage is not saved in checkpoints; drop --coverage or --checkpoint/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli([...args, '--no-save']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
    }
    expect(existsSync(join(work, 'x.ckpt'))).toBe(false);
  });
});
