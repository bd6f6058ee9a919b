// Runs kernel-primitive models through the fast engine: same state counts as the reference, and the
// deadlock trace names the locks and the wait-for cycle through kernelWaits + buildWaitFor.
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import { renderDeadlock } from '../../../explorer/waitfor.ts';
import {
  bch2_trans_relock, bch2_trans_unlock, btree, btree_node_lock, btree_node_unlock, down_read, folio, folio_lock,
  folio_unlock, freezeSuperStates, kernelWaits, rwsem, sbWriters, sb_end_write, sb_start_write, thawSuperStates, up_read,
} from '../../../machines/kernel/index.ts';
import { explore, straight, tinyModel } from './harness.ts';

function freezeModel(keepUmount: boolean, writers = 2) {
  const build = () => {
    const fz = freezeSuperStates({ thread: 'freezer', next: 'frozen', keepUmount });
    const th = thawSuperStates({ thread: 'freezer', next: 'done' });
    const writer = (t: string) =>
      straight(t, [sb_start_write('s_writers', t), (n: string) => down_read('s_umount', t, n, 'sb->s_umount'), up_read('s_umount', t), sb_end_write('s_writers', t)]);
    return tinyModel({ s_umount: rwsem(), s_writers: sbWriters() }, {
      freezer: { initial: fz.initial, states: { ...fz.states, frozen: { on: { 'freezer.thaw': th.initial } }, ...th.states, done: { type: 'final' } } },
      ...Object.fromEntries(Array.from({ length: writers }, (_, i) => [`w${i}`, writer(`w${i}`)])),
    });
  };
  return {
    build,
    model: defineModel({
      name: 'kernel-freeze-test', description: 'freeze_super fragment vs two writers', params: {},
      variants: { v: { description: '' } }, defaultVariant: 'v', create: build, waits: kernelWaits,
    }),
  };
}

describe('kernel primitives under the fast engine', () => {
  it('fixed freeze: pass, with the same state count as the reference', () => {
    const { build, model } = freezeModel(false, 1);
    const r = checkModel({ model });
    expect(r.verdict.status).toBe('pass');
    expect(r.stats.states).toBe(explore(build()).states);
    expect(checkModel({ model: freezeModel(false, 3).model }).verdict.status).toBe('pass');
  });

  it('V1-2 freeze: deadlock whose trace carries the freezer <-> writer cycle', () => {
    const { model } = freezeModel(true);
    const r = checkModel({ model });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const report = r.trace!.deadlock!;
    expect(report.cycle).not.toBeNull();
    const edges = report.cycle!.map((e) => `${e.thread} -> ${e.resource} -> ${e.heldBy}`);
    expect(edges[0]).toBe('freezer -> sb_writers -> w0');
    expect(edges[1]).toBe('w0 -> sb->s_umount -> freezer');
    const text = renderDeadlock(report, { columns: ['freezer', 'w0', 'w1'] });
    expect(text).toContain('lock(sb_writers);');
    expect(text).toContain('rlock(sb->s_umount);');
    // the kernel calls, when asked for
    expect(renderDeadlock(report, { calls: 'verb' })).toContain('percpu_down_write(sb_writers);');
  });

  it('fiemap-style ABBA: folio lock under a btree read lock vs btree lock under the folio lock', () => {
    const build = () =>
      tinyModel({ bt: btree({ nodes: ['leaf'], threads: ['fiemap', 'writer'] }), f: folio() }, {
        fiemap: straight('fiemap', [(n: string) => btree_node_lock('bt', 'fiemap', 'leaf', 'read', n, 'extent leaf'), (n: string) => folio_lock('f', 'fiemap', n, 'folio 0'), folio_unlock('f', 'fiemap'), btree_node_unlock('bt', 'fiemap', 'leaf')]),
        writer: straight('writer', [(n: string) => folio_lock('f', 'writer', n, 'folio 0'), (n: string) => btree_node_lock('bt', 'writer', 'leaf', 'intent', n), (n: string) => btree_node_lock('bt', 'writer', 'leaf', 'write', n, 'extent leaf'), btree_node_unlock('bt', 'writer', 'leaf'), folio_unlock('f', 'writer')]),
      });
    const model = defineModel({ name: 'abba-folio', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: build, waits: kernelWaits });
    const r = checkModel({ model });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.trace!.deadlock!.cycle!.map((e) => `${e.thread}:${e.resource}:${e.heldBy}`)).toEqual([
      'fiemap:folio 0:writer',
      'writer:extent leaf:fiemap',
    ]);
    // drop_locks_do(): unlock the transaction around the blocking folio_lock, then relock -> no deadlock
    const fixed = () =>
      tinyModel({ bt: btree({ nodes: ['leaf'], threads: ['fiemap', 'writer'] }), f: folio() }, {
        fiemap: {
          initial: 'lock',
          states: {
            lock: { on: { 'fiemap.lock': btree_node_lock('bt', 'fiemap', 'leaf', 'read', 'unlock') } },
            unlock: { on: { 'fiemap.unlock': { ...bch2_trans_unlock('bt', 'fiemap'), target: 'folio' } } },
            folio: { on: { 'fiemap.folio': folio_lock('f', 'fiemap', 'relock') } },
            relock: { on: { 'fiemap.relock': bch2_trans_relock('bt', 'fiemap', { ok: 'done_ok', restart: 'done_restart' }) } },
            done_ok: { on: { 'fiemap.end': { actions: [...folio_unlock('f', 'fiemap').actions!, ...btree_node_unlock('bt', 'fiemap', 'leaf').actions!], target: 'done' } } },
            done_restart: { on: { 'fiemap.end': { ...folio_unlock('f', 'fiemap'), target: 'done' } } },
            done: { type: 'final' },
          },
        },
        writer: straight('writer', [(n: string) => folio_lock('f', 'writer', n), (n: string) => btree_node_lock('bt', 'writer', 'leaf', 'intent', n), (n: string) => btree_node_lock('bt', 'writer', 'leaf', 'write', n), btree_node_unlock('bt', 'writer', 'leaf'), folio_unlock('f', 'writer')]),
      });
    const ok = checkModel({ model: { ...model, create: fixed } });
    expect(ok.verdict.status).toBe('pass');
    expect(ok.stats.states).toBe(explore(fixed()).states);
  });
});
