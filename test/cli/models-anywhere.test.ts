// Models anywhere: a model and its specs in a folder outside the clone load with this install's xstate and
// interleave (bin/hooks.mjs), with or without a package.json, whatever the folder's node_modules hold; init
// scaffolds a folder that checks; the package ships what it runs. These run the real CLI in a child node.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('bin/interleave.js');
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'interleave-anywhere-'));

const MODEL = `import { assign, setup } from 'xstate';
import { defineModel } from 'interleave';
import { mutex } from 'interleave/kernel';
export default defineModel({
  name: 'outside', description: 'two tasks racing for one flag', params: {},
  variants: { racy: { description: 'both take it' } }, defaultVariant: 'racy',
  create: () => setup({ guards: { free: ({ context }) => context.m.owner === null } }).createMachine({
    type: 'parallel', context: { m: mutex() },
    states: {
      a: { initial: 'idle', states: { idle: { on: { 'a.take': { guard: 'free', target: 'holds', actions: assign({ m: { owner: 'a' } }) } } }, holds: { on: { 'a.wait': { guard: 'free', target: 'done' } } }, done: { type: 'final' } } },
      b: { initial: 'idle', states: { idle: { on: { 'b.take': { guard: 'free', target: 'done' } } }, done: { type: 'final' } } },
    },
  }),
});
`;

function userFolder(extra: Record<string, string>): string {
  const dir = tmp();
  writeFileSync(join(dir, 'model.ts'), MODEL);
  writeFileSync(join(dir, 'deadlock.json'), JSON.stringify({ model: './model.ts', expect: { status: 'violation', kind: 'deadlock', depth: 1 } }));
  for (const [f, text] of Object.entries(extra)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

describe('a model outside the clone', () => {
  it.each([
    ['no package.json', {}],
    ['a CommonJS package.json', { 'package.json': JSON.stringify({ name: 'mine', type: 'commonjs' }) }],
    [
      'its own (broken) xstate and interleave in node_modules',
      {
        'package.json': JSON.stringify({ name: 'mine', type: 'module' }),
        'node_modules/xstate/package.json': JSON.stringify({ name: 'xstate', type: 'module', main: 'index.js' }),
        'node_modules/xstate/index.js': "throw new Error('the user folder xstate was loaded');",
        'node_modules/interleave/package.json': JSON.stringify({ name: 'interleave', type: 'module', main: 'index.js' }),
        'node_modules/interleave/index.js': "throw new Error('the user folder interleave was loaded');",
      },
    ],
  ])('loads with %s: check DIR (package.json skipped), then replay from elsewhere', (_, extra) => {
    const dir = userFolder(extra as Record<string, string>);
    const r = cli(['check', '.'], dir);
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/deadlock\s+\d+\s+\d+\s+1\s+[\d.]+\s+deadlock\s+deadlock\s+ok/);
    expect(r.stdout).toMatch(/1 of 1 specs match/);
    const trace = JSON.parse(readFileSync(join(dir, 'counterexamples', 'deadlock.json'), 'utf8'));
    expect(trace.modelPath).toBe('../model.ts');
    // (Each child node takes seconds to start on a busy machine: replay and the model on its own, once.)
    if (Object.keys(extra).length) return;
    const replay = cli(['replay', join(dir, 'counterexamples', 'deadlock.json')], tmpdir());
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/^REPRODUCED deadlock on outside variant racy after 1 steps/);
    // The model file on its own, without a spec.
    const m = cli(['check', 'model.ts', '--no-save'], dir);
    expect(m.status).toBe(1);
    expect(m.stdout).toMatch(/model\s+\d+\s+\d+\s+1\s+.*deadlock\s+pass \(no spec\)\s+MISMATCH/);
  });

  it('init DIR scaffolds a model, two specs and a test; check DIR matches both specs, its vitest test passes; init refuses to overwrite', () => {
    const dir = join(tmp(), 'first');
    const r = cli(['init', dir], tmpdir());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Created 4 files/);
    const c = cli(['check', dir, '--cross-check', '--out', join(dir, 'cx')], tmpdir());
    expect(c.status, c.stdout + c.stderr).toBe(0);
    expect(c.stdout).toMatch(/abba\s+7\s+7\s+2\s+[\d.]+\s+deadlock\s+deadlock\s+ok/);
    expect(c.stdout).toMatch(/ordered\s+12\s+12\s+6\s+[\d.]+\s+pass\s+pass\s+ok/);
    expect(c.stdout).toMatch(/abba: cross-check: the engine and XState's transition\(\) agree on all 13 reachable states/);
    // Its vitest test, with node_modules laid out as npm install -D vitest interleave.tgz would (links to this install),
    // in a project that depends on another xstate (under vitest no hook maps it: the scaffold imports setup from interleave).
    mkdirSync(join(dir, 'node_modules', 'xstate'), { recursive: true });
    symlinkSync(resolve('.'), join(dir, 'node_modules', 'interleave'));
    symlinkSync(resolve('node_modules', 'vitest'), join(dir, 'node_modules', 'vitest'));
    writeFileSync(join(dir, 'node_modules/xstate/package.json'), JSON.stringify({ name: 'xstate', version: '4.38.3', type: 'module', main: 'index.js' }));
    writeFileSync(join(dir, 'node_modules/xstate/index.js'), "throw new Error('the project xstate (v4) was loaded');");
    const t = spawnSync(process.execPath, [resolve('node_modules/vitest/vitest.mjs'), 'run', '--root', dir], { cwd: dir, encoding: 'utf8' });
    expect(t.status, t.stdout + t.stderr).toBe(0);
    expect(t.stdout).toMatch(/3 passed/);
    const before = readFileSync(join(dir, 'model.ts'), 'utf8');
    const again = cli(['init', dir], tmpdir());
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds model\.ts, abba\.json, ordered\.json, model\.test\.ts; nothing was written/);
    expect(readFileSync(join(dir, 'model.ts'), 'utf8')).toBe(before);
  });

  it('interleave list | head ends quietly (no EPIPE crash)', () => {
    const r = spawnSync('bash', ['-c', `node ${BIN} list | head -1 >/dev/null; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('status 0');
  });
});

describe('the package', () => {
  it('ships every file it runs, and its exports resolve to shipped files', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = new Set<string>(JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path));
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.private).toBeUndefined();
    // An export is a path, or conditions to paths (interleave-dist: the build's file, default: the source).
    const targets = Object.values(pkg.exports as Record<string, string | Record<string, string>>).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const target of targets) {
      if (!target.includes('*')) expect(files, target).toContain(target.replace(/^\.\//, ''));
    }
    // The build (dist/, made by prepare) ships with the sources it was made from and the script that made it.
    for (const f of ['bin/interleave.js', 'bin/hooks.mjs', 'bin/register.mjs', 'bin/tree.mjs', 'scripts/build.mjs', 'dist/BUILD.json', 'dist/cli/main.js', 'dist/explorer/parallel/worker-entry.mjs', 'dist/explorer/parallel/worker.js', 'dist/cli/viewer/page.js', 'cli/main.ts', 'explorer/index.ts', 'explorer/parallel/worker-entry.mjs', 'machines/kernel/index.ts', 'schemas/spec.schema.json', 'schemas/trace.schema.json', 'schemas/check-result.schema.json']) {
      expect(files, f).toContain(f);
    }
    expect([...files].some((f) => f.startsWith('test/'))).toBe(false);
    expect(Object.keys(pkg.dependencies)).not.toContain('@xstate/graph');
  });
});
