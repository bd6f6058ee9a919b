// `check --coverage`: the text report names what never fired and notes a pass that left transitions
// untaken; --json carries `coverage` per result; with --workers it is bad input (exit 2).
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const validate = new (Ajv as any)({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync('schemas/check-result.schema.json', 'utf8')));

const SPEC = 'test/fixtures/coverage/dead-transition.json';

describe('check --coverage', () => {
  it('prints the never-taken transition and a note on the pass', async () => {
    const r = await runCli(['check', SPEC, '--coverage', '--no-save', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('dead-transition: coverage: 4 of 6 transitions taken, 6 of 7 states reached');
    expect(r.out).toContain('task1: never taken: idle --task1.lock [lockedByBoth]--> impossible');
    expect(r.out).toContain('task1: never reached: state impossible');
    expect(r.out).toContain('note: this pass never took 2 transitions');
  });

  it('--json adds coverage per result; without --coverage there is none', async () => {
    const r = await runCli(['check', SPEC, '--coverage', '--json', '--no-save']);
    const doc = JSON.parse(r.out);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const res = doc.results[0];
    expect(res.coverage).toMatchObject({ complete: true, transitions: { total: 6, taken: 4 }, states: { total: 7, reached: 6 } });
    const plain = JSON.parse((await runCli(['check', SPEC, '--json', '--no-save'])).out).results[0];
    expect(plain).not.toHaveProperty('coverage');
  });

  it('says "not taken in this partial run" when a bound cut the search', async () => {
    const r = await runCli(['check', SPEC, '--coverage', '--no-save', '--quiet', '--max-states', '2']);
    expect(r.out).toContain('not taken in this partial run');
    expect(r.out).not.toContain('never taken');
  });

  it('--workers 2 with --coverage is bad input', async () => {
    const r = await runCli(['check', SPEC, '--coverage', '--workers', '2', '--no-save', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('drop --workers 2');
  });
});
