// Where a breadth-first run's memory goes: the visited set (fingerprint table, parent links and events) and
// the frontier, whose peak this measures packed (explorer/frontier/queue.ts: bytes of its arena) against the
// unpacked layout it replaced ([id, depth, length, ...words] as int32: (3 + W) * 4 bytes per queued state,
// before that buffer's doubling slack). One in-process search, the same one `check` runs (bfs, unreduced).
//
//   node bin/run-ts.js bench/frontier-memory.ts --model sb-freeze --variant generic \
//     --params '{"writers":4,"umountWriters":1,"faulters":4,"intwriters":4}' --max-states 2000000
import { parseArgs } from 'node:util';
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
  },
});

/** The packed queue, counting what the unpacked layout would have held at the same moments. */
class Measured extends FifoQueue {
  unpacked = 0;
  peakUnpacked = 0;
  peakStates = 0;
  private readonly lengths: number[] = [];
  private popped = 0;

  override push(id: number, depth: number, words: Int32Array, length = words.length): void {
    super.push(id, depth, words, length);
    this.lengths.push(length);
    this.unpacked += (3 + length) * 4;
    if (this.unpacked > this.peakUnpacked) this.peakUnpacked = this.unpacked;
    if (this.size > this.peakStates) this.peakStates = this.size;
  }

  override pop(): FrontierEntry | null {
    const e = super.pop();
    if (e) this.unpacked -= (3 + this.lengths[this.popped++]) * 4;
    return e;
  }
}

const { def } = await loadModel(o.model!, process.cwd(), '--model');
const variant = o.variant ?? def.defaultVariant;
const params = JSON.parse(o.params!);
const space = instantiate(def, params, variant);
const invariants = selectInvariants(def, params, variant, true);
const queue = new Measured();
const before = process.memoryUsage();
const outcome = frontierSearch(
  {
    space,
    bounds: { maxStates: Number(o['max-states']) },
    checker: stateChecker(space.system, { assertions: true, invariants, assertionPredicates: def.assertions ?? {} }),
    deadlock: true,
    stopAtFirst: false,
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
console.log(`${def.name} ${variant} ${JSON.stringify(params)}: ${outcome.status}${outcome.status === 'incomplete' ? ` (${outcome.bound.name})` : ''}`);
for (const [what, value, per] of rows) console.log(`| ${what} | ${value} | ${per} |`);
