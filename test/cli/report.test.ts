// The --json document follows schemas/check-result.schema.json for every kind of outcome: violation, pass,
// incomplete, error, liveness stats, overrides and the cross-check; depth is the counterexample's steps.
import Ajv from 'ajv';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as run } from '../helpers/cli.ts';

const schema = JSON.parse(readFileSync('schemas/check-result.schema.json', 'utf8'));
const validate = new (Ajv as any)({ allErrors: true, strict: false }).compile(schema);

describe('check --json', () => {
  it('every outcome kind validates against schemas/check-result.schema.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interleave-json-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ model: 'abba', variant: 'nope', expect: { status: 'pass' } }));
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, JSON.stringify({ model: 'philosophers', variant: 'ordered', params: { n: 6 }, bounds: { maxStates: 20 }, expect: { status: 'pass' } }));
    const r = await run(['check', 'specs/abba-abba.json', 'specs/abba-ordered.json', 'specs/liveness-spin-unfair.json', bad, cut, 'philosophers', '--cross-check', '--json', '--out', join(dir, 'cx')]);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out);
    expect(validate(doc), JSON.stringify(validate.errors, null, 1)).toBe(true);
    const [abba, ordered, live, error, incomplete, model] = doc.results;
    expect(abba.verdict.status).toBe('violation');
    expect(abba.stats.depth).toBe(2);
    expect(abba.stats.exploredDepth).toBeGreaterThanOrEqual(2);
    expect(ordered.verdict.status).toBe('pass');
    expect(ordered.crossCheck).toMatchObject({ status: 'agree' });
    expect(live.stats).toHaveProperty('edges');
    expect(error).toMatchObject({ verdict: { status: 'error' }, stats: null, error: { kind: 'input' } });
    expect(incomplete.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxStates', limit: 20 } });
    expect(model).toMatchObject({ spec: 'philosophers', expected: { status: 'pass' }, verdict: { status: 'violation', kind: 'deadlock' } });
    expect(model.stats.depth).toBe(4);
    const o = await run(['check', 'specs/philosophers-4.json', '--param', 'n=3', '--variant', 'ordered', '--json', '--no-save']);
    const over = JSON.parse(o.out);
    expect(validate(over), JSON.stringify(validate.errors, null, 1)).toBe(true);
    expect(over.results[0].overrides).toEqual({ variant: { spec: 'naive', run: 'ordered' }, params: { n: { spec: 4, run: 3 } } });
    // A check that cannot start still prints one document.
    const early = await run(['check', 'specs/philosophers-4.json', '--max-states', '2.5', '--json']);
    expect(early.code).toBe(2);
    const none = JSON.parse(early.out);
    expect(validate(none), JSON.stringify(validate.errors, null, 1)).toBe(true);
    expect(none).toMatchObject({ results: [], error: { kind: 'input', message: expect.stringMatching(/--max-states/) } });
  });

  it('depth is the counterexample steps in the table, --json and mismatch messages alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interleave-depth-'));
    const spec = join(dir, 'd.json');
    // xfs-inodegc-posted-noassert: a 20-step counterexample found while the search reaches depth 21.
    writeFileSync(spec, JSON.stringify({ ...JSON.parse(readFileSync('specs/xfs-inodegc-posted-noassert.json', 'utf8')), expect: { status: 'violation', kind: 'deadlock', depth: 19 } }));
    const t = await run(['check', 'specs/xfs-inodegc-posted-noassert.json', '--no-save', '--quiet']);
    expect(t.out).toMatch(/xfs-inodegc-posted-noassert\s+\d+\s+\d+\s+20\s/);
    const j = JSON.parse((await run(['check', 'specs/xfs-inodegc-posted-noassert.json', '--json', '--no-save'])).out).results[0];
    expect(j.stats).toMatchObject({ depth: 20, exploredDepth: 21 });
    const m = await run(['check', spec, '--no-save', '--quiet']);
    expect(m.code).toBe(1);
    expect(m.out).toMatch(/MISMATCH: expected depth 19 \(steps\), got a counterexample of 20 steps/);
  });
});
