import type { Schemas } from '../api/client';

type Field = Schemas['FieldDef'];
type Row = Record<string, unknown>;

const show = (v: unknown): string => v === null || v === undefined ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v);

/**
 * A schema as a table: column, kind and the nulls among the shown rows. The engine has no non-null columns (every kind
 * carries a validity mask), so nullability is what the sample shows, and it says so.
 */
export function SchemaTable({ label, fields, rows }: { label: string; fields: Field[]; rows?: Row[] }) {
  return (
    <table className="grid schema" aria-label={label}>
      <thead><tr><th>Column</th><th>Type</th><th>Nullable</th>{rows && <th>Nulls in shown rows</th>}</tr></thead>
      <tbody>{fields.map(f => {
        const nulls = rows?.filter(r => r[f.name] === null || r[f.name] === undefined).length;
        return (
          <tr key={f.name} data-testid="schema-field">
            <td><code>{f.name}</code></td><td>{String(f.kind).toLowerCase()}</td><td>yes</td>
            {rows && <td>{nulls}</td>}
          </tr>
        );
      })}</tbody>
    </table>
  );
}

export function PreviewRows({ label, fields, rows }: { label: string; fields: Field[]; rows: Row[] }) {
  if (rows.length === 0) return <p className="muted">No rows reach this step in the preview sample.</p>;
  return (
    <div className="table-scroll">
      <table className="grid preview" aria-label={label}>
        <thead><tr>{fields.map(f => <th key={f.name}>{f.name}</th>)}</tr></thead>
        <tbody>{rows.map((r, i) => <tr key={i}>{fields.map(f => <td key={f.name}>{show(r[f.name])}</td>)}</tr>)}</tbody>
      </table>
    </div>
  );
}

export interface StepView {
  name: string;
  op: string;
  input: string;
  inputFields: Field[] | null;
  outputFields: Field[] | null;
  rows: number;
  milliseconds: number;
  firstRows: Row[];
}

/** One step of a preview: what it reads, what it writes, and the first rows it wrote. */
export function SchemaPanel({ step }: { step: StepView }) {
  return (
    <section className="step-panel" aria-label={`Step ${step.name}`}>
      <h3><code>{step.name}</code> · {step.op}</h3>
      <p className="muted" data-testid="step-stats">{`${step.rows.toLocaleString()} rows out in the preview, ${step.milliseconds.toFixed(1)} ms; reads ${step.input}`}</p>
      <div className="schemas">
        <div>
          <h4>Input schema</h4>
          {step.inputFields ? <SchemaTable label={`Input schema of ${step.name}`} fields={step.inputFields} /> : <p className="muted">Unknown until fitted.</p>}
        </div>
        <div>
          <h4>Output schema</h4>
          {step.outputFields
            ? <SchemaTable label={`Output schema of ${step.name}`} fields={step.outputFields} rows={step.firstRows} />
            : <p className="muted">Known once the vocabulary upstream is fitted.</p>}
        </div>
      </div>
      <h4>Preview rows</h4>
      {step.outputFields && <PreviewRows label={`Preview rows of ${step.name}`} fields={step.outputFields} rows={step.firstRows} />}
    </section>
  );
}

/** Joins a preview report into per-step views: each step's input schema is its source's output (or input's) schema. */
export function stepViews(report: Schemas['PreviewReport']): Map<string, StepView> {
  const schemas = new Map<string, Field[] | null>();
  for (const input of report.inputs) schemas.set(input.name, input.schema);
  for (const step of report.steps) schemas.set(step.name, step.schema);
  return new Map(report.steps.map(s => [s.name, {
    name: s.name, op: s.op, input: s.input, inputFields: schemas.get(s.input) ?? null, outputFields: s.schema,
    rows: s.rows, milliseconds: s.milliseconds, firstRows: s.firstRows as Row[],
  }]));
}
