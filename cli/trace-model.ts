// The model a saved trace was made on: the spec's model when the spec is still there, else the bundled
// model of that name. Shared by replay and the HTML viewer.
import { dirname, resolve } from 'node:path';
import type { ModelDefinition } from '../explorer/model.ts';
import type { Trace } from '../explorer/trace.ts';
import { loadModel } from './models.ts';
import { loadSpec } from './spec.ts';

export async function loadTraceModel(trace: Trace, file: string): Promise<ModelDefinition> {
  let modelRef = trace.model;
  let base = process.cwd();
  if (trace.spec) {
    try {
      const spec = loadSpec(trace.spec);
      if (spec.model !== trace.model) {
        modelRef = spec.model;
        base = dirname(resolve(trace.spec));
      }
    } catch {
      // The spec may have moved; the bundled model name is enough.
    }
  }
  return (await loadModel(modelRef, base, `${file}: $.model`)).def;
}
