// How checkModel's search options combine (README, "How the search options combine"): random walks,
// bitstate and preemption bounds with --reduce, --coverage and --lock-order either work (tested here on
// small instances) or are refused as bad input naming both options.
import { describe, expect, it } from 'vitest';
import abba from '../../machines/abba/index.ts';
import sbFreeze from '../../machines/sb-freeze/index.ts';
import { checkModel, instantiate, selectInvariants, type CheckResult } from '../../explorer/index.ts';
import { InputError } from '../../explorer/errors.ts';
import { replayTrace } from '../../explorer/replay.ts';

const small = { writers: 3, umountWriters: 1, faulters: 2, intwriters: 1 };
const tiny = { writers: 3, umountWriters: 1, faulters: 1, intwriters: 1 };

function replaysUnreduced(r: CheckResult): boolean {
  const packed = instantiate(sbFreeze, r.params, r.variant);
  return replayTrace(packed, sbFreeze, r.trace!, selectInvariants(sbFreeze, r.params, r.variant, true)).status === 'reproduced';
}

describe('search options combined', () => {
  it('random walks under --reduce symmetry,por: the deadlock, a trace that replays unreduced; never pass', () => {
    const r = checkModel({ model: sbFreeze, variant: 'umount-held', params: small, strategy: 'random', seed: 7, walks: 2000, reduce: ['symmetry', 'por'] });
    expect(r.reductions!.ran).toEqual(['symmetry', 'por']);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(replaysUnreduced(r)).toBe(true);
    const g = checkModel({ model: sbFreeze, variant: 'generic', params: small, strategy: 'random', seed: 7, walks: 50, reduce: ['symmetry', 'por'] });
    expect(g.verdict.status).toBe('incomplete');
  });

  it('bitstate under --reduce stores the same representatives as the exact reduced search; with --coverage never complete', () => {
    const exact = checkModel({ model: sbFreeze, variant: 'generic', params: tiny, reduce: ['symmetry', 'por'] });
    expect(exact.verdict.status).toBe('pass');
    const bits = checkModel({ model: sbFreeze, variant: 'generic', params: tiny, reduce: ['symmetry', 'por'], bitstate: 24 });
    expect(bits.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'bitstate' } });
    expect(bits.reductions!.ran).toEqual(['symmetry', 'por']);
    expect(bits.stats.states).toBe(exact.stats.states);
    const cov = checkModel({ model: abba, bitstate: 16, coverage: true, stopAtFirst: false });
    expect(cov.coverage!.complete).toBe(false);
    expect(checkModel({ model: abba, coverage: true, stopAtFirst: false }).coverage!.complete).toBe(true);
  });

  it('bitstate with --lock-order finds the lock-order cycle the exhaustive search finds', () => {
    const check = { deadlock: false, assertions: false, invariants: false, lockOrder: true };
    const exact = checkModel({ model: sbFreeze, variant: 'umount-held', params: tiny, check });
    expect(exact.verdict.kind).toBe('lock-order');
    const r = checkModel({ model: sbFreeze, variant: 'umount-held', params: tiny, check, bitstate: 20 });
    expect([r.verdict.kind, r.verdict.name]).toEqual([exact.verdict.kind, exact.verdict.name]);
  });

  it('preemption bounds with --coverage (never complete); with --reduce refused', () => {
    const r = checkModel({ model: abba, preemptions: 1, coverage: true, stopAtFirst: false });
    expect(r.verdict.kind).toBe('deadlock');
    expect(r.coverage!.complete).toBe(false);
    expect(() => checkModel({ model: abba, preemptions: 1, reduce: ['por'] })).toThrow(/--preemptions with --reduce por: .*pass --reduce none .* or drop --preemptions/);
  });

  it('refuses, naming both options: checkpoints with --coverage, random walks with --workers or --lock-order, bitstate with --workers', () => {
    const write = () => {};
    const cases: Array<[() => unknown, RegExp]> = [
      [() => checkModel({ model: abba, coverage: true, checkpoint: { write } }), /--checkpoint: coverage is not saved in checkpoints; drop --coverage or --checkpoint/],
      [() => checkModel({ model: abba, strategy: 'random', seed: 1, workers: 2, modelPath: 'x' }), /workers: the parallel search is breadth-first; drop --strategy random/],
      [() => checkModel({ model: abba, strategy: 'random', seed: 1, check: { lockOrder: true } }), /drop --strategy random or --lock-order/],
      [() => checkModel({ model: abba, bitstate: 16, workers: 2, modelPath: 'x' }), /--bitstate: .*drop .*--workers/],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(InputError);
      expect(run).toThrow(message);
    }
  });
});
