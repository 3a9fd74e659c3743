import { useCallback, useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link, navigate } from '../app/router';
import { Upload } from './Upload';
import { versionPage } from './links';

type Dataset = Schemas['DatasetDto'];
type Version = Schemas['VersionDto'];

const datasetPage = (slug: string, name: string) => `/p/${encodeURIComponent(slug)}/datasets/${encodeURIComponent(name)}`;

/** Datasets of the project and, for the one in the address, its versions and (for managers) the upload of a new one. */
export function Datasets({ slug, dataset, canWrite }: { slug: string; dataset?: string; canWrite: boolean }) {
  const [datasets, setDatasets] = useState<Dataset[] | null>(null);
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadDatasets = useCallback(() => api.GET('/api/projects/{project}/datasets', { params: { path: { project: slug }, query: { limit: 200 } } })
    .then(({ data, error: e }) => data ? setDatasets(data.items) : setError(problemMessage(e))), [slug]);

  const loadVersions = useCallback(async () => {
    if (!dataset) return null;
    const { data, error: e } = await api.GET('/api/projects/{project}/datasets/{dataset}/versions', { params: { path: { project: slug, dataset }, query: { limit: 200 } } });
    if (!data) { setError(problemMessage(e)); return null; }
    setVersions(data.items);
    return data.items;
  }, [slug, dataset]);

  useEffect(() => { void loadDatasets(); }, [loadDatasets]);
  useEffect(() => { setVersions(null); void loadVersions(); }, [loadVersions]);

  async function committed() {
    await loadDatasets();
    return (await loadVersions())?.[0]?.number;
  }

  if (error) return <p role="alert">{error}</p>;
  if (!datasets) return <p className="loading">Loading…</p>;
  return (
    <section className="datasets">
      <nav aria-label="Datasets">
        <h1>Datasets</h1>
        {datasets.length === 0 && <p>No datasets yet. Create one below, or push one with <code>cube dataset push</code>.</p>}
        <ul>{datasets.map(d => (
          <li key={d.id}><button type="button" aria-pressed={d.name === dataset} onClick={() => navigate(datasetPage(slug, d.name))}>
            <strong>{d.name}</strong> · {d.kind} · v{d.latestVersion}
          </button></li>
        ))}</ul>
        {canWrite && <NewDataset slug={slug} onCreated={async name => { await loadDatasets(); navigate(datasetPage(slug, name)); }} />}
      </nav>
      <div>
        {dataset && !versions && <p className="loading">Loading…</p>}
        {dataset && versions && (versions.length === 0 ? <p>{dataset} has no versions yet.</p> : (
          <table className="grid" aria-label="Versions">
            <thead><tr><th>Version</th><th>Message</th><th>Files</th><th>Bytes</th><th>Created</th></tr></thead>
            <tbody>{versions.map(v => (
              <tr key={v.id}>
                <td><Link to={versionPage(slug, dataset, v.number)}>v{v.number}</Link> {v.tags.map(t => <code key={t}>{t}</code>)}</td><td>{v.message}</td><td>{v.fileCount}</td>
                <td>{v.totalBytes.toLocaleString()}</td><td>{new Date(v.createdAt).toLocaleString()}</td>
              </tr>
            ))}</tbody>
          </table>
        ))}
        {dataset && canWrite && <Upload key={dataset} slug={slug} dataset={dataset} onCommitted={committed} />}
      </div>
    </section>
  );
}

function NewDataset({ slug, onCreated }: { slug: string; onCreated: (name: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState('mixed');
  const [error, setError] = useState<string | null>(null);
  async function create(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    const { data, error: problem } = await api.POST('/api/projects/{project}/datasets', {
      params: { path: { project: slug } }, body: { name: name.trim(), kind, description: null, tags: null },
    });
    if (!data) { setError(problemMessage(problem)); return; }
    setName('');
    await onCreated(data.name);
  }
  return (
    <form className="new-dataset" onSubmit={e => void create(e)} aria-label="New dataset">
      <h2>New dataset</h2>
      <input aria-label="Dataset name" placeholder="name" value={name} onChange={e => setName(e.target.value)} required />
      <select aria-label="Kind" value={kind} onChange={e => setKind(e.target.value)}>
        {['mixed', 'tabular', 'image', 'text'].map(k => <option key={k} value={k}>{k}</option>)}
      </select>
      <button type="submit">Create</button>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
