// Test helper: run something with the word path on or off (INTERLEAVE_LOWER), and the error a model's check
// throws each way (a primitive's misuse must read the same whether its declared lowering BAILed or not).
import { checkModel } from '../../explorer/index.ts';
import type { ModelDefinition, ParamValue } from '../../explorer/model.ts';

export function withLowering<T>(lowered: boolean, fn: () => T): T {
  const prev = process.env.INTERLEAVE_LOWER;
  process.env.INTERLEAVE_LOWER = lowered ? '1' : '0';
  try {
    return fn();
  } finally {
    if (prev === undefined) delete process.env.INTERLEAVE_LOWER;
    else process.env.INTERLEAVE_LOWER = prev;
  }
}

/** The message checkModel throws with the word path on, then off ('no error' when it does not throw). */
export function checkErrors(model: ModelDefinition, params: Record<string, ParamValue> = {}): [string, string] {
  const run = (lowered: boolean) =>
    withLowering(lowered, () => {
      try {
        checkModel({ model, params });
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
  return [run(true), run(false)];
}
