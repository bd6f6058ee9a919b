// `show` that fits: threads that never move are listed once below the table, --threads picks columns,
// --fold folds runs of steps by one thread (naming them), --width wraps; sb-freeze-umount-held-large fits
// in 200 columns by default and in 80 with --width 80.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wrapText } from '../../cli/diagram.ts';
import { runCli } from '../helpers/cli.ts';

const LARGE = 'counterexamples/sb-freeze-umount-held-large.json';
const trace = JSON.parse(readFileSync(LARGE, 'utf8')) as { steps: { step: number; threads: string[] }[] };
const n = trace.steps.length;
/** The step where faulter0 starts, and its next one (faulter0 runs two steps in a row, nobody between). */
const f0 = trace.steps.find((s) => s.threads[0] === 'faulter0')!.step;
const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

describe('show fits', () => {
  it('sb-freeze-umount-held-large: at most 200 columns by default, idle threads listed once, every step shown', async () => {
    const r = await runCli(['show', LARGE]);
    expect(r.code).toBe(0);
    expect(widest(r.out)).toBeLessThanOrEqual(200);
    const head = r.out.split('\n').find((l) => l.startsWith('step'))!;
    expect(head).toContain('freezer');
    expect(head).not.toMatch(/│ writer1 /);
    expect(r.out).toContain('Threads never moved, at idle: writer1, writer2, writer3');
    expect(r.out).toContain('Threads never moved, at wait_fifreeze: thawer');
    for (let s = 1; s <= n; s++) expect(r.out).toMatch(new RegExp(`^ +${s} │`, 'm'));
  });

  it('--width 80 fits in 80 columns and still names every step and the verdict', async () => {
    const r = await runCli(['show', LARGE, '--width', '80']);
    expect(widest(r.out)).toBeLessThanOrEqual(80);
    expect(r.out).toContain('sb_start_write → in_sb_write.down_read_s_umount');
    expect(r.out).toContain(`Verdict: DEADLOCK after ${n} steps`);
    expect(r.out).toContain('*** DEADLOCK ***');
  });

  it('--fold folds runs by one thread into one row naming the folded steps, with the net changes', async () => {
    const r = await runCli(['show', LARGE, '--fold']);
    expect(r.out).toMatch(/^ +1-2 │ F1_down_write_s_/m);
    expect(trace.steps[f0].threads).toEqual(['faulter0']);
    expect(r.out).toMatch(new RegExp(`^ +${f0}-${f0 + 1} │ .*sb_start_pagefault,\\s`, 'm'));
    expect(r.out).toMatch(/^ +│ .*sb_end_pagefault →\s/m);
    // faulter0 took and dropped its read lock: no net change in the folded row.
    expect(r.out).not.toMatch(new RegExp(`^ +${f0}-${f0 + 1} │.*readers`, 'm'));
    expect(r.out).not.toMatch(new RegExp(`^ +${f0} │`, 'm'));
  });

  it('--threads picks the columns; steps by the others are named beside their row', async () => {
    const r = await runCli(['show', LARGE, '--threads', 'writer0,freezer']);
    const head = r.out.split('\n').find((l) => l.startsWith('step'))!;
    expect(head.split('│').map((c) => c.trim())).toEqual(['step', 'writer0', 'freezer', 'frozen', 'changes']);
    expect(r.out).toMatch(new RegExp(`^ +${f0} │.*\\(faulter0: sb_start_pagefault → in_sb_pagefault`, 'm'));
    expect(r.out).toContain('Threads not shown, at done: faulter0, faulter1, intwriter0, intwriter1');
  });

  it('bad --threads and --width are bad input (exit 2) naming the fix', async () => {
    const r = await runCli(['show', LARGE, '--threads', 'freezer,nobody']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--threads: the trace has no thread nobody (its threads: freezer, thawer,');
    const w = await runCli(['show', LARGE, '--width', '10']);
    expect(w.code).toBe(2);
    expect(w.err).toContain('option --width "10": expected a whole number of at least 40');
  });

  it('wrapText breaks at spaces, then after a dot, and never loses text', () => {
    expect(wrapText('lock_A → holdsFirst', 10)).toEqual(['lock_A →', 'holdsFirst']);
    expect(wrapText('freeze_super.F7_sb_wait_write', 16)).toEqual(['freeze_super.', 'F7_sb_wait_write']);
    const long = 'x'.repeat(25);
    expect(wrapText(long, 10).join('')).toBe(long);
  });
});
