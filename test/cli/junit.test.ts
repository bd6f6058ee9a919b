// `check --junit FILE`: valid against schemas/junit.xsd (checked with xmllint --schema; the test fails
// when xmllint is missing: .ci/run installs libxml2-utils), with timestamp, hostname and time, the failure
// or error message in full, and the race diagram and the replay command in system-out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

describe('check --junit', () => {
  it('a pass, a mismatch with a counterexample and a bad spec: valid JUnit with everything in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interleave-junit-'));
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ model: 'abba', variant: 'abba', expect: { status: 'pass' } }));
    const file = join(dir, 'out.xml');
    const r = await runCli(['check', 'specs/abba-ordered.json', wrong, 'test/fixtures/specs-bad/malformed.json', '--junit', file, '--out', join(dir, 'cx'), '--quiet']);
    expect(r.code).toBe(2);
    const v = spawnSync('xmllint', ['--noout', '--schema', 'schemas/junit.xsd', file], { encoding: 'utf8' });
    expect(v.error, 'xmllint is missing: apt-get install -y libxml2-utils').toBeUndefined();
    expect(v.stderr).toContain('validates');
    expect(v.status).toBe(0);
    const xml = readFileSync(file, 'utf8');
    expect(xml).toMatch(/<testsuite name="interleave" tests="3" failures="1" errors="1" skipped="0" time="[\d.]+" timestamp="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d" hostname="[^"]+">/);
    expect(xml).toContain('<failure type="mismatch" message="expected pass, got violation (deadlock)">');
    // The race diagram and the replay command of the counterexample.
    expect(xml).toMatch(/<system-out>spec \S+wrong.json: verdict deadlock, expected pass\n[^]*step │ task0 +│ task1[^]*Replay: npx interleave replay \S+wrong.json<\/system-out>/);
    // The bad spec's error message in full: every line of it, in the attribute and the element.
    expect(xml).toMatch(/<error type="input" message="[^"]*malformed.json: invalid spec:&#10;/);
    expect(xml).toContain('malformed.json: invalid spec:\n  $');
  });

  it('a --junit path that is a directory is bad input (exit 2), checked before any run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interleave-junit-'));
    const r = await runCli(['check', 'specs/abba-ordered.json', '--junit', dir, '--no-save', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`option --junit ${dir}: it is a directory`);
  });
});
