// Test helper (imported only by tests): an in-memory upload-session server behind a stubbed fetch.
import { vi } from 'vitest';

export const session = '3f1c2d4e-0000-4000-8000-000000000001';

/**
 * The server's side of the upload-session protocol, in memory: chunks must start at the bytes received so far (409
 * otherwise), and `failPut` decides per PUT whether the request is lost before or after the server stored it.
 */
export function fakeServer(failPut: (n: number, path: string) => 'before' | 'after' | null = () => null) {
  const files = new Map<string, { bytes: number[]; total: number }>();
  const puts: { path: string; range: string | null }[] = [];
  const created: string[] = [];
  const commits: unknown[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    if (request.method === 'GET' && url.pathname.endsWith(session)) {
      return json(200, {
        id: session, state: 'open', createdAt: '', expiresAt: '', runId: null,
        files: [...files].map(([path, f]) => ({ path, declaredSize: f.total, receivedBytes: f.bytes.length, complete: f.bytes.length === f.total, sha256: null, delete: false, extract: false })),
      });
    }
    if (request.method === 'PUT') {
      const path = decodeURIComponent(url.pathname.split('/files/')[1] ?? '');
      const range = request.headers.get('Content-Range');
      puts.push({ path, range });
      const fail = failPut(puts.length, path);
      if (fail === 'before') throw new TypeError('Failed to fetch');
      const body = [...new Uint8Array(await request.arrayBuffer())];
      const [, start, , total] = /bytes (\d+)-(\d+)\/(\d+)/.exec(range ?? '')?.map(Number) ?? [];
      const file = files.get(path) ?? { bytes: [], total: total ?? body.length };
      if (range === null) { file.bytes = body; file.total = body.length; }
      else if (start !== file.bytes.length) return json(409, { title: 'Conflict', detail: `continues at byte ${file.bytes.length}`, status: 409 });
      else file.bytes.push(...body);
      files.set(path, file);
      if (fail === 'after') throw new TypeError('Failed to fetch');
      return json(200, { path, declaredSize: file.total, receivedBytes: file.bytes.length, complete: file.bytes.length === file.total, sha256: null, delete: false, extract: false });
    }
    if (request.method === 'POST' && url.pathname.endsWith('/uploads')) {
      created.push(session);
      return json(201, { id: session, state: 'open', createdAt: '', expiresAt: '', runId: null, files: [] });
    }
    if (request.method === 'POST' && url.pathname.endsWith('/commit')) {
      commits.push(await request.json());
      return json(200, { id: 'run', state: 'succeeded' });
    }
    return json(404, { title: 'Not found', status: 404 });
  });
  vi.stubGlobal('fetch', fetch);
  return { files, puts, fetch, created, commits };
}

