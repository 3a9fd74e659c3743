import { render, screen, within } from '@testing-library/react';
import type { Schemas } from '../api/client';
import { ColumnStats } from './ColumnStats';
import { shortNumber } from './Histogram';

const price: Schemas['ColumnStatistics'] = {
  name: 'price', type: 'double', count: 10, nulls: 1, distinct: 9, min: 1.5, max: 9.5, mean: 4.25, stdDev: 2.1,
  quantiles: [{ probability: 0.5, value: 4 }], topValues: null,
  histogram: [{ lower: 1.5, upper: 3.5, count: 2 }, { lower: 3.5, upper: 5.5, count: 6 }, { lower: 5.5, upper: 7.5, count: 0 }, { lower: 7.5, upper: 9.5, count: 1 }],
};
const colour: Schemas['ColumnStatistics'] = {
  name: 'colour', type: 'string', count: 10, nulls: 0, distinct: 3, min: null, max: null, mean: null, stdDev: null, quantiles: null,
  topValues: [{ value: 'red', count: 5 }, { value: 'blue', count: 3 }, { value: 'green', count: 2 }], histogram: null,
};

describe('ColumnStats', () => {
  it('draws one bar per histogram bin, scaled to the fullest bin, for a numeric column', () => {
    render(<ColumnStats columns={[price, colour]} />);
    const chart = screen.getByLabelText('Histogram of price');
    const bins = within(chart as unknown as HTMLElement).getAllByTestId('histogram-bin');
    expect(bins.map(b => b.getAttribute('data-count'))).toEqual(['2', '6', '0', '1']);
    const heights = bins.map(b => Number(b.getAttribute('height')));
    expect(heights[1]).toBe(120);
    expect(heights[0]).toBeCloseTo(40);
    expect(heights[2]).toBe(0);
    expect(chart.textContent).toContain('1.5');
    expect(chart.textContent).toContain('9.5');
    expect(bins[1]?.textContent).toBe('3.5 – 5.5: 6');
  });

  it('lists top values instead of a histogram for a text column', () => {
    render(<ColumnStats columns={[colour]} />);
    expect(screen.queryByLabelText(/Histogram/)).toBeNull();
    const top = screen.getByLabelText('Top values of colour');
    expect(within(top as unknown as HTMLElement).getAllByTestId('bar').map(b => b.textContent)).toEqual(['red5', 'blue3', 'green2']);
  });

  it('shortens large and tiny numbers for axis labels', () => {
    expect([shortNumber(1234567), shortNumber(25000), shortNumber(0.00012), shortNumber(3.14159)]).toEqual(['1.23M', '25k', '1.20e-4', '3.142']);
  });
});
