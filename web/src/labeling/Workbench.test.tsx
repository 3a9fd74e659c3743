import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { Schemas } from '../api/client';
import { Workbench } from './Workbench';
import { toConfig } from './useProject';

const project = {
  id: 'p1', name: 'Sentiment', instructions: null, config: { kind: 'TextClassification', labels: [{ name: 'pos' }, { name: 'neg' }] },
  overlap: 1, ordering: 'sequential', goldRate: 0, reviewRate: 0, leaseSeconds: 600, state: 'active', sourceDatasetId: null,
  sourceVersionId: null, sourceTable: null, sourceColumn: null, createdAt: '2026-01-01T00:00:00Z', progress: null,
} as unknown as Schemas['LabelingProjectDto'];

const lease = {
  leaseId: 'l1', expiresAt: '2026-01-01T00:10:00Z', task: { id: 't1', data: { text: 'What a lovely day.' } }, annotation: null, reviewComment: null,
} as unknown as Schemas['LeaseDto'];

interface Sent { method: string; url: string; body: unknown; ifMatch: string | null }

function server(failures: number) {
  const sent: Sent[] = [];
  let left = failures;
  const fetchMock = vi.fn(async (request: Request) => {
    const body = request.method === 'PUT' ? await request.json() : null;
    sent.push({ method: request.method, url: request.url, body, ifMatch: request.headers.get('If-Match') });
    if (request.method === 'PUT' && left-- > 0) throw new TypeError('Failed to fetch');
    const version = sent.filter(s => s.method === 'PUT').length;
    return new Response(JSON.stringify({ id: 'a1', taskId: 't1', version, status: 'submitted', result: (body as { result: unknown } | null)?.result ?? null }),
      { status: 200, headers: { 'Content-Type': 'application/json', ETag: `"${version}"` } });
  });
  vi.stubGlobal('fetch', fetchMock);
  return sent;
}

const key = (k: string, init: KeyboardEventInit = {}) => act(() => { fireEvent.keyDown(window, { key: k, ...init }); });
const pressed = () => screen.getAllByRole('button', { pressed: true }).map(b => b.textContent?.trim());

describe('Workbench', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('labels with number keys, undoes and redoes, and submits with Enter', async () => {
    const sent = server(0);
    const finished = vi.fn();
    render(<Workbench slug="demo" project={project} config={toConfig(project.config)} lease={lease} onFinished={finished} />);
    key('2');
    expect(pressed()).toEqual(['2 neg']);
    key('1');
    expect(pressed()).toEqual(['1 pos']);
    key('z', { ctrlKey: true });
    expect(pressed()).toEqual(['2 neg']);
    key('Z', { ctrlKey: true, shiftKey: true });
    expect(pressed()).toEqual(['1 pos']);
    key('Enter');
    await waitFor(() => expect(finished).toHaveBeenCalledOnce());
    const submit = sent.filter(s => s.method === 'PUT').at(-1);
    expect(submit?.url).toContain('/api/projects/demo/labeling/p1/tasks/t1/annotation');
    expect(submit?.body).toMatchObject({ result: { labels: ['pos'] }, draft: false });
  });

  it('keeps the task and shows the banner while a submit fails, then retries on its own', async () => {
    const sent = server(1);
    const finished = vi.fn();
    render(<Workbench slug="demo" project={project} config={toConfig(project.config)} lease={lease} onFinished={finished} />);
    key('1');
    key('Enter');
    await waitFor(() => expect(screen.getByTestId('save-banner').textContent).toContain('Not saved yet'));
    expect(finished).not.toHaveBeenCalled();
    await waitFor(() => expect(finished).toHaveBeenCalledOnce(), { timeout: 5000 });
    const puts = sent.filter(s => s.method === 'PUT');
    expect(puts).toHaveLength(2);
    expect(puts[0]?.body).toMatchObject({ result: { labels: ['pos'] }, draft: false });
    expect(puts[1]?.body).toMatchObject({ result: { labels: ['pos'] }, draft: false });
    expect(screen.queryByTestId('save-banner')).toBeNull();
  });

  it('accepts the served pre-annotation with A and submits it as the annotator’s own', async () => {
    const sent = server(0);
    const finished = vi.fn();
    const predicted = { ...lease, task: { id: 't1', data: { text: 'What a lovely day.' }, predictions: [
      { id: 'p1', taskId: 't1', kind: 'prediction', model: 'sentiment-bert', modelVersion: null, score: 0.97, result: { labels: ['pos'] }, createdAt: '2026-01-01T00:00:00Z' },
    ] } } as unknown as Schemas['LeaseDto'];
    render(<Workbench slug="demo" project={project} config={toConfig(project.config)} lease={predicted} onFinished={finished} />);
    expect(screen.getByTestId('predictions').textContent).toContain('sentiment-bert · 0.97: pos');
    expect(screen.queryAllByRole('button', { pressed: true })).toEqual([]);
    key('a');
    expect(pressed()).toEqual(['1 pos']);
    expect(screen.queryByTestId('predictions')).toBeNull();
    key('Enter');
    await waitFor(() => expect(finished).toHaveBeenCalledOnce());
    expect(sent.filter(s => s.method === 'PUT').at(-1)?.body).toMatchObject({ result: { labels: ['pos'] }, draft: false });
  });
});
