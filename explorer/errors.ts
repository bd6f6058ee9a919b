// Error values the explorer raises for bad models and bad input; the CLI maps them to exit codes.

/** The model uses something the compiler does not support, or is malformed. Exit 2. */
export class ModelError extends Error {
  override name = 'ModelError';
  constructor(
    message: string,
    /** Where: state path, event, feature. */
    readonly where: { state?: string; event?: string; feature?: string; guard?: string; action?: string } = {},
  ) {
    super(message);
  }
}

/** A user guard, action or predicate threw while the model was explored. Exit 2 (bad model). */
export class ModelRuntimeError extends Error {
  override name = 'ModelRuntimeError';
  constructor(
    message: string,
    readonly where: { thread?: string | undefined; state?: string | undefined; event?: string | undefined; guard?: string | undefined; action?: string | undefined; predicate?: string | undefined },
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** Bad input from the user (spec, trace, options). Exit 2. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/**
 * The same bad-input or model error with `place` (a file, a model) before its message, unless the message begins
 * with it already; anything else (an internal error) as it is.
 */
export function placed(e: unknown, place: string): unknown {
  if (e instanceof InputError) return e.message.startsWith(place) ? e : new InputError(`${place}: ${e.message}`, e.file);
  if (e instanceof ModelError) return e.message.startsWith(place) ? e : new ModelError(`${place}: ${e.message}`, e.where);
  if (e instanceof ModelRuntimeError) return e.message.startsWith(place) ? e : new ModelRuntimeError(`${place}: ${e.message}`, e.where, e.cause);
  return e;
}

export function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}

/** What a thrown value says, for messages: an Error's message, a string as is, anything else as JSON (never "[object Object]"). */
export function thrownMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    const json = JSON.stringify(e);
    if (json !== undefined) return `a non-Error value was thrown: ${json}`;
  } catch {
    // A value JSON cannot write (a cycle, a BigInt): fall through.
  }
  return `a non-Error value was thrown: ${String(e)}`;
}

/** The fix to add when a model wrote into the (frozen) context in place. */
export function inPlaceHint(e: unknown): string {
  const m = e instanceof TypeError ? e.message : '';
  return /read[- ]only|not extensible|Cannot (assign|add|delete|define)/i.test(m)
    ? '; the context is read-only during exploration: return the new value from assign instead of writing into it (e.g. assign({ r: ({ context }) => ({ ...context.r, k: v }) }))'
    : '';
}
