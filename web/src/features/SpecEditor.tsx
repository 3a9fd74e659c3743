import { useState } from 'react';
import { api, type Schemas } from '../api/client';
import { ValidationErrors } from './ValidationErrors';

export const starterSpec = `name: my-pipeline
inputs:
  events: {dataset: events, table: events.csv}
steps:
  - {name: fill, op: impute, columns: [amount], strategy: median}
  - {name: scale, op: standardize, columns: [amount]}
output: scale
`;

type Outcome = { kind: 'valid'; result: Schemas['ValidationDto'] } | { kind: 'invalid'; problem: unknown } | null;

/**
 * The spec as YAML (or JSON) in a monospace textarea. Validate asks the server, which checks it against the project's
 * data; Save stores it as a new pipeline (when `existing` is absent) or as the pipeline's next version.
 */
export function SpecEditor({ slug, existing, initial, canWrite, onSaved }: {
  slug: string; existing?: string; initial: string; canWrite: boolean; onSaved: (pipeline: Schemas['PipelineDto']) => void;
}) {
  const [name, setName] = useState(existing ?? '');
  const [spec, setSpec] = useState(initial);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [busy, setBusy] = useState(false);
  const project = { project: slug };

  async function act(what: () => Promise<void>) {
    setBusy(true);
    try { await what(); } catch (x) { setOutcome({ kind: 'invalid', problem: x }); } finally { setBusy(false); }
  }

  const validate = () => act(async () => {
    const { data, error } = await api.POST('/api/projects/{project}/features/pipelines/validate', { params: { path: project }, body: { name: null, spec } });
    setOutcome(data ? { kind: 'valid', result: data } : { kind: 'invalid', problem: error });
  });

  const save = () => act(async () => {
    const { data, error } = existing
      ? await api.PUT('/api/projects/{project}/features/pipelines/{name}', { params: { path: { ...project, name: existing } }, body: { name: null, spec } })
      : await api.POST('/api/projects/{project}/features/pipelines', { params: { path: project }, body: { name: name.trim(), spec } });
    if (data) { setOutcome(null); onSaved(data); } else setOutcome({ kind: 'invalid', problem: error });
  });

  return (
    <form className="spec-editor" aria-label="Pipeline spec" onSubmit={e => { e.preventDefault(); void save(); }}>
      {!existing && (
        <label>Pipeline name <input aria-label="Pipeline name" value={name} onChange={e => setName(e.target.value)} required maxLength={128} pattern="[A-Za-z0-9._\-]+" /></label>
      )}
      <textarea aria-label="Spec (YAML)" className="code" spellCheck={false} rows={Math.max(14, spec.split('\n').length + 2)} value={spec}
        onChange={e => { setSpec(e.target.value); setOutcome(null); }} />
      <div className="actions">
        <button type="button" onClick={() => void validate()} disabled={busy}>Validate</button>
        {canWrite && <button type="submit" className="primary" disabled={busy}>{existing ? 'Save new version' : 'Create pipeline'}</button>}
      </div>
      {outcome?.kind === 'invalid' && <ValidationErrors problem={outcome.problem} />}
      {outcome?.kind === 'valid' && (
        <div role="status" className="validation-ok">
          <p>{`Valid: ${outcome.result.steps.length} steps.`}{outcome.result.deferred.length > 0 && ` Checked once fitted: ${outcome.result.deferred.join(', ')}.`}</p>
          <ul aria-label="Step schemas">
            {outcome.result.steps.map(s => (
              <li key={s.name}><code>{s.name}</code> ({s.op}, reads {s.input}): {s.schema ? s.schema.map(f => `${f.name} ${String(f.kind).toLowerCase()}`).join(', ') : 'schema known once fitted'}</li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}
