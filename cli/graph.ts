// `interleave graph`: a model's statechart as a Mermaid state diagram, one box per thread, with
// each transition labelled by its event and guard (with its params); asserting and progress states are
// marked. The same per-thread chart (threadCharts) feeds the HTML viewer's statechart.
import type { CompiledSystem } from '../explorer/compile/index.ts';

export interface ChartState {
  /** Dotted path of the leaf in its thread. */
  path: string;
  final: boolean;
  asserts: string[];
  progress: boolean;
}

export interface ChartEdge {
  from: string;
  /** Same as `from` for a targetless transition. */
  to: string;
  /** The event without its thread prefix. */
  event: string;
  /** The guard as written, with params: mutexFree(A). */
  guard?: string;
}

export interface ThreadChart {
  thread: string;
  initial: string;
  states: ChartState[];
  edges: ChartEdge[];
}

/** Each thread's leaves and transitions, deduplicated (a transition on an ancestor serves all its leaves). */
export function threadCharts(system: CompiledSystem): ThreadChart[] {
  return system.threads.map((t) => {
    const edges: ChartEdge[] = [];
    const seen = new Set<string>();
    t.leafPaths.forEach((path, leaf) => {
      for (const e of t.leafEvents[leaf]) {
        for (const tr of t.candidates[leaf][e]!) {
          const name = system.events[e];
          const edge: ChartEdge = {
            from: path,
            to: tr.target >= 0 ? t.leafPaths[tr.target] : path,
            event: name.startsWith(t.name + '.') ? name.slice(t.name.length + 1) : name,
            ...(tr.guardLabel ? { guard: tr.guardLabel } : {}),
          };
          const key = JSON.stringify(edge);
          if (!seen.has(key)) {
            seen.add(key);
            edges.push(edge);
          }
        }
      }
    });
    return {
      thread: t.name,
      initial: t.leafPaths[system.initialLeaves[t.index]],
      states: t.leafPaths.map((path, leaf) => ({ path, final: t.isFinal[leaf], asserts: t.asserts[leaf], progress: t.progressLeaf[leaf] })),
      edges,
    };
  });
}

/** A Mermaid id: letters, digits and underscores only, unique per (thread, path). */
export function mermaidId(thread: string, path: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, (c) => (c === '_' ? '__' : `_${c.charCodeAt(0).toString(16)}_`));
  return `${clean(thread)}___${clean(path)}`;
}

/**
 * Label text safe in Mermaid: every character outside a small safe set becomes an entity code (#59; for
 * ';'), which Mermaid decodes when it draws; a ';' or ':' left as is would end the statement.
 */
export function mermaidText(s: string): string {
  return s.replace(/[^A-Za-z0-9 _.,()[\]=+*/'-]/g, (c) => `#${c.codePointAt(0)};`).replace(/ {2,}/g, ' ').trim() || '#32;';
}

export function edgeLabel(e: ChartEdge): string {
  return e.guard ? `${e.event} [${e.guard}]` : e.event;
}

export function stateLabel(s: ChartState): string {
  const notes: string[] = [];
  if (s.asserts.length) notes.push(`assert ${s.asserts.join(', ')}`);
  if (s.progress) notes.push('progress');
  return notes.length ? `${s.path} (${notes.join('; ')})` : s.path;
}

export function renderMermaid(system: CompiledSystem, title: string): string {
  const lines: string[] = ['---', `title: ${JSON.stringify(title)}`, '---', 'stateDiagram-v2'];
  for (const c of threadCharts(system)) {
    const tid = mermaidId(c.thread, '');
    lines.push(`  state "${mermaidText(c.thread)}" as ${tid} {`);
    for (const s of c.states) lines.push(`    ${mermaidId(c.thread, s.path)} : ${mermaidText(stateLabel(s))}`);
    lines.push(`    [*] --> ${mermaidId(c.thread, c.initial)}`);
    for (const e of c.edges) lines.push(`    ${mermaidId(c.thread, e.from)} --> ${mermaidId(c.thread, e.to)} : ${mermaidText(edgeLabel(e))}`);
    for (const s of c.states) if (s.final) lines.push(`    ${mermaidId(c.thread, s.path)} --> [*]`);
    lines.push('  }');
  }
  return lines.join('\n');
}
