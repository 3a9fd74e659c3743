import { type Dag, layoutDag, nodeHeight, nodeWidth } from './dag';

const fills = { input: '#eef6ee', step: '#fff', output: '#2451c5' } as const;

/** The DAG: inputs on the left, the output on the right; a join's right edge is dashed. A click on a step selects it. */
export function PipelineGraph({ dag, selected, onSelect }: { dag: Dag; selected?: string | null; onSelect: (step: string) => void }) {
  const at = layoutDag(dag);
  if (dag.nodes.length === 0) return <p className="muted">The pipeline has no inputs or steps.</p>;
  const width = Math.max(...[...at.values()].map(p => p.x)) + nodeWidth + 16;
  const height = Math.max(...[...at.values()].map(p => p.y)) + nodeHeight + 16;
  return (
    <svg role="img" aria-label="Pipeline graph" className="pipeline-graph" width={width} height={height}>
      <defs>
        <marker id="dag-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#8a90a0" />
        </marker>
      </defs>
      {dag.edges.map((e, i) => {
        const a = at.get(e.from), b = at.get(e.to);
        if (!a || !b) return null;
        const x1 = a.x + nodeWidth, y1 = a.y + nodeHeight / 2, x2 = b.x, y2 = b.y + nodeHeight / 2, mid = (x1 + x2) / 2;
        return (
          <path key={i} data-testid="dag-edge" data-edge={`${e.from}>${e.to}`} d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`}
            fill="none" stroke="#8a90a0" strokeDasharray={e.right ? '5 4' : undefined} markerEnd="url(#dag-arrow)" />
        );
      })}
      {dag.nodes.map(n => {
        const p = at.get(n.id);
        if (!p) return null;
        const isStep = n.kind === 'step', active = isStep && n.id === selected, dark = n.kind === 'output' || active;
        return (
          <g key={n.id} transform={`translate(${p.x}, ${p.y})`} data-testid="dag-node" data-kind={n.kind} data-layer={p.layer}
            {...(isStep ? { role: 'button', tabIndex: 0, 'aria-label': `Step ${n.label}`, 'aria-pressed': active,
              onClick: () => onSelect(n.id), onKeyDown: (k: React.KeyboardEvent) => { if (k.key === 'Enter' || k.key === ' ') onSelect(n.id); },
              style: { cursor: 'pointer' } } : { 'aria-label': `${n.kind} ${n.label}` })}>
            <rect width={nodeWidth} height={nodeHeight} rx={n.kind === 'input' ? 14 : 6} fill={active ? '#f58231' : fills[n.kind]}
              stroke={active ? '#c55f12' : '#2451c5'} />
            <text x={10} y={18} fill={dark ? '#fff' : '#1d1d1f'} fontWeight={600}>{n.label}</text>
            <text x={10} y={35} fill={dark ? '#e8edff' : '#777'} fontSize={11}>{n.detail.length > 26 ? `${n.detail.slice(0, 25)}…` : n.detail}</text>
            <title>{`${n.label}: ${n.detail}`}</title>
          </g>
        );
      })}
    </svg>
  );
}
