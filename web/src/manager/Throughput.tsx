import { useState } from 'react';
import type { Schemas } from '../api/client';
import { ColumnChart } from '../app/ColumnChart';
import { BarChart } from './BarChart';

type Throughput = Schemas['AnnotatorThroughputDto'];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Submissions per day as vertical bars in plain SVG, with the first and last day on the axis. */
export function DailyChart({ title, days, width = 420, height = 90 }: { title: string; days: { day: string; submitted: number }[]; width?: number; height?: number }) {
  return (
    <ColumnChart title={title} className="daily" width={width} height={height} top={14} axis={16}
      axisStart={days[0]?.day} axisEnd={days[days.length - 1]?.day}
      columns={days.map(d => ({
        key: d.day, value: d.submitted, testId: 'day', data: { day: d.day }, tip: `${d.day}: ${d.submitted}`,
        label: d.submitted > 0 ? String(d.submitted) : undefined,
      }))} />
  );
}

/** Sums the annotators' per-day counts day by day (every annotator's list covers the same days). */
export function totalPerDay(annotators: Throughput[]): { day: string; submitted: number }[] {
  const totals = new Map<string, number>();
  for (const a of annotators) for (const d of a.perDay) totals.set(d.day, (totals.get(d.day) ?? 0) + d.submitted);
  return [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, submitted]) => ({ day, submitted }));
}

/** Throughput per annotator from the quality report: annotations, median time per task, and submissions per day. */
export function ThroughputCharts({ annotators }: { annotators: Throughput[] }) {
  const [who, setWho] = useState('');
  const chosen = annotators.find(a => a.annotator === who);
  const days = chosen ? chosen.perDay : totalPerDay(annotators);
  const timed = annotators.flatMap(a => typeof a.medianMsPerTask === 'number' ? [{ ...a, median: a.medianMsPerTask }] : []);
  return (
    <div className="throughput">
      <BarChart title="Annotations per annotator" max={Math.max(1, ...annotators.map(a => a.submitted))} format={v => String(v)}
        bars={annotators.map(a => ({ label: a.annotator.slice(0, 8), value: a.submitted, note: a.skipped > 0 ? `(${a.skipped} skipped)` : undefined }))} />
      <BarChart title="Median time per task per annotator" max={Math.max(0, ...timed.map(a => a.median))} format={seconds}
        bars={timed.map(a => ({ label: a.annotator.slice(0, 8), value: a.median }))} />
      <figure className="chart">
        <figcaption>
          Submissions per day (last {days.length} days){' '}
          <select aria-label="Annotator" value={who} onChange={e => setWho(e.target.value)}>
            <option value="">everyone</option>
            {annotators.map(a => <option key={a.annotator} value={a.annotator}>{a.annotator.slice(0, 8)}</option>)}
          </select>
        </figcaption>
        {annotators.length === 0 ? <p className="muted">No data yet.</p> : <DailyChart title="Submissions per day" days={days} />}
        {chosen?.lastSubmittedAt && <p className="muted" data-testid="last-submitted">Last submitted {new Date(chosen.lastSubmittedAt).toLocaleString()}</p>}
      </figure>
    </div>
  );
}
