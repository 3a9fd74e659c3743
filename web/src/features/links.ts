export function pipelinesPage(slug: string): string {
  return `/p/${encodeURIComponent(slug)}/features`;
}

export function pipelinePage(slug: string, name: string): string {
  return `/p/${encodeURIComponent(slug)}/features/pipelines/${encodeURIComponent(name)}`;
}

export function newPipelinePage(slug: string): string {
  return `/p/${encodeURIComponent(slug)}/features/new`;
}
