// The stores of visited states, behind one interface. Each stored state gets a dense id; a path is
// rebuilt by walking parent links back to the initial state and replaying the recorded events, so full
// states need not be kept. Two stores:
// - FingerprintSet (./fingerprint-set.ts, the safety searches): fingerprints in the table slots, parent
//   and event per id, at most 16 bytes per state (17 for models with 255 or more events). It answers
//   only "seen before?" for a duplicate.
// - FingerprintIndex (./fingerprint-index.ts, the liveness strategy, which needs the id of a duplicate
//   to record the edge): a table of ids over per-id fingerprints, parents and events.
// Both can be saved as typed arrays and restored (StoreImage), the seam checkpoints build on.
import type { TypedArray } from './growable.ts';

/** What a finished search hands on for traces: the parent links. */
export interface PathStore {
  readonly size: number;
  /** Event indices from the initial state to `id`. */
  pathTo(id: number): number[];
}

export interface Store extends PathStore {
  /** Adds a state by fingerprint: its new id (>= 0), or a negative number when it was stored already. */
  add(hi: number, lo: number, parent: number, event: number): number;
  /** Bytes per stored state, counting what the store holds. */
  bytesPerStateUsed(): number;
  /** The store as typed arrays and numbers (views: copy or write them out before the store changes). */
  save(): StoreImage;
}

/** A saved store: which kind, its numbers and its typed arrays. */
export interface StoreImage {
  kind: 'fingerprint-set' | 'fingerprint-index';
  numbers: Record<string, number>;
  arrays: Record<string, TypedArray>;
}

export function expectKind(image: StoreImage, kind: StoreImage['kind']): void {
  if (image.kind !== kind) throw new Error(`internal: restoring a ${kind} from a saved ${image.kind}`);
}

export { fingerprint } from './fingerprint.ts';
export { FingerprintIndex } from './fingerprint-index.ts';
export { FingerprintSet } from './fingerprint-set.ts';
