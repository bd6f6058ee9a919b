// The cluster examples under examples/: the Kubernetes Indexed Job and the GitHub Actions matrix
// workflow validate against schemas of the fields they use (kubectl is not available here), agree with
// the swarm's shard contract, and the Indexed Job's own command, run here once per JOB_COMPLETION_INDEX,
// then the merge job's, yields a merged counterexample that replays.
import Ajv from 'ajv';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const root = join(import.meta.dirname, '..', '..');
const ex = (p: string) => join(root, 'examples', p);
const schema = (name: string) => JSON.parse(readFileSync(ex(`schemas/${name}`), 'utf8'));
const ajv = new (Ajv as any)({ allErrors: true, strict: false });
const validators = {
  Job: ajv.compile(schema('kubernetes-job.schema.json')),
  PersistentVolumeClaim: ajv.compile(schema('kubernetes-pvc.schema.json')),
  workflow: ajv.compile(schema('github-workflow.schema.json')),
} as Record<string, any>;

function docs(file: string): any[] {
  const all = parseAllDocuments(readFileSync(ex(file), 'utf8'));
  for (const d of all) expect(d.errors, `${file}: YAML errors`).toEqual([]);
  return all.map((d) => d.toJS());
}

function valid(kind: string, doc: unknown, file: string): void {
  const v = validators[kind];
  expect(v, `${file}: no schema for kind ${kind}`).toBeDefined();
  const ok = v(doc);
  expect(ok ? [] : v.errors.map((e: any) => `${file}: ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
}

const option = (args: string[], name: string) => args[args.indexOf(name) + 1];
const work = mkdtempSync(join(tmpdir(), 'interleave-swarm-examples-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('examples: a swarm on a cluster', () => {
  const [pvc, job] = docs('kubernetes/swarm-job.yaml');
  const [merge] = docs('kubernetes/swarm-merge-job.yaml');
  const [workflow] = docs('github-actions/swarm.yml');

  it('validate against the schemas of their kinds', () => {
    valid(pvc.kind, pvc, 'swarm-job.yaml');
    valid(job.kind, job, 'swarm-job.yaml');
    valid(merge.kind, merge, 'swarm-merge-job.yaml');
    valid('workflow', workflow, 'swarm.yml');
    // The schemas do catch mistakes.
    expect(validators.Job({ ...job, spec: { ...job.spec, completions: '8' } })).toBe(false);
    expect(validators.workflow({ ...workflow, jobs: { x: { 'runs-on': 'ubuntu-latest', steps: [{ uses: 'actions/checkout' }] } } })).toBe(false);
  });

  it('agree with the shard contract: N shards, one index each, results on the volume the merge reads', () => {
    const c = job.spec.template.spec.containers[0];
    expect(job.spec.completionMode).toBe('Indexed');
    const n = job.spec.completions;
    expect(c.command.slice(2, 3)).toEqual(['swarm']);
    expect(option(c.command, '--shard')).toBe(String(n));
    const mount = c.volumeMounts[0].mountPath;
    expect(option(c.command, '--out')).toBe(mount);
    const m = merge.spec.template.spec.containers[0];
    expect(m.command.join(' ')).toContain(`--merge ${mount}/*.shard-*-of-${n}.json --out ${mount}`);
    expect(merge.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
    expect(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
    // The workflow's matrix runs shards 0 .. SHARDS-1 and passes I/SHARDS.
    const shards = Number(workflow.env.SHARDS);
    expect(workflow.jobs.shard.strategy.matrix.shard).toEqual(Array.from({ length: shards }, (_, i) => i));
    const run = workflow.jobs.shard.steps.map((s: any) => s.run ?? '').join('\n');
    expect(run).toContain('--shard ${{ matrix.shard }}/${{ env.SHARDS }}');
    expect(workflow.jobs.merge.needs).toBe('shard');
    expect(workflow.jobs.merge.steps.map((s: any) => s.run ?? '').join('\n')).toContain('swarm --merge swarm-results/*.shard-*.json');
  });

  it("run here: the Indexed Job's command once per JOB_COMPLETION_INDEX, then the merge job's; the counterexample replays", async () => {
    const c = job.spec.template.spec.containers[0];
    const mount = c.volumeMounts[0].mountPath;
    // node bin/interleave.js swarm ... ; the volume is a temporary directory; 2 s per job keeps it short.
    const args = c.command.slice(2).map((a: string) => (a === mount ? work : a));
    const saved = process.env.JOB_COMPLETION_INDEX;
    try {
      for (let i = 0; i < job.spec.completions; i++) {
        process.env.JOB_COMPLETION_INDEX = String(i);
        const r = await runCli([...args, '--timeout', '2', '--quiet']);
        expect(r.code, r.err).toBe(0);
      }
    } finally {
      if (saved === undefined) delete process.env.JOB_COMPLETION_INDEX;
      else process.env.JOB_COMPLETION_INDEX = saved;
    }
    const files = readdirSync(work).filter((f) => /\.shard-\d+-of-8\.json$/.test(f));
    expect(files).toHaveLength(8);
    const m = await runCli(['swarm', '--merge', ...files.map((f) => join(work, f)), '--out', work]);
    expect(m.code, m.out + m.err).toBe(0);
    expect(m.out).toMatch(/verdict: DEADLOCK/);
    expect(m.out).toMatch(/expected violation \(deadlock\): agrees/);
    const cx = readdirSync(work).find((f) => f.endsWith('.counterexample.json'))!;
    const replay = await runCli(['replay', join(work, cx)]);
    expect(replay.code, replay.out).toBe(0);
    expect(replay.out).toMatch(/^REPRODUCED deadlock/);
  });
});
