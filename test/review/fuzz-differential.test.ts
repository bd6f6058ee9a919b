// Review (pin): random nested statecharts, compiled successors compared with XState's transition() in every reachable state.
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { compareEverywhere } from '../helpers/differential.ts';

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/** A random machine: 2 threads, nested compound states, entry/exit logs, reenter, ancestor transitions. */
function randomMachine(seed: number, shared: boolean) {
  const r = rng(seed);
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const note = (m: string) => assign({ log: ({ context }: any) => [...context.log.slice(-2), m] });
  const states: Record<string, any> = {};
  for (const th of ['t0', 't1']) {
    const ids: string[] = [];
    let k = 0;
    const mk = (depth: number, prefix: string): Record<string, any> => {
      const out: Record<string, any> = {};
      const n = 2 + Math.floor(r() * 2);
      for (let i = 0; i < n; i++) {
        const key = `s${k++}`;
        const id = `${th}_${key}`;
        ids.push(id);
        const node: any = { id, entry: note(`+${id}`), exit: note(`-${id}`), on: {} };
        if (depth < 2 && r() < 0.5) {
          node.states = mk(depth + 1, id);
          node.initial = Object.keys(node.states)[0];
        }
        out[key] = node;
      }
      return out;
    };
    const sub = mk(0, th);
    // a direct-child final state for the thread
    sub.fin = { type: 'final', id: `${th}_fin`, entry: note(`+${th}_fin`) };
    const region: any = { id: th, initial: Object.keys(sub)[0], entry: note(`+${th}`), exit: note(`-${th}`), states: sub, on: {} };
    const nodes: any[] = [region];
    const walk = (o: Record<string, any>) => {
      for (const v of Object.values(o)) {
        if (v.type !== 'final') nodes.push(v);
        if (v.states) walk(v.states);
      }
    };
    walk(sub);
    const evs = ['a', 'b', 'c'].map((e) => `${th}.${e}`);
    if (shared) evs.push('both');
    for (let i = 0; i < 7; i++) {
      const src = pick(nodes);
      const ev = pick(evs);
      const tgt = r() < 0.15 ? undefined : r() < 0.1 ? `#${th}_fin` : `#${pick(ids)}`;
      const t: any = { actions: [note(`${src.id}>${ev}`), assign({ n: ({ context }: any) => (context.n + 1) % 3 })] };
      if (tgt) t.target = tgt;
      if (r() < 0.3) t.reenter = true;
      // Known bug (self-target.test.ts): a non-reentering self-target re-enters all ancestors. Avoided here.
      if (tgt === `#${src.id}`) t.reenter = true;
      // A reentering transition on the thread region itself has the root as its domain (rejected by design).
      if (src === region) t.reenter = false;
      if (r() < 0.5) {
        const lim = Math.floor(r() * 3);
        t.guard = ({ context }: any) => context.n !== lim;
      }
      (src.on[ev] ??= []).push(t);
    }
    states[th] = region;
  }
  return setup({}).createMachine({ type: 'parallel', meta: { joint: ['both'] }, context: { log: [], n: 0 }, entry: note('+root'), exit: note('-root'), states } as any);
}

describe('review: random statecharts agree with XState (pin)', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, () => {
      const m = randomMachine(seed * 7919, seed % 3 === 0);
      expect(compareEverywhere(m, 30000)).toBeGreaterThan(0);
    });
  }
});
