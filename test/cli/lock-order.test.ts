// The lock-order check through the CLI: the spec field, --lock-order, the verdict kind and name, the saved
// trace (schema-valid, one trace per edge), show's lockdep text, and replay on the buggy and fixed variants.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { validateTraceObject } from '../../cli/spec.ts';

describe('lock order on the command line', () => {
  it('a lockOrder spec: verdict lock-order named by the cycle, a valid trace, show and replay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interleave-lo-'));
    const r = await runCli(['check', 'specs/sb-freeze-umount-held-lock-order.json', '--json', '--out', dir]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out).results[0];
    expect(res.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'sb_writers -> s_umount -> sb_writers' });
    const file = join(dir, 'sb-freeze-umount-held-lock-order.json');
    const trace = JSON.parse(readFileSync(file, 'utf8'));
    expect(validateTraceObject(trace)).toEqual([]);
    expect(trace.lockOrder.edges.map((x: any) => x.thread)).toEqual(['writer0', 'freezer']);
    const show = await runCli(['show', file]);
    expect(show.out).toContain('WARNING: possible circular locking dependency detected');
    expect(show.out).toContain('rlock(sb_writers);');
    expect((await runCli(['replay', file])).code).toBe(0);
    const fixed = await runCli(['replay', file, '--variant', 'generic']);
    expect(fixed.code).toBe(1);
    expect(fixed.out + fixed.err).toMatch(/edge #1 s_umount -> sb_writers: step/);
  });

  it('--lock-order turns the check on for a spec that does not ask for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interleave-lo-'));
    const spec = join(dir, 'umount-held-no-deadlock.json');
    writeFileSync(spec, JSON.stringify({ model: 'sb-freeze', variant: 'umount-held', check: { deadlock: false }, expect: { status: 'pass' } }));
    const off = await runCli(['check', spec, '--json', '--no-save']);
    expect(JSON.parse(off.out).results[0].verdict).toEqual({ status: 'pass' });
    const on = await runCli(['check', spec, '--json', '--no-save', '--lock-order']);
    expect(on.code).toBe(1);
    expect(JSON.parse(on.out).results[0].verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
  });
});
