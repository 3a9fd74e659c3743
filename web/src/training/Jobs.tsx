import { useCallback, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link, navigate } from '../app/router';
import { isActive, jobDuration, type Job } from './format';
import { comparePage, jobPage, modelsPage } from './links';
import { usePoll } from './usePoll';

/** The project's training jobs, newest first: state, place in the GPU queue, GPUs, timing; cancel, compare, submit. */
export function Jobs({ slug, canManage }: { slug: string; canManage: boolean }) {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [limit, setLimit] = useState(50);
  const [quota, setQuota] = useState<Schemas['QuotaDto'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    try {
      const [list, q] = await Promise.all([
        api.GET('/api/projects/{project}/training/jobs', { params: { path: { project: slug }, query: { limit } } }),
        api.GET('/api/projects/{project}/training/quota', { params: { path: { project: slug } } }),
      ]);
      if (!list.data) { setError(problemMessage(list.error)); return; }
      setError(null);
      setJobs(list.data.items);
      setNext(list.data.nextCursor ?? null);
      setQuota(q.data ?? null);
      setNow(Date.now());
    } catch (e) {
      setError(problemMessage(e));
    }
  }, [slug, limit]);
  const active = jobs?.some(j => isActive(j.state)) ?? false;
  usePoll(load, active, 2000);

  async function cancel(job: Job) {
    const { error: problem } = await api.POST('/api/projects/{project}/training/jobs/{id}/cancel', { params: { path: { project: slug, id: job.id } } });
    if (problem) setError(problemMessage(problem));
    await load();
  }

  const toggle = (id: string) => setPicked(p => p.includes(id) ? p.filter(x => x !== id) : [...p, id]);

  if (!jobs) return error ? <p role="alert">{error}</p> : <p className="loading">Loading…</p>;
  return (
    <section className="training">
      <h1>Training</h1>
      <p className="actions">
        <Link to={modelsPage(slug)}>Model registry</Link>
        {quota && <span className="muted" data-testid="quota">
          {quota.maxGpus == null ? `No GPU quota; ${quota.inUse} GPUs in use` : `${quota.inUse} of ${quota.maxGpus} GPUs in use`}{quota.waiting > 0 ? `, ${quota.waiting} waiting` : ''}
        </span>}
      </p>
      {error && <p role="alert" className="error">{error}</p>}
      {jobs.length === 0 ? <p>No training jobs yet.{canManage ? ' Submit one below.' : ''}</p> : (
        <>
          <table className="grid" aria-label="Training jobs">
            <thead><tr><th>Compare</th><th>Name</th><th>Experiment</th><th>Framework</th><th>State</th><th>Queue</th><th>GPUs</th><th>Started</th><th>Duration</th><th /></tr></thead>
            <tbody>{jobs.map(j => (
              <tr key={j.id} data-testid="job" data-name={j.name} data-state={j.state}>
                <td><input type="checkbox" aria-label={`Compare ${j.name}`} checked={picked.includes(j.id)} onChange={() => toggle(j.id)} /></td>
                <td><Link to={jobPage(slug, j.id)}>{j.name}</Link></td>
                <td>{j.experiment}</td>
                <td>{j.framework} <span className="muted">{j.distribution}</span></td>
                <td><span className={`state state-${j.state}`}>{j.state}</span>
                  {j.state === 'running' && <progress max={100} value={j.progress} aria-label={`Progress of ${j.name}`} />}
                  {j.state === 'failed' && j.error && <div className="error" title={j.error}>{j.error.slice(0, 120)}</div>}
                </td>
                <td data-testid="queue-position">{j.queuePosition != null ? `#${j.queuePosition}` : ''}</td>
                <td>{j.gpus || ''}</td>
                <td>{j.startedAt ? new Date(j.startedAt).toLocaleString() : ''}</td>
                <td>{jobDuration(j, now) ?? ''}</td>
                <td>{canManage && isActive(j.state) && <button type="button" onClick={() => void cancel(j)}>Cancel</button>}</td>
              </tr>
            ))}</tbody>
          </table>
          <p className="actions">
            <button type="button" className="primary" disabled={picked.length < 2} onClick={() => navigate(comparePage(slug, picked))}>
              Compare {picked.length > 0 ? picked.length : ''} runs
            </button>
            {next && <button type="button" onClick={() => setLimit(l => l + 50)}>Show more</button>}
          </p>
        </>
      )}
      {canManage && <SubmitJob slug={slug} onSubmitted={id => navigate(jobPage(slug, id))} />}
    </section>
  );
}

const example = JSON.stringify({
  name: 'churn-fasttree', framework: 'mlnet', inputs: [{ dataset: 'churn', version: 'latest' }],
  hyperparameters: { task: 'binary', label: 'churned' },
}, null, 2);

/** A job spec as JSON (docs/training.md); the server validates it and answers field by field. */
function SubmitJob({ slug, onSubmitted }: { slug: string; onSubmitted: (id: string) => void }) {
  const [text, setText] = useState(example);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    let spec: Schemas['JobSpec'];
    try { spec = JSON.parse(text) as Schemas['JobSpec']; } catch (x) { setError(`The spec is not JSON: ${problemMessage(x)}`); return; }
    setError(null); setBusy(true);
    try {
      const { data, error: problem } = await api.POST('/api/projects/{project}/training/jobs', { params: { path: { project: slug } }, body: spec });
      if (!data) { setError(problemMessage(problem)); return; }
      onSubmitted(data.id);
    } catch (x) {
      setError(problemMessage(x));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="submit-job" onSubmit={e => void submit(e)} aria-label="New training job">
      <h2>New job</h2>
      <textarea aria-label="Job spec" rows={10} cols={70} spellCheck={false} value={text} onChange={e => setText(e.target.value)} />
      <p><button type="submit" className="primary" disabled={busy}>Submit</button></p>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
