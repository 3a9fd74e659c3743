const e = encodeURIComponent;

export const jobsPage = (slug: string) => `/p/${e(slug)}/training`;
export const jobPage = (slug: string, id: string) => `/p/${e(slug)}/training/jobs/${e(id)}`;
/** Run comparison: the job ids travel in the path, comma-separated, so the page survives a reload and can be shared. */
export const comparePage = (slug: string, ids: readonly string[]) => `/p/${e(slug)}/training/compare/${ids.map(e).join(',')}`;
export const modelsPage = (slug: string) => `/p/${e(slug)}/training/models`;
export const modelPage = (slug: string, model: string) => `/p/${e(slug)}/training/models/${e(model)}`;
export const artifactUrl = (slug: string, id: string, path: string) =>
  `/api/projects/${e(slug)}/training/jobs/${e(id)}/artifacts/${path.split('/').map(e).join('/')}`;
export const modelArtifactUrl = (slug: string, model: string, version: number) =>
  `/api/projects/${e(slug)}/training/models/${e(model)}/versions/${version}/artifact`;
