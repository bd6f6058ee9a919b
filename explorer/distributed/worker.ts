// A worker process of the distributed search (`interleave worker --nats URL`): waits in the recruit queue
// group until a coordinator takes it into a run, then owns one partition of that run (the same Partition as
// a worker thread: explorer/parallel/), answers the coordinator's commands, sends the states other
// partitions own on their subjects and stores the states sent to it. A run ends with the coordinator's
// 'end', or when the coordinator is gone (nobody answers its probe subject, or it has been silent for
// coordinatorSilence seconds between two commands); the worker then waits for the next run (or exits: once).
import { hostname } from 'node:os';
import { nuid, type Msg, type Subscription } from '@nats-io/transport-node';
import { InputError, thrownMessage } from '../errors.ts';
import type { ModelDefinition } from '../model.ts';
import { buildPartition } from '../parallel/build.ts';
import type { Partition } from '../parallel/partition.ts';
import { serializeError } from '../parallel/protocol.ts';
import { connectNats, redact, type NatsTarget } from './connect.ts';
import { modelHash } from './identity.ts';
import { batches, fromWire, RECRUIT, subjects, unbatch, WORKERS_QUEUE, type Command, type ModelRef, type RecruitReply, type RecruitRequest } from './protocol.ts';
import { HashStrings } from './strings.ts';

export interface WorkerOptions {
  target: NatsTarget;
  version: string;
  /** Loads the model a run names (the CLI resolves bundled names and paths). */
  loadModel: (ref: ModelRef) => Promise<ModelDefinition>;
  /** Exit after one run (a Kubernetes Job) instead of waiting for the next. */
  once: boolean;
  /** Seconds without the coordinator before a run is abandoned (default 60). */
  coordinatorSilence?: number;
  log: (line: string) => void;
}

/** Sends at most this many batches to one partition before waiting for acknowledgements. */
const WINDOW = 4;

interface Run {
  id: string;
  subs: Subscription[];
  partition: Partition | null;
  strings: HashStrings;
  /** Batches received for the next arrival, by sender and sequence number. */
  inbox: Array<{ sender: number; seq: number; records: Int32Array }>;
  lastHeard: number;
  probe: ReturnType<typeof setInterval> | null;
  stopAtFirst: boolean;
  count: number;
  index: number;
  /** Why the run cannot go on (reported as the answer to the next command). */
  broken?: string;
}

export async function serveWorker(o: WorkerOptions): Promise<void> {
  const id = nuid.next();
  const name = `${hostname()}/${process.pid}/${id.slice(-6)}`;
  const nc = await connectNats({ ...o.target, name: `interleave-worker ${name}` }, 'interleave worker --nats');
  o.log(`worker ${name}: connected to ${redact(o.target.url)}; waiting for a run`);
  const silence = (o.coordinatorSilence ?? 60) * 1000;
  let run: Run | null = null;
  let done: () => void = () => {};
  let failed: (e: Error) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => ((done = resolve), (failed = reject)));
  let leaving = false;

  const end = (why: string) => {
    if (!run) return;
    const r = run;
    run = null;
    if (r.probe) clearInterval(r.probe);
    for (const s of r.subs) s.unsubscribe();
    o.log(`worker ${name}: run ${r.id} ${why}`);
    if (o.once) {
      leaving = true;
      void nc.drain().then(done, done);
    }
  };

  // A NATS outage in a run loses states in flight: the run cannot be trusted, so the worker leaves it.
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' && run) end(`abandoned: the NATS connection dropped (${redact(o.target.url)})`);
    }
  })();
  // A connection NATS closed (the server gone past the reconnect attempts): exit 2, saying so.
  void nc.closed().then((e) => {
    if (leaving) done();
    else failed(new InputError(`interleave worker: lost the NATS connection to ${redact(o.target.url)}${e ? ` (${thrownMessage(e)})` : ''}; restart the worker when NATS is back`));
  });

  const recruit = nc.subscribe(RECRUIT, {
    queue: WORKERS_QUEUE,
    callback: (err, msg) => {
      if (err) return;
      const req = msg.json<RecruitRequest>();
      if (run || (o.once && nc.isDraining())) {
        msg.respond(JSON.stringify({ busy: true } satisfies RecruitReply));
        return;
      }
      // A coordinator of another version refuses this worker by name (it compares the versions).
      join(req.run);
      msg.respond(JSON.stringify({ id, name, version: o.version } satisfies RecruitReply));
    },
  });

  function join(runId: string): void {
    const subj = subjects(runId);
    const r: Run = { id: runId, subs: [], partition: null, strings: new HashStrings(), inbox: [], lastHeard: Date.now(), probe: null, stopAtFirst: true, count: 0, index: 0 };
    run = r;
    o.log(`worker ${name}: joined run ${runId}`);
    let queue = Promise.resolve();
    r.subs.push(
      nc.subscribe(subj.control(id), {
        callback: (err, msg) => {
          if (err) return;
          r.lastHeard = Date.now();
          // One command at a time, in order (a round's sends finish before the next command starts).
          queue = queue.then(() => command(r, msg));
        },
      }),
      nc.subscribe(subj.ping(id), { callback: (_e, msg) => void msg.respond('') }),
    );
    // Is the coordinator still there? Probed while waiting for commands (a round's work blocks this timer).
    r.probe = setInterval(() => {
      if (run !== r) return;
      nc.request(subj.coordinator, '', { timeout: 2000 }).then(
        () => (r.lastHeard = Date.now()),
        (e: unknown) => {
          if (run !== r) return;
          const gone = (e as { isNoResponders?: () => boolean }).isNoResponders?.() ?? false;
          if (gone) end('abandoned: its coordinator is gone');
          else if (Date.now() - r.lastHeard > silence) end(`abandoned: no word from its coordinator for ${silence / 1000} s`);
        },
      );
    }, 2000);
  }

  async function command(r: Run, msg: Msg): Promise<void> {
    if (run !== r) return;
    try {
      const c = msg.json<Command>();
      if (r.broken) throw new Error(r.broken);
      msg.respond(JSON.stringify(await execute(r, c)));
    } catch (e) {
      const unreachable = (e as { unreachable?: number }).unreachable;
      msg.respond(JSON.stringify({ error: serializeError(e), ...(unreachable !== undefined ? { unreachable } : {}) }));
      end(`failed: ${thrownMessage(e)}`);
      return;
    }
    if (msg.json<Command>().cmd === 'end') end('ended');
  }

  async function execute(r: Run, c: Command): Promise<unknown> {
    const subj = subjects(r.id);
    switch (c.cmd) {
      case 'init': {
        const model = await o.loadModel(c.init.model);
        const { partition, space } = buildPartition(model, c.init, r.strings, null, () => {});
        r.partition = partition;
        r.stopAtFirst = c.init.stopAtFirst;
        r.count = c.init.count;
        r.index = c.init.index;
        r.subs.push(
          nc.subscribe(subj.data(c.init.index), {
            callback: (_e, m) => {
              // A batch that cannot be read fails the run at the next command (never a thrown callback: it would close the connection).
              try {
                r.inbox.push(unbatch(m.data));
              } catch (e) {
                r.broken ??= `a batch of states from another worker could not be read (${thrownMessage(e)})`;
              }
              m.respond('');
            },
          }),
        );
        const hash = modelHash(space);
        partition.seed(c.init.stopAtFirst);
        o.log(`worker ${name}: run ${r.id}: partition ${c.init.index} of ${c.init.count}, model ${c.init.model.bundled ?? c.init.model.path} built (hash ${hash})`);
        return { hash, strings: r.strings.fresh() };
      }
      case 'arrive': {
        const p = need(r);
        r.strings.learn(c.strings);
        if (r.inbox.length !== c.expect) throw new Error(`internal: partition ${r.index} expected ${c.expect} batches of states and holds ${r.inbox.length}`);
        // In the order the worker threads use: by sender, then as sent.
        const inbox = r.inbox.sort((a, b) => a.sender - b.sender || a.seq - b.seq).map((b) => b.records);
        r.inbox = [];
        return { arrival: p.arrive(inbox, c.depth, c.stopAtFirst, c.maxDepth ?? Infinity) };
      }
      case 'round': {
        const p = need(r);
        const report = p.round(fromWire(c.limits), c.expand);
        const sent = await Promise.all(report.outboxes.map((out, q) => (q === r.index || out.length === 0 ? 0 : send(subj.data(q), batches(r.index, out), q))));
        return { report: { ...report, outboxes: [] }, batches: sent, strings: r.strings.fresh() };
      }
      case 'link':
        return { link: need(r).link(c.local) };
      case 'end':
        return {};
    }
  }

  /** Sends batches to partition q; a partition nobody listens to any more is reported as such (the coordinator names its worker lost). */
  async function send(subject: string, list: Uint8Array[], q: number): Promise<number> {
    try {
      for (let i = 0; i < list.length; i += WINDOW) {
        await Promise.all(list.slice(i, i + WINDOW).map((b) => nc.request(subject, b, { timeout: 600_000 })));
      }
    } catch (e) {
      if ((e as { isNoResponders?: () => boolean }).isNoResponders?.()) throw Object.assign(new Error(`partition ${q} is not listening`), { unreachable: q });
      throw e;
    }
    return list.length;
  }

  function need(r: Run): Partition {
    if (!r.partition) throw new Error(`internal: worker ${name} got a command of run ${r.id} before 'init'`);
    return r.partition;
  }

  await finished;
  recruit.unsubscribe();
}
