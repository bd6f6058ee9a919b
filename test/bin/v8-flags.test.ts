// The V8 flags bin/interleave.js sets at run time, kept with --workers: a worker thread's heap set-up puts the
// young generation's growth factor (one flag for the whole process) back to V8's own, and the pool sets the
// CLI's flags again once a worker has started (explorer/parallel/pool.ts). Seen from outside: the main thread's
// young generation ends no larger with two workers than with one thread.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const probe = join(tmpdir(), `interleave-new-space-probe-${process.pid}.cjs`);
writeFileSync(
  probe,
  "process.on('exit', () => { const s = require('v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space'); process.stderr.write('\\nNEW_SPACE ' + s.space_size + '\\n'); });\n",
);

function newSpaceAfter(extra: string[]): number {
  const r = spawnSync(process.execPath, ['-r', probe, 'bin/interleave.js', 'check', 'specs/bcachefs-fiemap-final.json', '--json', '--no-save', ...extra], { encoding: 'utf8' });
  expect(r.stdout).toContain('"results"');
  const line = r.stderr.split('\n').find((l) => l.startsWith('NEW_SPACE '));
  expect(line).toBeDefined();
  return Number(line!.slice('NEW_SPACE '.length));
}

describe('the CLI run-time V8 flags', () => {
  it('keep the main thread young generation at its size when worker threads start', () => {
    const alone = newSpaceAfter([]);
    const withWorkers = newSpaceAfter(['--workers', '2']);
    expect(withWorkers).toBeLessThanOrEqual(alone);
  });
});
