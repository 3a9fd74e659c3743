import type { Schemas } from '../api/client';

type Graph = Schemas['LineageGraphDto'];
type Node = Schemas['LineageNodeDto'];

const nodeWidth = 170, nodeHeight = 44, columnGap = 70, rowGap = 18;

/** Columns by distance from the root along the edges: upstream to the left, downstream to the right. */
export function layout(graph: Graph): Map<string, { x: number; y: number; depth: number }> {
  const depth = new Map<string, number>([[graph.root, 0]]);
  const queue = [graph.root];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    const d = depth.get(id) as number;
    for (const e of graph.edges) {
      if (e.from === id && !depth.has(e.to)) { depth.set(e.to, d + 1); queue.push(e.to); }
      if (e.to === id && !depth.has(e.from)) { depth.set(e.from, d - 1); queue.push(e.from); }
    }
  }
  const min = Math.min(0, ...depth.values());
  const rows = new Map<number, number>();
  const positions = new Map<string, { x: number; y: number; depth: number }>();
  const ordered = [...graph.nodes].sort((a, b) => a.dataset.localeCompare(b.dataset) || a.number - b.number);
  for (const node of ordered) {
    const d = depth.get(node.versionId) ?? 0;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    positions.set(node.versionId, { x: (d - min) * (nodeWidth + columnGap) + 8, y: row * (nodeHeight + rowGap) + 8, depth: d });
  }
  return positions;
}

/** Versions as boxes and the runs that connect them as dots on the arrows; a click on a version opens it. */
export function LineageGraph({ graph, onOpen }: { graph: Graph; onOpen: (node: Node) => void }) {
  const at = layout(graph);
  if (graph.edges.length === 0) return <p className="muted">No lineage: this version was neither made from nor used for another version.</p>;
  const width = Math.max(...[...at.values()].map(p => p.x)) + nodeWidth + 16;
  const height = Math.max(...[...at.values()].map(p => p.y)) + nodeHeight + 16;
  return (
    <svg role="img" aria-label="Lineage" className="lineage" width={width} height={height}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#8a90a0" />
        </marker>
      </defs>
      {graph.edges.map((e, i) => {
        const a = at.get(e.from), b = at.get(e.to);
        if (!a || !b) return null;
        const x1 = a.x + nodeWidth, y1 = a.y + nodeHeight / 2, x2 = b.x, y2 = b.y + nodeHeight / 2;
        return (
          <g key={i} data-testid="lineage-edge">
            <line x1={x1} y1={y1} x2={x2} y2={y2} stroke="#8a90a0" markerEnd="url(#arrow)" />
            {e.runId && (
              <circle cx={(x1 + x2) / 2} cy={(y1 + y2) / 2} r={6} fill="#f58231" data-testid="lineage-run">
                <title>{`${e.kind} run ${e.runId}`}</title>
              </circle>
            )}
          </g>
        );
      })}
      {graph.nodes.map(n => {
        const p = at.get(n.versionId);
        if (!p) return null;
        const root = n.versionId === graph.root;
        return (
          <g key={n.versionId} transform={`translate(${p.x}, ${p.y})`} className="lineage-node" data-testid="lineage-node" role="link" tabIndex={0}
            aria-label={`${n.dataset} v${n.number}`} onClick={() => onOpen(n)} onKeyDown={k => { if (k.key === 'Enter') onOpen(n); }} style={{ cursor: 'pointer' }}>
            <rect width={nodeWidth} height={nodeHeight} rx={6} fill={root ? '#2451c5' : '#fff'} stroke="#2451c5" />
            <text x={10} y={18} fill={root ? '#fff' : '#1d1d1f'} fontWeight={600}>{`${n.dataset} v${n.number}`}</text>
            <text x={10} y={35} fill={root ? '#dfe7ff' : '#777'} fontSize={11}>{`${n.sourceKind} · ${new Date(n.createdAt).toLocaleDateString()}`}</text>
          </g>
        );
      })}
    </svg>
  );
}

/**
 * Adds the root's place in its own dataset's history, which lineage edges do not record: the version it was
 * committed on top of, and the versions committed on top of it.
 */
export function withHistory(graph: Graph, versions: Schemas['VersionDto'][]): Graph {
  const root = graph.nodes.find(n => n.versionId === graph.root);
  const self = versions.find(v => v.id === graph.root);
  if (!root || !self) return graph;
  const node = (v: Schemas['VersionDto']): Node => ({ ...root, versionId: v.id, number: v.number, sourceKind: v.sourceKind, createdAt: v.createdAt });
  const nodes = [...graph.nodes], edges = [...graph.edges];
  const link = (from: Schemas['VersionDto'], to: Schemas['VersionDto']) => {
    for (const v of [from, to]) if (!nodes.some(n => n.versionId === v.id)) nodes.push(node(v));
    if (!edges.some(e => e.from === from.id && e.to === to.id)) edges.push({ from: from.id, to: to.id, kind: 'parent', runId: null });
  };
  const parent = versions.find(v => v.id === self.parentId);
  if (parent) link(parent, self);
  for (const child of versions.filter(v => v.parentId === self.id)) link(self, child);
  return { ...graph, nodes, edges };
}
