// A seeded permutation of the successor order (swarm diversification, as SPIN's -DT_RAND): the same
// transition system whose candidate events come out in another fixed order, so a depth-first search
// dives into other interleavings first. The state space, and so every verdict of an exhaustive run,
// is unchanged; which counterexample a stopping search meets first is what changes.
import type { CompiledSystem } from '../compile.ts';
import { createPrng } from '../prng.ts';

/** The system with its candidate events ordered by a permutation drawn from `seed`. */
export function withEventOrder(system: CompiledSystem, seed: number): CompiledSystem {
  const prng = createPrng(seed);
  const n = system.events.length;
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = prng.below(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const rank = new Int32Array(n);
  order.forEach((e, r) => (rank[e] = r));
  const out: number[] = [];
  return {
    ...system,
    candidateEvents(leaves) {
      const evs = system.candidateEvents(leaves);
      out.length = 0;
      for (let i = 0; i < evs.length; i++) out.push(evs[i]);
      out.sort((a, b) => rank[a] - rank[b]);
      return out;
    },
  };
}
