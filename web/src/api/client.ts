import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

/** The typed API client: paths and bodies come from the server's OpenAPI document (web/openapi.json). */
export const api = createClient<paths>({
  baseUrl: typeof window === 'undefined' ? '' : window.location.origin,
  credentials: 'same-origin',
  // Looked up per call, so tests (and anything wrapping fetch) can replace it after this module loads.
  fetch: (request: Request) => globalThis.fetch(request),
});

export type Schemas = components['schemas'];

/** A readable message from a problem-details body, an Error, or anything else a call can fail with. */
export function problemMessage(error: unknown, fallback = 'The request failed.'): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object') {
    const p = error as { title?: string; detail?: string; errors?: Record<string, string[]> };
    const fields = p.errors ? Object.values(p.errors).flat().join(' ') : '';
    return [p.detail ?? p.title, fields].filter(Boolean).join(' ') || fallback;
  }
  return typeof error === 'string' && error ? error : fallback;
}

/** The version an ETag header names (W/"3" or "3"), as the server's If-Match parser reads it. */
export function versionFromETag(header: string | null): number | null {
  const match = header?.match(/^(?:W\/)?"(\d+)"$/);
  return match?.[1] ? Number(match[1]) : null;
}
