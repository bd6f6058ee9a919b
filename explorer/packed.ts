// A compiled system over packed states: [leaf of each thread, ...context words].
import { ContextCodec, WordBuffer, type StringTable } from './codec.ts';
import type { CompiledSystem } from './compile.ts';
import { ModelRuntimeError } from './errors.ts';
import type { Context } from './model.ts';

/** Paths where two plain values differ (for error messages). */
function diffPaths(a: unknown, b: unknown, path = 'context', out: string[] = []): string[] {
  if (Object.is(a, b) || out.length >= 3) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) diffPaths((a as any)[k], (b as any)[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`, out);
    return out;
  }
  out.push(path);
  return out;
}

export class PackedSystem {
  readonly codec: ContextCodec;
  private readonly buf = new WordBuffer(256);
  readonly threadCount: number;

  constructor(
    readonly system: CompiledSystem,
    options: { freeze?: boolean; strings?: StringTable } = {},
  ) {
    this.codec = new ContextCodec(options.freeze ?? true, options.strings);
    this.threadCount = system.threads.length;
  }

  /** Encodes a state; the returned array is a fresh copy. */
  encode(leaves: ArrayLike<number>, ctx: Context): Int32Array {
    return this.encodeView(leaves, ctx).slice();
  }

  /** Encodes a state into a reused buffer: the view is valid until the next encode. */
  encodeView(leaves: ArrayLike<number>, ctx: Context): Int32Array {
    const n = this.encodeInto(leaves, ctx);
    return this.buf.words.subarray(0, n);
  }

  /**
   * Encodes a state into the reused buffer without making a view: returns its length; the words are
   * the first that many of `encoded` (read it after the call: the buffer may have grown).
   */
  encodeInto(leaves: ArrayLike<number>, ctx: Context): number {
    const b = this.buf;
    b.reset();
    b.ensure(this.threadCount);
    const w = b.words;
    for (let i = 0; i < this.threadCount; i++) w[i] = leaves[i];
    b.length = this.threadCount;
    this.codec.encode(ctx, b);
    return b.length;
  }

  get encoded(): Int32Array {
    return this.buf.words;
  }

  decode(words: Int32Array): { leaves: Int32Array; context: Context } {
    const leaves = words.subarray(0, this.threadCount);
    const [context] = this.codec.decode(words, this.threadCount);
    return { leaves, context: context as Context };
  }

  /** The words of the state being expanded (a private copy; only the first `ownLength` are its). */
  own = new Int32Array(256);
  ownLength = 0;

  /**
   * Starts expanding a state: copies its words into `own` (the caller's may be overwritten by the
   * frontier meanwhile) and decodes its context. Successors encoded before the next call reuse the
   * words of unchanged subtrees. The leaves are own[0 .. threadCount).
   */
  beginExpansion(words: Int32Array): Context {
    if (this.own.length < words.length) this.own = new Int32Array(Math.max(words.length, this.own.length * 2));
    this.own.set(words);
    this.ownLength = words.length;
    this.codec.beginCache(this.own);
    return this.codec.decode(this.own, this.threadCount)[0] as Context;
  }

  endExpansion(): void {
    this.codec.endCache();
  }

  /**
   * After each step of an expansion: the decoded context must still encode to the words it was decoded
   * from. Guards and actions must not change it in place (assign must return new arrays and records);
   * if one did, the run stops here with the path that changed, rather than explore wrong states.
   * Records are frozen, so only arrays are compared (cheaply); a mismatch is confirmed and named by
   * re-encoding the whole context.
   */
  checkStep(ctx: Context): void {
    if (!this.codec.arraysIntact()) this.verifyUnchanged(ctx, this.own.subarray(0, this.ownLength));
  }

  verifyUnchanged(ctx: Context, own: Int32Array): void {
    this.codec.endCache();
    const b = this.buf;
    b.reset();
    this.codec.encode(ctx, b);
    const w = b.words;
    let same = b.length === own.length - this.threadCount;
    for (let i = 0; same && i < b.length; i++) same = w[i] === own[this.threadCount + i];
    if (!same) {
      const original = this.codec.decode(own, this.threadCount)[0];
      const changed = diffPaths(original, ctx);
      throw new ModelRuntimeError(
        `a guard or action changed the context in place (${changed.join(', ') || 'context'}); ` +
          `assign must return new arrays and records, e.g. [...xs, x] or xs.slice() before writing, never xs.push(x)`,
        { predicate: 'in-place change' },
      );
    }
    this.codec.beginCache(this.own);
  }

  /** Decodes only the context (records frozen unless freezing was turned off; arrays are checked per step instead). */
  decodeContext(words: Int32Array): Context {
    return this.codec.decode(words, this.threadCount)[0] as Context;
  }

  initial(): { leaves: Int32Array; context: Context; words: Int32Array } {
    const words = this.encode(this.system.initialLeaves, this.system.initialContext);
    const { leaves, context } = this.decode(words);
    return { leaves: leaves.slice(), context, words };
  }
}
