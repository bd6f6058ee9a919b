// Declared lowerings: a guard or an assign action that is a closure over helpers (the kernel primitives'
// getIn/updateIn/insertSorted) says, as data beside the function, what it computes, and the compiler links
// that description to word operations (./link.ts) instead of parsing the function (./js.ts refuses calls).
// A declaration is a function of the guard's/action's params, run once per transition at build time:
//
//   withLowering(guard, (p) => not(read(p.lock, 'block')))                    percpu_can_down_read
//   withLowering(action, (p) => [insertSorted(path(p.lock, 'readers'), p.thread)])  percpu_down_read
//
// A guard's declaration is an expression; an action's is a list of operations on context paths. The action's
// expressions (values, and the `check`s) are all evaluated on the context before the action, then the
// operations apply in order (as the function computes its patch from one context). A `check` that fails, a
// removal of an absent element, a path that is missing, a value the words cannot hold exactly: BAIL, and the
// step runs the real function, which throws the primitive's misuse error or computes the odd case.
//
// The declaration must compute what the function computes: the differential tests (compiled step against
// XState's transition() on every reachable state of every bundled model, with the word path on) and the
// tests of each primitive hold it to that; a declaration that returns null declines those params (the
// function runs on the decoded context).
import type { Expr } from './js.ts';

/** The property under which a declaration rides on its guard or assign function (Symbol.for: one key across module copies). */
export const LOWERING = Symbol.for('interleave.lowering');

/** One operation of a declared action on the context: a list operation or a scalar write at a path. */
export type PathOp =
  /** path = value (a scalar; the path exists) */
  | { k: 'set'; path: string[]; e: Expr }
  /** path = insertSorted(path, x): x inserted after every element not greater than it (strings, or numbers: one type) */
  | { k: 'insertSorted'; path: string[]; e: Expr }
  /** path = removeOne(path, x): the first x removed; absent: BAIL (the function reports the misuse) or keep */
  | { k: 'removeOne'; path: string[]; e: Expr; absent: 'bail' | 'keep' }
  /** path = [...path, x] */
  | { k: 'append'; path: string[]; e: Expr }
  /** path = path.map((y, i) => (i === index ? x : y)); an index past the end BAILs */
  | { k: 'setAt'; path: string[]; index: number; e: Expr }
  /** path = path.filter((y) => y !== x) */
  | { k: 'removeAll'; path: string[]; e: Expr }
  /**
   * A wait list's wakeup: every element of `path` that starts with `prefix` leaves it (the rest keep their
   * order); each one's name (the element without the prefix) is inserted sorted into every `into` list,
   * except where it equals that entry's `except` (e is the except value of the second entry, or unused).
   */
  | { k: 'wake'; path: string[]; prefix: string; into: string[][]; e: Expr }
  /** the function throws unless e holds (a misuse check): BAIL when it does not */
  | { k: 'check'; e: Expr }
  // Record operations (a record keyed by thread or item, conditional updates; builders below, rec*):
  /** the ops of `then` when e holds on the context before the action, else those of `else` */
  | { k: 'recWhen'; e: Expr; then: PathOp[]; else: PathOp[] }
  /** record[key] = e (a scalar or a list of scalars); a new key goes in at its place in the encoding's key order */
  | { k: 'recPut'; path: string[]; key: string; e: Expr }
  /** delete record[key] (an absent key: nothing changes); e unused */
  | { k: 'recDelete'; path: string[]; key: string; e: Expr }
  /** path = e (a list of scalars, e.g. recListAt of another path before the action) */
  | { k: 'recSetList'; path: string[]; e: Expr }
  /** every value of the record at path (each a list of scalars: else BAIL) edited by `edits` in order; e unused */
  | { k: 'recEachValue'; path: string[]; edits: RecListEdit[]; e: Expr }
  /** every field of the record at path set to the scalar e (a field holding a list or a record: BAIL) */
  | { k: 'recSetEach'; path: string[]; e: Expr }
  /** the first field (Object.keys order) of the record at path whose value === e is set to the scalar `to`; none: BAIL */
  | { k: 'recSetKeyOf'; path: string[]; e: Expr; to: Expr }
  // List moves (./link.ts's "list moves" block; e unused where not said):
  /** path = [] */
  | { k: 'clear'; path: string[]; e: Expr }
  /** path = x === undefined ? path : insertSorted(path, x) */
  | { k: 'insertSortedOpt'; path: string[]; e: Expr }
  /** for (const y of path) into = insertSorted(into, y); path = [] */
  | { k: 'moveSorted'; path: string[]; into: string[]; e: Expr }
  // Nested values (see "nested values" below):
  /** path = e, any plain value (a record or array built by obj/arr, or a scalar), replacing whatever is there */
  | { k: 'put'; path: string[]; e: Expr }
  /** path = { ...path, [key]: e } (the record keeps the codec's sorted key order) */
  | { k: 'setKey'; path: string[]; key: string; e: Expr }
  /** path = withoutKey(path, key) (absent: unchanged); e unused */
  | { k: 'deleteKey'; path: string[]; key: string; e: Expr }
  /** e ? then : else, each a whole declared action; only as the action's one operation */
  | { k: 'choose'; e: Expr; then: PathOp[]; else: PathOp[] }
  /**
   * The context's top-level keys `reads` decoded (nothing else of it), `fn` run on that partial context, and
   * each key of the patch it returns encoded in place; only as the action's one operation. `fn` must read no
   * other key (reading one throws an error naming it); a throw of `fn` BAILs (the real function reports it).
   */
  | { k: 'compute'; reads: string[]; fn: (context: Record<string, unknown>) => Record<string, unknown>; e: Expr };

/** An edit of one list by recEachValue (its values evaluated before the action). */
export type RecListEdit =
  /** list.filter((y) => y !== x) */
  | { k: 'removeAll'; x: Expr }
  /** list.map((y) => (y === x ? to : y)) */
  | { k: 'replaceAll'; x: Expr; to: Expr }
  /** the first x removed when the list holds more than n of it (n = 0: removeOne, absent kept) */
  | { k: 'removeOneIfMore'; x: Expr; n: Expr };

export type GuardDecl<P = any> = (params: P) => Expr | null;
export type ActionDecl<P = any> = (params: P) => PathOp[] | null;

/** The declaration attached to a guard or an assign function, if any. */
export function declaredLowering(fn: unknown): ((params: any) => unknown) | undefined {
  if (typeof fn !== 'function' || !(LOWERING in fn)) return undefined;
  return (fn as any)[LOWERING];
}

/** Attaches a guard's declared lowering; returns the guard. */
export function lowerGuardAs<F extends Function, P = any>(guard: F, decl: GuardDecl<P>): F {
  Object.defineProperty(guard, LOWERING, { value: decl, enumerable: false, configurable: true });
  return guard;
}

/**
 * Attaches an assign action's declared lowering to its assignment function (an XState assign action object
 * carries it as `assignment`); returns the action.
 */
export function lowerActionAs<A, P = any>(action: A, decl: ActionDecl<P>): A {
  const fn = (action as any)?.assignment;
  if (typeof fn !== 'function') throw new Error('lowerActionAs: not an assign(fn) action');
  Object.defineProperty(fn, LOWERING, { value: decl, enumerable: false, configurable: true });
  return action;
}

// Builders of expressions and operations. A path is given as dotted parts ('inodes.0.lock', 'owner').

/** An expression, or a constant. */
const val = (x: Expr | string | number | boolean | null): Expr => (x !== null && typeof x === 'object' ? x : lit(x));
/** A context path from dotted parts. */
export const path = (...parts: Array<string | number>): string[] => parts.flatMap((p) => String(p).split('.'));
export const read = (...parts: Array<string | number>): Expr => ({ k: 'read', path: path(...parts) });
/** A record field that may be absent (then undefined, as JavaScript reads a missing key). */
export const readOpt = (...parts: Array<string | number>): Expr => ({ k: 'read', path: path(...parts), opt: true });
export const lit = (v: unknown): Expr => ({ k: 'const', v });
export const startsWith = (a: Expr, s: string): Expr => ({ k: 'startsWith', a, s });
const bin = (op: string) => (a: Expr, b: Expr): Expr => ({ k: 'bin', op, a, b });
export const eq = bin('===');
export const ne = bin('!==');
export const lt = bin('<');
export const ge = bin('>=');
/** a + n (a number read from the context plus a constant). */
export const plus = (a: Expr, n: number): Expr => ({ k: 'bin', op: '+', a, b: lit(n) });
/** a - n (JavaScript's -, which makes a number of a string where + would concatenate). */
export const minus = (a: Expr, n: number): Expr => ({ k: 'bin', op: '-', a, b: lit(n) });
export const not = (a: Expr): Expr => ({ k: 'unary', op: '!', a });
/** a && b && ... (JavaScript's &&: the guard is truthy exactly when the function's is). */
export const and = (...xs: Expr[]): Expr => xs.reduce((a, b) => ({ k: 'logic', op: '&&', a, b }));
export const or = (...xs: Expr[]): Expr => xs.reduce((a, b) => ({ k: 'logic', op: '||', a, b }));
/** The array at the path includes x. */
export const includes = (at: string[], x: Expr | string | number): Expr => ({ k: 'includes', path: at, x: val(x) });
/** The array's length. */
export const len = (at: string[]): Expr => ({ k: 'read', path: [...at, 'length'] });
/** The array's element i (undefined past the end). */
export const at = (arr: string[], i: number): Expr => ({ k: 'read', path: [...arr, String(i)] });

/** Element i (a number, or an expression) of the array at the path; undefined past its end. */
export const index = (arr: string[], i: Expr | number): Expr => ({ k: 'index', path: arr, i: val(i) });
/** Some thread's f(name, location) holds (f: an expression, or a constant, per thread and location). */
export const someThread = (f: (name: string, loc: string) => Expr | boolean): Expr => ({ k: 'threads', some: true, f });
/** Every thread's f(name, location) holds. */
export const everyThread = (f: (name: string, loc: string) => Expr | boolean): Expr => ({ k: 'threads', some: false, f });

export const set = (at: string[], x: Expr | string | number | boolean | null): PathOp => ({ k: 'set', path: at, e: val(x) });
export const insertSorted = (at: string[], x: Expr | string | number): PathOp => ({ k: 'insertSorted', path: at, e: val(x) });
export const removeOne = (at: string[], x: Expr | string | number, absent: 'bail' | 'keep' = 'bail'): PathOp => ({ k: 'removeOne', path: at, e: val(x), absent });
export const append = (at: string[], x: Expr | string | number): PathOp => ({ k: 'append', path: at, e: val(x) });
/** Element `index` of the list at the path set to x (a list of scalars: the list is re-encoded, its form may change). */
export const setAt = (at: string[], index: number, x: Expr | string | number | boolean | null): PathOp => ({ k: 'setAt', path: at, index, e: val(x) });
export const removeAll = (at: string[], x: Expr | string | number): PathOp => ({ k: 'removeAll', path: at, e: val(x) });
export const check = (e: Expr): PathOp => ({ k: 'check', e });
/**
 * rwsem_mark_wake()'s batch: the elements of `list` starting with `prefix` leave it; each one's name goes
 * sorted into `all`, and into `others` unless it is `self`.
 */
export const wake = (list: string[], prefix: string, all: string[], others: string[], self: string): PathOp => ({ k: 'wake', path: list, prefix, into: [all, others], e: lit(self) });

// Record operations (see PathOp): builders.
/** True when a record key would be enumerated out of the encoding's (sorted) order by Object.keys: an array index. */
export function isIndexKey(key: string): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 0xffffffff && String(n) === key;
}
/**
 * A name the record operations treat as the functions do: not an Object.prototype name (which `in` sees), not an
 * array index (which Object.keys puts first), no dot (which splits a path). A declaration keyed by another name
 * declines, so the function runs.
 */
export const plainKey = (key: string | undefined): key is string => key !== undefined && !(key in Object.prototype) && !isIndexKey(key) && !key.includes('.');
/** A declaration for params whose `thread` is a plainKey, else declining (null): for records keyed by thread. */
export const byPlainThread =
  <P extends { thread: string }, T>(fn: (p: P) => T) =>
  (p: P): T | null =>
    plainKey(p.thread) ? fn(p) : null;
/** The record at the path has `key` (its own key; the declaration declines Object.prototype names, which `in` sees). */
export const recHasKey = (at: string[], key: string): Expr => ({ k: 'recHasKey', path: at, key });
export const recSize = (at: string[]): Expr => ({ k: 'recSize', path: at });
/** The first key of the record at the path whose value === x (undefined when none). */
export const recKeyOf = (at: string[], x: Expr | string | number | boolean | null): Expr => ({ k: 'recKeyOf', path: at, x: val(x) });
export const recListAt = (at: string[]): Expr => ({ k: 'recListAt', path: at });
/** Object.keys(record).sort(): the keys of the record at the path, sorted (a fresh list). */
export const recKeys = (at: string[]): Expr => ({ k: 'recKeys', path: at });
export const recWhen = (e: Expr, then: PathOp[], otherwise: PathOp[] = []): PathOp => ({ k: 'recWhen', e, then, else: otherwise });
/** record[key] = x: a scalar, or a constant list of scalars, or an expression giving one. */
export const recPut = (at: string[], key: string, x: Expr | string | number | boolean | null | unknown[]): PathOp => ({ k: 'recPut', path: at, key, e: Array.isArray(x) ? lit(x) : val(x as Expr) });
export const recDelete = (at: string[], key: string): PathOp => ({ k: 'recDelete', path: at, key, e: lit(null) });
export const recSetList = (at: string[], x: Expr | unknown[]): PathOp => ({ k: 'recSetList', path: at, e: Array.isArray(x) ? lit(x) : x });
export const recEachValue = (at: string[], edits: RecListEdit[]): PathOp => ({ k: 'recEachValue', path: at, edits, e: lit(null) });
/** Object.fromEntries(Object.keys(record).map((k) => [k, x])): every field of the record at the path set to the scalar x. */
export const recSetEach = (at: string[], x: Expr | string | number | boolean | null): PathOp => ({ k: 'recSetEach', path: at, e: val(x) });
export const recSetKeyOf = (at: string[], x: Expr | string | number | boolean | null, to: Expr | string | number | boolean | null): PathOp => ({ k: 'recSetKeyOf', path: at, e: val(x), to: val(to) });
export const editRemoveAll = (x: Expr | string | number): RecListEdit => ({ k: 'removeAll', x: val(x) });
export const editReplaceAll = (x: Expr | string | number, to: Expr | string | number): RecListEdit => ({ k: 'replaceAll', x: val(x), to: val(to) });
export const editRemoveOneIfMore = (x: Expr | string | number, n: Expr | number): RecListEdit => ({ k: 'removeOneIfMore', x: val(x), n: val(n) });
// Builders of the list and entry reads and the list moves (js.ts's Expr and PathOp above).
/** arr.every((y) => y === x) for the array at the path. */
export const everyIs = (at: string[], x: Expr | string | number | boolean | null): Expr => ({ k: 'listEvery', path: at, test: 'eq', x: val(x) });
/** !arr.some((y) => y): every element of the array at the path is falsy. */
export const noneTruthy = (at: string[]): Expr => ({ k: 'listEvery', path: at, test: 'falsy', x: lit(undefined) });
/** list.find((e) => e.slice(e.indexOf(sep) + 1) === x): the entry "tag<sep>x" of the array at the path, or undefined. */
export const entryOf = (at: string[], sep: string, x: Expr | string | number): Expr => ({ k: 'entryOf', path: at, sep, x: val(x) });
/** s.slice(0, s.indexOf(sep)) ('before') or s.slice(s.indexOf(sep) + 1) ('after'). */
export const strPart = (a: Expr, sep: string, side: 'before' | 'after'): Expr => ({ k: 'strPart', a, sep, side });
export const toNumber = (a: Expr): Expr => ({ k: 'toNumber', a });
/**
 * t ? BAIL : e: the function throws when t holds (a misuse it detects with a test no operation of its own would
 * fail on, as a lock of another kind found by `'key' in slice`), so the step runs it and it reports the misuse.
 */
export const bailWhen = (t: Expr, e: Expr): Expr => ({ k: 'cond', t, a: { k: 'strPart', a: { k: 'const', v: null }, sep: ':', side: 'before' }, b: e });
/** t ? a : b */
export const cond = (t: Expr, a: Expr | string | number | boolean | null, b: Expr | string | number | boolean | null): Expr => ({ k: 'cond', t, a: val(a), b: val(b) });
/** a ?? b */
export const coalesce = (a: Expr, b: Expr | string | number | boolean | null): Expr => ({ k: 'logic', op: '??', a, b: val(b) });
/** a + b + ... (JavaScript's +: a string when any part is one). */
export const concat = (...xs: Array<Expr | string | number>): Expr => xs.map(val).reduce((a, b) => ({ k: 'bin', op: '+', a, b }));
export const clear = (at: string[]): PathOp => ({ k: 'clear', path: at, e: lit(undefined) });
/** insertSorted unless x evaluates to undefined (then the list is kept). */
export const insertSortedOpt = (at: string[], x: Expr): PathOp => ({ k: 'insertSortedOpt', path: at, e: x });
/** Every element of `from`, in order, inserted sorted into `into`; `from` emptied (six_unlock_write's read grants). */
export const moveSorted = (from: string[], into: string[]): PathOp => ({ k: 'moveSorted', path: from, into, e: lit(undefined) });
// Nested values: null-or-record fields, records keyed by thread, values built from reads, array elements by a
// computed index, a branch on the state, and a partial decode for an action too irregular to spell as operations.

/** The value at the path is null (false for a record, an array or any other scalar). */
export const isNull = (...parts: Array<string | number>): Expr => ({ k: 'isNull', path: path(...parts) });
/** A record value from its fields (each an expression or a constant). */
export const obj = (fields: Record<string, Expr | string | number | boolean | null>): Expr => ({ k: 'obj', fields: Object.entries(fields).map(([k, v]) => [k, val(v)]) });
/** An array value from its elements. */
export const arr = (...items: Array<Expr | string | number | boolean | null>): Expr => ({ k: 'arr', items: items.map(val) });
/** `at[i0][i1]...`, each index an expression (a number read from the context) or a constant. */
export const readAt = (at: string[], ...idx: Array<Expr | number>): Expr => ({ k: 'readAt', path: at, idx: idx.map(val) });
/** a + b (numbers; strings concatenate, as JavaScript's +). */
export const add = (a: Expr, b: Expr | string | number): Expr => ({ k: 'bin', op: '+', a, b: val(b) });
/** a <= b */
export const le = bin('<=');
export const put = (at: string[], x: Expr | string | number | boolean | null): PathOp => ({ k: 'put', path: at, e: val(x) });
export const setKey = (at: string[], key: string, x: Expr | string | number | boolean | null): PathOp => ({ k: 'setKey', path: at, key, e: val(x) });
export const deleteKey = (at: string[], key: string): PathOp => ({ k: 'deleteKey', path: at, key, e: lit(null) });
export const choose = (e: Expr, then: PathOp[], otherwise: PathOp[]): PathOp => ({ k: 'choose', e, then, else: otherwise });
export const compute = (reads: string[], fn: (context: Record<string, unknown>) => Record<string, unknown>): PathOp => ({ k: 'compute', reads, fn, e: lit(null) });

/**
 * Attaches declarations to a registry of named implementations (as spread into setup({ guards }) or
 * setup({ actions })): a guard's declaration to the guard, an assign action's to its assignment. Every name
 * in `table` must exist in `impls`.
 */
export function declareLowerings(impls: Record<string, unknown>, table: Record<string, GuardDecl | ActionDecl>): void {
  for (const [name, decl] of Object.entries(table)) {
    const impl = impls[name] as any;
    if (impl === undefined) throw new Error(`lowering declared for '${name}', which is not in the registry (${Object.keys(impls).join(', ')})`);
    if (typeof impl?.assignment === 'function') lowerActionAs(impl, decl as ActionDecl);
    else if (typeof impl === 'function') lowerGuardAs(impl, decl as GuardDecl);
    else throw new Error(`lowering declared for '${name}', which is neither a guard function nor an assign(fn) action`);
  }
}

/**
 * A state property's declaration: the invariant or state assertion (ctx, threads) => boolean as one expression
 * over the context and the threads' locations (someThread/everyThread), whose truth is the function's (an
 * assertion's: wherever a thread is at a state that asserts it). The search checks it on a state's words
 * (explorer/properties/words.ts) and decodes the state only when it does not hold there (the function then
 * finds the violation and says it) or cannot be computed exactly (BAIL).
 */
export type InvariantDecl = () => Expr;
export type AssertionDecl = InvariantDecl;

/** Attaches declarations to a model's invariants (by name); every name in `table` must exist in `invariants`. */
export function declareInvariants(invariants: Record<string, unknown>, table: Record<string, InvariantDecl>): void {
  declareProperties('invariant', invariants, table);
}

/** Attaches declarations to a model's state assertions (by name); every name in `table` must exist in `assertions`. */
export function declareAssertions(assertions: Record<string, unknown>, table: Record<string, AssertionDecl>): void {
  declareProperties('assertion', assertions, table);
}

function declareProperties(kind: 'invariant' | 'assertion', fns: Record<string, unknown>, table: Record<string, InvariantDecl>): void {
  for (const [name, decl] of Object.entries(table)) {
    const fn = fns[name];
    if (typeof fn !== 'function') throw new Error(`lowering declared for ${kind} '${name}', which is not among them (${Object.keys(fns).join(', ')})`);
    Object.defineProperty(fn, LOWERING, { value: decl, enumerable: false, configurable: true });
  }
}
