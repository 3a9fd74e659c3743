import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import type { Kind, LabelConfig } from './editor';

export type LabelingProject = Schemas['LabelingProjectDto'];

/** The server writes kinds as C# names (BoundingBoxes); the editor uses camelCase. */
export function toConfig(raw: unknown): LabelConfig {
  const c = (raw ?? {}) as Record<string, unknown>;
  const kind = String(c.kind ?? '');
  const labels = Array.isArray(c.labels) ? (c.labels as LabelConfig['labels']) : [];
  return {
    kind: (kind.charAt(0).toLowerCase() + kind.slice(1)) as Kind,
    labels,
    multiple: Boolean(c.multiple),
    allowOverlap: Boolean(c.allowOverlap),
    minBoxSize: typeof c.minBoxSize === 'number' ? c.minBoxSize : 1,
    minPolygonPoints: typeof c.minPolygonPoints === 'number' ? c.minPolygonPoints : 3,
    maxPolygonPoints: typeof c.maxPolygonPoints === 'number' ? c.maxPolygonPoints : 1000,
  };
}

const palette = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324', '#469990', '#808000'];

export function labelColors(config: LabelConfig): Record<string, string> {
  return Object.fromEntries(config.labels.map((l, i) => [l.name, l.color ?? palette[i % palette.length] as string]));
}

export function useLabelingProject(slug: string, id: string) {
  const [project, setProject] = useState<LabelingProject | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.GET('/api/projects/{project}/labeling/{labeling}', { params: { path: { project: slug, labeling: id } } })
      .then(({ data, error: e }) => data ? setProject(data) : setError(problemMessage(e)))
      .catch(e => setError(problemMessage(e)));
  }, [slug, id]);
  return { project, error };
}
