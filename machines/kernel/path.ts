// Immutable get/set of a primitive's slice inside the shared context, addressed by a dotted path ("inodes.0.i_rwsem").
import type { Context } from '../../explorer/model.ts';

const splitCache = new Map<string, string[]>();

/** Path segments of "a.b.0.c"; cached because guards run in the explorer's hot loop. */
export function pathSegments(path: string): string[] {
  let segs = splitCache.get(path);
  if (segs === undefined) {
    segs = path.split('.');
    if (segs.some((s) => s === '')) throw new Error(`kernel primitive path "${path}" has an empty segment`);
    splitCache.set(path, segs);
  }
  return segs;
}

/** The value at `path` in `context`; throws with the path when a segment is missing (a model bug). */
export function getIn(context: Context, path: string): any {
  const segs = pathSegments(path);
  let v: any = context;
  for (const s of segs) {
    if (v === null || typeof v !== 'object' || !(s in v)) {
      throw new Error(
        `kernel primitive "${path}" not found in the context (missing "${s}"): ` +
          `initialise it in the machine's context, e.g. { ${segs[0]}: rwsem() }`,
      );
    }
    v = v[s];
  }
  return v;
}

function setAt(obj: any, segs: string[], i: number, value: any): any {
  const key = segs[i]!; // i < segs.length
  const child = i === segs.length - 1 ? value : setAt(obj[key], segs, i + 1, value);
  if (Array.isArray(obj)) {
    const copy = obj.slice();
    copy[Number(key)] = child;
    return copy;
  }
  return { ...obj, [key]: child };
}

/**
 * The partial context an `assign` returns to replace the value at `path` with `value`,
 * copying every object on the way (contexts are frozen; nothing is written in place).
 */
export function patchIn(context: Context, path: string, value: any): Context {
  const segs = pathSegments(path);
  const root = segs[0]!; // a path has at least one segment
  if (segs.length === 1) return { [root]: value };
  return { [root]: setAt(context[root], segs, 1, value) };
}

/** Applies `fn` to the slice at `path` and returns the assign patch. */
export function updateIn(context: Context, path: string, fn: (slice: any) => any): Context {
  return patchIn(context, path, fn(getIn(context, path)));
}

/** Inserts `x` into a sorted string array (a canonical multiset: equal holders give equal states). */
export function insertSorted(arr: readonly string[], x: string): string[] {
  const out = arr.slice();
  let i = out.length;
  while (i > 0 && out[i - 1]! > x) i--;
  out.splice(i, 0, x);
  return out;
}

/** Removes one occurrence of `x`; returns null when absent. */
export function removeOne<T>(arr: readonly T[], x: T): T[] | null {
  const i = arr.indexOf(x);
  if (i < 0) return null;
  return arr.slice(0, i).concat(arr.slice(i + 1));
}

/** Distinct values in first-seen order. */
export function uniq(arr: readonly string[]): string[] {
  return [...new Set(arr)];
}

/** A copy of the record without key `k` (records in contexts are never changed in place). */
export function withoutKey<T>(r: Record<string, T>, k: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, v] of Object.entries(r)) if (key !== k) out[key] = v;
  return out;
}
