// Pins the counting semaphore (machines/kernel/semaphore.ts; kernel/locking/semaphore.c, v6.6): down()'s fast path
// on count > 0, the FIFO wait list, up()'s direct handoff to the FIRST waiter (__up: the count is given to it, not
// added back, so nobody barges past a woken waiter), down_trylock(), no owner (any thread may up(): XFS's buffer
// lock is released by I/O completion), and what the reports say: "taken by" in the wait-for report, nothing recorded
// by --lock-order (lockdep does not track struct semaphore).
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import { createReferenceStepper } from '../../../explorer/reference.ts';
import { renderDeadlock } from '../../../explorer/waitfor.ts';
import {
  complete, completion, down, down_trylock, kernelWaits, semaphore, semaphoreTaken, semaTakers, up, wait_for_completion,
} from '../../../machines/kernel/index.ts';
import { agreesEverywhere, explore, straight, straightOpen, tinyModel, where } from './harness.ts';

const model = (name: string, build: () => any) =>
  defineModel({ name, description: name, params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: build, waits: kernelWaits });

/** down(&sem); critical; up(&sem). */
const user = (t: string, sem = 'sem') => straight(t, [(n: string) => down(sem, t, n), up(sem, t)], ['down', 'critical']);

/** t0 holds the binary semaphore and calls up(); t1 and t2 each down(), critical, up(). */
const handoffModel = () =>
  tinyModel({ sem: semaphoreTaken(1, ['t0']) }, { t0: straight('t0', [up('sem', 't0')], ['up']), t1: user('t1'), t2: user('t2') });

describe('struct semaphore: down, up, down_trylock', () => {
  it('up() with waiters hands the count to the FIRST waiter: a down() arriving after it queues, it cannot take that count', () => {
    // t0 holds the binary semaphore, t1 sleeps in down(); t0's up() wakes t1 with the count; t2 comes later
    const r = explore(handoffModel());
    expect(r.deadlocks).toEqual([]);
    for (const s of r.all) {
      const sem = s.context.sem;
      // sem->count > 0 with a waiter queued never happens: up() hands off while the wait list is not empty
      if (sem.waiters.length > 0) expect(sem.count).toBe(0);
      const inside = ['t1', 't2'].filter((t) => where(s)[t] === 'critical');
      expect(inside.length).toBeLessThanOrEqual(1);
      // the count handed to t1 is t1's: while t1 has not returned from down(), t2 is not past its own down()
      if (sem.woken.includes('t1')) expect(where(s).t2).not.toBe('critical');
    }
    // the handoff itself: t1 was queued when t0 called up(), it is woken with the count (count stays 0) and taken by t1
    const handed = r.all.find((s) => where(s).t0 === 'done' && s.context.sem.woken.includes('t1'));
    expect(handed?.context.sem).toMatchObject({ count: 0, takers: ['t1'] });
    // ... and t2 arriving then queues behind (the state where t1 is woken and t2 waits exists; none where t2 took it)
    expect(r.all.some((s) => s.context.sem.woken.includes('t1') && s.context.sem.waiters.includes('t2'))).toBe(true);
    // with nobody waiting, up() adds the count back and a later down() takes it on the fast path
    expect(r.all.some((s) => where(s).t0 === 'done' && s.context.sem.count === 1 && s.context.sem.woken.length === 0)).toBe(true);
  });

  it('waiters are served in FIFO order (list_add_tail, list_first_entry)', () => {
    const m = handoffModel();
    const stepper = createReferenceStepper(m);
    const r = explore(m);
    // t0's up() from a state where both sleep wakes the one that queued first, and only it
    for (const order of [['t1', 't2'], ['t2', 't1']]) {
      const both = r.all.filter((s) => where(s).t0 === 'up' && JSON.stringify(s.context.sem.waiters) === JSON.stringify(order));
      expect(both.length).toBeGreaterThan(0);
      for (const s of both) {
        const next = stepper.successors(s).find(({ next: n }) => where(n).t0 === 'done')!.next;
        expect(next.context.sem).toEqual({ count: 0, waiters: [order[1]], woken: [order[0]], takers: [order[0]] });
      }
    }
  });

  it('a binary semaphore taken by one thread is released by another (no owner): the buffer lock under I/O', () => {
    // xfs_buf_lock: down(&bp->b_sema) in the submitter; the I/O completion calls up() on its behalf
    const build = () =>
      tinyModel({ sem: semaphore(1), bio: completion() }, {
        submit: straight('submit', [(n: string) => down('sem', 'submit', n, { name: 'bp->b_sema' }), complete('bio')], ['lock', 'submit_bio']),
        endio: straight('endio', [wait_for_completion('bio', 'endio'), up('sem', 'endio', { name: 'bp->b_sema' })], ['wait', 'unlock']),
        other: user('other'),
      });
    const r = explore(build());
    expect(r.deadlocks).toEqual([]);
    const ends = r.all.filter((s) => s.status === 'done');
    expect(ends.length).toBeGreaterThan(0);
    for (const s of ends) expect(s.context.sem).toEqual({ count: 1, waiters: [], woken: [], takers: [] });
    // endio's up() released the hold submit took: submit is no longer named as a taker
    expect(r.all.some((s) => where(s).endio === 'done' && where(s).submit === 'done' && !semaTakers(s.context, 'sem').includes('submit'))).toBe(true);
    expect(checkModel({ model: model('sema-endio', build) }).verdict).toEqual({ status: 'pass' });
  });

  it('up() by a thread that took nothing, with takers of two threads, must say whose down() it balances', () => {
    const ambiguous = tinyModel({ sem: semaphoreTaken(2, ['a', 'b']) }, { c: straight('c', [up('sem', 'c')]) });
    expect(() => explore(ambiguous)).toThrow(/misuse on semaphore "sem" \(sem\): up\(\) by c: taken by a, b; say whose down\(\) it balances: up\(sem, 'c', \{ of \}\)/);
    const named = explore(tinyModel({ sem: semaphoreTaken(2, ['a', 'b']) }, { c: straight('c', [up('sem', 'c', { of: 'b' })]) }));
    expect(named.all.at(-1)!.context.sem).toEqual({ count: 1, waiters: [], woken: [], takers: ['a'] });
    // a semaphore initialised to 0 is a signal: up() by anybody, nothing taken
    const signal = explore(tinyModel({ sem: semaphore(0) }, { w: user('w'), s: straight('s', [up('sem', 's')]) }));
    expect(signal.deadlocks).toEqual([]);
  });

  it('down_trylock succeeds while count > 0 and fails at 0, never sleeping', () => {
    const tryer = (t: string) => ({
      initial: 'try',
      states: {
        try: { on: { [`${t}.down_trylock`]: down_trylock('sem', t, { ok: 'got', fail: 'failed' }) } },
        got: { on: { [`${t}.up`]: { ...up('sem', t), target: 'done' } } },
        failed: { type: 'final' },
        done: { type: 'final' },
      },
    });
    // count 0 (taken by h): it fails
    const held = explore(tinyModel({ sem: semaphoreTaken(1, ['h']) }, { t: tryer('t') }));
    expect(held.all.map((s) => where(s).t)).toEqual(['try', 'failed']);
    // count 1: it succeeds, and takes the count
    const free = explore(tinyModel({ sem: semaphore(1) }, { t: tryer('t') }));
    expect(free.all.find((s) => where(s).t === 'got')?.context.sem).toEqual({ count: 0, waiters: [], woken: [], takers: ['t'] });
    expect(free.all.some((s) => where(s).t === 'failed')).toBe(false);
    // a counting semaphore of 2 with one taker: the second succeeds too
    const two = explore(tinyModel({ sem: semaphoreTaken(2, ['h']) }, { t: tryer('t') }));
    expect(two.all.some((s) => where(s).t === 'got' && s.context.sem.count === 0)).toBe(true);
    expect(two.all.some((s) => where(s).t === 'failed')).toBe(false);
  });

  it('two semaphores taken in opposite orders deadlock; the wait-for report names who took each and the count', () => {
    const abba = (t: string, first: string, second: string) =>
      straight(t, [(n: string) => down(first, t, n, { name: `sem ${first}` }), (n: string) => down(second, t, n, { name: `sem ${second}` }), up(second, t), up(first, t)]);
    const build = () => tinyModel({ A: semaphore(1), B: semaphore(1) }, { t0: abba('t0', 'A', 'B'), t1: abba('t1', 'B', 'A') });
    const r = checkModel({ model: model('sema-abba', build) });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const report = r.trace!.deadlock!;
    expect(report.cycle!.map((e) => `${e.thread} -> ${e.resource} -> ${e.heldBy}`)).toEqual(['t0 -> sem B -> t1', 't1 -> sem A -> t0']);
    expect(report.cycle![0]).toMatchObject({ kind: 'semaphore', mode: 'down (count 0)', holdVerb: 'taken' });
    const text = renderDeadlock(report);
    expect(text).toContain('t0 at s1: waits for sem B (semaphore down (count 0)), taken by t1');
    expect(text).toContain('t0 waits for sem B taken by t1');
    expect(text).not.toContain('held by');
    // the scenario: each took its first semaphore, then blocks in down() on the other
    expect(renderDeadlock(report, { calls: 'verb' })).toMatch(/lock\(sem A\);[\s\S]*lock\(sem B\);[\s\S]*down\(sem B\);[\s\S]*down\(sem A\);/);
    // the trace (with holdVerb on its edges and waits) validates against the trace schema, which names the field
    const schemaJson = JSON.parse(readFileSync('schemas/trace.schema.json', 'utf8'));
    const valid = new (Ajv as any)({ allErrors: true, strict: false }).compile(schemaJson);
    expect(valid(JSON.parse(JSON.stringify(r.trace))), JSON.stringify(valid.errors)).toBe(true);
    expect(Object.keys(schemaJson.properties.deadlock.properties.cycle.oneOf[1].items.properties)).toContain('holdVerb');
    expect(Object.keys(schemaJson.definitions.wait.properties)).toContain('holdVerb');
  });

  it('a counting semaphore exhausted by two takers that each down() again: the cycle runs through both, not a self-deadlock of the first', () => {
    // semaphore(2): t0 and t1 each take one and sleep in a second down(); neither alone exhausts it, so "t0 waits for
    // sem taken by t0" (a lockdep-style recursive scenario) does not explain the deadlock
    const twice = (t: string) => straight(t, [(n: string) => down('sem', t, n), (n: string) => down('sem', t, n), up('sem', t), up('sem', t)]);
    const r = checkModel({ model: model('sema-twice', () => tinyModel({ sem: semaphore(2) }, { t0: twice('t0'), t1: twice('t1') })) });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const report = r.trace!.deadlock!;
    expect(report.cycle!.map((e) => `${e.thread} -> ${e.heldBy}`)).toEqual(['t0 -> t1', 't1 -> t0']);
    // a binary semaphore taken twice by one thread is that thread's own deadlock
    const self = checkModel({ model: model('sema-self', () => tinyModel({ sem: semaphore(1) }, { t0: twice('t0') })) });
    expect(self.trace!.deadlock!.cycle!.map((e) => `${e.thread} -> ${e.heldBy}`)).toEqual(['t0 -> t0']);
  });

  it('--lock-order records no semaphore (lockdep does not track struct semaphore): the ABBA shows only as a deadlock', () => {
    const abba = (t: string, first: string, second: string) =>
      straight(t, [(n: string) => down(first, t, n), (n: string) => down(second, t, n), up(second, t), up(first, t)]);
    const build = () => tinyModel({ A: semaphore(1), B: semaphore(1) }, { t0: abba('t0', 'A', 'B'), t1: abba('t1', 'B', 'A') });
    expect(checkModel({ model: model('sema-lockorder', build), check: { deadlock: false, lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });

  it('a down() with nobody recorded as taker names the threads expected to up() it (by), as who must act', () => {
    const w = kernelWaits.sema_woken!;
    expect(w({ sem: { count: 0, waiters: ['w'], woken: [], takers: [] } }, { sem: 'sem', thread: 'w', by: ['producer'] })).toEqual({
      resource: 'sem', kind: 'semaphore', mode: 'down (count 0)', holders: ['producer'], act: 'up',
    });
    expect(w({ sem: { count: 0, waiters: ['w'], woken: [], takers: [] } }, { sem: 'sem', thread: 'w' })).toEqual({
      resource: 'sem', kind: 'semaphore', mode: 'down (count 0)', holders: [],
    });
    expect(w({ sem: { count: 0, waiters: [], woken: ['w'], takers: ['w'] } }, { sem: 'sem', thread: 'w' })).toBeNull();
  });

  it('steps on the words (declared lowerings) as XState does on every reachable state; footprints hold', () => {
    const open = straightOpen;
    const m = tinyModel({ sem: semaphoreTaken(2, ['t0']), bp: semaphore(1), sig: semaphore(0), two: semaphoreTaken(2, ['a', 'b']) }, {
      // up() balancing a named taker's down()
      c: open('c', [up('two', 'c', { of: 'b' })]),
      t0: open('t0', [up('sem', 't0'), (n: string) => down('sem', 't0', n)], ['up', 'again']),
      t1: open('t1', [(n: string) => down('sem', 't1', n), up('sem', 't1')]),
      t2: {
        initial: 'try',
        states: {
          try: { on: { 't2.try': down_trylock('sem', 't2', { ok: 'got', fail: 'done' }) } },
          got: { on: { 't2.up': { ...up('sem', 't2'), target: 'done' } } },
          done: {},
        },
      },
      // bp taken by submit, released by endio (up() by a thread that took nothing) once signalled through sig, a
      // semaphore initialised to 0 (no takers)
      submit: open('submit', [(n: string) => down('bp', 'submit', n), up('sig', 'submit')]),
      endio: open('endio', [(n: string) => down('sig', 'endio', n), up('bp', 'endio'), up('sig', 'endio')]),
    });
    const r = agreesEverywhere('sema-cross', m);
    expect(r.states).toBeGreaterThan(100);
    expect(r.fallback).toBe(0);
    // a misuse BAILs on the words and the function reports it, as XState's step does
    const ambiguous = () => tinyModel({ sem: semaphoreTaken(2, ['a', 'b']) }, { c: straight('c', [up('sem', 'c')]) });
    expect(() => checkModel({ model: model('sema-misuse', ambiguous) })).toThrow(/up\(\) by c: taken by a, b; say whose down\(\) it balances/);
  });
});
