// The runs' journal: a JetStream key-value bucket (interleave-runs) where each coordinator records its run
// under the run id: the model, the workers that joined (membership), then the outcome and counts. It is
// for operators (`nats kv get interleave-runs RUN`, or a dashboard watching the bucket): the search itself
// runs on core NATS and does not read it back. On a server without JetStream there is no journal, and the
// search runs the same.
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';

export const RUNS_BUCKET = 'interleave-runs';

export interface RunRecord {
  run: string;
  status: 'running' | 'pass' | 'violation' | 'incomplete' | 'error';
  model?: string;
  variant?: string;
  params?: Record<string, unknown>;
  peers: number;
  workers: string[];
  started: string;
  ended?: string;
  states?: number;
  transitions?: number;
  depth?: number;
  /** The violation (kind:name) or the bound that cut the run, or the error. */
  detail?: string;
}

export class RunJournal {
  private constructor(private readonly kv: KV) {}

  /** The bucket (created on first use: a week of runs, 5 revisions each), or null without JetStream. */
  static async open(nc: NatsConnection): Promise<RunJournal | null> {
    try {
      return new RunJournal(await new Kvm(nc).create(RUNS_BUCKET, { history: 5, ttl: 7 * 24 * 3600 * 1000 }));
    } catch {
      return null;
    }
  }

  async put(r: RunRecord): Promise<void> {
    await this.kv.put(r.run, JSON.stringify(r)).catch(() => {});
  }
}
