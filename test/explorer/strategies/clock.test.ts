// The search clock's time source (explorer/strategies/clock.ts): monotonic milliseconds from process.hrtime, so a
// search does not load node:perf_hooks (the global `performance` does at its first use, inside the first search's
// time).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { monotonicMs } from '../../../explorer/strategies/clock.ts';

describe('monotonicMs', () => {
  it('runs on as performance.now() does, and never backwards', () => {
    const a = monotonicMs();
    const p = performance.now();
    let last = a;
    let backwards = false;
    for (let i = 0; i < 100000; i++) {
      const t = monotonicMs();
      if (t < last) backwards = true;
      last = t;
    }
    const waited = performance.now() - p;
    expect(backwards).toBe(false);
    expect(Math.abs(last - a - waited)).toBeLessThan(5);
  });

  it('a check through the CLI never loads node:perf_hooks', () => {
    const probe = join(tmpdir(), `interleave-perf-probe-${process.pid}.cjs`);
    writeFileSync(probe, "process.on('exit', () => process.stderr.write('\\nLOADED ' + process.moduleLoadList.filter((m) => /perf_hooks|internal\\/perf\\/performance$/.test(m)).join(',') + '\\n'));\n");
    const r = spawnSync(process.execPath, ['-r', probe, 'bin/interleave.js', 'check', 'specs/abba-abba.json', '--json', '--no-save'], { encoding: 'utf8' });
    expect(r.stdout).toContain('"results"');
    const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED'));
    expect(line).toBe('LOADED ');
  });
});
