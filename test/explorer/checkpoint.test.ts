// The checkpoint file format: sections round-trip, damage is detected, and a checkpoint of another run
// is refused naming the field that differs.
import { describe, expect, it } from 'vitest';
import { bytesOf, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, decodeCheckpoint, encodeCheckpoint, int32Section, verifyIdentity, type CheckpointHeader } from '../../explorer/checkpoint.ts';
import { InputError } from '../../explorer/errors.ts';

const identity = { tool: '0.1.0', model: 'm', variant: 'v', params: { n: 3, big: true }, options: { strategy: 'bfs', invariants: ['a', 'b'], maxDepth: undefined } };
const header: CheckpointHeader = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...identity, progress: { states: 3 }, state: { x: [1, 2] } };

describe('checkpoint format', () => {
  const bytes = encodeCheckpoint(header, new Map([['odd', new Uint8Array([1, 2, 3])], ['ints', bytesOf(Int32Array.of(-1, 7, 2 ** 31 - 1))]]));

  it('round-trips the header and sections (aligned copies)', () => {
    const { header: h, sections } = decodeCheckpoint(bytes, 'f');
    expect(h.state).toEqual({ x: [1, 2] });
    expect([...sections.get('odd')!]).toEqual([1, 2, 3]);
    expect([...int32Section(sections, 'ints')]).toEqual([-1, 7, 2 ** 31 - 1]);
    expect(() => int32Section(sections, 'nope', 'f.ckpt')).toThrow(/f\.ckpt: the checkpoint has no 'nope' section/);
  });

  it('detects truncation, a flipped byte and a foreign file', () => {
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'f')).toThrow(InputError);
    const flipped = bytes.slice();
    flipped[30] ^= 1;
    expect(() => decodeCheckpoint(flipped, 'f')).toThrow(/checksum does not match/);
    expect(() => decodeCheckpoint(new TextEncoder().encode('{"format":"interleave-trace"}   '), 'f')).toThrow(/checkpoint magic/);
  });

  it('accepts the same identity (key order and unset options aside) and names the first field that differs', () => {
    expect(() => verifyIdentity(header, { ...identity, params: { big: true, n: 3 }, options: { invariants: ['a', 'b'], strategy: 'bfs' } }, 'f')).not.toThrow();
    expect(() => verifyIdentity(header, { ...identity, tool: '0.2.0' }, 'f')).toThrow(/its tool version is "0\.1\.0", this run's is "0\.2\.0"/);
    expect(() => verifyIdentity(header, { ...identity, variant: 'w' }, 'f')).toThrow(/its variant is "v"/);
    expect(() => verifyIdentity(header, { ...identity, options: { ...identity.options, maxDepth: 5 } }, 'f')).toThrow(/its option maxDepth is \(unset\), this run's is 5/);
    expect(() => verifyIdentity(header, { ...identity, options: { ...identity.options, invariants: ['a'] } }, 'f')).toThrow(/option invariants/);
  });
});
