// The distributed search (explorer/strategies/distributed.ts) on a local nats-server with `interleave worker`
// processes: the same verdict, states, transitions and depth as the one-thread search (exploring everything),
// a counterexample of the same length that replays, the pinned CLI (check --nats URL --peers N), and a worker
// killed mid-run: incomplete naming it, never pass, and no process left running.
import Ajv from 'ajv';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../cli/models.ts';
import { loadSpec } from '../../cli/spec.ts';
import { checkModel, type CheckRequest, type CheckResult } from '../../explorer/index.ts';
import { runCli } from '../helpers/cli.ts';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { RUNS_BUCKET, type RunRecord } from '../../explorer/distributed/journal.ts';
import { localNats, type Worker } from '../helpers/nats.ts';

const root = resolve(import.meta.dirname, '../..');
const validate = new (Ajv as any)({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(root, 'schemas/check-result.schema.json'), 'utf8')));
const nats = localNats();
const workers: Worker[] = [];
let out = '';

beforeAll(async () => {
  await nats.start();
  for (let i = 0; i < 3; i++) workers.push(await nats.worker());
  out = mkdtempSync(join(tmpdir(), 'interleave-distributed-'));
}, 120_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

async function request(file: string): Promise<CheckRequest> {
  const spec = loadSpec(resolve(root, 'specs', file));
  const { def, path, bundled } = await loadModel(spec.model, resolve(root, 'specs'), file);
  return {
    model: def,
    modelPath: path,
    params: spec.params,
    variant: spec.variant,
    check: spec.check,
    reduce: spec.reduce,
    nats: { target: { url: nats.url }, peers: 2, model: { path, ...(bundled ? { bundled: spec.model } : {}) } },
  };
}

const summary = (r: CheckResult) => ({
  status: r.verdict.status,
  kind: r.verdict.kind,
  name: r.verdict.name,
  states: r.stats.states,
  transitions: r.stats.transitions,
  depth: r.stats.depth,
});

describe('check --nats URL --peers 2 reports what one thread reports', () => {
  for (const file of ['philosophers-10.json', 'btrfs-send-merged-2rounds.json', 'xfs-inodegc-posted.json', 'sb-freeze-umount-held.json']) {
    it(`${file}, exploring everything`, async () => {
      const req = await request(file);
      const { nats: _n, ...alone } = req;
      const one = checkModel({ ...alone, stopAtFirst: false });
      const two = checkModel({ ...req, stopAtFirst: false });
      expect(summary(two)).toEqual(summary(one));
      expect(two.trace?.steps.length).toBe(one.trace?.steps.length);
    }, 300_000);
  }

  it('a violation spec through the CLI: the same counterexample length, and the saved trace replays', async () => {
    const spec = 'specs/sb-freeze-umount-held.json';
    const alone = await runCli(['check', spec, '--json', '--out', join(out, 'one')]);
    const run = await runCli(['check', spec, '--nats', nats.url, '--peers', '2', '--json', '--out', join(out, 'two')]);
    expect(run.code).toBe(0);
    const a = JSON.parse(alone.out).results[0];
    const b = JSON.parse(run.out).results[0];
    expect(b.verdict).toEqual(a.verdict);
    expect(b.stats.depth).toBe(a.stats.depth);
    expect(b.stats.depth).toBeGreaterThan(0);
    const replay = await runCli(['replay', join(out, 'two', 'sb-freeze-umount-held.json')]);
    expect(replay.code).toBe(0);
    // The run's record in the JetStream journal: its workers, then its outcome.
    const nc = await connect({ servers: nats.url });
    try {
      const kv = await new Kvm(nc).open(RUNS_BUCKET);
      const records = [];
      for await (const key of await kv.keys()) records.push((await kv.get(key))!.json<RunRecord>());
      expect(records).toContainEqual(
        expect.objectContaining({ status: 'violation', model: 'sb-freeze', peers: 2, states: b.stats.states, detail: `deadlock:${b.verdict.name}`, workers: expect.any(Array) }),
      );
    } finally {
      await nc.close();
    }
  }, 300_000);

  it('is deterministic for a given number of workers: the same counterexample twice', async () => {
    const req = await request('philosophers-10.json');
    const first = checkModel({ ...req, stopAtFirst: true });
    const again = checkModel({ ...req, stopAtFirst: true });
    expect(again.trace!.steps.map((s) => s.event)).toEqual(first.trace!.steps.map((s) => s.event));
  }, 300_000);

  it('a worker built from other model files is refused by name before the search', async () => {
    const req = await request('philosophers-10.json');
    // The coordinator builds n=10, the workers are told the spec's params but a model file that differs.
    const other = await loadModel('philosophers', root, 'test');
    const def = { ...other.def, create: (o: { params: Record<string, unknown>; variant: string }) => other.def.create({ ...o, params: { ...o.params, n: 9 } } as never) };
    const r = () => checkModel({ ...req, model: def as typeof other.def });
    expect(r).toThrow(/worker .* built a different model \(hash [0-9a-f]+, the coordinator's [0-9a-f]+\)/);
  }, 300_000);

  it('a worker killed mid-run: the run is incomplete naming it (never pass), nothing is left running', async () => {
    const run = nats.check(['specs/btrfs-send-merged-2rounds.json', '--nats', nats.url, '--peers', '3', '--json', '--no-save']);
    // Killed once every worker has built the model and the rounds have started.
    const joined = () => workers.every((w) => /partition \d of 3, model .* built[^\n]*\n(?![\s\S]*(ended|abandoned))/.test(w.log()));
    while (!joined()) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const victim = workers[1];
    const name = /worker (\S+): joined/.exec(victim.log())![1];
    victim.proc.kill('SIGKILL');
    const code = await new Promise<number | null>((res) => run.proc.once('exit', res));
    const result = JSON.parse(run.stdout()).results[0];
    expect(code, run.output()).toBe(1);
    expect(result.verdict.status).toBe('incomplete');
    expect(result.verdict.bound).toMatchObject({ name: 'lostWorker', worker: name });
    expect(result.verdict.message).toContain(name);
    expect(validate(JSON.parse(run.stdout())) ? [] : validate.errors).toEqual([]);
    // The other workers leave the run (the coordinator ended it) and wait for the next one.
    for (const w of [workers[0], workers[2]]) {
      while (!/run \S+ (ended|abandoned|failed)/.test(w.log().split('joined run').pop()!)) await new Promise((r) => setTimeout(r, 50));
    }
  }, 300_000);

  it('a coordinator killed mid-run: its workers leave the run and serve the next one', async () => {
    const from = workers.map((w) => w.log().length);
    const since = (k: number) => workers[k].log().slice(from[k]);
    const run = nats.check(['specs/btrfs-send-merged-2rounds.json', '--nats', nats.url, '--peers', '2', '--no-save', '--quiet']);
    let members: number[] = [];
    while (members.length < 2) {
      members = workers.map((_, k) => k).filter((k) => /partition \d of 2, model .* built/.test(since(k)));
      await new Promise((r) => setTimeout(r, 20));
    }
    run.proc.kill('SIGKILL');
    for (const k of members) {
      while (!/abandoned: its coordinator is gone/.test(since(k))) await new Promise((r) => setTimeout(r, 50));
    }
    // Both serve the next run.
    const again = await runCli(['check', 'specs/philosophers-10.json', '--nats', nats.url, '--peers', '2', '--no-save']);
    expect(again.code, again.err).toBe(0);
  }, 300_000);
});

describe('a NATS server that requires a user and password', () => {
  const secured = localNats();

  it('runs with the credentials in the URL and never prints them; wrong ones are exit 2 without them', async () => {
    await secured.start({ user: 'alice', pass: 's3cret-pw' });
    const w = await secured.worker(['--once']);
    const run = await runCli(['check', 'specs/philosophers-10.json', '--nats', secured.url, '--peers', '1', '--no-save']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/philosophers-10\s+6726\s+43480\s+10\s/);
    const wrong = await runCli(['check', 'specs/philosophers-10.json', '--nats', secured.url.replace('s3cret-pw', 'wr0ng-pw'), '--peers', '1', '--no-save']);
    expect(wrong.code).toBe(2);
    expect(wrong.out + wrong.err).toMatch(/cannot connect to NATS at nats:\/\/\*\*\*@127/);
    // --once: the worker exits after its run.
    const code = await new Promise((res) => (w.proc.exitCode !== null ? res(w.proc.exitCode) : w.proc.once('exit', res)));
    expect(code).toBe(0);
    for (const text of [run.out, run.err, wrong.out, wrong.err, w.log()]) {
      expect(text).not.toContain('s3cret-pw');
      expect(text).not.toContain('wr0ng-pw');
    }
  }, 120_000);
});

describe('a NATS outage mid-run', () => {
  const local = localNats();

  it('stops the coordinator with exit 2 naming the server, and the worker with exit 2', async () => {
    await local.start();
    const w = await local.worker();
    const run = local.check(['specs/btrfs-send-merged-2rounds.json', '--nats', local.url, '--peers', '1', '--no-save', '--quiet']);
    while (!/joined run/.test(w.log())) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    local.procs[0].kill('SIGKILL'); // the nats-server
    const code = await new Promise((res) => run.proc.once('exit', res));
    const text = run.output();
    expect(code).toBe(2);
    expect(text, text).toMatch(/the NATS connection to nats:\/\/127\.0\.0\.1:\d+ dropped mid-run/);
    expect(text).not.toMatch(/\n\s+at /);
    const workerCode = await new Promise((res) => (w.proc.exitCode !== null ? res(w.proc.exitCode) : w.proc.once('exit', res)));
    expect(workerCode).toBe(2);
    expect(w.log()).toMatch(/lost the NATS connection/);
  }, 120_000);
});
