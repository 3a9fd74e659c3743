import { render, screen, within } from '@testing-library/react';
import { compareRuns, overlays, runLabels, type ComparedRun } from './compare';
import { ComparisonTable } from './Compare';

const series = (name: string, ...values: [number, number][]) => ({ name, points: values.map(([step, value]) => ({ step, value, at: '2026-01-01T00:00:00Z' })) });

const runs: ComparedRun[] = [
  { id: 'a', label: 'lr-small', params: { lr: '0.01', epochs: '3' }, metrics: [series('loss', [1, 0.9], [3, 0.4], [2, 0.6]), series('accuracy', [3, 0.81])] },
  { id: 'b', label: 'lr-large', params: { lr: '0.1', epochs: '3', warmup: '1' }, metrics: [series('loss', [1, 0.8], [3, 0.55])] },
];

describe('run comparison', { timeout: 30_000 }, () => {
  it('puts params and final metrics side by side, marking keys the runs disagree on', () => {
    render(<ComparisonTable slug="demo" runs={runs} />);
    const table = screen.getByRole('table', { name: 'Comparison' });
    expect(within(table).getAllByRole('columnheader').map(h => h.textContent)).toEqual(['', 'lr-small', 'lr-large']);
    const row = (kind: string, key: string) => screen.getAllByTestId(kind).find(r => r.getAttribute('data-key') === key) as HTMLElement;
    const cells = (r: HTMLElement) => within(r).getAllByRole('cell').map(c => c.textContent);
    expect(screen.getAllByTestId('param-row').map(r => r.getAttribute('data-key'))).toEqual(['epochs', 'lr', 'warmup']);
    expect(cells(row('param-row', 'lr'))).toEqual(['0.01', '0.1']);
    expect(row('param-row', 'lr').className).toBe('differs');
    expect(row('param-row', 'epochs').className).toBe('');
    expect(cells(row('param-row', 'warmup'))).toEqual(['–', '1']);
    // The final value is the one at the highest step, whatever order the points came in.
    expect(cells(row('metric-row', 'loss'))).toEqual(['0.4', '0.55']);
    expect(cells(row('metric-row', 'accuracy'))).toEqual(['0.81', '–']);
    expect(within(table).getByRole('link', { name: 'lr-large' }).getAttribute('href')).toBe('/p/demo/training/jobs/b');
  });

  it('overlays each metric across the runs that have it', () => {
    expect(overlays(runs).map(o => [o.name, o.lines.map(l => l.label)])).toEqual([['accuracy', ['lr-small']], ['loss', ['lr-small', 'lr-large']]]);
    expect(compareRuns([runs[0]!, { ...runs[0]!, id: 'c' }]).params.every(r => !r.differs)).toBe(true);
  });

  it('tells runs of the same name apart', () => {
    expect(runLabels([{ id: '0001-aaaaaa', name: 'sweep' }, { id: '0002-bbbbbb', name: 'sweep' }, { id: 'x', name: 'solo' }]))
      .toEqual(['sweep (aaaaaa)', 'sweep (bbbbbb)', 'solo']);
  });
});
