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
  return accessorOf(path).get(context);
}

/** getIn walked segment by segment: the reference the compiled accessors fall back to, and where the error is thrown. */
function getInWalked(context: Context, path: string): any {
  const segs = pathSegments(path);
  let v: any = context;
  for (const s of segs) {
    if (v === null || typeof v !== 'object' || !(s in v)) {
      throw new Error(
        `kernel primitive "${path}" not found in the context (missing "${s}"): initialise it in the machine's context ` +
          `with the constructor of the primitive the call uses, e.g. ${['mutex()', 'rwsem()', 'semaphore(1)', "bitWord(['BH_Lock'])", 'srcu()'].map((c) => `{ ${segs[0]}: ${c} }`).join(', ')}`,
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

/** patchIn walked segment by segment (the reference of the compiled accessors). */
function patchInWalked(context: Context, path: string, value: any): Context {
  const segs = pathSegments(path);
  const root = segs[0]!; // a path has at least one segment
  if (segs.length === 1) return { [root]: value };
  return { [root]: setAt(context[root], segs, 1, value) };
}

/**
 * The partial context an `assign` returns to replace the value at `path` with `value`,
 * copying every object on the way (contexts are frozen; nothing is written in place).
 */
export function patchIn(context: Context, path: string, value: any): Context {
  return accessorOf(path).patch(context, value);
}

/** Applies `fn` to the slice at `path` and returns the assign patch. */
export function updateIn(context: Context, path: string, fn: (slice: any) => any): Context {
  return accessorOf(path).update(context, fn);
}

/** getIn, patchIn and updateIn for one path. */
interface Accessor {
  get(context: Context): any;
  patch(context: Context, value: any): Context;
  update(context: Context, fn: (slice: any) => any): Context;
}

const accessors = new Map<string, Accessor>();

/**
 * The accessor of a path, made once per path: its own compiled code with the segments as constant property
 * names (monomorphic loads and stores, no segment loop, no `in` test), and the walked functions above for
 * anything off the plain path (a segment that reads undefined or a non-record on the way: they throw the
 * error or give the value the walk gives). Where code generation from strings is disallowed, the walk.
 */
function accessorOf(path: string): Accessor {
  let acc = accessors.get(path);
  if (acc === undefined) {
    acc = compileAccessor(path, pathSegments(path));
    accessors.set(path, acc);
  }
  return acc;
}

function walkedAccessor(path: string): Accessor {
  return {
    get: (c) => getInWalked(c, path),
    patch: (c, v) => patchInWalked(c, path, v),
    update: (c, fn) => patchInWalked(c, path, fn(getInWalked(c, path))),
  };
}

function compileAccessor(path: string, segs: string[]): Accessor {
  // (`__proto__` in an object literal sets the prototype: such a path takes the walk, as its computed keys do.)
  if (segs.includes('__proto__')) return walkedAccessor(path);
  const k = segs.length;
  const key = (i: number) => JSON.stringify(segs[i]);
  // o0 is the context; o(i+1) = oi[segs[i]]. A value that is undefined, or a non-record where a segment is read,
  // leaves the plain path: the walk then throws (a missing segment) or returns what it finds.
  const reads: string[] = ['if (o0 === null || typeof o0 !== "object") return walkGet(o0, path);'];
  for (let i = 0; i < k; i++) {
    const last = i === k - 1;
    reads.push(
      `const o${i + 1} = o${i}[${key(i)}];` +
        (last ? ` if (o${k} === undefined) return walkGet(o0, path);` : ` if (o${i + 1} === undefined || o${i + 1} === null || typeof o${i + 1} !== "object") return walkGet(o0, path);`),
    );
  }
  // The copy on the way up: a record spread with the new field, an array sliced with the new element.
  const builds: string[] = [];
  for (let i = k - 1; i >= 1; i--) {
    const index = Number(segs[i]);
    builds.push(
      `if (Array.isArray(p${i})) { const a = p${i}.slice(); a[${Number.isNaN(index) ? 'NaN' : String(index)}] = x; x = a; } else x = { ...p${i}, ${key(i)}: x };`,
    );
  }
  // p1..p(k-1): the records and arrays on the path, below the root key (read without the checks: as the walk does).
  const patchReads = Array.from({ length: k - 1 }, (_, j) => `const p${j + 1} = ${j === 0 ? 'c' : `p${j}`}[${key(j)}];`);
  const source = `
    return {
      get(o0) {
        ${reads.join('\n        ')}
        return o${k};
      },
      patch(c, value) {
        ${patchReads.join('\n        ')}
        let x = value;
        ${builds.join('\n        ')}
        return { ${key(0)}: x };
      },
      update(c, fn) {
        return this.patch(c, fn(this.get(c)));
      },
    };`;
  try {
    return new Function('walkGet', 'path', source)(getInWalked, path) as Accessor;
  } catch (e) {
    if (e instanceof EvalError) return walkedAccessor(path);
    throw e;
  }
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

/** r[k] when k is r's own key, else undefined (a thread named `constructor` is not a member every record has). */
export function ownValue<T>(r: Record<string, T>, k: string): T | undefined {
  return Object.hasOwn(r, k) ? r[k] : undefined;
}

/** A copy of the record without key `k` (records in contexts are never changed in place). */
export function withoutKey<T>(r: Record<string, T>, k: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, v] of Object.entries(r)) if (key !== k) out[key] = v;
  return out;
}
