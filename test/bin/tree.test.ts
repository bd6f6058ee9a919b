// Which tree bin/ runs (bin/tree.mjs): the build in dist/ only while it matches the sources, else the
// sources; INTERLEAVE_FROM forces one. End to end on a copy of this package built by scripts/build.mjs, so
// the repository's own dist/ is never touched while other tests run it.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseTree, distState, sourceDigest, statSignature, statSignatureAt } from '../../bin/tree.mjs';

const tmp = () => mkdtempSync(join(tmpdir(), 'interleave-tree-'));

describe('distState and chooseTree', () => {
  it('a build is fresh only while every source file is as it was: an edit, a new file or a deleted one make it stale', () => {
    const root = tmp();
    mkdirSync(join(root, 'cli'));
    mkdirSync(join(root, 'explorer'));
    writeFileSync(join(root, 'cli', 'main.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'explorer', 'x.ts'), 'export const x = 1;\n');
    expect(distState(root)).toBe('missing');
    expect(chooseTree(root, 'auto')).toEqual({ dist: false });
    expect(chooseTree(root, 'dist').error).toMatch(/INTERLEAVE_FROM=dist, but there is no build in .*dist; run `npm run build` in /);
    const stamp = () => {
      mkdirSync(join(root, 'dist'), { recursive: true });
      writeFileSync(join(root, 'dist', 'BUILD.json'), JSON.stringify({ sourceDigest: sourceDigest(root) }));
    };
    stamp();
    expect(distState(root)).toBe('fresh');
    expect(chooseTree(root, 'auto')).toEqual({ dist: true });
    expect(chooseTree(root, 'src')).toEqual({ dist: false });
    writeFileSync(join(root, 'cli', 'main.ts'), 'export const a = 2;\n');
    expect(distState(root)).toBe('stale');
    expect(chooseTree(root, 'auto')).toEqual({ dist: false });
    expect(chooseTree(root, 'dist').error).toMatch(/the build in .*dist is stale \(the sources changed since it was made\); run `npm run build`/);
    stamp();
    writeFileSync(join(root, 'explorer', 'y.ts'), '');
    expect(distState(root)).toBe('stale');
    stamp();
    rmSync(join(root, 'explorer', 'x.ts'));
    expect(distState(root)).toBe('stale');
    expect(chooseTree(root, 'fast').error).toMatch(/INTERLEAVE_FROM=fast is not one of auto, dist, src/);
  });

  it('a build that recorded the sources\' stat signature is fresh without hashing them while no file is touched; any write makes the digest decide', () => {
    const root = tmp();
    mkdirSync(join(root, 'cli'));
    const main = join(root, 'cli', 'main.ts');
    writeFileSync(main, 'export const a = 1;\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(main, old, old);
    // A file changed at or after the build's start is racy (a write in the same clock tick would keep its times): no signature.
    const changed = statSync(main).ctimeMs;
    expect(statSignatureAt(root, changed)).toBeNull();
    const signature = statSignatureAt(root, changed + 1);
    expect(signature).toBe(statSignature(root));
    mkdirSync(join(root, 'dist'));
    // A digest that matches nothing: fresh can only come from the signature.
    const stamp = (digest: string) => writeFileSync(join(root, 'dist', 'BUILD.json'), JSON.stringify({ sourceDigest: digest, statSignature: signature }));
    stamp('not the digest');
    expect(distState(root)).toBe('fresh');
    // The same size and modification time, other bytes: the change time still moves, so the digest decides (stale).
    writeFileSync(main, 'export const a = 2;\n');
    utimesSync(main, old, old);
    expect(distState(root)).toBe('stale');
    // Touched, not changed: the signature differs, the digest matches (fresh).
    stamp(sourceDigest(root));
    utimesSync(main, new Date(), new Date());
    expect(statSignature(root)).not.toBe(signature);
    expect(distState(root)).toBe('fresh');
    // A new file: stale.
    writeFileSync(join(root, 'cli', 'b.ts'), '');
    expect(distState(root)).toBe('stale');
  });
});

const OUTSIDE_MODEL = `import { setup } from 'xstate';
import { defineModel } from 'interleave';
import { mutex } from 'interleave/kernel';
export default defineModel({
  name: 'outside', description: 'one flag, two tasks', params: {}, variants: { base: { description: 'racy' } }, defaultVariant: 'base',
  create: () => setup({ guards: { free: ({ context }) => context.m.owner === null } }).createMachine({
    type: 'parallel', context: { m: mutex() },
    states: {
      a: { initial: 'idle', states: { idle: { on: { 'a.go': { guard: 'free', target: 'done' } } }, done: { type: 'final' } } },
      b: { initial: 'idle', states: { idle: { on: { 'b.go': { guard: 'free', target: 'done' } } }, done: { type: 'final' } } },
    },
  }),
});
`;

describe('bin/interleave.js on a built copy of the package', () => {
  it('runs dist/ while it matches the sources (bundled and outside models, with workers), the sources once they change; INTERLEAVE_FROM=dist refuses a stale build', () => {
    const pkg = tmp();
    for (const f of ['package.json', 'index.ts', 'bin', 'cli', 'explorer', 'machines', 'testing', 'schemas', 'scripts']) {
      cpSync(resolve(f), join(pkg, f), { recursive: true, filter: (src) => !src.endsWith('.cpuprofile') });
    }
    symlinkSync(resolve('node_modules'), join(pkg, 'node_modules'));
    const build = spawnSync(process.execPath, [join(pkg, 'scripts', 'build.mjs')], { cwd: pkg, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(build.stderr).toMatch(/built dist: \d+ modules compiled, \d+ files copied/);
    // A mark in the build only: the digest covers the sources, so the build stays fresh.
    appendFileSync(join(pkg, 'dist', 'cli', 'main.js'), "\nprocess.stderr.write('[from dist]\\n');\n");
    const user = tmp();
    writeFileSync(join(user, 'model.ts'), OUTSIDE_MODEL);
    writeFileSync(join(user, 'pass.json'), JSON.stringify({ model: './model.ts', expect: { status: 'pass' } }));
    writeFileSync(join(pkg, 'phil.json'), JSON.stringify({ model: 'philosophers', variant: 'naive', params: { n: 4 }, expect: { status: 'violation', kind: 'deadlock' } }));
    const cli = (args: string[], from?: string) =>
      spawnSync(process.execPath, [join(pkg, 'bin', 'interleave.js'), ...args], {
        cwd: pkg,
        encoding: 'utf8',
        env: { ...process.env, INTERLEAVE_FROM: from ?? '' },
      });

    const fromDist = cli(['check', 'phil.json', join(user, 'pass.json'), '--no-save', '--quiet', '--workers', '2']);
    expect(fromDist.stderr).toBe('[from dist]\n');
    expect(fromDist.status, fromDist.stdout).toBe(0);
    expect(fromDist.stdout).toMatch(/2 of 2 specs match/);

    // An edit to a source: the build is stale, so the sources run (and show the edit).
    appendFileSync(join(pkg, 'cli', 'main.ts'), "\nprocess.stderr.write('[from the sources]\\n');\n");
    const fromSrc = cli(['check', 'phil.json', join(user, 'pass.json'), '--no-save', '--quiet', '--workers', '2']);
    expect(fromSrc.stderr).toBe('[from the sources]\n');
    expect(fromSrc.status, fromSrc.stdout).toBe(0);
    expect(fromSrc.stdout).toMatch(/2 of 2 specs match/);
    const forced = cli(['check', 'phil.json', '--no-save'], 'dist');
    expect(forced.status).toBe(2);
    expect(forced.stdout).toBe('');
    expect(forced.stderr).toMatch(/^interleave: INTERLEAVE_FROM=dist, but the build in .*dist is stale .*; run `npm run build` in /);

    // Rebuilt: the build runs again, with the edit compiled in.
    expect(spawnSync(process.execPath, [join(pkg, 'scripts', 'build.mjs')], { cwd: pkg, encoding: 'utf8' }).status).toBe(0);
    expect(JSON.parse(readFileSync(join(pkg, 'dist', 'BUILD.json'), 'utf8')).sourceDigest).toBe(sourceDigest(pkg));
    const rebuilt = cli(['list'], 'dist');
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(rebuilt.stderr).toBe('[from the sources]\n');
    expect(rebuilt.stdout).toMatch(/philosophers/);

    // The build's validators (compiled ahead of time from the schemas) report a bad spec exactly as ajv does at run time.
    writeFileSync(join(pkg, 'bad.json'), JSON.stringify({ model: 'philosophers', params: { n: 'four' }, expect: { status: 'pas' }, extra: 1 }));
    const bad = (from: string) => cli(['check', 'bad.json', '--no-save'], from);
    const [d, src] = [bad('dist'), bad('src')];
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/invalid spec:\n  \$: unknown field 'extra'.*\n  \$\.expect\.status: must be one of "pass", "violation", "incomplete"/);
    expect({ out: d.stdout, err: d.stderr }).toEqual({ out: src.stdout, err: src.stderr });
  });
});
