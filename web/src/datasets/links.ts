/** The download URL of a file in a version; each path segment escaped, the slashes kept. */
export function fileUrl(slug: string, dataset: string, version: string, path: string): string {
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `/api/projects/${encodeURIComponent(slug)}/datasets/${encodeURIComponent(dataset)}/versions/${encodeURIComponent(version)}/files/${file}`;
}

export function versionPage(slug: string, dataset: string, version: number | string): string {
  return `/p/${encodeURIComponent(slug)}/datasets/${encodeURIComponent(dataset)}/versions/${version}`;
}
