import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link } from '../app/router';
import { jobsPage, modelPage } from './links';

/** The project's registered models with their latest version and where each alias (stage) points. */
export function Models({ slug }: { slug: string }) {
  const [models, setModels] = useState<Schemas['ModelDto'][] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setModels(null);
    api.GET('/api/projects/{project}/training/models', { params: { path: { project: slug } } })
      .then(({ data, error: e }) => data ? setModels(data) : setError(problemMessage(e)))
      .catch(e => setError(problemMessage(e)));
  }, [slug]);

  if (error) return <p role="alert">{error}</p>;
  if (!models) return <p className="loading">Loading…</p>;
  return (
    <section className="training models">
      <p><Link to={jobsPage(slug)}>← Training jobs</Link></p>
      <h1>Model registry</h1>
      {models.length === 0 ? <p>No registered models yet. ML.NET jobs register theirs; other jobs through the API.</p> : (
        <table className="grid" aria-label="Models">
          <thead><tr><th>Name</th><th>Description</th><th>Latest</th><th>Aliases</th><th>Created</th></tr></thead>
          <tbody>{models.map(m => (
            <tr key={m.id} data-testid="model" data-name={m.name}>
              <td><Link to={modelPage(slug, m.name)}>{m.name}</Link></td>
              <td>{m.description}</td>
              <td>{m.latestVersion > 0 ? `v${m.latestVersion}` : '–'}</td>
              <td>{Object.entries(m.aliases).sort(([a], [b]) => a.localeCompare(b)).map(([alias, v]) => <span key={alias} className="alias">{alias} → v{v}</span>)}</td>
              <td>{new Date(m.createdAt).toLocaleString()}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
