// interleave's public module for models and tools outside this repository: `import { defineModel } from 'interleave'`.
// Kernel primitives: 'interleave/kernel'; test helpers for vitest: 'interleave/testing'.
export { defineModel } from './explorer/model.ts';
// XState's machine builders from interleave's own xstate: a model that imports them from here shares the
// compiler's xstate in any setting (a project whose node_modules holds another xstate version too).
export { and, assign, createMachine, not, or, setup } from 'xstate';
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
