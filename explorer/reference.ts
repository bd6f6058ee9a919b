// Reference semantics: steps a model with XState's own pure transition(); the compiled engine is checked against it.
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { ThreadLocations } from './model.ts';

/** Canonical JSON: object keys sorted, so equal contexts give equal strings. */
export function canonicalJson(value: unknown): string {
  // (A bigint, which JSON.stringify throws on, is no plain data: the search refuses it naming its path.)
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  const keys = Object.keys(value as object).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson((value as any)[k])).join(',') + '}';
}

/** Leaf path of each top-level region, from a snapshot's state value. */
export function threadLocationsOf(snapshot: AnyMachineSnapshot): ThreadLocations {
  const out: ThreadLocations = {};
  const value = snapshot.value as Record<string, unknown>;
  // Region definition order, not the order XState happens to build the value in.
  for (const thread of Object.keys((snapshot.machine as any).root.states)) {
    let v: unknown = value[thread];
    const parts: string[] = [];
    while (v !== null && typeof v === 'object') {
      const keys = Object.keys(v as object);
      if (keys.length !== 1) throw new Error(`thread ${thread} has a parallel state inside it (${keys.join(', ')})`);
      parts.push(keys[0]);
      v = (v as any)[keys[0]];
    }
    parts.push(String(v));
    out[thread] = parts.join('.');
  }
  return out;
}

/** A state key that identifies a reference snapshot: thread locations plus canonical context. */
export function referenceKey(snapshot: AnyMachineSnapshot): string {
  const threads = threadLocationsOf(snapshot);
  const t = Object.keys(threads)
    .map((k) => `${k}=${threads[k]}`)
    .join(';');
  return t + '|' + canonicalJson(snapshot.context);
}

/** Every event type named in any `on` of the machine, in document order of first appearance. */
export function eventAlphabet(machine: AnyStateMachine): string[] {
  const seen = new Set<string>();
  const visit = (node: any) => {
    for (const type of (node.transitions as Map<string, unknown>).keys()) {
      if (!type.startsWith('xstate.')) seen.add(type);
    }
    for (const child of Object.values(node.states ?? {})) visit(child);
  };
  visit(machine.root);
  return [...seen];
}

export interface ReferenceStepper {
  machine: AnyStateMachine;
  events: string[];
  initial(): AnyMachineSnapshot;
  /** Successor for one event, or null when no transition is enabled for it. */
  step(snapshot: AnyMachineSnapshot, event: string): AnyMachineSnapshot | null;
  successors(snapshot: AnyMachineSnapshot): Array<{ event: string; next: AnyMachineSnapshot }>;
}

export function createReferenceStepper(machine: AnyStateMachine): ReferenceStepper {
  const events = eventAlphabet(machine);
  const step = (snapshot: AnyMachineSnapshot, event: string) => {
    if (snapshot.status !== 'active') return null;
    const enabled = machine.getTransitionData(snapshot as any, { type: event } as any);
    if (!enabled || enabled.length === 0) return null;
    const [next] = transition(machine, snapshot as any, { type: event } as any);
    return next as AnyMachineSnapshot;
  };
  return {
    machine,
    events,
    initial: () => initialTransition(machine)[0] as AnyMachineSnapshot,
    step,
    successors(snapshot) {
      const out: Array<{ event: string; next: AnyMachineSnapshot }> = [];
      for (const event of events) {
        const next = step(snapshot, event);
        if (next) out.push({ event, next });
      }
      return out;
    },
  };
}

export interface ReferenceExploreResult {
  states: number;
  transitions: number;
  /** States with no enabled event where some thread is neither in a final state nor at a valid end (`meta.end`). */
  deadlocks: string[];
}

/**
 * Every thread (top-level region) is at a valid end: its active leaf is final, or the nearest `meta.end`
 * on the leaf or its ancestors in the thread is true. Read from XState's own snapshot (its active nodes).
 */
export function atValidEnd(snapshot: AnyMachineSnapshot): boolean {
  const nodes: any[] = (snapshot as any)._nodes;
  const root = snapshot.machine.root;
  for (const region of Object.values(root.states) as any[]) {
    const leaf = nodes.find((n) => (n.type === 'atomic' || n.type === 'final') && isWithin(n, region));
    if (!leaf || leaf.type === 'final') continue;
    let end: unknown;
    for (let m = leaf; m && m !== root; m = m.parent) {
      if (m.meta && typeof m.meta === 'object' && 'end' in m.meta) {
        end = m.meta.end;
        break;
      }
    }
    if (end !== true) return false;
  }
  return true;
}

function isWithin(node: any, ancestor: any): boolean {
  for (let m = node; m; m = m.parent) if (m === ancestor) return true;
  return false;
}

/** Plain breadth-first exploration with JSON keys: slow, simple, for cross-checks and as the benchmark baseline. */
export function exploreReference(machine: AnyStateMachine, options: { maxStates?: number } = {}): ReferenceExploreResult {
  const stepper = createReferenceStepper(machine);
  const init = stepper.initial();
  const seen = new Set<string>([referenceKey(init)]);
  const queue: AnyMachineSnapshot[] = [init];
  let transitions = 0;
  const deadlocks: string[] = [];
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head];
    const succ = stepper.successors(s);
    transitions += succ.length;
    if (succ.length === 0 && s.status === 'active' && !atValidEnd(s)) deadlocks.push(referenceKey(s));
    for (const { next } of succ) {
      const key = referenceKey(next);
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(next);
        if (options.maxStates && seen.size > options.maxStates) {
          throw new Error(`reference exploration exceeded ${options.maxStates} states`);
        }
      }
    }
  }
  return { states: seen.size, transitions, deadlocks };
}
