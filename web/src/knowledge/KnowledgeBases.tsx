import { useCallback, useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link, navigate } from '../app/router';
import { chatPage, kbPage } from './links';

type KnowledgeBase = Schemas['KnowledgeBaseDto'];

/** The project's knowledge bases with their sizes; managers create new ones here. */
export function KnowledgeBases({ slug, canCreate }: { slug: string; canCreate: boolean }) {
  const [bases, setBases] = useState<KnowledgeBase[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => api.GET('/api/projects/{project}/knowledge', { params: { path: { project: slug } } })
    .then(({ data, error: e }) => data ? setBases(data) : setError(problemMessage(e)))
    .catch(e => setError(problemMessage(e))), [slug]);
  useEffect(() => { void load(); }, [load]);

  if (error) return <p role="alert">{error}</p>;
  if (!bases) return <p className="loading">Loading…</p>;
  return (
    <section className="knowledge">
      <h1>Knowledge bases</h1>
      {bases.length === 0 ? <p>No knowledge bases yet.{canCreate ? ' Create one below.' : ''}</p> : (
        <table className="grid" aria-label="Knowledge bases">
          <thead><tr><th>Name</th><th>Description</th><th>Documents</th><th>Chunks</th><th>Embeddings</th><th>Updated</th><th /></tr></thead>
          <tbody>{bases.map(kb => (
            <tr key={kb.id}>
              <td><Link to={kbPage(slug, kb.name)}>{kb.name}</Link></td>
              <td>{kb.description}</td><td>{kb.documents}</td><td>{kb.chunks}</td><td><code>{kb.embeddingModel}</code></td>
              <td>{new Date(kb.updatedAt).toLocaleString()}</td>
              <td><Link to={chatPage(slug, kb.name)}>Chat</Link></td>
            </tr>
          ))}</tbody>
        </table>
      )}
      {canCreate && <NewKnowledgeBase slug={slug} onCreated={name => navigate(kbPage(slug, name))} />}
    </section>
  );
}

function NewKnowledgeBase({ slug, onCreated }: { slug: string; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function create(e: React.FormEvent) {
    e.preventDefault();
    setError(null); setBusy(true);
    try {
      const { data, error: problem } = await api.POST('/api/projects/{project}/knowledge', {
        params: { path: { project: slug } }, body: { name: name.trim(), description: description.trim() || null },
      });
      if (!data) { setError(problemMessage(problem)); return; }
      onCreated(data.name);
    } catch (x) {
      setError(problemMessage(x));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="new-kb" onSubmit={e => void create(e)} aria-label="New knowledge base">
      <h2>New knowledge base</h2>
      <input aria-label="Knowledge base name" placeholder="name" value={name} onChange={e => setName(e.target.value)} required maxLength={128} />
      <input aria-label="Description" placeholder="description (optional)" value={description} onChange={e => setDescription(e.target.value)} size={50} />
      <button type="submit" className="primary" disabled={busy}>Create</button>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
