// The folio lock's declared lowerings (machines/kernel/folio.ts): on the packed words every folio step gives the
// successors the functions give (XState's transition() and the decoded step), through stealing, requeueing
// with a lost wakeup counted, and handoff; a misuse BAILs to the function, which reports it as before.
import { describe, expect, it } from 'vitest';
import { compileMachine } from '../../../explorer/compile/index.ts';
import { crossCheck } from '../../../explorer/crosscheck.ts';
import { defineModel } from '../../../explorer/model.ts';
import { folio, folio_lock, folio_lock_fast, folio_lock_wait_state, folio_trylock, folio_unlock, PAGE_LOCK_UNFAIRNESS } from '../../../machines/kernel/index.ts';
import { exploreWords } from '../../helpers/explore-words.ts';
import { checkErrors } from '../../helpers/lowering.ts';
import { tinyModel } from './harness.ts';

const locker = (t: string) => ({
  initial: 'lock',
  states: {
    lock: { on: { [`${t}.lock`]: folio_lock_fast('f', t, { next: 'locked', wait: 'wait' }) } },
    wait: folio_lock_wait_state(`${t}.wait`, 'f', t, 'locked'),
    locked: { on: { [`${t}.unlock`]: { ...folio_unlock('f', t), target: 'lock' } } },
  },
});
const trylocker = {
  initial: 'try',
  states: {
    try: { on: { 't.try': folio_trylock('f', 't', { ok: 'got', fail: 'try' }) } },
    got: { on: { 't.unlock': { ...folio_unlock('f', 't'), target: 'try' } } },
  },
};
// a looping folio_lock (one event) against a second one: the second loses wakeups up to the handoff
const looping = (t: string) => ({
  initial: 'lock',
  states: {
    lock: { on: { [`${t}.lock`]: folio_lock('f', t, 'locked') } },
    locked: { on: { [`${t}.unlock`]: { ...folio_unlock('f', t), target: 'lock' } } },
  },
});

const MACHINES = {
  'two lockers and a trylocker (wakeup, steal, requeue)': tinyModel({ f: folio() }, { a: locker('a'), b: locker('b'), t: trylocker }),
  'vm.page_lock_unfairness=0 (every wakeup a handoff)': tinyModel({ f: folio({ unfairness: 0 }) }, { a: locker('a'), b: locker('b') }),
  'two looping folio_lock callers (lost wakeups counted up to the handoff)': tinyModel({ f: folio() }, { a: looping('a'), b: looping('b') }),
};

describe('folio lock on the packed words', () => {
  for (const [name, machine] of Object.entries(MACHINES)) {
    it(`${name}: every step on the words, the same successors as the decoded step and XState`, () => {
      const on = exploreWords(compileMachine(machine), true);
      const off = exploreWords(compileMachine(machine), false);
      expect(on.edges).toEqual(off.edges);
      expect(on.counts.fallback).toBe(0);
      expect(on.counts.lowered).toBe(on.edges.length);
      expect(crossCheck(machine, { lowered: true }).difference).toBeUndefined();
    });
  }

  it('the handoff after the last lost wakeup is reached on the words', () => {
    const on = exploreWords(compileMachine(MACHINES['two looping folio_lock callers (lost wakeups counted up to the handoff)']), true);
    expect(on.states.some((s) => s.includes(`"${PAGE_LOCK_UNFAIRNESS}:b"`))).toBe(true);
    expect(on.states.some((s) => s.includes('"h:b"'))).toBe(true);
  });

  it('a misuse (folio_unlock of an unlocked folio) BAILs on the words and the function reports it, as with lowering off', () => {
    const bad = tinyModel({ f: folio() }, { t: { initial: 'a', states: { a: { on: { 't.unlock': { ...folio_unlock('f', 't'), target: 'done' } } }, done: { type: 'final' } } } });
    const model = defineModel({ name: 'folio-misuse', description: 'folio_unlock without folio_lock', params: {}, defaultVariant: 'v', variants: { v: { description: 'bad' } }, create: () => bad });
    const [on, off] = checkErrors(model);
    expect(on).toMatch(/kernel primitive misuse: t folio_unlock of an unlocked folio/);
    expect(on).toBe(off);
  });
});
