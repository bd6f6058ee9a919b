// Adversarial review of the search's other ways of running: --workers, --checkpoint/--resume, bitstate, random
// walks, swarms and the bounds. Each test pins a behaviour the README promises and that failed before its fix.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';

const root = resolve(import.meta.dirname, '../../..');
const fixture = async (name: string) => {
  const modelPath = resolve(root, 'test/fixtures/models', `${name}.ts`);
  return { model: (await import(modelPath)).default, modelPath };
};

describe('--workers: the verdict of one thread', () => {
  it('exploring everything, a state that breaks an invariant wins over a deadlock at the same depth, on every thread count', async () => {
    // two-moves: from the initial state, `bad` breaks the invariant (depth 1) and `stuck` is a dead end (depth 1).
    // One thread checks the broken state when it generates it, before it expands the dead end: the invariant.
    // The partitioned search took the deadlock when a lower partition owned the dead end (salt 0: 3 threads; 4: 2).
    const { model, modelPath } = await fixture('two-moves');
    for (const salt of [0, 4]) {
      for (const workers of [1, 2, 3]) {
        const r = checkModel({ model, modelPath, workers, params: { salt }, stopAtFirst: false });
        expect({ salt, workers, kind: r.verdict.kind, name: r.verdict.name, steps: r.trace?.steps.length }).toEqual({ salt, workers, kind: 'invariant', name: 'intact', steps: 1 });
      }
    }
  });
});

describe('--resume: a checkpoint of another model is refused', () => {
  it('a model changed since the checkpoint (same name, variant and params) is refused naming the file and the fix', async () => {
    const phil = (await import('../../../machines/philosophers/index.ts')).default;
    const req = { model: phil, params: { n: 10 }, variant: 'ordered', stopAtFirst: false };
    const saved: Uint8Array[] = [];
    checkModel({ ...req, checkpoint: { everySeconds: 0.001, write: (b) => saved.push(b.slice()) } });
    expect(saved.length).toBeGreaterThan(1);
    const resume = { bytes: saved[0], file: 'run.ckpt' };
    // The same model resumes (to the uninterrupted run, test/explorer/resume.test.ts).
    expect(checkModel({ ...req, resume }).verdict.status).toBe('pass');
    // The model file edited between the two runs: philosophers' naive order, under the same name, variant and params.
    // Resumed, it went on from the old model's states: 8119 states and a deadlock (the edited model alone: 6726).
    const edited = { ...phil, create: (o: Parameters<typeof phil.create>[0]) => phil.create({ ...o, variant: 'naive' }) };
    expect(() => checkModel({ ...req, model: edited, resume })).toThrow(/^run\.ckpt: the checkpoint is of another version of model philosophers: .*start afresh without --resume/);
  });
});

describe('--max-depth landing exactly on the deepest state', () => {
  it('cuts nothing when every successor past the bound is a state already stored: pass, as without the bound, on every thread count', async () => {
    // random-small seeds whose deepest states only lead back to stored states (seed 12: one state, a self-loop, at
    // depth 0). Only a new successor past the bound cuts the search (as the liveness search already counted it);
    // before, any successor did, and the whole space explored was reported incomplete.
    const { model, modelPath } = await fixture('random-small');
    const summary = (r: ReturnType<typeof checkModel>) => ({ status: r.verdict.status, bound: r.verdict.bound?.name, states: r.stats.states, transitions: r.stats.transitions, depth: r.stats.depth });
    for (const seed of [1, 4, 12, 27]) {
      const req = { model, modelPath, params: { seed }, stopAtFirst: false };
      const free = checkModel(req);
      expect(free.verdict.status).toBe('pass');
      for (const workers of [1, 2, 3]) {
        expect({ seed, workers, ...summary(checkModel({ ...req, workers, maxDepth: free.stats.depth })) }).toEqual({ seed, workers, ...summary(free) });
        if (free.stats.depth > 0) {
          const cut = checkModel({ ...req, workers, maxDepth: free.stats.depth - 1 });
          expect({ seed, workers, verdict: cut.verdict.status, bound: cut.verdict.bound?.name }).toEqual({ seed, workers, verdict: 'incomplete', bound: 'maxDepth' });
        }
      }
    }
  });
});

describe('swarm on a spec that checks the lock order', () => {
  it('plans depth-first jobs instead of random walks (which cannot record the lock order), so every shard runs', async () => {
    // Before, shard 2 of 3 (random walks) was refused, "drop --strategy random or --lock-order", options the user
    // never gave; in a swarm --jobs run that stopped the other jobs, and the swarm ended with exit 2 and no result.
    const { runShard } = await import('../../../cli/swarm.ts');
    const spec = resolve(root, 'specs/sb-freeze-umount-held-lock-order.json');
    const r = await runShard(spec, 2, 3, { timeoutSeconds: 20 });
    expect(r.job.strategy).toBe('dfs');
    expect({ status: r.verdict.status, kind: r.verdict.kind }).toEqual({ status: 'violation', kind: 'lock-order' });
  });
});

describe('random walks: a budget that can never be met', () => {
  it('--max-states above the states there are, without --walks or --timeout, still ends (the default 60 s), incomplete', async () => {
    // random-small seed 1 has 8 states: 100000 distinct states are never seen, and the walks went on forever.
    // The clock is made to run fast (each read a second later), so the 60 s pass in a moment; a run still going after
    // 1000 s of that clock fails instead of hanging.
    const { model, modelPath } = await fixture('random-small');
    const real = process.hrtime;
    let t = 0;
    const fast = (() => {
      t += 1;
      if (t > 1000) throw new Error('the random walks did not stop');
      return [Math.floor(t), Math.floor((t % 1) * 1e9)];
    }) as typeof process.hrtime;
    fast.bigint = real.bigint;
    process.hrtime = fast;
    let r;
    try {
      r = checkModel({ model, modelPath, params: { seed: 1 }, strategy: 'random', seed: 3, maxStates: 100_000 });
    } finally {
      process.hrtime = real;
    }
    expect(r.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'timeout', limit: 60 } });
    expect(r.stats.states).toBeLessThanOrEqual(8);
  });
});

describe('random walks: the state a walk ends in at --max-depth', () => {
  it('is checked for deadlock, as the breadth-first search checks the states at its depth bound', async () => {
    // philosophers n=3 deadlocks after 3 steps. Walks of at most 3 steps reached the dead state (2000 walks) but
    // never expanded it, so they reported incomplete where --strategy bfs --max-depth 3 reports the deadlock.
    const phil = (await import('../../../machines/philosophers/index.ts')).default;
    const req = { model: phil, params: { n: 3 }, variant: 'naive', maxDepth: 3 };
    expect(checkModel(req).verdict.kind).toBe('deadlock');
    const r = checkModel({ ...req, strategy: 'random', seed: 1, walks: 2000 });
    expect({ status: r.verdict.status, kind: r.verdict.kind, steps: r.trace?.steps.length }).toEqual({ status: 'violation', kind: 'deadlock', steps: 3 });
    // --max-depth 0: the walks do not step at all, and the initial state is still checked.
    const dead = defineModel({
      name: 'dead-at-start',
      description: 'a thread whose only step is never enabled',
      params: {},
      variants: { only: { description: 'the only one' } },
      defaultVariant: 'only',
      create: () => setup({ guards: { never: () => false } }).createMachine({ type: 'parallel', states: { t: { initial: 'a', states: { a: { on: { 't.go': { target: 'b', guard: 'never' } } }, b: { type: 'final' } } } } }),
    });
    expect(checkModel({ model: dead, maxDepth: 0 }).verdict.kind).toBe('deadlock');
    expect(checkModel({ model: dead, maxDepth: 0, strategy: 'random', seed: 1, walks: 3 }).verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
  });
});

describe('--workers on a spec checked by random walks', () => {
  it('is refused naming the spec, its $.strategy and the fix, not an option --strategy random the user never gave', async () => {
    const { runSpec } = await import('../../../cli/check.ts');
    const r = await runSpec(resolve(root, 'specs/sb-freeze-umount-held-5-random.json'), { outDir: root, save: false, workers: 2 });
    expect(r.error?.kind).toBe('input');
    expect(r.error?.message).toMatch(/sb-freeze-umount-held-5-random\.json: option --workers 2: the spec asks for "strategy": "random" \(\$\.strategy\).*drop --workers for this spec/);
  });
});
