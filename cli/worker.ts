// `interleave worker --nats URL`: a worker process of the distributed search (explorer/distributed/worker.ts),
// and the check options that start one (--nats, --peers, --nats-creds, --join-timeout, --peer-timeout).
import { existsSync } from 'node:fs';
import { InputError } from '../explorer/errors.ts';
import { TOOL_VERSION } from '../explorer/index.ts';
import type { ModelRef } from '../explorer/distributed/protocol.ts';
import { redact } from '../explorer/distributed/redact.ts';
import type { DistributedOptions } from '../explorer/strategies/distributed.ts';
import { intOption, secondsOption, type ParsedCommand } from './args.ts';
import { loadModel } from './models.ts';

/** The model a coordinator names: its bundled name, else its path (the worker must have the same file there). */
async function loadRef(ref: ModelRef) {
  if (ref.bundled) return (await loadModel(ref.bundled, process.cwd(), 'the coordinator\'s model')).def;
  if (!existsSync(ref.path)) {
    throw new InputError(`the coordinator's model ${ref.path} is not on this worker; give every worker the same model files at the same path (or use a bundled model)`);
  }
  return (await loadModel(ref.path, process.cwd(), 'the coordinator\'s model')).def;
}

export async function runWorker(p: ParsedCommand, log: (s: string) => void): Promise<void> {
  const v = p.values;
  if (typeof v.nats !== 'string') throw new InputError('interleave worker: --nats URL is required, e.g. interleave worker --nats nats://127.0.0.1:4222');
  // Loaded here, not at start-up: the NATS client costs every other command about 0.1 s to load.
  const { serveWorker } = await import('../explorer/distributed/worker.ts');
  await serveWorker({
    target: { url: v.nats, ...(typeof v['nats-creds'] === 'string' ? { creds: v['nats-creds'] } : {}) },
    version: TOOL_VERSION,
    loadModel: loadRef,
    once: !!v.once,
    coordinatorSilence: secondsOption(v, 'coordinator-timeout') ?? 60,
    log,
  });
}

/** check's --nats options, or undefined without --nats; --peers without --nats (and the reverse) is an error. */
export function distributedOptions(v: ParsedCommand['values']): DistributedOptions | undefined {
  const peers = intOption(v, 'peers', { min: 1, max: 256, example: 2 });
  const extras = ['peers', 'nats-creds', 'join-timeout', 'peer-timeout'].filter((k) => v[k] !== undefined);
  if (typeof v.nats !== 'string') {
    if (extras.length) throw new InputError(`option --${extras[0]} needs --nats URL (the distributed search); add --nats or drop --${extras[0]}`);
    return undefined;
  }
  if (peers === undefined) throw new InputError(`option --nats ${redact(v.nats)} needs --peers N: how many worker processes own a partition`);
  const join = secondsOption(v, 'join-timeout');
  const silence = secondsOption(v, 'peer-timeout');
  return {
    target: { url: v.nats, ...(typeof v['nats-creds'] === 'string' ? { creds: v['nats-creds'] } : {}) },
    peers,
    ...(join !== undefined ? { joinSeconds: join } : {}),
    ...(silence !== undefined ? { silenceSeconds: silence } : {}),
  };
}
