// The path helpers kernel primitives address their state by (machines/kernel/path.ts): each path's compiled
// accessor reads, copies and errs as the segment-by-segment walk does.
import { describe, expect, it } from 'vitest';
import { getIn, patchIn, updateIn } from '../../../machines/kernel/path.ts';

const ctx = Object.freeze({
  sb: Object.freeze({ frozen: 0, rw_sem: [Object.freeze({ writer: null, readers: ['a'] }), Object.freeze({ writer: 'f', readers: [] })] }),
  inodes: [Object.freeze({ i_rwsem: Object.freeze({ owner: null }), n: 1 })],
  flag: false,
  name: 'x',
});

describe('kernel path helpers', () => {
  it('read a record field, an array element and a nested field', () => {
    expect(getIn(ctx, 'flag')).toBe(false);
    expect(getIn(ctx, 'sb.rw_sem.1.writer')).toBe('f');
    expect(getIn(ctx, 'inodes.0.i_rwsem')).toBe(ctx.inodes[0]!.i_rwsem);
    expect(getIn(ctx, 'sb.rw_sem.length')).toBe(2);
  });

  it('name the missing segment, and a segment read on a non-record', () => {
    expect(() => getIn(ctx, 'sb.nope.x')).toThrow(/kernel primitive "sb.nope.x" not found in the context \(missing "nope"\)/);
    expect(() => getIn(ctx, 'inodes.3')).toThrow(/missing "3"/);
    expect(() => getIn(ctx, 'name.length')).toThrow(/missing "length"/);
    expect(() => getIn(ctx, 'sb.rw_sem.0.writer.x')).toThrow(/missing "x"/);
    expect(() => getIn(ctx, 'a..b')).toThrow(/empty segment/);
  });

  it('the hint for a missing primitive is not an rw_semaphore only: the call may be a semaphore, a bit wait or SRCU', () => {
    let message = '';
    try {
      getIn(ctx, 'bp.b_sema');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/with the constructor of the primitive the call uses/);
    for (const ctor of ['mutex()', 'rwsem()', 'semaphore(1)', "bitWord(['BH_Lock'])", 'srcu()']) expect(message).toContain(`{ bp: ${ctor} }`);
  });

  it('copy every record and array on the way, keeping the others by reference', () => {
    const p = patchIn(ctx, 'sb.rw_sem.1.writer', null) as any;
    expect(Object.keys(p)).toEqual(['sb']);
    expect(p.sb).toEqual({ frozen: 0, rw_sem: [{ writer: null, readers: ['a'] }, { writer: null, readers: [] }] });
    expect(Array.isArray(p.sb.rw_sem)).toBe(true);
    expect(p.sb.rw_sem[0]).toBe(ctx.sb.rw_sem[0]);
    expect(p.sb.rw_sem[1].readers).toBe(ctx.sb.rw_sem[1]!.readers);
    expect(Object.keys(p.sb)).toEqual(['frozen', 'rw_sem']);
    expect(patchIn(ctx, 'flag', true)).toEqual({ flag: true });
    expect(ctx.sb.rw_sem[1]!.writer).toBe('f');
  });

  it('update applies the function to the slice', () => {
    const p = updateIn(ctx, 'inodes.0.i_rwsem', (s) => ({ ...s, owner: 't' })) as any;
    expect(p.inodes).toEqual([{ i_rwsem: { owner: 't' }, n: 1 }]);
    expect(() => updateIn(ctx, 'inodes.0.missing', (s) => s)).toThrow(/missing "missing"/);
  });

  it('a key that is not an array index, and __proto__, behave as plain property writes', () => {
    const arr = { xs: [1, 2] };
    expect((patchIn(arr, 'xs.01', 9) as any).xs[1]).toBe(9); // Number("01") is 1, as the walk computes it
    const p = patchIn({ r: {} }, 'r.__proto__', 1) as any;
    expect(Object.getPrototypeOf(p.r)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(p.r, '__proto__')).toBe(true);
    expect(getIn({ r: { a: 1 } }, 'r.constructor')).toBe(Object); // an inherited property is found, as by `in`
  });
});
