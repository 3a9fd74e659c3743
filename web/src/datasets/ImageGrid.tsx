import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { fileUrl } from './links';

type Image = Schemas['ImageDto'];

/** Thumbnails of a version's images, a page at a time; the browser fetches each only when it scrolls into view. */
export function ImageGrid({ slug, dataset, version }: { slug: string; dataset: string; version: string }) {
  const [images, setImages] = useState<Image[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  async function load(cursor?: string) {
    const { data, error: e } = await api.GET('/api/projects/{project}/datasets/{dataset}/versions/{version}/images', {
      params: { path: { project: slug, dataset, version }, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
    });
    if (!data) { setError(problemMessage(e)); return; }
    setImages(previous => cursor ? [...previous, ...data.items] : data.items);
    setNext(data.nextCursor);
  }

  useEffect(() => { setImages([]); setNext(undefined); void load(); }, [slug, dataset, version]);

  if (error) return <p role="alert">{error}</p>;
  if (next === undefined) return <p className="loading">Loading…</p>;
  if (images.length === 0) return <p className="muted">This version has no images.</p>;
  return (
    <>
      <ul className="image-grid" aria-label="Images">
        {images.map(i => (
          <li key={i.path} data-testid="image-tile">
            <a href={fileUrl(slug, dataset, version, i.path)} target="_blank" rel="noreferrer" title={i.path}>
              <img src={i.thumbnailUrl} alt={i.path} loading="lazy" width={160} height={160} />
            </a>
            <span className="caption">{i.path.split('/').pop()}</span>
            <span className="muted caption">{i.width}×{i.height} {i.format}</span>
          </li>
        ))}
      </ul>
      {next && <button type="button" onClick={() => void load(next)}>More images</button>}
    </>
  );
}
