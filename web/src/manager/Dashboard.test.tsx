import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Dashboard } from './Dashboard';
import { byConfidence, confidenceBins, resultSummary } from './Consensus';
import { totalPerDay } from './Throughput';

const labeling = 'l1';
const project = { id: labeling, name: 'Sentiment', config: { kind: 'TextClassification', labels: [{ name: 'pos' }, { name: 'neg' }] }, leaseSeconds: 600 };
// Fourteen days ending on 2026-12-02.
const days = (counts: number[]) => counts.map((submitted, i) => ({ day: new Date(Date.UTC(2026, 10, 19 + i)).toISOString().slice(0, 10), submitted }));
const quality = {
  kind: 'TextClassification', tasks: 3, annotations: 9, agreement: null, pairScores: [], meanPairScore: null, gold: [],
  preLabels: { annotations: 0, accepted: 0, acceptanceRate: null, medianMsWithPreLabel: null, medianMsWithout: 1500, annotationsWithout: 9, models: [] },
  annotators: [
    { annotator: 'aaaaaaaa-1111', submitted: 6, skipped: 0, medianMsPerTask: 1500, lastSubmittedAt: '2026-12-02T08:00:00Z', perDay: days([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 4]) },
    { annotator: 'bbbbbbbb-2222', submitted: 3, skipped: 2, medianMsPerTask: 4000, lastSubmittedAt: '2026-12-01T10:00:00Z', perDay: days([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0]) },
    { annotator: 'cccccccc-3333', submitted: 0, skipped: 1, medianMsPerTask: null, lastSubmittedAt: null, perDay: days(Array(14).fill(0)) },
  ],
};
const consensus = {
  ds: [
    { taskId: 't-sure', annotations: 3, label: 'pos', confidence: 1, distribution: { pos: 1, neg: 0 }, boxes: null, spans: null },
    { taskId: 't-split', annotations: 3, label: 'neg', confidence: 0.55, distribution: { pos: 0.45, neg: 0.55 }, boxes: null, spans: null },
    { taskId: 't-mostly', annotations: 3, label: 'pos', confidence: 0.9, distribution: { pos: 0.9, neg: 0.1 }, boxes: null, spans: null },
  ],
  mv: [
    { taskId: 't-split', annotations: 2, label: 'neg', confidence: 0.5, distribution: { pos: 0.5, neg: 0.5 }, boxes: null, spans: null },
  ],
};

function server() {
  const urls: string[] = [];
  vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    urls.push(url.pathname + url.search);
    const json = (value: unknown) => new Response(JSON.stringify(value), { status: 200, headers: { 'Content-Type': 'application/json' } });
    if (url.pathname.endsWith('/quality')) return json(quality);
    if (url.pathname.endsWith('/consensus')) return json(consensus[url.searchParams.get('method') as 'ds' | 'mv']);
    if (url.pathname.endsWith(`/labeling/${labeling}`)) return json(project);
    return new Response('{}', { status: 404 });
  }));
  return urls;
}

const barTexts = (chart: string) => within(screen.getByRole('img', { name: chart })).getAllByTestId('bar').map(b => b.textContent);

describe('manager dashboard', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('charts annotations, median time and submissions per day per annotator', async () => {
    server();
    render(<Dashboard slug="demo" labelingId={labeling} />);
    await waitFor(() => expect(screen.getByRole('img', { name: 'Annotations per annotator' })).toBeTruthy());
    expect(barTexts('Annotations per annotator')).toEqual(['aaaaaaaa6', 'bbbbbbbb3 (2 skipped)', 'cccccccc0 (1 skipped)']);
    // An annotator who submitted nothing has no median and no bar.
    expect(barTexts('Median time per task per annotator')).toEqual(['aaaaaaaa1.5 s', 'bbbbbbbb4.0 s']);
    const perDay = () => screen.getAllByTestId('day').filter(d => d.getAttribute('data-count') !== '0')
      .map(d => `${d.getAttribute('data-day')}=${d.getAttribute('data-count')}`);
    expect(screen.getAllByTestId('day')).toHaveLength(14);
    expect(perDay()).toEqual(['2026-11-30=3', '2026-12-01=2', '2026-12-02=4']);
    fireEvent.change(screen.getByRole('combobox', { name: 'Annotator' }), { target: { value: 'bbbbbbbb-2222' } });
    expect(perDay()).toEqual(['2026-11-30=1', '2026-12-01=2']);
    expect(screen.getByTestId('last-submitted')).toBeTruthy();
  });

  it('lists consensus results least confident first with a histogram, and switches method', async () => {
    const urls = server();
    render(<Dashboard slug="demo" labelingId={labeling} />);
    await waitFor(() => expect(screen.getAllByTestId('consensus-row')).toHaveLength(3));
    const rows = () => screen.getAllByTestId('consensus-row').map(r => [...r.querySelectorAll('td')].map(td => td.textContent));
    expect(rows()).toEqual([
      ['t-split', 'neg (also pos 45%)', '0.55', '3'],
      ['t-mostly', 'pos (also neg 10%)', '0.90', '3'],
      ['t-sure', 'pos', '1.00', '3'],
    ]);
    expect(screen.getAllByTestId('histogram-bin').map(b => Number(b.getAttribute('data-count')))).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(urls).toContain(`/api/projects/demo/labeling/${labeling}/consensus?method=ds`);
    fireEvent.change(screen.getByRole('combobox', { name: 'Consensus method' }), { target: { value: 'mv' } });
    await waitFor(() => expect(rows()).toEqual([['t-split', 'neg (also pos 50%)', '0.50', '2']]));
    expect(urls).toContain(`/api/projects/demo/labeling/${labeling}/consensus?method=mv`);
  });
});

describe('consensus helpers', () => {
  it('summarises boxes and spans, bins confidence with 1 in the last bin, and sorts ties by task', () => {
    const base = { annotations: 2, label: null, distribution: null, boxes: null, spans: null };
    const box = (label: string) => ({ box: { label, x: 0, y: 0, width: 1, height: 1 }, confidence: 1, votes: 2 });
    expect(resultSummary({ ...base, taskId: 'a', confidence: 1, boxes: [box('dog'), box('cat')] })).toBe('2 boxes: dog, cat');
    expect(resultSummary({ ...base, taskId: 'a', confidence: 0, spans: [] })).toBe('no spans');
    expect(resultSummary({ ...base, taskId: 'a', confidence: 0.5, spans: [{ span: { label: 'PER', start: 0, end: 3 }, confidence: 0.5, votes: 1 }] })).toBe('1 span: PER');
    const results = [{ ...base, taskId: 'b', confidence: 0.3 }, { ...base, taskId: 'a', confidence: 0.3 }, { ...base, taskId: 'c', confidence: 0 }];
    expect(byConfidence(results).map(r => r.taskId)).toEqual(['c', 'a', 'b']);
    expect(confidenceBins([...results, { ...base, taskId: 'd', confidence: 1 }], 4).map(b => b.count)).toEqual([1, 2, 0, 1]);
  });

  it('adds the annotators\' days together', () => {
    expect(totalPerDay(quality.annotators).slice(-3)).toEqual([
      { day: '2026-11-30', submitted: 3 }, { day: '2026-12-01', submitted: 2 }, { day: '2026-12-02', submitted: 4 },
    ]);
  });
});
