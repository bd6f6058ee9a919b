// Review of the counterexamples and how results are seen: what the tool writes (check --json, swarm shards, traces)
// validates against its own schemas and is read back; the text of `show` says what the trace holds.
import Ajv from 'ajv';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const ajv = new (Ajv as any)({ allErrors: true, strict: false });
const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(`schemas/${name}.schema.json`, 'utf8')));
const work = mkdtempSync(join(tmpdir(), 'interleave-trace-review-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('what the tool writes validates against its schemas', () => {
  it('check --json of a lock-order violation follows schemas/check-result.schema.json', async () => {
    const validate = schema('check-result');
    const r = await runCli(['check', 'specs/sb-freeze-umount-held-lock-order.json', '--json', '--no-save']);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.results[0].verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });
});
