import type { Schemas } from '../api/client';

export type Job = Schemas['JobDto'];
export type MetricSeries = Schemas['MetricSeriesDto'];

/** States in which a job can still change: lists and pages poll while one is shown. */
export const isActive = (state: string) => state === 'queued' || state === 'running';

/** 75 s -> "1 min 15 s"; 3 h 2 min -> "3 h 2 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** How long a job ran (or has run so far); null before it started. */
export function jobDuration(job: Pick<Job, 'startedAt' | 'finishedAt'>, now: number): string | null {
  if (!job.startedAt) return null;
  return duration((job.finishedAt ? Date.parse(job.finishedAt) : now) - Date.parse(job.startedAt));
}

/** A metric value with enough digits to tell runs apart, without float noise. */
export function metricValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-4 || abs >= 1e9) ? value.toExponential(3) : String(+value.toPrecision(5));
}

/** The value at the highest step (the last reported one on ties), as the server's "final metric" is chosen. */
export function finalValue(series: MetricSeries): number | undefined {
  let best: MetricSeries['points'][number] | undefined;
  for (const p of series.points) if (!best || p.step >= best.step) best = p;
  return best?.value;
}
