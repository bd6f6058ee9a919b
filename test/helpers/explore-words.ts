// Test helper: every reachable state's successors over the state space (the word step, lowering on or off),
// keyed by the decoded state (two runs may intern strings in different orders), with the step counts.
import type { CompiledSystem } from '../../explorer/compile/types.ts';
import { PackedSystem } from '../../explorer/packed.ts';
import { StateSpace } from '../../explorer/space/index.ts';

export function exploreWords(system: CompiledSystem, lowered: boolean) {
  const packed = new PackedSystem(system, { lowered });
  const space = new StateSpace(packed);
  const key = (w: Int32Array) => JSON.stringify(packed.decode(w));
  const init = space.initial();
  const seen = new Map<string, Int32Array>([[key(init.words), init.words]]);
  const edges: string[] = [];
  const queue = [init.words];
  while (queue.length) {
    const words = queue.pop()!;
    space.expand(words, (e, next, len) => {
      const w = next.slice(0, len);
      const k = key(w);
      edges.push(`${key(words)} -${system.events[e]}-> ${k}`);
      if (!seen.has(k)) {
        seen.set(k, w);
        queue.push(w);
      }
    });
  }
  space.endExpansions();
  return { states: [...seen.keys()].sort(), edges: edges.sort(), counts: space.words.counts };
}
