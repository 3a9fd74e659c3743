import type { Schemas } from '../api/client';

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
  const axis = 18, top = 4;
  const most = Math.max(0, ...bins.map(b => b.count));
  const slot = bins.length > 0 ? width / bins.length : width;
  const first = bins[0], last = bins[bins.length - 1];
  return (
    <svg role="img" aria-label={title} className="histogram" width={width} height={height + top + axis} viewBox={`0 0 ${width} ${height + top + axis}`}>
      <line x1={0} x2={width} y1={height + top} y2={height + top} stroke="#b8bcc6" />
      {bins.map((b, i) => {
        const h = most > 0 ? (b.count / most) * height : 0;
        return (
          <rect key={i} data-testid="histogram-bin" data-count={b.count} x={i * slot + 1} y={height + top - h} width={Math.max(1, slot - 2)} height={h} fill="#4363d8">
            <title>{`${shortNumber(b.lower)} – ${shortNumber(b.upper)}: ${b.count.toLocaleString()}`}</title>
          </rect>
        );
      })}
      {first && last && (
        <>
          <text x={0} y={height + top + 14} className="axis">{shortNumber(first.lower)}</text>
          <text x={width} y={height + top + 14} className="axis" textAnchor="end">{shortNumber(last.upper)}</text>
        </>
      )}
    </svg>
  );
}
