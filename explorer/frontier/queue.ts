// A FIFO queue of packed states (breadth-first order: the first violation found has a shortest trace).
import type { Frontier, FrontierEntry } from './index.ts';
import { PackedRecords } from './records.ts';

export class FifoQueue implements Frontier {
  private readonly records = new PackedRecords();
  private head = 0;
  private count = 0;
  private readonly entry: FrontierEntry = { id: 0, depth: 0, words: new Int32Array(0) };

  get size(): number {
    return this.count;
  }

  push(id: number, depth: number, words: Int32Array, length = words.length): void {
    // Reclaim the consumed prefix once it is more than half of the buffer.
    const r = this.records;
    if (this.head > 0 && this.head * 2 > r.buf.length && r.end + 3 + length > r.buf.length) {
      r.buf.copyWithin(0, this.head, r.end);
      r.end -= this.head;
      this.head = 0;
    }
    r.append(id, depth, words, length);
    this.count++;
  }

  /** The waiting states as one record array (a copy), for a checkpoint. */
  save(): { records: Int32Array; count: number } {
    return { records: this.records.buf.slice(this.head, this.records.end), count: this.count };
  }

  /** A queue holding the records save() returned. */
  static restore(records: Int32Array, count: number): FifoQueue {
    const q = new FifoQueue();
    q.records.ensure(records.length);
    q.records.buf.set(records);
    q.records.end = records.length;
    q.count = count;
    return q;
  }

  pop(): FrontierEntry | null {
    if (this.count === 0) return null;
    const b = this.records.buf;
    const h = this.head;
    const len = b[h + 2];
    this.entry.id = b[h];
    this.entry.depth = b[h + 1];
    // A view: valid until the next push (which may compact the buffer over this record).
    this.entry.words = b.subarray(h + 3, h + 3 + len);
    this.head = h + 3 + len;
    this.count--;
    if (this.count === 0) {
      this.head = 0;
      this.records.end = 0;
    }
    return this.entry;
  }
}
