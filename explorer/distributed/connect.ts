// Connecting to NATS for a distributed search: the URL may carry credentials (user:password@, or a token@),
// which are taken out of it and never printed (redact()); a creds file (--nats-creds) authenticates with an
// NATS user JWT and nkey seed; tls:// asks for TLS (the CA from the system store, or NODE_EXTRA_CA_CERTS).
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { InputError, thrownMessage } from '../errors.ts';
import { redact } from './redact.ts';

export { redact };

export interface NatsTarget {
  /** The URL as given (may hold credentials: never print it; print redact(url)). */
  url: string;
  /** A NATS .creds file (user JWT and nkey seed). */
  creds?: string;
  /** How the connection names itself on the server (visible in its monitoring). */
  name?: string;
}

const SCHEMES = ['nats:', 'tls:'];

function parse(url: string, where: string): URL {
  let u: URL;
  try {
    u = new URL(url.includes('://') ? url : `nats://${url}`);
  } catch {
    throw new InputError(`${where}: ${JSON.stringify(redact(url))} is not a NATS URL; expected nats://HOST:PORT (or tls://HOST:PORT)`);
  }
  if (!SCHEMES.includes(u.protocol)) throw new InputError(`${where}: ${JSON.stringify(redact(url))}: the scheme must be nats:// or tls://, e.g. nats://127.0.0.1:4222`);
  if (!u.hostname) throw new InputError(`${where}: ${JSON.stringify(redact(url))} names no host; e.g. nats://127.0.0.1:4222`);
  return u;
}


/** Connection options for a URL: credentials moved out of the server address into options. */
export function connectionOptions(t: NatsTarget, where: string): NodeConnectionOptions {
  const u = parse(t.url, where);
  const server = `${u.protocol === 'tls:' ? 'tls' : 'nats'}://${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port || 4222}`;
  const opts: NodeConnectionOptions = { servers: server, name: t.name ?? 'interleave', maxReconnectAttempts: 10, reconnectTimeWait: 1000 };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  if (user && pass) Object.assign(opts, { user, pass });
  else if (user) opts.token = user;
  if (u.protocol === 'tls:') opts.tls = {};
  if (t.creds) {
    let data: Uint8Array;
    try {
      data = readFileSync(t.creds);
    } catch (e) {
      throw new InputError(`--nats-creds ${t.creds}: cannot read the creds file (${thrownMessage(e)}); give the path of a NATS .creds file`);
    }
    opts.authenticator = credsAuthenticator(data);
  }
  return opts;
}

/** Connects, or explains (without the credentials) why not: bad input, exit 2. */
export async function connectNats(t: NatsTarget, where: string): Promise<NatsConnection> {
  const opts = connectionOptions(t, where);
  try {
    return await connect({ ...opts, timeout: 10_000 });
  } catch (e) {
    const why = thrownMessage(e).split(t.url).join(redact(t.url));
    throw new InputError(
      `${where}: cannot connect to NATS at ${redact(t.url)} (${why}); start a server (nats-server -js) or fix the URL, the credentials or --nats-creds`,
    );
  }
}
