// Footprint declarations: which context paths a guard or an action reads and writes, declared beside the
// guard/action (kernel primitives, models) and read by the partial-order reduction and by --check-footprints.
//
// A declaration is data, not code: paths are templates over the guard's/action's params, e.g.
// `{ reads: ['{lock}.block'], writes: ['{lock}.readers'], sets: ['{lock}.readers'] }` for percpu_down_read with
// params `{ lock: 's_writers.rw_sem.0', thread }`. `{name}` is replaced by the param's value (a string or a
// number, so `gc.{cpu}` works); the rest is a dotted context path. The same declaration is what a later
// compiler of primitives to word operations needs: which words a step reads and which it writes.
//
//   reads   paths the guard/action may read (an action may also read what it writes)
//   writes  paths the action may change
//   sets    paths that hold a sorted list of thread names (a multiset kept canonical with insertSorted):
//           symmetry re-sorts them after renaming threads; every other list of thread names keeps its order
//
// A path covers everything below it ('s_umount' covers 's_umount.readers'). '*' is the whole context. A guard
// or action without a declaration counts as reading and writing everything (the sound default).
export interface FootprintDecl {
  reads?: readonly string[];
  writes?: readonly string[];
  sets?: readonly string[];
}

/** The property under which a declaration rides on its guard or action (Symbol.for: one key across module copies). */
export const FOOTPRINT = Symbol.for('interleave.footprint');

/** The declaration attached to a guard or action implementation, if any. */
export function footprintOf(impl: unknown): FootprintDecl | undefined {
  if ((typeof impl !== 'function' && (typeof impl !== 'object' || impl === null)) || !(FOOTPRINT in (impl as object))) return undefined;
  return (impl as any)[FOOTPRINT];
}

/** Attaches a declaration to one guard or action implementation (a guard function or an assign action); returns it. */
export function withFootprint<T>(impl: T, decl: FootprintDecl): T {
  const prev = footprintOf(impl);
  if (prev !== undefined && JSON.stringify(prev) !== JSON.stringify(decl)) {
    throw new Error(`footprint declared twice with different paths: ${JSON.stringify(prev)} and ${JSON.stringify(decl)}`);
  }
  Object.defineProperty(impl as object, FOOTPRINT, { value: decl, enumerable: false, configurable: true });
  return impl;
}

/**
 * Attaches declarations to a registry of named implementations (as spread into setup({ guards }) or
 * setup({ actions })). Every name in `table` must exist in `impls`.
 */
export function declareFootprints(impls: Record<string, unknown>, table: Record<string, FootprintDecl>): void {
  for (const [name, decl] of Object.entries(table)) {
    if (!(name in impls)) throw new Error(`footprint declared for '${name}', which is not in the registry (${Object.keys(impls).join(', ')})`);
    withFootprint(impls[name], decl);
  }
}

/**
 * One group of interchangeable threads, declared by the model (ModelDefinition.symmetry; explorer/reduce/symmetry.ts
 * checks it against the compiled threads and builds the representative).
 */
export interface SymmetryGroup {
  /** Thread (top-level region) names, all with the same code up to their names. */
  threads: string[];
  /** Context paths ('*' matches one segment) of arrays whose element i belongs to threads[i]. */
  indexed?: string[];
}
