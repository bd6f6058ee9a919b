// The distributed safety search (check --nats URL --peers N): breadth-first over N partitions owned by
// worker processes anywhere NATS reaches (explorer/distributed/worker.ts), in the level-synchronous rounds
// of explorer/parallel/levels.ts, exactly as the worker threads run them. The coordinator owns no partition:
// its NATS thread (explorer/distributed/relay.ts) carries each step to the workers, and this transport waits
// for it synchronously, so checkModel stays synchronous. A lost worker ends the run as incomplete naming it.
import { modelHash } from '../distributed/identity.ts';
import type { NatsTarget } from '../distributed/connect.ts';
import { toWire, type ModelRef } from '../distributed/protocol.ts';
import type { RelayCommand } from '../distributed/relay.ts';
import type { ParamValue } from '../model.ts';
import type { Outcome } from '../outcome.ts';
import { levelSearch, LostPeer, type Peers } from '../parallel/levels.ts';
import type { ArrivalReport, RoundLimits, RoundReport } from '../parallel/partition.ts';
import { EXT, receive, startThread, type WorkerHandle } from '../parallel/pool.ts';
import type { SafetyTask, Strategy } from './index.ts';

export interface DistributedOptions {
  target: NatsTarget;
  /** Worker processes, one partition each. */
  peers: number;
  /** Seconds to wait for the workers to join (default 60). */
  joinSeconds?: number;
  /** Seconds a worker may leave the heartbeat unanswered (busy in a long round) before it is lost (default 300). */
  silenceSeconds?: number;
}

export interface DistributedTask extends SafetyTask {
  nats: DistributedOptions;
  model: ModelRef;
  params: Record<string, ParamValue>;
  variant: string;
  invariantNames: string[];
  assertions: boolean;
  reduce: string[];
  version: string;
}

class NatsPeers implements Peers {
  readonly count: number;
  private relay: WorkerHandle | null = null;

  constructor(private readonly task: DistributedTask) {
    this.count = task.nats.peers;
  }

  private ask(c: RelayCommand, what: string): any {
    this.relay!.port.postMessage(c);
    const answer = receive(this.relay!, what);
    if (answer.lost) throw new LostPeer(answer.lost.partition, answer.lost.worker, answer.lost.why);
    return answer;
  }

  start(stopAtFirst: boolean): void {
    const t = this.task;
    this.relay = startThread(new URL(`../distributed/relay${EXT}`, import.meta.url), undefined, 'the NATS relay thread');
    const n = t.nats;
    this.ask({ cmd: 'open', target: n.target, peers: n.peers, version: t.version, joinSeconds: n.joinSeconds ?? 60, silenceSeconds: n.silenceSeconds ?? 300 }, 'waiting for the workers to join');
    const init = { model: t.model, params: t.params, variant: t.variant, invariants: t.invariantNames, assertions: t.assertions, reduce: t.reduce, stopAtFirst };
    this.ask({ cmd: 'init', init, hash: modelHash(t.space) }, 'the workers building the model');
  }

  arrive(depth: number, stopAtFirst: boolean, maxDepth: number): ArrivalReport[] {
    // (JSON has no Infinity: no bound is null.)
    return this.ask({ cmd: 'arrive', depth, stopAtFirst, maxDepth: maxDepth === Infinity ? null : maxDepth }, `taking in round ${depth}`).arrivals;
  }

  round(limits: RoundLimits, expand: boolean): RoundReport[] {
    return this.ask({ cmd: 'round', limits: toWire(limits), expand }, `running round ${limits.depth}`).reports;
  }

  link(gid: number): { parent: number; event: number } {
    return this.ask({ cmd: 'link', gid }, 'collecting the parent links').link;
  }

  close(_ok: boolean, outcome?: Outcome): void {
    const relay = this.relay;
    if (!relay) return;
    this.relay = null;
    try {
      const detail = !outcome
        ? 'error'
        : outcome.status === 'violation'
          ? `${outcome.violation.kind}:${outcome.violation.name}`
          : outcome.status === 'incomplete'
            ? outcome.bound.name === 'lostWorker'
              ? `lost worker ${outcome.bound.worker}`
              : `${outcome.bound.name} = ${outcome.bound.limit}`
            : undefined;
      const summary = outcome
        ? { status: outcome.status, states: outcome.stats.states, transitions: outcome.stats.transitions, depth: outcome.stats.depth, ...(detail ? { detail } : {}) }
        : { status: 'error' as const, detail: 'the run failed (see the coordinator\'s report)' };
      relay.port.postMessage({ cmd: 'close', summary } satisfies RelayCommand);
      receive(relay, 'ending the run');
    } catch {
      // The run's result stands; the workers also leave a run whose coordinator is gone.
    } finally {
      void relay.worker.terminate();
    }
  }
}

function distributedSearch(task: DistributedTask): Outcome {
  return levelSearch({ ...task, sharedBudget: false }, new NatsPeers(task));
}

export const distributed: Strategy<DistributedTask> = { name: 'distributed', run: distributedSearch };
