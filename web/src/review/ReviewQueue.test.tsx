import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { ReviewQueue } from './ReviewQueue';

const labeling = 'l1';
const project = { id: labeling, name: 'Sentiment', config: { kind: 'TextClassification', labels: [{ name: 'pos' }, { name: 'neg' }] }, leaseSeconds: 600 };
const annotation = { id: 'a1', taskId: 't1', annotatorId: '0123456789abcdef', version: 4, status: 'submitted', reviewState: 'pending', result: { labels: ['pos'] }, submittedAt: '2026-01-01T00:00:00Z' };
const task = { id: 't1', ordinal: 1, data: { text: 'Not my favourite day.' } };

interface Sent { method: string; url: string; body: unknown; ifMatch: string | null }

function server() {
  const sent: Sent[] = [];
  vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
    const url = new URL(request.url).pathname;
    const body = request.method === 'POST' ? await request.json() : null;
    sent.push({ method: request.method, url, body, ifMatch: request.headers.get('If-Match') });
    const json = (value: unknown) => new Response(JSON.stringify(value), { status: 200, headers: { 'Content-Type': 'application/json' } });
    if (url.endsWith('/review')) return json({ annotation: { ...annotation, version: 5, status: 'accepted', reviewState: 'corrected', result: (body as { result: unknown }).result }, review: {} });
    if (url.endsWith('/annotations')) return json({ items: [annotation], next: null });
    if (url.endsWith('/tasks/t1')) return json(task);
    if (url.endsWith(`/labeling/${labeling}`)) return json(project);
    return new Response('{}', { status: 404 });
  }));
  return sent;
}

const key = (k: string, init: KeyboardEventInit = {}) => act(() => { fireEvent.keyDown(window, { key: k, ...init }); });

describe('ReviewQueue', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('corrects an annotation with the labeling editor and accepts it in one step, with If-Match', async () => {
    const sent = server();
    render(<ReviewQueue slug="demo" labelingId={labeling} />);
    await waitFor(() => expect(screen.getByTestId('review-result').textContent).toBe('pos'));
    await waitFor(() => expect(screen.queryByText('Loading the item…')).toBeNull());
    key('c');
    await waitFor(() => expect(screen.getByTestId('review-item').getAttribute('data-correcting')).toBe('true'));
    // A here is the editor's (accept pre-annotations; none), not the review's accept.
    key('a');
    key('2');
    expect(screen.getAllByRole('button', { pressed: true }).map(b => b.textContent?.trim())).toEqual(['2 neg']);
    key('Enter');
    await waitFor(() => expect(screen.getByTestId('review-empty')).toBeTruthy());
    const reviews = sent.filter(s => s.url.endsWith('/review'));
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({ url: `/api/projects/demo/labeling/${labeling}/annotations/a1/review`, ifMatch: '"4"', body: { decision: 'correct', result: { labels: ['neg'] } } });
  });
});
