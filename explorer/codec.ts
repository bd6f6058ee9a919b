// Packs a model context (plain data) into int32 words and back, with interned strings.
//
// The encoding is tagged, so any plain value round-trips: numbers, booleans, strings, null,
// undefined, arrays and records. Record keys are written in sorted order, so two equal contexts
// always give the same words (and the same fingerprint); an array of int32s always takes the compact
// one-word-per-element form. -0 is stored as 0, as JSON (and so the
// reference semantics' canonical keys) does. Strings are interned in a per-run table
// whose order follows the (deterministic) exploration order.
import { ModelError } from './errors.ts';
import { ensureCapacity } from './store/growable.ts';

export const T_UNDEF = 0;
export const T_NULL = 1;
export const T_FALSE = 2;
export const T_TRUE = 3;
export const T_INT = 4;
export const T_STR = 5;
export const T_ARR = 6;
export const T_OBJ = 7;
export const T_F64 = 8;
/** An array whose elements are all int32: [T_IARR, n, v0 .. vn-1], one word per element. */
export const T_IARR = 9;
/** The tags, for code that walks the encoding without decoding it (the symmetry representative, explorer/reduce/symmetry.ts). */
export const TAGS = { T_UNDEF, T_NULL, T_FALSE, T_TRUE, T_INT, T_STR, T_ARR, T_OBJ, T_F64, T_IARR } as const;

const f64 = new Float64Array(1);
const f64words = new Int32Array(f64.buffer);

/** A growable int32 buffer that encoders write into. */
export class WordBuffer {
  words: Int32Array;
  length = 0;
  constructor(capacity = 256) {
    this.words = new Int32Array(capacity);
  }
  push(w: number): void {
    if (this.length === this.words.length) this.words = ensureCapacity(this.words, this.length + 1);
    this.words[this.length++] = w;
  }
  /** Makes room for n more words. */
  ensure(n: number): void {
    if (this.length + n > this.words.length) this.words = ensureCapacity(this.words, this.length + n, this.length);
  }
  reset(): void {
    this.length = 0;
  }
  view(): Int32Array {
    return this.words.subarray(0, this.length);
  }
}

interface RecordShape {
  /** The keys in Object.keys order. */
  keys: string[];
  /** The same keys sorted (the encoding's order), and their interned ids. */
  sorted: string[];
  ids: number[];
}

const EMPTY_SHAPE: RecordShape = { keys: [], sorted: [], ids: [] };

/**
 * Where interned strings get their ids. The default numbers strings in order of first use (per run);
 * the parallel search shares one table between its threads (explorer/parallel/strings.ts), so equal
 * states encode to equal words in every thread.
 */
export interface StringTable {
  intern(s: string): number;
  stringOf(id: number): string;
}

class LocalStrings implements StringTable {
  private readonly ids = new Map<string, number>();
  private readonly strings: string[] = [];
  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
  stringOf(id: number): string {
    return this.strings[id];
  }
  /** The interned strings in id order (a checkpoint saves them, so a resumed run gives them the same ids). */
  list(): readonly string[] {
    return this.strings;
  }
}

export class ContextCodec {
  private readonly table: StringTable;
  /**
   * Freeze decoded records so that an in-place write to one throws at once. Arrays are not frozen:
   * V8 copies frozen arrays (slice, map, spread) many times slower, and models copy arrays on every
   * step. In-place changes to arrays are caught after each step instead (PackedSystem.checkStep).
   */
  constructor(
    private readonly freeze = true,
    strings?: StringTable,
  ) {
    this.table = strings ?? new LocalStrings();
  }

  intern(s: string): number {
    return this.table.intern(s);
  }

  stringOf(id: number): string {
    return this.table.stringOf(id);
  }

  /** The strings interned so far, in id order, for a per-run table; undefined for a shared one. */
  internedStrings(): readonly string[] | undefined {
    return this.table instanceof LocalStrings ? this.table.list() : undefined;
  }

  /**
   * The state being expanded, decoded (its words a private copy, `decodedWords`): each record and array decoded
   * from it is kept by where its words start (`objAt`), with where they end (`ends`). Encoding a successor walks
   * it beside those words (encRef): a subtree still the same object at the same place (assign() keeps unchanged
   * ones by reference) is copied word for word, with no look-up by object and no re-encoding. Sound because the
   * decoded context is checked to be unchanged after each step (PackedSystem.checkStep): a run in which anything
   * changed it in place stops with an error.
   */
  private decodedWords: Int32Array | null = null;
  /** Where the decoded context starts in decodedWords; -1 until it is decoded (then encode walks it). */
  private refStart = -1;
  /** ends[p]: where the record or array whose words start at p ends (valid at the container positions of the decoded context). */
  private ends = new Int32Array(256);
  /** objAt[p]: the record or array decoded from the words at p (valid at the same positions). */
  private objAt: unknown[] = [];
  /**
   * Arrays decoded from decodedWords and where each starts, the first decodedCount of each: arrays are not frozen,
   * so they are checked. Overwritten in place and never shortened (setting an array's length is a runtime call,
   * about a microsecond per expanded state, and only doing it after a decode was a branch first taken mid-search,
   * which threw away the optimised code around it). In the general elements kind from the start (anyValues): an
   * empty literal holds small integers and changes its map at the first array stored, with the same effect.
   */
  private readonly decodedArrays: unknown[][] = anyValues(0);
  private readonly decodedArrayStarts: number[] = [];
  private decodedCount = 0;
  private readonly scratch = new WordBuffer(64);

  /** Starts caching subtree positions for contexts decoded from `words` (a private copy). */
  beginCache(words: Int32Array): void {
    this.dropCache();
    this.decodedWords = words;
    if (this.ends.length < words.length) this.ends = new Int32Array(words.length);
    // (Grown by push: a packed array, never holey.)
    for (let i = this.objAt.length; i < words.length; i++) this.objAt.push(null);
  }

  endCache(): void {
    this.dropCache();
    this.decodedWords = null;
  }

  private dropCache(): void {
    this.refStart = -1;
    this.decodedCount = 0;
  }

  /**
   * True when every array decoded since beginCache still holds what it was decoded from. Records are
   * frozen, so together this says no guard or action changed the decoded context in place. Each
   * array is compared element by element (nested records and arrays by their own check).
   */
  arraysIntact(): boolean {
    const src = this.decodedWords;
    if (src === null) return true;
    for (let k = 0; k < this.decodedCount; k++) {
      const arr = this.decodedArrays[k];
      let p = this.decodedArrayStarts[k];
      if (src[p] === T_IARR) {
        const n = arr.length;
        if (src[p + 1] !== n) return false;
        p += 2;
        for (let i = 0; i < n; i++) if (arr[i] !== src[p + i]) return false;
        continue;
      }
      if (src[p] !== T_ARR || src[p + 1] !== arr.length) return false;
      p += 2;
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (typeof v === 'number' && (v | 0) === v) {
          if (src[p] !== T_INT || src[p + 1] !== v) return false;
          p += 2;
          continue;
        }
        if (typeof v === 'string') {
          if (src[p] !== T_STR || this.table.stringOf(src[p + 1]) !== v) return false;
          p += 2;
          continue;
        }
        if (typeof v === 'object' && v !== null) {
          // A record or array decoded here, the same object (its own contents are checked on their own: records
          // frozen, arrays in this list); anything else is a change (verifyUnchanged then compares the whole).
          const tag = src[p];
          if ((tag !== T_OBJ && tag !== T_ARR && tag !== T_IARR) || v !== this.objAt[p]) return false;
          p = this.endOf(p);
          continue;
        }
        const b = this.scratch;
        b.reset();
        this.enc(v, b);
        for (let j = 0; j < b.length; j++) if (src[p + j] !== b.words[j]) return false;
        p += b.length;
      }
    }
    return true;
  }

  encode(value: unknown, out: WordBuffer): void {
    try {
      if (this.refStart >= 0) this.encRef(value, this.refStart, out);
      else this.enc(value, out);
    } catch (e) {
      // A value that is not plain data, or (RangeError: the recursion never ends) a context that contains itself.
      if (e instanceof ModelError || e instanceof RangeError) {
        const bad = findBadPath(value, 'context', new Set());
        throw new ModelError(
          bad ??
            `context is not plain data: model context must be numbers, booleans, strings, null, arrays and records. Replace it with a plain record or array.`,
          { feature: 'context' },
        );
      }
      throw e;
    }
  }

  private enc(value: unknown, out: WordBuffer): void {
    switch (typeof value) {
      case 'number':
        if ((value | 0) === value) {
          out.push(T_INT);
          out.push(value);
        } else {
          // (An int32 is finite: only other numbers are checked for NaN and the infinities.)
          if (value !== value || value === Infinity || value === -Infinity) throw new ModelError('not finite', { feature: 'context' });
          f64[0] = value;
          out.push(T_F64);
          out.push(f64words[0]);
          out.push(f64words[1]);
        }
        return;
      case 'boolean':
        out.push(value ? T_TRUE : T_FALSE);
        return;
      case 'string':
        out.push(T_STR);
        out.push(this.intern(value));
        return;
      case 'object': {
        if (value === null) {
          out.push(T_NULL);
          return;
        }
        if (Array.isArray(value)) {
          if (encodeInt32Array(value, out)) return;
          const n = value.length;
          out.push(T_ARR);
          out.push(n);
          for (let i = 0; i < n; i++) this.enc(value[i], out);
          return;
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) throw new ModelError('not plain', { feature: 'context' });
        const shape = this.shapeOfRecord(value as Record<string, unknown>);
        const sorted = shape.sorted;
        const ids = shape.ids;
        out.push(T_OBJ);
        out.push(sorted.length);
        for (let i = 0; i < sorted.length; i++) {
          out.push(ids[i]);
          this.enc((value as Record<string, unknown>)[sorted[i]], out);
        }
        return;
      }
      default:
        throw new ModelError('not plain', { feature: 'context' });
    }
  }

  /**
   * Encodes `value`, which stands where the decoded context had the value whose words start at decodedWords[p]:
   * the same record or array is copied word for word; a record of the same keys, or an array, is encoded field by
   * field (element by element) against the decoded one's fields; anything else is encoded afresh (enc).
   */
  private encRef(value: unknown, p: number, out: WordBuffer): void {
    const src = this.decodedWords!;
    if (typeof value !== 'object' || value === null) {
      // The same string as the decoded one: its id without the look-up by string.
      if (typeof value === 'string' && src[p] === T_STR && this.table.stringOf(src[p + 1]) === value) {
        out.push(T_STR);
        out.push(src[p + 1]);
        return;
      }
      return this.enc(value, out);
    }
    const tag = src[p];
    if (tag === T_OBJ || tag === T_ARR || tag === T_IARR) {
      if (value === this.objAt[p]) {
        copyRange(out, src, p, this.endOf(p));
        return;
      }
      if (Array.isArray(value)) {
        if (tag === T_ARR) return this.encArrayRef(value, p, out);
      } else if (tag === T_OBJ) return this.encRecordRef(value as Record<string, unknown>, p, out);
    }
    this.enc(value, out);
  }

  /**
   * A record against the decoded record at p: the fields under the same key ids, in order, against theirs. A run
   * of fields equal to the decoded ones (the same record or array, an equal number, string, boolean or null) is
   * copied with their key ids in one piece.
   */
  private encRecordRef(value: Record<string, unknown>, p: number, out: WordBuffer): void {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new ModelError('not plain', { feature: 'context' });
    const shape = this.shapeOfRecord(value);
    const sorted = shape.sorted;
    const ids = shape.ids;
    const n = sorted.length;
    out.push(T_OBJ);
    out.push(n);
    const src = this.decodedWords!;
    const refCount = src[p + 1];
    let q = p + 2;
    let r = 0;
    // The pending run of equal fields: src[run .. q) is still to be copied.
    let run = q;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      const child = value[sorted[i]];
      if (r < refCount && src[q] === id) {
        const at = q + 1;
        const tag = src[at];
        let end: number;
        switch (tag) {
          case T_INT:
            end = typeof child === 'number' && child === src[at + 1] ? at + 2 : -1;
            break;
          case T_STR:
            end = typeof child === 'string' && this.table.stringOf(src[at + 1]) === child ? at + 2 : -1;
            break;
          case T_FALSE:
            end = child === false ? at + 1 : -1;
            break;
          case T_TRUE:
            end = child === true ? at + 1 : -1;
            break;
          case T_NULL:
            end = child === null ? at + 1 : -1;
            break;
          case T_OBJ:
          case T_ARR:
            end = child === this.objAt[at] ? this.ends[at] : -1;
            break;
          case T_IARR:
            end = child === this.objAt[at] ? at + 2 + src[at + 1] : -1;
            break;
          default:
            end = -1;
        }
        r++;
        if (end >= 0) {
          q = end;
          continue;
        }
        if (run < q) copyRange(out, src, run, q);
        out.push(id);
        this.encRef(child, at, out);
        q = this.endOf(at);
        run = q;
      } else {
        if (run < q) copyRange(out, src, run, q);
        run = q = src.length; // the keys differ from here: the rest afresh
        r = refCount;
        out.push(id);
        this.enc(child, out);
      }
    }
    if (run < q) copyRange(out, src, run, q);
  }

  /** An array (not all int32) against the decoded array (T_ARR) at p: element i against its element i. */
  private encArrayRef(value: unknown[], p: number, out: WordBuffer): void {
    if (encodeInt32Array(value, out)) return;
    const n = value.length;
    out.push(T_ARR);
    out.push(n);
    const src = this.decodedWords!;
    const refCount = src[p + 1];
    let q = p + 2;
    for (let i = 0; i < n; i++) {
      if (i < refCount) {
        this.encRef(value[i], q, out);
        q = this.endOf(q);
      } else this.enc(value[i], out);
    }
  }

  /** Where the value whose words start at decodedWords[p] ends (its records and arrays from `ends`, not walked). */
  private endOf(p: number): number {
    const src = this.decodedWords!;
    const tag = src[p];
    return tag === T_ARR || tag === T_OBJ ? this.ends[p] : valueEnd(src, p);
  }

  /**
   * Record shapes seen so far, by first key: a record's keys as Object.keys lists them, with the
   * same keys sorted and interned. Records of one shape list their keys in one order (and the same
   * key strings), so a shape is recognised by comparing the key lists, and the sort and the string
   * look-ups are done once per shape instead of once per encoded record.
   */
  private readonly shapes = new Map<string, RecordShape[]>();

  /** The last shape seen per first key, tried first by shapeOfRecord. */
  private readonly lastShape = new Map<string, RecordShape>();

  /**
   * The shape of a record: its keys are walked with for-in (no array allocated per record, unlike
   * Object.keys) against the last shape seen with the same first key; anything else goes to shapeOf.
   */
  private shapeOfRecord(value: Record<string, unknown>): RecordShape {
    let shape: RecordShape | undefined;
    let i = 0;
    for (const k in value) {
      if (i === 0) {
        shape = this.lastShape.get(k);
        if (shape === undefined) break;
      } else if (i >= shape!.keys.length || shape!.keys[i] !== k) {
        shape = undefined;
        break;
      }
      i++;
    }
    if (shape !== undefined && i === shape.keys.length) return shape;
    const found = this.shapeOf(Object.keys(value));
    if (found.keys.length > 0) this.lastShape.set(found.keys[0], found);
    return found;
  }

  private shapeOf(keys: string[]): RecordShape {
    const n = keys.length;
    if (n === 0) return EMPTY_SHAPE;
    let list = this.shapes.get(keys[0]);
    if (list !== undefined) {
      for (let s = 0; s < list.length; s++) {
        const shape = list[s];
        const known = shape.keys;
        if (known.length !== n) continue;
        let i = 1;
        while (i < n && known[i] === keys[i]) i++;
        if (i === n) return shape;
      }
    } else this.shapes.set(keys[0], (list = []));
    const sorted = keys.slice().sort();
    const shape: RecordShape = { keys: keys.slice(), sorted, ids: sorted.map((k) => this.intern(k)) };
    // A model whose records take ever new key lists (keys as data) would grow the lists without bound:
    // at most 64 shapes per first key are kept (the others are recomputed each time).
    if (list.length < 64) list.push(shape);
    return shape;
  }

  pos = 0;

  /**
   * Generated decoders of record shapes, by (first key id, key count): each builds its record with one object
   * literal (one V8 hidden class per shape, the same for every state, instead of a chain of keyed stores),
   * checking each key id on the way; null when the words hold a different record, which then takes the
   * general path.
   */
  private readonly recordDecoders = new Map<number, (codec: ContextCodec, words: Int32Array) => Record<string, unknown> | null>();

  private learnRecord(shapeKey: number, ids: number[]): void {
    if (this.recordDecoders.size >= 1024) return;
    const keys = ids.map((id) => this.table.stringOf(id));
    if (keys.includes('__proto__')) return;
    const lines = ids.map((id, i) => `if (words[codec.pos] !== ${id}) return null; codec.pos++; const v${i} = codec.decodeNext(words);`);
    const literal = keys.map((k, i) => `${JSON.stringify(k)}: v${i}`).join(', ');
    try {
      const fn = new Function('codec', 'words', `${lines.join('\n')}\nreturn { ${literal} };`);
      this.recordDecoders.set(shapeKey, fn as (codec: ContextCodec, words: Int32Array) => Record<string, unknown> | null);
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      this.recordDecoders.set(shapeKey, () => null); // code generation disallowed: always the general path
    }
  }

  /** For generated record decoders: decodes the value at the current position. */
  decodeNext(words: Int32Array): unknown {
    return this.dec(words);
  }

  /** Decodes one value starting at words[pos]; returns it with the next position. */
  decode(words: Int32Array, pos: number): [unknown, number] {
    this.pos = pos;
    const v = this.dec(words);
    if (words === this.decodedWords) this.refStart = pos;
    return [v, this.pos];
  }

  private dec(words: Int32Array): unknown {
    const start = this.pos;
    const tag = words[this.pos++];
    switch (tag) {
      case T_UNDEF:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT:
        return words[this.pos++];
      case T_STR:
        return this.table.stringOf(words[this.pos++]);
      case T_F64:
        f64words[0] = words[this.pos];
        f64words[1] = words[this.pos + 1];
        this.pos += 2;
        return f64[0];
      case T_ARR: {
        const n = words[this.pos++];
        const arr: unknown[] = []; // packed, as below
        if (words === this.decodedWords) {
          this.decodedArrays[this.decodedCount] = arr;
          this.decodedArrayStarts[this.decodedCount++] = start;
        }
        for (let i = 0; i < n; i++) arr.push(this.dec(words));
        if (words === this.decodedWords) {
          this.ends[start] = this.pos;
          this.objAt[start] = arr;
        }
        return arr;
      }
      case T_IARR: {
        const n = words[this.pos++];
        // Built by push, not new Array(n): a packed (not holey) array, faster for the model to read and copy.
        const arr: number[] = [];
        const p = this.pos;
        for (let i = 0; i < n; i++) arr.push(words[p + i]);
        this.pos = p + n;
        if (words === this.decodedWords) {
          this.decodedArrays[this.decodedCount] = arr;
          this.decodedArrayStarts[this.decodedCount++] = start;
          this.objAt[start] = arr;
        }
        return arr;
      }
      case T_OBJ: {
        const n = words[this.pos++];
        let obj: Record<string, unknown> | null = null;
        const shapeKey = n > 0 && n < 0x10000 ? words[this.pos] * 0x10000 + n : NaN;
        const decoder = this.recordDecoders.get(shapeKey);
        if (decoder !== undefined) {
          const first = this.pos;
          obj = decoder(this, words);
          if (obj === null) this.pos = first; // another record with the same first key and size: the general path
        }
        if (obj === null) {
          obj = {};
          const ids: number[] = [];
          for (let i = 0; i < n; i++) {
            const id = words[this.pos++];
            ids.push(id);
            obj[this.table.stringOf(id)] = this.dec(words);
          }
          if (decoder === undefined && n > 0 && n < 0x10000) this.learnRecord(shapeKey, ids);
        }
        if (this.freeze) Object.freeze(obj);
        if (words === this.decodedWords) {
          this.ends[start] = this.pos;
          this.objAt[start] = obj;
        }
        return obj;
      }
      default:
        throw new Error(`corrupt state encoding: tag ${tag} at word ${start}`);
    }
  }
}

/**
 * An array of `n` undefined for values of any kind, to be reused on the hot path: in V8's most general elements
 * kind from the start. An array made empty or by `new Array(n)` starts as small integers (or holes) and changes
 * kind at the first object, string or boolean stored; where that came after the code using it was optimised (a
 * list of strings read first mid-search), the optimised code was thrown away.
 */
export function anyValues<T = unknown>(n: number): T[] {
  const a: unknown[] = [undefined];
  a.length = 0;
  for (let i = 0; i < n; i++) a.push(undefined);
  return a as T[];
}

/**
 * Writes an array of int32s in the compact form (the common case: owners, counters, flags), written and checked
 * in one pass; false, with nothing written (the words past out.length are scratch), at the first non-int32.
 */
function encodeInt32Array(value: unknown[], out: WordBuffer): boolean {
  const n = value.length;
  out.ensure(2 + n);
  const w = out.words;
  const at = out.length;
  w[at] = T_IARR;
  w[at + 1] = n;
  for (let i = 0; i < n; i++) {
    const v = value[i];
    if (typeof v !== 'number' || (v | 0) !== v) return false;
    w[at + 2 + i] = v;
  }
  out.length = at + 2 + n;
  return true;
}

/** Where the value whose words start at words[p] ends (its records and arrays walked). */
export function valueEnd(words: Int32Array, p: number): number {
  switch (words[p]) {
    case T_INT:
    case T_STR:
      return p + 2;
    case T_F64:
      return p + 3;
    case T_IARR:
      return p + 2 + words[p + 1];
    case T_ARR: {
      const n = words[p + 1];
      p += 2;
      for (let i = 0; i < n; i++) p = valueEnd(words, p);
      return p;
    }
    case T_OBJ: {
      const n = words[p + 1];
      p += 2;
      for (let i = 0; i < n; i++) p = valueEnd(words, p + 1);
      return p;
    }
    default:
      return p + 1;
  }
}

/** Appends src[start .. end) to out (kept out of the large, polymorphic encoder so it stays a tight loop). */
function copyRange(out: WordBuffer, src: Int32Array, start: number, end: number): void {
  const len = end - start;
  out.ensure(len);
  const dst = out.words;
  const at = out.length;
  for (let i = 0; i < len; i++) dst[at + i] = src[start + i];
  out.length = at + len;
}

/** Path of the first value in `v` that is not plain data, for error messages. */
/** The first place where a value is not plain data, with why and the fix (null if it is plain). */
function findBadPath(v: unknown, path: string, open: Set<object>): string | null {
  const plain = 'model context must be numbers, booleans, strings, null, arrays and records';
  if (v === undefined) return `${path} is undefined: ${plain}; give it a value (null for "none") in the initial context and in every assign`;
  if (typeof v === 'number' && !Number.isFinite(v)) {
    return `${path} is ${v}: ${plain}, and numbers must be finite; an action computed it (0/0, undefined + 1?): fix that arithmetic`;
  }
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return null;
  if (typeof v !== 'object') return `${path} is a ${typeof v}, not plain data: ${plain}; replace it with plain data`;
  if (open.has(v)) return `${path} refers back to a record or array that contains it (a cycle): ${plain}, a tree; copy the value instead of referring to it`;
  open.add(v);
  try {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const b = findBadPath(v[i], `${path}[${i}]`, open);
        if (b) return b;
      }
      return null;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      return `${path} is a ${proto?.constructor?.name ?? 'non-plain object'}, not plain data: ${plain}; replace it with a plain record or array`;
    }
    for (const k of Object.keys(v)) {
      const b = findBadPath((v as Record<string, unknown>)[k], `${path}.${k}`, open);
      if (b) return b;
    }
    return null;
  } finally {
    open.delete(v);
  }
}
