// `show TRACE --html FILE` and `check --html DIR`: a counterexample as one self-contained HTML page (inline
// script and style, no network) to attach to a bug or a patch review. The trace travels as a JSON data
// block; the page's script (./viewer/page.js) builds the view with DOM calls and puts every piece of model
// text in as text, so a context string holding markup stays text.
import { readFileSync } from 'node:fs';
import type { CompiledSystem } from '../explorer/compile/index.ts';
import type { Plain } from '../explorer/model.ts';
import type { Trace } from '../explorer/trace.ts';
import { threadCharts, type ThreadChart } from './graph.ts';
import { contextsOf } from './itf.ts';
import { VIEWER_GENERATOR } from './targets.ts';
import { renderScenario } from '../explorer/waitfor.ts';

const asset = (name: string) => readFileSync(new URL(`./viewer/${name}`, import.meta.url), 'utf8');

export interface HtmlOptions {
  /** The compiled model, for the statecharts; without it the page says why there is none. */
  system?: CompiledSystem;
  /** Why the model could not be loaded (shown instead of the statecharts). */
  chartError?: string;
  replayCommand: string;
  /** The trace's file, for errors. */
  source?: string;
}

interface PageData {
  trace: Trace;
  /** The full context before step 1 (index 0) and after each step. */
  contexts: Plain[];
  charts: ThreadChart[] | null;
  chartError?: string;
  scenario: string | null;
  replay: string;
}

/** JSON that is safe inside a <script> element: no '<', '>', '&' or line separators left as such. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function renderHtml(trace: Trace, o: HtmlOptions): string {
  const cycle = trace.deadlock?.cycle;
  const data: PageData = {
    trace,
    contexts: contextsOf(trace, o.source),
    charts: o.system ? threadCharts(o.system) : null,
    ...(o.chartError ? { chartError: o.chartError } : {}),
    scenario: cycle && cycle.length ? renderScenario(cycle) : null,
    replay: `Replay: ${o.replayCommand}`,
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
${VIEWER_GENERATOR}
<title>interleave counterexample</title>
<style>
${asset('page.css')}</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <div id="verdict"><span id="verdict-kind"></span><div id="verdict-message"></div></div>
</header>
<main>
  <section id="left">
    <table id="steps"><thead><tr></tr></thead><tbody></tbody></table>
    <p id="loop-note"></p>
    <section id="deadlock">
      <h2>Blocked threads</h2>
      <ul id="blocked"></ul>
      <h2>Wait-for cycle</h2>
      <ol id="cycle"></ol>
      <pre id="scenario"></pre>
    </section>
    <p id="replay"></p>
  </section>
  <aside id="right">
    <h2>State: <span id="cur-step"></span></h2>
    <div id="event"></div>
    <table id="locations"></table>
    <h3>Context</h3>
    <div id="context"></div>
    <h3>Statechart of <select id="chart-thread"></select></h3>
    <div id="chart"></div>
  </aside>
</main>
<footer>Keys: ↑/↓ or k/j previous/next step, Home/End first/last, ←/→ statechart of another thread. Click a step to see its state.</footer>
<script type="application/json" id="trace-data">${scriptJson(data)}</script>
<script>
${asset('page.js')}</script>
</body>
</html>
`;
}
