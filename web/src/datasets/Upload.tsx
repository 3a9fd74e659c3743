import { useState } from 'react';
import { api, problemMessage } from '../api/client';
import { Link } from '../app/router';
import { versionPage } from './links';
import { datasetPath, uploadAll, type UploadItem, type UploadOptions } from './uploader';

interface FileState { sent: number; total: number }

const sessionKey = (slug: string, dataset: string) => `cube.upload:${slug}/${dataset}`;

/**
 * Files and folders into the next version: staged through an upload session in resumable chunks, then committed.
 * The session id outlives a failure (and a reload), so "Resume" sends only what the server does not hold yet.
 */
export function Upload({ slug, dataset, onCommitted, options }: {
  slug: string; dataset: string; onCommitted: () => Promise<number | undefined>; options?: Omit<UploadOptions, 'onProgress'>;
}) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const [progress, setProgress] = useState<Record<string, FileState>>({});
  const [message, setMessage] = useState('');
  const [mode, setMode] = useState<'merge' | 'replace'>('merge');
  const [busy, setBusy] = useState<'uploading' | 'committing' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<{ text: string; version?: number } | null>(null);

  function pick(list: FileList | null) {
    if (!list) return;
    const picked = [...list].map(file => ({ path: datasetPath(file), file }));
    setItems(previous => [...previous.filter(p => !picked.some(n => n.path === p.path)), ...picked].sort((a, b) => a.path.localeCompare(b.path)));
    setProgress({}); setError(null); setDone(null);
  }

  async function openSession(): Promise<string> {
    const stored = localStorage.getItem(sessionKey(slug, dataset));
    if (stored) {
      const { data } = await api.GET('/api/projects/{project}/datasets/{dataset}/uploads/{session}', { params: { path: { project: slug, dataset, session: stored } } });
      // Resume only a session that holds nothing but the files picked now: anything else it staged would be committed too.
      if (data?.state === 'open' && data.files.every(f => items.some(i => i.path === f.path))) return stored;
    }
    const { data, error: e } = await api.POST('/api/projects/{project}/datasets/{dataset}/uploads', { params: { path: { project: slug, dataset } } });
    if (!data) throw new Error(problemMessage(e, 'Could not open an upload session.'));
    localStorage.setItem(sessionKey(slug, dataset), data.id);
    return data.id;
  }

  async function start() {
    setError(null); setDone(null); setBusy('uploading');
    try {
      const session = await openSession();
      await uploadAll({ project: slug, dataset, session }, items, {
        ...options,
        onProgress: (path, sent, total) => setProgress(previous => ({ ...previous, [path]: { sent, total } })),
      });
      setBusy('committing');
      const { error: e, response } = await api.POST('/api/projects/{project}/datasets/{dataset}/uploads/{session}/commit', {
        params: { path: { project: slug, dataset, session } }, body: { message, mode, wait: true },
      });
      if (!response.ok) throw new Error(problemMessage(e, `The commit failed (${response.status}).`));
      localStorage.removeItem(sessionKey(slug, dataset));
      setMessage('');
      const latest = await onCommitted();
      setDone(response.status === 202 ? { text: 'Committing in the background; the version appears when the run ends.' }
        : { text: `Committed ${items.length} files as v${latest}.`, ...(latest === undefined ? {} : { version: latest }) });
    } catch (e) {
      setError(problemMessage(e));
    } finally {
      setBusy(null);
    }
  }

  const total = items.reduce((n, i) => n + i.file.size, 0);
  const sent = items.reduce((n, i) => n + (progress[i.path]?.sent ?? 0), 0);
  return (
    <section className="upload" aria-label="Upload a new version">
      <h2>New version</h2>
      <div className="actions">
        <label className="button">Add files<input type="file" multiple hidden aria-label="Add files" disabled={busy !== null}
          onChange={e => { pick(e.target.files); e.target.value = ''; }} /></label>
        <label className="button">Add a folder<input type="file" multiple hidden aria-label="Add a folder" disabled={busy !== null}
          ref={el => el?.setAttribute('webkitdirectory', '')} onChange={e => { pick(e.target.files); e.target.value = ''; }} /></label>
        {items.length > 0 && busy === null && <button type="button" onClick={() => { setItems([]); setProgress({}); setDone(null); }}>Clear</button>}
      </div>
      {items.length > 0 && (
        <>
          <table className="grid upload-files" aria-label="Files to upload">
            <tbody>{items.map(i => {
              const p = progress[i.path];
              return (
                <tr key={i.path} data-testid="upload-file" data-path={i.path}>
                  <td>{i.path}</td><td>{i.file.size.toLocaleString()} B</td>
                  <td><progress aria-label={`Upload of ${i.path}`} max={Math.max(1, i.file.size)} value={i.file.size === 0 && p ? 1 : p?.sent ?? 0} /></td>
                </tr>
              );
            })}</tbody>
          </table>
          <p className="actions">
            <progress aria-label="Overall upload" max={Math.max(1, total)} value={sent} />
            <span data-testid="upload-overall">{sent.toLocaleString()} of {total.toLocaleString()} bytes</span>
          </p>
          <div className="actions">
            <label>Message <input aria-label="Message" value={message} onChange={e => setMessage(e.target.value)} size={40} /></label>
            <label>Mode <select aria-label="Mode" value={mode} onChange={e => setMode(e.target.value as 'merge' | 'replace')}>
              <option value="merge">add to the latest version</option>
              <option value="replace">replace all files</option>
            </select></label>
            <button type="button" className="primary" disabled={busy !== null || done !== null} onClick={() => void start()}>
              {busy === 'uploading' ? 'Uploading…' : busy === 'committing' ? 'Committing…' : error ? 'Resume' : 'Upload and commit'}
            </button>
          </div>
        </>
      )}
      {error && <p role="alert" className="banner error">{error} Files already sent stay on the server; press Resume to continue.</p>}
      {done && (
        <p role="status" className="banner info">{done.text} {done.version !== undefined && <Link to={versionPage(slug, dataset, done.version)}>Open v{done.version}</Link>}</p>
      )}
    </section>
  );
}
