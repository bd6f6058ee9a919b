// A model outside machines/ that uses the kernel helpers type-checks with a plain typed setup() and no
// casts under its own strict tsconfig (exactOptionalPropertyTypes and noUncheckedIndexedAccess included: the
// whole of machines/kernel, which the model imports, passes both), and runs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../../explorer/index.ts';
import outside from '../../fixtures/outside-model/model.ts';

describe('a model outside machines/', () => {
  it('type-checks with tsc under its own strict tsconfig, without casts', () => {
    const dir = join(import.meta.dirname, '../../fixtures/outside-model');
    const tsc = join(import.meta.dirname, '../../../node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    const options = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')).compilerOptions;
    expect(options).toMatchObject({ strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'model.ts'), 'utf8')).not.toMatch(/\bas any\b/);
  });

  it('runs: FIFREEZE then FITHAW against a writer that takes s_umount inside sb_start_write passes', () => {
    expect(checkModel({ model: outside }).verdict).toEqual({ status: 'pass' });
  });
});
