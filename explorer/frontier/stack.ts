// A LIFO stack of packed states (depth-first order: finds deep states fast; traces are not shortest).
import type { Frontier, FrontierEntry } from './index.ts';
import { ensureCapacity } from '../store/growable.ts';
import { PackedRecords } from './records.ts';

export class Stack implements Frontier {
  private readonly records = new PackedRecords();
  /** Start offset of each record on the stack. */
  private starts = new Int32Array(1 << 12);
  private count = 0;
  private readonly entry: FrontierEntry = { id: 0, depth: 0, words: new Int32Array(0) };

  get size(): number {
    return this.count;
  }

  push(id: number, depth: number, words: Int32Array, length = words.length): void {
    this.starts = ensureCapacity(this.starts, this.count + 1);
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
