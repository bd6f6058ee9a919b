// Pins the sequence count and seqlock primitives (machines/kernel/seqlock.ts): a lockless reader that
// samples an even count and finds it unmoved at read_seqretry read a whole write's data; two writers on a
// seqcount_t that nothing serialises let a reader accept a torn read (the count is even with both inside);
// write_seqlock's spinlock serialises them; a reader spins while the count is odd.
import { describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import {
  kernelWaits, mutex, mutex_lock, mutex_unlock, qspinlock, read_seqbegin, read_seqlock_excl, read_sequnlock_excl, read_seqretry, seqcount, seqlock,
  write_seqcount_begin, write_seqcount_end, write_seqlock, write_sequnlock,
} from '../../../machines/kernel/index.ts';
import { compareEverywhere } from '../../helpers/differential.ts';
import { agreesEverywhere, explore, straight, straightOpen, tinyModel } from './harness.ts';

// The protected data: two halves a writer updates one step at a time (a = b outside a write section).
const extra = {
  actions: {
    write_a: assign(({ context }: any) => ({ data: { ...context.data, a: context.data.a + 1 } })),
    write_b: assign(({ context }: any) => ({ data: { ...context.data, b: context.data.b + 1 } })),
    read_a: assign(({ context }: any) => ({ seen: { ...context.seen, a: context.data.a } })),
    read_b: assign(({ context }: any) => ({ seen: { ...context.seen, b: context.data.b } })),
  },
};

/** A writer that updates the data once, inside write_seqlock (locked) or a bare write_seqcount_begin. */
const writer = (t: string, locked: boolean) => ({
  initial: 'begin',
  states: {
    begin: { on: { [`${t}.begin`]: locked ? write_seqlock('s', t, 'a') : { ...write_seqcount_begin('s', t), target: 'a' } } },
    a: { on: { [`${t}.write_a`]: { actions: 'write_a', target: 'b' } } },
    b: { on: { [`${t}.write_b`]: { actions: 'write_b', target: 'end' } } },
    end: { on: { [`${t}.end`]: { ...(locked ? write_sequnlock('s', t) : write_seqcount_end('s', t)), target: 'done' } } },
    done: { type: 'final' },
  },
});
/** do { seq = read_seqbegin(&s); a = data.a; b = data.b; } while (read_seqretry(&s, seq)); use(a, b) */
const reader = {
  initial: 'begin',
  states: {
    begin: { on: { 'r.read_seqbegin': { ...read_seqbegin('s', 'r'), target: 'a' } } },
    a: { on: { 'r.read_a': { actions: 'read_a', target: 'b' } } },
    b: { on: { 'r.read_b': { actions: 'read_b', target: 'retry' } } },
    retry: { on: { 'r.read_seqretry': read_seqretry('s', 'r', { retry: 'begin', ok: 'use' }) } },
    use: { type: 'final' },
  },
};
const ctx = (s: any) => ({ s, data: { a: 0, b: 0 }, seen: { a: -1, b: -1 } });
const accepted = (all: any[]) => all.filter((x) => x.value.r === 'use').map((x) => x.context.seen);

describe('seqcount / seqlock (read_seqbegin, read_seqretry, write_seqlock)', () => {
  it('a reader that finds the count unmoved read one whole write: never a torn pair, with one or two serialised writers', () => {
    for (const threads of [{ w0: writer('w0', true) }, { w0: writer('w0', true), w1: writer('w1', true) }]) {
      const r = explore(tinyModel({ ...ctx(seqlock()) }, { ...threads, r: reader }, extra));
      expect(r.deadlocks).toHaveLength(0);
      const seen = accepted(r.all);
      expect(seen.length).toBeGreaterThan(0);
      for (const { a, b } of seen) expect(a).toBe(b);
      // the reader retried at least once somewhere: a sample the writers moved
      expect(r.all.some((x: any) => x.value.r === 'retry' && x.context.s.readers.r === true)).toBe(true);
      // and writers never overlap under the lock
      for (const x of r.all) expect((x.context as any).s.writers.length).toBeLessThanOrEqual(1);
    }
  });

  it('two writers on a bare seqcount_t: the count is even with both inside, so a reader accepts a torn read', () => {
    const r = explore(tinyModel({ ...ctx(seqcount()) }, { w0: writer('w0', false), w1: writer('w1', false), r: reader }, extra));
    expect(r.all.some((x: any) => x.context.s.writers.length === 2 && !x.context.s.odd)).toBe(true);
    expect(accepted(r.all).some(({ a, b }: any) => a !== b)).toBe(true);
    // one writer alone: never torn
    const one = explore(tinyModel({ ...ctx(seqcount()) }, { w0: writer('w0', false), r: reader }, extra));
    for (const { a, b } of accepted(one.all)) expect(a).toBe(b);
  });

  it('read_seqbegin spins while the count is odd: the report names the writer inside', () => {
    // the writer stops inside its write section for good (it waits for something that never comes)
    const stuck = {
      initial: 'begin',
      states: {
        begin: { on: { 'w0.begin': write_seqlock('s', 'w0', 'wait') } },
        wait: { on: { 'w0.never': { guard: () => false, target: 'wait' } } },
      },
    };
    const r = explore(tinyModel({ ...ctx(seqlock()) }, { w0: stuck, r: reader }, extra));
    const dead = r.deadlocks.find((x: any) => x.value.r === 'begin');
    expect(dead).toBeDefined();
    expect(kernelWaits.seq_read_can_begin!(dead!.context, { seq: 's', thread: 'r' })).toEqual({ resource: 's', kind: 'seqcount', mode: 'read_seqbegin', holders: ['w0'] });
    expect(kernelWaits.seq_read_can_begin!({ s: seqcount() }, { seq: 's', thread: 'r' })).toBeNull();
  });

  it('read_seqlock_excl excludes the writers without moving the count', () => {
    const locking = {
      initial: 'lock',
      states: {
        lock: { on: { 'r.lock': read_seqlock_excl('s', 'r', 'a') } },
        a: { on: { 'r.read_a': { actions: 'read_a', target: 'b' } } },
        b: { on: { 'r.read_b': { actions: 'read_b', target: 'unlock' } } },
        unlock: { on: { 'r.unlock': { ...read_sequnlock_excl('s', 'r'), target: 'use' } } },
        use: { type: 'final' },
      },
    };
    const r = explore(tinyModel({ ...ctx(seqlock()) }, { w0: writer('w0', true), r: locking }, extra));
    expect(r.deadlocks).toHaveLength(0);
    for (const { a, b } of accepted(r.all)) expect(a).toBe(b);
    for (const x of r.all as any[]) if (['a', 'b', 'unlock'].includes(x.value.r)) expect(x.context.s.odd).toBe(false);
  });

  it('read_seqretry without a sample, and write_seqcount_end outside a write section, are model errors', () => {
    const bad = { initial: 'x', states: { x: { on: { 'r.x': read_seqretry('s', 'r', { retry: 'x', ok: 'y' }) } }, y: { type: 'final' } } };
    expect(() => explore(tinyModel({ s: seqcount() }, { r: bad }))).toThrow(/read_seqretry without a read_seqbegin sample/);
    const end = { initial: 'x', states: { x: { on: { 'w.x': { ...write_seqcount_end('s', 'w'), target: 'y' } } }, y: { type: 'final' } } };
    expect(() => explore(tinyModel({ s: seqcount() }, { w: end }))).toThrow(/write_seqcount_end outside its write section/);
  });

  it('--lock-order sees the seqcount as lockdep does: write_seqcount_begin acquires it, read_seqbegin read-acquires it', () => {
    // include/linux/seqlock.h: do_write_seqcount_begin_nested() seqcount_acquire()s s->dep_map (released at
    // write_seqcount_end), read_seqcount_begin() seqcount_acquire_read()s and releases it. A writer that takes
    // m inside its write section and a reader that holds m while it spins in read_seqbegin: s -> m -> s.
    const lockOrder = (context: Record<string, any>, threads: Record<string, any>) =>
      checkModel({
        model: defineModel({
          name: 'seq-lock-order', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits,
          create: () => tinyModel(context, threads),
        }),
        check: { lockOrder: true, deadlock: false },
      }).verdict;
    const reader = (t: string, steps: any[] = []) =>
      straight(t, [...steps, read_seqbegin('s', t), (n: string) => read_seqretry('s', t, { retry: n, ok: n })]);
    const v = lockOrder({ s: seqcount(), m: mutex() }, {
      w: straight('w', [write_seqcount_begin('s', 'w'), mutex_lock('m', 'w'), mutex_unlock('m', 'w'), write_seqcount_end('s', 'w')]),
      r: straight('r', [mutex_lock('m', 'r'), read_seqbegin('s', 'r'), (n: string) => read_seqretry('s', 'r', { retry: n, ok: n }), mutex_unlock('m', 'r')]),
    });
    expect(v.status === 'violation' && v.kind).toBe('lock-order');
    expect(v.status === 'violation' && v.name).toMatch(/^(s -> m -> s|m -> s -> m)$/);
    // readers alone, and a named seqlock_t's writer (its spinlock, then its seqcount: two classes), add no cycle
    expect(lockOrder({ s: seqlock() }, { r0: reader('r0'), r1: reader('r1') }).status).toBe('pass');
    const named = (t: string) => straight(t, [(n: string) => write_seqlock('s', t, n, 'mount_lock'), write_sequnlock('s', t, 'mount_lock')]);
    expect(lockOrder({ s: seqlock() }, { w0: named('w0'), w1: named('w1'), r: reader('r') }).status).toBe('pass');
  });

  it('a writer woken in write_seqlock holds sl->lock when it acquires the seqcount, as one that took it at once does', () => {
    // t1 holds sl->lock from the start and releases it once t0 queued, so t0's write_seqlock takes it woken.
    // With both locks in one class, the edge sl->lock -> seqcount that lockdep records inside write_seqlock is a
    // recursive locking.
    const t1 = straight('t1', [{ ...read_sequnlock_excl('s', 't1'), guard: ({ context }: any) => context.s.lock.waiters.includes('t0') }]);
    const t0 = straight('t0', [(n: string) => write_seqlock('s', 't0', n)]);
    for (const [lock, threads] of [[{ owner: 't1', waiters: [] }, { t0, t1 }], [qspinlock(), { t0 }]] as const) {
      const m = defineModel({
        name: 'seq-woken', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits,
        lockClass: () => 'one',
        create: () => tinyModel({ s: { ...seqlock(), lock } }, threads),
      });
      const v = checkModel({ model: m, check: { lockOrder: true, deadlock: false } }).verdict;
      expect(v.status === 'violation' && v.message).toMatch(/recursive/);
    }
  });

  it('the compiled engine (and its word path) agrees with XState on every reachable state of these machines', () => {
    expect(compareEverywhere(tinyModel({ ...ctx(seqlock()) }, { w0: writer('w0', true), w1: writer('w1', true), r: reader }, extra))).toBeGreaterThan(50);
    expect(compareEverywhere(tinyModel({ ...ctx(seqcount()) }, { w0: writer('w0', false), w1: writer('w1', false), r: reader }, extra))).toBeGreaterThan(50);
  });

  it('steps on the words (declared lowerings) as XState does on every reachable state, with no fallback', () => {
    const open = straightOpen;
    /** A lockless reader of `seq` that retries until its sample did not move, twice over. */
    const sampler = (t: string, seq: string) => ({
      initial: 'begin',
      states: {
        begin: { on: { [`${t}.begin`]: { ...read_seqbegin(seq, t), target: 'retry' } } },
        retry: { on: { [`${t}.retry`]: read_seqretry(seq, t, { retry: 'begin', ok: 'again' }) } },
        again: { on: { [`${t}.again`]: { ...read_seqbegin(seq, t), target: 'check' } } },
        check: { on: { [`${t}.check`]: read_seqretry(seq, t, { retry: 'again', ok: 'done' }) } },
        done: {},
      },
    });
    const m = tinyModel({ s: seqlock(), c: seqcount() }, {
      w0: open('w0', [(n: string) => write_seqlock('s', 'w0', n), write_sequnlock('s', 'w0'), write_seqcount_begin('c', 'w0'), write_seqcount_end('c', 'w0')]),
      w1: open('w1', [(n: string) => write_seqlock('s', 'w1', n), write_sequnlock('s', 'w1')]),
      x: open('x', [(n: string) => read_seqlock_excl('s', 'x', n), read_sequnlock_excl('s', 'x')]),
      r0: sampler('r0', 's'),
      // two samplers of c: their moved flags set together
      r1: open('r1', [read_seqbegin('c', 'r1'), (n: string) => read_seqretry('c', 'r1', { retry: n, ok: n })]),
      r2: open('r2', [read_seqbegin('c', 'r2'), (n: string) => read_seqretry('c', 'r2', { retry: n, ok: n })]),
    });
    const r = agreesEverywhere('seq-cross', m);
    expect(r.states).toBeGreaterThan(500);
    expect(r.lowered).toBeGreaterThan(0);
    expect(r.fallback).toBe(0);
    // the misuses BAIL on the words and the functions report them
    const bad = (threads: Record<string, any>) =>
      defineModel({ name: 'bad', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits, create: () => tinyModel({ s: seqcount() }, threads) });
    expect(() => checkModel({ model: bad({ r: open('r', [(n: string) => read_seqretry('s', 'r', { retry: n, ok: n })]) }), check: { deadlock: true } })).toThrow(/read_seqretry without a read_seqbegin sample/);
    expect(() => checkModel({ model: bad({ w: open('w', [write_seqcount_end('s', 'w')]) }), check: { deadlock: true } })).toThrow(/write_seqcount_end outside its write section/);
    expect(() => checkModel({ model: bad({ w: open('w', [write_seqcount_begin('s', 'w'), write_seqcount_begin('s', 'w')]) }), check: { deadlock: true } })).toThrow(/already inside its write section/);
  });
});
