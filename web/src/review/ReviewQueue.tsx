import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { AnnotationEditor, type TaskData } from '../labeling/AnnotationEditor';
import { BoxCanvas, type View } from '../labeling/BoxCanvas';
import { type LabelConfig, parseResult, type Result } from '../labeling/editor';
import { SpanText } from '../labeling/SpanText';
import { labelColors, toConfig, useLabelingProject } from '../labeling/useProject';

type Annotation = Schemas['AnnotationDto'];
type Task = Schemas['TaskDto'];

/** Annotations awaiting review, one at a time beside their item: A accepts, R rejects with a comment, C corrects. */
export function ReviewQueue({ slug, labelingId }: { slug: string; labelingId: string }) {
  const { project, error } = useLabelingProject(slug, labelingId);
  const [filter, setFilter] = useState<'pending' | 'submitted'>('pending');
  const [queue, setQueue] = useState<Annotation[] | null>(null);
  const [current, setCurrent] = useState(0);
  const [message, setMessage] = useState<string | null>(null);

  const load = useCallback(async () => {
    setQueue(null);
    const query = filter === 'pending' ? { reviewState: 'pending', limit: 100 } : { status: 'submitted', limit: 100 };
    const { data, error: e } = await api.GET('/api/projects/{project}/labeling/{labeling}/annotations', { params: { path: { project: slug, labeling: labelingId }, query } });
    if (data) { setQueue(data.items); setCurrent(0); } else setMessage(problemMessage(e));
  }, [slug, labelingId, filter]);

  useEffect(() => { void load(); }, [load]);

  if (error) return <p role="alert">{error}</p>;
  if (!project || !queue) return <p className="loading">Loading…</p>;
  const config = toConfig(project.config);
  const annotation = queue[current];
  return (
    <section className="review">
      <header className="workbench-bar">
        <h1>Review · {project.name}</h1>
        <label>Show <select value={filter} onChange={e => setFilter(e.target.value as 'pending' | 'submitted')}>
          <option value="pending">Awaiting review</option><option value="submitted">All submitted</option>
        </select></label>
        <span data-testid="review-count">{queue.length} in queue</span>
      </header>
      {message && <div className="banner error" role="alert">{message}</div>}
      {!annotation ? <p data-testid="review-empty">Nothing to review.</p> : (
        <ReviewItem key={annotation.id} slug={slug} labelingId={labelingId} config={config} annotation={annotation}
          onDecided={() => setQueue(q => q ? q.filter(a => a.id !== annotation.id) : q)}
          onError={setMessage} />
      )}
    </section>
  );
}

function ReviewItem({ slug, labelingId, config, annotation, onDecided, onError }: {
  slug: string; labelingId: string; config: LabelConfig; annotation: Annotation; onDecided: () => void; onError: (m: string | null) => void;
}) {
  const [task, setTask] = useState<Task | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [correcting, setCorrecting] = useState(false);
  const [corrected, setCorrected] = useState<Result | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [view, setView] = useState<View>({ zoom: 0, panX: 0, panY: 0 });
  const colors = useMemo(() => labelColors(config), [config]);

  useEffect(() => {
    api.GET('/api/projects/{project}/labeling/{labeling}/tasks/{task}', { params: { path: { project: slug, labeling: labelingId, task: annotation.taskId } } })
      .then(({ data, error }) => data ? setTask(data as Task) : onError(problemMessage(error)));
  }, [slug, labelingId, annotation.taskId, onError]);

  const decide = useCallback(async (decision: 'accept' | 'reject' | 'correct', text?: string, result?: Result) => {
    setBusy(true);
    // If-Match: a correction made on a stale copy must not overwrite a newer version of the annotation.
    const { response, error } = await api.POST('/api/projects/{project}/labeling/{labeling}/annotations/{annotation}/review', {
      params: { path: { project: slug, labeling: labelingId, annotation: annotation.id } },
      headers: { 'If-Match': `"${annotation.version}"` },
      body: { decision, comment: text ?? null, result: (result ?? null) as never },
    });
    setBusy(false);
    if (response.ok) { onError(null); onDecided(); } else onError(problemMessage(error));
  }, [slug, labelingId, annotation.id, annotation.version, onDecided, onError]);

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      const target = e.target as HTMLElement | null;
      // While correcting, the editor owns the keyboard (A there accepts pre-annotations, not the review).
      if (rejecting || correcting || busy || e.ctrlKey || e.metaKey || (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
      if (e.key === 'a' || e.key === 'A') { e.preventDefault(); void decide('accept'); }
      if (e.key === 'r' || e.key === 'R') { e.preventDefault(); setRejecting(true); }
      // Remembered until the task has loaded: the editor opens as soon as it can.
      if (e.key === 'c' || e.key === 'C') { e.preventDefault(); setCorrecting(true); }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [decide, rejecting, correcting, busy]);

  const result = useMemo(() => parseResult(config.kind, annotation.result), [config.kind, annotation.result]);
  const data = (task?.data ?? {}) as TaskData;
  if (correcting && task) return (
    <div className="review-correct" data-testid="review-item" data-annotation={annotation.id} data-correcting="true">
      <p className="hint">Correct the annotation with the labeling tools, then <kbd>Enter</kbd> corrects and accepts it.</p>
      <AnnotationEditor config={config} data={data} initial={result} onResult={setCorrected} onSubmit={r => { if (!busy) void decide('correct', undefined, r); }}
        actions={<>
          <button type="button" onClick={() => setCorrecting(false)} disabled={busy}>Cancel</button>
          <button type="button" className="primary" disabled={busy} onClick={() => void decide('correct', undefined, corrected ?? result)}>Correct and accept</button>
        </>} />
    </div>
  );
  return (
    <div className="review-item" data-testid="review-item" data-annotation={annotation.id}>
      <div className="subject">
        {!task ? <p className="loading">Loading the item…</p> : data.url && data.width && data.height ? (
          <BoxCanvas imageUrl={data.url} width={data.width} height={data.height} result={result} selected={null}
            activeLabel="" colors={colors} view={view} onView={setView} minBoxSize={1} readOnly />
        ) : 'spans' in result ? (
          <SpanText text={data.text ?? ''} spans={result.spans} selected={null} colors={colors} />
        ) : <p className="plain-text">{data.text ?? data.url}</p>}
      </div>
      <aside className="decision">
        <h2>Annotation</h2>
        <p>Annotator <code>{annotation.annotatorId.slice(0, 8)}</code>, submitted {annotation.submittedAt ? new Date(annotation.submittedAt).toLocaleString() : '–'}</p>
        <ul data-testid="review-result">
          {'labels' in result && result.labels.map(l => <li key={l}>{l}</li>)}
          {'boxes' in result && result.boxes.map((b, i) => <li key={i}>{b.label} at {Math.round(b.x)},{Math.round(b.y)} ({Math.round(b.width)}×{Math.round(b.height)})</li>)}
          {'spans' in result && result.spans.map((s, i) => <li key={i}>{s.label}: “{(data.text ?? '').slice(s.start, s.end)}”</li>)}
          {'polygons' in result && result.polygons.map((p, i) => <li key={i}>{p.label}: polygon of {p.points.length} points</li>)}
          {'keypoints' in result && result.keypoints.map((k, i) => <li key={i}>{k.label} at {Math.round(k.x)},{Math.round(k.y)}{k.visible === false ? ' (not visible)' : ''}</li>)}
        </ul>
        {!rejecting ? (
          <div className="actions">
            <button type="button" className="primary" disabled={busy} onClick={() => void decide('accept')}><kbd>A</kbd> Accept</button>
            <button type="button" disabled={busy} onClick={() => setRejecting(true)}><kbd>R</kbd> Reject…</button>
            <button type="button" disabled={busy || !task} onClick={() => setCorrecting(true)}><kbd>C</kbd> Correct…</button>
          </div>
        ) : (
          <form onSubmit={e => { e.preventDefault(); if (comment.trim()) void decide('reject', comment.trim()); }}>
            <label>What should the annotator fix?<textarea name="comment" autoFocus value={comment} onChange={e => setComment(e.target.value)}
              onKeyDown={e => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); if (comment.trim()) void decide('reject', comment.trim()); } if (e.key === 'Escape') setRejecting(false); }} /></label>
            <button type="submit" disabled={busy || !comment.trim()}>Reject and return</button> <button type="button" onClick={() => setRejecting(false)}>Cancel</button>
          </form>
        )}
      </aside>
    </div>
  );
}
