// The coordinator's NATS thread: the main thread runs the search loop synchronously (explorer/parallel/
// levels.ts, through ./peers.ts) and hands this thread one step at a time; this thread recruits the workers,
// sends each step to every worker and gathers the answers, probes the workers (heartbeat) and answers their
// probes of the coordinator. A worker whose subscriptions vanish (its process ended or NATS dropped it) or
// that stays silent past the limit is reported lost; the main thread then ends the run as incomplete.
import { workerData } from 'node:worker_threads';
import { nuid, type NatsConnection } from '@nats-io/transport-node';
import { InputError, thrownMessage } from '../errors.ts';
import { serializeError, type WorkerBoot } from '../parallel/protocol.ts';
import type { ArrivalReport, RoundReport } from '../parallel/partition.ts';
import { connectNats, redact, type NatsTarget } from './connect.ts';
import { RunJournal, type RunRecord } from './journal.ts';
import { RECRUIT, subjects, type Command, type DistributedInit, type RecruitReply, type WireLimits } from './protocol.ts';

const { port, flag } = workerData as WorkerBoot;

function post(message: unknown): void {
  port.postMessage(message);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
}

/** What the main thread asks of this thread (./peers.ts). */
export type RelayCommand =
  | { cmd: 'open'; target: NatsTarget; peers: number; version: string; joinSeconds: number; silenceSeconds: number }
  | { cmd: 'init'; init: Omit<DistributedInit, 'index' | 'count'>; hash: string }
  | { cmd: 'arrive'; depth: number; stopAtFirst: boolean; maxDepth: number | null }
  | { cmd: 'round'; limits: WireLimits; expand: boolean }
  | { cmd: 'link'; gid: number }
  | { cmd: 'close'; summary: Pick<RunRecord, 'status' | 'states' | 'transitions' | 'depth' | 'detail'> };

interface Member {
  id: string;
  name: string;
  /** Last time it answered anything (ms). */
  heard: number;
}

class Lost extends Error {
  constructor(
    readonly partition: number,
    readonly worker: string,
    readonly why: string,
  ) {
    super(why);
  }
}

let nc: NatsConnection | null = null;
let url = '';
const run = nuid.next();
const subj = subjects(run);
let members: Member[] = [];
let lost: Lost | null = null;
/** Rejects the gathering in progress (a lost worker, a NATS outage). */
let abort: (e: Error) => void = () => {};
let heartbeat: ReturnType<typeof setInterval> | null = null;
/** Strings the workers met in the last round, passed to all before the next arrival. */
let strings: string[] = [];
/** Batches of states each partition must hold before its next arrival. */
let expect: number[] = [];
let outage: string | null = null;
let journal: RunJournal | null = null;
let record: RunRecord | null = null;

// This thread's own liveness for the main thread's wait (explorer/parallel/pool.ts).
setInterval(() => Atomics.add(flag, 1, 1), 1000).unref();

async function open(c: Extract<RelayCommand, { cmd: 'open' }>): Promise<unknown> {
  url = c.target.url;
  nc = await connectNats({ ...c.target, name: `interleave-coordinator ${run}` }, '--nats');
  const conn = nc;
  void (async () => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect' && !outage) {
        outage = `the NATS connection to ${redact(url)} dropped mid-run; states in flight may be lost, so the run stops (rerun when NATS is back)`;
        abort(new InputError(outage));
      }
    }
  })();
  // Workers probe the coordinator here; they leave the run when nobody answers.
  conn.subscribe(subj.coordinator, { callback: (_e, m) => void m.respond('') });
  const deadline = Date.now() + c.joinSeconds * 1000;
  const seen = new Set<string>();
  while (members.length < c.peers) {
    if (outage) {
      await endAll();
      throw new InputError(outage);
    }
    let reply: RecruitReply | null = null;
    try {
      reply = (await conn.request(RECRUIT, JSON.stringify({ run, version: c.version }), { timeout: 2000 })).json<RecruitReply>();
    } catch {
      // Nobody in the queue group yet (or all busy): wait for workers to come.
    }
    if (reply && !('busy' in reply) && !seen.has(reply.id)) {
      seen.add(reply.id);
      members.push({ id: reply.id, name: reply.name, heard: Date.now() });
      if (reply.version !== c.version) {
        await endAll();
        throw new InputError(`--nats: worker ${reply.name} runs interleave ${reply.version} and this coordinator ${c.version}; run the same version everywhere`);
      }
      continue;
    }
    if (Date.now() > deadline) {
      await endAll();
      throw new InputError(
        `--peers ${c.peers}: only ${members.length} of ${c.peers} workers joined within ${c.joinSeconds} s on ${redact(url)}; ` +
          `start workers with: interleave worker --nats URL (or lower --peers)`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  startHeartbeat(c.silenceSeconds);
  journal = await RunJournal.open(conn);
  record = { run, status: 'running', peers: c.peers, workers: members.map((m) => m.name), started: new Date().toISOString() };
  return { opened: true, workers: members.map((m) => m.name) };
}

function startHeartbeat(silenceSeconds: number): void {
  heartbeat = setInterval(() => {
    members.forEach((m, p) => {
      nc!.request(subj.ping(m.id), '', { timeout: 1000 }).then(
        () => (m.heard = Date.now()),
        (e: unknown) => {
          if ((e as { isNoResponders?: () => boolean }).isNoResponders?.()) {
            fail(new Lost(p, m.name, 'its subscriptions are gone from NATS (the process ended, or NATS dropped its connection)'));
          } else if (Date.now() - m.heard > silenceSeconds * 1000) {
            fail(new Lost(p, m.name, `no answer to the heartbeat for ${silenceSeconds} s`));
          }
        },
      );
    });
  }, 1000);
}

function fail(l: Lost): void {
  if (lost) return;
  lost = l;
  abort(l);
}

/** Sends a command to worker p and waits for its answer (or for a worker to be lost). */
async function ask(p: number, c: Command): Promise<any> {
  const m = members[p];
  const reply = await nc!.request(subj.control(m.id), JSON.stringify(c), { timeout: 0x7fffffff }).catch((e: unknown) => {
    if ((e as { isNoResponders?: () => boolean }).isNoResponders?.()) throw new Lost(p, m.name, 'its subscriptions are gone from NATS (the process ended)');
    throw e;
  });
  m.heard = Date.now();
  const answer = reply.json<any>();
  if (typeof answer.unreachable === 'number') {
    const q = answer.unreachable;
    throw new Lost(q, members[q].name, 'its partition stopped taking states (its subscriptions are gone from NATS: the process ended, or NATS dropped it)');
  }
  if (answer.error) throw Object.assign(new Error(answer.error.message), { remote: answer.error, worker: m.name });
  return answer;
}

/** Every worker's answer to its command, in partition order; rejects as soon as a worker is lost. */
async function all(make: (p: number) => Command): Promise<any[]> {
  if (lost) throw lost;
  if (outage) throw new InputError(outage);
  const gone = new Promise<never>((_, reject) => (abort = reject));
  try {
    return await Promise.race([Promise.all(members.map((_, p) => ask(p, make(p)))), gone]);
  } finally {
    abort = () => {};
    if (outage) throw new InputError(outage);
  }
}

async function endAll(): Promise<void> {
  if (heartbeat) clearInterval(heartbeat);
  const conn = nc;
  if (!conn) return;
  for (const m of members) conn.publish(subj.control(m.id), JSON.stringify({ cmd: 'end' } satisfies Command));
  await conn.drain().catch(() => {});
  nc = null;
}

async function handle(c: RelayCommand): Promise<unknown> {
  switch (c.cmd) {
    case 'open':
      return open(c);
    case 'init': {
      const W = members.length;
      const answers = await all((p) => ({ cmd: 'init', init: { ...c.init, index: p, count: W } }));
      answers.forEach((a, p) => {
        if (a.hash !== c.hash) {
          throw new InputError(
            `--nats: worker ${members[p].name} built a different model (hash ${a.hash}, the coordinator's ${c.hash}): ` +
              `give every worker the same interleave version and the same model files (${c.init.model.bundled ?? c.init.model.path})`,
          );
        }
      });
      strings = answers.flatMap((a) => a.strings);
      expect = new Array(W).fill(0);
      if (record) {
        record = { ...record, model: c.init.model.bundled ?? c.init.model.path, variant: c.init.variant, params: c.init.params };
        await journal?.put(record);
      }
      return { ready: true };
    }
    case 'arrive': {
      const s = strings;
      strings = [];
      const answers = await all((p) => ({ cmd: 'arrive', depth: c.depth, stopAtFirst: c.stopAtFirst, maxDepth: c.maxDepth, expect: expect[p], strings: s }));
      return { arrivals: answers.map((a) => a.arrival as ArrivalReport) };
    }
    case 'round': {
      const answers = await all(() => ({ cmd: 'round', limits: c.limits, expand: c.expand }));
      expect = members.map((_, q) => answers.reduce((n, a) => n + (a.batches[q] ?? 0), 0));
      strings = [...new Set(answers.flatMap((a) => a.strings as string[]))];
      return { reports: answers.map((a) => a.report as RoundReport) };
    }
    case 'link': {
      const W = members.length;
      const p = c.gid % W;
      if (lost) throw lost;
      return { link: (await ask(p, { cmd: 'link', local: (c.gid - p) / W })).link };
    }
    case 'close':
      if (record) await journal?.put({ ...record, ...c.summary, ended: new Date().toISOString() });
      await endAll();
      return { closed: true };
  }
}

port.on('message', (c: RelayCommand) => {
  handle(c).then(post, (e: unknown) => {
    if (e instanceof Lost) post({ lost: { partition: e.partition, worker: e.worker, why: e.why } });
    else {
      const remote = (e as { remote?: ReturnType<typeof serializeError>; worker?: string }).remote;
      post({ error: remote ?? serializeError(e instanceof InputError ? e : new Error(`distributed search: ${thrownMessage(e)}`)) });
    }
  });
});
post({ ready: true });
