import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link } from './router';
import { roleRank } from './session';

/** The labeling projects of a Cube project, with what the caller's role lets them do in each. */
export function ProjectHome({ slug, rank }: { slug: string; rank: number }) {
  const [items, setItems] = useState<Schemas['LabelingProjectDto'][] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setItems(null);
    api.GET('/api/projects/{project}/labeling', { params: { path: { project: slug } } })
      .then(({ data, error: e }) => data ? setItems(data) : setError(problemMessage(e)))
      .catch(e => setError(problemMessage(e)));
  }, [slug]);

  if (error) return <p role="alert">{error}</p>;
  if (!items) return <p className="loading">Loading…</p>;
  return (
    <section>
      <h1>Labeling</h1>
      {items.length === 0 && <p>No labeling projects yet.</p>}
      <table className="grid">
        <thead><tr><th>Name</th><th>Kind</th><th>Progress</th><th /></tr></thead>
        <tbody>
          {items.map(p => {
            const progress = p.progress;
            const kind = String((p.config as { kind?: string }).kind ?? '');
            return (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{kind}</td>
                <td>{progress ? `${progress.completedTasks} / ${progress.tasks} tasks` : '–'}</td>
                <td className="actions">
                  {rank >= (roleRank.annotator as number) && <Link className="button" to={`/p/${slug}/labeling/${p.id}/work`}>Label</Link>}
                  {rank >= (roleRank.reviewer as number) && <Link to={`/p/${slug}/labeling/${p.id}/review`}>Review</Link>}
                  {rank >= (roleRank.reviewer as number) && <Link to={`/p/${slug}/labeling/${p.id}`}>Dashboard</Link>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
