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
    readonly where: { thread?: string; state?: string; event?: string; guard?: string; action?: string; predicate?: string },
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

export function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
