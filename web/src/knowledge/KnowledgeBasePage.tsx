import { useCallback, useEffect, useRef, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link, navigate } from '../app/router';
import { DocumentUpload } from './DocumentUpload';
import { FileButton } from './FileButton';
import { chatPage, knowledgePage } from './links';
import { RetrievalTest } from './RetrievalTest';
import { uploadDocuments } from './upload';

type KnowledgeBase = Schemas['KnowledgeBaseDto'];
type Document = Schemas['DocumentDto'];
type Run = Schemas['RunDto'];

const pollMs = 1000;
const busy = (d: Document) => d.state === 'queued' || d.state === 'processing';

/**
 * A knowledge base: its documents with their ingestion state (polled while any is queued or processing, with the
 * progress of the runs ingesting them), upload, replace and delete for annotators up, and a retrieval test.
 */
export function KnowledgeBasePage({ slug, kb, canWrite, canManage }: { slug: string; kb: string; canWrite: boolean; canManage: boolean }) {
  const [base, setBase] = useState<KnowledgeBase | null>(null);
  const [documents, setDocuments] = useState<Document[] | null>(null);
  const [runs, setRuns] = useState<Record<string, Run>>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const path = { project: slug, kb };

  const load = useCallback(async () => {
    const [b, d] = await Promise.all([
      api.GET('/api/projects/{project}/knowledge/{kb}', { params: { path: { project: slug, kb } } }),
      api.GET('/api/projects/{project}/knowledge/{kb}/documents', { params: { path: { project: slug, kb } } }),
    ]);
    if (!b.data) { setError(problemMessage(b.error)); return null; }
    setBase(b.data);
    if (d.data) setDocuments(d.data); else setError(problemMessage(d.error));
    return d.data ?? null;
  }, [slug, kb]);

  useEffect(() => { load().catch(e => setError(problemMessage(e))); }, [load]);

  // Live ingestion: while a document is queued or processing, re-read the documents and the runs working on them.
  const ingesting = documents?.filter(busy) ?? [];
  const runIds = [...new Set(ingesting.flatMap(d => d.runId ? [d.runId] : []))].sort().join(',');
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    if (ingesting.length === 0) return;
    let stopped = false;
    const timer = setInterval(() => {
      void (async () => {
        const ids = runIds ? runIds.split(',') : [];
        const read = await Promise.all(ids.map(id => api.GET('/api/runs/{id}', { params: { path: { id } } }).then(r => r.data).catch(() => undefined)));
        if (stopped) return;
        setRuns(previous => ({ ...previous, ...Object.fromEntries(read.flatMap(r => r ? [[r.id, r]] : [])) }));
        await loadRef.current().catch(() => undefined);
      })();
    }, pollMs);
    return () => { stopped = true; clearInterval(timer); };
  }, [ingesting.length, runIds]);

  async function remove(d: Document) {
    setNotice(null);
    const { error: e, response } = await api.DELETE('/api/projects/{project}/knowledge/{kb}/documents/{document}', { params: { path: { ...path, document: d.id } } });
    if (!response.ok) { setNotice(problemMessage(e)); return; }
    await load();
    setNotice(`Deleted ${d.name}.`);
  }

  async function replace(d: Document, file: File) {
    setNotice(null);
    // The server replaces the document whose name the upload carries, so the new content goes under the old name.
    const { results, errors } = await uploadDocuments(uploadUrl, [{ path: d.name, file }], '', () => undefined);
    await load();
    if (errors.length > 0) setNotice(errors.join(' '));
    else setNotice(results[0]?.queued.length ? `Replacing ${d.name}: queued for ingestion.` : `${d.name} is unchanged.`);
  }

  async function deleteBase() {
    if (!base) return;
    const { error: e, response } = await api.DELETE('/api/projects/{project}/knowledge/{kb}', { params: { path } });
    if (!response.ok) { setNotice(problemMessage(e)); return; }
    navigate(knowledgePage(slug));
  }

  const uploadUrl = `/api/projects/${encodeURIComponent(slug)}/knowledge/${encodeURIComponent(kb)}/documents`;
  if (error) return <p role="alert">{error}</p>;
  if (!base || !documents) return <p className="loading">Loading…</p>;
  const activeRuns = [...new Set(ingesting.flatMap(d => d.runId ? [d.runId] : []))].map(id => runs[id]).filter((r): r is Run => !!r);
  return (
    <section className="knowledge-base">
      <div className="actions page-head">
        <h1>{base.name}</h1>
        <span className="muted">{base.documents} documents · {base.chunks} chunks · <code>{base.embeddingModel}</code></span>
        <Link className="button" to={chatPage(slug, base.name)}>Chat</Link>
        <Link to={knowledgePage(slug)}>All knowledge bases</Link>
        {canManage && <ConfirmButton label="Delete knowledge base" confirm={`Delete ${base.name} with its documents?`} onConfirm={deleteBase} />}
      </div>
      {base.description && <p>{base.description}</p>}

      {ingesting.length > 0 && (
        <div className="banner info ingestion" role="status" aria-label="Ingestion progress">
          Ingesting {ingesting.length} of {documents.length} documents…
          {activeRuns.map(r => (
            <span key={r.id} className="run">
              <progress aria-label={`Run ${r.id}`} max={1} value={r.progress} /> {Math.round(r.progress * 100)}% {r.message}
            </span>
          ))}
        </div>
      )}
      {notice && <p className="banner info" role="status">{notice}</p>}

      {documents.length === 0 ? <p>No documents yet.{canWrite ? ' Add files or a folder below.' : ''}</p> : (
        <table className="grid documents" aria-label="Documents">
          <thead><tr><th>Document</th><th>State</th><th>Chunks</th><th>Pages</th><th>Size</th><th>Tags</th><th>Updated</th>{canWrite && <th />}</tr></thead>
          <tbody>{documents.map(d => (
            <tr key={d.id} data-testid="document" data-name={d.name} data-state={d.state}>
              <td>{d.name}{d.title && d.title !== d.name && <div className="muted">{d.title}</div>}</td>
              <td><span className={`state ${d.state}`}>{d.state}</span>{d.error && <div className="error" data-testid="document-error">{d.error}</div>}</td>
              <td>{d.chunks}</td><td>{d.pages ?? '–'}</td><td>{d.sizeBytes.toLocaleString()} B</td>
              <td>{d.tags.map(t => <code key={t}>{t}</code>)}</td>
              <td>{new Date(d.updatedAt).toLocaleString()}</td>
              {canWrite && (
                <td><div className="actions">
                  <FileButton className="button secondary" text="Replace" label={`Replace ${d.name}`} onFiles={list => { if (list[0]) void replace(d, list[0]); }} />
                  <ConfirmButton label={`Delete ${d.name}`} text="Delete" confirm={`Delete ${d.name}?`} onConfirm={() => remove(d)} />
                </div></td>
              )}
            </tr>
          ))}</tbody>
        </table>
      )}

      {canWrite && <DocumentUpload url={uploadUrl} onUploaded={() => void load()} />}
      <RetrievalTest slug={slug} kb={base.name} />
    </section>
  );
}

/** A destructive action in two presses (the second on "Yes"), without a modal dialog; Escape backs out. */
function ConfirmButton({ label, text, confirm, onConfirm }: { label: string; text?: string; confirm: string; onConfirm: () => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  if (!asking) return <button type="button" aria-label={label} onClick={() => setAsking(true)}>{text ?? label}</button>;
  return (
    <span className="confirm" role="group" aria-label={confirm} onKeyDown={e => { if (e.key === 'Escape') setAsking(false); }}>
      {confirm} <button type="button" autoFocus onClick={() => { setAsking(false); void onConfirm(); }}>Yes</button>
      <button type="button" onClick={() => setAsking(false)}>No</button>
    </span>
  );
}
