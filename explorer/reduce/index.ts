// The reductions behind `--reduce` / the spec's `reduce` field: builds, for one model instance, the two hooks of
// the state space's reduction seam (which events to expand: partial order, ./por.ts; which representative to
// fingerprint: symmetry, ./symmetry.ts) and says which reductions actually ran and why others did not.
//
// Soundness: both preserve deadlocks, state assertions and invariants (see the two files). Liveness (livelock,
// starvation) runs unreduced: symmetry is sound for it only with symmetric fairness and goal (TLC warns of the
// same), and POR under weak fairness needs its own proviso (Valmari and Vogler, SPIN 2016), which we do not
// implement; the result says so.
import { InputError, ModelError, thrownMessage } from '../errors.ts';
import type { SymmetryGroup } from './declare.ts';
import type { Context, ModelDefinition, ModelCreateOptions } from '../model.ts';
import type { Reduction } from '../space/reduction.ts';
import type { StateSpace } from '../space/index.ts';
import { EVERYTHING, systemFootprints, type SystemFootprints } from './footprint.ts';
import { createAmple, porTables, type PropertyReads } from './por.ts';
import { compileSymmetry, createRepresentative, type CompiledSymmetry } from './symmetry.ts';

export const REDUCTIONS = ['symmetry', 'por'] as const;
export type ReductionName = (typeof REDUCTIONS)[number];

/** Parses `--reduce symmetry,por` / `--reduce none` (also the spec's list); throws InputError naming `where`. */
export function parseReduce(value: string | readonly string[], where: string): ReductionName[] {
  const list = typeof value === 'string' ? (value.trim() === 'none' || value.trim() === '' ? [] : value.split(',').map((s) => s.trim())) : [...value];
  const out: ReductionName[] = [];
  for (const r of list) {
    if (!(REDUCTIONS as readonly string[]).includes(r)) {
      throw new InputError(`${where}: unknown reduction '${r}'; use a list of ${REDUCTIONS.join(', ')} (or none)`);
    }
    if (!out.includes(r as ReductionName)) out.push(r as ReductionName);
  }
  return out;
}


export interface ReductionPlan {
  /** null when no reduction runs. */
  hooks: Reduction | null;
  /** The reductions that run, in the order asked. */
  ran: ReductionName[];
  /** Why an asked reduction did not run or is weaker than asked (for the output). */
  notes: string[];
  symmetry?: CompiledSymmetry;
  footprints?: SystemFootprints;
  /** Ample-set statistics (states reduced, states fully expanded). */
  porStats?: () => { reduced: number; full: number };
  /** Plugs the hooks into the space's reduction seam (null when none runs); returns the plan. */
  apply(): ReductionPlan;
}

export interface ReductionRequest {
  model: ModelDefinition;
  options: ModelCreateOptions;
  reduce: readonly ReductionName[];
  /** Names of the invariants checked. */
  invariants: string[];
  /** State assertions are checked. */
  assertions: boolean;
  /** The run is a liveness run (reductions are then off). */
  liveness?: boolean;
}

/**
 * What the checked properties read, from the model's propertyFootprints (undeclared: everything). A declaration
 * that is not `{ context: [paths], locations?: false | true | [threads] }` (with `threads`, the model's thread
 * names) is the model's error: partial order would take a wrong one for what is visible.
 */
export function propertyReads(model: ModelDefinition, invariants: string[], assertions: string[], threads?: readonly string[]): PropertyReads {
  const context: string[] = [];
  let locations: boolean | string[] = [];
  const declared = model.propertyFootprints ?? {};
  for (const name of [...invariants, ...assertions]) {
    const d = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (d === undefined) return { context: [EVERYTHING], locations: true, assertions: assertions.length > 0 };
    checkPropertyFootprint(model.name, name, d, threads);
    for (const p of d.context) if (!context.includes(p)) context.push(p);
    const loc = d.locations ?? true;
    if (loc === true) locations = true;
    else if (locations !== true && Array.isArray(loc)) for (const t of loc) if (!locations.includes(t)) locations.push(t);
  }
  return { context, locations, assertions: assertions.length > 0 };
}

/** Throws the model's error when a propertyFootprints entry is not { context: [paths], locations?: false | true | [threads] }. */
export function checkPropertyFootprint(modelName: string, name: string, d: unknown, threads: readonly string[] | undefined): void {
  const bad = (what: string): never => {
    throw new ModelError(
      `model ${modelName}: propertyFootprints.${name} ${what}, got ${JSON.stringify(d) ?? String(d)}; declare what the property reads: ` +
        `{ context: ['path', ...], locations: false | true | ['thread', ...] } (locations left out: true)`,
      { feature: 'footprint' },
    );
  };
  if (!d || typeof d !== 'object' || Array.isArray(d)) bad('must be a record');
  const { context, locations } = d as { context?: unknown; locations?: unknown };
  if (!Array.isArray(context) || !context.every((p) => typeof p === 'string' && p !== '')) bad('needs context, a list of context paths');
  if (locations === undefined || typeof locations === 'boolean') return;
  if (!Array.isArray(locations) || !locations.every((t) => typeof t === 'string')) bad('has locations that are not false, true or a list of thread names');
  const unknown = threads ? (locations as string[]).filter((t) => !threads.includes(t)) : [];
  if (unknown.length) bad(`names thread ${unknown.join(', ')} in locations, which the model does not have (threads: ${threads!.join(', ')})`);
}

export function planReductions(space: StateSpace, req: ReductionRequest): ReductionPlan {
  const packed = space.packed;
  const notes: string[] = [];
  const none = (): ReductionPlan => {
    const plan: ReductionPlan = { hooks: null, ran: [], notes, apply: () => ((space.reduction = null), plan) };
    return plan;
  };
  if (req.reduce.length === 0) return none();
  if (req.liveness) {
    notes.push(`liveness (livelock, starvation) runs unreduced: ${req.reduce.join(', ')} not applied`);
    return none();
  }
  const system = packed.system;
  const fps = systemFootprints(system, { byName: req.model.footprints });
  const ran: ReductionName[] = [];
  const plan: ReductionPlan = { hooks: null, ran, notes, footprints: fps, apply: () => ((space.reduction = plan.hooks), plan) };

  let rep: Reduction['representative'] | null = null;
  if (req.reduce.includes('symmetry')) {
    const groups = symmetryGroups(req.model, req.options);
    const useful = groups.filter((g) => g.threads.length > 1);
    if (useful.length === 0) notes.push(`symmetry: model ${req.model.name} declares no group of two or more interchangeable threads here`);
    else {
      const sym = compileSymmetry(system, useful, fps.sets);
      plan.symmetry = sym;
      const { representativeWords } = createRepresentative(packed, sym);
      // Over the successor's words: nothing decoded, nothing re-encoded (see symmetry.ts).
      rep = representativeWords;
      ran.push('symmetry');
    }
  }

  let ample: ReturnType<typeof createAmple> | null = null;
  if (req.reduce.includes('por')) {
    const asserted = new Set<string>();
    if (req.assertions) for (const t of system.threads) for (const names of t.asserts) for (const n of names) asserted.add(n);
    const props = propertyReads(req.model, req.invariants, [...asserted], system.threads.map((t) => t.name));
    const tables = porTables(system, fps, props);
    ample = createAmple(system, fps, tables);
    plan.porStats = ample.stats;
    ran.push('por');
    if (fps.undeclared.length) notes.push(`por: no footprint for ${fps.undeclared.slice(0, 5).join(', ')}${fps.undeclared.length > 5 ? ` and ${fps.undeclared.length - 5} more` : ''} (counted as touching everything)`);
    if (props.context.includes(EVERYTHING)) notes.push('por: some checked property declares no footprint (every step that writes the context is visible)');
  }
  ran.sort((a, b) => req.reduce.indexOf(a) - req.reduce.indexOf(b));
  if (ran.length === 0) return plan;
  plan.hooks = {
    // Symmetry alone expands every candidate: no expandEvents, so the state's context is not decoded for it.
    expandEvents: ample ? (leaves, ctx, candidates) => ample!.expandEvents(leaves, ctx, candidates) : null,
    representative: rep ?? ((words) => words),
  };
  return plan;
}

/** The model's symmetry groups for these options; what symmetry() throws, or a value that is not a list of groups, is the model's error. */
export function symmetryGroups(model: Pick<ModelDefinition, 'name' | 'symmetry'>, options: ModelCreateOptions): SymmetryGroup[] {
  let groups: unknown;
  try {
    groups = model.symmetry?.(options) ?? [];
  } catch (e) {
    throw new ModelError(`model ${model.name}: symmetry() threw: ${thrownMessage(e)}; fix it in the model`, { feature: 'symmetry' });
  }
  const isGroup = (g: unknown) => !!g && typeof g === 'object' && Array.isArray((g as SymmetryGroup).threads) && (g as SymmetryGroup).threads.every((t) => typeof t === 'string');
  if (!Array.isArray(groups) || !groups.every(isGroup)) {
    throw new ModelError(`model ${model.name}: symmetry() returned ${JSON.stringify(groups) ?? String(groups)}; it must return a list of groups, e.g. [{ threads: ['w0', 'w1'] }]`, { feature: 'symmetry' });
  }
  groups.forEach((g, i) => {
    const indexed: unknown = g.indexed;
    if (indexed !== undefined && (!Array.isArray(indexed) || !indexed.every((p) => typeof p === 'string' && p !== ''))) {
      throw new ModelError(
        `model ${model.name}: symmetry() group ${i}: indexed must be a list of context paths ('*' matches one segment) of arrays whose ` +
          `element i belongs to the group's thread i, e.g. indexed: ['slots'], got ${JSON.stringify(indexed) ?? String(indexed)}`,
        { feature: 'symmetry' },
      );
    }
  });
  return groups;
}
