// The growable typed array, written once: frontiers, stores, the liveness graph and the codec's word
// buffer all grow through ensureCapacity (doubling, so appends cost amortised O(1)).

export type TypedArray = Int32Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * `a` with room for at least `need` elements: `a` itself when it has it, else a new array of the same
 * type, at least twice as long, holding `a`'s first `used` elements.
 */
export function ensureCapacity<T extends TypedArray>(a: T, need: number, used: number = a.length): T {
  if (need <= a.length) return a;
  let cap = Math.max(1024, a.length * 2);
  while (cap < need) cap *= 2;
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a.subarray(0, used));
  return b;
}

/** A typed array with a length: push, reserve, and the used part as a view. */
export class GrowableArray<T extends TypedArray> {
  length = 0;
  constructor(public data: T) {}

  reserve(n: number): void {
    this.data = ensureCapacity(this.data, n, this.length);
  }

  push(v: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = v;
  }

  /** The used part, as a view (no copy: a copy would double the peak memory). */
  trimmed(): T {
    return this.data.subarray(0, this.length) as T;
  }
}
