// Every bundled spec under --reduce symmetry,por: the same verdict (status, kind, name) as its expectation, which
// `interleave check` earns unreduced (specs that already ask for reductions are checked as they are by
// `interleave check`), and every counterexample found reduced replays on the unreduced model.
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../cli/models.ts';
import { loadSpec } from '../../../cli/spec.ts';
import { checkModel, instantiate, selectInvariants } from '../../../explorer/index.ts';
import { replayTrace } from '../../../explorer/replay.ts';

const dir = resolve(import.meta.dirname, '../../../specs');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('bundled specs under --reduce symmetry,por', () => {
  for (const f of files) {
    const spec = loadSpec(join(dir, f));
    if (spec.reduce?.length) continue;
    it(f, async () => {
      const { def } = await loadModel(spec.model, dirname(join(dir, f)), f);
      const r = checkModel({
        model: def,
        params: spec.params,
        variant: spec.variant,
        check: spec.check,
        strategy: spec.strategy,
        seed: spec.seed,
        // Random-walk specs: at most 20 walks here (the spec's 1000 on the 5/1/5/5 generic instance take many seconds).
        walks: spec.strategy === 'random' ? Math.min(spec.bounds?.walks ?? 20, 20) : undefined,
        timeoutSeconds: spec.bounds?.timeoutSeconds,
        maxStates: spec.bounds?.maxStates,
        maxDepth: spec.bounds?.maxDepth,
        stopAtFirst: spec.check?.stopAtFirst,
        reduce: ['symmetry', 'por'],
      });
      expect(r.reductions?.requested).toEqual(['symmetry', 'por']);
      const e = spec.expect;
      expect({ status: r.verdict.status, ...(e.kind ? { kind: r.verdict.kind } : {}), ...(e.name ? { name: r.verdict.name } : {}) }).toEqual({
        status: e.status,
        ...(e.kind ? { kind: e.kind } : {}),
        ...(e.name ? { name: e.name } : {}),
      });
      if (r.trace) {
        // the reduced counterexample is a path of the unreduced model, in the original thread names
        const space = instantiate(def, r.params, r.variant);
        const replay = replayTrace(space, def, r.trace, selectInvariants(def, r.params, r.variant, true));
        expect(replay.status, replay.reason).toBe('reproduced');
      }
    });
  }
});
