import { useCallback, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link } from '../app/router';
import { versionPage } from '../datasets/links';
import { shortNumber } from '../datasets/Histogram';
import { duration, finalValue, isActive, jobDuration, metricValue, type MetricSeries } from './format';
import { LineChart } from './LineChart';
import { LogView } from './LogView';
import { artifactUrl, jobsPage, modelPage } from './links';
import { usePoll } from './usePoll';

type Detail = Schemas['JobDetailDto'];
type Spec = Partial<Schemas['JobSpec']>;

/** One job: spec, state timeline, live logs, a chart per metric, params, artifacts and the model versions made from it. */
export function JobPage({ slug, id, canManage }: { slug: string; id: string; canManage: boolean }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [metrics, setMetrics] = useState<MetricSeries[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    try {
      const path = { project: slug, id };
      const [d, m] = await Promise.all([
        api.GET('/api/projects/{project}/training/jobs/{id}', { params: { path } }),
        api.GET('/api/projects/{project}/training/jobs/{id}/metrics', { params: { path } }),
      ]);
      if (!d.data) { setError(problemMessage(d.error)); return; }
      setError(null);
      setDetail(d.data);
      if (m.data) setMetrics(m.data);
      setNow(Date.now());
    } catch (e) {
      setError(problemMessage(e));
    }
  }, [slug, id]);
  const live = detail ? isActive(detail.job.state) : true;
  usePoll(load, live, 1000);

  async function cancel() {
    const { error: problem } = await api.POST('/api/projects/{project}/training/jobs/{id}/cancel', { params: { path: { project: slug, id } } });
    if (problem) setError(problemMessage(problem));
    await load();
  }

  if (!detail) return error ? <p role="alert">{error}</p> : <p className="loading">Loading…</p>;
  const { job } = detail;
  const spec = (detail.spec ?? {}) as Spec;
  return (
    <section className="training job">
      <p><Link to={jobsPage(slug)}>← Training jobs</Link></p>
      <h1>{job.name} <span className={`state state-${job.state}`} data-testid="job-state">{job.state}</span></h1>
      {error && <p role="alert" className="error">{error}</p>}
      <p className="actions">
        {job.state === 'running' && <progress max={100} value={job.progress} aria-label="Progress" />}
        {job.message && <span data-testid="job-message">{job.message}</span>}
        {job.queuePosition != null && <strong>#{job.queuePosition} in the GPU queue</strong>}
        {canManage && isActive(job.state) && <button type="button" onClick={() => void cancel()}>Cancel job</button>}
      </p>
      {job.error && <p className="error" data-testid="job-error">{job.error}</p>}

      <div className="job-summary">
        <dl aria-label="Spec">
          <dt>Experiment</dt><dd>{job.experiment}</dd>
          <dt>Framework</dt><dd>{job.framework} ({job.distribution})</dd>
          {spec.image && <><dt>Image</dt><dd><code>{spec.image}</code></dd></>}
          {spec.command && spec.command.length > 0 && <><dt>Command</dt><dd><code>{[...spec.command, ...(spec.args ?? [])].join(' ')}</code></dd></>}
          <dt>Resources</dt><dd>{resources(spec)}{job.gpus > 0 ? `, ${job.gpus} GPUs in all` : ''}</dd>
          {detail.inputs.length > 0 && <><dt>Inputs</dt><dd>{detail.inputs.map(i => (
            <span key={i.name} className="input"><Link to={versionPage(slug, i.dataset, i.version)}>{i.dataset} v{i.version}</Link>{i.name !== i.dataset ? ` as ${i.name}` : ''} </span>
          ))}</dd></>}
          {spec.timeoutSeconds != null && <><dt>Timeout</dt><dd>{spec.timeoutSeconds} s</dd></>}
          {job.exitCode != null && <><dt>Exit code</dt><dd>{job.exitCode}</dd></>}
        </dl>
        <ol className="timeline" aria-label="Timeline">
          <li data-step="submitted">Submitted {new Date(job.createdAt).toLocaleString()}</li>
          {job.startedAt && <li data-step="started">Started {new Date(job.startedAt).toLocaleString()} <span className="muted">after {waited(job)}</span></li>}
          {job.finishedAt
            ? <li data-step={job.state}>{cap(job.state)} {new Date(job.finishedAt).toLocaleString()} <span className="muted">ran {jobDuration(job, now)}</span></li>
            : <li data-step={job.state} className="muted">{cap(job.state)}{job.startedAt ? ` for ${jobDuration(job, now)}` : ''}…</li>}
        </ol>
      </div>

      {detail.modelVersions.length > 0 && (
        <p data-testid="model-versions">Registered as {detail.modelVersions.map(v => (
          <Link key={`${v.model}/${v.version}`} to={modelPage(slug, v.model)}>{v.model} v{v.version}</Link>
        ))}</p>
      )}

      <h2>Metrics</h2>
      {metrics.length === 0 ? <p className="muted">No metrics reported{live ? ' yet' : ''}.</p> : (
        <div className="charts">
          {metrics.map(m => (
            <div key={m.name} data-testid="metric" data-name={m.name}>
              <LineChart title={m.name} lines={[{ label: m.name, points: m.points }]} />
              <p className="muted">last {metricValue(finalValue(m) ?? NaN)} at step {shortNumber(m.points[m.points.length - 1]?.step ?? 0)}, {m.points.length} {m.points.length === 1 ? 'point' : 'points'}</p>
            </div>
          ))}
        </div>
      )}

      <h2>Params</h2>
      <table className="grid" aria-label="Params">
        <tbody>{Object.entries(detail.params).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody>
      </table>

      <h2>Artifacts</h2>
      {detail.artifacts.length === 0 ? <p className="muted">None{live ? ' yet' : ''}.</p> : (
        <table className="grid" aria-label="Artifacts">
          <tbody>{detail.artifacts.map(a => (
            <tr key={a.path}><td><a href={artifactUrl(slug, id, a.path)} download>{a.path}</a></td><td>{a.size.toLocaleString()} bytes</td><td><code title={a.sha256}>{a.sha256.slice(0, 12)}</code></td></tr>
          ))}</tbody>
        </table>
      )}

      <h2>Logs</h2>
      <LogView slug={slug} jobId={id} live={live} />
    </section>
  );
}

function resources(spec: Spec): string {
  const r = spec.resources;
  const parts = [r?.cpu && `${r.cpu} CPU`, r?.memory && `${r.memory} memory`, r?.gpus ? `${r.gpus} GPUs` : null, r?.sharedMemory && `${r.sharedMemory} /dev/shm`].filter(Boolean);
  const workers = spec.workers && spec.workers > 1 ? `${spec.workers} workers × ` : '';
  return parts.length > 0 ? workers + parts.join(', ') : `${workers}defaults`;
}

function waited(job: Schemas['JobDto']): string {
  const ms = Date.parse(job.startedAt ?? job.createdAt) - Date.parse(job.createdAt);
  return ms < 1000 ? `${Math.max(0, ms)} ms` : duration(ms);
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
