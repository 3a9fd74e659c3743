import { finalValue, type MetricSeries } from './format';

/** A run as the comparison needs it: a label, its params and its metric series. */
export interface ComparedRun { id: string; label: string; params: Record<string, string>; metrics: readonly MetricSeries[] }

export interface ComparisonRow { key: string; values: (string | number | undefined)[]; differs: boolean }

/**
 * Params and final metrics of runs side by side: one row per key any run has (sorted), one value per run (undefined
 * where a run lacks it), and whether the runs disagree on it, so a sweep's varied settings stand out.
 */
export function compareRuns(runs: readonly ComparedRun[]): { params: ComparisonRow[]; metrics: ComparisonRow[] } {
  const rows = (keys: Set<string>, value: (run: ComparedRun, key: string) => string | number | undefined) =>
    [...keys].sort((a, b) => a.localeCompare(b)).map(key => {
      const values = runs.map(r => value(r, key));
      return { key, values, differs: new Set(values.map(v => v === undefined ? '\u0000' : String(v))).size > 1 };
    });
  const paramKeys = new Set(runs.flatMap(r => Object.keys(r.params)));
  const metricKeys = new Set(runs.flatMap(r => r.metrics.map(m => m.name)));
  return {
    params: rows(paramKeys, (r, k) => r.params[k]),
    metrics: rows(metricKeys, (r, k) => { const s = r.metrics.find(m => m.name === k); return s ? finalValue(s) : undefined; }),
  };
}

/** Metric names in any run, sorted, each with every run's series that has it, for one overlaid chart per metric. */
export function overlays(runs: readonly ComparedRun[]): { name: string; lines: { label: string; points: MetricSeries['points'] }[] }[] {
  const names = [...new Set(runs.flatMap(r => r.metrics.map(m => m.name)))].sort((a, b) => a.localeCompare(b));
  return names.map(name => ({
    name,
    lines: runs.flatMap(r => { const s = r.metrics.find(m => m.name === name); return s ? [{ label: r.label, points: s.points }] : []; }),
  }));
}

/** Runs often share a name across a sweep; a label adds the start of the id where names repeat. */
export function runLabels(runs: readonly { id: string; name: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
  return runs.map(r => (counts.get(r.name) ?? 0) > 1 ? `${r.name} (${r.id.slice(-6)})` : r.name);
}
