import { useCallback, useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link } from '../app/router';
import { versionPage } from '../datasets/links';
import { metricValue } from './format';
import { jobPage, modelArtifactUrl, modelsPage } from './links';

type Version = Schemas['ModelVersionDto'];
interface Column { name: string; type: string }

/** A model's versions, newest first: flavour, metrics, signature, lineage to the run and the dataset versions, aliases. */
export function ModelPage({ slug, model, canManage }: { slug: string; model: string; canManage: boolean }) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => api.GET('/api/projects/{project}/training/models/{model}/versions', { params: { path: { project: slug, model } } })
    .then(({ data, error: e }) => { if (data) { setVersions(data); setError(null); } else setError(problemMessage(e)); })
    .catch(e => setError(problemMessage(e))), [slug, model]);
  useEffect(() => { void load(); }, [load]);

  if (!versions) return error ? <p role="alert">{error}</p> : <p className="loading">Loading…</p>;
  return (
    <section className="training model">
      <p><Link to={modelsPage(slug)}>← Model registry</Link></p>
      <h1>{model}</h1>
      {error && <p role="alert" className="error">{error}</p>}
      {versions.length === 0 && <p>No versions yet.</p>}
      {versions.map(v => <VersionCard key={v.id} slug={slug} model={model} version={v} canManage={canManage} onPromoted={load} />)}
    </section>
  );
}

function VersionCard({ slug, model, version: v, canManage, onPromoted }: { slug: string; model: string; version: Version; canManage: boolean; onPromoted: () => Promise<unknown> }) {
  const metrics = Object.entries((v.metrics ?? {}) as Record<string, number>).sort(([a], [b]) => a.localeCompare(b));
  const signature = v.signature as { inputs?: Column[]; outputs?: Column[] } | null | undefined;
  return (
    <article className="version" data-testid="model-version" data-number={v.number} aria-label={`Version ${v.number}`}>
      <h2>v{v.number} <span className="muted">{v.flavor}</span> {v.aliases.map(a => <span key={a} className="alias" data-testid="alias">{a}</span>)}</h2>
      {v.description && <p>{v.description}</p>}
      <dl>
        <dt>Artifact</dt><dd><a href={modelArtifactUrl(slug, model, v.number)} download>{v.artifactPath}</a> <span className="muted">{v.size.toLocaleString()} bytes, sha256 {v.sha256.slice(0, 12)}</span></dd>
        <dt>Run</dt><dd><Link to={jobPage(slug, v.jobId)}>training job</Link></dd>
        {v.lineage.length > 0 && <><dt>Data</dt><dd>{v.lineage.map(l => <Link key={l.datasetVersionId} to={versionPage(slug, l.dataset, l.version)}>{l.dataset} v{l.version}</Link>)}</dd></>}
        <dt>Registered</dt><dd>{new Date(v.createdAt).toLocaleString()}</dd>
      </dl>
      {metrics.length > 0 && (
        <table className="grid" aria-label={`Metrics of v${v.number}`}>
          <tbody>{metrics.map(([k, value]) => <tr key={k}><th>{k}</th><td>{typeof value === 'number' ? metricValue(value) : String(value)}</td></tr>)}</tbody>
        </table>
      )}
      {signature && (
        <div className="signature" aria-label={`Signature of v${v.number}`}>
          <p><strong>Inputs</strong> {(signature.inputs ?? []).map(c => <code key={c.name}>{c.name}: {c.type}</code>)}</p>
          <p><strong>Outputs</strong> {(signature.outputs ?? []).map(c => <code key={c.name}>{c.name}: {c.type}</code>)}</p>
        </div>
      )}
      {canManage && <Promote slug={slug} model={model} version={v.number} onPromoted={onPromoted} />}
    </article>
  );
}

/** Points an alias (staging, production or any lower-case name) at this version; the server moves it from the one it was on. */
function Promote({ slug, model, version, onPromoted }: { slug: string; model: string; version: number; onPromoted: () => Promise<unknown> }) {
  const [stage, setStage] = useState('staging');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function promote(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const { error: problem } = await api.POST('/api/projects/{project}/training/models/{model}/versions/{version}/promote', {
        params: { path: { project: slug, model, version: String(version) } }, body: { stage: stage.trim() },
      });
      if (problem) { setError(problemMessage(problem)); return; }
      await onPromoted();
    } catch (x) {
      setError(problemMessage(x));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="actions" onSubmit={e => void promote(e)} aria-label={`Set an alias on v${version}`}>
      <input aria-label={`Alias for v${version}`} list="stages" value={stage} onChange={e => setStage(e.target.value)} required size={14} />
      <datalist id="stages"><option value="staging" /><option value="production" /></datalist>
      <button type="submit" disabled={busy}>Point alias here</button>
      {error && <span role="alert" className="error">{error}</span>}
    </form>
  );
}
