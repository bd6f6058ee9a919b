// Test helper: a local nats-server with JetStream on a free loopback port, and `interleave worker` processes
// on it. stop() kills every process it started (SIGKILL) and waits for each to exit, so nothing is left
// running even when a test fails. A missing nats-server fails the test (CI installs it: .ci/run).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
export const BIN = join(root, 'bin/interleave.js');

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function listening(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const c = connect(port, '127.0.0.1', () => (c.destroy(), res(true)));
      c.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nats-server did not listen on 127.0.0.1:${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Worker {
  proc: ChildProcess;
  log: () => string;
}

export class LocalNats {
  readonly procs: ChildProcess[] = [];
  url = '';
  private dir = '';

  /** auth: a user and password the server requires (url then carries them). */
  async start(auth?: { user: string; pass: string }): Promise<this> {
    if (spawnSync('sh', ['-c', 'command -v nats-server']).status !== 0) {
      throw new Error('nats-server is not installed: apt-get install -y nats-server (.ci/run installs it)');
    }
    this.dir = mkdtempSync(join(tmpdir(), 'interleave-nats-'));
    const port = await freePort();
    const creds = auth ? ['--user', auth.user, '--pass', auth.pass] : [];
    this.track(spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', this.dir, ...creds], { stdio: 'ignore' }));
    await listening(port, 10_000);
    this.url = `nats://${auth ? `${auth.user}:${auth.pass}@` : ''}127.0.0.1:${port}`;
    return this;
  }

  private track(p: ChildProcess): ChildProcess {
    this.procs.push(p);
    return p;
  }

  /** An `interleave worker` on this server; resolves once it waits for a run. */
  async worker(args: string[] = []): Promise<Worker> {
    const proc = this.track(spawn(process.execPath, [BIN, 'worker', '--nats', this.url, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let log = '';
    proc.stderr!.on('data', (d) => (log += String(d)));
    const until = Date.now() + 60_000;
    while (!log.includes('waiting for a run')) {
      if (proc.exitCode !== null || Date.now() > until) throw new Error(`the worker did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { proc, log: () => log };
  }

  /** Kills every process started here and waits for them to exit. */
  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map((p) =>
        p.exitCode !== null || p.signalCode !== null
          ? undefined
          : new Promise<void>((res) => {
              p.once('exit', () => res());
              p.kill('SIGKILL');
            }),
      ),
    );
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** `interleave check ARGS` in a child process (killed by stop()); output() is what it printed so far. */
  check(args: string[]): { proc: ChildProcess; stdout: () => string; output: () => string } {
    const proc = this.track(spawn(process.execPath, [BIN, 'check', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => (stdout += String(d)));
    proc.stderr!.on('data', (d) => (stderr += String(d)));
    return { proc, stdout: () => stdout, output: () => stdout + stderr };
  }

  /** Processes started here that are still running. */
  running(): ChildProcess[] {
    return this.procs.filter((p) => p.exitCode === null && p.signalCode === null);
  }
}

/** A LocalNats for the enclosing describe (or file): stopped in its afterAll, which checks nothing is left running. */
export function localNats(): LocalNats {
  const n = new LocalNats();
  afterAll(async () => {
    await n.stop();
    expect(n.running()).toEqual([]);
  });
  return n;
}
