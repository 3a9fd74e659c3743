import { useCallback, useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link } from '../app/router';
import { Workbench } from './Workbench';
import { toConfig, useLabelingProject } from './useProject';

type Lease = Schemas['LeaseDto'];

/** Leases tasks one after another for the signed-in annotator; each task gets a fresh Workbench. */
export function WorkbenchPage({ slug, labelingId }: { slug: string; labelingId: string }) {
  const { project, error } = useLabelingProject(slug, labelingId);
  const [lease, setLease] = useState<Lease | 'none' | null>(null);
  const [leaseError, setLeaseError] = useState<string | null>(null);
  const [done, setDone] = useState(0);

  const next = useCallback(async () => {
    setLease(null);
    setLeaseError(null);
    try {
      const { data, error: e, response } = await api.POST('/api/projects/{project}/labeling/{labeling}/next', { params: { path: { project: slug, labeling: labelingId } } });
      if (response.status === 204) setLease('none');
      else if (data) setLease(data);
      else setLeaseError(problemMessage(e));
    } catch (e) {
      setLeaseError(problemMessage(e, 'Cube cannot be reached.'));
    }
  }, [slug, labelingId]);

  useEffect(() => { void next(); }, [next]);

  if (error) return <p role="alert">{error}</p>;
  if (!project) return <p className="loading">Loading…</p>;
  if (leaseError) return <div className="banner error" role="alert">{leaseError} <button type="button" onClick={() => void next()}>Try again</button></div>;
  if (lease === 'none') return (
    <section className="empty">
      <h1>{project.name}</h1>
      <p data-testid="no-more-tasks">No more tasks for you right now{done ? ` — you finished ${done} in this session` : ''}.</p>
      <button type="button" onClick={() => void next()}>Check again</button> <Link to={`/p/${slug}`}>Back</Link>
    </section>
  );
  if (!lease) return <p className="loading">Getting the next task…</p>;
  return (
    <Workbench key={lease.task.id} slug={slug} project={project} config={toConfig(project.config)} lease={lease}
      onFinished={() => { setDone(d => d + 1); void next(); }} />
  );
}
