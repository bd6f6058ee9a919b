// Breadth-first safety search: a FIFO queue, so the first violation found has a shortest path. With
// stop-at-first, a violation found while generating depth d is reported once every state above d has
// been expanded (a shallower one may still turn up).
import { FifoQueue } from '../frontier/index.ts';
import { frontierSearch } from './frontier-search.ts';
import type { SafetyTask, Strategy } from './index.ts';

export const bfs: Strategy = {
  name: 'bfs',
  run: (task: SafetyTask) => frontierSearch(task, new FifoQueue(), { stopAtOnce: false }),
};
