// `show TRACE --itf` writes ITF (Apalache ADR-015) that matches the format's shape, one state per step
// plus the initial one, and `replay` reproduces the violation from every bundled counterexample's ITF.
import Ajv from 'ajv';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromItfValue, toItfValue } from '../../cli/itf.ts';
import { runCli } from '../helpers/cli.ts';

const ajv = new (Ajv as any)({ allErrors: true, strict: false });
const validateItf = ajv.compile(JSON.parse(readFileSync('test/fixtures/itf/itf.schema.json', 'utf8')));
const traces = readdirSync('counterexamples').filter((f) => f.endsWith('.json')).sort();
const dir = mkdtempSync(join(tmpdir(), 'interleave-itf-'));

async function exportItf(name: string) {
  const r = await runCli(['show', `counterexamples/${name}`, '--itf']);
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}

describe('show --itf', () => {
  it('abba: vars pc, the context fields and mbt::actionTaken; integers as #bigint; states indexed from 0', async () => {
    const itf = await exportItf('abba-abba.json');
    expect(validateItf(itf), JSON.stringify(validateItf.errors)).toBe(true);
    expect(itf['#meta']).toMatchObject({ format: 'ITF', source: 'counterexamples/abba-abba.json' });
    // the violation named once when its name is its kind (a deadlock), as every other report does
    expect(itf['#meta'].description).toBe('interleave counterexample: abba variant abba: deadlock');
    expect(itf.vars).toEqual(['pc', 'inCritical', 'owner', 'mbt::actionTaken']);
    expect(itf.states).toHaveLength(3);
    expect(itf.states[0]).toEqual({ '#meta': { index: 0 }, pc: { task0: 'idle', task1: 'idle' }, inCritical: { '#bigint': '0' }, owner: { A: '', B: '' }, 'mbt::actionTaken': 'init' });
    expect(itf.states[2]).toMatchObject({ '#meta': { index: 2 }, owner: { A: 'task0', B: 'task1' }, 'mbt::actionTaken': 'task1.lock_B' });
  });

  it('a lasso gets the ITF loop index of the state its loop returns to', async () => {
    const trace = JSON.parse(readFileSync('counterexamples/liveness-spin-unfair.json', 'utf8'));
    const itf = await exportItf('liveness-spin-unfair.json');
    expect(itf.loop).toBe(trace.loopStart - 1);
  });

  it('values round-trip: null, records with # keys, nested lists', () => {
    const v = { a: null, b: [1, [2, -3]], c: { '#set': 'x', y: true } };
    const itf = toItfValue(v as any, 'v');
    expect(itf).toEqual({ a: { '#unserializable': 'null' }, b: [{ '#bigint': '1' }, [{ '#bigint': '2' }, { '#bigint': '-3' }]], c: { '#map': [['#set', 'x'], ['y', true]] } });
    expect(fromItfValue(itf, 'v')).toEqual(v);
  });

  it('every bundled counterexample exports valid ITF that replay reproduces', async () => {
    for (const name of traces) {
      const itf = await exportItf(name);
      expect(validateItf(itf), `${name}: ${JSON.stringify(validateItf.errors)}`).toBe(true);
      const file = join(dir, name.replace(/\.json$/, '.itf.json'));
      writeFileSync(file, JSON.stringify(itf));
      const r = await runCli(['replay', file]);
      expect(r.out, name).toMatch(/^REPRODUCED /);
      expect(r.code).toBe(0);
    }
  }, 120_000);

  it('an ITF trace without interleave metadata is bad input naming the file and the path', async () => {
    const file = join(dir, 'foreign.itf.json');
    writeFileSync(file, JSON.stringify({ vars: ['x'], states: [{ '#meta': { index: 0 }, x: { '#bigint': '1' } }] }));
    const r = await runCli(['replay', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}: $["#meta"].interleave: missing`);
    expect(r.err).not.toContain('    at ');
  });
});
