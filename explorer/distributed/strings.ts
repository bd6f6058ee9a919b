// The string table of one process of a distributed search: ids are the same 32-bit content hashes as the
// worker threads' shared table (explorer/parallel/strings.ts), so every process encodes equal states to
// equal words. There is no shared memory between machines: each process reports the strings it met since
// its last report (fresh()), and the coordinator passes them on to every other process before the states
// that use them arrive (learn()). Two different strings with one hash stop the run with an error.
import type { StringTable } from '../codec.ts';
import { ModelError } from '../errors.ts';
import { hash32 } from '../parallel/strings.ts';

export class HashStrings implements StringTable {
  private readonly ids = new Map<string, number>();
  private readonly strings = new Map<number, string>();
  private unreported: string[] = [];

  intern(s: string): number {
    const known = this.ids.get(s);
    if (known !== undefined) return known;
    this.add(s);
    this.unreported.push(s);
    return this.ids.get(s)!;
  }

  stringOf(id: number): string {
    const s = this.strings.get(id);
    if (s === undefined) throw new Error(`corrupt state encoding: string id ${id} is in no process's string table`);
    return s;
  }

  /** The strings met since the last call. */
  fresh(): string[] {
    const out = this.unreported;
    this.unreported = [];
    return out;
  }

  /** Strings other processes met. */
  learn(list: string[]): void {
    for (const s of list) if (!this.ids.has(s)) this.add(s);
  }

  private add(s: string): void {
    const id = hash32(s);
    const other = this.strings.get(id);
    if (other !== undefined && other !== s) {
      throw new ModelError(
        `the context strings ${JSON.stringify(other)} and ${JSON.stringify(s)} have the same 32-bit hash, so the distributed ` +
          `search cannot tell them apart; run this model without --nats`,
        { feature: 'context' },
      );
    }
    this.ids.set(s, id);
    this.strings.set(id, s);
  }
}
