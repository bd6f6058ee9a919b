// The lock-order declarations a model needs for a call of its own (an allocation, an RPC, a helper the primitives do
// not have) are exported from interleave/kernel, as docs/kernel-primitives.md lists them: a model outside the clone
// can import only the package's entry points, not machines/kernel/types.ts.
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import * as kernel from '../../../machines/kernel/index.ts';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';

describe('interleave/kernel exports', () => {
  it('withLock, withRelease and withMightSleep (types.ts, listed in docs/kernel-primitives.md) are exported', () => {
    const k = kernel as Record<string, unknown>;
    for (const name of ['withLock', 'withRelease', 'withMightSleep']) expect(typeof k[name], name).toBe('function');
  });

  it("a model's own might_sleep() point declared with the exported withMightSleep is reported under a spinlock", () => {
    const { kernelActions, kernelGuards, kernelWaits, oneEvent, spin_lock, spin_unlock, spinlock } = kernel;
    const withMightSleep = (kernel as any).withMightSleep as typeof import('../../../machines/kernel/types.ts').withMightSleep;
    const model = defineModel({
      name: 'own-might-sleep',
      description: 'an allocation (GFP_KERNEL) under a spinlock',
      params: {},
      variants: { only: { description: 'the one variant' } },
      defaultVariant: 'only',
      create: () =>
        setup({
          guards: kernelGuards as any,
          actions: { ...kernelActions, alloc: withMightSleep(assign({ allocated: () => true }), { kind: 'alloc', path: () => 'slab', name: () => 'kmalloc' }) } as any,
        }).createMachine({
          id: 'own-might-sleep',
          type: 'parallel',
          context: { l: spinlock(), allocated: false },
          states: {
            t: {
              initial: 'lock',
              states: {
                lock: oneEvent('t', 'spin_lock', { ...spin_lock('l', 't', 'l'), target: 'alloc' }),
                alloc: oneEvent('t', 'kmalloc', { actions: [{ type: 'alloc', params: { thread: 't' } }], target: 'unlock' }),
                unlock: oneEvent('t', 'spin_unlock', { ...spin_unlock('l', 't', 'l'), target: 'done' }),
                done: { type: 'final' },
              },
            },
          },
        } as any),
      waits: kernelWaits,
    });
    const r = checkModel({ model, check: { deadlock: true, lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'l -> kmalloc' });
    expect(r.trace!.lockOrder).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
  });
});
