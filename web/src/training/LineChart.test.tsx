import { render, screen } from '@testing-library/react';
import { LineChart } from './LineChart';

const pts = (...values: number[]) => values.map((value, i) => ({ step: i * 10, value }));

function coords(line: Element): [number, number][] {
  return (line.querySelector('polyline')?.getAttribute('points') ?? '').split(' ').map(p => p.split(',').map(Number) as [number, number]);
}

describe('LineChart', { timeout: 30_000 }, () => {
  it('draws a metric series as a polyline over steps, scaled so the lowest value is at the bottom and the highest at the top', () => {
    render(<LineChart title="loss" lines={[{ label: 'loss', points: pts(0.9, 0.5, 0.3, 0.2) }]} width={300} height={100} />);
    const chart = screen.getByRole('img', { name: 'loss' });
    const [line] = screen.getAllByTestId('chart-line');
    expect(line?.getAttribute('data-points')).toBe('4');
    const xy = coords(line as Element);
    expect(xy).toHaveLength(4);
    // x grows with the step, y (SVG grows downwards) grows as the loss falls.
    for (let i = 1; i < xy.length; i++) {
      expect(xy[i]![0]).toBeGreaterThan(xy[i - 1]![0]);
      expect(xy[i]![1]).toBeGreaterThan(xy[i - 1]![1]);
    }
    expect(xy[0]![1]).toBe(6); // top margin: the highest value
    expect(xy[3]![1]).toBe(106); // top + height: the lowest value
    // Axis labels give the value and step ranges.
    const labels = [...chart.querySelectorAll('text')].map(t => t.textContent);
    expect(labels).toEqual(['0.9', '0.2', '0', '30']);
    expect(chart.querySelectorAll('circle')).toHaveLength(4);
    expect(chart.querySelector('circle title')?.textContent).toBe('loss step 0: 0.9');
  });

  it('overlays several runs on shared axes with a legend, and draws a single-point run as a dot', () => {
    render(<LineChart title="accuracy" lines={[
      { label: 'run-a', points: pts(0.5, 0.7, 0.8) },
      { label: 'run-b', points: [{ step: 20, value: 0.9 }] },
    ]} width={300} height={100} />);
    const [a, b] = screen.getAllByTestId('chart-line');
    expect(a?.getAttribute('data-series')).toBe('run-a');
    expect(b?.querySelector('polyline')).toBeNull();
    const dot = b?.querySelector('circle');
    // run-b's 0.9 is the top of the shared scale; step 20 is the right end, as run-a's last point.
    expect(Number(dot?.getAttribute('cy'))).toBe(6);
    expect(Number(dot?.getAttribute('cx'))).toBeCloseTo(coords(a as Element)[2]![0], 0);
    expect(screen.getByText('run-a')).toBeTruthy();
    expect(screen.getByText('run-b')).toBeTruthy();
  });

  it('leaves out non-finite values and keeps a flat series inside the plot', () => {
    render(<LineChart title="lr" lines={[{ label: 'lr', points: [{ step: 0, value: 0.01 }, { step: 1, value: Number.NaN }, { step: 2, value: 0.01 }] }]} width={300} height={100} />);
    const [line] = screen.getAllByTestId('chart-line');
    expect(line?.getAttribute('data-points')).toBe('2');
    for (const [, y] of coords(line as Element)) expect(y).toBe(56); // a constant sits in the middle
  });
});
