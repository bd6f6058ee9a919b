// One partition of a partitioned search, built in the thread or process that runs it: the model instance,
// its invariants, reductions and checker, exactly as checkModel builds them on the main thread
// (explorer/index.ts). Used by the worker threads (./worker.ts) and the NATS workers (../distributed/worker.ts).
import type { StringTable } from '../codec.ts';
import { instantiate, selectInvariants } from '../index.ts';
import type { ModelDefinition, ParamValue } from '../model.ts';
import { stateChecker } from '../properties/safety.ts';
import { parseReduce, planReductions } from '../reduce/index.ts';
import type { StateSpace } from '../space/index.ts';
import { Partition } from './partition.ts';

export interface PartitionSetup {
  params: Record<string, ParamValue>;
  variant: string;
  /** Names of the invariants to check. */
  invariants: string[];
  assertions: boolean;
  /** Reductions to apply, as on the main thread. */
  reduce: string[];
  /** Stop at the first violation: violating states are not queued for expansion. */
  stopAtFirst: boolean;
  index: number;
  count: number;
}

export function buildPartition(
  model: ModelDefinition,
  setup: PartitionSetup,
  strings: StringTable,
  budget: Int32Array | null,
  heartbeat: () => void,
): { partition: Partition; space: StateSpace } {
  const space = instantiate(model, setup.params, setup.variant, strings);
  const invariants = selectInvariants(model, setup.params, setup.variant, setup.invariants);
  planReductions(space, {
    model,
    options: { params: setup.params, variant: setup.variant },
    reduce: parseReduce(setup.reduce, 'reduce'),
    invariants: Object.keys(invariants),
    assertions: setup.assertions,
  }).apply();
  // With the packed system: new states, a partition's own successors and those that arrive from the others, are
  // checked on their words first (decoded only when some property needs the context).
  const checker = stateChecker(space.system, { assertions: setup.assertions, invariants, assertionPredicates: model.assertions ?? {} }, space.packed);
  return { partition: new Partition(space, checker, setup.index, setup.count, budget, heartbeat), space };
}
