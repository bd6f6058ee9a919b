// The CLI contract: check's table and --json shape, exit codes, counterexample files, show, replay,
// and clear errors for bad specs, unknown models and unsupported XState features.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { validateTraceObject } from '../../cli/spec.ts';

const run = runCli;

const tmp = () => mkdtempSync(join(tmpdir(), 'interleave-'));

describe('interleave check', () => {
  it('--json reports 6726 states and a 10-step deadlock for philosophers-10, and saves the trace', async () => {
    const dir = tmp();
    const r = await run(['check', 'specs/philosophers-10.json', '--json', '--out', dir]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.results).toHaveLength(1);
    const res = doc.results[0];
    expect(res).toMatchObject({
      spec: 'specs/philosophers-10.json',
      model: 'philosophers',
      variant: 'naive',
      params: { n: 10 },
      verdict: { status: 'violation', kind: 'deadlock', name: 'deadlock' },
      matched: true,
      stats: { states: 6726, depth: 10 },
    });
    expect(Object.keys(res.stats)).toEqual(expect.arrayContaining(['states', 'transitions', 'depth', 'seconds']));
    const trace = JSON.parse(readFileSync(join(dir, 'philosophers-10.json'), 'utf8'));
    expect(trace.steps).toHaveLength(10);
    expect(validateTraceObject(trace)).toEqual([]);
  });

  it("a spec's pinned states and depth are its own search's: another strategy, seed, preemption bound or bitstate store compares the verdict only", async () => {
    // philosophers-4 pins 34 states and a 4-step counterexample (breadth-first); dfs finds a 7-step one, a preemption
    // bound counts (state, last thread) pairs, random walks see a few states: the verdict is what these can check
    for (const extra of [['--strategy', 'dfs'], ['--preemptions', '1'], ['--strategy', 'random', '--seed', '1']]) {
      const r = await run(['check', 'specs/philosophers-4.json', '--json', '--no-save', ...extra]);
      expect(r.code, extra.join(' ')).toBe(0);
      expect(JSON.parse(r.out).results[0], extra.join(' ')).toMatchObject({ matched: true, verdict: { status: 'violation', kind: 'deadlock' } });
    }
    // a wrong verdict is still a mismatch
    const wrong = await run(['check', 'specs/philosophers-4.json', '--variant', 'ordered', '--strategy', 'dfs', '--json', '--no-save']);
    expect(wrong.code).toBe(1);
    // --workers stopping at its first violation may store other states than one thread (README): the depth is pinned,
    // the states are not; with "stopAtFirst": false both are (the next test)
    const dir = tmp();
    const spec = join(dir, 'abba-pinned.json');
    writeFileSync(spec, JSON.stringify({ model: 'abba', variant: 'abba', expect: { status: 'violation', kind: 'deadlock', states: 7, depth: 2 } }));
    const one = await run(['check', spec, '--json', '--no-save']);
    expect(JSON.parse(one.out).results[0]).toMatchObject({ matched: true, stats: { states: 7 } });
    const two = await run(['check', spec, '--json', '--no-save', '--workers', '2']);
    expect(two.code).toBe(0);
    expect(JSON.parse(two.out).results[0]).toMatchObject({ matched: true });
    writeFileSync(spec, JSON.stringify({ model: 'abba', variant: 'abba', expect: { status: 'violation', kind: 'deadlock', states: 7, depth: 3 } }));
    expect((await run(['check', spec, '--json', '--no-save', '--workers', '2'])).code).toBe(1);
  });

  it("--walks, --max-states, --max-depth other than the spec's bounds change its search: its pinned states and depth are not compared, the verdict is", async () => {
    const dir = tmp();
    const spec = join(dir, 'walks-pinned.json');
    // 3 random walks (seed 1) of sb-freeze generic see 61 states, the deepest at 31 steps; 1 walk sees fewer
    writeFileSync(spec, JSON.stringify({ model: 'sb-freeze', variant: 'generic', strategy: 'random', seed: 1, bounds: { walks: 3 }, expect: { status: 'incomplete', states: 61, depth: 31 } }));
    expect((await run(['check', spec, '--json', '--no-save'])).code).toBe(0);
    for (const extra of [['--walks', '1'], ['--max-states', '20'], ['--max-depth', '5']]) {
      const r = await run(['check', spec, '--json', '--no-save', ...extra]);
      expect(r.code, `${extra.join(' ')}: ${r.out}`).toBe(0);
      expect(JSON.parse(r.out).results[0], extra.join(' ')).toMatchObject({ matched: true, verdict: { status: 'incomplete' } });
    }
    // the same bound as the spec's is its own search: the pins hold
    writeFileSync(spec, JSON.stringify({ model: 'sb-freeze', variant: 'generic', strategy: 'random', seed: 1, bounds: { walks: 3 }, expect: { status: 'incomplete', states: 60 } }));
    expect((await run(['check', spec, '--json', '--no-save', '--walks', '3'])).code).toBe(1);
    // a breadth-first search the bound did not cut is the spec's own: a wrong pin is still a mismatch
    writeFileSync(spec, JSON.stringify({ model: 'abba', variant: 'abba', expect: { status: 'violation', kind: 'deadlock', states: 8 } }));
    expect((await run(['check', spec, '--json', '--no-save', '--max-states', '1000'])).code).toBe(1);
  });

  it('a liveness search that a --max-states of its own cut still finds a lasso in the part it built: the verdict is compared, not the pinned count', async () => {
    // the spec's own search builds 33 states; 20 of them already hold the writer/reader lasso (a violation that stands)
    const r = await run(['check', 'specs/afs-seqlock-starvation-even-seq.json', '--json', '--no-save', '--max-states', '20']);
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.out).results[0]).toMatchObject({ matched: true, verdict: { status: 'violation', kind: 'starvation', bound: { name: 'maxStates' } }, stats: { states: 20 } });
    // the spec's own bound: the pins hold
    expect((await run(['check', 'specs/afs-seqlock-starvation-even-seq.json', '--json', '--no-save'])).code).toBe(0);
  });

  it('--workers 2 gives the same outcome and counts, with a valid 10-step trace; --workers 0 is bad input', async () => {
    const dir = tmp();
    const r = await run(['check', 'specs/philosophers-10.json', '--json', '--workers', '2', '--out', dir]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).results[0]).toMatchObject({ matched: true, stats: { states: 6726, depth: 10 } });
    const trace = JSON.parse(readFileSync(join(dir, 'philosophers-10.json'), 'utf8'));
    expect(trace.steps).toHaveLength(10);
    expect(validateTraceObject(trace)).toEqual([]);
    const bad = await run(['check', 'specs/abba-abba.json', '--workers', '0']);
    expect(bad.code).toBe(2);
    expect(bad.err + bad.out).toMatch(/workers/);
  });

  it('the explorer runs where code generation from strings is disallowed (generated functions fall back)', () => {
    // A separate node, as the flag is per process; one thread and two. (The CLI itself cannot run so: ajv
    // compiles the spec schema with generated code.)
    const args = ['--import', 'tsx', 'test/fixtures/no-codegen.ts'];
    const run = (flags: string[]) => spawnSync(process.execPath, [...flags, ...args], { encoding: 'utf8' });
    const free = run([]);
    const locked = run(['--disallow-code-generation-from-strings']);
    expect(locked.status, locked.stderr).toBe(0);
    expect(JSON.parse(locked.stdout)).toEqual(JSON.parse(free.stdout));
    expect(JSON.parse(locked.stdout)[1]).toEqual(['violation', 'deadlock', 2017]);
  });

  it('prints a table row per spec and exits 0 when all match', async () => {
    const r = await run(['check', 'specs/abba-abba.json', 'specs/abba-ordered.json', '--no-save', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/spec\s+states\s+transitions\s+depth\s+seconds\s+verdict\s+expected\s+match/);
    expect(r.out).toMatch(/abba-abba\s+\d+\s+\d+\s+\d+\s+[\d.]+\s+deadlock\s+deadlock\s+ok/);
    expect(r.out).toMatch(/abba-ordered .* pass\s+pass\s+ok/);
  });

  it('exits 1 when an outcome does not match its expectation', async () => {
    const dir = tmp();
    const spec = join(dir, 'wrong.json');
    writeFileSync(spec, JSON.stringify({ model: 'philosophers', params: { n: 3 }, expect: { status: 'pass' } }));
    const r = await run(['check', spec, '--no-save', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/MISMATCH: expected pass, got violation \(deadlock\)/);
  });

  it('a spec with every check off still runs (it pins the state count) and says once on stderr that nothing else was checked; --json keeps its shape', async () => {
    const dir = tmp();
    const spec = join(dir, 'count.json');
    const off = { deadlock: false, assertions: false, invariants: false };
    writeFileSync(spec, JSON.stringify({ model: 'abba', variant: 'ordered', check: off, expect: { status: 'pass' } }));
    const line = /^\S*count\.json: nothing was checked but the state count \(deadlock, assertions, invariants, livelock, starvation and lock order are all off\); the verdict says only whether the search finished\n$/;
    for (const extra of [['--quiet'], ['--json']]) {
      const r = await run(['check', spec, '--no-save', ...extra]);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(line);
      if (extra[0] === '--json') expect(Object.keys(JSON.parse(r.out).results[0])).not.toContain('nothingChecked');
    }
    // One check on (here the lock order, from the command line): no such line.
    const on = await run(['check', spec, '--no-save', '--quiet', '--lock-order']);
    expect(on.code, on.err).toBe(0);
    expect(on.err).toBe('');
  });

  it('an assertion the model declares and no state of any variant names is never checked: one warning on stderr per run, naming it', async () => {
    const dir = tmp();
    const model = join(process.cwd(), 'test/fixtures/models/dead-assertion.ts');
    const specs = ['a', 'b'].map((variant) => {
      const f = join(dir, `${variant}.json`);
      writeFileSync(f, JSON.stringify({ model, variant, params: { strict: false }, expect: { status: 'pass' } }));
      return f;
    });
    const r = await run(['check', ...specs, '--no-save', '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe(
      "warning: model dead-assertion: assertion 'neverNamed' is declared but no state of any variant names it (meta.assert), so it is never checked; " +
        "name it in the state where it must hold, or remove it\n",
    );
    // inA (variant a only) and strictOnly (named under the default params) are not dead; with assertions off, nothing is said.
    const off = join(dir, 'off.json');
    writeFileSync(off, JSON.stringify({ model, check: { assertions: false }, expect: { status: 'pass' } }));
    expect((await run(['check', off, '--no-save', '--quiet'])).err).toBe('');
  });

  it('a bound that cuts the search gives incomplete, which does not match an expected pass', async () => {
    const dir = tmp();
    const spec = join(dir, 'cut.json');
    writeFileSync(spec, JSON.stringify({ model: 'philosophers', variant: 'ordered', params: { n: 8 }, bounds: { maxStates: 50 }, expect: { status: 'pass' } }));
    const r = await run(['check', spec, '--json']);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out).results[0];
    expect(res.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxStates', limit: 50 } });
    expect(res.matched).toBe(false);
  });

  it('a malformed spec: exit 2, naming the file, each JSON path and the fix', async () => {
    const r = await run(['check', 'test/fixtures/specs-bad/malformed.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/test\/fixtures\/specs-bad\/malformed\.json: invalid spec/);
    expect(r.err).toMatch(/\$: unknown field 'chek'; remove it or fix its spelling/);
    expect(r.err).toMatch(/\$\.expect\.kind: must be one of "deadlock", "assertion", "invariant"/);
  });

  it('invalid JSON: exit 2 with the line and column', async () => {
    const r = await run(['check', 'test/fixtures/specs-bad/not-json.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not-json\.json: the spec is not valid JSON at line 1, column \d+/);
  });

  it('an unknown model: exit 2, listing the bundled models', async () => {
    const r = await run(['check', 'test/fixtures/specs-bad/unknown-model.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\$\.model: unknown model 'philosopherz'; bundled models: .*philosophers/);
  });

  it('an unknown variant: exit 2, listing the variants', async () => {
    const r = await run(['check', 'test/fixtures/specs-bad/unknown-variant.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no variant 'polite' \(its variants: naive, ordered\)/);
  });

  it('a parameter out of range: exit 2 with the bound', async () => {
    const r = await run(['check', 'test/fixtures/specs-bad/bad-param.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/params\.n: 1 is below the minimum 2/);
  });

  it('a model using invoke: exit 2, naming the state and the feature', async () => {
    const r = await run(['check', 'test/fixtures/specs-bad/uses-invoke.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/state t\.a uses invoke, which interleave does not support/);
  });

  it('a missing spec path: exit 2', async () => {
    const r = await run(['check', 'specs/nope.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/specs\/nope\.json: no such spec file, directory or model/);
  });
});

describe('interleave show and replay', () => {
  it('show renders a column per thread, the verdict, the wait-for cycle and the replay command (golden)', async () => {
    const dir = tmp();
    await run(['check', 'specs/abba-abba.json', '--out', dir, '--quiet']);
    const file = join(dir, 'abba-abba.json');
    const r = await run(['show', file]);
    expect(r.code).toBe(0);
    const golden = readFileSync('test/cli/golden/show-abba.txt', 'utf8');
    expect(r.out.replaceAll(file, '<trace>')).toBe(golden);
  });

  it('replay reproduces the saved deadlock and exits 0; on the fixed variant it diverges and exits 1', async () => {
    const dir = tmp();
    await run(['check', 'specs/philosophers-6.json', '--out', dir, '--quiet']);
    const file = join(dir, 'philosophers-6.json');
    const ok = await run(['replay', file]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^REPRODUCED deadlock on philosophers variant naive after 6 steps/);
    const fixed = await run(['replay', file, '--variant', 'ordered']);
    expect(fixed.code).toBe(1);
    expect(fixed.out).toMatch(/DIVERGED at step 6 .*p5\.takeFirst is not enabled/);
  });

  it('replay of a file that is not a trace: exit 2 naming the path', async () => {
    const r = await run(['replay', 'package.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/package\.json: invalid trace:\n\s+\$: missing field 'format'/);
  });
});

describe('interleave list', () => {
  it('lists the bundled models with variants and params, and the specs', async () => {
    const r = await run(['list']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/philosophers: /);
    expect(r.out).toMatch(/variant ordered: /);
    expect(r.out).toMatch(/param n = 4 \[2\.\.32\]/);
    expect(r.out).toMatch(/specs\/philosophers-10\.json: philosophers\/naive \{"n":10\} expect deadlock/);
  });
});

describe('interleave graph', () => {
  it('prints a Mermaid state diagram with a box per thread and guarded transitions', async () => {
    const r = await run(['graph', 'abba']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^---\ntitle: "abba variant abba"\n---\nstateDiagram-v2\n  state "task0" as task0___ \{/);
    expect(r.out).toContain('task0___idle --> task0___holdsFirst : lock_A [mutexFree(A)]');
    expect(r.out).toContain('task0___critical : critical (assert mutualExclusion#59; progress)');
  });
  it('an unknown model: exit 2', async () => {
    const r = await run(['graph', 'nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown model 'nope'/);
  });
});

describe('interleave check --junit', () => {
  it('writes one testcase per spec, with a failure for a mismatch', async () => {
    const dir = tmp();
    const spec = join(dir, 'wrong.json');
    writeFileSync(spec, JSON.stringify({ model: 'philosophers', params: { n: 3 }, expect: { status: 'pass' } }));
    const xmlFile = join(dir, 'out.xml');
    const r = await run(['check', 'specs/abba-ordered.json', spec, '--junit', xmlFile, '--no-save', '--quiet']);
    expect(r.code).toBe(1);
    const xml = readFileSync(xmlFile, 'utf8');
    expect(xml).toMatch(/<testsuite name="interleave" tests="2" failures="1" errors="0"/);
    expect(xml).toMatch(/<testcase name="abba-ordered" classname="interleave.specs" time="[\d.]+" file="specs\/abba-ordered.json">/);
    expect(xml).toMatch(/<failure type="mismatch" message="expected pass, got violation \(deadlock\)">/);
  });
});

describe('interleave check --json on a liveness spec', () => {
  it('adds the stored graph to the stats (edges, bytes per edge, cycle analysis seconds)', async () => {
    const r = await run(['check', 'specs/liveness-spin-unfair.json', '--json', '--no-save']);
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.out).results[0].stats;
    expect(stats).toMatchObject({ states: expect.any(Number), edges: expect.any(Number), bytesPerEdge: expect.any(Number), analysisSeconds: expect.any(Number) });
    expect(stats.edges).toBeGreaterThanOrEqual(stats.states - 1);
  });
});

describe('interleave check report', () => {
  it('ends with the show and replay commands of each counterexample', async () => {
    const dir = tmp();
    const r = await run(['check', 'specs/abba-abba.json', 'specs/abba-ordered.json', '--out', dir, '--quiet']);
    expect(r.code).toBe(0);
    const last = r.out.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^  abba-abba: deadlock: npx interleave show \S*abba-abba\.json  \|  npx interleave replay \S*abba-abba\.json$/);
  });
});
