import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { api, problemMessage, type Schemas, versionFromETag } from '../api/client';
import { BoxCanvas, type View } from './BoxCanvas';
import { type Attempt, Saver, type SaverStatus } from './saver';
import { SaveBanner } from './SaveBanner';
import { createReducer, dragBox, initialState, itemCount, type LabelConfig, parseResult } from './editor';
import { commandForKey } from './hotkeys';
import { selectionOffsets, SpanText } from './SpanText';
import { labelColors, type LabelingProject } from './useProject';

type Lease = Schemas['LeaseDto'];

interface Props { slug: string; project: LabelingProject; config: LabelConfig; lease: Lease; onFinished: () => void }

const autosaveDelayMs = 1000;

/** One leased task: edit with mouse or keys, autosave drafts, heartbeat the lease, submit or skip. */
export function Workbench({ slug, project, config, lease, onFinished }: Props) {
  const task = lease.task;
  const data = (task.data ?? {}) as { url?: string; image?: string; text?: string; width?: number; height?: number };
  const reduce = useMemo(() => createReducer(config), [config]);
  const [state, dispatch] = useReducer(reduce, undefined, () => initialState(config, parseResult(config.kind, lease.annotation?.result)));
  const [status, setStatus] = useState<SaverStatus>({ state: 'idle', message: null, attempt: 0, nextRetryMs: null });
  const [view, setView] = useState<View>({ zoom: 0, panX: 0, panY: 0 });
  const [size, setSize] = useState<{ width: number; height: number } | null>(data.width && data.height ? { width: data.width, height: data.height } : null);
  const [skipping, setSkipping] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [leaseLost, setLeaseLost] = useState<string | null>(null);
  const started = useRef(Date.now());
  const textRef = useRef<HTMLDivElement>(null);
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
    const timer = setTimeout(() => void saver.save({ result: state.result, draft: true }), autosaveDelayMs);
    return () => clearTimeout(timer);
  }, [state.result, saver, submitted, submitting]);

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

  async function submit() {
    if (submitting) return;
    setSubmitting(true);
    const ok = await saver.save({ result: state.result, draft: false });
    setSubmitting(false);
    if (ok) onFinished();
  }

  async function skip(reason: string) {
    const { response, error } = await api.POST('/api/projects/{project}/labeling/{labeling}/tasks/{task}/skip', {
      params: { path }, body: { reason, timeSpentMs: Date.now() - started.current },
    });
    if (response.ok) { saver.dispose(); onFinished(); } else setStatus({ state: 'rejected', message: problemMessage(error), attempt: 0, nextRetryMs: null });
  }

  const stateRef = useRef(state);
  stateRef.current = state;
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT')) return;
      const command = commandForKey(config, e);
      if (!command) return;
      e.preventDefault();
      const s = stateRef.current;
      const r = s.result;
      switch (command.type) {
        case 'label':
          if ('labels' in r) dispatch({ type: 'toggleLabel', label: command.label });
          else if ('spans' in r && textRef.current) {
            const offsets = selectionOffsets(textRef.current, data.text ?? '', window.getSelection());
            if (offsets) {
              // A new span: deselect first, so choosing its label does not relabel the span selected before.
              dispatch({ type: 'select', index: null });
              dispatch({ type: 'activate', label: command.label });
              dispatch({ type: 'addSpan', span: { label: command.label, start: offsets[0], end: offsets[1], text: (data.text ?? '').slice(offsets[0], offsets[1]) } });
              window.getSelection()?.removeAllRanges();
            } else dispatch({ type: 'activate', label: command.label });
          } else dispatch({ type: 'activate', label: command.label });
          break;
        case 'submit': void submit(); break;
        case 'skip': setSkipping(true); break;
        case 'undo': dispatch({ type: 'undo' }); break;
        case 'redo': dispatch({ type: 'redo' }); break;
        case 'zoomIn': setView(v => ({ ...v, zoom: Math.min(20, (v.zoom || 1) * 1.25) })); break;
        case 'zoomOut': setView(v => ({ ...v, zoom: Math.max(0.1, (v.zoom || 1) / 1.25) })); break;
        case 'zoomReset': setView({ zoom: 0, panX: 0, panY: 0 }); break;
        case 'delete': if (s.selected !== null) dispatch({ type: 'remove', index: s.selected }); break;
        case 'deselect': dispatch({ type: 'select', index: null }); break;
        case 'selectNext': {
          const count = itemCount(r);
          if (count > 0 && !('labels' in r)) dispatch({ type: 'select', index: s.selected === null ? 0 : (s.selected + 1) % count });
          break;
        }
        case 'newBox':
          if ('boxes' in r && size)
            dispatch({ type: 'addBox', box: { label: s.activeLabel, x: Math.round(size.width / 4), y: Math.round(size.height / 4), width: Math.round(size.width / 2), height: Math.round(size.height / 2) } });
          break;
        case 'nudge':
          if ('boxes' in r && s.selected !== null && size) {
            const box = r.boxes[s.selected];
            if (box) dispatch({ type: 'updateBox', index: s.selected, commit: true, box: dragBox(box, command.resize ? 'se' : 'move', command.dx, command.dy, size.width, size.height) });
          } else if (!('boxes' in r)) setView(v => ({ ...v, panX: v.panX - command.dx * 20, panY: v.panY - command.dy * 20 }));
          break;
      }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const colors = useMemo(() => labelColors(config), [config]);
  const r = state.result;
  const isImage = config.kind === 'imageClassification' || config.kind === 'boundingBoxes';

  return (
    <section className="workbench" data-testid="workbench" data-task={task.id}>
      <header className="workbench-bar">
        <h1>{project.name}</h1>
        <SaveBanner status={status} onRetry={() => saver.retryNow()} />
        <span className="hint">Enter submit · Shift+S skip · Ctrl+Z / Ctrl+Shift+Z undo/redo · N new box, arrows move, Alt+arrows resize · + − zoom, 0 fit</span>
      </header>
      {lease.reviewComment && <div className="banner info" data-testid="review-comment">Returned by a reviewer: {lease.reviewComment}</div>}
      {leaseLost && <div className="banner error" role="alert">{leaseLost}</div>}
      <div className="workbench-body">
        <aside className="labels" aria-label="Labels">
          {config.labels.map((l, i) => {
            const on = 'labels' in r ? r.labels.includes(l.name) : state.activeLabel === l.name;
            return (
              <button key={l.name} type="button" aria-pressed={on} className={on ? 'label on' : 'label'} style={{ borderColor: colors[l.name] }}
                onClick={() => 'labels' in r ? dispatch({ type: 'toggleLabel', label: l.name }) : dispatch({ type: 'activate', label: l.name })}>
                <kbd>{l.hotkey ?? (i < 9 ? i + 1 : '')}</kbd> {l.name}
              </button>
            );
          })}
          {!('labels' in r) && (
            <ol className="items" aria-label="Annotations">
              {('boxes' in r ? r.boxes : r.spans).map((item, i) => (
                <li key={i} className={state.selected === i ? 'selected' : ''} onClick={() => dispatch({ type: 'select', index: i })}>
                  <span style={{ color: colors[item.label] }}>■</span> {item.label}
                  {'text' in item && item.text ? ` “${item.text}”` : ''}
                  <button type="button" aria-label="Remove" onClick={e => { e.stopPropagation(); dispatch({ type: 'remove', index: i }); }}>×</button>
                </li>
              ))}
            </ol>
          )}
          <div className="actions">
            <button type="button" onClick={() => dispatch({ type: 'undo' })} disabled={state.past.length === 0}>Undo</button>
            <button type="button" onClick={() => dispatch({ type: 'redo' })} disabled={state.future.length === 0}>Redo</button>
            <button type="button" onClick={() => setSkipping(true)}>Skip</button>
            <button type="button" className="primary" onClick={() => void submit()} disabled={submitting}>{submitting ? 'Submitting…' : 'Submit'}</button>
          </div>
        </aside>
        <div className="subject">
          {isImage && data.url && !size && <img src={data.url} alt="" className="probe" onLoad={e => setSize({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })} />}
          {isImage && data.url && size && (
            'boxes' in r ? (
              <BoxCanvas imageUrl={data.url} width={size.width} height={size.height} boxes={r.boxes} selected={state.selected}
                activeLabel={state.activeLabel} colors={colors} view={view} minBoxSize={config.minBoxSize ?? 1} onView={setView}
                onAdd={box => dispatch({ type: 'addBox', box })} onChange={(index, box) => dispatch({ type: 'updateBox', index, box, commit: true })}
                onSelect={index => dispatch({ type: 'select', index })} />
            ) : (
              <BoxCanvas imageUrl={data.url} width={size.width} height={size.height} boxes={[]} selected={null} activeLabel="" colors={colors}
                view={view} minBoxSize={1} readOnly onView={setView} />
            )
          )}
          {!isImage && (
            <div ref={textRef} className="text-subject">
              {'spans' in r
                ? <SpanText text={data.text ?? ''} spans={r.spans} selected={state.selected} colors={colors} onSelect={index => dispatch({ type: 'select', index })} />
                : <p className="plain-text">{data.text}</p>}
            </div>
          )}
        </div>
      </div>
      {skipping && <SkipDialog onCancel={() => setSkipping(false)} onSkip={reason => { setSkipping(false); void skip(reason); }} />}
    </section>
  );
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
