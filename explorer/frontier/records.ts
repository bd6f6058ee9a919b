// Records [id, depth, length, ...words] packed in one growable int32 buffer: the storage of the frontiers
// and of the parallel partitions' level queues.
import { ensureCapacity } from '../store/growable.ts';

/** Records [id, depth, length, ...words] packed in one growable int32 buffer. */
export class PackedRecords {
  buf = new Int32Array(1 << 16);
  end = 0;

  /** Makes room for n more words. */
  ensure(n: number): void {
    this.buf = ensureCapacity(this.buf, this.end + n, this.end);
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
