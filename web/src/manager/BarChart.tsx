export interface Bar { label: string; value: number; note?: string }

/** Horizontal bars in plain SVG: a label, a bar scaled to `max`, and the value. */
export function BarChart({ title, bars, max, format = v => v.toFixed(2) }: { title: string; bars: Bar[]; max: number; format?: (v: number) => string }) {
  const row = 26, labelWidth = 160, barWidth = 320, height = Math.max(row, bars.length * row);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {bars.length === 0 ? <p className="muted">No data yet.</p> : (
        <svg role="img" aria-label={title} width={labelWidth + barWidth + 90} height={height}>
          {bars.map((b, i) => {
            const w = max > 0 ? Math.max(0, Math.min(1, b.value / max)) * barWidth : 0;
            return (
              <g key={b.label} transform={`translate(0, ${i * row})`} data-testid="bar">
                <text x={labelWidth - 8} y={row / 2 + 4} textAnchor="end">{b.label}</text>
                <rect x={labelWidth} y={4} width={barWidth} height={row - 8} fill="#eef" />
                <rect x={labelWidth} y={4} width={w} height={row - 8} fill="#4363d8" />
                <text x={labelWidth + barWidth + 6} y={row / 2 + 4}>{format(b.value)}{b.note ? ` ${b.note}` : ''}</text>
              </g>
            );
          })}
        </svg>
      )}
    </figure>
  );
}
