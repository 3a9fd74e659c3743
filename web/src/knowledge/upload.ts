import { problemMessage, type Schemas } from '../api/client';

export type AddDocumentsResult = Schemas['AddDocumentsResult'];

/** The extensions the server extracts (Extraction/DocumentExtractor.DetectFormat); anything else would fail the whole request with 415. */
export const supportedExtensions = ['.pdf', '.md', '.markdown', '.mdx', '.html', '.htm', '.xhtml', '.txt', '.text', '.log', '.rst', '.csv', '.tsv', '.jsonl', '.ndjson'];

export function isSupported(name: string): boolean {
  const lower = name.toLowerCase();
  return supportedExtensions.some(e => lower.endsWith(e));
}

/** A picked file; `path` is its place inside a picked folder (the document is named by its file name). */
export interface PickedFile { path: string; file: File }

/** The document name the server gives a file: its name without folders. */
export const documentName = (path: string) => path.split('/').pop() ?? path;

/**
 * Sorts picked files into those to send and those left out, with why: unsupported formats, and a second file with
 * the name of another (the server names documents by file name, so folders cannot tell them apart).
 */
export function planUpload(files: PickedFile[]): { send: PickedFile[]; skipped: { path: string; reason: string }[] } {
  const send: PickedFile[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const seen = new Map<string, string>();
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    const name = documentName(f.path);
    if (!isSupported(name)) { skipped.push({ path: f.path, reason: 'not a supported format' }); continue; }
    const first = seen.get(name);
    if (first !== undefined) { skipped.push({ path: f.path, reason: `same file name as ${first}` }); continue; }
    seen.set(name, f.path);
    send.push(f);
  }
  return { send, skipped };
}

/** Files per request, and bytes: each request is one multipart body and starts one ingestion run. */
export interface BatchLimits { files: number; bytes: number }
export const defaultBatch: BatchLimits = { files: 50, bytes: 32 * 1024 * 1024 };

export function batches(files: PickedFile[], limits: BatchLimits = defaultBatch): PickedFile[][] {
  const out: PickedFile[][] = [];
  let current: PickedFile[] = [];
  let bytes = 0;
  for (const f of files) {
    if (current.length > 0 && (current.length >= limits.files || bytes + f.file.size > limits.bytes)) { out.push(current); current = []; bytes = 0; }
    current.push(f);
    bytes += f.file.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Bytes of each file sent so far, from the bytes of a multipart body sent so far: the parts go in order, so a file
 * counts as sent up to where the body has reached it (the few hundred bytes of part headers are spread over the files).
 */
export function perFileProgress(files: PickedFile[], loaded: number, total: number): number[] {
  const content = files.reduce((n, f) => n + f.file.size, 0);
  const overhead = Math.max(0, total - content);
  let left = loaded;
  return files.map(f => {
    const share = f.file.size + (content > 0 ? overhead * (f.file.size / content) : overhead / files.length);
    const sent = Math.min(share, Math.max(0, left));
    left -= share;
    return share > 0 ? Math.round(f.file.size * (sent / share)) : left >= 0 ? f.file.size : 0;
  });
}

/**
 * Posts one batch as multipart with XMLHttpRequest, the browser API that reports upload progress (fetch does not).
 * Resolves with what the server queued; rejects with the server's problem message.
 */
export function postBatch(url: string, files: PickedFile[], tags: string, onProgress: (loaded: number, total: number) => void,
  createRequest: () => XMLHttpRequest = () => new XMLHttpRequest()): Promise<AddDocumentsResult> {
  const form = new FormData();
  for (const f of files) form.append('files', f.file, documentName(f.path));
  if (tags.trim()) form.append('tags', tags.trim());
  return new Promise((resolve, reject) => {
    const xhr = createRequest();
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = e => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new Error('The network failed during the upload.'));
    xhr.onload = () => {
      let body: unknown = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: the status says enough */ }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body as AddDocumentsResult);
      else reject(new Error(problemMessage(body, `The server answered ${xhr.status}.`)));
    };
    xhr.send(form);
  });
}

export interface UploadProgress { [path: string]: { sent: number; total: number; failed?: string } }

/**
 * Uploads files in batches, one request after another, reporting bytes per file. A batch the server refuses marks
 * its files failed and the next batch still goes; resolves with every batch's result and the run ids to follow.
 */
export async function uploadDocuments(url: string, files: PickedFile[], tags: string, onProgress: (p: UploadProgress) => void,
  options: { limits?: BatchLimits; createRequest?: () => XMLHttpRequest } = {}): Promise<{ results: AddDocumentsResult[]; errors: string[] }> {
  const progress: UploadProgress = Object.fromEntries(files.map(f => [f.path, { sent: 0, total: f.file.size }]));
  onProgress({ ...progress });
  const results: AddDocumentsResult[] = [];
  const errors: string[] = [];
  for (const batch of batches(files, options.limits)) {
    try {
      results.push(await postBatch(url, batch, tags, (loaded, total) => {
        perFileProgress(batch, loaded, total).forEach((sent, i) => { progress[(batch[i] as PickedFile).path] = { sent, total: (batch[i] as PickedFile).file.size }; });
        onProgress({ ...progress });
      }, options.createRequest));
      for (const f of batch) progress[f.path] = { sent: f.file.size, total: f.file.size };
    } catch (e) {
      const message = problemMessage(e);
      errors.push(message);
      for (const f of batch) progress[f.path] = { ...(progress[f.path] ?? { sent: 0, total: f.file.size }), failed: message };
    }
    onProgress({ ...progress });
  }
  return { results, errors };
}
