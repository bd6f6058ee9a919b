// `interleave swarm`: N jobs as child processes here, one shard (index from --shard or
// JOB_COMPLETION_INDEX), merging shard files; bad input exits 2 naming the file and the fix, writing nothing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseShard } from '../../cli/swarm.ts';
import { runCli } from '../helpers/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'interleave-swarm-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('interleave swarm', () => {
  it('--jobs 3 runs three processes and merges them; the counterexample replays', async () => {
    const out = join(work, 'jobs');
    const r = await runCli(['swarm', 'specs/philosophers-4.json', '--jobs', '3', '--seed', '5', '--out', out, '--json', '--wait-all']);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ count: 3, seed: 5, verdict: { status: 'violation', kind: 'deadlock' }, matched: true, missing: [] });
    expect(doc.shards.map((s: any) => s.job.strategy)).toEqual(['bfs', 'dfs', 'random']);
    expect(readdirSync(out).filter((f) => f.includes('.shard-')).sort()).toEqual([0, 1, 2].map((i) => `philosophers-4.shard-${i}-of-3.json`));
    const replay = await runCli(['replay', doc.counterexample]);
    expect(replay.code, replay.out).toBe(0);
    // The BFS job's counterexample is the shortest: 4 steps.
    expect(JSON.parse(readFileSync(doc.counterexample, 'utf8')).steps).toHaveLength(4);
  });

  it('--shard I/N writes one shard; --merge combines shard files', async () => {
    const out = join(work, 'shards');
    for (const i of [0, 1]) {
      const r = await runCli(['swarm', 'specs/abba-abba.json', '--shard', `${i}/2`, '--out', out, '--quiet']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`^shard ${i}/2 .*deadlock after 2 steps`));
    }
    const files = readdirSync(out).map((f) => join(out, f));
    const m = await runCli(['swarm', '--merge', ...files, '--out', out]);
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/verdict: DEADLOCK after 2 steps/);
    expect(m.out).toMatch(/counterexample \(seed 0\): npx interleave show/);
  });

  it('a spec that checks nothing says so as check does (one stderr line), and its shards, merge and --json carry nothingChecked', async () => {
    const out = join(work, 'nothing');
    const spec = join(work, 'count.json');
    writeFileSync(spec, JSON.stringify({ model: 'abba', variant: 'ordered', check: { deadlock: false, assertions: false, invariants: false }, expect: { status: 'pass' } }));
    const line = /^\S*count\.json: nothing was checked but the state count \(deadlock, assertions, invariants, livelock, starvation and lock order are all off\); the verdict says only whether the search finished$/m;
    const once = (err: string) => expect(err.split('\n').filter((l) => line.test(l)), err).toHaveLength(1);
    const r = await runCli(['swarm', spec, '--jobs', '2', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    once(r.err);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ nothingChecked: true, verdict: { status: 'incomplete' } });
    expect(JSON.parse(readFileSync(join(out, 'count.swarm.json'), 'utf8')).nothingChecked).toBe(true);
    const shards = readdirSync(out).filter((f) => f.includes('.shard-')).map((f) => join(out, f));
    for (const f of shards) expect(JSON.parse(readFileSync(f, 'utf8')).nothingChecked).toBe(true);
    // the text report too, and one shard run alone (a Kubernetes job's log), and a merge of shard files
    once((await runCli(['swarm', spec, '--jobs', '2', '--out', out, '--quiet'])).err);
    once((await runCli(['swarm', spec, '--shard', '0/2', '--out', out, '--quiet'])).err);
    once((await runCli(['swarm', '--merge', ...shards, '--out', out])).err);
    // a spec that checks something: no line, no key
    const abba = await runCli(['swarm', 'specs/abba-abba.json', '--jobs', '2', '--out', join(work, 'something'), '--json']);
    expect(abba.err).not.toMatch(/nothing was checked/);
    expect(Object.keys(JSON.parse(abba.out))).not.toContain('nothingChecked');
  });

  it('takes the shard index from JOB_COMPLETION_INDEX, and refuses a contradiction', () => {
    expect(parseShard('3/8', {})).toEqual({ index: 3, count: 8 });
    expect(parseShard('8', { JOB_COMPLETION_INDEX: '5' })).toEqual({ index: 5, count: 8 });
    expect(parseShard('5/8', { JOB_COMPLETION_INDEX: '5' })).toEqual({ index: 5, count: 8 });
    expect(() => parseShard('4/8', { JOB_COMPLETION_INDEX: '5' })).toThrow(/disagrees with JOB_COMPLETION_INDEX=5/);
    expect(() => parseShard('8', {})).toThrow(/no shard index/);
    expect(() => parseShard('8/8', {})).toThrow(/out of range/);
    expect(() => parseShard('a/b', {})).toThrow(/expected I\/N/);
  });

  it('bad input exits 2 with the file, the path and the fix, and writes nothing', async () => {
    const out = join(work, 'bad');
    const notShard = join(work, 'not-a-shard.json');
    writeFileSync(notShard, JSON.stringify({ format: 'interleave-swarm-shard', version: 1 }));
    const cases: Array<[string[], RegExp]> = [
      [['swarm', '--merge', notShard, '--out', out], /not-a-shard\.json: invalid swarm shard result:\n {2}\$: missing field 'tool'/],
      [['swarm', 'specs/abba-abba.json', '--jobs', '2', '--shard', '0/2', '--out', out], /--jobs N .* or --shard I\/N .*not both/],
      [['swarm', 'specs/abba-abba.json', '--shard', '2/2', '--out', out], /index 2 is out of range for 2 shards/],
      [['swarm', 'specs/abba-abba.json', '--jobs', 'many', '--out', out], /--jobs many: expected a whole number/],
      [['swarm', 'test/fixtures/specs-bad/malformed.json', '--jobs', '2', '--out', out], /invalid spec/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(out)).toBe(false);
  });
});

describe('swarm over bundled violation specs of every kind (in one process, 4 small jobs each)', () => {
  // The whole list runs as scripts/swarm-specs.ts (every violation spec, swarm --jobs 4, replay).
  const specs = ['abba-abba', 'xfs-inodegc-posted', 'bcachefs-fiemap-v2-invariant', 'liveness-backoff', 'liveness-mutex-barging'];
  it.each(specs)('%s: the expected kind is found and the merged counterexample replays', async (name) => {
    const out = join(work, 'kinds', name);
    const files: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await runCli(['swarm', `specs/${name}.json`, '--shard', `${i}/4`, '--timeout', '5', '--out', out, '--quiet']);
      expect(r.code, r.err).toBe(0);
      files.push(join(out, `${name}.shard-${i}-of-4.json`));
    }
    const m = await runCli(['swarm', '--merge', ...files, '--out', out, '--json']);
    expect(m.code, m.out).toBe(0);
    const doc = JSON.parse(m.out);
    expect(doc.matched).toBe(true);
    const replay = await runCli(['replay', doc.counterexample]);
    expect(replay.code, replay.out).toBe(0);
    expect(replay.out).toMatch(new RegExp(`^REPRODUCED ${doc.verdict.kind}`));
  });
});
