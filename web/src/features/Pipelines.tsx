import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link, navigate } from '../app/router';
import { newPipelinePage, pipelinePage, pipelinesPage } from './links';
import { OperatorCatalogue } from './OperatorCatalogue';
import { SpecEditor, starterSpec } from './SpecEditor';

/** The project's feature pipelines; managers start a new one from here. */
export function Pipelines({ slug, canWrite }: { slug: string; canWrite: boolean }) {
  const [pipelines, setPipelines] = useState<Schemas['PipelineDto'][] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.GET('/api/projects/{project}/features/pipelines', { params: { path: { project: slug } } })
      .then(({ data, error: e }) => data ? setPipelines(data) : setError(problemMessage(e)))
      .catch(e => setError(problemMessage(e)));
  }, [slug]);

  if (error) return <p role="alert">{error}</p>;
  if (!pipelines) return <p className="loading">Loading…</p>;
  return (
    <section className="features">
      <h1>Feature pipelines</h1>
      {pipelines.length === 0 ? <p>No pipelines yet.</p> : (
        <table className="grid" aria-label="Pipelines">
          <thead><tr><th>Name</th><th>Version</th><th>Inputs</th><th>Steps</th><th>Updated</th></tr></thead>
          <tbody>{pipelines.map(p => {
            const spec = p.spec as { inputs?: Record<string, unknown>; steps?: unknown[] };
            return (
              <tr key={p.id}>
                <td><Link to={pipelinePage(slug, p.name)}>{p.name}</Link></td>
                <td>v{p.version}</td>
                <td>{Object.keys(spec.inputs ?? {}).join(', ')}</td>
                <td>{spec.steps?.length ?? 0}</td>
                <td>{new Date(p.updatedAt).toLocaleString()}</td>
              </tr>
            );
          })}</tbody>
        </table>
      )}
      {canWrite && <p><Link className="button" to={newPipelinePage(slug)}>New pipeline</Link></p>}
    </section>
  );
}

/** A new pipeline: its YAML with the operator reference beside it. */
export function NewPipeline({ slug }: { slug: string }) {
  return (
    <section className="features">
      <p><Link to={pipelinesPage(slug)}>← Pipelines</Link></p>
      <h1>New pipeline</h1>
      <div className="editor-layout">
        <SpecEditor slug={slug} initial={starterSpec} canWrite onSaved={p => navigate(pipelinePage(slug, p.name))} />
        <OperatorCatalogue slug={slug} />
      </div>
    </section>
  );
}
