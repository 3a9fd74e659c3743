import { useCallback, useEffect, useRef, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link, navigate } from '../app/router';
import { askStream, type Citation } from './chatStream';
import { AnswerText, Snippet } from './Citations';
import { chatPage, kbPage } from './links';

type Session = Schemas['ChatSessionDto'];
interface Message { key: string; role: string; content: string; citations: Citation[] | null; extractive: boolean; streaming?: boolean }

const modes = ['hybrid', 'bm25', 'vector'] as const;

/**
 * Chat with a knowledge base: the caller's sessions, the selected session's messages, a question box. Answers stream
 * token by token; their [n] markers open the cited passage in the side panel. Works without an LLM (extractive answers).
 */
export function Chat({ slug, kb, session }: { slug: string; kb: string; session?: string }) {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [question, setQuestion] = useState('');
  const [mode, setMode] = useState<(typeof modes)[number]>('hybrid');
  const [streaming, setStreaming] = useState<AbortController | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cited, setCited] = useState<Citation | null>(null);
  const path = { project: slug, kb };
  const end = useRef<HTMLDivElement>(null);
  // A session opened by the first question: its page keeps the answer streaming in instead of reloading the (empty) session.
  const opened = useRef<string | null>(null);

  const loadSessions = useCallback(() => api.GET('/api/projects/{project}/knowledge/{kb}/sessions', { params: { path: { project: slug, kb } } })
    .then(({ data, error: e }) => data ? setSessions(data) : setError(problemMessage(e))).catch(e => setError(problemMessage(e))), [slug, kb]);
  useEffect(() => { void loadSessions(); }, [loadSessions]);

  // The answer streaming now, so that leaving the session (or the page) stops it.
  const current = useRef<AbortController | null>(null);
  useEffect(() => () => current.current?.abort(), []);

  useEffect(() => {
    if (session && session === opened.current) return;
    current.current?.abort();
    setMessages([]); setCited(null); setError(null);
    if (!session) return;
    let stale = false;
    api.GET('/api/projects/{project}/knowledge/{kb}/sessions/{session}', { params: { path: { project: slug, kb, session } } })
      .then(({ data, error: e }) => {
        if (stale) return;
        if (!data) { setError(problemMessage(e)); return; }
        setMessages(data.messages.map(m => ({ key: `${m.ordinal}`, role: m.role, content: m.content, citations: m.citations ?? [], extractive: m.extractive })));
      }).catch(e => setError(problemMessage(e)));
    return () => { stale = true; };
  }, [slug, kb, session]);

  useEffect(() => { end.current?.scrollIntoView?.({ block: 'end' }); }, [messages]);

  async function newSession(): Promise<string | null> {
    const { data, error: e } = await api.POST('/api/projects/{project}/knowledge/{kb}/sessions', { params: { path }, body: { title: null } });
    if (!data) { setError(problemMessage(e)); return null; }
    await loadSessions();
    return data.id;
  }

  async function ask(e?: React.FormEvent) {
    e?.preventDefault();
    const text = question.trim();
    if (!text || streaming) return;
    setError(null);
    let id = session;
    if (!id) {
      id = (await newSession()) ?? undefined;
      if (!id) return;
      opened.current = id;
      navigate(chatPage(slug, kb, id), true);
    }
    const stamp = Date.now();
    const answerKey = `a${stamp}`;
    setMessages(m => [...m, { key: `q${stamp}`, role: 'user', content: text, citations: [], extractive: false },
      { key: answerKey, role: 'assistant', content: '', citations: null, extractive: false, streaming: true }]);
    setQuestion('');
    const controller = new AbortController();
    current.current = controller;
    setStreaming(controller);
    const update = (change: (m: Message) => Message) => setMessages(all => all.map(m => m.key === answerKey ? change(m) : m));
    try {
      const url = `/api/projects/${encodeURIComponent(slug)}/knowledge/${encodeURIComponent(kb)}/sessions/${encodeURIComponent(id)}/messages`;
      await askStream(url, { question: text, mode, passages: null, tags: null }, {
        onDelta: delta => update(m => ({ ...m, content: m.content + delta })),
        onDone: done => update(m => ({ ...m, content: done.answer, citations: done.citations, extractive: done.extractive, streaming: false })),
      }, controller.signal);
      // The server stores the turns (and titles an untitled session) just after the last event, so a list read now
      // may not show the title yet: show the one it is about to get.
      const asked = id;
      void loadSessions().then(() => setSessions(list => list?.map(s => s.id === asked && !s.title
        ? { ...s, title: text.length <= 80 ? text : `${text.slice(0, 80).trimEnd()}…` } : s) ?? null));
    } catch (x) {
      const stopped = controller.signal.aborted;
      update(m => ({ ...m, streaming: false, citations: [], content: m.content + (stopped ? ' (stopped)' : '') }));
      if (!stopped) setError(problemMessage(x));
    } finally {
      if (current.current === controller) { current.current = null; setStreaming(null); }
    }
  }

  async function removeSession(s: Session) {
    const { error: e, response } = await api.DELETE('/api/projects/{project}/knowledge/{kb}/sessions/{session}', { params: { path: { ...path, session: s.id } } });
    if (!response.ok) { setError(problemMessage(e)); return; }
    if (s.id === session) navigate(chatPage(slug, kb));
    await loadSessions();
  }

  return (
    <section className={`chat${cited ? ' with-panel' : ''}`} onKeyDown={e => { if (e.key === 'Escape' && cited) setCited(null); }}>
      <nav className="sessions" aria-label="Chat sessions">
        <h1>Chat</h1>
        <p className="muted"><Link to={kbPage(slug, kb)}>{kb}</Link></p>
        <button type="button" className="primary" onClick={() => navigate(chatPage(slug, kb))} disabled={!session}>New chat</button>
        {sessions === null ? <p className="loading">Loading…</p> : sessions.length === 0 ? <p className="muted">No conversations yet.</p> : (
          <ul>{sessions.map(s => (
            <li key={s.id}>
              <Link to={chatPage(slug, kb, s.id)} className={s.id === session ? 'current' : undefined}>{s.title || 'Untitled'}</Link>
              <button type="button" className="link" aria-label={`Delete conversation ${s.title || 'Untitled'}`} onClick={() => void removeSession(s)}>×</button>
            </li>
          ))}</ul>
        )}
      </nav>

      <div className="conversation">
        <ol className="messages" aria-label="Messages" aria-live="polite">
          {messages.length === 0 && <li className="muted">Ask a question about the documents of {kb}. Answers cite their passages as [1], [2]…</li>}
          {messages.map(m => (
            <li key={m.key} className={`message ${m.role}`} data-testid={`message-${m.role}`} aria-busy={m.streaming ? true : undefined}>
              {m.role === 'assistant'
                ? <AnswerText text={m.content || (m.streaming ? '…' : '')} citations={m.streaming ? null : m.citations} onCite={setCited} />
                : m.content}
              {m.extractive && !m.streaming && <div className="muted small">Quoted from the passages (no language model is configured).</div>}
            </li>
          ))}
          <div ref={end} />
        </ol>
        {error && <p role="alert" className="banner error">{error}</p>}
        <form className="ask" onSubmit={e => void ask(e)}>
          <textarea aria-label="Question" placeholder="Ask a question (Enter sends, Shift+Enter for a new line)" value={question} rows={2}
            onChange={e => setQuestion(e.target.value)}
            onKeyDown={e => { if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) { e.preventDefault(); void ask(); } }} />
          <label>Mode <select aria-label="Retrieval mode" value={mode} onChange={e => setMode(e.target.value as (typeof modes)[number])}>
            {modes.map(x => <option key={x} value={x}>{x}</option>)}
          </select></label>
          {streaming
            ? <button type="button" onClick={() => streaming.abort()}>Stop</button>
            : <button type="submit" className="primary" disabled={!question.trim()}>Ask</button>}
        </form>
      </div>

      {cited && <PassagePanel slug={slug} kb={kb} citation={cited} onClose={() => setCited(null)} />}
    </section>
  );
}

/** The cited passage: where it comes from, its score and snippet, and the whole chunk read from the document. */
function PassagePanel({ slug, kb, citation, onClose }: { slug: string; kb: string; citation: Citation; onClose: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => { close.current?.focus(); }, [citation]);
  useEffect(() => {
    setText(null);
    let stale = false;
    api.GET('/api/projects/{project}/knowledge/{kb}/documents/{document}/chunks', { params: { path: { project: slug, kb, document: citation.documentId } } })
      .then(({ data }) => { if (!stale) setText(data?.find(c => c.id === citation.chunkId)?.text ?? null); })
      .catch(() => undefined);
    return () => { stale = true; };
  }, [slug, kb, citation]);
  return (
    <aside className="passage" aria-label={`Passage ${citation.n}`} data-testid="passage-panel">
      <div className="actions"><h2>[{citation.n}] {citation.title || citation.document}</h2>
        <button type="button" ref={close} onClick={onClose} aria-label="Close passage">Close</button></div>
      <dl className="facts">
        <dt>Document</dt><dd>{citation.document}</dd>
        {citation.page != null && <><dt>Page</dt><dd data-testid="passage-page">{citation.page}</dd></>}
        {citation.headingPath && <><dt>Section</dt><dd>{citation.headingPath}</dd></>}
        <dt>Score</dt><dd>{citation.score.toFixed(4)}</dd>
      </dl>
      <p className="snippet" data-testid="passage-snippet"><Snippet text={citation.snippet} /></p>
      {text && <details open><summary>Whole passage</summary><p className="chunk-text">{text}</p></details>}
    </aside>
  );
}
