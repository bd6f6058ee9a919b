// Bitstate hashing: with room to spare it stores every state the exhaustive search does, yet is never a
// pass; a small bit array skips states and says so in its coverage estimate; violations still replay.
import { describe, expect, it } from 'vitest';
import philosophers from '../../machines/philosophers/index.ts';
import { checkModel, instantiate, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { BitstateSet } from '../../explorer/bitstate.ts';
import { assign, setup } from 'xstate';
import { defineModel } from '../../explorer/model.ts';
import { ModelError } from '../../explorer/errors.ts';

/** One thread whose last of 65,600 events breaks the invariant. */
function manyEvents() {
  const N = 65_600;
  const on: Record<string, object> = {};
  for (let i = 0; i < N - 1; i++) on[`t.e${i}`] = { target: 'idle' };
  on[`t.e${N - 1}`] = { target: 'done', actions: 'breakIt' };
  const model = defineModel({
    name: 'many-events',
    description: 'one thread with 65,600 events, the last of which breaks the invariant',
    params: {},
    variants: { only: { description: 'the only variant' } },
    defaultVariant: 'only',
    create: () =>
      setup({ types: {} as { context: { broken: boolean } }, actions: { breakIt: assign({ broken: true }) } }).createMachine({
        type: 'parallel',
        context: { broken: false },
        states: { t: { initial: 'idle', states: { idle: { on }, done: { type: 'final' } } } },
      }),
    invariants: { intact: (c) => !c.broken },
  });
  return { model, N };
}

describe('bitstate', () => {
  it('with a large bit array: the same states as the exhaustive run, but incomplete, with hash factor and coverage', () => {
    const exact = checkModel({ model: philosophers, variant: 'ordered', params: { n: 8 } });
    expect(exact.verdict.status).toBe('pass');
    const r = checkModel({ model: philosophers, variant: 'ordered', params: { n: 8 }, bitstate: 22 });
    expect(r.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'bitstate', limit: 2 ** 22 } });
    expect(r.stats.states).toBe(exact.stats.states);
    expect(r.bitstate!.hashFactor).toBeGreaterThan(100);
    expect(r.bitstate!.coverage).toBeGreaterThan(0.9999);
    expect(r.verdict.message).toMatch(/hash factor \d+, .* expected coverage/);
  });

  it('with a small one: states are skipped and the estimate says coverage is partial', () => {
    const r = checkModel({ model: philosophers, variant: 'ordered', params: { n: 8 }, bitstate: 10 });
    expect(r.verdict.status).toBe('incomplete');
    expect(r.bitstate!.fill).toBeGreaterThan(0.5);
    expect(r.bitstate!.coverage).toBeLessThan(0.99);
  });

  it('finds a violation whose trace replays', () => {
    const r = checkModel({ model: philosophers, params: { n: 6 }, bitstate: 16 });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const packed = instantiate(philosophers, r.params, r.variant);
    expect(replayTrace(packed, philosophers, r.trace!, selectInvariants(philosophers, r.params, r.variant, true)).status).toBe('reproduced');
  });

  it('refuses sizes out of range and combinations it does not support', () => {
    expect(() => checkModel({ model: philosophers, bitstate: 40 })).toThrow(/from 10 to 32/);
    expect(() => checkModel({ model: philosophers, bitstate: 20, strategy: 'random', seed: 1 })).toThrow(/--bitstate/);
    const s = new BitstateSet(10);
    expect(s.add(1, 2, -1, -1)).toBe(0);
    expect(s.add(1, 2, 0, 3)).toBe(-1);
    expect(s.has(1, 2)).toBe(true);
  });

  it('keeps event indices past 16 bits exactly: a model of 65,600 events gets the trace of the event taken', () => {
    // One thread whose 65,600th event breaks the invariant. The parent links kept event indices as 16 bits: the
    // trace named t.e63 (65,599 mod 65,536), an event that does not break it.
    const { model, N } = manyEvents();
    const r = checkModel({ model, bitstate: 16 });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant' });
    expect(r.trace!.steps.map((s) => s.event)).toEqual([`t.e${N - 1}`]);
    const s = new BitstateSet(10, 3, N);
    s.add(1, 2, -1, -1);
    expect(s.pathTo(s.add(3, 4, 0, 70_000))).toEqual([70_000]);
  }, 60_000);

  it('refuses such a model without --bitstate (exit 2, naming the count and the way out): the other searches keep 16 bits', () => {
    // Before: a RangeError from the visited set (exit 3), or, in the liveness search, traces with the wrong events.
    const { model } = manyEvents();
    for (const req of [{}, { check: { livelock: true } }]) {
      let err: unknown;
      try {
        checkModel({ model, ...req });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelError);
      expect((err as Error).message).toMatch(/many-events \(variant only\) has 65600 distinct events; .* at most 65534 events: .*--bitstate/);
    }
  }, 60_000);
});
