// Every bundled spec on 1, 2 and 3 threads (explorer/strategies/parallel.ts), stopping at the first
// violation and exploring everything: the same verdict (status, kind, name) and counterexample length
// always, and the same states, transitions and depth when exploring everything. Through the library API
// (one process; the worker threads are pooled between runs), so it stays around a minute or two. Specs whose
// whole space passes BIG_STATES run on 2 threads only: 3 threads on this 2-core machine is the slowest of the
// three runs, and it is compared on every smaller spec (the suite's time, not the check, is the limit).
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../cli/models.ts';
import { loadSpec } from '../../cli/spec.ts';
import { checkModel, type CheckRequest, type CheckResult } from '../../explorer/index.ts';

const root = resolve(import.meta.dirname, '../..');
// Specs checked by random walks (strategy random) are past exhaustive reach by design: no breadth-first
// run of theirs would end, so they are not compared here (test/explorer/strategies/random.test.ts has them).
const specs = readdirSync(resolve(root, 'specs'))
  .filter((f) => f.endsWith('.json') && loadSpec(resolve(root, 'specs', f)).strategy !== 'random')
  .sort();

const BIG_STATES = 60_000;

const summary = (r: CheckResult, counts: boolean) => ({
  status: r.verdict.status,
  kind: r.verdict.kind,
  name: r.verdict.name,
  bound: r.verdict.bound?.name,
  steps: r.trace?.steps.length,
  ...(counts ? { states: r.stats.states, transitions: r.stats.transitions, depth: r.stats.depth } : {}),
});

describe('every bundled spec: 2 and 3 threads report what one reports', () => {
  it('covers the bundled specs', () => expect(specs.length).toBeGreaterThan(50));

  for (const file of specs) {
    it(file, async () => {
      const spec = loadSpec(resolve(root, 'specs', file));
      const { def, path } = await loadModel(spec.model, resolve(root, 'specs'), file);
      const req: CheckRequest = {
        model: def,
        modelPath: path,
        params: spec.params,
        variant: spec.variant,
        check: spec.check,
        maxStates: spec.bounds?.maxStates,
        maxDepth: spec.bounds?.maxDepth,
        // The spec's own reductions: the scale-tier specs are out of reach unreduced.
        reduce: spec.reduce,
      };
      // The parallel search is breadth-first; a depth-first spec is compared on its breadth-first run.
      // Exploring everything first: when that finds no violation, stopping at the first one is the same
      // run (the flag only acts on a violation), so it is not repeated.
      let violated = false;
      let threads = [2, 3];
      for (const stopAtFirst of [false, true]) {
        if (stopAtFirst && !violated) break;
        const run = checkModel({ ...req, stopAtFirst });
        violated = run.verdict.status === 'violation';
        if (!stopAtFirst && run.stats.states > BIG_STATES) threads = [2];
        const one = summary(run, !stopAtFirst);
        for (const workers of threads) {
          expect({ workers, stopAtFirst, ...summary(checkModel({ ...req, stopAtFirst, workers }), !stopAtFirst) }).toEqual({ workers, stopAtFirst, ...one });
        }
      }
    }, 300_000);
  }
});
