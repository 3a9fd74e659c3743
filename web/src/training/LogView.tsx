import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';

type LogLine = Schemas['LogLineDto'];
const pageSize = 1000;

/**
 * A job's log, read page by page with `after=` the last sequence seen and appended. While the job is live it
 * asks again every second; when the job ends it reads once more (the last lines land with the final state) and
 * stops. Lines are appended only past the last sequence held, so an answer that arrives late is never shown twice.
 */
export function LogView({ slug, jobId, live, pollMs = 1000 }: { slug: string; jobId: string; live: boolean; pollMs?: number }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [info, setInfo] = useState<{ total: number; truncated: boolean }>({ total: 0, truncated: false });
  const [error, setError] = useState<string | null>(null);
  const after = useRef(0);
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function drain() {
      while (!stopped) {
        const { data, error: problem } = await api.GET('/api/projects/{project}/training/jobs/{id}/logs', {
          params: { path: { project: slug, id: jobId }, query: { after: after.current, limit: pageSize } },
        });
        if (!data) throw new Error(problemMessage(problem));
        if (stopped) return;
        setError(null);
        setInfo({ total: data.total, truncated: data.truncated });
        const fresh = data.lines.filter(l => l.sequence > after.current);
        if (fresh.length > 0) {
          after.current = (fresh[fresh.length - 1] as LogLine).sequence;
          setLines(held => {
            const last = held.length > 0 ? (held[held.length - 1] as LogLine).sequence : 0;
            return [...held, ...fresh.filter(l => l.sequence > last)];
          });
        }
        if (data.lines.length < pageSize) return;
      }
    }
    async function tick() {
      try { await drain(); } catch (e) { if (!stopped) setError(problemMessage(e)); }
      if (!stopped && live) timer = setTimeout(() => void tick(), pollMs);
    }
    void tick();
    return () => { stopped = true; clearTimeout(timer); };
  }, [slug, jobId, live, pollMs]);

  // Follows the end of the log while the reader is there; scrolling up to read stops that until they scroll back.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div className="log-view">
      <p className="muted" aria-live="polite">
        {lines.length.toLocaleString()} of {info.total.toLocaleString()} lines{info.truncated ? ' (the job wrote more than the server keeps)' : ''}{live ? ' · following' : ''}
      </p>
      {error && <p role="alert" className="error">{error}</p>}
      <pre ref={box} aria-label="Logs" tabIndex={0} onScroll={e => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}>
        {lines.map(l => <span key={l.sequence} data-testid="log-line" data-source={l.source} className={l.source === 'stderr' ? 'stderr' : undefined}>{l.text}{'\n'}</span>)}
      </pre>
    </div>
  );
}
