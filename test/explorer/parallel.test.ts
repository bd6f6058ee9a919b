// The parallel search (explorer/parallel/): the same states, transitions and verdicts as the sequential
// search on bundled specs (models with strings in their context included), a counterexample of the same
// shortest length that replays, bounds that make a run incomplete, and a model error raised in a worker
// thread reported as the same error in the main thread.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModel, type CheckRequest } from '../../explorer/index.ts';
import { ModelRuntimeError, InputError } from '../../explorer/errors.ts';

const root = resolve(import.meta.dirname, '../..');

async function fromSpec(name: string): Promise<CheckRequest> {
  const spec = JSON.parse(readFileSync(resolve(root, 'specs', `${name}.json`), 'utf8'));
  const modelPath = resolve(root, 'machines', spec.model, 'index.ts');
  const model = (await import(modelPath)).default;
  return { model, modelPath, params: spec.params, variant: spec.variant, check: spec.check };
}

describe('parallel search', () => {
  // One or two specs per model, with violations of every safety kind and passes.
  const specs = [
    'philosophers-8',
    'philosophers-ordered-8',
    'abba-abba',
    'sb-freeze-umount-held',
    'sb-freeze-generic',
    'xfs-inodegc-posted',
    'xfs-inodegc-mainline',
    'bcachefs-fiemap-v2-invariant',
    'btrfs-send-no-reloc-check-full',
    'file-write-freeze-pagefault-first',
  ];

  for (const name of specs) {
    it(`${name}: two threads find what one finds`, async () => {
      const req = await fromSpec(name);
      for (const stopAtFirst of [false, true]) {
        const one = checkModel({ ...req, stopAtFirst });
        const two = checkModel({ ...req, stopAtFirst, workers: 2 });
        expect(two.verdict.status).toBe(one.verdict.status);
        expect(two.verdict.kind).toBe(one.verdict.kind);
        expect(two.trace?.steps.length).toBe(one.trace?.steps.length);
        if (!stopAtFirst) {
          expect(two.stats.states).toBe(one.stats.states);
          expect(two.stats.transitions).toBe(one.stats.transitions);
          expect(two.stats.depth).toBe(one.stats.depth);
        }
        if (two.trace) {
          // buildTrace replayed the recorded path; the violation it ends in is the one reported.
          expect(two.trace.violation.kind).toBe(two.verdict.kind);
        }
      }
    });
  }

  it('stop-at-first: a state that breaks an invariant on arrival wins over a deadlock one level deeper, on every thread count', async () => {
    // Two moves from the initial state: one breaks the invariant, the other reaches a dead end. One thread
    // reports the invariant (found while generating depth 1, before the dead end is expanded). Before the
    // fix, the state received by another partition was checked but still expanded, and the level was not
    // stopped, so the dead end's deadlock in a lower-numbered partition won (salt 7: 2 workers; 4: 3).
    const modelPath = resolve(root, 'test/fixtures/models/two-moves.ts');
    const model = (await import(modelPath)).default;
    for (const salt of [7, 4]) {
      for (const workers of [1, 2, 3]) {
        const r = checkModel({ model, modelPath, workers, params: { salt } });
        expect({ salt, workers, status: r.verdict.status, kind: r.verdict.kind, name: r.verdict.name, steps: r.trace?.steps.length }).toEqual({
          salt,
          workers,
          status: 'violation',
          kind: 'invariant',
          name: 'intact',
          steps: 1,
        });
      }
    }
  });

  it('is deterministic: the same counterexample every run', async () => {
    const req = await fromSpec('sb-freeze-umount-held');
    const a = checkModel({ ...req, workers: 2 });
    const b = checkModel({ ...req, workers: 2 });
    expect(JSON.stringify(b.trace)).toBe(JSON.stringify(a.trace));
  });

  it('a run cut by maxStates or maxDepth is incomplete, never pass', async () => {
    const req = await fromSpec('philosophers-ordered-8');
    const cut = checkModel({ ...req, workers: 2, maxStates: 100 });
    expect(cut.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxStates', limit: 100 } });
    expect(cut.stats.states).toBeLessThanOrEqual(100);
    const shallow = checkModel({ ...req, workers: 2, maxDepth: 3 });
    expect(shallow.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxDepth', limit: 3 } });
  });

  it('reports a guard that throws in the worker thread as the same model error', () => {
    const modelPath = resolve(root, 'test/fixtures/models/throwing-guard.ts');
    return import(modelPath).then(({ default: model }) => {
      // Both threads meet the throwing guard's states; whichever does, the error names the guard.
      expect(() => checkModel({ model, modelPath, workers: 2 })).toThrow(ModelRuntimeError);
      expect(() => checkModel({ model, modelPath, workers: 2 })).toThrow(/guard .* threw/);
    });
  });

  it('needs the model module and the breadth-first strategy', async () => {
    const req = await fromSpec('abba-abba');
    expect(() => checkModel({ ...req, modelPath: undefined, workers: 2 })).toThrow(InputError);
    expect(() => checkModel({ ...req, workers: 2, strategy: 'dfs' })).toThrow(/breadth-first/);
    expect(() => checkModel({ ...req, workers: 0 })).toThrow(/workers/);
  });
});
