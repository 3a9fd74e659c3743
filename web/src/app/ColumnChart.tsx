/** One vertical bar: its height, hover text, optional value printed above it, and test attributes. */
export interface Column {
  key: string;
  value: number;
  tip: string;
  /** Printed above the bar when set. */
  label?: string;
  testId: string;
  data?: Record<string, string | number>;
}

/**
 * Vertical bars in plain SVG, scaled to the tallest, with a baseline and a label under each end of the axis: the shape
 * of histograms and per-day counts alike.
 */
export function ColumnChart({ title, className, columns, axisStart, axisEnd, width, height, top, axis }: {
  title: string; className: string; columns: Column[]; axisStart?: string; axisEnd?: string; width: number; height: number; top: number; axis: number;
}) {
  const most = Math.max(0, ...columns.map(c => c.value));
  const slot = columns.length > 0 ? width / columns.length : width;
  const base = height + top;
  return (
    <svg role="img" aria-label={title} className={className} width={width} height={base + axis} viewBox={`0 0 ${width} ${base + axis}`}>
      <line x1={0} x2={width} y1={base} y2={base} stroke="#b8bcc6" />
      {columns.map((c, i) => {
        const h = most > 0 ? (c.value / most) * height : 0;
        const data = Object.fromEntries(Object.entries(c.data ?? {}).map(([k, v]) => [`data-${k}`, v]));
        return (
          <g key={c.key}>
            <rect data-testid={c.testId} data-count={c.value} {...data} x={i * slot + 1} y={base - h} width={Math.max(1, slot - 2)} height={h} fill="#4363d8">
              <title>{c.tip}</title>
            </rect>
            {c.label && <text x={i * slot + slot / 2} y={base - h - 2} textAnchor="middle" className="axis">{c.label}</text>}
          </g>
        );
      })}
      {columns.length > 0 && (
        <>
          <text x={0} y={base + axis - 4} className="axis">{axisStart}</text>
          <text x={width} y={base + axis - 4} className="axis" textAnchor="end">{axisEnd}</text>
        </>
      )}
    </svg>
  );
}
