import { fireEvent, render, screen } from '@testing-library/react';
import type { Schemas } from '../api/client';
import { layout, LineageGraph, withHistory } from './LineageGraph';

const node = (id: string, dataset: string, number: number): Schemas['LineageNodeDto'] =>
  ({ versionId: id, datasetId: `d-${dataset}`, dataset, projectId: 'p', number, sourceKind: 'upload', createdAt: '2026-12-01T10:00:00Z' });
const graph: Schemas['LineageGraphDto'] = {
  root: 'feat1',
  nodes: [node('raw3', 'raw', 3), node('feat1', 'features', 1), node('model1', 'scores', 1)],
  edges: [{ from: 'raw3', to: 'feat1', kind: 'derived', runId: 'run-a' }, { from: 'feat1', to: 'model1', kind: 'derived', runId: null }],
};

describe('LineageGraph', () => {
  it('puts upstream versions left of the root and downstream ones right of it', () => {
    const at = layout(graph);
    expect([at.get('raw3')?.depth, at.get('feat1')?.depth, at.get('model1')?.depth]).toEqual([-1, 0, 1]);
    expect((at.get('raw3')?.x ?? 0) < (at.get('feat1')?.x ?? 0) && (at.get('feat1')?.x ?? 0) < (at.get('model1')?.x ?? 0)).toBe(true);
  });

  it('draws versions, edges and runs, and opens a version on click', () => {
    const open = vi.fn();
    render(<LineageGraph graph={graph} onOpen={open} />);
    expect(screen.getAllByTestId('lineage-edge')).toHaveLength(2);
    expect(screen.getAllByTestId('lineage-run').map(r => r.textContent)).toEqual(['derived run run-a']);
    fireEvent.click(screen.getByLabelText('raw v3'));
    expect(open).toHaveBeenCalledWith(expect.objectContaining({ versionId: 'raw3', dataset: 'raw', number: 3 }));
  });

  it('adds the parent and child versions of the root from the dataset history', () => {
    const version = (id: string, number: number, parentId: string | null): Schemas['VersionDto'] => ({
      id, number, parentId, message: '', authorId: 'u', createdAt: '2026-12-01T10:00:00Z', fileCount: 1, totalBytes: 1, sourceKind: 'upload', source: null, tags: [],
    });
    const merged = withHistory({ root: 'feat1', nodes: [node('feat1', 'features', 2)], edges: [] },
      [version('feat2', 3, 'feat1'), version('feat1', 2, 'feat0'), version('feat0', 1, null)]);
    expect(merged.nodes.map(n => `${n.dataset} v${n.number}`).sort()).toEqual(['features v1', 'features v2', 'features v3']);
    expect(merged.edges.map(e => `${e.from}>${e.to} ${e.kind}`)).toEqual(['feat0>feat1 parent', 'feat1>feat2 parent']);
  });
});
