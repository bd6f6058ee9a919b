// State-node helpers shared by the build-time modules: names, ancestry (as XState's own helpers).
import type { StateNode } from './types.ts';

export function nodePath(node: StateNode): string {
  return node.path.length ? node.path.join('.') : '(root)';
}

export function isDescendant(child: StateNode, parent: StateNode): boolean {
  let m = child;
  while (m.parent && m.parent !== parent) m = m.parent;
  return m.parent === parent;
}

export function properAncestors(node: StateNode, upTo: StateNode | undefined): StateNode[] {
  const out: StateNode[] = [];
  // As XState's getProperAncestors: none when the node is the bound itself (a self-targeting transition).
  if (node === upTo) return out;
  let m = node.parent;
  while (m && m !== upTo) {
    out.push(m);
    m = m.parent;
  }
  return out;
}
