// Review (pin): the subtree cache used while a state is expanded gives the same words as a fresh encoding.
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';
import { PackedSystem } from '../../explorer/packed.ts';

const packedFor = (context: unknown) =>
  new PackedSystem(
    compileMachine(setup({}).createMachine({ type: 'parallel', context: context as any, states: { t: { initial: 'a', states: { a: { on: { 't.x': 'a' } } } } } } as any)),
  );

describe('review: codec subtree cache (pin)', () => {
  const ctx0 = { a: { p: [1, 2, 3], q: 'x' }, b: [[1], [2, 'y'], { z: null }], c: { p: [1, 2, 3], q: 'x' }, d: { f: false, i: 7, s: 'x', t: true, z: null }, n: 1.5 };

  const moves: Array<[string, (c: any) => unknown]> = [
    ['unchanged', (c) => c],
    ['subtree moved to another key', (c) => ({ ...c, c: c.b, b: c.a, a: c.c })],
    ['same subtree twice', (c) => ({ ...c, a: c.b, c: c.b })],
    ['subtree moved deeper', (c) => ({ ...c, b: [c.a, c.b, c.c], a: { inner: c.b[2] } })],
    ['subtree moved into a new array', (c) => ({ ...c, a: [c.b[1], c.b[1], c.a.p] })],
    ['subtree lifted to the top', (c) => c.b[1]],
    ['record keys reordered by spread', (c) => ({ n: c.n, c: c.c, b: c.b, a: { q: c.a.q, p: c.a.p } })],
    ['array copied and one element replaced', (c) => ({ ...c, b: [c.b[0], 'new', c.b[2]] })],
    // Changes in place of the decoded tree (encoded against it field by field):
    ['one nested field changed', (c) => ({ ...c, a: { ...c.a, q: 'z' } })],
    ['an element of a nested array grown', (c) => ({ ...c, b: [c.b[0], [...c.b[1], 3], c.b[2]] })],
    ['a nested record gains a key', (c) => ({ ...c, a: { ...c.a, r: 1 }, c: { ...c.c, a: 0 } })],
    ['a record loses keys', (c) => ({ a: c.a, n: c.n })],
    ['a mixed array becomes all int32', (c) => ({ ...c, b: [1, 2, 3] })],
    ['an int32 array becomes mixed', (c) => ({ ...c, a: { ...c.a, p: [1, 'two', 3] } })],
    ['an array shrinks and another grows', (c) => ({ ...c, b: [c.b[0], c.b[1]], c: { ...c.c, p: [...c.c.p, 4, 5] } })],
    ['a record becomes an array and a number a float', (c) => ({ ...c, a: [c.a.q, c.a.p], n: 2 })],
    ['a record becomes a string', (c) => ({ ...c, b: [c.b[0], c.b[1], 'z'] })],
    ['scalar fields kept and changed', (c) => ({ ...c, d: { ...c.d, i: 8, t: false, f: false } })],
    ['scalar fields swapped for one another', (c) => ({ ...c, d: { f: null, i: 'x', s: 7, t: c.a, z: true } })],
  ];

  for (const [name, f] of moves) {
    it(name, () => {
      const packed = packedFor(ctx0);
      const init = packed.initial();
      const ctx = packed.beginExpansion(init.words);
      const cached = packed.encodeView(init.leaves, f(ctx) as any).slice();
      packed.endExpansion();
      const fresh = packed.encode(init.leaves, JSON.parse(JSON.stringify(f(ctx))));
      expect([...cached]).toEqual([...fresh]);
      // and two expansions later, objects from an older decode are not taken from a newer buffer
      const own2 = packed.encode(init.leaves, { other: [9, 9, 9, 9], a: 'shift' } as any);
      const ctx2 = packed.beginExpansion(own2);
      const mixed = packed.encodeView(init.leaves, { old: f(ctx), cur: ctx2 } as any).slice();
      packed.endExpansion();
      const mixedFresh = packed.encode(init.leaves, JSON.parse(JSON.stringify({ old: f(ctx), cur: ctx2 })));
      expect([...mixed]).toEqual([...mixedFresh]);
    });
  }
});
