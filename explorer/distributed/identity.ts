// The identity of a model instance as the search sees it: a hash of the compiled tables (events, threads,
// leaves, transitions with their guard labels, the initial state's words and fingerprint). Not the source
// text of guards and actions: loaders (tsx, vitest, a build) print the same function differently. Every worker of a distributed search builds the model from its own copy of the files and sends
// this hash; a worker whose hash differs from the coordinator's (another version of the model or of
// interleave, other params) is refused before the search starts.
import { createRequire } from 'node:module';
import type { StateSpace } from '../space/index.ts';

export function modelHash(space: StateSpace): string {
  const system = space.system;
  const init = space.initial();
  const tables = {
    events: system.events,
    threads: system.threads.map((t) => ({
      name: t.name,
      leaves: t.leafPaths,
      final: t.isFinal,
      end: t.isEnd,
      asserts: t.asserts,
      transitions: t.candidates.map((byEvent) =>
        byEvent.map((list) =>
          list?.map((c) => [c.event, c.source, c.guardLabel, c.target, c.exits.map((n) => n.id), c.entries.map((n) => n.id), c.progress]),
        ),
      ),
    })),
    initial: Array.from(init.words),
    fingerprint: Array.from(space.fp),
  };
  // node:crypto loaded here, by the distributed search, not at start-up by every command.
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(JSON.stringify(tables)).digest('hex').slice(0, 32);
}
