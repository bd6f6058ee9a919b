// `interleave graph`: every bundled model's Mermaid diagram (each variant, default params) parses with the
// `mermaid` package's own parser (under jsdom), into exactly the states and transitions we emitted, with
// labels that decode to the event and guard text: no ';' or ':' in a name can end a statement or draw a
// stray state.
import { JSDOM } from 'jsdom';
import { beforeAll, describe, expect, it } from 'vitest';
import { instantiate, resolveParams } from '../../explorer/index.ts';
import { edgeLabel, mermaidId, mermaidText, renderMermaid, stateLabel, threadCharts } from '../../cli/graph.ts';
import { loadAllBundled } from '../../cli/models.ts';

let mermaid: any;

beforeAll(async () => {
  const dom = new JSDOM('<!doctype html><html><body></body></html>');
  (globalThis as any).window = dom.window;
  (globalThis as any).document = dom.window.document;
  mermaid = (await import('mermaid')).default;
  mermaid.initialize({ startOnLoad: false });
});

/** Mermaid keeps entity codes as placeholders until it draws; decode them as it would. */
function decode(s: string | string[] | undefined): string {
  const text = Array.isArray(s) ? s.join(' ') : (s ?? '');
  return text.replace(/ﬂ°°(\d+)¶ß/g, (_, n) => String.fromCodePoint(Number(n))).replace(/ﬂ°(\w+)¶ß/g, (_, n) => `&${n};`);
}

interface Parsed {
  states: Map<string, string>;
  relations: string[];
}

async function parse(text: string): Promise<Parsed> {
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const out: Parsed = { states: new Map(), relations: [] };
  const walk = (doc: any[]) => {
    for (const st of doc) {
      if (st.stmt === 'state') {
        if (!out.states.has(st.id) || st.description) out.states.set(st.id, decode(st.description));
        if (st.doc) walk(st.doc);
      } else if (st.stmt === 'relation') {
        for (const end of [st.state1, st.state2]) if (!out.states.has(end.id)) out.states.set(end.id, '');
        out.relations.push(`${st.state1.id} --> ${st.state2.id} : ${decode(st.description)}`);
      }
    }
  };
  walk(diagram.db.getRootDocV2().doc);
  return out;
}

describe('graph: Mermaid', () => {
  it('labels with ; : # < and quotes parse back to the same text, with no stray state', async () => {
    const label = 'ev; stray: x #1 <b>"q"</b> [g(A; B)]';
    const text = `stateDiagram-v2\n  a : ${mermaidText(label)}\n  a --> b : ${mermaidText(label)}`;
    const p = await parse(text);
    expect([...p.states.keys()].sort()).toEqual(['a', 'b']);
    expect(p.states.get('a')).toBe(label);
    expect(p.relations).toEqual([`a --> b : ${label}`]);
    // The unescaped label is what the issue saw: a ';' ends the statement and draws stray states.
    const bad = await parse(`stateDiagram-v2\n  a --> b : ${label}`);
    expect(bad.states.size).toBeGreaterThan(2);
  });

  it('every bundled model and variant parses into exactly the states and transitions we emitted', async () => {
    const models = await loadAllBundled();
    expect(models.length).toBeGreaterThan(5);
    for (const def of models) {
      for (const variant of Object.keys(def.variants)) {
        const system = instantiate(def, resolveParams(def, {}), variant).system;
        const where = `${def.name}/${variant}`;
        const p = await parse(renderMermaid(system, `${def.name} variant ${variant}`));
        const want = new Map<string, string>();
        const relations: string[] = [];
        for (const c of threadCharts(system)) {
          want.set(mermaidId(c.thread, ''), c.thread);
          for (const s of c.states) want.set(mermaidId(c.thread, s.path), stateLabel(s));
          for (const e of c.edges) relations.push(`${mermaidId(c.thread, e.from)} --> ${mermaidId(c.thread, e.to)} : ${edgeLabel(e)}`);
        }
        // Mermaid names a box's [*] pseudo-states BOX_start and BOX_end.
        const pseudo = new Set(threadCharts(system).flatMap((c) => ['_start', '_end'].map((x) => mermaidId(c.thread, '') + x)));
        const parsedOwn = new Map([...p.states].filter(([id]) => !pseudo.has(id)));
        expect(Object.fromEntries(parsedOwn), where).toEqual(Object.fromEntries(want));
        const parsedRel = p.relations.filter((r) => !r.split(' ').some((w) => pseudo.has(w)));
        expect(parsedRel.sort(), where).toEqual(relations.sort());
      }
    }
  }, 60_000);

  it("guards show their params: abba's mutexFree(A)/(B), and btrfs-send's three loop_top edges differ", async () => {
    const models = await loadAllBundled();
    const abba = models.find((m) => m.name === 'abba')!;
    const text = renderMermaid(instantiate(abba, {}, 'abba').system, 'abba');
    expect(text).toContain('lock_A [mutexFree(A)]');
    expect(text).toContain('lock_B [mutexFree(B)]');
    const btrfs = models.find((m) => m.name === 'btrfs-send')!;
    const send = threadCharts(instantiate(btrfs, resolveParams(btrfs, {}), 'merged').system).find((c) => c.thread === 'send')!;
    const loopTop = send.edges.filter((e) => e.from === 'loop_top').map(edgeLabel);
    expect(loopTop.filter((l) => l.includes('phase_is(')).length).toBeGreaterThanOrEqual(3);
    expect(new Set(loopTop).size).toBe(loopTop.length);
  });
});
