// Which guards and actions keep a spec's states off the word path (README "Fast path"): a breadth-first walk
// of the spec's state space (up to --limit states) that counts, per reason, the expanded states where some
// thread sits at a state with a transition that is not lowered (its guard or an action of its sequence),
// ranked; and how many states had every thread at a fully lowered state (those step on the words).
//
//   node bin/run-ts.js bench/lowering-blockers.ts specs/sb-freeze-generic-large.json [more specs] [--limit 100000] [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadAllBundled } from '../cli/models.ts';
import type { CompiledTransition } from '../explorer/compile/types.ts';
import { instantiate, resolveParams } from '../explorer/index.ts';

const { values: o, positionals } = parseArgs({ allowPositionals: true, options: { limit: { type: 'string', default: '100000' }, top: { type: 'string', default: '25' } } });
const models = await loadAllBundled();

/** Why a transition is not lowered (the guard's label or the source state of its action sequence), or null. */
function blocker(tr: CompiledTransition): string | null {
  if (tr.guardLowered && tr.guardLowered.plan === null) return `guard ${tr.guardLabel.replace(/\(.*\)/, '(..)')}: ${tr.guardLowered.why}`;
  if (tr.sequenceLowered.plan === null) return `actions at ${tr.source}: ${tr.sequenceLowered.why}`;
  return null;
}

for (const file of positionals) {
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  const model = models.find((m) => m.name === spec.model);
  if (!model) throw new Error(`${file}: no bundled model ${spec.model}`);
  const space = instantiate(model, resolveParams(model, spec.params), spec.variant ?? model.defaultVariant);
  const threads = space.system.threads;
  const counts = new Map<string, number>();
  let expanded = 0;
  let onWords = 0;
  const init = space.initial();
  const seen = new Set<string>([init.words.join(',')]);
  const queue: Int32Array[] = [init.words];
  for (let head = 0; head < queue.length && expanded < Number(o.limit); head++) {
    const words = queue[head];
    queue[head] = undefined as unknown as Int32Array;
    expanded++;
    const why = new Set<string>();
    threads.forEach((t, ti) => {
      for (const cands of t.candidates[words[ti]]) for (const c of cands ?? []) {
        const b = blocker(c);
        if (b) why.add(b);
      }
    });
    if (why.size === 0) onWords++;
    for (const b of why) counts.set(b, (counts.get(b) ?? 0) + 1);
    space.expand(words, (_e, next, len) => {
      const k = next.subarray(0, len).join(',');
      if (!seen.has(k)) {
        seen.add(k);
        queue.push(next.slice(0, len));
      }
    });
  }
  console.log(`\n${file}: ${expanded} states expanded, ${onWords} with every thread at a fully lowered state; steps ${JSON.stringify(space.words.counts)}`);
  console.log('states blocked  by');
  for (const [b, n] of [...counts].sort((x, y) => y[1] - x[1]).slice(0, Number(o.top))) console.log(`${String(n).padStart(14)}  ${b}`);
}
