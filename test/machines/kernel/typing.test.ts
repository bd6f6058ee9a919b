// Pins that the kernel helpers type-check inside a plain typed setup() without casts (tsc runs over test/).
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import {
  down_read, down_write, freezeSuperStates, kernelActions, kernelGuards, mutex, mutex_lock,
  mutex_trylock, mutex_unlock, rwsem, sbWriters, sb_end_write, sb_start_write, thawSuperStates, up_read,
} from '../../../machines/kernel/index.ts';
import { explore } from './harness.ts';

describe('typing', () => {
  it('a typed model composes kernel guards, actions and local ones', () => {
    const fz = freezeSuperStates({ thread: 'freezer', next: 'thaw' });
    const th = thawSuperStates({ thread: 'freezer', next: 'done' });
    const machine = setup({
      types: {} as { context: { m: { owner: string | null }; s_umount: any; s_writers: any; n: number } },
      guards: { ...kernelGuards, small: ({ context }) => context.n < 1 },
      actions: { ...kernelActions, bump: assign({ n: ({ context }) => context.n + 1 }) },
    }).createMachine({
      id: 'typed',
      type: 'parallel',
      context: { m: mutex(), s_umount: rwsem(), s_writers: sbWriters(), n: 0 },
      states: {
        freezer: { initial: fz.initial, states: { ...fz.states, thaw: { on: { 'freezer.thaw': th.initial } }, ...th.states, done: { type: 'final' } } },
        w: {
          initial: 'a',
          states: {
            a: { on: { 'w.a': { ...sb_start_write('s_writers', 'w'), target: 'b' } } },
            b: { on: { 'w.b': { ...mutex_lock('m', 'w'), target: 'c' } } },
            c: { on: { 'w.c': { ...mutex_unlock('m', 'w'), actions: [...mutex_unlock('m', 'w').actions!, 'bump'], guard: 'small', target: 'd' } } },
            d: { on: { 'w.d': { ...sb_end_write('s_writers', 'w'), target: 'e' } } },
            e: { on: { 'w.e': mutex_trylock('m', 'w', { ok: 'f', fail: 'g' }) } },
            f: { on: { 'w.f': { ...mutex_unlock('m', 'w'), target: 'g' } } },
            g: { on: { 'w.g': down_write('s_umount', 'w', 'h') } },
            h: { on: { 'w.h': { actions: [{ type: 'rwsem_up_write', params: { lock: 's_umount', thread: 'w' } }], target: 'i' } } },
            i: { on: { 'w.i': down_read('s_umount', 'w', 'j') } },
            j: { on: { 'w.j': { ...up_read('s_umount', 'w'), target: 'done' } } },
            done: { type: 'final' },
          },
        },
      },
    });
    expect(explore(machine).deadlocks).toEqual([]);
  });
});
