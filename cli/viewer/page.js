// The HTML trace viewer's script (inlined into the page by cli/html.ts). It reads the trace from the
// page's JSON data block and builds everything with DOM calls: every piece of model text (thread and
// state names, events, context strings, messages) goes in as textContent, never as markup.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('trace-data').textContent);
  const trace = data.trace;
  const steps = trace.steps;
  const threads = trace.threads;
  const SVG = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  const short = (event, t) => (event.indexOf(t + '.') === 0 ? event.slice(t.length + 1) : event);
  const fmt = (v) => (v === undefined ? '(none)' : JSON.stringify(v));
  const locationsAt = (i) => (i === 0 ? trace.initial.locations : steps[i - 1].locations);

  // Header: model, variant, params, spec; the verdict.
  const params = Object.keys(trace.params).map((k) => k + '=' + trace.params[k]).join(' ');
  document.getElementById('title').textContent =
    trace.model + ' · variant ' + trace.variant + (params ? ' · ' + params : '') + (trace.spec ? ' · spec ' + trace.spec : '');
  document.title = 'interleave: ' + trace.model + ' ' + trace.violation.kind;
  const v = trace.violation;
  document.getElementById('verdict-kind').textContent =
    v.kind.toUpperCase() + (v.name && v.name !== v.kind ? ' ' + v.name : '') + ' after ' + steps.length + ' steps';
  document.getElementById('verdict-message').textContent = v.message;
  document.getElementById('replay').textContent = data.replay;

  // Who is in the wait-for cycle, or in the lasso's loop.
  const cycle = trace.deadlock && trace.deadlock.cycle ? trace.deadlock.cycle : null;
  const inCycle = new Set(cycle ? cycle.map((e) => e.thread) : []);
  const loopStart = trace.loopStart;

  // The step table: a column per thread, a row per step (row 0: the initial state).
  const headRow = document.querySelector('#steps thead tr');
  headRow.appendChild(el('th', { class: 'step' }, 'step'));
  for (const t of threads) {
    const moved = steps.some((s) => s.threads.indexOf(t) >= 0);
    const th = el('th', { class: 'thread' + (inCycle.has(t) ? ' in-cycle' : '') + (moved ? '' : ' idle'), 'data-thread': t }, t);
    headRow.appendChild(th);
  }
  headRow.appendChild(el('th', { class: 'changes' }, 'changes'));
  const body = document.querySelector('#steps tbody');
  const rows = [];
  for (let i = 0; i <= steps.length; i++) {
    const s = i === 0 ? null : steps[i - 1];
    const inLoop = loopStart !== undefined && i >= loopStart;
    const tr = el('tr', {
      'data-step': i,
      class: 'row' + (inLoop ? ' loop' : '') + (i === loopStart ? ' loop-start' : '') + (s && s.progress ? ' progress' : ''),
      tabindex: '-1',
    });
    tr.appendChild(el('td', { class: 'step' }, (inLoop ? (i === loopStart ? '┌ ' : '│ ') : '') + (i === 0 ? '' : i)));
    for (const t of threads) {
      const td = el('td', { class: 'cell', 'data-thread': t });
      if (i === 0) td.textContent = trace.initial.locations[t] || '';
      else if (s.threads.indexOf(t) >= 0) {
        const from = s.from ? s.from[t] : undefined;
        const to = s.locations[t];
        td.textContent = short(s.event, t) + (from !== undefined && from === to ? ' (stays)' : ' → ' + to);
        td.classList.add('moved');
      }
      tr.appendChild(td);
    }
    const ch = el('td', { class: 'changes' });
    if (i === 0) ch.textContent = '(initial state)';
    else for (const c of s.changes) ch.appendChild(el('div', null, c.path + ': ' + fmt(c.from) + ' → ' + fmt(c.to)));
    tr.appendChild(ch);
    tr.addEventListener('click', () => select(i));
    body.appendChild(tr);
    rows.push(tr);
  }
  if (loopStart !== undefined) {
    document.getElementById('loop-note').textContent =
      'Steps ' + loopStart + '..' + steps.length + ' (marked ┌│) repeat forever: after step ' + steps.length +
      ' the state is the one before step ' + loopStart + '.';
  } else document.getElementById('loop-note').remove();

  // "held by X" (or "taken by X": holdVerb), "queued behind X" or "X must complete", as holderText in explorer/scenario.ts says it for show.
  function holderText(who, w) {
    return w.act ? who.join(', ') + ' must ' + w.act : (w.queued ? 'queued behind ' : (w.holdVerb || 'held') + ' by ') + who.join(', ');
  }

  // The deadlock: blocked threads, the wait-for cycle, the lockdep-style scenario.
  if (trace.deadlock) {
    const blocked = document.getElementById('blocked');
    for (const b of trace.deadlock.blocked) {
      if (b.waits.length === 0) blocked.appendChild(el('li', null, b.thread + ' at ' + b.state + ': no enabled step (no wait description in the model)'));
      for (const w of b.waits) {
        const holders = w.holders.length ? holderText(w.holders, w) : 'no holder recorded';
        blocked.appendChild(el('li', null, b.thread + ' at ' + b.state + ': waits for ' + w.resource + ' (' + (w.mode && w.mode.indexOf(w.kind + '(') === 0 ? w.mode : w.kind + (w.mode ? ' ' + w.mode : '')) + '), ' + holders));
      }
    }
    const list = document.getElementById('cycle');
    if (cycle && cycle.length) {
      for (const e of cycle) list.appendChild(el('li', { class: 'cycle-edge', 'data-thread': e.thread }, e.thread + ' waits for ' + e.resource + (e.act ? ': ' : ' ') + holderText([e.heldBy], e)));
      list.appendChild(el('li', { class: 'cycle-back' }, '→ back to ' + cycle[0].thread));
    } else {
      // As noCycleText in explorer/waitfor.ts.
      const undescribed = trace.deadlock.blocked.filter((b) => b.waits.length === 0).map((b) => b.thread);
      const live = new Set(trace.deadlock.blocked.map((b) => b.thread).concat((trace.deadlock.idle || []).map((i) => i.thread)));
      const gone = [];
      for (const b of trace.deadlock.blocked) {
        for (const w of b.waits) {
          for (const h of w.holders) {
            if (live.has(h)) continue;
            gone.push(b.thread + ' waits for ' + w.resource + ' ' + (w.act ? 'from' : w.queued ? 'queued behind' : (w.holdVerb || 'held') + ' by') + ' ' + h + ', which has finished (' +
              (w.act ? 'a ' + w.act + '() it did before ' + b.thread + ' waited was lost, or it never does one' : 'it finished holding it: nothing releases it') + ').');
          }
        }
      }
      const why = undescribed.length === 0
        ? 'No wait-for cycle among the blocked threads: ' + (gone.length ? gone.join(' ') : 'a thread waits for something nobody will release or signal.')
        : 'No wait-for cycle found: the model does not say what ' + undescribed.join(', ') + " wait for; a state with no transitions needs type: 'final' (or meta: { end: true }) to be a valid end, and a blocking guard a describer in the model's waits (waits: kernelWaits for the kernel's guards) or the state meta: { waitsFor: '...' }";
      list.replaceWith(el('p', { id: 'no-cycle' }, why));
    }
    const sc = document.getElementById('scenario');
    if (data.scenario) sc.textContent = data.scenario;
    else sc.remove();
  } else document.getElementById('deadlock').remove();

  // The state panel: locations, the context as a tree with this step's changes highlighted.
  function contextTree(value, path, changed) {
    const isObj = value !== null && typeof value === 'object';
    if (!isObj) {
      const span = el('span', { class: 'value' + (changed.has(path) ? ' changed' : ''), 'data-path': path }, JSON.stringify(value));
      return span;
    }
    const ul = el('ul', { class: 'tree' });
    const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value).sort();
    if (keys.length === 0) {
      return el('span', { class: 'value' + (changed.has(path) ? ' changed' : ''), 'data-path': path }, Array.isArray(value) ? '[]' : '{}');
    }
    for (const k of keys) {
      // as explorer/trace.ts keyPath names a record key: ["key"] when it holds a dot, a bracket or a quote
      const p = Array.isArray(value) ? path + '[' + k + ']' : k !== '' && !/[.[\]"]/.test(k) ? (path ? path + '.' + k : String(k)) : path + '[' + JSON.stringify(k) + ']';
      const li = el('li', { 'data-path': p });
      const mark = changed.has(p) || [...changed].some((c) => c.indexOf(p + '.') === 0 || c.indexOf(p + '[') === 0);
      li.appendChild(el('span', { class: 'key' + (mark ? ' changed' : '') }, (Array.isArray(value) ? '[' + k + ']' : k) + ': '));
      li.appendChild(contextTree(value[k], p, changed));
      ul.appendChild(li);
    }
    return ul;
  }

  // The statechart of one thread, laid out in layers by distance from its initial state, drawn as SVG.
  const charts = {};
  for (const c of data.charts || []) charts[c.thread] = c;
  const chartSelect = document.getElementById('chart-thread');
  for (const t of threads) if (charts[t]) chartSelect.appendChild(el('option', { value: t }, t));
  if (!data.charts) document.getElementById('chart').textContent = 'Statechart not available: ' + (data.chartError || 'the model could not be loaded');
  let chartThread = threads.find((t) => charts[t] && steps.some((s) => s.threads.indexOf(t) >= 0)) || threads[0];

  // Each thread's chart is laid out once; moving to another step only moves the highlight.
  const drawn = {};
  let shownChart = null;
  function drawChart(thread, active) {
    const box = document.getElementById('chart');
    const c = charts[thread];
    if (!c) return;
    if (!drawn[thread]) drawn[thread] = layoutChart(c);
    const d = drawn[thread];
    if (shownChart !== thread) {
      box.textContent = '';
      box.appendChild(d.root);
      shownChart = thread;
    }
    if (d.active !== active) {
      if (d.active !== undefined && d.groups[d.active]) d.groups[d.active].classList.remove('active');
      if (d.groups[active]) d.groups[active].classList.add('active');
      d.active = active;
    }
  }

  function layoutChart(c) {
    const groups = {};
    const layer = {};
    layer[c.initial] = 0;
    const queue = [c.initial];
    while (queue.length) {
      const s = queue.shift();
      for (const e of c.edges) if (e.from === s && layer[e.to] === undefined) (layer[e.to] = layer[s] + 1), queue.push(e.to);
    }
    let deepest = Math.max(0, ...Object.values(layer));
    for (const s of c.states) if (layer[s.path] === undefined) layer[s.path] = ++deepest; // unreachable in the chart
    const byLayer = [];
    for (const s of c.states) (byLayer[layer[s.path]] = byLayer[layer[s.path]] || []).push(s);
    const CH = 7.2, H = 26, GAPY = 56, GAPX = 24;
    const pos = {};
    let width = 0;
    byLayer.forEach((ls, li) => {
      let x = 10;
      for (const s of ls) {
        const w = Math.max(60, s.path.length * CH + 16);
        pos[s.path] = { x: x, y: 10 + li * (H + GAPY), w: w };
        x += w + GAPX;
      }
      width = Math.max(width, x);
    });
    const height = 10 + byLayer.length * (H + GAPY);
    const root = svg('svg', { width: width + 160, height: height, viewBox: '0 0 ' + (width + 160) + ' ' + height, role: 'img' });
    const defs = svg('defs');
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
    defs.appendChild(marker);
    root.appendChild(defs);
    c.edges.forEach((e, k) => {
      const a = pos[e.from], b = pos[e.to];
      const label = e.event + (e.guard ? ' [' + e.guard + ']' : '');
      const g = svg('g', { class: 'edge' });
      let d, lx, ly;
      if (e.from === e.to) {
        d = 'M ' + (a.x + a.w) + ' ' + (a.y + 8) + ' c 30 -18 30 28 0 10';
        lx = a.x + a.w + 30; ly = a.y + 8;
      } else {
        const x1 = a.x + a.w / 2, y1 = a.y + H, x2 = b.x + b.w / 2, y2 = b.y;
        if (b.y > a.y) d = 'M ' + x1 + ' ' + y1 + ' L ' + x2 + ' ' + y2;
        else {
          // Back or sideways edges curve to the right.
          const bend = Math.max(a.x + a.w, b.x + b.w) + 40 + (k % 4) * 12;
          d = 'M ' + (a.x + a.w) + ' ' + (a.y + H / 2) + ' C ' + bend + ' ' + (a.y + H / 2) + ' ' + bend + ' ' + (b.y + H / 2) + ' ' + (b.x + b.w) + ' ' + (b.y + H / 2);
        }
        lx = (x1 + x2) / 2 + 4; ly = (y1 + y2) / 2 + (k % 3) * 11 - 6;
        if (b.y <= a.y) lx = Math.max(a.x + a.w, b.x + b.w) + 44;
      }
      g.appendChild(svg('path', { d: d, 'marker-end': 'url(#arrow)' }));
      g.appendChild(svg('text', { x: lx, y: ly, class: 'edge-label' }, label));
      root.appendChild(g);
    });
    for (const s of c.states) {
      const p = pos[s.path];
      const g = svg('g', { class: 'state' + (s.final ? ' final' : ''), 'data-state': s.path });
      groups[s.path] = g;
      g.appendChild(svg('rect', { x: p.x, y: p.y, width: p.w, height: H, rx: 6 }));
      g.appendChild(svg('text', { x: p.x + 8, y: p.y + 17 }, s.path));
      if (s.asserts.length || s.progress) g.appendChild(svg('title', null, (s.asserts.length ? 'assert ' + s.asserts.join(', ') : '') + (s.progress ? ' progress' : '')));
      root.appendChild(g);
    }
    return { root: root, groups: groups, active: undefined };
  }

  let current = 0;
  function select(i) {
    rows[current].classList.remove('current');
    current = Math.max(0, Math.min(steps.length, i));
    rows[current].classList.add('current');
    rows[current].scrollIntoView({ block: 'nearest' });
    const s = current === 0 ? null : steps[current - 1];
    document.getElementById('cur-step').textContent = current === 0 ? 'initial state' : 'after step ' + current;
    document.getElementById('event').textContent = s ? s.event + ' (' + s.threads.join(', ') + ')' : '';
    const loc = locationsAt(current);
    const table = document.getElementById('locations');
    table.textContent = '';
    for (const t of threads) {
      const tr = el('tr', { 'data-thread': t, class: (s && s.threads.indexOf(t) >= 0 ? 'moved' : '') + (inCycle.has(t) ? ' in-cycle' : '') });
      tr.appendChild(el('th', null, t));
      tr.appendChild(el('td', null, loc[t]));
      table.appendChild(tr);
    }
    const changed = new Set(s ? s.changes.map((c) => c.path) : []);
    const ctx = document.getElementById('context');
    ctx.textContent = '';
    ctx.appendChild(contextTree(data.contexts[current], '', changed));
    // Entries this step removed have no place in the tree: listed under it.
    const removed = s ? s.changes.filter((c) => c.to === undefined) : [];
    if (removed.length) {
      const ul = el('ul', { id: 'removed' });
      for (const c of removed) ul.appendChild(el('li', { class: 'changed', 'data-path': c.path }, 'removed ' + c.path + ' (was ' + fmt(c.from) + ')'));
      ctx.appendChild(ul);
    }
    if (s && s.threads.length && charts[s.threads[0]]) chartThread = s.threads[0];
    chartSelect.value = chartThread;
    drawChart(chartThread, loc[chartThread]);
  }
  chartSelect.addEventListener('change', () => {
    chartThread = chartSelect.value;
    drawChart(chartThread, locationsAt(current)[chartThread]);
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.target && ev.target.tagName === 'SELECT') return;
    const k = ev.key;
    if (k === 'ArrowDown' || k === 'j') select(current + 1);
    else if (k === 'ArrowUp' || k === 'k') select(current - 1);
    else if (k === 'Home') select(0);
    else if (k === 'End') select(steps.length);
    else if (k === 'ArrowRight' || k === 'ArrowLeft') {
      const list = threads.filter((t) => charts[t]);
      if (!list.length) return;
      const at = list.indexOf(chartThread);
      chartThread = list[(at + (k === 'ArrowRight' ? 1 : list.length - 1)) % list.length];
      chartSelect.value = chartThread;
      drawChart(chartThread, locationsAt(current)[chartThread]);
    } else return;
    ev.preventDefault();
  });
  select(steps.length);
  document.body.setAttribute('data-ready', 'true');
})();
