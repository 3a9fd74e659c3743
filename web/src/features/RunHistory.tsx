import { useCallback, useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link } from '../app/router';
import { versionPage } from '../datasets/links';

type Run = Schemas['RunDto'];
export interface RunOutcome { outputDataset?: string; outputVersion?: number; rows?: number; steps?: Record<string, { rows: number; milliseconds: number }> }

const active = (run: Run) => run.state === 'queued' || run.state === 'running';

export function runOutcome(run: Run): RunOutcome {
  return (run.result && typeof run.result === 'object' ? run.result : {}) as RunOutcome;
}

export function duration(run: Run, now = Date.now()): string {
  if (!run.startedAt) return '–';
  const ms = (run.finishedAt ? Date.parse(run.finishedAt) : now) - Date.parse(run.startedAt);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The pipeline's runs, newest first, with state, progress, rows and per-step timings; refreshes every second while
 * one is queued or running. Managers start a run into an existing dataset, optionally for a logical date ({{ds}}); a
 * finished run links to the version it wrote.
 */
export function RunHistory({ slug, pipeline, canRun, order, refreshMs = 1000 }: { slug: string; pipeline: string; canRun: boolean; order: string[]; refreshMs?: number }) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [output, setOutput] = useState('');
  const [ds, setDs] = useState('');
  const [starting, setStarting] = useState(false);
  const path = { project: slug, name: pipeline };

  const load = useCallback(() => api.GET('/api/projects/{project}/features/pipelines/{name}/runs', { params: { path: { project: slug, name: pipeline } } })
    .then(({ data, error: e }) => { if (data) { setRuns(data); setError(null); } else setError(problemMessage(e)); })
    .catch(e => setError(problemMessage(e))), [slug, pipeline]);
  useEffect(() => { void load(); }, [load]);

  const anyActive = runs?.some(active) ?? false;
  useEffect(() => {
    if (!anyActive) return;
    const timer = setInterval(() => void load(), refreshMs);
    return () => clearInterval(timer);
  }, [anyActive, load, refreshMs]);

  async function start(e: React.FormEvent) {
    e.preventDefault();
    setStarting(true); setError(null);
    try {
      const { data, error: problem } = await api.POST('/api/projects/{project}/features/pipelines/{name}/runs', { params: { path }, body: { outputDataset: output.trim(), ds: ds || null } });
      if (!data) setError(problemMessage(problem)); else await load();
    } catch (x) {
      setError(problemMessage(x));
    } finally {
      setStarting(false);
    }
  }

  return (
    <section className="run-history" aria-label="Runs">
      <h2>Runs</h2>
      {canRun && (
        <form className="start-run" onSubmit={e => void start(e)} aria-label="Start a run">
          <input aria-label="Output dataset" placeholder="output dataset" value={output} onChange={e => setOutput(e.target.value)} required />
          <input type="date" aria-label="Logical date" title="{{ds}} in the spec; today (UTC) when empty" value={ds} onChange={e => setDs(e.target.value)} />
          <button type="submit" className="primary" disabled={starting}>Run</button>
        </form>
      )}
      {error && <p role="alert" className="error">{error}</p>}
      {!runs ? <p className="loading">Loading runs…</p> : runs.length === 0 ? <p className="muted">No runs yet.</p> : (
        <table className="grid" aria-label="Run history">
          <thead><tr><th>Started</th><th>State</th><th>Progress</th><th>Rows</th><th>Time</th><th>Steps</th><th>Output</th></tr></thead>
          <tbody>{runs.map(run => {
            const outcome = runOutcome(run);
            const steps = outcome.steps ?? {};
            const names = [...order.filter(n => n in steps), ...Object.keys(steps).filter(n => !order.includes(n))];
            return (
              <tr key={run.id} data-testid="run-row" data-state={run.state}>
                <td>{new Date(run.createdAt).toLocaleString()}</td>
                <td><span className={`state state-${run.state}`}>{run.state}</span></td>
                <td>
                  <progress max={100} value={run.progress} aria-label={`Progress of run ${run.id}`} /> {Math.round(run.progress)}%
                  {run.message && <div className="muted">{run.message}</div>}
                  {run.error && <div className="error">{run.error}</div>}
                </td>
                <td>{outcome.rows?.toLocaleString() ?? '–'}</td>
                <td>{duration(run)}</td>
                <td>{names.length === 0 ? '–' : (
                  <ul className="step-timings">{names.map(n => <li key={n}><code>{n}</code> {steps[n]?.rows.toLocaleString()} rows, {steps[n]?.milliseconds.toFixed(1)} ms</li>)}</ul>
                )}</td>
                <td>{outcome.outputDataset && outcome.outputVersion
                  ? <Link to={versionPage(slug, outcome.outputDataset, outcome.outputVersion)}>{`${outcome.outputDataset} v${outcome.outputVersion}`}</Link> : '–'}</td>
              </tr>
            );
          })}</tbody>
        </table>
      )}
    </section>
  );
}
