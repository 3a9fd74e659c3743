import { useCallback, useEffect, useRef, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';

type Schedule = Schemas['ScheduleDto'];
type Backfill = Schemas['BackfillDto'];

/** The editable part of a schedule, as the form holds it. */
export interface ScheduleDraft {
  name: string; cron: string; timeZone: string; outputDataset: string;
  maxConcurrentRuns: number; maxRetries: number; retryDelaySeconds: number; skipWhenUnchanged: boolean;
  /** Values for the pipeline's declared parameters, one `name=value` per line. */
  parameters: string;
}

export const emptyDraft: ScheduleDraft = {
  name: '', cron: '0 3 * * *', timeZone: 'UTC', outputDataset: '', maxConcurrentRuns: 1, maxRetries: 0, retryDelaySeconds: 60, skipWhenUnchanged: false,
  parameters: '',
};

/** `name=value` lines as the request's parameter map (blank lines skipped; the value keeps everything after the first `=`). */
export function parseParameters(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (line.trim() === '') continue;
    if (at < 0) values[line.trim()] = '';
    else values[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return values;
}

export function draftOf(s: Schedule): ScheduleDraft {
  return {
    name: s.name, cron: s.cron, timeZone: s.timeZone, outputDataset: s.outputDataset, maxConcurrentRuns: s.maxConcurrentRuns,
    maxRetries: s.maxRetries, retryDelaySeconds: s.retryDelaySeconds, skipWhenUnchanged: s.skipWhenUnchanged,
    parameters: Object.entries(s.parameters ?? {}).map(([k, v]) => `${k}=${v}`).join('\n'),
  };
}

/** The request body for a draft; an edit keeps the schedule's pinned version, input overrides and paused state. */
export function requestOf(draft: ScheduleDraft, pipeline: string, existing?: Schedule): Schemas['ScheduleRequest'] {
  return {
    name: draft.name.trim(), pipeline, cron: draft.cron.trim(), timeZone: draft.timeZone.trim() || 'UTC', outputDataset: draft.outputDataset.trim(),
    pipelineVersion: existing?.pipelineVersion ?? null, inputs: existing?.inputs ?? null, maxConcurrentRuns: draft.maxConcurrentRuns,
    maxRetries: draft.maxRetries, retryDelaySeconds: draft.retryDelaySeconds, skipWhenUnchanged: draft.skipWhenUnchanged, enabled: existing?.enabled ?? true,
    parameters: parseParameters(draft.parameters),
  };
}

/** A backfill over whole calendar days in UTC: from the first day's midnight to the last second of the last day. */
export function backfillRange(from: string, to: string): { from: string; to: string } {
  return { from: `${from}T00:00:00Z`, to: `${to}T23:59:59Z` };
}

const when = (iso: string | null | undefined) => iso ? new Date(iso).toLocaleString() : '–';

/**
 * A pipeline's schedules: cron and zone, the next fires, the last outcome and whether it is paused. Managers create,
 * edit, pause, resume and delete them, run one now, and backfill a date range, whose progress refreshes until it is done.
 */
export function Schedules({ slug, pipeline, canWrite, refreshMs = 1000 }: { slug: string; pipeline: string; canWrite: boolean; refreshMs?: number }) {
  const [schedules, setSchedules] = useState<Schedule[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<{ draft: ScheduleDraft; existing?: Schedule } | null>(null);
  const [backfillFor, setBackfillFor] = useState<string | null>(null);

  const load = useCallback(() => api.GET('/api/projects/{project}/features/schedules', { params: { path: { project: slug } } })
    .then(({ data, error: e }) => { if (data) setSchedules(data.filter(s => s.pipeline === pipeline)); else setError(problemMessage(e)); })
    .catch(e => setError(problemMessage(e))), [slug, pipeline]);
  useEffect(() => { void load(); }, [load]);

  async function act(call: () => Promise<{ error?: unknown; response: Response }>) {
    setError(null);
    try {
      const { error: e, response } = await call();
      if (!response.ok) setError(problemMessage(e)); else await load();
    } catch (x) {
      setError(problemMessage(x));
    }
  }

  const path = (name: string) => ({ path: { project: slug, name } });
  return (
    <section className="schedules" aria-label="Schedules">
      <h2>Schedules</h2>
      {error && <p role="alert" className="error">{error}</p>}
      {!schedules ? <p className="loading">Loading schedules…</p> : schedules.length === 0 ? <p className="muted">No schedules yet.</p> : (
        <table className="grid" aria-label="Schedules of this pipeline">
          <thead><tr><th>Name</th><th>Cron</th><th>Next runs</th><th>Last run</th><th>State</th>{canWrite && <th>Actions</th>}</tr></thead>
          <tbody>{schedules.map(s => (
            <tr key={s.id} data-testid="schedule-row" data-name={s.name} data-enabled={String(s.enabled)}>
              <td>{s.name}<div className="muted">{`→ ${s.outputDataset}`}</div>
                {Object.keys(s.parameters ?? {}).length > 0 && <div className="muted">{Object.entries(s.parameters ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}</div>}</td>
              <td><code>{s.cron}</code> <span className="muted">{s.timeZone}</span></td>
              <td>{s.enabled && s.nextFireAt
                ? <ul className="next-fires" aria-label={`Next runs of ${s.name}`}>{[s.nextFireAt, ...(s.upcomingFires ?? [])].map(f => <li key={f}>{when(f)}</li>)}</ul>
                : '–'}</td>
              <td>{s.lastOutcome ? <><span className={`state state-${s.lastOutcome.split(':')[0]?.replace(/\s+/g, '-')}`}>{s.lastOutcome}</span><div className="muted">{when(s.lastFireAt)}</div></> : <span className="muted">never</span>}</td>
              <td>{s.enabled ? 'active' : 'paused'}</td>
              {canWrite && (
                <td className="actions">
                  <button type="button" onClick={() => setEditing({ draft: draftOf(s), existing: s })}>Edit</button>
                  {s.enabled
                    ? <button type="button" onClick={() => void act(() => api.POST('/api/projects/{project}/features/schedules/{name}/pause', { params: path(s.name) }))}>Pause</button>
                    : <button type="button" onClick={() => void act(() => api.POST('/api/projects/{project}/features/schedules/{name}/resume', { params: path(s.name) }))}>Resume</button>}
                  <button type="button" onClick={() => void act(() => api.POST('/api/projects/{project}/features/schedules/{name}/run', { params: path(s.name) }))}>Run now</button>
                  <button type="button" onClick={() => setBackfillFor(s.name)}>Backfill</button>
                  <button type="button" className="danger" onClick={() => {
                    if (window.confirm(`Delete schedule ${s.name}? Runs already started go on.`))
                      void act(() => api.DELETE('/api/projects/{project}/features/schedules/{name}', { params: path(s.name) }));
                  }}>Delete</button>
                </td>
              )}
            </tr>
          ))}</tbody>
        </table>
      )}
      {canWrite && !editing && <p><button type="button" onClick={() => setEditing({ draft: emptyDraft })}>New schedule</button></p>}
      {editing && (
        <ScheduleForm key={editing.existing?.id ?? 'new'} initial={editing.draft} existing={editing.existing} onCancel={() => setEditing(null)}
          onSubmit={async draft => {
            const body = requestOf(draft, pipeline, editing.existing);
            const { error: e, response } = editing.existing
              ? await api.PUT('/api/projects/{project}/features/schedules/{name}', { params: path(editing.existing.name), body })
              : await api.POST('/api/projects/{project}/features/schedules', { params: { path: { project: slug } }, body });
            if (!response.ok) return problemMessage(e);
            setEditing(null);
            await load();
            return null;
          }} />
      )}
      {backfillFor && <BackfillPanel key={backfillFor} slug={slug} schedule={backfillFor} canWrite={canWrite} refreshMs={refreshMs} onClose={() => setBackfillFor(null)} onChange={() => void load()} />}
    </section>
  );
}

/** Create or edit a schedule; the server checks the cron, zone, pipeline and dataset and its errors show under the form. */
export function ScheduleForm({ initial, existing, onSubmit, onCancel }: {
  initial: ScheduleDraft; existing?: Schedule; onSubmit: (draft: ScheduleDraft) => Promise<string | null>; onCancel: () => void;
}) {
  const [draft, setDraft] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const set = <K extends keyof ScheduleDraft>(key: K, value: ScheduleDraft[K]) => setDraft(d => ({ ...d, [key]: value }));

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setSaving(true); setError(null);
    try {
      setError(await onSubmit(draft));
    } catch (x) {
      setError(problemMessage(x));
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="schedule-form" aria-label={existing ? `Edit schedule ${existing.name}` : 'New schedule'} onSubmit={e => void submit(e)}>
      <h3>{existing ? `Edit ${existing.name}` : 'New schedule'}</h3>
      <label>Name <input aria-label="Schedule name" value={draft.name} disabled={!!existing} required maxLength={128} onChange={e => set('name', e.target.value)} /></label>
      <label>Cron <input aria-label="Cron" value={draft.cron} required onChange={e => set('cron', e.target.value)} placeholder="0 3 * * *" /></label>
      <label>Time zone <input aria-label="Time zone" value={draft.timeZone} onChange={e => set('timeZone', e.target.value)} placeholder="UTC" /></label>
      <label>Output dataset <input aria-label="Schedule output dataset" value={draft.outputDataset} required onChange={e => set('outputDataset', e.target.value)} /></label>
      <label>Runs at once <input aria-label="Runs at once" type="number" min={1} max={100} value={draft.maxConcurrentRuns} onChange={e => set('maxConcurrentRuns', Number(e.target.value))} /></label>
      <label>Retries <input aria-label="Retries" type="number" min={0} max={10} value={draft.maxRetries} onChange={e => set('maxRetries', Number(e.target.value))} /></label>
      <label>Retry delay (s) <input aria-label="Retry delay" type="number" min={1} max={86400} value={draft.retryDelaySeconds} onChange={e => set('retryDelaySeconds', Number(e.target.value))} /></label>
      <label>Parameters <textarea aria-label="Schedule parameters" rows={2} value={draft.parameters} placeholder="min_amount=5" onChange={e => set('parameters', e.target.value)} /></label>
      <label><input type="checkbox" aria-label="Skip when inputs are unchanged" checked={draft.skipWhenUnchanged} onChange={e => set('skipWhenUnchanged', e.target.checked)} /> Skip when inputs are unchanged</label>
      {error && <p role="alert" className="error">{error}</p>}
      <p>
        <button type="submit" className="primary" disabled={saving}>{existing ? 'Save schedule' : 'Create schedule'}</button>{' '}
        <button type="button" onClick={onCancel}>Cancel</button>
      </p>
    </form>
  );
}

/** Starts a backfill over a date range and follows the schedule's backfills until each is done. */
export function BackfillPanel({ slug, schedule, canWrite, refreshMs, onClose, onChange }: {
  slug: string; schedule: string; canWrite: boolean; refreshMs: number; onClose: () => void; onChange: () => void;
}) {
  const [backfills, setBackfills] = useState<Backfill[] | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const path = { project: slug, name: schedule };

  const load = useCallback(() => api.GET('/api/projects/{project}/features/schedules/{name}/backfills', { params: { path: { project: slug, name: schedule } } })
    .then(({ data, error: e }) => { if (data) setBackfills(data); else setError(problemMessage(e)); })
    .catch(e => setError(problemMessage(e))), [slug, schedule]);
  useEffect(() => { void load(); }, [load]);

  const anyOpen = backfills?.some(b => !b.done) ?? false;
  const changed = useRef(onChange);
  changed.current = onChange;
  const wasOpen = useRef(false);
  useEffect(() => {
    // Once every backfill is done the schedule's last outcome has moved: the list above reloads.
    if (wasOpen.current && !anyOpen) changed.current();
    wasOpen.current = anyOpen;
    if (!anyOpen) return;
    const timer = setInterval(() => void load(), refreshMs);
    return () => clearInterval(timer);
  }, [anyOpen, load, refreshMs]);

  async function start(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    if (to < from) { setError("'To' is before 'from'."); return; }
    try {
      const { error: problem, response } = await api.POST('/api/projects/{project}/features/schedules/{name}/backfills', { params: { path }, body: backfillRange(from, to) });
      if (!response.ok) setError(problemMessage(problem)); else await load();
    } catch (x) {
      setError(problemMessage(x));
    }
  }

  return (
    <section className="backfills" aria-label={`Backfills of ${schedule}`}>
      <h3>{`Backfills of ${schedule}`} <button type="button" onClick={onClose}>Close</button></h3>
      {canWrite && (
        <form onSubmit={e => void start(e)} aria-label="Start a backfill">
          <label>From <input type="date" aria-label="Backfill from" value={from} required onChange={e => setFrom(e.target.value)} /></label>
          <label>To <input type="date" aria-label="Backfill to" value={to} required onChange={e => setTo(e.target.value)} /></label>
          <button type="submit" className="primary">Start backfill</button>
          <span className="muted"> One run per cron occurrence in the range (UTC days), oldest first, within the schedule's run limit.</span>
        </form>
      )}
      {error && <p role="alert" className="error">{error}</p>}
      {!backfills ? <p className="loading">Loading backfills…</p> : backfills.length === 0 ? <p className="muted">No backfills yet.</p> : (
        <ul className="backfill-list">{backfills.map(b => (
          <li key={b.id} data-testid="backfill" data-done={String(b.done)}>
            {`${b.from.slice(0, 10)} – ${b.to.slice(0, 10)}: `}
            <progress max={b.total} value={b.completed} aria-label={`Progress of backfill ${b.id}`} /> {b.progress}
            <span className="muted">{` (${b.succeeded} succeeded, ${b.running} running, ${b.pending} waiting, ${b.failed} failed, ${b.skipped} skipped)`}</span>
          </li>
        ))}</ul>
      )}
    </section>
  );
}
