// A worker thread of the parallel search that dies is noticed at once (not after the 120 s of silence that
// takes a thread for dead), and the run ends with an internal error naming what died and why.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../../explorer/index.ts';

const modelPath = resolve(import.meta.dirname, '../../fixtures/models/dying-worker.ts');

describe('--workers: a worker thread that dies', () => {
  it('exiting inside a round (process.exit): an error at once naming the thread, its exit code and the round', async () => {
    const model = (await import(modelPath)).default;
    const t0 = Date.now();
    expect(() => checkModel({ model, modelPath, workers: 2, params: { how: 0 } })).toThrow(
      /^worker thread 1 of the parallel search \(partition 1 of 2\) exited \(exit code 7\) while running round \d+: it ended without an answer$/,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);

  it('a callback the model queued throwing between two messages: the error, at once', async () => {
    const model = (await import(modelPath)).default;
    const t0 = Date.now();
    expect(() => checkModel({ model, modelPath, workers: 2, params: { how: 1 } })).toThrow(/a callback of the model threw/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);

  it('stopping without a word (out of memory, a crash: no JavaScript runs, no exit handler): an error within seconds', async () => {
    const model = (await import(modelPath)).default;
    const t0 = Date.now();
    expect(() => checkModel({ model, modelPath, workers: 2, params: { how: 2 } })).toThrow(
      /^worker thread 1 of the parallel search \(partition 1 of 2\) stopped while running round \d+, without a word: it ran out of memory or crashed/,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);

  it('check ends with exit 3 (an internal error) and the message', async () => {
    const { runCli } = await import('../../helpers/cli.ts');
    const r = await runCli(['check', modelPath, '--workers', '2', '--param', 'how=0']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/internal error: .*worker thread 1 of the parallel search \(partition 1 of 2\) exited \(exit code 7\) while running round \d+/);
  }, 30_000);
});
