// interleave's public module for models and tools outside this repository: `import { defineModel } from 'interleave'`.
// Kernel primitives: 'interleave/kernel'; test helpers for vitest: 'interleave/testing'.
export { defineModel } from './explorer/model.ts';
export type {
  Assertion,
  Context,
  Invariant,
  ModelCreateOptions,
  ModelDefinition,
  ParamSpec,
  ParamValue,
  ThreadLocations,
  VariantSpec,
  WaitDescriber,
  WaitInfo,
} from './explorer/model.ts';
export { checkModel, TOOL_VERSION, type CheckRequest, type CheckResult, type Verdict } from './explorer/index.ts';
