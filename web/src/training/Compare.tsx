import { useEffect, useState } from 'react';
import { api, problemMessage } from '../api/client';
import { Link } from '../app/router';
import { compareRuns, overlays, runLabels, type ComparedRun } from './compare';
import { metricValue } from './format';
import { LineChart, palette } from './LineChart';
import { jobPage, jobsPage } from './links';

/** Two or more runs side by side: params and final metrics in a table (differences marked), one overlaid chart per metric. */
export function Compare({ slug, ids }: { slug: string; ids: string[] }) {
  const [runs, setRuns] = useState<ComparedRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = ids.join(',');

  useEffect(() => {
    let stale = false;
    setRuns(null); setError(null);
    Promise.all(key.split(',').map(async id => {
      const path = { project: slug, id };
      const [d, m] = await Promise.all([
        api.GET('/api/projects/{project}/training/jobs/{id}', { params: { path } }),
        api.GET('/api/projects/{project}/training/jobs/{id}/metrics', { params: { path } }),
      ]);
      if (!d.data) throw new Error(`${id}: ${problemMessage(d.error)}`);
      if (!m.data) throw new Error(`${id}: ${problemMessage(m.error)}`);
      return { id, name: d.data.job.name, params: d.data.params, metrics: m.data };
    })).then(loaded => {
      if (stale) return;
      const labels = runLabels(loaded);
      setRuns(loaded.map((r, i) => ({ id: r.id, label: labels[i] as string, params: r.params, metrics: r.metrics })));
    }).catch(e => { if (!stale) setError(problemMessage(e)); });
    return () => { stale = true; };
  }, [slug, key]);

  if (ids.length < 2) return <p role="alert">Pick at least two runs to compare. <Link to={jobsPage(slug)}>Training jobs</Link></p>;
  if (error) return <p role="alert">{error}</p>;
  if (!runs) return <p className="loading">Loading…</p>;
  return (
    <section className="training compare">
      <p><Link to={jobsPage(slug)}>← Training jobs</Link></p>
      <h1>Comparing {runs.length} runs</h1>
      <ComparisonTable slug={slug} runs={runs} />
      <h2>Metrics</h2>
      <div className="charts">
        {overlays(runs).map(o => <LineChart key={o.name} title={o.name} lines={o.lines} />)}
      </div>
    </section>
  );
}

export function ComparisonTable({ slug, runs }: { slug: string; runs: readonly ComparedRun[] }) {
  const { params, metrics } = compareRuns(runs);
  const cell = (v: string | number | undefined) => v === undefined ? <span className="muted">–</span> : typeof v === 'number' ? metricValue(v) : v;
  return (
    <table className="grid comparison" aria-label="Comparison">
      <thead><tr><th />{runs.map((r, i) => (
        <th key={r.id}><i className="swatch" style={{ background: palette[i % palette.length] }} /><Link to={jobPage(slug, r.id)}>{r.label}</Link></th>
      ))}</tr></thead>
      <tbody>
        <tr><td colSpan={runs.length + 1} className="group">Params</td></tr>
        {params.map(row => (
          <tr key={`p:${row.key}`} data-testid="param-row" data-key={row.key} className={row.differs ? 'differs' : undefined}>
            <th scope="row">{row.key}</th>{row.values.map((v, i) => <td key={i}>{cell(v)}</td>)}
          </tr>
        ))}
        <tr><td colSpan={runs.length + 1} className="group">Final metrics</td></tr>
        {metrics.map(row => (
          <tr key={`m:${row.key}`} data-testid="metric-row" data-key={row.key} className={row.differs ? 'differs' : undefined}>
            <th scope="row">{row.key}</th>{row.values.map((v, i) => <td key={i}>{cell(v)}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
