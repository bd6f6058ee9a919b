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
    const b = this.buf;
    b.reset();
    for (let i = 0; i < this.threadCount; i++) b.push(leaves[i]);
    this.codec.encode(ctx, b);
    return b.view().slice();
  }

  decode(words: Int32Array): { leaves: Int32Array; context: Context } {
    const leaves = words.subarray(0, this.threadCount);
    const [context] = this.codec.decode(words, this.threadCount);
    return { leaves, context: context as Context };
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
