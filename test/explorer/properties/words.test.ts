// Invariants checked on the packed words (explorer/properties/words.ts): every declared invariant of a
// bundled model has its function's truth on the first 5,000 reachable states of each run (every variant at
// small parameters, and the bundled specs' small runs), or BAILs; and the search's word check says "holds"
// only where every invariant holds and no state assertion applies. The check is not vacuous: states where an invariant is false are met.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAllBundled } from '../../../cli/models.ts';
import { compileMachine } from '../../../explorer/compile/index.ts';
import { Linker } from '../../../explorer/compile/lower/link.ts';
import { BAIL } from '../../../explorer/compile/lower/words.ts';
import { resolveParams } from '../../../explorer/index.ts';
import { PackedSystem } from '../../../explorer/packed.ts';
import { invariantExpr, wordInvariants } from '../../../explorer/properties/words.ts';
import { StateSpace } from '../../../explorer/space/index.ts';
import { rng } from '../../helpers/rng.ts';

const models = await loadAllBundled();
const SPECS = join(import.meta.dirname, '../../../specs');
const declared = models.filter((m) => Object.values(m.invariants ?? {}).some((fn) => invariantExpr(fn) !== undefined));

/** The bundled specs' (model, variant, params), small ones only (not -large, reduced or random). */
const specRuns = readdirSync(SPECS)
  .filter((f) => f.endsWith('.json') && !/large|reduced|random|scale/.test(f))
  .map((f) => JSON.parse(readFileSync(join(SPECS, f), 'utf8')) as { model: string; variant?: string; params?: Record<string, unknown> });

/** The context with one scalar or list changed at random (a flag flipped, a count moved, a holder added or removed). */
function mutate(ctx: any, r: () => number, names: string[]): any {
  const spots: Array<[any, string | number]> = [];
  const walk = (o: any) => {
    if (o === null || typeof o !== 'object') return;
    for (const k of Object.keys(o)) {
      spots.push([o, Array.isArray(o) ? Number(k) : k]);
      walk(o[k]);
    }
  };
  walk(ctx);
  if (spots.length === 0) return ctx;
  const [o, k] = spots[Math.floor(r() * spots.length)];
  const v = o[k];
  const name = names[Math.floor(r() * names.length)];
  if (typeof v === 'boolean') o[k] = !v;
  else if (typeof v === 'number') o[k] = r() < 0.5 ? v + 1 : Math.max(0, v - 1);
  else if (v === null) o[k] = r() < 0.5 ? name : true;
  else if (typeof v === 'string') o[k] = r() < 0.5 ? null : name;
  else if (Array.isArray(v)) {
    if (v.length > 0 && r() < 0.5) v.pop();
    else v.push(typeof v[0] === 'number' ? 1 : typeof v[0] === 'boolean' ? true : name);
  }
  return ctx;
}

/** Every reachable state's words (the word path on), the first `cap` found. */
function reachable(packed: PackedSystem, cap = 5_000): Int32Array[] {
  const space = new StateSpace(packed);
  const init = space.initial();
  const key = (w: Int32Array) => w.join(',');
  const seen = new Map<string, Int32Array>([[key(init.words), init.words.slice()]]);
  const queue = [init.words.slice()];
  while (queue.length && seen.size < cap) {
    space.expand(queue.pop()!, (_e, next, len) => {
      const w = next.slice(0, len);
      if (!seen.has(key(w))) {
        seen.set(key(w), w);
        queue.push(w);
      }
    });
  }
  return [...seen.values()];
}

describe('invariants on the packed words', () => {
  it('some bundled models declare their invariants', () => {
    expect(declared.map((m) => m.name)).toEqual(expect.arrayContaining(['sb-freeze', 'bcachefs-freeze', 'file-write-freeze', 'btrfs-send']));
  });
  const tally = { agreed: 0, falseAgreed: 0, bailed: 0, falseNames: new Set<string>(), mutantsFalse: 0 };
  for (const model of declared) {
    // Every variant at the small parameters, and the bundled specs' runs of the model (where invariants fail).
    const runs = [
      ...Object.keys(model.variants).map((variant) => ({ variant, params: model.smallParams ?? {} })),
      ...specRuns.filter((r) => r.model === model.name).map((r) => ({ variant: r.variant ?? Object.keys(model.variants)[0], params: r.params ?? {} })),
    ].filter((r, i, all) => all.findIndex((o) => JSON.stringify(o) === JSON.stringify(r)) === i);
    for (const { variant, params: given } of runs) {
      it(`${model.name} / ${variant} ${JSON.stringify(given)}: each declaration has its function's truth on its first 5,000 reachable states`, () => {
        const params = resolveParams(model, given);
        const system = compileMachine(model.create({ params, variant }));
        const packed = new PackedSystem(system, { lowered: true });
        const invariants = Object.entries(model.invariants ?? {});
        const linker = new Linker(packed.codec, packed.threadCount, system.threads);
        const preds = invariants.map(([name, fn]) => {
          const e = invariantExpr(fn);
          return { name, fn, word: e === undefined ? null : linker.predicate(e) };
        });
        const holds = wordInvariants(packed, invariants, true);
        for (const w of reachable(packed)) {
          const leaves = w.subarray(0, packed.threadCount);
          const ctx = packed.decodeContext(w);
          const loc = system.locations(leaves);
          let all = true;
          for (const p of preds) {
            const want = !!p.fn(ctx, loc);
            all &&= want;
            if (p.word === null) continue;
            linker.newState();
            let got: boolean;
            try {
              got = p.word(w);
            } catch (x) {
              if (x !== BAIL) throw x;
              tally.bailed++;
              continue;
            }
            expect({ invariant: p.name, loc, got }).toEqual({ invariant: p.name, loc, got: want });
            tally.agreed++;
            if (!want) {
              tally.falseAgreed++;
              tally.falseNames.add(p.name);
            }
          }
          const asserts = system.threads.some((t) => t.asserts[leaves[t.index]].length > 0);
          if (holds !== null && holds(w)) expect({ loc, all, asserts }).toEqual({ loc, all: true, asserts: false });
        }
        // Nearby states, most of them unreachable: a thread moved to another location and a field or list of
        // the context changed. Where the invariants are false (rare on reachable states), the word check must
        // not say they hold; where a function throws, neither.
        const r = rng(51);
        const names = system.threads.map((t) => t.name);
        const states = reachable(packed, 2000);
        for (let k = 0; k < 600; k++) {
          const w = states[Math.floor(r() * states.length)];
          const leaves = w.slice(0, packed.threadCount);
          const t = Math.floor(r() * leaves.length);
          leaves[t] = Math.floor(r() * system.threads[t].leafPaths.length);
          const ctx = mutate(structuredClone(packed.decodeContext(w)), r, names);
          const len = packed.encodeInto(leaves, ctx);
          const m = packed.encoded.slice(0, len);
          const loc = system.locations(leaves);
          let all: boolean | 'throws' = true;
          try {
            for (const p of preds) all &&= !!p.fn(ctx, loc);
          } catch {
            all = 'throws';
          }
          if (all === false) tally.mutantsFalse++;
          if (holds !== null && holds(m)) expect({ loc, ctx, all }).toEqual({ loc, ctx, all: true });
        }
      }, 120_000);
    }
  }
  it('is not vacuous: declarations were compared, on states where they are false too', () => {
    expect(tally.agreed).toBeGreaterThan(1000);
    // The bundled specs' violations of declared invariants: P-F1 is not among them (no bundled run of these
    // models violates it); no-write-after-FWFREEZE's, the stall's, fiemap v2's FM-P1, and xfs-inodegc's drain
    // WARN (specs/xfs-inodegc-drain.json) and I-P5 (specs/xfs-inodegc-posted-noassert-ip5.json) are, and
    // btrfs-send's six (its buggy variants: stale buffers, the sem held across changed_cb, no reloc check;
    // relocation during a send).
    expect(tally.falseAgreed).toBeGreaterThan(0);
    expect([...tally.falseNames].sort()).toEqual([
      'bs_p1_freshness',
      'bs_p2_changed_cb_unlocked_on_clone',
      'bs_p5_no_stale_clone_source',
      'bs_p6_no_pipe_sleep_under_commit_root_sem',
      'no-sb-freeze-stall-on-I_WRITE_FREEZED',
      'no-write-after-FWFREEZE',
      'noFolioLockUnderBtreeLocks',
      'noQueueWorkWhileDraining',
      'noUmountHolderWaitsForWorker',
      'no_relocation_during_send',
      'no_stale_extent_buffer',
    ]);
    expect(tally.bailed).toBeLessThan(tally.agreed / 10);
    // Nearby states where some invariant is false: the word check was asked about many.
    expect(tally.mutantsFalse).toBeGreaterThan(500);
  });
});
