// examples/kubernetes/distributed.yaml: every object validates against the schema of its kind (kubectl is not
// available here), the commands parse as interleave's own options, and the pieces agree: the workers and the
// coordinator use the Secret's URL, which names the NATS Service and carries the server's user and password,
// the server runs JetStream, and the coordinator asks for as many peers as the workers' Deployment runs.
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../cli/args.ts';

const root = join(import.meta.dirname, '..', '..');
const file = join(root, 'examples', 'kubernetes', 'distributed.yaml');
const validate = new (Ajv as any)({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(join(root, 'examples', 'schemas', 'kubernetes-distributed.schema.json'), 'utf8')),
);

const docs = parseAllDocuments(readFileSync(file, 'utf8'));
const objects = docs.map((d) => d.toJS());
const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('examples/kubernetes/distributed.yaml', () => {
  it('is YAML whose objects validate against the schema of their kind', () => {
    for (const d of docs) expect(d.errors).toEqual([]);
    expect(objects.map((o) => o.kind)).toEqual(['Secret', 'Deployment', 'Service', 'Deployment', 'Job']);
    for (const o of objects) expect(validate(o) ? [] : validate.errors.map((e: any) => `${o.kind} ${o.metadata?.name}: ${e.instancePath} ${e.message}`)).toEqual([]);
    // The schema does catch mistakes.
    const job = byName('Job', 'interleave-check');
    expect(validate({ ...job, spec: { ...job.spec, completions: '1' } })).toBe(false);
    expect(validate({ ...job, spec: { ...job.spec, template: { ...job.spec.template, spec: { ...job.spec.template.spec, restartPolicy: 'Always' } } } })).toBe(false);
  });

  it("the pieces agree, and the commands parse as interleave's options", () => {
    const secret = byName('Secret', 'interleave-nats').stringData;
    const service = byName('Service', 'interleave-nats');
    const server = byName('Deployment', 'interleave-nats').spec.template.spec.containers[0];
    const workers = byName('Deployment', 'interleave-workers');
    const coordinator = byName('Job', 'interleave-check').spec.template.spec.containers[0];
    const url = new URL(secret.url);
    expect(url.hostname).toBe(service.metadata.name);
    expect(Number(url.port)).toBe(service.spec.ports[0].port);
    expect([url.username, url.password]).toEqual([secret.user, secret.password]);
    expect(server.args).toContain('-js');
    expect(server.args.join(' ')).toContain('--user $(NATS_USER) --pass $(NATS_PASSWORD)');
    expect(service.spec.selector).toEqual(byName('Deployment', 'interleave-nats').spec.template.metadata.labels);

    const worker = workers.spec.template.spec.containers[0];
    for (const c of [worker, coordinator]) {
      expect(c.command.slice(0, 2)).toEqual(['node', 'bin/interleave.js']);
      expect(c.env).toContainEqual({ name: 'NATS_URL', valueFrom: { secretKeyRef: { name: 'interleave-nats', key: 'url' } } });
    }
    const w = parseCommand('worker', worker.command.slice(3));
    expect(worker.command[2]).toBe('worker');
    expect(w.values.nats).toBe('$(NATS_URL)');
    const c = parseCommand('check', coordinator.command.slice(3));
    expect(coordinator.command[2]).toBe('check');
    expect(c.values.nats).toBe('$(NATS_URL)');
    expect(Number(c.values.peers)).toBe(workers.spec.replicas);
    expect(c.positionals).toHaveLength(1);
    expect(readFileSync(join(root, c.positionals[0]), 'utf8')).toContain('"model"');
  });
});
