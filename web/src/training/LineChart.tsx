import { shortNumber } from '../datasets/Histogram';

export interface Line { label: string; points: readonly { step: number; value: number }[] }

/** Distinct colours for overlaid runs, in order; they repeat after ten. */
export const palette = ['#4363d8', '#e6194b', '#3cb44b', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324', '#469990', '#808000'];

/** Points with finite numbers only (NaN or ±Infinity from a diverging run would break the scale), sorted by step. */
function clean(points: Line['points']) {
  return points.filter(p => Number.isFinite(p.value) && Number.isFinite(p.step)).slice().sort((a, b) => a.step - b.step);
}

/**
 * A metric over steps in plain SVG: one polyline per line, sharing axes scaled to all of them, the step range on
 * the x axis and the value range on the y axis. A line of one point is drawn as a dot; points carry their value
 * as a tooltip when there are few enough to hover.
 */
export function LineChart({ title, lines, width = 420, height = 160 }: { title: string; lines: readonly Line[]; width?: number; height?: number }) {
  const left = 48, bottom = 18, top = 6, right = 8;
  const plotW = width - left - right, plotH = height;
  const series = lines.map(l => ({ label: l.label, points: clean(l.points) }));
  const all = series.flatMap(s => s.points);
  const minX = Math.min(...all.map(p => p.step)), maxX = Math.max(...all.map(p => p.step));
  let minY = Math.min(...all.map(p => p.value)), maxY = Math.max(...all.map(p => p.value));
  if (minY === maxY) { minY -= Math.abs(minY) * 0.1 || 1; maxY += Math.abs(maxY) * 0.1 || 1; }
  const x = (step: number) => left + (maxX === minX ? plotW / 2 : ((step - minX) / (maxX - minX)) * plotW);
  const y = (value: number) => top + plotH - ((value - minY) / (maxY - minY)) * plotH;
  const few = all.length <= 60;
  return (
    <figure className="line-chart">
      <svg role="img" aria-label={title} width={width} height={height + top + bottom} viewBox={`0 0 ${width} ${height + top + bottom}`}>
        <line x1={left} x2={left + plotW} y1={top + plotH} y2={top + plotH} stroke="#b8bcc6" />
        <line x1={left} x2={left} y1={top} y2={top + plotH} stroke="#b8bcc6" />
        {all.length > 0 && (
          <>
            <text className="axis" x={left - 4} y={top + 10} textAnchor="end">{shortNumber(maxY)}</text>
            <text className="axis" x={left - 4} y={top + plotH} textAnchor="end">{shortNumber(minY)}</text>
            <text className="axis" x={left} y={top + plotH + 14}>{shortNumber(minX)}</text>
            {maxX !== minX && <text className="axis" x={left + plotW} y={top + plotH + 14} textAnchor="end">{shortNumber(maxX)}</text>}
          </>
        )}
        {series.map((s, i) => {
          const color = palette[i % palette.length];
          return (
            <g key={s.label} data-testid="chart-line" data-series={s.label} data-points={s.points.length}>
              {s.points.length > 1 && (
                <polyline fill="none" stroke={color} strokeWidth={1.5} points={s.points.map(p => `${x(p.step).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')} />
              )}
              {(few || s.points.length === 1) && s.points.map((p, j) => (
                <circle key={j} cx={x(p.step)} cy={y(p.value)} r={s.points.length === 1 ? 3.5 : 2} fill={color}>
                  <title>{`${s.label} step ${p.step}: ${p.value}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
        {all.length === 0 && <text className="axis" x={left + plotW / 2} y={top + plotH / 2} textAnchor="middle">no finite values</text>}
      </svg>
      <figcaption>
        <strong>{title}</strong>
        {lines.length > 1 && series.map((s, i) => (
          <span key={s.label} className="legend"><i style={{ background: palette[i % palette.length] }} />{s.label}</span>
        ))}
      </figcaption>
    </figure>
  );
}
