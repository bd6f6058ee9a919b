// The distributed search's options and the worker command (cli/worker.ts): bad input is exit 2 with a message
// naming the option and the fix, and credentials in the NATS URL are never printed.
import { describe, expect, it } from 'vitest';
import { redact } from '../../explorer/distributed/connect.ts';
import { runCli } from '../helpers/cli.ts';

const spec = 'specs/philosophers-10.json';

describe('check --nats / --peers and interleave worker: bad input', () => {
  it('--peers without --nats, and --nats without --peers', async () => {
    const a = await runCli(['check', spec, '--peers', '2', '--no-save']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/option --peers needs --nats URL/);
    const b = await runCli(['check', spec, '--nats', 'nats://alice:s3cret@127.0.0.1:1', '--no-save']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/needs --peers N/);
    expect(b.out + b.err).not.toContain('s3cret');
  });

  it('a URL of another scheme, and --nats with --workers', async () => {
    const a = await runCli(['check', spec, '--nats', 'http://127.0.0.1:4222', '--peers', '1', '--no-save']);
    expect(a.code).toBe(2);
    expect(a.out + a.err).toMatch(/the scheme must be nats:\/\/ or tls:\/\//);
    const b = await runCli(['check', spec, '--nats', 'nats://127.0.0.1:1', '--peers', '1', '--workers', '2', '--no-save']);
    expect(b.code).toBe(2);
    expect(b.out + b.err).toMatch(/drop --workers 2 \(or --nats\)/);
  });

  it('NATS unreachable: exit 2 naming the server without its credentials, no stack trace', async () => {
    const r = await runCli(['check', spec, '--nats', 'nats://alice:s3cret@127.0.0.1:1', '--peers', '1', '--no-save']);
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(/cannot connect to NATS at nats:\/\/\*\*\*@127\.0\.0\.1:1/);
    expect(r.out + r.err).not.toContain('s3cret');
    expect(r.out + r.err).not.toMatch(/\n\s+at /);
    const w = await runCli(['worker', '--nats', 'nats://t0ken@127.0.0.1:1']);
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/cannot connect to NATS at nats:\/\/\*\*\*@127\.0\.0\.1:1/);
    expect(w.err).not.toContain('t0ken');
  }, 60_000);

  it('worker needs --nats; a creds file that is not there is named', async () => {
    const a = await runCli(['worker']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--nats URL is required/);
    const b = await runCli(['worker', '--nats', 'nats://127.0.0.1:1', '--nats-creds', '/nonexistent/x.creds']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--nats-creds \/nonexistent\/x.creds: cannot read the creds file/);
  });

  it('redact() hides user:password and tokens, and leaves a plain URL alone', () => {
    expect(redact('nats://u:p@h:4222')).toBe('nats://***@h:4222');
    expect(redact('tls://tok@h')).toBe('tls://***@h');
    expect(redact('u:p@h:4222')).toBe('***@h:4222');
    expect(redact('nats://h:4222')).toBe('nats://h:4222');
  });
});
