import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';

type Dataset = Schemas['DatasetDto'];
type Version = Schemas['VersionDto'];
type Table = Schemas['TableSummaryDto'];
type Preview = Schemas['PreviewDto'];

/** Datasets of the project, a dataset's versions, and a preview of a version's tables. */
export function Datasets({ slug }: { slug: string }) {
  const [datasets, setDatasets] = useState<Dataset[] | null>(null);
  const [dataset, setDataset] = useState<string | null>(null);
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [tables, setTables] = useState<Table[] | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.GET('/api/projects/{project}/datasets', { params: { path: { project: slug }, query: { limit: 200 } } })
      .then(({ data, error: e }) => data ? setDatasets(data.items) : setError(problemMessage(e)));
  }, [slug]);

  useEffect(() => {
    setVersions(null); setVersion(null);
    if (!dataset) return;
    api.GET('/api/projects/{project}/datasets/{dataset}/versions', { params: { path: { project: slug, dataset }, query: { limit: 200 } } })
      .then(({ data, error: e }) => data ? setVersions(data.items) : setError(problemMessage(e)));
  }, [slug, dataset]);

  useEffect(() => {
    setTables(null); setPreview(null);
    if (!dataset || version === null) return;
    api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}/tables', { params: { path: { project: slug, dataset, version: String(version) } } })
      .then(({ data, error: e }) => data ? setTables(data) : setError(problemMessage(e)));
  }, [slug, dataset, version]);

  async function showTable(path: string) {
    if (!dataset || version === null) return;
    const { data, error: e } = await api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}/table/preview', {
      params: { path: { project: slug, dataset, version: String(version) }, query: { path, limit: 50 } },
    });
    if (data) setPreview(data); else setError(problemMessage(e));
  }

  if (error) return <p role="alert">{error}</p>;
  if (!datasets) return <p className="loading">Loading…</p>;
  return (
    <section className="datasets">
      <nav aria-label="Datasets">
        <h1>Datasets</h1>
        {datasets.length === 0 && <p>No datasets yet. Push one with <code>cube dataset push</code>.</p>}
        <ul>{datasets.map(d => (
          <li key={d.id}><button type="button" aria-pressed={d.name === dataset} onClick={() => setDataset(d.name)}>
            <strong>{d.name}</strong> · {d.kind} · v{d.latestVersion}
          </button></li>
        ))}</ul>
      </nav>
      <div>
        {versions && (
          <table className="grid" aria-label="Versions">
            <thead><tr><th>Version</th><th>Message</th><th>Files</th><th>Bytes</th><th>Created</th></tr></thead>
            <tbody>{versions.map(v => (
              <tr key={v.id} className={v.number === version ? 'selected' : ''} onClick={() => setVersion(v.number)} style={{ cursor: 'pointer' }}>
                <td>v{v.number} {v.tags.map(t => <code key={t}>{t}</code>)}</td><td>{v.message}</td><td>{v.fileCount}</td>
                <td>{v.totalBytes.toLocaleString()}</td><td>{new Date(v.createdAt).toLocaleString()}</td>
              </tr>
            ))}</tbody>
          </table>
        )}
        {tables && (tables.length === 0 ? <p>This version has no tables.</p> : (
          <p>Tables: {tables.map(t => <button key={t.path} type="button" onClick={() => void showTable(t.path)}>{t.path} ({t.rowCount} rows)</button>)}</p>
        ))}
        {preview && (
          <div className="preview">
            <table className="grid" aria-label={`Preview of ${preview.path}`}>
              <thead><tr>{preview.columns.map(c => <th key={c}>{c}</th>)}</tr></thead>
              <tbody>{preview.rows.map((row, i) => (
                <tr key={i}>{preview.columns.map(c => <td key={c}>{format((row as Record<string, unknown>)[c])}</td>)}</tr>
              ))}</tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
