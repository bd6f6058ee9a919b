// Word-level access to a packed context (the tagged encoding of ../../codec.ts), for lowered guards and
// actions: read the plain value at a context path, and write a scalar there (readPath, writeAt), straight
// on the int32 words, with no decoded object. Anything these cannot do exactly as decode + JavaScript + encode would (a path
// that is missing, a value that is not a scalar, a write that would change an array's encoding form)
// throws BAIL, and the step falls back to the decoded-object path for that transition.
import { T_ARR, T_F64, T_FALSE, T_IARR, T_INT, T_NULL, T_OBJ, T_STR, T_TRUE, T_UNDEF, type WordBuffer } from '../../codec.ts';

/**
 * The words a lowered step wrote, for the incremental fingerprint (../../store/fingerprint.ts): every
 * word operation that changes the successor's words logs the positions here (`log`); one that moves
 * words (a wider or narrower value, an array that grows or shrinks, a record key added or removed) calls
 * `shift` with the position after which they moved and by how much, and every word from there on is mixed
 * again (the words before it keep their places); a replaced value says where it lay (`shift`, `forget`), so
 * the places the linked code kept inside it are found again (`moved`). `rehash`: fingerprint the successor
 * whole, from its words (more writes than the log holds). WordStep clears it all before each lowered step.
 * A word operation that writes without logging would make a wrong fingerprint: crossCheck compares every
 * successor's fingerprint with its words' own (test/explorer/differential.test.ts runs it on every bundled model).
 */
export const WRITES = {
  /** The positions logged (64: room for a replaced record of btrfs-send's; past it, `rehash`). */
  pos: new Int32Array(64),
  count: 0,
  rehash: false,
  /** The first position from which words moved in this step (0x7fffffff: none moved). */
  from: 0x7fffffff,
  /**
   * The moves, in order (in the words as they stood then): places after moveAt[k] and before moveEnd[k] are
   * gone (they lay inside a value replaced or removed), those from moveEnd[k] on moved by moveBy[k]; so a
   * place found before the step is mapped to where it is now, or to -1 (`moved`).
   */
  moveAt: new Int32Array(16),
  moveEnd: new Int32Array(16),
  moveBy: new Int32Array(16),
  moves: 0,
  clear(): void {
    this.count = 0;
    this.rehash = false;
    this.from = 0x7fffffff;
    this.moves = 0;
  },
  log(p: number): void {
    if (this.count === this.pos.length) this.rehash = true;
    else this.pos[this.count++] = p;
  },
  /**
   * Every word from `end` on moved by `by` (back when negative), the places between p and `end` are gone,
   * and every word from p on is mixed again: the value at p, which ended at `end`, was replaced by one `by`
   * words longer; or `by` new words went in right after p (end = p + 1); or the words after p up to `end`
   * were removed (by = p + 1 - end).
   */
  shift(p: number, by: number, end = p + 1): void {
    if (p < this.from) this.from = p;
    this.move(p, end, by);
  },
  /** The places between p and `end` are gone (a value replaced by one of the same size that may hold others). */
  forget(p: number, end: number): void {
    this.move(p, end, 0);
  },
  move(p: number, end: number, by: number): void {
    const k = this.moves;
    if (k < this.moveAt.length) {
      this.moveAt[k] = p;
      this.moveEnd[k] = end;
      this.moveBy[k] = by;
    }
    this.moves = k + 1;
  },
  /**
   * Where the value found at p before this step's moves is now; -1 when it is gone or that is not known
   * (more moves than were kept).
   */
  moved(p: number): number {
    const n = this.moves;
    if (n > this.moveAt.length) return -1;
    for (let k = 0; k < n; k++) {
      if (p <= this.moveAt[k]) continue;
      if (p < this.moveEnd[k]) return -1;
      p += this.moveBy[k];
    }
    return p;
  },
};

/** Thrown by a lowered guard or action that cannot compute this state exactly: the step takes the fallback. */
export const BAIL: { readonly bail: true } = Object.freeze({ bail: true });

/** The strings of the run (the codec's table): record keys and string values are interned ids in the words. */
export interface Strings {
  intern(s: string): number;
  stringOf(id: number): string;
}

/** One property access of a context path: a record key, an array index, or `length`. */
export class Segment {
  /** The array index this key names (a canonical non-negative integer), or -1. */
  readonly index: number;
  readonly isLength: boolean;
  /** The key's interned id in the linked string table (interned on first use), or -1. */
  private id = -1;

  constructor(
    readonly key: string,
    private readonly strings: Strings,
  ) {
    const n = Number(key);
    this.index = Number.isInteger(n) && n >= 0 && n < 0x7fffffff && String(n) === key ? n : -1;
    this.isLength = key === 'length';
  }

  keyId(): number {
    if (this.id < 0) this.id = this.strings.intern(this.key);
    return this.id;
  }
}

/** How many words the value at p takes. */
export function sizeAt(w: Int32Array, p: number): number {
  switch (w[p]) {
    case T_UNDEF:
    case T_NULL:
    case T_FALSE:
    case T_TRUE:
      return 1;
    case T_INT:
    case T_STR:
      return 2;
    case T_F64:
      return 3;
    case T_IARR:
      return 2 + w[p + 1];
    case T_ARR: {
      const n = w[p + 1];
      let q = p + 2;
      for (let i = 0; i < n; i++) q = endOf(w, q);
      return q - p;
    }
    case T_OBJ: {
      const n = w[p + 1];
      let q = p + 2;
      for (let i = 0; i < n; i++) q = endOf(w, q + 1);
      return q - p;
    }
    default:
      throw BAIL;
  }
}

/**
 * Where the value at p ends: a scalar's or an int32 array's end found here (the tags in codec order: four one-word
 * scalars, then T_INT and T_STR of two words), anything else's by sizeAt (a call per list or record, not per element).
 */
export function endOf(w: Int32Array, p: number): number {
  const t = w[p];
  if (t >= 0 && t <= T_TRUE) return p + 1; // (an undefined read past the words: sizeAt BAILs)
  if (t <= T_STR) return p + 2;
  if (t === T_IARR) return p + 2 + w[p + 1];
  return p + sizeAt(w, p);
}

/** Where the value of key `id` starts in the record at p, or -1 when the record has no such key. */
function fieldAt(w: Int32Array, p: number, id: number): number {
  const n = w[p + 1];
  let q = p + 2;
  for (let i = 0; i < n; i++) {
    if (w[q] === id) return q + 1;
    q = endOf(w, q + 1);
  }
  return -1;
}

const f64 = new Float64Array(1);
const f64words = new Int32Array(f64.buffer);

/** The scalar (as decode gives it) of the tagged value at p; BAIL for arrays and records. */
export function scalarAt(w: Int32Array, p: number, strings: Strings): unknown {
  switch (w[p]) {
    case T_INT:
      return w[p + 1];
    case T_TRUE:
      return true;
    case T_FALSE:
      return false;
    case T_NULL:
      return null;
    case T_STR:
      return strings.stringOf(w[p + 1]);
    case T_F64:
      f64words[0] = w[p + 1];
      f64words[1] = w[p + 2];
      return f64[0];
    default:
      throw BAIL;
  }
}

/**
 * The plain value at `path` below the record at `root` (the context), as JavaScript reads it from the
 * decoded context: scalars, the `length` of an array or a string, and undefined for an index past an
 * array's end (as JavaScript reads it). BAIL for a missing key, a read through a scalar or past an array's
 * end, or an array or record value. `opt`: a record without the last key reads undefined (the caller made
 * sure the key is not an Object.prototype property).
 */
export function readPath(w: Int32Array, root: number, path: readonly Segment[], strings: Strings, opt = false): unknown {
  let p = root;
  const last = path.length - 1;
  for (let i = 0; i <= last; i++) {
    const s = path[i];
    const tag = w[p];
    if (tag === T_OBJ) {
      p = fieldAt(w, p, s.keyId());
      if (p < 0) {
        if (opt && i === last) return undefined;
        throw BAIL;
      }
    } else if (tag === T_IARR) {
      const n = w[p + 1];
      if (s.index >= 0 && s.index < n) {
        if (i !== last) throw BAIL; // a property of a number
        return w[p + 2 + s.index];
      }
      if (s.isLength && i === last) return n;
      if (s.index >= 0 && i === last) return undefined; // past the end: JavaScript reads undefined
      throw BAIL;
    } else if (tag === T_ARR) {
      const n = w[p + 1];
      if (s.index >= 0 && s.index < n) {
        let q = p + 2;
        for (let k = 0; k < s.index; k++) q = endOf(w, q);
        p = q;
      } else if (s.isLength && i === last) return n;
      else if (s.index >= 0 && i === last) return undefined;
      else throw BAIL;
    } else if (tag === T_STR && s.isLength && i === last) {
      return strings.stringOf(w[p + 1]).length;
    } else throw BAIL;
  }
  return scalarAt(w, p, strings);
}

/** The words that encode a scalar as codec.enc does, into `tmp`; returns how many. BAIL for anything else. */
function encodeScalar(v: unknown, tmp: Int32Array, strings: Strings): number {
  switch (typeof v) {
    case 'number':
      if ((v | 0) === v) {
        tmp[0] = T_INT;
        tmp[1] = v;
        return 2;
      }
      if (v !== v || v === Infinity || v === -Infinity) throw BAIL;
      f64[0] = v;
      tmp[0] = T_F64;
      tmp[1] = f64words[0];
      tmp[2] = f64words[1];
      return 3;
    case 'boolean':
      tmp[0] = v ? T_TRUE : T_FALSE;
      return 1;
    case 'string':
      tmp[0] = T_STR;
      tmp[1] = strings.intern(v);
      return 2;
    case 'object':
      if (v === null) {
        tmp[0] = T_NULL;
        return 1;
      }
      throw BAIL;
    default:
      throw BAIL;
  }
}

const tmp = new Int32Array(3);

/**
 * Writes scalar `v` under key `s` of the record or array that starts at p in `out` (the words of the
 * successor being built, `out.length` of them; the caller finds p, e.g. with locate): the value a
 * copy-and-assign would leave there, encoded as the codec would encode the whole new context. The key
 * must exist (an assign to a new key changes the record's shape: BAIL). An element of an int32 array
 * takes only an int32 (anything else changes the array's form: BAIL); an element of a mixed array BAILs
 * (a write can change its form); a record field takes any scalar, moving the words after it when the
 * width changes. `element`: an element of an array copied by the function (`a = context.k.slice();
 * a[i] = v`): the container must be an int32 array (a record has no slice: BAIL).
 */
export function writeAt(out: WordBuffer, p: number, s: Segment, v: unknown, strings: Strings, element = false): void {
  const w = out.words;
  const tag = w[p];
  if (tag === T_IARR) {
    if (s.index < 0 || s.index >= w[p + 1] || typeof v !== 'number' || (v | 0) !== v) throw BAIL;
    w[p + 2 + s.index] = v;
    WRITES.log(p + 2 + s.index);
    return;
  }
  if (tag !== T_OBJ || element) throw BAIL;
  const at = fieldAt(w, p, s.keyId());
  if (at < 0) throw BAIL;
  writeValue(out, at, v, strings);
}

/** The tag of a list or a record. */
export function isContainer(tag: number): boolean {
  return tag === T_OBJ || tag === T_ARR || tag === T_IARR;
}

/**
 * Makes room for a value at p that was `old` words long and will be `size`: the words after it move (the buffer
 * grows as needed), and WRITES says from where and by how much, and that the places inside the old value are
 * gone. With equal sizes no word moves; the places inside are gone when the old or the new value is a list or
 * a record (`holds`: a place found in the successor's words must not be kept as the expanded state's).
 */
function resizeAt(out: WordBuffer, p: number, old: number, size: number, holds: boolean): void {
  if (size === old) {
    if (holds) WRITES.forget(p, p + old);
    return;
  }
  const end = out.length;
  if (size > old) out.ensure(size - old);
  out.words.copyWithin(p + size, p + old, end);
  out.length = end + size - old;
  WRITES.shift(p, size - old, p + old);
}

/** Replaces the value at `at` (a record field's) with scalar `v`, moving the words after it when the width changes. */
export function writeValue(out: WordBuffer, at: number, v: unknown, strings: Strings): void {
  let w = out.words;
  const n = encodeScalar(v, tmp, strings);
  // A record or list replaced: the places found inside it are gone (resizeAt tells WRITES).
  resizeAt(out, at, sizeAt(w, at), n, isContainer(w[at]));
  w = out.words;
  for (let k = 0; k < n; k++) {
    w[at + k] = tmp[k];
    WRITES.log(at + k);
  }
}

/** Where the value at `path` (its first `n` segments) below the record at `root` starts (BAIL when the path is missing). */
export function locate(w: Int32Array, root: number, path: readonly Segment[], n = path.length): number {
  let p = root;
  for (let i = 0; i < n; i++) p = locateIn(w, p, path[i]);
  return p;
}

/** Where the value under `s` of the record or array at p starts (BAIL when it has none). */
export function locateIn(w: Int32Array, p: number, s: Segment): number {
  const tag = w[p];
  if (tag === T_OBJ) p = fieldAt(w, p, s.keyId());
  else if (tag === T_ARR && s.index >= 0 && s.index < w[p + 1]) {
    let q = p + 2;
    for (let k = 0; k < s.index; k++) q = endOf(w, q);
    p = q;
  } else throw BAIL;
  if (p < 0) throw BAIL;
  return p;
}

/**
 * The elements of the array at p (an int32 array, or an array of scalars), as decode gives them, into `into`
 * (cleared first). BAIL when the value is not an array or holds an array or record.
 */
export function readList(w: Int32Array, p: number, strings: Strings, into: unknown[]): unknown[] {
  // Overwritten in place and cut to length (not emptied first: an array set to length 0 lets its storage go,
  // and each refill would allocate it again).
  const tag = w[p];
  const n = w[p + 1];
  if (tag === T_IARR) {
    for (let i = 0; i < n; i++) into[i] = w[p + 2 + i];
  } else {
    if (tag !== T_ARR) throw BAIL;
    let q = p + 2;
    for (let i = 0; i < n; i++) {
      into[i] = scalarAt(w, q, strings);
      q = endOf(w, q);
    }
  }
  if (into.length !== n) into.length = n;
  return into;
}

/** xs.splice(i, 0, x), without the array of removed elements splice makes. */
export function insertAt(xs: unknown[], i: number, x: unknown): void {
  let j = xs.length;
  xs.push(x);
  for (; j > i; j--) xs[j] = xs[j - 1];
  xs[i] = x;
}

/** xs.splice(i, 1), without the array of removed elements splice makes. */
export function removeAt(xs: unknown[], i: number): void {
  const n = xs.length - 1;
  for (let j = i; j < n; j++) xs[j] = xs[j + 1];
  xs.length = n;
}

/**
 * Element i of the array at p, as JavaScript reads `array[i]` from the decoded array: a scalar, undefined
 * past the end. BAIL for an index that is not a non-negative integer, an element that is an array or a
 * record, or a value that is not an array.
 */
export function elementAt(w: Int32Array, p: number, i: unknown, strings: Strings): unknown {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0) throw BAIL;
  const tag = w[p];
  const n = w[p + 1];
  if (tag === T_IARR) return i < n ? w[p + 2 + i] : undefined;
  if (tag !== T_ARR) throw BAIL;
  if (i >= n) return undefined;
  let q = p + 2;
  for (let k = 0; k < i; k++) q = endOf(w, q);
  return scalarAt(w, q, strings);
}

/** True when the array at p holds `x` (Array.prototype.includes: SameValueZero; NaN never occurs in a context). */
export function listIncludes(w: Int32Array, p: number, x: unknown, strings: Strings): boolean {
  const tag = w[p];
  const n = w[p + 1];
  if (tag === T_IARR) {
    if (typeof x !== 'number') return false;
    for (let i = 0; i < n; i++) if (w[p + 2 + i] === x) return true;
    return false;
  }
  if (tag !== T_ARR) throw BAIL;
  let q = p + 2;
  if (typeof x === 'string') {
    // Strings are interned: compare ids, without making the element's string.
    for (let i = 0; i < n; i++) {
      const t = w[q];
      if (t === T_STR) {
        if (strings.stringOf(w[q + 1]) === x) return true;
        q += 2;
      } else q = endOf(w, q);
    }
    return false;
  }
  for (let i = 0; i < n; i++) {
    if (scalarAt(w, q, strings) === x) return true;
    q = endOf(w, q);
  }
  return false;
}

const elemWords = new Int32Array(3);

/**
 * Replaces the value at p in `out` with the array `list` of scalars, encoded as the codec encodes an array
 * (every element an int32, or none: an int32 array; else a tagged array), moving the words after it (then
 * WRITES.shift) or logging the words it rewrites in place (WRITES).
 */
export function writeList(out: WordBuffer, p: number, list: readonly unknown[], strings: Strings): void {
  const n = list.length;
  let ints = true;
  for (let i = 0; i < n; i++) {
    const v = list[i];
    if (typeof v !== 'number' || (v | 0) !== v) {
      ints = false;
      break;
    }
  }
  let size = 2;
  if (ints) size += n;
  else for (let i = 0; i < n; i++) size += encodeScalar(list[i], elemWords, strings);
  const old = sizeAt(out.words, p);
  // (an int32 array rewritten as one holds no place before or after: its elements are not places)
  resizeAt(out, p, old, size, !ints || out.words[p] !== T_IARR);
  if (size === old) for (let q = p; q < p + size; q++) WRITES.log(q);
  const w = out.words;
  w[p] = ints ? T_IARR : T_ARR;
  w[p + 1] = n;
  let q = p + 2;
  for (let i = 0; i < n; i++) {
    if (ints) w[q++] = list[i] as number;
    else {
      const k = encodeScalar(list[i], elemWords, strings);
      for (let j = 0; j < k; j++) w[q++] = elemWords[j];
    }
  }
}

// Record operations (./declared.ts PathOp rec*): fields of a record found, added and removed on the words.

/** Where the value of key `id` starts in the record at p (BAIL when p is not a record), or -1. */
export function recFieldAt(w: Int32Array, p: number, id: number): number {
  if (w[p] !== T_OBJ) throw BAIL;
  return fieldAt(w, p, id);
}

/** Replaces the value at `at` with `v`: a list of scalars (as writeList) or a scalar. */
export function writeValueAt(out: WordBuffer, at: number, v: unknown, strings: Strings): void {
  // (a record or list replaced: writeList and writeValue tell WRITES the places inside it are gone)
  if (Array.isArray(v)) writeList(out, at, v, strings);
  else writeValue(out, at, v, strings);
}

/**
 * record[key] = v for the record at p: an existing field is overwritten; a new one goes in before the first
 * key that sorts after it (the codec writes keys sorted). BAIL when p is not a record.
 */
export function recPutField(out: WordBuffer, p: number, key: string, id: number, v: unknown, strings: Strings): void {
  const at = recFieldAt(out.words, p, id);
  if (at >= 0) return writeValueAt(out, at, v, strings);
  const w0 = out.words;
  const n = w0[p + 1];
  let q = p + 2;
  for (let i = 0; i < n && strings.stringOf(w0[q]) < key; i++) q = endOf(w0, q + 1);
  const end = out.length;
  out.ensure(2);
  const w = out.words;
  w.copyWithin(q + 2, q, end);
  out.length = end + 2;
  w[q] = id;
  w[q + 1] = T_NULL;
  w[p + 1] = n + 1;
  WRITES.log(p + 1);
  WRITES.shift(q - 1, 2);
  writeValueAt(out, q + 1, v, strings);
}

/** delete record[key] for the record at p (absent: nothing changes). BAIL when p is not a record. */
export function recDeleteField(out: WordBuffer, p: number, id: number): void {
  const w = out.words;
  const at = recFieldAt(w, p, id);
  if (at < 0) return;
  const size = 1 + sizeAt(w, at);
  const end = out.length;
  w.copyWithin(at - 1, at - 1 + size, end);
  out.length = end - size;
  w[p + 1]--;
  WRITES.log(p + 1);
  WRITES.shift(at - 2, -size, at - 1 + size);
}

/** The positions of the values of the record at p, in the encoding's order (BAIL when p is not a record). */
export function recValueStarts(w: Int32Array, p: number, into: number[]): number[] {
  if (w[p] !== T_OBJ) throw BAIL;
  into.length = 0;
  const n = w[p + 1];
  let q = p + 2;
  for (let i = 0; i < n; i++) {
    into.push(q + 1);
    q = endOf(w, q + 1);
  }
  return into;
}

/** The scalar value at p (BAIL for a list or record). */
export function recScalarAt(w: Int32Array, p: number, strings: Strings): unknown {
  return scalarAt(w, p, strings);
}

// ---------------------------------------------------------------------------------------------------------
// Nested values (declared ops put / setKey / deleteKey and the readAt expression, ./declared.ts): replace a
// value of any shape, add or remove a record key (records keep their keys in the codec's sorted order), walk
// into an array by an index computed at run time.

/**
 * Replaces the value at p in `out` with the `n` words `src[0..n)` (an encoded value), moving the words after
 * it. A record or list replaced, or put in, may hold places the step kept: WRITES is told they are gone (resizeAt).
 */
export function replaceValue(out: WordBuffer, p: number, src: Int32Array, n: number): void {
  resizeAt(out, p, sizeAt(out.words, p), n, isContainer(out.words[p]) || isContainer(src[0]));
  out.words.set(src.subarray(0, n), p);
  for (let q = p; q < p + n; q++) WRITES.log(q);
}

/**
 * Where the field `key` (interned as `id`) is, or belongs, in the record at p: [position of its key word,
 * found]. The codec writes a record's keys sorted (Array.prototype.sort: by UTF-16 code units, as `<` compares).
 */
function keySlot(w: Int32Array, p: number, id: number, key: string, strings: Strings): [number, boolean] {
  const n = w[p + 1];
  let q = p + 2;
  for (let i = 0; i < n; i++) {
    if (w[q] === id) return [q, true];
    if (strings.stringOf(w[q]) > key) return [q, false];
    q = endOf(w, q + 1);
  }
  return [q, false];
}

/**
 * Sets field `key` of the record at p to the encoded value src[0..n): replaces it, or inserts the key at its
 * sorted place (as `{ ...r, [key]: v }` encodes). BAIL when the value at p is not a record. The words from the
 * key's place on move (a field found absent was never kept as a place: it is looked for again).
 */
export function setRecordKey(out: WordBuffer, p: number, key: string, src: Int32Array, n: number, strings: Strings): void {
  if (out.words[p] !== T_OBJ) throw BAIL;
  const id = strings.intern(key);
  const [q, found] = keySlot(out.words, p, id, key, strings);
  if (found) return replaceValue(out, q + 1, src, n);
  const end = out.length;
  out.ensure(1 + n);
  const w = out.words;
  w.copyWithin(q + 1 + n, q, end);
  out.length = end + 1 + n;
  w[q] = id;
  w.set(src.subarray(0, n), q + 1);
  w[p + 1]++;
  WRITES.log(p + 1);
  WRITES.shift(q - 1, 1 + n);
}

/** Removes field `key` from the record at p (absent: unchanged, as withoutKey). BAIL when p is not a record. */
export function deleteRecordKey(out: WordBuffer, p: number, key: string, strings: Strings): void {
  const w = out.words;
  if (w[p] !== T_OBJ) throw BAIL;
  const [q, found] = keySlot(w, p, strings.intern(key), key, strings);
  if (!found) return;
  const size = 1 + sizeAt(w, q + 1);
  w.copyWithin(q, q + size, out.length);
  out.length -= size;
  w[p + 1]--;
  WRITES.log(p + 1);
  WRITES.shift(q - 1, -size, q + size);
}

/** Where element i (computed at run time) of the tagged array at p starts; BAIL unless i is an index inside it. */
export function elementPlace(w: Int32Array, p: number, i: unknown): number {
  if (w[p] !== T_ARR || typeof i !== 'number' || (i | 0) !== i || i < 0 || i >= w[p + 1]) throw BAIL;
  let q = p + 2;
  for (let k = 0; k < i; k++) q = endOf(w, q);
  return q;
}
