// Where a breadth-first run's memory goes: the visited set (fingerprint table, parent links and events) and
// the frontier, whose peak this measures packed (explorer/frontier/queue.ts: bytes of its arena) against the
// unpacked layout it replaced ([id, depth, length, ...words] as int32: (3 + W) * 4 bytes per queued state,
// before that buffer's doubling slack). One in-process search, the same one `check` runs (bfs, unreduced).
// It samples the process's memory every --interval seconds of the search (RSS, V8 heap, ArrayBuffers, the
// frontier's arena) and splits the peak RSS into the base (the process with the model loaded, 0 states), the
// visited set, the frontier and the rest (the V8 heap's growth, allocator slack); --series prints the samples.
//
//   node bin/run-ts.js bench/frontier-memory.ts --model sb-freeze --variant generic \
//     --params '{"writers":4,"umountWriters":1,"faulters":4,"intwriters":4}' --max-states 2000000 [--series]
//     [--young fixed|grow]  (V8's young generation as the CLI keeps it, or as V8 grows it by default)
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { loadModel } from '../cli/models.ts';
import { instantiate, selectInvariants } from '../explorer/index.ts';
import { FifoQueue } from '../explorer/frontier/index.ts';
import type { FrontierEntry } from '../explorer/frontier/index.ts';
import { stateChecker } from '../explorer/properties/safety.ts';
import { frontierSearch } from '../explorer/strategies/frontier-search.ts';

const { values: o } = parseArgs({
  options: {
    model: { type: 'string', default: 'philosophers' },
    variant: { type: 'string' },
    params: { type: 'string', default: '{}' },
    'max-states': { type: 'string', default: '1000000' },
    interval: { type: 'string', default: '0.5' },
    series: { type: 'boolean', default: false },
    // As bin/interleave.js sets it for the CLI (fixed), or V8's default growth to 16 MB semi-spaces (grow).
    young: { type: 'string', default: 'fixed' },
  },
});

/** The packed queue, counting what the unpacked layout would have held at the same moments. */
class Measured extends FifoQueue {
  unpacked = 0;
  peakUnpacked = 0;
  peakStates = 0;

  override push(id: number, depth: number, words: Int32Array, length = words.length): void {
    super.push(id, depth, words, length);
    this.unpacked += (3 + length) * 4;
    if (this.unpacked > this.peakUnpacked) this.peakUnpacked = this.unpacked;
    if (this.size > this.peakStates) this.peakStates = this.size;
  }

  override pop(): FrontierEntry | null {
    const e = super.pop();
    if (e) this.unpacked -= (3 + e.words.length) * 4;
    return e;
  }
}

if (o.young === 'fixed') setFlagsFromString('--semi-space-growth-factor=1');
else if (o.young !== 'grow') throw new Error(`--young ${o.young}: fixed (as the CLI runs) or grow (V8's default)`);
const { def } = await loadModel(o.model!, process.cwd(), '--model');
const variant = o.variant ?? def.defaultVariant;
const params = JSON.parse(o.params!);
const space = instantiate(def, params, variant);
const invariants = selectInvariants(def, params, variant, true);
const queue = new Measured();
const before = process.memoryUsage();
/** Memory at each progress report: RSS, V8 heap, ArrayBuffers, the frontier's arena, with the states then. */
const samples: Array<{ seconds: number; states: number; queued: number; arena: number } & NodeJS.MemoryUsage> = [];
const outcome = frontierSearch(
  {
    space,
    bounds: { maxStates: Number(o['max-states']) },
    checker: stateChecker(space.system, { assertions: true, invariants, assertionPredicates: def.assertions ?? {} }),
    deadlock: true,
    stopAtFirst: false,
    progressInterval: Number(o.interval),
    onProgress: (p) => samples.push({ seconds: p.seconds, states: p.states, queued: queue.size, arena: queue.arenaBytes, ...process.memoryUsage() }),
  },
  queue,
  { stopAtOnce: false },
);
const states = outcome.stats.states;
const mb = (b: number) => (b / 1048576).toFixed(1);
const perState = (b: number) => (b / states).toFixed(1);
const visited = outcome.stats.bytesPerState * states;
const rows = [
  ['states', String(states), ''],
  ['visited set (fingerprint table + parent links + events)', `${mb(visited)} MB`, `${perState(visited)} B/state`],
  ['frontier peak, packed (arena bytes)', `${mb(queue.peakArenaBytes)} MB`, `${perState(queue.peakArenaBytes)} B/state`],
  ['frontier peak, unpacked layout (live records, no slack)', `${mb(queue.peakUnpacked)} MB`, `${perState(queue.peakUnpacked)} B/state`],
  ['peak queued states', String(queue.peakStates), `${((queue.peakStates / states) * 100).toFixed(1)}% of the states`],
  ['packed bytes per queued state at the peak', (queue.peakArenaBytes / queue.peakStates).toFixed(1), `unpacked ${(queue.peakUnpacked / queue.peakStates).toFixed(1)}`],
];
// The rest of the process's growth: typed arrays (visited set, frontier) are ArrayBuffers outside V8's heap;
// the heap holds the search's short-lived objects (decoded contexts, views) between collections.
const after = process.memoryUsage();
for (const [what, key] of [['RSS', 'rss'], ['ArrayBuffers (typed arrays)', 'arrayBuffers'], ['V8 heap, allocated', 'heapTotal'], ['V8 heap, used', 'heapUsed']] as const) {
  rows.push([`${what}: at the start of the search, growth during it`, `${mb(before[key])} MB, +${mb(after[key] - before[key])} MB`, `${perState(after[key] - before[key])} B/state`]);
}
// The peak: the process's own maximum RSS (as GNU time reports it), split at the sample with the largest RSS.
const peakRss = process.resourceUsage().maxRSS * 1024;
const top = samples.reduce((a, b) => (b.rss > a.rss ? b : a), { ...after, seconds: 0, states, queued: 0, arena: queue.peakArenaBytes });
const visitedAtTop = outcome.stats.bytesPerState * top.states;
rows.push(
  ['peak RSS (the process, maxRSS)', `${mb(peakRss)} MB`, `${perState(peakRss)} B/state`],
  ['peak RSS minus the base (RSS with the model loaded, 0 states)', `${mb(peakRss - before.rss)} MB`, `${perState(peakRss - before.rss)} B/state, ${((peakRss - before.rss) / visited).toFixed(2)}x the visited set`],
  [
    `at the largest sampled RSS (${mb(top.rss)} MB, ${top.states} states, ${top.queued} queued)`,
    `visited ${mb(visitedAtTop)}, frontier ${mb(top.arena)}, V8 heap +${mb(top.heapTotal - before.heapTotal)}, ArrayBuffers +${mb(top.arrayBuffers - before.arrayBuffers)} MB`,
    `rest ${mb(top.rss - before.rss - visitedAtTop - top.arena - (top.heapTotal - before.heapTotal))} MB`,
  ],
);
console.log(`${def.name} ${variant} ${JSON.stringify(params)}: ${outcome.status}${outcome.status === 'incomplete' ? ` (${outcome.bound.name})` : ''}`);
for (const [what, value, per] of rows) console.log(`| ${what} | ${value} | ${per} |`);
if (o.series) {
  console.log('\n| s | states | queued | RSS MB | V8 heap total MB | V8 heap used MB | ArrayBuffers MB | frontier arena MB |');
  for (const x of samples) console.log(`| ${x.seconds.toFixed(1)} | ${x.states} | ${x.queued} | ${mb(x.rss)} | ${mb(x.heapTotal)} | ${mb(x.heapUsed)} | ${mb(x.arrayBuffers)} | ${mb(x.arena)} |`);
}
