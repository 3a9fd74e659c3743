// The pipeline as a graph: inputs, steps and the output, in layers by longest path from an input, so every edge
// points right. Within a layer nodes follow the mean row of their parents (fewer crossings), then spec order.

export type DagNodeKind = 'input' | 'step' | 'output';
export interface DagNode { id: string; label: string; detail: string; kind: DagNodeKind }
export interface DagEdge { from: string; to: string; right: boolean }
export interface Dag { nodes: DagNode[]; edges: DagEdge[] }
export interface Placed { x: number; y: number; layer: number; row: number }

export const nodeWidth = 168, nodeHeight = 46, layerGap = 64, rowGap = 18;

type SpecStep = { name?: unknown; op?: unknown; input?: unknown; right?: unknown };
type Spec = { inputs?: Record<string, { dataset?: unknown; table?: unknown; version?: unknown; tag?: unknown } | null>; steps?: SpecStep[]; output?: unknown };

const text = (v: unknown): string | undefined => typeof v === 'string' && v ? v : undefined;
export const outputNodeId = '\u0000output';

/** Nodes and edges from a stored spec (inputs map, steps list with input/right, output step). */
export function dagFromSpec(spec: unknown): Dag {
  const s = (spec ?? {}) as Spec;
  const nodes: DagNode[] = [], edges: DagEdge[] = [];
  for (const [name, input] of Object.entries(s.inputs ?? {})) {
    const at = input?.version != null ? ` v${String(input.version)}` : input?.tag != null ? ` @${String(input.tag)}` : '';
    nodes.push({ id: name, label: name, detail: `${text(input?.dataset) ?? '?'}${at} · ${text(input?.table) ?? '?'}`, kind: 'input' });
  }
  let previous = nodes[0]?.id;
  for (const step of s.steps ?? []) {
    const name = text(step.name);
    if (!name) continue;
    nodes.push({ id: name, label: name, detail: text(step.op) ?? '?', kind: 'step' });
    const from = text(step.input) ?? previous;
    if (from) edges.push({ from, to: name, right: false });
    const right = text(step.right);
    if (right) edges.push({ from: right, to: name, right: true });
    previous = name;
  }
  const output = text(s.output) ?? previous;
  if (output) {
    nodes.push({ id: outputNodeId, label: 'output', detail: output, kind: 'output' });
    edges.push({ from: output, to: outputNodeId, right: false });
  }
  const known = new Set(nodes.map(n => n.id));
  return { nodes, edges: edges.filter(e => known.has(e.from) && known.has(e.to)) };
}

/** Layer = longest path from a source (a cycle, which validation refuses, is cut where it closes). */
export function layoutDag(dag: Dag): Map<string, Placed> {
  const parents = new Map<string, string[]>(dag.nodes.map(n => [n.id, []]));
  for (const e of dag.edges) parents.get(e.to)?.push(e.from);
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(-1, ...(parents.get(id) ?? []).map(depth)) + 1;
    visiting.delete(id);
    layer.set(id, d);
    return d;
  };
  dag.nodes.forEach(n => depth(n.id));

  const order = new Map(dag.nodes.map((n, i) => [n.id, i]));
  const rowOf = new Map<string, number>();
  const layers = Math.max(0, ...layer.values()) + 1;
  const placed = new Map<string, Placed>();
  for (let l = 0; l < layers; l++) {
    const members = dag.nodes.filter(n => layer.get(n.id) === l).map(n => {
      const rows = (parents.get(n.id) ?? []).map(p => rowOf.get(p)).filter((r): r is number => r !== undefined);
      return { id: n.id, weight: rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : -1 };
    });
    members.sort((a, b) => a.weight - b.weight || (order.get(a.id) as number) - (order.get(b.id) as number));
    members.forEach((m, row) => {
      rowOf.set(m.id, row);
      placed.set(m.id, { x: l * (nodeWidth + layerGap) + 8, y: row * (nodeHeight + rowGap) + 8, layer: l, row });
    });
  }
  return placed;
}
