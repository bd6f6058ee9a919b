// The command line's grammar: per-command help and options, --version, check MODEL with --variant/--param,
// overrides of a spec that the report names, and directories whose JSON files are not all specs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOL_VERSION } from '../../explorer/index.ts';
import { COMMANDS } from '../../cli/args.ts';
import { runCli as run } from '../helpers/cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'interleave-args-'));

describe('help and version', () => {
  it('each command has its own --help, listing exactly its options', async () => {
    const texts = new Set<string>();
    for (const [name, spec] of Object.entries(COMMANDS)) {
      const r = await run([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: interleave ${name}`));
      for (const opt of Object.keys(spec.options)) expect(r.out).toContain(`--${opt}`);
      texts.add(r.out);
    }
    expect(texts.size).toBe(Object.keys(COMMANDS).length);
    const check = await run(['check', '--help']);
    expect(check.out).toContain('--no-save');
    expect((await run(['show', '--help'])).out).toContain('--no-changes');
    expect((await run(['replay', '--help'])).out).toContain('--loose');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(TOOL_VERSION).toBe(pkg.version);
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`interleave ${pkg.version}\n`);
  });

  it('no command prints the overview and exits 2; an unknown command names the commands', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/interleave COMMAND --help/);
    const u = await run(['chek']);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/unknown command 'chek'; commands: check, show, replay, list, graph, swarm, worker, init/);
  });
});

describe('check MODEL without a spec', () => {
  it('philosophers --param n=6 reports the deadlock (exit 1: a model on its own is expected to pass)', async () => {
    const dir = tmp();
    const r = await run(['check', 'philosophers', '--param', 'n=6', '--out', dir, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/philosophers-n6\s+198\s+\d+\s+6\s+[\d.]+\s+deadlock\s+pass \(no spec\)\s+MISMATCH/);
    const trace = JSON.parse(readFileSync(join(dir, 'philosophers-n6.json'), 'utf8'));
    expect(trace).toMatchObject({ model: 'philosophers', variant: 'naive', params: { n: 6 } });
    expect(trace.steps).toHaveLength(6);
  });

  it('--variant ordered passes (exit 0) and says what was checked; --json gives the model as the spec', async () => {
    const r = await run(['check', 'philosophers', '--variant', 'ordered', '--param', 'n=4', '--no-save', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/philosophers-ordered-n4: no spec: checked deadlock, assertions and every invariant/);
    const j = await run(['check', 'abba', '--variant', 'ordered', '--json']);
    expect(JSON.parse(j.out).results[0]).toMatchObject({ spec: 'abba', model: 'abba', variant: 'ordered', verdict: { status: 'pass' }, expected: { status: 'pass' }, matched: true });
  });

  it('with --lock-order the pass line says the lock order was checked too', async () => {
    const r = await run(['check', 'abba', '--variant', 'ordered', '--lock-order', '--no-save', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/abba-ordered: no spec: checked deadlock, assertions, every invariant and the lock order/);
  });
});

describe('--variant and --param on a spec', () => {
  it('override the spec, and the table and --json say so', async () => {
    const r = await run(['check', 'specs/philosophers-4.json', '--param', 'n=6', '--no-save', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/philosophers-4: run with n=6 \(the spec says 4\); compared with the spec's expectation/);
    expect(r.out).toMatch(/philosophers-4\s+198\s/);
    const j = await run(['check', 'specs/philosophers-4.json', '--variant', 'ordered', '--json']);
    const res = JSON.parse(j.out).results[0];
    expect(res).toMatchObject({ variant: 'ordered', overrides: { variant: { spec: 'naive', run: 'ordered' } }, verdict: { status: 'pass' }, matched: false });
  });
});

describe('check DIR', () => {
  it('takes the specs among the JSON files, by content, and skips package.json, tsconfig.json and traces', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'mine', type: 'module', dependencies: {} }));
    writeFileSync(join(dir, 'tsconfig.json'), '{ // comments\n "compilerOptions": {} }');
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ model: 'abba', variant: 'ordered', expect: { status: 'pass' } }));
    writeFileSync(join(dir, 'old-trace.json'), JSON.stringify({ format: 'interleave-trace', model: 'abba' }));
    const r = await run(['check', dir, '--no-save', '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/1 of 1 specs match/);
    // A broken spec is still a spec: reported, not skipped.
    writeFileSync(join(dir, 'broken.json'), '{ "model": "abba", ');
    const b = await run(['check', dir, '--no-save', '--quiet']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/broken\.json: the spec is not valid JSON/);
  });

  it('a directory without specs is an error naming it', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'package.json'), '{}');
    const r = await run(['check', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/the directory has no spec files/);
  });
});
