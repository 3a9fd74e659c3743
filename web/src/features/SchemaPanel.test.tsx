import { render, screen, within } from '@testing-library/react';
import type { Schemas } from '../api/client';
import { SchemaPanel, stepViews } from './SchemaPanel';
import { ValidationErrors } from './ValidationErrors';

const report: Schemas['PreviewReport'] = {
  inputs: [{ name: 'events', dataset: 'events', version: 2, table: 'events.csv', rows: 3, schema: [{ name: 'amount', kind: 'Float64' }, { name: 'country', kind: 'String' }] }],
  steps: [
    { name: 'fill', op: 'impute', input: 'events', rows: 3, milliseconds: 1.25, schema: [{ name: 'amount', kind: 'Float64' }, { name: 'country', kind: 'String' }],
      firstRows: [{ amount: 1.5, country: 'FR' }, { amount: 2, country: null }] },
    { name: 'encode', op: 'onehot', input: 'fill', rows: 3, milliseconds: 0.5, schema: [{ name: 'amount', kind: 'Float64' }, { name: 'country_FR', kind: 'Int64' }],
      firstRows: [{ amount: 1.5, country_FR: 1 }] },
  ],
  deferred: [],
  milliseconds: 4,
} as unknown as Schemas['PreviewReport'];

describe('SchemaPanel', { timeout: 30_000 }, () => {
  it('shows the input schema from the upstream step, the output schema with nulls seen, and the preview rows', () => {
    const views = stepViews(report);
    render(<SchemaPanel step={views.get('encode')!} />);
    const input = screen.getByLabelText('Input schema of encode');
    expect(within(input).getAllByTestId('schema-field').map(r => r.textContent)).toEqual(['amountfloat64yes', 'countrystringyes']);
    const output = screen.getByLabelText('Output schema of encode');
    expect(within(output).getAllByTestId('schema-field').map(r => within(r).getAllByRole('cell').map(c => c.textContent))).toEqual([
      ['amount', 'float64', 'yes', '0'], ['country_FR', 'int64', 'yes', '0']]);
    const rows = screen.getByLabelText('Preview rows of encode');
    expect(within(rows).getAllByRole('row').map(r => r.textContent)).toEqual(['amountcountry_FR', '1.51']);
    expect(screen.getByTestId('step-stats').textContent).toBe('3 rows out in the preview, 0.5 ms; reads fill');
  });

  it('takes a first step\'s input schema from the pipeline input and counts nulls in the shown rows', () => {
    render(<SchemaPanel step={stepViews(report).get('fill')!} />);
    expect(within(screen.getByLabelText('Input schema of fill')).getAllByTestId('schema-field')).toHaveLength(2);
    const country = within(screen.getByLabelText('Output schema of fill')).getAllByTestId('schema-field')[1] as HTMLElement;
    expect(within(country).getAllByRole('cell').map(c => c.textContent)).toEqual(['country', 'string', 'yes', '1']);
    expect(within(screen.getByLabelText('Preview rows of fill')).getAllByRole('row')[2]?.textContent).toBe('2∅');
  });
});

describe('ValidationErrors', { timeout: 30_000 }, () => {
  it('names the step and field of each error and sets the suggested name apart', () => {
    render(<ValidationErrors problem={{
      title: 'The pipeline is invalid', status: 422,
      errors: [
        { step: 'scale', field: 'columns', message: "Unknown column 'amont' (did you mean 'amount'?)." },
        { step: 'keep', field: 'op', message: "Unknown operator 'filtr' (did you mean 'filter'?)." },
        { step: null, field: 'output', message: "The output 'kep' is not a step." },
      ],
    }} />);
    const items = screen.getAllByTestId('validation-error');
    expect(items.map(i => i.getAttribute('data-step'))).toEqual(['scale', 'keep', '']);
    expect(items[0]?.textContent).toBe("step scale · columns Unknown column 'amont' (did you mean 'amount'?). Suggestion: amount");
    expect(within(items[1] as HTMLElement).getByTestId('suggestion').textContent).toBe('Suggestion: filter');
    expect(within(items[2] as HTMLElement).queryByTestId('suggestion')).toBeNull();
    expect(items[2]?.textContent).toContain('pipeline · output');
    expect(screen.getByRole('alert').textContent).toContain('3 problems in the pipeline');
  });

  it('falls back to the problem text when there is no error list', () => {
    render(<ValidationErrors problem={{ title: 'Bad request', status: 400, detail: 'The spec is not valid YAML: line 3.' }} />);
    expect(screen.getByRole('alert').textContent).toBe('The spec is not valid YAML: line 3.');
  });
});
