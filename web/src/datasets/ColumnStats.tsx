import type { Schemas } from '../api/client';
import { BarChart } from '../manager/BarChart';
import { Histogram, shortNumber } from './Histogram';

type Column = Schemas['ColumnStatistics'];

function value(v: unknown): string {
  if (v === null || v === undefined) return '–';
  return typeof v === 'number' ? shortNumber(v) : String(v);
}

/** One card per column: counts, range and moments, and a histogram (numbers) or the most frequent values (text). */
export function ColumnStats({ columns }: { columns: Column[] }) {
  if (columns.length === 0) return <p className="muted">No column statistics.</p>;
  return (
    <div className="column-stats">
      {columns.map(c => (
        <figure key={c.name} className="chart column" data-testid="column-stats" data-column={c.name}>
          <figcaption>{c.name} <code>{c.type}</code></figcaption>
          <dl className="facts">
            <dt>Rows</dt><dd>{c.count.toLocaleString()}</dd>
            <dt>Nulls</dt><dd>{c.nulls.toLocaleString()}</dd>
            <dt>Distinct</dt><dd>{c.distinct.toLocaleString()}</dd>
            {(c.min !== null && c.min !== undefined) && <><dt>Min</dt><dd>{value(c.min)}</dd><dt>Max</dt><dd>{value(c.max)}</dd></>}
            {c.mean !== null && <><dt>Mean</dt><dd>{value(c.mean)}</dd><dt>Std dev</dt><dd>{value(c.stdDev)}</dd></>}
          </dl>
          {c.histogram && c.histogram.length > 0 && <Histogram title={`Histogram of ${c.name}`} bins={c.histogram} />}
          {c.topValues && c.topValues.length > 0 && (
            <BarChart title={`Top values of ${c.name}`} bars={c.topValues.slice(0, 10).map(t => ({ label: t.value, value: t.count }))}
              max={Math.max(...c.topValues.map(t => t.count))} format={v => v.toLocaleString()} />
          )}
        </figure>
      ))}
    </div>
  );
}
