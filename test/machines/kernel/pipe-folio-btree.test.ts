// Pins the bounded pipe (blocking both ways), folio lock handoff/trylock, and btree_trans relock/restart.
import { describe, expect, it } from 'vitest';
import {
  bch2_trans_begin, bch2_trans_relock, bch2_trans_unlock, btree, btree_node_lock, btree_node_lock_write_fast,
  btree_node_lock_write_wait_state, btree_node_unlock, btree_node_unlock_write, folio, folio_lock, folio_lock_fast,
  folio_lock_wait_state, folio_lock_unqueued, folio_trylock, PAGE_LOCK_UNFAIRNESS, folio_unlock, kernelWaits, pipe, pipe_close, pipe_read, pipe_write, mutex,
  mutex_lock, mutex_unlock,
} from '../../../machines/kernel/index.ts';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import { explore, straight, tinyModel, where } from './harness.ts';

describe('bounded pipe', () => {
  const reader = (n: number) => {
    const states: Record<string, any> = {};
    for (let i = 0; i < n; i++) states[`r${i}`] = { on: { [`rd.r${i}`]: pipe_read('p', 'rd', { data: `r${i + 1}`, eof: 'eof' }, ['wr']) } };
    states[`r${n}`] = { on: { [`rd.r${n}`]: pipe_read('p', 'rd', { data: 'extra', eof: 'eof' }, ['wr']) } };
    return { initial: 'r0', states: { ...states, extra: { type: 'final' }, eof: { type: 'final' } } };
  };
  it('write blocks when full, read blocks when empty, EOF after close', () => {
    const m = tinyModel({ p: pipe(1) }, {
      wr: straight('wr', [pipe_write('p', 'wr', ['rd']), pipe_write('p', 'wr', ['rd']), pipe_close('p', 'wr')]),
      rd: reader(2),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    expect(r.all.every((s) => s.context.p.count <= 1)).toBe(true);
    // the writer sits in front of a full pipe while the reader has not read yet
    const full = r.all.find((s) => where(s).wr === 's1' && s.context.p.count === 1);
    expect(kernelWaits.pipe_can_write(full!.context, { pipe: 'p', thread: 'wr', peers: ['rd'] })?.holders).toEqual(['rd']);
    // the reader blocks on an empty open pipe
    const empty = r.all.find((s) => where(s).rd === 'r0' && s.context.p.count === 0);
    expect(kernelWaits.pipe_has_data(empty!.context, { pipe: 'p', thread: 'rd', peers: ['wr'] })?.holders).toEqual(['wr']);
    expect(r.all.filter((s) => s.status === 'done').every((s) => where(s).rd === 'eof')).toBe(true);
  });
  it('a writer that never closes leaves the reader blocked: deadlock', () => {
    const m = tinyModel({ p: pipe(1) }, { wr: straight('wr', [pipe_write('p', 'wr', ['rd'])]), rd: reader(1) });
    const r = explore(m);
    expect(r.deadlocks.length).toBe(1);
    expect(where(r.deadlocks[0])).toEqual({ wr: 'done', rd: 'r1' });
  });
  it('a reader that stops reading leaves the writer blocked on a full pipe', () => {
    const m = tinyModel({ p: pipe(1) }, {
      wr: straight('wr', [pipe_write('p', 'wr', ['rd']), pipe_write('p', 'wr', ['rd'])]),
      rd: straight('rd', [{}]),
    });
    const r = explore(m);
    expect(r.deadlocks.length).toBe(1);
    expect(where(r.deadlocks[0]).wr).toBe('s1');
  });
});

describe('folio lock', () => {
  it('folio_unlock wakes the first queued waiter, a fast-path locker may steal from it; trylock never blocks', () => {
    const locker = (t: string) => ({
      initial: 'lock',
      states: {
        lock: { on: { [`${t}.lock`]: folio_lock_fast('f', t, { next: 'locked', wait: 'wait' }) } },
        wait: folio_lock_wait_state(`${t}.wait`, 'f', t, 'locked'),
        locked: { on: { [`${t}.unlock`]: { ...folio_unlock('f', t), target: 'done' } } },
        done: { type: 'final' },
      },
    });
    const m = tinyModel({ f: folio() }, {
      a: locker('a'),
      b: locker('b'),
      t: { initial: 'try', states: {
        try: { on: { 't.try': folio_trylock('f', 't', { ok: 'got', fail: 'done' }) } },
        got: { on: { 't.unlock': { ...folio_unlock('f', 't'), target: 'done' } } },
        done: { type: 'final' },
      } },
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    // never two owners; a waiter in `wait` is never the owner unless handed over
    for (const s of r.all) {
      const inside = ['a', 'b'].filter((x) => where(s)[x] === 'locked').concat(where(s).t === 'got' ? ['t'] : []);
      expect(inside.length).toBeLessThanOrEqual(1);
      if (inside.length === 1) expect(s.context.f.owner).toBe(inside[0]);
    }
    // v6.6 wakes b without the lock (b is off the queue, woken); the trylocker can steal it first, and b queues again
    expect(r.all.some((s) => where(s).b === 'wait' && s.context.f.woken.includes('0:b') && s.context.f.owner === null)).toBe(true);
    expect(r.all.some((s) => where(s).b === 'wait' && s.context.f.waiters.includes('1:b') && s.context.f.owner === 't')).toBe(true);
    // with vm.page_lock_unfairness=0 every wakeup is a handoff: right after a unlocks with b queued, b owns it
    const strict = explore(tinyModel({ f: folio({ unfairness: 0 }) }, { a: locker('a'), b: locker('b') }));
    expect(strict.all.some((s) => where(s).b === 'wait' && s.context.f.owner === 'b' && s.context.f.woken.includes('h:b'))).toBe(true);
    expect(strict.all.some((s) => s.context.f.woken.some((e: string) => !e.startsWith('h:')))).toBe(false);
  });
  it('a waiter loses the lock at most sysctl_page_lock_unfairness times, then it is handed over: a looping locker cannot starve it', () => {
    // a takes and drops the folio forever; b locks it once. The plain folio_lock, and the unqueued control.
    const looping = { initial: 'lock', states: {
      lock: { on: { 'a.lock': folio_lock('f', 'a', 'locked') } },
      locked: { on: { 'a.unlock': { ...folio_unlock('f', 'a'), target: 'lock' } } },
    } };
    const once = (step: any) => ({ initial: 'lock', states: {
      lock: { on: { 'b.lock': step } },
      got: { on: { 'b.unlock': { ...folio_unlock('f', 'b'), target: 'done' } } },
      done: { type: 'final' },
    } });
    const starves = (b: any, f = folio()) => {
      const build = () => tinyModel({ f }, { a: looping, b });
      const model = defineModel({ name: 'folio-steal', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: build, waits: kernelWaits });
      return { verdict: checkModel({ model, check: { deadlock: true, starvation: { thread: 'b', goal: 'got' }, fairness: 'weak' } }).verdict, all: explore(build()).all };
    };
    const fair = starves(once(folio_lock('f', 'b', 'got')));
    expect(fair.verdict).toMatchObject({ status: 'pass' });
    // b lost five wakeups and carries WQ_FLAG_CUSTOM; a's next unlock hands it the lock
    const lost = fair.all.map((s) => s.context.f.waiters.concat(s.context.f.woken)).flat();
    expect(lost).toContain(`${PAGE_LOCK_UNFAIRNESS}:b`);
    expect(lost).not.toContain(`${PAGE_LOCK_UNFAIRNESS + 1}:b`);
    expect(fair.all.some((s) => s.context.f.woken.includes('h:b') && s.context.f.owner === 'b')).toBe(true);
    // control: without the wait queue b is only enabled between a's holds
    expect(starves(once({ ...folio_lock_unqueued('f', 'b'), target: 'got' })).verdict).toMatchObject({ status: 'violation', kind: 'starvation', name: 'b' });
  });
  it('ABBA between a folio lock and a mutex deadlocks and names both', () => {
    const m = tinyModel({ f: folio(), leaf: mutex() }, {
      fiemap: straight('fiemap', [mutex_lock('leaf', 'fiemap', 'extent leaf'), (n: string) => folio_lock('f', 'fiemap', n, 'folio 0'), folio_unlock('f', 'fiemap'), mutex_unlock('leaf', 'fiemap')]),
      writer: straight('writer', [(n: string) => folio_lock('f', 'writer', n, 'folio 0'), mutex_lock('leaf', 'writer', 'extent leaf'), mutex_unlock('leaf', 'writer'), folio_unlock('f', 'writer')]),
    });
    const r = explore(m);
    expect(r.deadlocks.length).toBe(1);
    const ctx = r.deadlocks[0].context;
    expect(kernelWaits.folio_lock_granted(ctx, { lock: 'f', thread: 'fiemap', name: 'folio 0' })).toEqual({ resource: 'folio 0', kind: 'folio', mode: 'folio_lock', holders: ['writer'] });
  });
});

describe('btree transaction', () => {
  const ctx = () => ({ bt: btree({ nodes: ['leaf'], threads: ['reader', 'updater'] }) });
  it('relock fails after another transaction write-locked the node, forcing a restart', () => {
    const m = tinyModel(ctx(), {
      reader: {
        initial: 'begin',
        states: {
          begin: { on: { 'reader.begin': { ...bch2_trans_begin('bt', 'reader'), target: 'lock' } } },
          lock: { on: { 'reader.lock': btree_node_lock('bt', 'reader', 'leaf', 'read', 'unlock') } },
          // drop_locks_do(trans, folio_lock(...)): unlock, do the blocking thing, relock
          unlock: { on: { 'reader.unlock': { ...bch2_trans_unlock('bt', 'reader'), target: 'relock' } } },
          relock: { on: { 'reader.relock': bch2_trans_relock('bt', 'reader', { ok: 'finish', restart: 'restarted' }) } },
          restarted: { on: { 'reader.retry': { target: 'done' } } },
          finish: { on: { 'reader.finish': { ...bch2_trans_unlock('bt', 'reader'), ...bch2_trans_begin('bt', 'reader'), target: 'done' } } },
          done: { type: 'final' },
        },
      },
      updater: {
        initial: 'intent',
        states: {
          intent: { on: { 'updater.intent': btree_node_lock('bt', 'updater', 'leaf', 'intent', 'write') } },
          write: { on: { 'updater.write': btree_node_lock_write_fast('bt', 'updater', 'leaf', { next: 'written', wait: 'write_wait' }) } },
          write_wait: btree_node_lock_write_wait_state('updater.write_wait', 'bt', 'updater', 'leaf', 'written'),
          written: { on: { 'updater.unlock_write': { ...btree_node_unlock_write('bt', 'updater', 'leaf'), target: 'unlock' } } },
          unlock: { on: { 'updater.unlock': { ...btree_node_unlock('bt', 'updater', 'leaf'), target: 'done' } } },
          done: { type: 'final' },
        },
      },
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const restarted = r.all.filter((s) => where(s).reader === 'restarted');
    expect(restarted.length).toBeGreaterThan(0);
    expect(restarted.every((s) => s.context.bt.trans.reader.restarted && s.context.bt.trans.reader.locked.length === 0)).toBe(true);
    // every restart happened after the updater write-locked the leaf (seq changed) or while its write is
    // pending (relock is a trylock, and a pending writer makes a read trylock fail)
    expect(restarted.every((s) => ['write_wait', 'written', 'unlock', 'done'].includes(where(s).updater))).toBe(true);
    expect(restarted.some((s) => !s.context.bt.nodes.leaf.writePending && !s.context.bt.nodes.leaf.write)).toBe(true);
    // and a successful relock is reachable when the updater did not write in between
    expect(r.all.some((s) => where(s).reader === 'finish' && where(s).updater === 'intent')).toBe(true);
    // read and write never overlap on the node
    expect(r.all.every((s) => !(s.context.bt.nodes.leaf.write && s.context.bt.nodes.leaf.readers.length))).toBe(true);
    // a pending writer blocks new readers
    const pending = r.all.find((s) => s.context.bt.nodes.leaf.writePending === 'updater');
    expect(pending).toBeDefined();
    expect(kernelWaits.btree_can_lock(pending!.context, { btree: 'bt', thread: 'reader', node: 'leaf', mode: 'read' })?.holders).toEqual(['updater']);
  });
  it('without a writer, relock always succeeds (intent holders do not invalidate)', () => {
    const m = tinyModel(ctx(), {
      reader: {
        initial: 'lock',
        states: {
          lock: { on: { 'reader.lock': btree_node_lock('bt', 'reader', 'leaf', 'read', 'unlock') } },
          unlock: { on: { 'reader.unlock': { ...bch2_trans_unlock('bt', 'reader'), target: 'relock' } } },
          relock: { on: { 'reader.relock': bch2_trans_relock('bt', 'reader', { ok: 'ok', restart: 'restart' }) } },
          ok: { on: { 'reader.end': { ...bch2_trans_begin('bt', 'reader'), target: 'done' } } },
          restart: { on: { 'reader.end': { ...bch2_trans_begin('bt', 'reader'), target: 'done' } } },
          done: { type: 'final' },
        },
      },
      updater: straight('updater', [(n: string) => btree_node_lock('bt', 'updater', 'leaf', 'intent', n), btree_node_unlock('bt', 'updater', 'leaf')]),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    expect(r.all.some((s) => where(s).reader === 'ok')).toBe(true);
    expect(r.all.some((s) => where(s).reader === 'restart')).toBe(false);
    expect(r.all.filter((s) => s.status === 'done').every((s) => s.context.bt.nodes.leaf.readers.length === 0 && s.context.bt.nodes.leaf.intent === null)).toBe(true);
  });
});
