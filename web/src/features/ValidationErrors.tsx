import { problemMessage } from '../api/client';

export interface PipelineError { step: string | null; field: string | null; message: string }

/** The `errors` list of a 422 from validate/save, or null when the problem is of another shape. */
export function pipelineErrors(problem: unknown): PipelineError[] | null {
  const errors = (problem as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return null;
  return errors.filter((e): e is PipelineError => !!e && typeof e === 'object' && typeof (e as PipelineError).message === 'string')
    .map(e => ({ step: e.step ?? null, field: e.field ?? null, message: e.message }));
}

/** The closest match the server suggested for an unknown name, if its message carries one. */
export function suggestion(message: string): string | null {
  return /did you mean '([^']+)'/.exec(message)?.[1] ?? null;
}

/** Each problem with where it is (step and field) and the suggested name set apart so it is easy to copy. */
export function ValidationErrors({ problem }: { problem: unknown }) {
  const errors = pipelineErrors(problem);
  if (!errors || errors.length === 0) return <p role="alert" className="error">{problemMessage(problem)}</p>;
  return (
    <div role="alert" className="validation-errors">
      <p className="error">{errors.length === 1 ? 'One problem' : `${errors.length} problems`} in the pipeline:</p>
      <ul aria-label="Validation errors">
        {errors.map((e, i) => {
          const hint = suggestion(e.message);
          return (
            <li key={i} data-testid="validation-error" data-step={e.step ?? ''}>
              <span className="where">{e.step ? <>step <code>{e.step}</code></> : 'pipeline'}{e.field && <> · <code>{e.field}</code></>}</span>{' '}
              {e.message}
              {hint && <> <span className="suggestion" data-testid="suggestion">Suggestion: <code>{hint}</code></span></>}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
