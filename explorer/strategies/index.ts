// Search strategies by name.
import { BfsFrontier } from './bfs.ts';
import { DfsFrontier } from './dfs.ts';
import type { Frontier } from './frontier.ts';

export type StrategyName = 'bfs' | 'dfs';
export const STRATEGIES: StrategyName[] = ['bfs', 'dfs'];

export function createFrontier(name: StrategyName): Frontier {
  switch (name) {
    case 'bfs':
      return new BfsFrontier();
    case 'dfs':
      return new DfsFrontier();
  }
}
export type { Frontier, FrontierEntry } from './frontier.ts';
