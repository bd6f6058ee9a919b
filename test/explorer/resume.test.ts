// Checkpoint and resume under reductions (explorer/resume.ts): the store holds representatives and the
// frontier concrete states, both saved, so a search resumed from a checkpoint taken mid-run under
// --reduce symmetry,por ends as the uninterrupted reduced run (one thread and two); a checkpoint of
// another reduction set is refused naming the option.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import sbFreeze from '../../machines/sb-freeze/index.ts';
import { checkModel, type CheckRequest } from '../../explorer/index.ts';

const modelPath = resolve(import.meta.dirname, '../../machines/sb-freeze/index.ts');

describe('resume under --reduce symmetry,por', () => {
  it.each([1, 2])('workers %i: a run resumed from a mid-run checkpoint ends as the uninterrupted one', (workers) => {
    const req: CheckRequest = {
      model: sbFreeze,
      modelPath,
      workers,
      variant: 'umount-held',
      params: { writers: 3, umountWriters: 1, faulters: 2, intwriters: 1 },
      reduce: ['symmetry', 'por'],
      stopAtFirst: false,
    };
    const full = checkModel(req);
    expect(full.reductions!.ran).toEqual(['symmetry', 'por']);
    const saved: Uint8Array[] = [];
    checkModel({ ...req, checkpoint: { everySeconds: 0.01, write: (b) => saved.push(b.slice()) } });
    expect(saved.length).toBeGreaterThan(2);
    const resumed = checkModel({ ...req, resume: { bytes: saved[Math.floor(saved.length / 2)], file: 'mid.ckpt' } });
    const summary = (r: typeof full) => ({ verdict: r.verdict, states: r.stats.states, transitions: r.stats.transitions, depth: r.stats.depth, steps: r.trace!.steps });
    expect(summary(resumed)).toEqual(summary(full));
    expect(() => checkModel({ ...req, reduce: ['por'], resume: { bytes: saved[0], file: 'mid.ckpt' } })).toThrow(
      /mid\.ckpt: the checkpoint is from another run: its option reduce is \["por","symmetry"\], this run's is \["por"\]/,
    );
  });
});
