import type { Schemas } from '../api/client';
import { ColumnChart } from '../app/ColumnChart';

type Bin = Schemas['HistogramBin'];

/** A compact number for axis labels: 1234567 -> 1.23M, 0.000123 -> 1.23e-4. */
export function shortNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e15)) return value.toExponential(2);
  if (abs >= 1e9) return `${+(value / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toPrecision(3)}k`;
  return String(+value.toPrecision(4));
}

/** Equal-width bins as vertical bars in plain SVG, scaled to the fullest bin, with the range on the axis. */
export function Histogram({ title, bins, width = 320, height = 120 }: { title: string; bins: Bin[]; width?: number; height?: number }) {
  const first = bins[0], last = bins[bins.length - 1];
  return (
    <ColumnChart title={title} className="histogram" width={width} height={height} top={4} axis={18}
      axisStart={first ? shortNumber(first.lower) : undefined} axisEnd={last ? shortNumber(last.upper) : undefined}
      columns={bins.map((b, i) => ({
        key: String(i), value: b.count, testId: 'histogram-bin', tip: `${shortNumber(b.lower)} – ${shortNumber(b.upper)}: ${b.count.toLocaleString()}`,
      }))} />
  );
}
