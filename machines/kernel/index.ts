// Kernel primitives for models: named guards/actions/wait describers plus C-like call helpers (issue 4).
//
// Usage in a model:
//   import { kernelGuards, kernelActions, kernelWaits, rwsem, sbWriters, down_write, sb_start_write } from '../kernel/index.ts';
//   setup({ guards: { ...kernelGuards, ...mine }, actions: { ...kernelActions, ...mine } }).createMachine({
//     type: 'parallel', context: { s_umount: rwsem(), s_writers: sbWriters() }, states: { ...threads } })
//   defineModel({ ..., waits: { ...kernelWaits, ...mine } })
// Each primitive's state is plain data at a context path the model picks ("s_umount", "inodes.0.lock").
// Guards/actions take params { lock: path, thread, name? }; see locks.ts for the semantics of each.
import { lockActions, lockGuards, lockWaits } from './locks.ts';
import type { WaitFn } from './types.ts';

export * from './locks.ts';
export type { KAction, KGuard, WaitFn } from './types.ts';
export { kAssign } from './types.ts';
export { getIn, patchIn, updateIn } from './path.ts';

/** Every kernel guard implementation, to spread into setup({ guards }). */
export const kernelGuards = {
  ...lockGuards,
};
/** Every kernel assign action, to spread into setup({ actions }). */
export const kernelActions = {
  ...lockActions,
};
/** Wait describers for the blocking guards, to spread into the model's `waits`. */
export const kernelWaits: Record<string, WaitFn> = {
  ...lockWaits,
};
export * from './freeze.ts';
