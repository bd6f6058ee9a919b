// Packs a model context (plain data) into int32 words and back, with interned strings.
//
// The encoding is tagged, so any plain value round-trips: numbers, booleans, strings, null,
// undefined, arrays and records. Record keys are written in sorted order, so two equal contexts
// always give the same words (and the same fingerprint). Strings are interned in a per-run table
// whose order follows the (deterministic) exploration order.
import { ModelError } from './errors.ts';

const T_UNDEF = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_INT = 4;
const T_STR = 5;
const T_ARR = 6;
const T_OBJ = 7;
const T_F64 = 8;

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
    if (this.length === this.words.length) {
      const next = new Int32Array(this.words.length * 2);
      next.set(this.words);
      this.words = next;
    }
    this.words[this.length++] = w;
  }
  reset(): void {
    this.length = 0;
  }
  view(): Int32Array {
    return this.words.subarray(0, this.length);
  }
}

export class ContextCodec {
  private readonly ids = new Map<string, number>();
  private readonly strings: string[] = [];
  /** Deep-freeze decoded values so that an in-place write in a guard or action throws. */
  constructor(private readonly freeze = true) {}

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

  encode(value: unknown, out: WordBuffer, path = 'context'): void {
    switch (typeof value) {
      case 'number':
        if ((value | 0) === value && !Object.is(value, -0)) {
          out.push(T_INT);
          out.push(value);
        } else {
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
      case 'undefined':
        out.push(T_UNDEF);
        return;
      case 'object': {
        if (value === null) {
          out.push(T_NULL);
          return;
        }
        if (Array.isArray(value)) {
          out.push(T_ARR);
          out.push(value.length);
          for (let i = 0; i < value.length; i++) this.encode(value[i], out, `${path}[${i}]`);
          return;
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw new ModelError(
            `${path} is a ${proto?.constructor?.name ?? 'non-plain object'}; model context must be plain data ` +
              `(numbers, booleans, strings, null, arrays and records). Replace it with a plain record or array.`,
            { feature: 'context' },
          );
        }
        const keys = Object.keys(value).sort();
        out.push(T_OBJ);
        out.push(keys.length);
        for (const k of keys) {
          out.push(this.intern(k));
          this.encode((value as Record<string, unknown>)[k], out, `${path}.${k}`);
        }
        return;
      }
      default:
        throw new ModelError(
          `${path} is a ${typeof value}; model context must be plain data (numbers, booleans, strings, null, arrays and records).`,
          { feature: 'context' },
        );
    }
  }

  /** Decodes one value starting at words[pos]; returns it with the next position. */
  decode(words: Int32Array, pos: number): [unknown, number] {
    const tag = words[pos++];
    switch (tag) {
      case T_UNDEF:
        return [undefined, pos];
      case T_NULL:
        return [null, pos];
      case T_FALSE:
        return [false, pos];
      case T_TRUE:
        return [true, pos];
      case T_INT:
        return [words[pos], pos + 1];
      case T_STR:
        return [this.strings[words[pos]], pos + 1];
      case T_F64:
        f64words[0] = words[pos];
        f64words[1] = words[pos + 1];
        return [f64[0], pos + 2];
      case T_ARR: {
        const n = words[pos++];
        const arr = new Array(n);
        for (let i = 0; i < n; i++) {
          const [v, p] = this.decode(words, pos);
          arr[i] = v;
          pos = p;
        }
        if (this.freeze) Object.freeze(arr);
        return [arr, pos];
      }
      case T_OBJ: {
        const n = words[pos++];
        const obj: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.strings[words[pos++]];
          const [v, p] = this.decode(words, pos);
          obj[key] = v;
          pos = p;
        }
        if (this.freeze) Object.freeze(obj);
        return [obj, pos];
      }
      default:
        throw new Error(`corrupt state encoding: tag ${tag} at word ${pos - 1}`);
    }
  }
}
