// Depth-first safety search: a stack, so deep states are found fast; traces are not shortest. With
// stop-at-first it stops at the first violation.
import { Stack } from '../frontier/index.ts';
import { frontierSearch } from './frontier-search.ts';
import type { SafetyTask, Strategy } from './index.ts';

export const dfs: Strategy = {
  name: 'dfs',
  run: (task: SafetyTask) => frontierSearch(task, new Stack(), { stopAtOnce: true }),
};
