// The frontier interface every search strategy implements: states waiting to be expanded.

export interface FrontierEntry {
  id: number;
  depth: number;
  words: Int32Array;
}

export interface Frontier {
  readonly name: string;
  /** Pushes a state: its first `length` words (default all). */
  push(id: number, depth: number, words: Int32Array, length?: number): void;
  /** Next state to expand; its `words` are a view, valid only until the next push or pop. */
  pop(): FrontierEntry | null;
  readonly size: number;
}

/** Records [id, depth, length, ...words] packed in one growable int32 buffer. */
export class PackedRecords {
  buf = new Int32Array(1 << 16);
  end = 0;

  /** Makes room for n more words. */
  ensure(n: number): void {
    const need = this.end + n;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Int32Array(cap);
      next.set(this.buf.subarray(0, this.end));
      this.buf = next;
    }
  }

  append(id: number, depth: number, words: Int32Array, length = words.length): void {
    const need = this.end + 3 + length;
    this.ensure(3 + length);
    const b = this.buf;
    b[this.end] = id;
    b[this.end + 1] = depth;
    b[this.end + 2] = length;
    const at = this.end + 3;
    for (let i = 0; i < length; i++) b[at + i] = words[i];
    this.end = need;
  }
}
