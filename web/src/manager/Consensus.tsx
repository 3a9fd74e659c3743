import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Histogram } from '../datasets/Histogram';

type Consensus = Schemas['TaskConsensusDto'];
export type ConsensusMethod = 'ds' | 'mv';

/** What a consensus result says, in a few words: the label with its vote share, or the boxes' or spans' labels. */
export function resultSummary(c: Consensus): string {
  if (c.boxes) return c.boxes.length === 0 ? 'no boxes' : `${c.boxes.length} box${c.boxes.length === 1 ? '' : 'es'}: ${c.boxes.map(b => b.box.label).join(', ')}`;
  if (c.spans) return c.spans.length === 0 ? 'no spans' : `${c.spans.length} span${c.spans.length === 1 ? '' : 's'}: ${c.spans.map(s => s.span.label).join(', ')}`;
  const label = c.label || '(none)';
  const others = Object.entries(c.distribution ?? {}).filter(([l, p]) => l !== c.label && p > 0).sort(([, a], [, b]) => b - a);
  return others.length === 0 ? label : `${label} (also ${others.map(([l, p]) => `${l || '(none)'} ${Math.round(p * 100)}%`).join(', ')})`;
}

/** Confidence in ten equal bins over [0, 1]; a confidence of exactly 1 falls in the last bin. */
export function confidenceBins(results: Consensus[], count = 10): { lower: number; upper: number; count: number }[] {
  const bins = Array.from({ length: count }, (_, i) => ({ lower: i / count, upper: (i + 1) / count, count: 0 }));
  for (const r of results) {
    const bin = bins[Math.min(count - 1, Math.max(0, Math.floor(r.confidence * count)))];
    if (bin) bin.count++;
  }
  return bins;
}

/** Lowest confidence first (the tasks worth a second look), ties by task id so the order is stable. */
export function byConfidence(results: Consensus[]): Consensus[] {
  return [...results].sort((a, b) => a.confidence - b.confidence || a.taskId.localeCompare(b.taskId));
}

/**
 * The consensus result of every task from /consensus, least confident first, with a confidence histogram. Classification
 * projects choose the method (Dawid–Skene or majority vote); boxes and spans have one.
 */
export function ConsensusView({ slug, labelingId, classification }: { slug: string; labelingId: string; classification: boolean }) {
  const [method, setMethod] = useState<ConsensusMethod>('ds');
  const [results, setResults] = useState<Consensus[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setResults(null);
    setError(null);
    api.GET('/api/projects/{project}/labeling/{labeling}/consensus', { params: { path: { project: slug, labeling: labelingId }, query: { method } } })
      .then(({ data, error: e }) => { if (live) { if (data) setResults(byConfidence(data)); else setError(problemMessage(e)); } })
      .catch(e => { if (live) setError(problemMessage(e)); });
    return () => { live = false; };
  }, [slug, labelingId, method]);

  return (
    <section className="consensus" aria-label="Consensus results">
      <h2>Consensus results</h2>
      {classification && (
        <label>
          Method{' '}
          <select aria-label="Consensus method" value={method} onChange={e => setMethod(e.target.value as ConsensusMethod)}>
            <option value="ds">Dawid–Skene</option>
            <option value="mv">Majority vote</option>
          </select>
        </label>
      )}
      {error && <p role="alert">{error}</p>}
      {!error && !results && <p className="loading">Loading…</p>}
      {results && results.length === 0 && <p className="muted">No finished annotations yet.</p>}
      {results && results.length > 0 && (
        <>
          <figure className="chart">
            <figcaption>Confidence ({results.length} tasks)</figcaption>
            <Histogram title="Confidence" bins={confidenceBins(results)} />
          </figure>
          <table data-testid="consensus-table">
            <thead><tr><th>Task</th><th>Result</th><th>Confidence</th><th>Annotations</th></tr></thead>
            <tbody>
              {results.map(r => (
                <tr key={r.taskId} data-testid="consensus-row">
                  <td title={r.taskId}><code>{r.taskId.slice(0, 8)}</code></td>
                  <td>{resultSummary(r)}</td>
                  <td>{r.confidence.toFixed(2)}</td>
                  <td>{r.annotations}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
