// The model a saved trace was made on: the module at its modelPath (relative to the trace), else the
// spec's model when the spec is still there, else the bundled model of that name. Shared by replay and the
// HTML viewer.
import { dirname, resolve } from 'node:path';
import { InputError } from '../explorer/errors.ts';
import type { ModelDefinition } from '../explorer/model.ts';
import type { Trace } from '../explorer/trace.ts';
import { loadModel } from './models.ts';
import { loadSpec } from './spec.ts';

export async function loadTraceModel(trace: Trace, file: string): Promise<ModelDefinition> {
  let modelRef = trace.model;
  let base = process.cwd();
  let where = `${file}: $.model`;
  let relativeTo = 'the working directory';
  if (trace.modelPath) {
    modelRef = trace.modelPath;
    base = dirname(resolve(file));
    where = `${file}: $.modelPath`;
    relativeTo = 'the trace';
  } else if (trace.spec) {
    try {
      const spec = loadSpec(trace.spec);
      if (spec.model !== trace.model) {
        modelRef = spec.model;
        base = dirname(resolve(trace.spec));
        relativeTo = `its spec ${trace.spec}`;
      }
    } catch {
      // The spec may have moved; the bundled model name is enough.
    }
  }
  const { def } = await loadModel(modelRef, base, where, relativeTo);
  if (def.name !== trace.model) {
    throw new InputError(`${file}: $.model: the trace is of model '${trace.model}', but ${modelRef} is model '${def.name}'; replay it against its own model (or re-run check to make a trace of this one)`);
  }
  return def;
}
