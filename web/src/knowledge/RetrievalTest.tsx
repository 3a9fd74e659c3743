import { useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Snippet } from './Citations';

type Hit = Schemas['RetrievedChunk'];
const modes = ['hybrid', 'bm25', 'vector'] as const;

/** A query against the knowledge base, to see what retrieval returns: ranked chunks with scores, sections and pages. */
export function RetrievalTest({ slug, kb }: { slug: string; kb: string }) {
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState<(typeof modes)[number]>('hybrid');
  const [k, setK] = useState(10);
  const [hits, setHits] = useState<{ mode: string; hits: Hit[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function search(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const { data, error: problem } = await api.POST('/api/projects/{project}/knowledge/{kb}/search', {
        params: { path: { project: slug, kb } }, body: { query, mode, k, documents: null, tags: null },
      });
      if (data) setHits(data); else { setHits(null); setError(problemMessage(problem)); }
    } catch (x) {
      setError(problemMessage(x));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="retrieval" aria-label="Retrieval test">
      <h2>Retrieval test</h2>
      <form className="actions" onSubmit={e => void search(e)}>
        <input aria-label="Query" placeholder="a question or keywords" value={query} onChange={e => setQuery(e.target.value)} required size={50} />
        <label>Mode <select aria-label="Search mode" value={mode} onChange={e => setMode(e.target.value as (typeof modes)[number])}>
          {modes.map(m => <option key={m} value={m}>{m}</option>)}
        </select></label>
        <label>Top k <input aria-label="Top k" type="number" min={1} max={100} value={k} onChange={e => setK(Number(e.target.value))} style={{ width: 64 }} /></label>
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Searching…' : 'Search'}</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {hits && (hits.hits.length === 0 ? <p>No chunk matches.</p> : (
        <ol className="hits" aria-label="Search results">
          {hits.hits.map(h => (
            <li key={h.chunkId} data-testid="hit">
              <div className="hit-head">
                <strong>{h.title || h.document}</strong>
                {h.title && h.title !== h.document && <span className="muted"> ({h.document})</span>}
                {h.headingPath && <span className="muted"> · {h.headingPath}</span>}
                {h.page != null && <span> · page {h.page}</span>}
                <span className="score" title={`BM25 rank ${h.bm25Rank ?? '–'}, vector rank ${h.vectorRank ?? '–'}`}>score {h.score.toFixed(4)}</span>
              </div>
              <p className="snippet"><Snippet text={h.snippet} /></p>
              <details><summary>Whole chunk</summary><p className="chunk-text">{h.text}</p></details>
            </li>
          ))}
        </ol>
      ))}
    </section>
  );
}
