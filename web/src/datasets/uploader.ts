import { api, problemMessage } from '../api/client';

/** The upload session files go into: the server keeps what arrived, so any client can continue where it stopped. */
export interface UploadTarget { project: string; dataset: string; session: string }

export interface UploadItem { path: string; file: Blob }

export interface UploadOptions {
  /** Bytes per PUT; the server appends chunks in order and answers how many bytes it holds. */
  chunkBytes?: number;
  /** Failed attempts in a row (network error, 5xx, 409) before a file gives up; each one re-reads the session. */
  retries?: number;
  /** Files sent at the same time. */
  parallel?: number;
  onProgress?: (path: string, sent: number, total: number) => void;
  /** Waits before attempt `n` (1-based) after a failure; tests pass one that does not wait. */
  sleep?: (attempt: number) => Promise<void>;
}

export const defaultChunkBytes = 4 * 1024 * 1024;

export class UploadError extends Error {
  constructor(readonly path: string, message: string) { super(`${path}: ${message}`); }
}

const backoff = (attempt: number) => new Promise<void>(r => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));

function sessionPath(target: UploadTarget) {
  return { project: target.project, dataset: target.dataset, session: target.session };
}

/** Bytes the server holds of each staged path; a complete file counts as its full size. */
export async function receivedBytes(target: UploadTarget): Promise<Map<string, number>> {
  const { data, error } = await api.GET('/api/projects/{project}/datasets/{dataset}/uploads/{session}', { params: { path: sessionPath(target) } });
  if (!data) throw new Error(problemMessage(error, 'The upload session could not be read.'));
  return new Map(data.files.filter(f => !f.delete).map(f => [f.path, f.complete ? f.declaredSize : f.receivedBytes]));
}

async function putChunk(target: UploadTarget, path: string, body: Uint8Array, range: string | null) {
  return api.PUT('/api/projects/{project}/datasets/{dataset}/uploads/{session}/files/{path}', {
    params: { path: { ...sessionPath(target), path } },
    // The endpoint reads the raw request body, which the OpenAPI document does not describe.
    body: body as never,
    bodySerializer: (b: unknown) => b as BodyInit,
    headers: { 'Content-Type': 'application/octet-stream', ...(range ? { 'Content-Range': range } : {}) },
  });
}

/**
 * Sends one file from byte `from` (what the server already holds) in chunks with Content-Range. After a lost
 * response, a refused chunk (409: the server holds a different offset) or a 5xx, the file continues from the offset
 * the session reports, so a chunk that did arrive is never sent twice and one that did not is never skipped.
 */
export async function uploadFile(target: UploadTarget, item: UploadItem, from: number, options: UploadOptions = {}): Promise<void> {
  const { chunkBytes = defaultChunkBytes, retries = 5, onProgress, sleep = backoff } = options;
  const total = item.file.size;
  let offset = Math.min(from, total);
  onProgress?.(item.path, offset, total);
  if (total === 0) {
    // Content-Range cannot describe an empty body; an empty file goes whole.
    const { error } = await putChunk(target, item.path, new Uint8Array(0), null);
    if (error) throw new UploadError(item.path, problemMessage(error));
    return;
  }
  let failures = 0;
  while (offset < total) {
    const end = Math.min(offset + chunkBytes, total);
    let reason: string;
    try {
      const body = new Uint8Array(await item.file.slice(offset, end).arrayBuffer());
      const { data, error, response } = await putChunk(target, item.path, body, `bytes ${offset}-${end - 1}/${total}`);
      if (data) {
        offset = data.complete ? total : data.receivedBytes;
        failures = 0;
        onProgress?.(item.path, offset, total);
        continue;
      }
      reason = problemMessage(error, `The server answered ${response.status}.`);
      // Anything else is a verdict on the request itself (too large, forbidden, bad path): trying again cannot help.
      if (response.status !== 409 && response.status < 500) throw new UploadError(item.path, reason);
    } catch (e) {
      if (e instanceof UploadError) throw e;
      reason = problemMessage(e, 'The network failed.');
    }
    if (++failures > retries) throw new UploadError(item.path, `${reason} (gave up after ${retries} retries)`);
    await sleep(failures);
    try {
      offset = (await receivedBytes(target)).get(item.path) ?? 0;
      onProgress?.(item.path, offset, total);
    } catch {
      // The session could not be read either; the next attempt re-reads it again after the next failure.
    }
  }
}

/** Uploads every item that the session does not already hold completely; resolves when all arrived. */
export async function uploadAll(target: UploadTarget, items: UploadItem[], options: UploadOptions = {}): Promise<void> {
  const held = await receivedBytes(target);
  const queue = [...items];
  const errors: UploadError[] = [];
  async function worker() {
    for (let item = queue.shift(); item; item = queue.shift()) {
      try {
        await uploadFile(target, item, held.get(item.path) ?? 0, options);
      } catch (e) {
        errors.push(e instanceof UploadError ? e : new UploadError(item.path, problemMessage(e)));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 3) }, worker));
  if (errors.length > 0) throw new AggregateError(errors, errors.map(e => e.message).join(' '));
}

/** The dataset path of a picked file: its path inside a picked folder, else its name. */
export function datasetPath(file: File): string {
  const relative = (file as File & { webkitRelativePath?: string }).webkitRelativePath;
  return relative || file.name;
}
