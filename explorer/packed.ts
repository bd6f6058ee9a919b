// A compiled system over packed states: [leaf of each thread, ...context words].
import { ContextCodec, WordBuffer } from './codec.ts';
import type { CompiledSystem, StepResult } from './compile.ts';
import type { Context } from './model.ts';

export interface PackedSuccessor {
  event: number;
  result: StepResult;
}

export class PackedSystem {
  readonly codec: ContextCodec;
  private readonly buf = new WordBuffer(256);
  readonly threadCount: number;

  constructor(
    readonly system: CompiledSystem,
    options: { freeze?: boolean } = {},
  ) {
    this.codec = new ContextCodec(options.freeze ?? true);
    this.threadCount = system.threads.length;
  }

  /** Encodes a state; the returned array is a fresh copy. */
  encode(leaves: ArrayLike<number>, ctx: Context): Int32Array {
    return this.encodeView(leaves, ctx).slice();
  }

  /** Encodes a state into a reused buffer: the view is valid until the next encode. */
  encodeView(leaves: ArrayLike<number>, ctx: Context): Int32Array {
    const b = this.buf;
    b.reset();
    if (b.words.length < this.threadCount) b.push(0);
    b.reset();
    const w = b.words;
    for (let i = 0; i < this.threadCount; i++) w[i] = leaves[i];
    b.length = this.threadCount;
    this.codec.encode(ctx, b);
    return b.view();
  }

  decode(words: Int32Array): { leaves: Int32Array; context: Context } {
    const leaves = words.subarray(0, this.threadCount);
    const [context] = this.codec.decode(words, this.threadCount);
    return { leaves, context: context as Context };
  }

  /**
   * Decodes a state for expansion: `own` must be a private copy of its words; successors encoded
   * before the next call reuse the words of unchanged subtrees.
   */
  decodeForExpansion(own: Int32Array): Context {
    this.codec.beginCache(own);
    return this.codec.decode(own, this.threadCount)[0] as Context;
  }

  endExpansion(): void {
    this.codec.endCache();
  }

  /** Decodes only the context, deep-frozen unless freezing was turned off. */
  decodeContext(words: Int32Array): Context {
    return this.codec.decode(words, this.threadCount)[0] as Context;
  }

  initial(): { leaves: Int32Array; context: Context; words: Int32Array } {
    const words = this.encode(this.system.initialLeaves, this.system.initialContext);
    const { leaves, context } = this.decode(words);
    return { leaves: leaves.slice(), context, words };
  }
}
