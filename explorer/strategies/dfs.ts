// Depth-first frontier: a LIFO stack of packed states (finds deep states fast; traces are not shortest).
import { PackedRecords, type Frontier, type FrontierEntry } from './frontier.ts';

export class DfsFrontier implements Frontier {
  readonly name = 'dfs';
  private readonly records = new PackedRecords();
  /** Start offset of each record on the stack. */
  private starts = new Int32Array(1 << 12);
  private count = 0;
  private readonly entry: FrontierEntry = { id: 0, depth: 0, words: new Int32Array(0) };

  get size(): number {
    return this.count;
  }

  push(id: number, depth: number, words: Int32Array, length = words.length): void {
    if (this.count === this.starts.length) {
      const next = new Int32Array(this.starts.length * 2);
      next.set(this.starts);
      this.starts = next;
    }
    this.starts[this.count++] = this.records.end;
    this.records.append(id, depth, words, length);
  }

  pop(): FrontierEntry | null {
    if (this.count === 0) return null;
    const start = this.starts[--this.count];
    const b = this.records.buf;
    const len = b[start + 2];
    this.entry.id = b[start];
    this.entry.depth = b[start + 1];
    // A view: valid until the next push overwrites this record.
    this.entry.words = b.subarray(start + 3, start + 3 + len);
    this.records.end = start;
    return this.entry;
  }
}
