// A compiled system over packed states: [leaf of each thread, ...context words].
import { ContextCodec, WordBuffer, type StringTable } from './codec.ts';
import type { CompiledSystem, CompiledTransition } from './compile/index.ts';
import { loweringEnabledByDefault } from './compile/lower/step.ts';
import { ModelError, ModelRuntimeError } from './errors.ts';
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

/** The names of an action list as XState keeps it (named actions by name, inline ones as "inline"). */
function actionNames(list: unknown): string[] {
  const arr = list === undefined ? [] : Array.isArray(list) ? list : [list];
  return arr.map((a: any) => (typeof a === 'string' ? a : typeof a?.type === 'string' && !a.type.startsWith('xstate.') ? a.type : a?.type === 'xstate.assign' ? 'inline assign' : 'inline'));
}

/** "thread t, from state s (guard g; actions a, b)": where a compiled transition comes from, for error messages. */
export function describeTransition(system: CompiledSystem, tr: CompiledTransition): string {
  const thread = system.threads[tr.thread].name;
  let node: any = system.machine.root;
  for (const key of tr.source === '(root)' ? [] : tr.source.split('.')) node = node?.states?.[key];
  const defs: any[] = node?.transitions?.get(system.events[tr.event]) ?? [];
  const names = [...new Set(defs.flatMap((d) => actionNames(d.actions)))];
  const parts = [tr.guardLabel ? `guard ${tr.guardLabel}` : '', names.length ? `actions ${names.join(', ')}` : ''].filter(Boolean);
  return `thread ${thread} from state ${tr.source}${parts.length ? ` (${parts.join('; ')})` : ''}`;
}

export class PackedSystem {
  readonly codec: ContextCodec;
  private readonly buf = new WordBuffer(256);
  readonly threadCount: number;

  /** Step lowered transitions on the words (compile/lower/); false: every step on the decoded context. */
  readonly lowered: boolean;

  constructor(
    readonly system: CompiledSystem,
    options: { freeze?: boolean; strings?: StringTable; lowered?: boolean } = {},
  ) {
    this.codec = new ContextCodec(options.freeze ?? true, options.strings);
    this.threadCount = system.threads.length;
    this.lowered = options.lowered ?? loweringEnabledByDefault();
  }

  /** The reused encode buffer (encodeInto writes it; the word step builds successors in it). */
  get buffer(): WordBuffer {
    return this.buf;
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
    try {
      this.codec.encode(ctx, b);
    } catch (e) {
      if (!(e instanceof ModelError) || e.where.feature !== 'context') throw e;
      const taken = this.system.taken;
      const where = this.encodingInitial || taken.length === 0
        ? 'in the initial context (the machine\'s context and its initial entry actions)'
        : `after event ${this.system.events[taken[0].event]} (${taken.map((t) => describeTransition(this.system, t)).join('; ')})`;
      throw new ModelError(`${where}: ${e.message}`, { feature: 'context', event: taken[0] && !this.encodingInitial ? this.system.events[taken[0].event] : undefined });
    }
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
    this.beginWords(words);
    return this.decodeOwn();
  }

  /** beginExpansion without the decode: the context is decoded by decodeOwn when needed. */
  beginWords(words: Int32Array): void {
    if (this.own.length < words.length) this.own = new Int32Array(Math.max(words.length, this.own.length * 2));
    this.own.set(words);
    this.ownLength = words.length;
    this.codec.beginCache(this.own);
  }

  /** Decodes the context of the state being expanded (after beginWords; its subtrees are cached for encode). */
  decodeOwn(): Context {
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
  checkStep(ctx: Context, event?: number): void {
    if (!this.codec.arraysIntact()) this.verifyUnchanged(ctx, this.own.subarray(0, this.ownLength), event);
  }

  verifyUnchanged(ctx: Context, own: Int32Array, event?: number): void {
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
      let on = '';
      if (event !== undefined) {
        // The transitions the step tried: one of their guards or actions wrote into the context.
        const tried = this.system.eventThreads[event].flatMap((t) => this.system.threads[t].candidates[own[t]][event] ?? []);
        on = ` on event ${this.system.events[event]} (${tried.map((t) => describeTransition(this.system, t)).join('; ')})`;
      }
      throw new ModelRuntimeError(
        `a guard or action${on} changed the context in place (${changed.join(', ') || 'context'}); ` +
          `assign must return new arrays and records, e.g. [...xs, x] or xs.slice() before writing, never xs.push(x)`,
        { predicate: 'in-place change', event: event === undefined ? undefined : this.system.events[event] },
      );
    }
    this.codec.beginCache(this.own);
  }

  /** Decodes only the context (records frozen unless freezing was turned off; arrays are checked per step instead). */
  decodeContext(words: Int32Array): Context {
    return this.codec.decode(words, this.threadCount)[0] as Context;
  }

  /** Set while the initial state is encoded, so a context error blames the initial context, not a step. */
  private encodingInitial = false;

  initial(): { leaves: Int32Array; context: Context; words: Int32Array } {
    this.encodingInitial = true;
    let words: Int32Array;
    try {
      words = this.encode(this.system.initialLeaves, this.system.initialContext);
    } finally {
      this.encodingInitial = false;
    }
    const { leaves, context } = this.decode(words);
    return { leaves: leaves.slice(), context, words };
  }
}
