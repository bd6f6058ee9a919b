// Pins six-lock waiting in machines/kernel/btree.ts: queued waiters are handed the lock on release (FIFO for
// intent, all readers at once), a pending writer blocks new readers, so looping lockers starve nobody
// (checked with the explorer's weak-fairness starvation search), both with the one-event btree_node_lock and
// the two-state form; the *_unqueued forms are the starvable control.
import { beforeEach, describe, expect, it } from 'vitest';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import {
  btree, btree_node_lock, btree_node_lock_fast, btree_node_lock_unqueued, btree_node_lock_wait_state, btree_node_lock_write_unqueued,
  btree_node_unlock, btree_node_unlock_write, kernelWaits, type SixMode,
} from '../../../machines/kernel/index.ts';
import { createReferenceStepper } from '../../../explorer/reference.ts';
import { explore, tinyModel, where } from './harness.ts';

const BT = 'bt';
const NODE = 'leaf';

type Form = 'plain' | 'two-state' | 'unqueued';
/** Forms of the blocking lock: the one-event btree_node_lock, the two-state form (`<name>_wait`), or unqueued. */
let defaultForm: Form = 'plain';
/** State `<name>` (+ `<name>_wait`) taking `mode`, in `form` (an `oneStep` lock is the unqueued control). */
function lockStates(t: string, name: string, mode: SixMode, next: string, oneStep: boolean): Record<string, any> {
  const form: Form = oneStep ? 'unqueued' : defaultForm;
  if (form === 'unqueued') {
    const step = mode === 'write' ? btree_node_lock_write_unqueued(BT, t, NODE) : btree_node_lock_unqueued(BT, t, NODE, mode);
    return { [name]: { on: { [`${t}.${name}`]: { ...step, target: next } } } };
  }
  if (form === 'plain') return { [name]: { on: { [`${t}.${name}`]: btree_node_lock(BT, t, NODE, mode, next) } } };
  return {
    [name]: { on: { [`${t}.${name}`]: btree_node_lock_fast(BT, t, NODE, mode, { next, wait: `${name}_wait` }) } },
    [`${name}_wait`]: btree_node_lock_wait_state(`${t}.${name}_wake`, BT, t, NODE, mode, next),
  };
}
/** A thread that loops forever: take `mode`, hold it, drop it. */
const looping = (t: string, mode: 'read' | 'intent', oneStep = false) => ({
  initial: 'lock',
  states: {
    ...lockStates(t, 'lock', mode, 'holding', oneStep),
    holding: { on: { [`${t}.unlock`]: { ...btree_node_unlock(BT, t, NODE), target: 'lock' } } },
  },
});
/** An updater: intent, write, unlock write, unlock; loops if `loop`, else ends. */
const updater = (t: string, o: { loop: boolean; oneStepWrite?: boolean }) => ({
  initial: 'intent',
  states: {
    ...lockStates(t, 'intent', 'intent', 'write', false),
    ...lockStates(t, 'write', 'write', 'written', !!o.oneStepWrite),
    written: { on: { [`${t}.unlock_write`]: { ...btree_node_unlock_write(BT, t, NODE), target: 'unlock' } } },
    unlock: { on: { [`${t}.unlock`]: { ...btree_node_unlock(BT, t, NODE), target: o.loop ? 'intent' : 'done' } } },
    ...(o.loop ? {} : { done: { type: 'final' } }),
  },
});
/** A reader that takes the read lock once. */
const oneReader = (t: string, oneStep: boolean) => ({
  initial: 'lock',
  states: {
    ...lockStates(t, 'lock', 'read', 'got', oneStep),
    got: { on: { [`${t}.unlock`]: { ...btree_node_unlock(BT, t, NODE), target: 'done' } } },
    done: { type: 'final' },
  },
});

function model(threads: Record<string, any>) {
  const build = () => tinyModel({ bt: btree({ nodes: [NODE], threads: Object.keys(threads) }) }, threads);
  return {
    build,
    model: defineModel({
      name: 'kernel-six-test', description: 'six lock waiters', params: {},
      variants: { v: { description: '' } }, defaultVariant: 'v', create: build, waits: kernelWaits,
    }),
  };
}
const starves = (threads: Record<string, any>, thread: string, goal: string) =>
  checkModel({ model: model(threads).model, check: { deadlock: true, starvation: { thread, goal }, fairness: 'weak' } }).verdict;

for (const form of ['plain', 'two-state'] as const)
describe(`six lock waiters (btree.ts), ${form} btree_node_lock`, () => {
  beforeEach(() => {
    defaultForm = form;
  });
  it('a reader looping re-acquire/release cannot starve a queued writer; the unqueued one-step write can be starved', () => {
    const fair = starves({ reader: looping('reader', 'read'), writer: updater('writer', { loop: false }) }, 'writer', 'written');
    expect(fair).toMatchObject({ status: 'pass' });
    // control: without the write-locking bit the writer is only enabled between the reader's holds
    const unfair = starves({ reader: looping('reader', 'read'), writer: updater('writer', { loop: false, oneStepWrite: true }) }, 'writer', 'written');
    expect(unfair).toMatchObject({ status: 'violation', kind: 'starvation', name: 'writer' });
  });

  it('two looping readers cannot starve a queued writer either', () => {
    const v = starves({ r0: looping('r0', 'read'), r1: looping('r1', 'read'), writer: updater('writer', { loop: false }) }, 'writer', 'written');
    expect(v).toMatchObject({ status: 'pass' });
  });

  it('a looping updater cannot starve a queued reader: write unlock hands read to it', () => {
    const fair = starves({ updater: updater('updater', { loop: true }), reader: oneReader('reader', false) }, 'reader', 'got');
    expect(fair).toMatchObject({ status: 'pass' });
    // control (the artefact the fiemap model had to work around): a reader blocked on a plain guard starves
    const unfair = starves({ updater: updater('updater', { loop: true }), reader: oneReader('reader', true) }, 'reader', 'got');
    expect(unfair).toMatchObject({ status: 'violation', kind: 'starvation', name: 'reader' });
  });

  it('intent waiters are served in FIFO order, so looping intent lockers starve nobody', () => {
    const threads = { a: looping('a', 'intent'), b: looping('b', 'intent'), c: looping('c', 'intent') };
    for (const t of ['a', 'b', 'c']) expect(starves(threads, t, 'holding')).toMatchObject({ status: 'pass' });
    const unfair = { a: looping('a', 'intent', true), b: looping('b', 'intent', true) };
    expect(starves(unfair, 'b', 'holding')).toMatchObject({ status: 'violation', kind: 'starvation' });
    // FIFO handoff: when the holder unlocks, the FIRST waiter gets intent, the others keep their order
    const m = model(threads).build();
    const stepper = createReferenceStepper(m);
    const r = explore(m);
    let checked = 0;
    for (const s of r.all) {
      const n = s.context.bt.nodes.leaf;
      if (n.intentWaiters.length > 0) expect(n.intent).not.toBeNull(); // never free while someone waits
      if (n.intentWaiters.length < 2) continue;
      for (const { next } of stepper.successors(s)) {
        const m2 = next.context.bt.nodes.leaf;
        if (m2.intent === n.intent) continue;
        expect(m2.intent).toBe(n.intentWaiters[0]);
        expect(m2.intentWaiters).toEqual(n.intentWaiters.slice(1));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('handoff records the granted lock in the waiter\'s btree_trans; a pending writer blocks new readers', () => {
    const r = explore(model({ updater: updater('updater', { loop: false }), r0: oneReader('r0', false), r1: oneReader('r1', false) }).build());
    expect(r.deadlocks).toEqual([]);
    for (const s of r.all) {
      const n = s.context.bt.nodes.leaf;
      // read and write never overlap; queued readers only while a writer holds or waits
      expect(n.write !== null && n.readers.length > 0).toBe(false);
      if (n.readWaiters.length > 0) expect(n.write !== null || n.writePending !== null).toBe(true);
      // every held lock is in its owner's trans
      for (const t of n.readers) expect(s.context.bt.trans[t].locked).toContainEqual({ node: NODE, mode: 'read' });
      if (n.intent) expect(s.context.bt.trans[n.intent].locked.some((l: any) => l.node === NODE)).toBe(true);
    }
    // both readers queued behind the write lock, then granted together by six_unlock_write
    const both = r.all.find((s) => s.context.bt.nodes.leaf.readWaiters.length === 2 && s.context.bt.nodes.leaf.write === 'updater');
    expect(both).toBeDefined();
    expect(kernelWaits.btree_lock_granted(both!.context, { btree: BT, thread: 'r0', node: NODE, mode: 'read' })).toEqual({
      resource: 'btree node leaf', kind: 'six', mode: 'six_lock_read (queued)', holders: ['updater'],
    });
    const asleep = form === 'plain' ? 'lock' : 'lock_wait';
    expect(r.all.some((s) => where(s).updater === 'unlock' && s.context.bt.nodes.leaf.readers.length === 2 && where(s).r0 === asleep && where(s).r1 === asleep)).toBe(true);
  });
});
