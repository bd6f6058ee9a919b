// The HTML viewer (`show TRACE --html FILE`, `check --html DIR`) in headless Chromium from Debian, driven
// by playwright-core: one browser for the file; every bundled counterexample is loaded, stepped through
// with the keyboard and by clicking, and checked for thread names, verdict, the state shown at each step,
// the statechart's active state, and the wait-for cycle or the lasso's loop. A trace whose context, state
// names and message hold markup shows it as text. Fails (never skips) when chromium is missing: .ci/run
// installs it.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml, scriptJson } from '../../cli/html.ts';
import { loadTraceModel } from '../../cli/trace-model.ts';
import { instantiate, resolveParams } from '../../explorer/index.ts';
import type { Trace } from '../../explorer/trace.ts';
import { holderText } from '../../explorer/scenario.ts';
import { runCli } from '../helpers/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'interleave-html-'));
const traces = readdirSync('counterexamples').filter((f) => f.endsWith('.json')).sort();
let context: BrowserContext;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => errors.push(e.message));
  // No network: any request but the page itself is a failure.
  await context.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : (errors.push(`request ${route.request().url()}`), route.abort())));
}, 60_000);

afterAll(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(file: string) {
  errors.length = 0;
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready="true"]');
}

/**
 * What the page shows at each step, walking with the arrow key from the first step to the last: one call
 * into the page per trace (the same keydown handler the keyboard reaches).
 */
const walk = (n: number) =>
  page.evaluate((n) => {
    const out = [];
    for (let i = 0; i <= n; i++) {
      if (i > 0) document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
      const cur = document.querySelector('#steps tr.current') as HTMLElement | null;
      const locs: Record<string, string> = {};
      document.querySelectorAll('#locations tr').forEach((tr) => (locs[tr.getAttribute('data-thread')!] = tr.querySelector('td')!.textContent!));
      out.push({
        step: Number(cur?.getAttribute('data-step')),
        locs,
        chartThread: (document.getElementById('chart-thread') as HTMLSelectElement).value,
        active: document.querySelector('#chart g.state.active')?.getAttribute('data-state') ?? null,
        changed: [...document.querySelectorAll('#context .changed[data-path]')].map((e) => e.getAttribute('data-path')),
      });
    }
    return out;
  }, n);

const currentStep = () => page.getAttribute('#steps tr.current', 'data-step').then(Number);

async function viewerFor(name: string): Promise<{ file: string; trace: Trace }> {
  const src = join('counterexamples', name);
  const trace = JSON.parse(readFileSync(src, 'utf8')) as Trace;
  const def = await loadTraceModel(trace, src);
  const system = instantiate(def, resolveParams(def, trace.params), trace.variant).system;
  const file = join(dir, name.replace(/\.json$/, '.html'));
  writeFileSync(file, renderHtml(trace, { system, replayCommand: `npx interleave replay ${src}` }));
  return { file, trace };
}

describe('HTML viewer in Chromium', () => {
  it('opens every bundled counterexample: threads, verdict, each step by keyboard, a click, the cycle or the loop', async () => {
    expect(traces.length).toBeGreaterThan(30);
    for (const name of traces) {
      const { file, trace } = await viewerFor(name);
      await open(file);
      const head = await page.$$eval('#steps thead th.thread', (ths) => ths.map((t) => t.textContent));
      expect(head, name).toEqual(trace.threads);
      const v = trace.violation;
      expect(await page.textContent('#verdict-kind'), name).toBe(`${v.kind.toUpperCase()}${v.name !== v.kind ? ` ${v.name}` : ''} after ${trace.steps.length} steps`);
      // End (the page opens there), Home with the real keyboard, then down through every step: locations,
      // the chart's active state and the changed values follow.
      expect(await currentStep()).toBe(trace.steps.length);
      await page.keyboard.press('Home');
      expect(await currentStep()).toBe(0);
      const seen = await walk(trace.steps.length);
      seen.forEach((s, i) => {
        const locations = i === 0 ? trace.initial.locations : trace.steps[i - 1].locations;
        expect(s.step, `${name} step ${i}`).toBe(i);
        expect(s.locs, `${name} step ${i}`).toEqual(locations);
        expect(s.active, `${name} step ${i}`).toBe(locations[s.chartThread]);
        if (i > 0) {
          expect(s.chartThread).toBe(trace.steps[i - 1].threads[0]);
          const leafChanges = trace.steps[i - 1].changes.filter((c) => c.to === null || typeof c.to !== 'object').map((c) => c.path);
          for (const p of leafChanges) expect(s.changed, `${name} step ${i}`).toContain(p);
        }
      });
      // Clicking each row, last to first, selects it and shows its locations.
      const clicked = await page.evaluate(() =>
        [...document.querySelectorAll('#steps tbody tr')].reverse().map((tr) => {
          (tr as HTMLElement).click();
          const cur = document.querySelector('#steps tr.current')!;
          return [Number(tr.getAttribute('data-step')), Number(cur.getAttribute('data-step')), document.getElementById('cur-step')!.textContent];
        }),
      );
      for (const [row, cur, label] of clicked) {
        expect(cur, name).toBe(row);
        expect(label, name).toBe(row === 0 ? 'initial state' : `after step ${row}`);
      }
      await page.click('#steps tr[data-step="1"]');
      expect(await currentStep()).toBe(1);
      if (trace.deadlock?.cycle?.length) {
        const cycle = trace.deadlock.cycle;
        expect(await page.$$eval('#cycle li.cycle-edge', (l) => l.map((x) => x.textContent)), name).toEqual(cycle.map((e) => `${e.thread} waits for ${e.resource}${e.act ? ': ' : ' '}${holderText(e)}`));
        const marked = await page.$$eval('#steps thead th.in-cycle', (l) => l.map((x) => x.textContent));
        expect(new Set(marked), name).toEqual(new Set(cycle.map((e) => e.thread)));
        expect(await page.textContent('#scenario'), name).toContain('*** DEADLOCK ***');
      }
      if (trace.loopStart !== undefined) {
        const loop = await page.$$eval('#steps tr.loop', (l) => l.map((x) => Number(x.getAttribute('data-step'))));
        expect(loop, name).toEqual(trace.steps.slice(trace.loopStart - 1).map((s) => s.step));
        expect(await page.getAttribute('#steps tr.loop-start', 'data-step')).toBe(String(trace.loopStart));
      }
      expect(errors, name).toEqual([]);
    }
  }, 300_000);

  it('names a blocked wait once when its mode already is the call of its kind, as show does (waitKindText)', async () => {
    const base = JSON.parse(readFileSync('counterexamples/abba-abba.json', 'utf8')) as Trace;
    const t: Trace = JSON.parse(JSON.stringify(base));
    t.deadlock!.blocked[0].waits = [{ resource: 'inode I_NEW', kind: 'wait_event', mode: 'wait_event(!inode.i_new)', holders: ['task1'] }];
    const file = join(dir, 'wait-event.html');
    writeFileSync(file, renderHtml(t, { replayCommand: 'x' }));
    await open(file);
    const items = await page.$$eval('#blocked li', (l) => l.map((x) => x.textContent));
    expect(items[0]).toBe(`${t.deadlock!.blocked[0].thread} at ${t.deadlock!.blocked[0].state}: waits for inode I_NEW (wait_event(!inode.i_new)), held by task1`);
    // a holder that must act (a completion, a wake-up) is said as show says it: "task1 must wake_up"
    t.deadlock!.blocked[0].waits = [{ resource: 'inode I_NEW', kind: 'wait_event', mode: 'wait_event(!inode.i_new)', holders: ['task1'], act: 'wake_up' }];
    writeFileSync(file, renderHtml(t, { replayCommand: 'x' }));
    await open(file);
    expect((await page.$$eval('#blocked li', (l) => l.map((x) => x.textContent)))[0]).toBe(
      `${t.deadlock!.blocked[0].thread} at ${t.deadlock!.blocked[0].state}: waits for inode I_NEW (wait_event(!inode.i_new)), task1 must wake_up`,
    );
    expect(items[1]).toContain('(mutex lock)');
    expect(errors).toEqual([]);
  });

  it('shows a holder that is only queued ahead (an rwsem writer ahead of a reader) as queued behind, as show does', async () => {
    const base = JSON.parse(readFileSync('counterexamples/abba-abba.json', 'utf8')) as Trace;
    const t: Trace = JSON.parse(JSON.stringify(base));
    const [b0] = t.deadlock!.blocked;
    b0.waits = [{ ...b0.waits[0], queued: true }];
    t.deadlock!.cycle![0] = { ...t.deadlock!.cycle![0], queued: true };
    const file = join(dir, 'queued.html');
    writeFileSync(file, renderHtml(t, { replayCommand: 'x' }));
    await open(file);
    const e0 = t.deadlock!.cycle![0];
    expect(await page.$$eval('#cycle li.cycle-edge', (l) => l.map((x) => x.textContent))).toEqual(
      t.deadlock!.cycle!.map((e) => `${e.thread} waits for ${e.resource} ${e === e0 ? 'queued behind' : 'held by'} ${e.heldBy}`),
    );
    expect((await page.$$eval('#blocked li', (l) => l.map((x) => x.textContent)))[0]).toContain(`, queued behind ${b0.waits[0].holders.join(', ')}`);
    expect(errors).toEqual([]);
  });

  it('names the holders of a semaphore or a bit with their holdVerb (taken by, set by), as show does', async () => {
    const base = JSON.parse(readFileSync('counterexamples/abba-abba.json', 'utf8')) as Trace;
    const t: Trace = JSON.parse(JSON.stringify(base));
    const [b0] = t.deadlock!.blocked;
    b0.waits = [{ ...b0.waits[0], holdVerb: 'taken' }];
    t.deadlock!.cycle![0] = { ...t.deadlock!.cycle![0], holdVerb: 'taken' };
    const file = join(dir, 'taken.html');
    writeFileSync(file, renderHtml(t, { replayCommand: 'x' }));
    await open(file);
    const e0 = t.deadlock!.cycle![0];
    expect(await page.$$eval('#cycle li.cycle-edge', (l) => l.map((x) => x.textContent))).toEqual(
      t.deadlock!.cycle!.map((e) => `${e.thread} waits for ${e.resource} ${e === e0 ? 'taken by' : 'held by'} ${e.heldBy}`),
    );
    expect((await page.$$eval('#blocked li', (l) => l.map((x) => x.textContent)))[0]).toContain(`, ${holderText(b0.waits[0])}`);
    expect(holderText(b0.waits[0])).toBe(`taken by ${b0.waits[0].holders.join(', ')}`);
    expect(errors).toEqual([]);
  });

  it('without a wait-for cycle, names a holder that has finished, as show does (noCycleText)', async () => {
    const base = JSON.parse(readFileSync('counterexamples/abba-abba.json', 'utf8')) as Trace;
    const t: Trace = JSON.parse(JSON.stringify(base));
    t.deadlock = { blocked: [{ thread: 'task0', state: 'holdsFirst', waits: [{ resource: 'j_wait_updates', kind: 'waitqueue', holders: ['task1'], act: 'wake_up' }] }], cycle: null };
    const file = join(dir, 'finished.html');
    writeFileSync(file, renderHtml(t, { replayCommand: 'x' }));
    await open(file);
    expect(await page.textContent('#no-cycle')).toBe(
      'No wait-for cycle among the blocked threads: task0 waits for j_wait_updates from task1, which has finished (a wake_up() it did before task0 waited was lost, or it never does one).',
    );
    expect(errors).toEqual([]);
  });

  it('shows markup in the context, state names, thread names and messages as text', async () => {
    const base = JSON.parse(readFileSync('counterexamples/abba-abba.json', 'utf8')) as Trace;
    const img = '<img src=x onerror="window.__pwned=1">';
    const evil: Trace = JSON.parse(JSON.stringify(base).replaceAll('holdsFirst', '<b onclick=x>held</b><script>window.__pwned=2</script>'));
    (evil.initial.context as any).owner.A = img;
    evil.steps[0].changes = [{ path: 'owner.A', from: img, to: 'task0' }];
    evil.violation.message = '</script><script>window.__pwned=3</script>';
    const file = join(dir, 'evil.html');
    writeFileSync(file, renderHtml(evil, { chartError: `<img src=y onerror="window.__pwned=4">`, replayCommand: 'x' }));
    await open(file);
    expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
    expect(await page.$$eval('img, b, #left script, #right script', (l) => l.length)).toBe(0);
    await page.keyboard.press('Home');
    expect(await page.textContent('#context')).toContain(JSON.stringify(img));
    expect(await page.textContent('#verdict-message')).toBe('</script><script>window.__pwned=3</script>');
    expect(await page.textContent('#steps tbody')).toContain('<b onclick=x>held</b>');
    expect(await page.textContent('#chart')).toContain('<img src=y');
    expect(errors).toEqual([]);
    expect(scriptJson({ s: '</script>' })).toBe('{"s":"\\u003c/script\\u003e"}');
  });
});

describe('check --html and show --html', () => {
  it('check --html DIR writes one viewer per counterexample', async () => {
    const out = join(dir, 'pages');
    const r = await runCli(['check', 'specs/abba-abba.json', 'specs/abba-ordered.json', '--html', out, '--out', join(dir, 'cx'), '--quiet']);
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toEqual(['abba-abba.html']);
    expect(readFileSync(join(out, 'abba-abba.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('show --html into a directory is bad input (exit 2) and writes nothing', async () => {
    const target = join(dir, 'a-dir');
    mkdirSync(target);
    const r = await runCli(['show', 'counterexamples/abba-abba.json', '--html', target]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--html ${target}: cannot write it (EISDIR)`);
    expect(readdirSync(target)).toEqual([]);
  });
});
