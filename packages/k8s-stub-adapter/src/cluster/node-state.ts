import type { IPod } from './cluster-types.js';

export interface NodeState {
  readonly name: string;
  lostAt: number | null;
}

export function newNodes(names: readonly string[]): NodeState[] {
  return names.map((name) => ({ name, lostAt: null }));
}

export function nodeOf(nodes: readonly NodeState[], pod: IPod): NodeState | undefined {
  return nodes.find((n) => n.name === pod.spec?.nodeName);
}
