import { configure, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { KnowledgeBasePage } from './KnowledgeBasePage';

afterEach(() => { vi.unstubAllGlobals(); });
// Polling runs every second; the default 1 s for waitFor is too short on a machine shared with builds.
configure({ asyncUtilTimeout: 8000 });

const doc = (name: string, state: string, extra: Record<string, unknown> = {}) => ({
  id: `id-${name}`, name, title: null, sourceKind: 'upload', datasetId: null, datasetVersion: null, sha256: 'x', sizeBytes: 10, tags: [],
  state, error: null, chunks: 0, pages: null, runId: 'run-1', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', ...extra,
});

describe('KnowledgeBasePage', { timeout: 30_000 }, () => {
  it('shows each document\'s state and failure reason, follows ingestion until done, and deletes after a second press', async () => {
    let reads = 0;
    const deleted: string[] = [];
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
      const url = new URL(request.url).pathname;
      if (request.method === 'DELETE') { deleted.push(url); return new Response(null, { status: 204 }); }
      if (url.endsWith('/knowledge/manuals')) return json({ id: 'kb', name: 'manuals', description: null, embeddingModel: 'cube-hashing-v1', documents: 3, chunks: 4, createdAt: '', updatedAt: '' });
      if (url.endsWith('/documents')) {
        reads++;
        return json(reads < 3
          ? [doc('a.md', 'ready', { chunks: 4 }), doc('b.pdf', 'processing'), doc('c.pdf', 'failed', { error: 'The PDF is encrypted.' })]
          : [doc('a.md', 'ready', { chunks: 4 }), doc('b.pdf', 'ready', { chunks: 7, pages: 3 }), doc('c.pdf', 'failed', { error: 'The PDF is encrypted.' })]);
      }
      if (url === '/api/runs/run-1') return json({ id: 'run-1', kind: 'knowledge.ingest', state: 'running', progress: 0.5, message: 'b.pdf', error: null });
      if (url.endsWith('/search')) return json({ mode: 'hybrid', hits: [] });
      return json({ title: 'Not found', status: 404 }, 404);
    }));
    render(<KnowledgeBasePage slug="demo" kb="manuals" canWrite canManage={false} />);

    const row = (name: string) => screen.getAllByTestId('document').find(r => r.getAttribute('data-name') === name) as HTMLElement;
    await screen.findByText('b.pdf');
    expect(row('b.pdf').getAttribute('data-state')).toBe('processing');
    expect(within(row('c.pdf')).getByTestId('document-error').textContent).toBe('The PDF is encrypted.');
    expect(within(row('a.md')).getAllByRole('cell')[2]?.textContent).toBe('4');
    expect(screen.queryByRole('button', { name: 'Delete knowledge base' })).toBeNull();

    const progress = await screen.findByLabelText('Run run-1');
    expect((progress as HTMLProgressElement).value).toBe(0.5);
    expect(screen.getByLabelText('Ingestion progress').textContent).toContain('Ingesting 1 of 3 documents');
    await waitFor(() => expect(row('b.pdf').getAttribute('data-state')).toBe('ready'));
    expect(within(row('b.pdf')).getAllByRole('cell')[2]?.textContent).toBe('7');
    expect(screen.queryByLabelText('Ingestion progress')).toBeNull();
    const settled = reads;
    await new Promise(r => setTimeout(r, 1500));
    expect(reads).toBe(settled); // nothing left to follow: polling stopped

    fireEvent.click(screen.getByRole('button', { name: 'Delete c.pdf' }));
    expect(deleted).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Yes' }));
    await waitFor(() => expect(deleted).toEqual(['/api/projects/demo/knowledge/manuals/documents/id-c.pdf']));
  });
});
