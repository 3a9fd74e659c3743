import { useState } from 'react';
import { FileButton } from './FileButton';
import { type PickedFile, planUpload, uploadDocuments, type UploadProgress } from './upload';

/**
 * Picks files or a whole folder and uploads them as documents, with a progress bar per file and overall. Unsupported
 * formats and duplicate names are listed and left out before anything is sent.
 */
export function DocumentUpload({ url, onUploaded, createRequest }: {
  url: string; onUploaded: (runIds: string[]) => void; createRequest?: () => XMLHttpRequest;
}) {
  const [picked, setPicked] = useState<PickedFile[]>([]);
  const [tags, setTags] = useState('');
  const [progress, setProgress] = useState<UploadProgress>({});
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);
  const [done, setDone] = useState<string | null>(null);

  function pick(list: FileList) {
    const added = [...list].map(file => ({ path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name, file }));
    setPicked(previous => [...previous.filter(p => !added.some(a => a.path === p.path)), ...added]);
    setProgress({}); setErrors([]); setDone(null);
  }

  const plan = planUpload(picked);

  async function start() {
    setBusy(true); setErrors([]); setDone(null);
    try {
      const { results, errors: failed } = await uploadDocuments(url, plan.send, tags, setProgress, createRequest ? { createRequest } : {});
      setErrors(failed);
      const queued = results.reduce((n, r) => n + r.queued.length, 0);
      const unchanged = results.reduce((n, r) => n + r.unchanged.length, 0);
      if (results.length > 0) setDone(`${queued} queued for ingestion${unchanged ? `, ${unchanged} unchanged` : ''}.`);
      onUploaded(results.flatMap(r => r.run ? [r.run.id] : []));
    } finally {
      setBusy(false);
    }
  }

  const total = plan.send.reduce((n, f) => n + f.file.size, 0);
  const sent = plan.send.reduce((n, f) => n + (progress[f.path]?.sent ?? 0), 0);
  return (
    <section className="upload" aria-label="Upload documents">
      <h2>Add documents</h2>
      <div className="actions">
        <FileButton text="Add files" label="Add files" multiple disabled={busy} onFiles={pick} />
        <FileButton text="Add a folder" label="Add a folder" multiple folder disabled={busy} onFiles={pick} />
        <label>Tags <input aria-label="Tags" placeholder="comma-separated" value={tags} onChange={e => setTags(e.target.value)} disabled={busy} /></label>
        {picked.length > 0 && !busy && <button type="button" onClick={() => { setPicked([]); setProgress({}); }}>Clear</button>}
      </div>
      {plan.send.length > 0 && (
        <>
          <table className="grid upload-files" aria-label="Files to upload">
            <tbody>{plan.send.map(f => {
              const p = progress[f.path];
              return (
                <tr key={f.path} data-testid="upload-file" data-path={f.path}>
                  <td>{f.path}</td><td>{f.file.size.toLocaleString()} B</td>
                  <td><progress aria-label={`Upload of ${f.path}`} max={Math.max(1, f.file.size)} value={f.file.size === 0 && p && !p.failed && !busy ? 1 : p?.sent ?? 0} /></td>
                  <td>{p?.failed && <span className="error">failed</span>}</td>
                </tr>
              );
            })}</tbody>
          </table>
          <div className="actions">
            <progress aria-label="Overall upload" max={Math.max(1, total)} value={sent} />
            <span data-testid="upload-overall">{sent.toLocaleString()} of {total.toLocaleString()} bytes</span>
            <button type="button" className="primary" disabled={busy || (done !== null && errors.length === 0)} onClick={() => void start()}>
              {busy ? 'Uploading…' : `Upload ${plan.send.length} ${plan.send.length === 1 ? 'file' : 'files'}`}
            </button>
          </div>
        </>
      )}
      {plan.skipped.length > 0 && (
        <details className="skipped"><summary>{plan.skipped.length} left out</summary>
          <ul>{plan.skipped.map(s => <li key={s.path}>{s.path}: {s.reason}</li>)}</ul>
        </details>
      )}
      {errors.map((e, i) => <p key={i} role="alert" className="banner error">{e}</p>)}
      {done && <p role="status" className="banner info">{done}</p>}
    </section>
  );
}
