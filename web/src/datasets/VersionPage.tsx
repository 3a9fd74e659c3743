import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link, navigate } from '../app/router';
import { useSession } from '../app/session';
import { ColumnStats } from './ColumnStats';
import { DiffView } from './DiffView';
import { ImageGrid } from './ImageGrid';
import { LineageGraph, withHistory } from './LineageGraph';
import { fileUrl, versionPage } from './links';

type Version = Schemas['VersionDto'];
type Tab = 'tables' | 'images' | 'files' | 'compare' | 'lineage';
const tabs: { id: Tab; label: string }[] = [
  { id: 'tables', label: 'Tables' }, { id: 'images', label: 'Images' }, { id: 'files', label: 'Files' },
  { id: 'compare', label: 'Compare' }, { id: 'lineage', label: 'Lineage' },
];

/** One version of a dataset: its tables with preview and column statistics, images, files, diff and lineage. */
export function VersionPage({ slug, dataset, version }: { slug: string; dataset: string; version: string }) {
  const [info, setInfo] = useState<Version | null>(null);
  const [tab, setTab] = useState<Tab>('tables');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setInfo(null); setError(null);
    api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}', { params: { path: { project: slug, dataset, version } } })
      .then(({ data, error: e }) => data ? setInfo(data) : setError(problemMessage(e)));
  }, [slug, dataset, version]);

  if (error) return <p role="alert">{error}</p>;
  if (!info) return <p className="loading">Loading…</p>;
  const number = String(info.number);
  return (
    <section className="version-page">
      <p><Link to={`/p/${encodeURIComponent(slug)}/datasets/${encodeURIComponent(dataset)}`}>← {dataset}</Link></p>
      <h1>{dataset} v{info.number} {info.tags.map(t => <code key={t}>{t}</code>)}</h1>
      <p className="muted">{info.message || 'No message'} · {info.fileCount} files · {info.totalBytes.toLocaleString()} bytes · {info.sourceKind} · {new Date(info.createdAt).toLocaleString()}</p>
      <div role="tablist" className="tabs">
        {tabs.map(t => <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} onClick={() => setTab(t.id)}>{t.label}</button>)}
      </div>
      <div role="tabpanel" aria-label={tabs.find(t => t.id === tab)?.label}>
        {tab === 'tables' && <Tables slug={slug} dataset={dataset} version={number} />}
        {tab === 'images' && <ImageGrid slug={slug} dataset={dataset} version={number} />}
        {tab === 'files' && <Files slug={slug} dataset={dataset} version={number} />}
        {tab === 'compare' && <Compare slug={slug} dataset={dataset} to={info.number} parent={info.parentId} />}
        {tab === 'lineage' && <Lineage slug={slug} dataset={dataset} version={number} />}
      </div>
    </section>
  );
}

function Tables({ slug, dataset, version }: { slug: string; dataset: string; version: string }) {
  const [tables, setTables] = useState<Schemas['TableSummaryDto'][] | null>(null);
  const [path, setPath] = useState<string | null>(null);
  const [detail, setDetail] = useState<Schemas['TableDetailDto'] | null>(null);
  const [preview, setPreview] = useState<Schemas['PreviewDto'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const where = { project: slug, dataset, version };

  useEffect(() => {
    api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}/tables', { params: { path: { project: slug, dataset, version } } })
      .then(({ data, error: e }) => {
        if (!data) { setError(problemMessage(e)); return; }
        setTables(data);
        setPath(data[0]?.path ?? null);
      });
  }, [slug, dataset, version]);

  useEffect(() => {
    setDetail(null); setPreview(null);
    if (!path) return;
    const params = { path: { project: slug, dataset, version }, query: { path } };
    api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}/table', { params })
      .then(({ data, error: e }) => data ? setDetail(data) : setError(problemMessage(e)));
    api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}/table/preview', { params: { ...params, query: { path, limit: 50 } } })
      .then(({ data, error: e }) => data ? setPreview(data) : setError(problemMessage(e)));
  }, [slug, dataset, version, path]);

  if (error) return <p role="alert">{error}</p>;
  if (!tables) return <p className="loading">Loading…</p>;
  if (tables.length === 0) return <p className="muted">This version has no tables.</p>;
  return (
    <>
      <div className="actions" aria-label="Tables">
        {tables.map(t => <button key={t.path} type="button" aria-pressed={t.path === path} onClick={() => setPath(t.path)}>{t.path} ({t.rowCount.toLocaleString()} rows)</button>)}
        {path && <a href={`/api/projects/${encodeURIComponent(where.project)}/datasets/${encodeURIComponent(dataset)}/versions/${version}/table/export?path=${encodeURIComponent(path)}&format=csv`}>Export CSV</a>}
      </div>
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
      <h2>Column statistics</h2>
      {detail ? <ColumnStats columns={detail.statistics} /> : <p className="loading">Loading…</p>}
    </>
  );
}

function Files({ slug, dataset, version }: { slug: string; dataset: string; version: string }) {
  const [files, setFiles] = useState<Schemas['FileDto'][]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  async function load(cursor?: string) {
    const { data, error: e } = await api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}/files', {
      params: { path: { project: slug, dataset, version }, query: { limit: 500, ...(cursor ? { cursor } : {}) } },
    });
    if (!data) { setError(problemMessage(e)); return; }
    setFiles(previous => cursor ? [...previous, ...data.items] : data.items);
    setNext(data.nextCursor);
  }
  useEffect(() => { setFiles([]); setNext(undefined); void load(); }, [slug, dataset, version]);

  if (error) return <p role="alert">{error}</p>;
  if (next === undefined) return <p className="loading">Loading…</p>;
  return (
    <>
      <table className="grid" aria-label="Files">
        <thead><tr><th>Path</th><th>Size</th><th>Type</th></tr></thead>
        <tbody>{files.map(f => (
          <tr key={f.path}><td><a href={fileUrl(slug, dataset, version, f.path)} download>{f.path}</a></td><td>{f.size.toLocaleString()}</td><td>{f.contentType ?? ''}{f.isTable ? ' (table)' : ''}</td></tr>
        ))}</tbody>
      </table>
      {next && <button type="button" onClick={() => void load(next)}>More files</button>}
    </>
  );
}

function Compare({ slug, dataset, to, parent }: { slug: string; dataset: string; to: number; parent: string | null }) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [pair, setPair] = useState<{ from: number; to: number } | null>(null);
  const [diff, setDiff] = useState<Schemas['DiffDto'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.GET('/api/projects/{project}/datasets/{dataset}/versions', { params: { path: { project: slug, dataset }, query: { limit: 200 } } })
      .then(({ data, error: e }) => {
        if (!data) { setError(problemMessage(e)); return; }
        setVersions(data.items);
        // By default: what this version changed against its parent (or the version before it).
        const before = data.items.find(v => v.id === parent) ?? data.items.find(v => v.number < to);
        setPair({ from: before?.number ?? to, to });
      });
  }, [slug, dataset, to, parent]);

  useEffect(() => {
    setDiff(null);
    if (!pair) return;
    api.GET('/api/projects/{project}/datasets/{dataset}/diff', { params: { path: { project: slug, dataset }, query: { from: String(pair.from), to: String(pair.to) } } })
      .then(({ data, error: e }) => data ? setDiff(data) : setError(problemMessage(e)));
  }, [slug, dataset, pair]);

  if (error) return <p role="alert">{error}</p>;
  if (!versions || !pair) return <p className="loading">Loading…</p>;
  const picker = (label: string, value: number, set: (n: number) => void) => (
    <label>{label} <select aria-label={label} value={value} onChange={e => set(Number(e.target.value))}>
      {versions.map(v => <option key={v.id} value={v.number}>v{v.number}{v.message ? ` · ${v.message}` : ''}</option>)}
    </select></label>
  );
  return (
    <>
      <div className="actions">
        {picker('From', pair.from, n => setPair({ ...pair, from: n }))}
        {picker('To', pair.to, n => setPair({ ...pair, to: n }))}
      </div>
      {diff ? <DiffView diff={diff} /> : <p className="loading">Loading…</p>}
    </>
  );
}

function Lineage({ slug, dataset, version }: { slug: string; dataset: string; version: string }) {
  const { me } = useSession();
  const [graph, setGraph] = useState<Schemas['LineageGraphDto'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Promise.all([
      api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}/lineage', { params: { path: { project: slug, dataset, version }, query: { depth: 5 } } }),
      api.GET('/api/projects/{project}/datasets/{dataset}/versions', { params: { path: { project: slug, dataset }, query: { limit: 200 } } }),
    ]).then(([lineage, history]) => {
      if (lineage.data && history.data) setGraph(withHistory(lineage.data, history.data.items));
      else setError(problemMessage(lineage.error ?? history.error));
    });
  }, [slug, dataset, version]);
  if (error) return <p role="alert">{error}</p>;
  if (!graph) return <p className="loading">Loading…</p>;
  return (
    <LineageGraph graph={graph} onOpen={node => {
      // A version of another project opens under that project's slug, when the caller is a member there.
      const project = me.projects.find(p => p.projectId === node.projectId)?.slug ?? slug;
      navigate(versionPage(project, node.dataset, node.number));
    }} />
  );
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
