// The XState-interpreter baseline for the benchmark: exploreReference's BFS (JSON keys) with a time cap, run as a child.
// Usage: node bin/run-ts.js bench/baseline.ts --model NAME [--variant V] [--params JSON] [--seconds S] [--max-states N]
// Prints one JSON object: {states, transitions, depth, seconds, complete}.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { AnyMachineSnapshot } from 'xstate';
import type { ModelDefinition, ParamValue } from '../explorer/model.ts';
import { createReferenceStepper, referenceKey } from '../explorer/reference.ts';
import { REPO_DIR } from './tools.ts';

export interface BaselineResult {
  states: number;
  transitions: number;
  /** BFS levels completed (the depth of the deepest state stored). */
  depth: number;
  seconds: number;
  /** False when the time or state cap stopped the search before the queue ran dry. */
  complete: boolean;
}

/**
 * Same loop as exploreReference (explorer/reference.ts): XState transition() per event, canonical JSON keys
 * in a Set; plus a clock so a slow instance still yields a rate. Time is checked every 64 expanded states.
 */
export function exploreBaseline(
  model: ModelDefinition,
  options: { params: Record<string, ParamValue>; variant: string; seconds: number; maxStates: number },
): BaselineResult {
  const params: Record<string, ParamValue> = {};
  for (const [k, spec] of Object.entries(model.params)) params[k] = spec.default;
  Object.assign(params, options.params);
  const stepper = createReferenceStepper(model.create({ params, variant: options.variant }));
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const init = stepper.initial();
  const seen = new Set<string>([referenceKey(init)]);
  const queue: AnyMachineSnapshot[] = [init];
  const level: number[] = [0];
  let transitions = 0;
  let complete = true;
  for (let head = 0; head < queue.length; head++) {
    if ((head & 63) === 0 && performance.now() > deadline) {
      complete = false;
      break;
    }
    const succ = stepper.successors(queue[head]);
    transitions += succ.length;
    for (const { next } of succ) {
      const key = referenceKey(next);
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(next);
        level.push(level[head] + 1);
      }
    }
    queue[head] = undefined as unknown as AnyMachineSnapshot; // let expanded snapshots be collected
    if (seen.size >= options.maxStates) {
      complete = head + 1 === queue.length;
      break;
    }
  }
  return {
    states: seen.size,
    transitions,
    depth: level[level.length - 1],
    seconds: (performance.now() - started) / 1000,
    complete,
  };
}

const isMain = process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      variant: { type: 'string' },
      params: { type: 'string', default: '{}' },
      seconds: { type: 'string', default: '60' },
      'max-states': { type: 'string', default: '2000000' },
    },
  });
  if (!values.model) {
    console.error('usage: node bin/run-ts.js bench/baseline.ts --model NAME [--variant V] [--params JSON] [--seconds S]');
    process.exit(2);
  }
  const mod = await import(pathToFileURL(join(REPO_DIR, 'machines', values.model, 'index.ts')).href);
  const model: ModelDefinition = mod.default;
  const result = exploreBaseline(model, {
    params: JSON.parse(values.params!),
    variant: values.variant ?? model.defaultVariant,
    seconds: Number(values.seconds),
    maxStates: Number(values['max-states']),
  });
  console.log(JSON.stringify(result));
}
