// Symmetry: groups are checked against the compiled threads; the representative lies in the state's orbit,
// is stable under permutations of the group, and re-sorts declared thread sets.
import { describe, expect, it } from 'vitest';
import { instantiate, resolveParams } from '../../../explorer/index.ts';
import { ModelError } from '../../../explorer/errors.ts';
import { systemFootprints } from '../../../explorer/reduce/footprint.ts';
import { compileSymmetry, createRepresentative } from '../../../explorer/reduce/symmetry.ts';
import sbFreeze from '../../../machines/sb-freeze/index.ts';
import { workers } from '../../fixtures/reduce/models.ts';

function setupModel(model: any, given: Record<string, unknown>) {
  const params = resolveParams(model, given);
  const packed = instantiate(model, params, model.defaultVariant).packed;
  const fps = systemFootprints(packed.system, { byName: model.footprints });
  const sym = compileSymmetry(packed.system, model.symmetry({ params, variant: model.defaultVariant }), fps.sets);
  return { packed, sym, ...createRepresentative(packed, sym) };
}

/** Every reachable state of a small model (unreduced), decoded. */
function reachable(packed: any, limit = 3000) {
  const init = packed.initial();
  const seen = new Set<string>([init.words.join()]);
  const out = [{ leaves: init.leaves, context: init.context }];
  for (let h = 0; h < out.length && out.length < limit; h++) {
    for (let e = 0; e < packed.system.events.length; e++) {
      const r = packed.system.step(out[h].leaves, out[h].context, e);
      if (!r) continue;
      const w = packed.encode(r.leaves, r.context);
      if (seen.has(w.join())) continue;
      seen.add(w.join());
      out.push(packed.decode(w));
    }
  }
  return out;
}

describe('symmetry', () => {
  it('rejects a group whose threads run different code, naming both threads', () => {
    const params = resolveParams(workers, { skew: true });
    const packed = instantiate(workers, params, 'main').packed;
    expect(() => compileSymmetry(packed.system, [{ threads: ['w0', 'w1'] }])).toThrow(ModelError);
    expect(() => compileSymmetry(packed.system, [{ threads: ['w0', 'w1'] }])).toThrow(/threads w0 and w1 are not interchangeable/);
  });

  it('rejects sb-freeze writers with and without s_umount in one group, and unknown threads', () => {
    const params = resolveParams(sbFreeze, { writers: 2, umountWriters: 1 });
    const packed = instantiate(sbFreeze, params, 'generic').packed;
    expect(() => compileSymmetry(packed.system, [{ threads: ['writer0', 'writer1'] }])).toThrow(/writer0 and writer1 are not interchangeable/);
    expect(() => compileSymmetry(packed.system, [{ threads: ['writer1', 'writer7'] }])).toThrow(/no thread 'writer7'/);
  });

  it('accepts the groups sb-freeze declares', () => {
    const { sym } = setupModel(sbFreeze, { writers: 3, faulters: 2, intwriters: 2, umountWriters: 1 });
    expect(sym.groups.map((g) => g.names)).toEqual([['writer1', 'writer2'], ['faulter0', 'faulter1'], ['intwriter0', 'intwriter1']]);
  });

  for (const [name, model, params] of [
    ['workers n=3', workers, { n: 3 }],
    ['sb-freeze 2/2/2', sbFreeze, { writers: 3, faulters: 2, intwriters: 2, umountWriters: 1 }],
  ] as const) {
    it(`${name}: the representative is in the orbit, idempotent, and the same for every transposition of a state`, () => {
      const { packed, sym, representative, applyPermutation } = setupModel(model, params);
      const states = reachable(packed, 600);
      let moved = 0;
      for (const s of states) {
        const r = representative(s.leaves, s.context);
        if (!r.identity) moved++;
        // in the orbit: the representative is the state with its threads permuted by r.perm
        const img = applyPermutation(s.leaves, s.context, r.perm);
        expect(packed.encode(img.leaves, img.context)).toEqual(packed.encode(r.leaves, r.context));
        // idempotent
        const rr = representative(r.leaves, r.context);
        expect(packed.encode(rr.leaves, rr.context)).toEqual(packed.encode(r.leaves, r.context));
        // the swapped state has the same representative (canonical on these models)
        for (const g of sym.groups) {
          const p = Int32Array.from({ length: packed.threadCount }, (_, i) => (i === g.members[0] ? g.members[1] : i === g.members[1] ? g.members[0] : i));
          const sw = applyPermutation(s.leaves, s.context, p);
          const rs = representative(sw.leaves, sw.context);
          expect(packed.encode(rs.leaves, rs.context)).toEqual(packed.encode(r.leaves, r.context));
        }
      }
      expect(moved).toBeGreaterThan(0);
    });
  }

  it('renames holders and re-sorts declared sets (rwsem readers)', () => {
    const { packed, representative } = setupModel(workers, { n: 3 });
    const leaves = Int32Array.from([1, 1, 0]); // w0 and w1 reading, w2 idle
    const ctx = { ...packed.system.initialContext, sem: { ...packed.system.initialContext.sem, readers: ['w0', 'w1'], waiters: ['w:w2', 'r:w0'] } };
    const r = representative(leaves, ctx);
    // the idle thread sorts first: w2 -> w0, and the readers are renamed and sorted again; the FIFO of
    // "r:"/"w:" waiters is renamed after the colon and keeps its order
    expect(Array.from(r.leaves)).toEqual([0, 1, 1]);
    expect(r.context.sem.readers).toEqual(['w1', 'w2']);
    expect(r.context.sem.waiters[0]).toBe('w:w0');
    const reader = r.context.sem.waiters[1];
    expect(reader).toMatch(/^r:w[12]$/);
    expect(r.context.sem.readers).toContain(reader.slice(2));
  });

  it('the word walker permutes like a plain renaming of the decoded context: keys, sets, indexed arrays, nested values', () => {
    const params = resolveParams(workers, { n: 3 });
    const packed = instantiate(workers, params, 'main').packed;
    const sym = compileSymmetry(packed.system, [{ threads: ['w0', 'w1', 'w2'], indexed: ['idx', 'per.*.slots'] }], ['sem.readers', 'per.a.set']);
    const { permute } = createRepresentative(packed, sym);
    const ctx = {
      ...packed.system.initialContext,
      sem: { ...packed.system.initialContext.sem, readers: ['w0', 'w2'], waiters: ['w:w2', 'r:w0', 'x'] },
      // keys named after threads (re-sorted after renaming), values naming threads at any depth
      byThread: { w0: 1, w2: ['w1', { owner: 'w0' }], other: 'w2' },
      // element i belongs to w<i>: the array is permuted; a compact int array too
      idx: [{ who: 'w0', n: 1.5 }, 'w1', null],
      per: { a: { slots: [7, 8, 9], set: ['w1', 'w2', 'w0'].sort() }, b: { slots: [true, 'w2', -3] } },
    };
    const names = ['w0', 'w1', 'w2'];
    /** The reference: rename strings, keys and "tag:name" after the colon; permute indexed arrays; sort sets. */
    const plain = (v: any, p: number[], path: string[]): any => {
      const ren = (x: string) => (names.includes(x) ? names[p[names.indexOf(x)]] : x.includes(':') && names.includes(x.slice(x.indexOf(':') + 1)) ? x.slice(0, x.indexOf(':') + 1) + names[p[names.indexOf(x.slice(x.indexOf(':') + 1))]] : x);
      if (typeof v === 'string') return ren(v);
      if (Array.isArray(v)) {
        let out = v.map((x, i) => plain(x, p, [...path, String(i)]));
        const where = path.join('.');
        if (where === 'idx' || /^per\.[^.]+\.slots$/.test(where)) {
          const moved = out.slice();
          out.forEach((x, i) => (moved[p[i]] = x));
          out = moved;
        }
        if (where === 'sem.readers' || where === 'per.a.set') out.sort();
        return out;
      }
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [ren(k), plain(x, p, [...path, k])]));
      return v;
    };
    for (const p of [[1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2]]) {
      // the permuted words themselves (not re-encoded: that would sort the keys again)
      const words = packed.encode([0, 1, 2], ctx);
      const img = permute(words, words.length, p).slice(0, words.length);
      expect(img).toEqual(packed.encode(p.map((_, i) => p.indexOf(i)), plain(ctx, p, [])));
    }
  });
});
