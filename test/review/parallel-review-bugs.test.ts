// Review of the parallel search (commit 059ff59). Each `it` states the behaviour the sequential search /
// the CLI promise; the first two failed before the fixes (a shared maxStates budget; workers read `model` exports too).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { runSpec } from '../../cli/check.ts';
import { checkModel, type CheckRequest } from '../../explorer/index.ts';

const root = resolve(import.meta.dirname, '../..');

async function philosophersOrdered8(): Promise<CheckRequest> {
  const modelPath = resolve(root, 'machines/philosophers/index.ts');
  const model = (await import(modelPath)).default;
  return { model, modelPath, params: { n: 8 }, variant: 'ordered' };
}

describe('review: parallel search', () => {
  // FAILS: explorer/parallel/search.ts:359 splits the remaining budget evenly, floor((maxStates - states) / W),
  // so a partition that finds more than its share reports maxStates although the whole space fits.
  it('maxStates = the exact state count passes, as in the sequential search', async () => {
    const req = await philosophersOrdered8();
    const one = checkModel(req);
    expect(one.verdict.status).toBe('pass');
    const seqAtLimit = checkModel({ ...req, maxStates: one.stats.states });
    expect(seqAtLimit.verdict.status).toBe('pass');
    const par = checkModel({ ...req, maxStates: one.stats.states, workers: 2 });
    expect(par.verdict).toEqual(seqAtLimit.verdict);
    expect(par.stats.states).toBe(one.stats.states);
  });

  // FAILS: cli/models.ts accepts `export const model = defineModel(...)` (mod.default ?? mod.model), but
  // explorer/parallel/worker.ts:22 reads only mod.default: the worker dies with a TypeError that reaches
  // the user as an "internal error".
  it('a user model exported as `model` (accepted by the CLI) also runs with --workers 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'par-review-'));
    writeFileSync(join(dir, 'named.mts'), `export { default as model } from ${JSON.stringify(resolve(root, 'machines/abba/index.ts'))};\n`);
    const spec = { model: './named.mts', variant: 'ordered', expect: { status: 'pass' } };
    writeFileSync(join(dir, 'named.json'), JSON.stringify(spec));
    const seq = await runSpec(join(dir, 'named.json'), { outDir: dir, save: false });
    expect(seq.error).toBeUndefined();
    expect(seq.matched).toBe(true);
    const par = await runSpec(join(dir, 'named.json'), { outDir: dir, save: false, workers: 2 });
    expect(par.error).toBeUndefined();
    expect(par.matched).toBe(true);
  });

  // PIN (passes on Node 20): search.ts:320 computes `deadline` on the main thread's performance.now() and
  // partition.ts:161 compares it with the worker's performance.now(). That is only sound because workers
  // share the process's timeOrigin; if this ever fails, worker rounds overrun --timeout.
  it("a deadline on the main thread's performance.now() clock means the same instant in a worker", async () => {
    // Let the main clock run for a while first (a sleep, not CPU work).
    const sab = new Int32Array(new SharedArrayBuffer(4));
    while (performance.now() < 1500) Atomics.wait(sab, 0, 0, 100);
    const before = performance.now();
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(performance.now())', { eval: true });
    const workerNow = await new Promise<number>((res) => w.once('message', res));
    const after = performance.now();
    await w.terminate();
    expect(workerNow).toBeGreaterThanOrEqual(before - 50);
    expect(workerNow).toBeLessThanOrEqual(after + 50);
  });
});
