// Kernel primitives combined as no bundled model combines them, stepped on the words: the engine against
// XState's transition() on every reachable state (word path on), and the same graph with the word path off
// (every step of these lowered).
import { describe, expect, it } from 'vitest';
import { and, setup } from 'xstate';
import { compileMachine } from '../../../../explorer/compile/index.ts';
import { crossCheck } from '../../../../explorer/crosscheck.ts';
import {
  btrfsTrans,
  down_read,
  down_write,
  downgrade_write,
  flush_work,
  flush_workqueue,
  folio,
  folio_lock,
  folio_unlock,
  kernelActions,
  kernelGuards,
  mod_delayed_work,
  mutex,
  mutex_lock,
  mutex_unlock,
  cancel_work_sync,
  pipe,
  pipe_read,
  pipe_write,
  queue_work,
  rwsem,
  up_read,
  up_write,
  worker_done,
  worker_start_item,
  workqueue,
  prepare_to_wait,
  prepare_to_wait_exclusive,
  schedule,
  finish_wait,
  waitQueue,
  wake_up,
  wake_up_all,
} from '../../../../machines/kernel/index.ts';
import { localActions as sixActions, localGuards as sixGuards, sixLock } from '../../../../machines/bcachefs-fiemap/locks.ts';
import { exploreWords } from '../../../helpers/explore-words.ts';

const g = (type: string, params: unknown) => ({ type, params });
const a = (type: string, params: unknown) => ({ type, params });
/** A thread: its steps in order, each a transition fragment (or the transitions of one event) to the next step. */
function thread(name: string, steps: Array<[string, any]>) {
  const states: Record<string, any> = {};
  steps.forEach(([ev, t], i) => {
    const target = `s${i + 1}`;
    const withTarget = (x: any) => (x.target === undefined ? { ...x, target } : x);
    states[`s${i}`] = { on: { [`${name}.${ev}`]: Array.isArray(t) ? t : withTarget(t) } };
  });
  states[`s${steps.length}`] = {};
  return { initial: 's0', states };
}

// Two mutexes in a record keyed by thread, an rw_semaphore in an array, four threads: a reader takes the
// rwsem and a mutex in one transition, a writer downgrades, one thread unlocks the other's mutex.
const locks = setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
  type: 'parallel',
  context: { A: 0, m: { b: mutex(), a: mutex() }, sems: [rwsem(), rwsem({ readerSteal: false })], zz: [] },
  states: {
    a: thread('a', [
      ['lock', mutex_lock('m.a', 'a')],
      ['down_write', down_write('sems.1', 'a', 's2')],
      ['downgrade', downgrade_write('sems.1', 'a')],
      ['up_read', up_read('sems.1', 'a')],
      ['unlock', mutex_unlock('m.a', 'a')],
    ]),
    b: thread('b', [
      ['both', { guard: and([g('mutex_can_lock', { lock: 'm.b', thread: 'b' }), g('rwsem_down_read_trylock_ok', { lock: 'sems.0', thread: 'b' })]), actions: [a('mutex_lock', { lock: 'm.b', thread: 'b' }), a('rwsem_down_read', { lock: 'sems.0', thread: 'b' })] }],
      ['down_read', down_read('sems.1', 'b', 's2')],
      ['up_both', { actions: [a('rwsem_up_read', { lock: 'sems.1', thread: 'b' }), a('rwsem_up_read', { lock: 'sems.0', thread: 'b' }), a('mutex_unlock', { lock: 'm.b', thread: 'b' })] }],
    ]),
    '0': thread('0', [
      ['down_write', down_write('sems.0', '0', 's1')],
      ['down_read', down_read('sems.1', '0', 's2')],
      ['up', { actions: [a('rwsem_up_read', { lock: 'sems.1', thread: '0' }), a('rwsem_up_write', { lock: 'sems.0', thread: '0' })] }],
    ]),
    zz: thread('zz', [
      ['down_read', down_read('sems.1', 'zz', 's1')],
      ['lock', mutex_lock('m.b', 'zz')],
      ['up_read', up_read('sems.1', 'zz')],
      ['unlock', mutex_unlock('m.b', 'zz')],
    ]),
  },
});

// A workqueue of three items declared in reverse order (XState's context keeps that order, the packed state sorts
// them: flush_workqueue listed the pending w1 and w0 in the order of Object.keys, so the two differed), dedicated
// workers, a flush of the workqueue naming the items in a third order, flush_work, mod_delayed_work,
// cancel_work_sync; a pipe between two threads.
const wqMachine = setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
  type: 'parallel',
  context: { fs: { wq: workqueue(['w2', 'w1', 'w0']), p: pipe(1) } },
  states: {
    k0: thread('k0', [
      ['start', worker_start_item('fs.wq', 'w0', 'k0')],
      ['write', pipe_write('fs.p', 'k0')],
      ['done', worker_done('fs.wq', 'k0')],
    ]),
    k1: thread('k1', [
      ['start', worker_start_item('fs.wq', 'w1', 'k1')],
      ['done', worker_done('fs.wq', 'k1')],
      ['start2', worker_start_item('fs.wq', 'w1', 'k1')],
      ['done2', worker_done('fs.wq', 'k1')],
    ]),
    q: thread('q', [
      ['queue0', queue_work('fs.wq', 'w0', 'q')],
      ['queue1', queue_work('fs.wq', 'w1', 'q')],
      ['flush_begin', flush_workqueue('fs.wq', 'q', undefined, ['w1', 'w2', 'w0']).begin],
      ['mod', mod_delayed_work('fs.wq', 'w1', 'q')],
      ['flush_wait', flush_workqueue('fs.wq', 'q').wait],
      ['read', pipe_read('fs.p', 'q', { data: 's6', eof: 's6' })],
    ]),
    c: thread('c', [
      ['flush_work', flush_work('fs.wq', 'w1', 'c').begin],
      ['flush_wait', flush_work('fs.wq', 'w1', 'c').wait],
      ['grab', cancel_work_sync('fs.wq', 'w1', 'c').grab],
      ['wait', cancel_work_sync('fs.wq', 'w1', 'c').wait],
    ]),
  },
});

// A six lock taken for intent by two threads (the second queues), each upgrading to write; a reader; a
// folio lock held across the write by one of them.
const six = (t: string) => ({ lock: 'node', thread: t });
const sixMachine = setup({ guards: { ...kernelGuards, ...sixGuards }, actions: { ...kernelActions, ...sixActions } }).createMachine({
  type: 'parallel',
  context: { folios: [folio(), folio({ unfairness: 1 })], node: sixLock() },
  states: Object.fromEntries([
    ...['u', 'v'].map((t) => [
      t,
      thread(t, [
        ['intent', [
          { guard: g('six_can_intent', six(t)), actions: [a('six_intent_acquire', six(t))], target: 's2' },
          { actions: [a('six_intent_queue', six(t))], target: 's1' },
        ]],
        ['granted', { guard: g('six_intent_granted', six(t)) }],
        ['folio', folio_lock('folios.1', t, 's3')],
        ['request', { actions: [a('six_write_request', six(t))] }],
        ['write', { guard: g('six_write_ready', six(t)), actions: [a('six_write_acquire', six(t))] }],
        ['unlock_write', { actions: [a('six_write_unlock', six(t)), a('folio_unlock', { lock: 'folios.1', thread: t })] }],
        ['unlock_intent', { actions: [a('six_intent_unlock', six(t))] }],
      ]),
    ]),
    [
      'r',
      thread('r', [
        ['read', [
          { guard: g('six_can_read', six('r')), actions: [a('six_read_acquire', six('r')), a('six_path_save', six('r'))], target: 's2' },
          { actions: [a('six_read_queue', six('r'))], target: 's1' },
        ]],
        ['granted', { guard: g('six_read_granted', six('r')), actions: [a('six_path_save', six('r'))] }],
        ['folio', folio_lock('folios.1', 'r', 's3')],
        ['unlock', { actions: [a('folio_unlock', { lock: 'folios.1', thread: 'r' }), a('six_read_unlock', six('r')), a('six_path_drop', six('r'))] }],
      ]),
    ],
  ]),
});

// Three writers and a reader on one rw_semaphore: two writers queued at once, so only the first in line may
// take the free lock (rwsem_can_down_write), while a writer or reader not yet queued may still steal it.
const rwsemQueue = setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
  type: 'parallel',
  context: { sem: rwsem() },
  states: {
    ...Object.fromEntries(['w0', 'w1', 'w2'].map((t) => [t, thread(t, [['down_write', down_write('sem', t, 's1')], ['up_write', up_write('sem', t)]])])),
    r: thread('r', [['down_read', down_read('sem', 'r', 's1')], ['up_read', up_read('sem', 'r')]]),
  },
});

// Exclusive and non-exclusive sleepers on one wait queue, woken by wake_up (one exclusive at a time) and wake_up_all.
const wqx = (t: string, exclusive: boolean) =>
  thread(t, [['prepare', (exclusive ? prepare_to_wait_exclusive : prepare_to_wait)('q', t)], ['schedule', schedule('q', t)], ['finish', finish_wait('q', t)]]);
const exclusiveWaits = setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
  type: 'parallel',
  context: { q: waitQueue() },
  states: {
    x0: wqx('x0', true),
    x1: wqx('x1', true),
    n: wqx('n', false),
    w: thread('w', [['wake', wake_up('q')], ['wake_all', wake_up_all('q')]]),
  },
});

const MACHINES = { locks, workqueue: wqMachine, six: sixMachine, rwsemQueue, exclusiveWaits };
/** Machines whose primitives declare no lowering (wait queues): their steps run on the decoded context. */
const DECODED = new Set(['exclusiveWaits']);

describe('kernel primitives in combinations no bundled model has', () => {
  for (const [name, machine] of Object.entries(MACHINES)) {
    it(`${name}: the engine agrees with XState on every reachable state, word path on`, () => {
      const r = crossCheck(machine, { lowered: true, limit: 50000 });
      expect(r.difference).toBeUndefined();
      expect(r.status).toBe('agree');
    });
    it(`${name}: the word path reaches the states and transitions the decoded step does`, () => {
      const on = exploreWords(compileMachine(machine), true);
      const off = exploreWords(compileMachine(machine), false);
      expect(on.states).toEqual(off.states);
      expect(on.edges).toEqual(off.edges);
      if (DECODED.has(name)) expect(on.counts.fallback).toBeGreaterThan(0);
      else expect(on.counts.fallback).toBe(0);
    });
  }
});
