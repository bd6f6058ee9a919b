// The CLI's --reduce and --check-footprints, and the spec's reduce field: which reductions ran is reported,
// the pins of a spec apply to its own reductions, and bad input is exit 2 with the culprit named.
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli as run } from '../helpers/cli.ts';

const validate = new (Ajv as any)({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync('schemas/check-result.schema.json', 'utf8')));

describe('check --reduce', () => {
  it('--json reports the reductions asked for, those that ran and why the others did not', async () => {
    const r = await run(['check', 'specs/sb-freeze-generic.json', '--reduce', 'symmetry,por', '--json', '--no-save']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const [res] = doc.results;
    expect(res.verdict.status).toBe('pass');
    expect(res.reductions.requested).toEqual(['symmetry', 'por']);
    expect(res.reductions.ran).toEqual(['por']);
    expect(res.reductions.notes.join(' ')).toMatch(/symmetry: model sb-freeze declares no group/);
  });

  it('--reduce none gives the exact unreduced counts the spec pins, and the table says nothing was reduced', async () => {
    const r = await run(['check', 'specs/philosophers-10.json', '--reduce', 'none', '--json', '--no-save']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).results[0].stats.states).toBe(6726);
    const t = await run(['check', 'specs/sb-freeze-generic-8x2x2-reduced.json', '--reduce', 'none', '--max-states', '2000', '--no-save', '--quiet']);
    expect(t.out).toMatch(/sb-freeze-generic-8x2x2-reduced: reduced by nothing/);
  });

  it('a spec asking for symmetry reports it in the table', async () => {
    const r = await run(['check', 'specs/sb-freeze-generic-8x2x2-reduced.json', '--max-states', '3000', '--no-save', '--quiet']);
    expect(r.out).toMatch(/sb-freeze-generic-8x2x2-reduced: reduced by symmetry, por/);
    expect(r.out).toMatch(/INCOMPLETE/);
  });

  it('the long scale-tier specs in specs/scale load and run with their reductions (cut short here)', async () => {
    const r = await run(['check', 'specs/scale', '--max-states', '3000', '--no-save', '--quiet']);
    expect(r.code).toBe(1); // cut short: incomplete, not the pass they expect
    expect(r.out).toMatch(/bcachefs-freeze-merged-6x6-reduced: reduced by symmetry/);
    expect(r.out).toMatch(/INCOMPLETE/);
  });

  it('an unknown reduction, on the command line or in a spec, is bad input (exit 2) naming where', async () => {
    const a = await run(['check', 'specs/abba-abba.json', '--reduce', 'symmetry,bogus']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--reduce: unknown reduction 'bogus'/);
    const b = await run(['check', 'test/fixtures/reduce/bad-reduce.json']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/\$\.reduce\[1\]: must be one of "symmetry", "por"/);
  });

  it('--check-footprints fails with exit 2, naming the guard, the state and the path', async () => {
    const r = await run(['check', 'test/fixtures/reduce/wrong-footprint.json', '--check-footprints', '--no-save']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/guard flagSet at a\.s on a\.go reads other, outside its declared footprint/);
    const ok = await run(['check', 'specs/sb-freeze-generic.json', '--check-footprints', '--no-save', '--quiet']);
    expect(ok.code).toBe(0);
  });

  it('--workers 2 applies the same reductions in its workers: the same counts as one thread', async () => {
    const args = ['check', 'specs/bcachefs-freeze-merged-large.json', '--reduce', 'symmetry,por', '--json', '--no-save'];
    const one = JSON.parse((await run(args)).out).results[0];
    const two = JSON.parse((await run([...args, '--workers', '2'])).out).results[0];
    expect(one.reductions.ran).toEqual(['symmetry', 'por']);
    expect(two.verdict.status).toBe('pass');
    expect(two.stats.states).toBe(one.stats.states);
    expect(one.stats.states).toBeLessThan(38747);
  });
});
