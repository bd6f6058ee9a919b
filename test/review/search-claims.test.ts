// Review (pin): BFS reports the shallowest violation across kinds, bounds never yield pass, in-place writes stop the run.
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';
import { PackedSystem } from '../../explorer/packed.ts';
import { StateSpace } from '../../explorer/space/index.ts';
import { search } from '../../explorer/search.ts';

const packed = (m: any) => new StateSpace(new PackedSystem(compileMachine(m)));

describe('review: search claims (pin)', () => {
  // Event order: t.x, t.y (leaf s0), then t.x2 (leaf p1). BFS expands p1 first and records the invariant
  // violation at depth 2 (generation time); q1 (depth 1) is a deadlock found later in the same layer.
  const m = () =>
    setup({}).createMachine({
      type: 'parallel',
      context: { bad: false },
      states: {
        t: {
          initial: 's0',
          states: {
            s0: { on: { 't.x': 'p1', 't.y': 'q1' } },
            p1: { on: { 't.x2': { target: 'p2', actions: assign({ bad: true }) } } },
            p2: { type: 'final' },
            q1: {},
          },
        },
      },
    } as any);

  it('a deadlock at depth 1 found after a pending invariant violation at depth 2 wins (shortest trace)', () => {
    const r = search(packed(m()), { invariants: { ok: (c: any) => !c.bad } });
    if (r.status !== 'violation') throw new Error(`expected a violation, got ${r.status}`);
    expect(r.violation.kind).toBe('deadlock');
    expect(r.violation.depth).toBe(1);
    expect(r.path.length).toBe(1);
  });

  it('without the deadlock check the depth-2 invariant violation is reported with a 2-step path', () => {
    const r = search(packed(m()), { deadlock: false, invariants: { ok: (c: any) => !c.bad } });
    if (r.status !== 'violation') throw new Error(`expected a violation, got ${r.status}`);
    expect(r.violation.kind).toBe('invariant');
    expect(r.path.length).toBe(2);
  });

  // A ring 0 -> 1 -> ... -> 4 -> 0: 5 states, depth 4, and a back edge from the deepest state.
  const ring = () =>
    setup({}).createMachine({
      type: 'parallel',
      context: { i: 0 },
      states: { t: { initial: 'a', states: { a: { on: { 't.inc': { target: 'a', actions: assign({ i: ({ context }) => (context.i + 1) % 5 }) } } } } } },
    } as any);

  // (A back edge from the deepest state to a stored one cuts nothing: the whole space is explored at maxDepth 4, as
  // at maxDepth 5 and as the maxStates bound at the exact state count; test/explorer/parallel/review.test.ts.)
  it('maxDepth one layer short of the last: incomplete, never pass; at the last layer with a back edge: pass', () => {
    for (const strategy of ['bfs', 'dfs'] as const) {
      const r = search(packed(ring()), { strategy, maxDepth: 3 });
      expect(r.status).toBe('incomplete');
      expect(search(packed(ring()), { strategy, maxDepth: 4 }).status).toBe('pass');
      expect(search(packed(ring()), { strategy, maxDepth: 5 }).status).toBe('pass');
    }
  });

  it('maxStates equal to the state count passes; one less is incomplete', () => {
    expect(search(packed(ring()), { maxStates: 5 }).status).toBe('pass');
    expect(search(packed(ring()), { maxStates: 4 }).status).toBe('incomplete');
  });

  it('an action that pushes onto a context array in place stops the run with an error (no silent wrong state)', () => {
    const bad = setup({}).createMachine({
      type: 'parallel',
      context: { xs: [0] as number[] },
      states: {
        t: {
          initial: 'a',
          states: {
            a: {
              on: {
                't.push': {
                  target: 'b',
                  actions: assign({ xs: ({ context }) => {
                    context.xs.push(1);
                    return context.xs;
                  } }),
                },
              },
            },
            b: { type: 'final' },
          },
        },
      },
    } as any);
    expect(() => search(packed(bad), {})).toThrow();
  });
});
