import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, problemMessage, type Schemas, versionFromETag } from '../api/client';
import { AnnotationEditor, type TaskData } from './AnnotationEditor';
import { type Attempt, Saver, type SaverStatus } from './saver';
import { SaveBanner } from './SaveBanner';
import { type LabelConfig, parseResult, type Result } from './editor';
import type { LabelingProject } from './useProject';

type Lease = Schemas['LeaseDto'];

interface Props { slug: string; project: LabelingProject; config: LabelConfig; lease: Lease; onFinished: () => void }

const autosaveDelayMs = 1000;

/** One leased task: edit with mouse or keys, autosave drafts, heartbeat the lease, submit or skip. */
export function Workbench({ slug, project, config, lease, onFinished }: Props) {
  const task = lease.task;
  const data = (task.data ?? {}) as TaskData;
  const [initial] = useState(() => parseResult(config.kind, lease.annotation?.result));
  const [result, setResult] = useState<Result>(initial);
  const [status, setStatus] = useState<SaverStatus>({ state: 'idle', message: null, attempt: 0, nextRetryMs: null });
  const [skipping, setSkipping] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [leaseLost, setLeaseLost] = useState<string | null>(null);
  const started = useRef(Date.now());
  const path = { project: slug, labeling: project.id, task: task.id };
  const submitted = lease.annotation?.status === 'submitted';

  const saver = useMemo(() => new Saver(lease.annotation?.version ?? null, {
    onStatus: setStatus,
    send: async (request, version): Promise<Attempt> => {
      const { data: saved, error, response } = await api.PUT('/api/projects/{project}/labeling/{labeling}/tasks/{task}/annotation', {
        params: { path },
        headers: version === null ? {} : { 'If-Match': `"${version}"` },
        body: { result: request.result as never, draft: request.draft, timeSpentMs: Date.now() - started.current },
      });
      if (response.ok && saved) return { kind: 'ok', version: versionFromETag(response.headers.get('ETag')) ?? saved.version };
      if (response.status === 412) return { kind: 'conflict' };
      if (response.status === 408 || response.status === 429 || response.status >= 500) return { kind: 'retry', message: `The server answered ${response.status}` };
      return { kind: 'rejected', message: problemMessage(error, `HTTP ${response.status}`) };
    },
    refresh: async () => {
      const { data: current, response } = await api.GET('/api/projects/{project}/labeling/{labeling}/tasks/{task}/annotation', { params: { path } });
      return response.ok && current ? current.version : null;
    },
  // eslint-disable-next-line react-hooks/exhaustive-deps
  }), [task.id]);

  useEffect(() => () => saver.dispose(), [saver]);

  // Autosave: a draft a second after the last change; submitted work is only ever sent as an update on submit.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    if (submitted || submitting) return;
    const timer = setTimeout(() => void saver.save({ result, draft: true }), autosaveDelayMs);
    return () => clearTimeout(timer);
  }, [result, saver, submitted, submitting]);

  // Lease heartbeat: a third of the lease time, so two missed beats still leave the lease alive.
  useEffect(() => {
    const every = Math.max(5, Math.min(60, project.leaseSeconds / 3)) * 1000;
    const timer = setInterval(() => {
      api.POST('/api/projects/{project}/labeling/{labeling}/leases/{lease}/heartbeat', { params: { path: { project: slug, labeling: project.id, lease: lease.leaseId } } })
        .then(({ response, error }) => {
          if (response.ok) setLeaseLost(null);
          else if (response.status === 404 || response.status === 409) setLeaseLost(problemMessage(error, 'The lease on this task has ended.'));
        })
        .catch(() => { /* a network drop: the next beat tries again */ });
    }, every);
    return () => clearInterval(timer);
  }, [slug, project.id, project.leaseSeconds, lease.leaseId]);

  // Closing the tab with unsaved work asks first.
  useEffect(() => {
    const guard = (e: BeforeUnloadEvent) => { if (saver.hasUnsaved) e.preventDefault(); };
    window.addEventListener('beforeunload', guard);
    return () => window.removeEventListener('beforeunload', guard);
  }, [saver]);

  const submittingRef = useRef(false);
  const submit = useCallback(async (work: Result) => {
    if (submittingRef.current) return;
    submittingRef.current = true;
    setSubmitting(true);
    const ok = await saver.save({ result: work, draft: false });
    submittingRef.current = false;
    setSubmitting(false);
    if (ok) onFinished();
  }, [saver, onFinished]);

  async function skip(reason: string) {
    const { response, error } = await api.POST('/api/projects/{project}/labeling/{labeling}/tasks/{task}/skip', {
      params: { path }, body: { reason, timeSpentMs: Date.now() - started.current },
    });
    if (response.ok) { saver.dispose(); onFinished(); } else setStatus({ state: 'rejected', message: problemMessage(error), attempt: 0, nextRetryMs: null });
  }

  return (
    <section className="workbench" data-testid="workbench" data-task={task.id}>
      <header className="workbench-bar">
        <h1>{project.name}</h1>
        <SaveBanner status={status} onRetry={() => saver.retryNow()} />
        <span className="hint">{hint(config)}</span>
      </header>
      {lease.reviewComment && <div className="banner info" data-testid="review-comment">Returned by a reviewer: {lease.reviewComment}</div>}
      {leaseLost && <div className="banner error" role="alert">{leaseLost}</div>}
      <AnnotationEditor config={config} data={data} initial={initial} predictions={task.predictions} onResult={setResult}
        onSubmit={work => void submit(work)} onSkip={() => setSkipping(true)}
        actions={<>
          <button type="button" onClick={() => setSkipping(true)}>Skip</button>
          <button type="button" className="primary" onClick={() => void submit(result)} disabled={submitting}>{submitting ? 'Submitting…' : 'Submit'}</button>
        </>} />
      {skipping && <SkipDialog onCancel={() => setSkipping(false)} onSkip={reason => { setSkipping(false); void skip(reason); }} />}
    </section>
  );
}

function hint(config: LabelConfig): string {
  const common = 'Enter submit · Shift+S skip · Ctrl+Z / Ctrl+Shift+Z undo/redo · A accept pre-annotations · + − zoom, 0 fit';
  switch (config.kind) {
    case 'boundingBoxes': return `${common} · N new box, arrows move, Alt+arrows resize`;
    case 'polygons': return `${common} · click vertices, Enter or first vertex closes, Esc cancels, Delete removes`;
    case 'keypoints': return `${common} · click places the next point, V not visible, arrows move`;
    default: return common;
  }
}

function SkipDialog({ onSkip, onCancel }: { onSkip: (reason: string) => void; onCancel: () => void }) {
  const [reason, setReason] = useState('');
  return (
    <form className="dialog" role="dialog" aria-label="Skip task" onSubmit={e => { e.preventDefault(); if (reason.trim()) onSkip(reason.trim()); }}
      onKeyDown={e => { if (e.key === 'Escape') onCancel(); }}>
      <label>Why skip this task?<input autoFocus value={reason} onChange={e => setReason(e.target.value)} /></label>
      <button type="submit" disabled={!reason.trim()}>Skip</button> <button type="button" onClick={onCancel}>Cancel</button>
    </form>
  );
}
