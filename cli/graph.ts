// `interleave graph`: a model's statechart as a Mermaid state diagram, one box per thread, with
// each transition labelled by its event and guard; asserting and progress states are marked.
import type { CompiledSystem } from '../explorer/compile.ts';

function id(thread: string, path: string): string {
  return `${thread}__${path.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export function renderMermaid(system: CompiledSystem, title: string): string {
  const lines: string[] = ['---', `title: ${title}`, '---', 'stateDiagram-v2'];
  for (const t of system.threads) {
    lines.push(`  state ${t.name} {`);
    t.leafPaths.forEach((path, leaf) => {
      const notes: string[] = [];
      if (t.asserts[leaf].length) notes.push(`assert ${t.asserts[leaf].join(', ')}`);
      if (t.progressLeaf[leaf]) notes.push('progress');
      const label = notes.length ? `${path} (${notes.join('; ')})` : path;
      lines.push(`    ${id(t.name, path)} : ${label}`);
    });
    const init = t.leafPaths[system.initialLeaves[t.index]];
    lines.push(`    [*] --> ${id(t.name, init)}`);
    const seen = new Set<string>();
    t.leafPaths.forEach((path, leaf) => {
      for (const e of t.leafEvents[leaf]) {
        for (const tr of t.candidates[leaf][e]!) {
          const to = tr.target >= 0 ? t.leafPaths[tr.target] : path;
          const ev = system.events[e].startsWith(t.name + '.') ? system.events[e].slice(t.name.length + 1) : system.events[e];
          const label = tr.guardLabel ? `${ev} [${tr.guardLabel}]` : ev;
          const line = `    ${id(t.name, path)} --> ${id(t.name, to)} : ${label.replace(/[:;]/g, ' ')}`;
          if (!seen.has(line)) {
            seen.add(line);
            lines.push(line);
          }
        }
      }
      if (t.isFinal[leaf]) lines.push(`    ${id(t.name, path)} --> [*]`);
    });
    lines.push('  }');
  }
  return lines.join('\n');
}
