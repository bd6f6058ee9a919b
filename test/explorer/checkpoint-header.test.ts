// A checkpoint whose checksum is right but whose header was edited (crafted, or written by a broken tool) is
// refused as bad input naming the file and the header field that is wrong; before, a missing or mistyped field
// of the header's state threw a TypeError inside the restore (an internal error, exit 3).
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../explorer/checkpoint.ts';
import { InputError } from '../../explorer/errors.ts';
import { checkModel, type CheckRequest } from '../../explorer/index.ts';
import philosophers from '../../machines/philosophers/index.ts';

const modelPath = resolve(import.meta.dirname, '../../machines/philosophers/index.ts');

/** A checkpoint of `req` taken mid-run, its header edited by `edit` (the checksum recomputed). */
function crafted(req: CheckRequest, edit: (h: any) => void): Uint8Array {
  const saved: Uint8Array[] = [];
  checkModel({ ...req, checkpoint: { everySeconds: 0.001, write: (b) => saved.push(b.slice()) } });
  const { header, sections } = decodeCheckpoint(saved[0], 'x');
  edit(header);
  return encodeCheckpoint(header, sections);
}

const edits: Array<[string, (h: any) => void, RegExp]> = [
  ['state missing', (h) => delete h.state, /header's state is missing/],
  ['search not a string', (h) => (h.state.search = 7), /header's state\.search is 7/],
  ['strings not a list', (h) => (h.state.strings = 5), /state\.strings is 5, expected a list of strings/],
  ['counters missing', (h) => delete h.state.counters, /state\.counters is missing/],
  ['a store number mistyped', (h) => ((h.state.store ?? h.state.partitions[1].store).numbers.cap = 'x'), /store\.numbers\.cap is "x"/],
  ['a store array of an unknown type', (h) => ((h.state.store ?? h.state.partitions[1].store).arrays.table = 'constructor'), /store\.arrays\.table is "constructor"/],
  ['more states than the store holds', (h) => ((h.state.store ?? h.state.partitions[1].store).numbers.size = 1e9), /store\.numbers\.size is 1000000000/],
  ['params not an object', (h) => (h.params = 3), /header's params is 3/],
];

describe('--resume: a checkpoint with a valid checksum and a malformed header', () => {
  for (const workers of [1, 2]) {
    const req: CheckRequest = { model: philosophers, modelPath, workers, params: { n: 10 }, variant: 'ordered', stopAtFirst: false };
    it.each(edits)(`workers ${workers}: %s: refused as bad input naming the file and the field`, (_, edit, why) => {
      const bytes = crafted(req, edit);
      let err: unknown;
      try {
        checkModel({ ...req, resume: { bytes, file: 'run.ckpt' } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/^run\.ckpt: not a usable interleave checkpoint \(/);
      expect((err as Error).message).toMatch(why);
    });
  }
  it('frontierCount past the saved frontier: refused', () => {
    const req: CheckRequest = { model: philosophers, params: { n: 10 }, variant: 'ordered', stopAtFirst: false };
    const bytes = crafted(req, (h) => (h.state.frontierCount += 1000));
    expect(() => checkModel({ ...req, resume: { bytes, file: 'run.ckpt' } })).toThrow(/^run\.ckpt: not a usable interleave checkpoint \(.*frontierCount/);
  });
});
