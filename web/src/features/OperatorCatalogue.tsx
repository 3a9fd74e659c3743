import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';

type Property = { type?: unknown; description?: unknown; enum?: unknown; default?: unknown };

function parameters(info: Schemas['OperatorInfo']): { name: string; required: boolean; text: string }[] {
  const schema = info.parameters as { properties?: Record<string, Property>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name, required: (schema.required ?? []).includes(name),
    text: [Array.isArray(p.enum) ? p.enum.join(' | ') : typeof p.type === 'string' ? p.type : '',
      p.default !== undefined ? `default ${JSON.stringify(p.default)}` : '', typeof p.description === 'string' ? p.description : ''].filter(Boolean).join(' · '),
  }));
}

/** The operators a step can name, with their parameters from the catalogue endpoint: a reference beside the YAML. */
export function OperatorCatalogue({ slug }: { slug: string }) {
  const [ops, setOps] = useState<Schemas['OperatorInfo'][] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.GET('/api/projects/{project}/features/operators', { params: { path: { project: slug } } })
      .then(({ data, error: e }) => data ? setOps(data) : setError(problemMessage(e)))
      .catch(e => setError(problemMessage(e)));
  }, [slug]);
  if (error) return <p role="alert">{error}</p>;
  if (!ops) return <p className="loading">Loading operators…</p>;
  return (
    <aside className="operator-catalogue" aria-label="Operators">
      <h2>Operators</h2>
      {ops.map(o => (
        <details key={o.op} data-testid="operator">
          <summary><code>{o.op}</code>{o.fitted && <span className="tag">fitted</span>}{o.online === false && <span className="tag">batch only</span>}{o.takesRight && <span className="tag">right</span>}</summary>
          <p>{o.description}</p>
          <ul>{parameters(o).map(p => <li key={p.name}><code>{p.name}</code>{p.required && ' (required)'}{p.text && `: ${p.text}`}</li>)}</ul>
        </details>
      ))}
    </aside>
  );
}
