import { configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { RunHistory } from './RunHistory';
import { SpecEditor } from './SpecEditor';

afterEach(() => { vi.unstubAllGlobals(); });
configure({ asyncUtilTimeout: 8000 });

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('SpecEditor', { timeout: 30_000 }, () => {
  it('sends the YAML to validate, shows the errors, then the step schemas once it validates, and saves', async () => {
    const sent: { method: string; url: string; body: unknown }[] = [];
    vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
      const body = await request.json() as { spec: string };
      sent.push({ method: request.method, url: new URL(request.url).pathname, body });
      if (request.url.endsWith('/validate'))
        return body.spec.includes('amont')
          ? json({ title: 'The pipeline is invalid', status: 422, errors: [{ step: 'scale', field: 'columns', message: "Unknown column 'amont' (did you mean 'amount'?)." }] }, 422)
          : json({ valid: true, steps: [{ name: 'scale', op: 'standardize', input: 'events', schema: [{ name: 'amount', kind: 'Float64' }] }], deferred: [] });
      return json({ id: 'p1', name: 'churn', version: 1, spec: {}, updatedAt: '2026-12-01T00:00:00Z' }, 201);
    }));
    const saved = vi.fn();
    render(<SpecEditor slug="demo" initial={'steps:\n  - {name: scale, op: standardize, columns: [amont]}\n'} canWrite onSaved={saved} />);
    fireEvent.click(screen.getByRole('button', { name: 'Validate' }));
    expect((await screen.findByTestId('suggestion')).textContent).toBe('Suggestion: amount');
    expect(sent[0]).toEqual({ method: 'POST', url: '/api/projects/demo/features/pipelines/validate', body: { name: null, spec: 'steps:\n  - {name: scale, op: standardize, columns: [amont]}\n' } });

    fireEvent.change(screen.getByLabelText('Spec (YAML)'), { target: { value: 'steps:\n  - {name: scale, op: standardize, columns: [amount]}\n' } });
    expect(screen.queryByTestId('validation-error')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Validate' }));
    expect((await screen.findByRole('status')).textContent).toContain('scale (standardize, reads events): amount float64');

    fireEvent.change(screen.getByLabelText('Pipeline name'), { target: { value: 'churn' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create pipeline' }));
    await waitFor(() => expect(saved).toHaveBeenCalledWith(expect.objectContaining({ name: 'churn', version: 1 })));
    expect(sent[2]).toMatchObject({ method: 'POST', url: '/api/projects/demo/features/pipelines', body: { name: 'churn' } });
  });
});

describe('RunHistory', { timeout: 30_000 }, () => {
  it('follows an active run until it succeeds, then shows rows, step timings and the output version link', async () => {
    let reads = 0;
    const run = { id: 'r1', kind: 'features.pipeline', projectId: 'p', ownerId: 'u', attempt: 1, createdAt: '2026-12-01T10:00:00Z', startedAt: '2026-12-01T10:00:00Z', error: null };
    vi.stubGlobal('fetch', vi.fn(async () => {
      reads++;
      return json([reads < 3
        ? { ...run, state: 'running', progress: 50, message: 'Transforming: 10 of 20 rows', finishedAt: null, result: null }
        : { ...run, state: 'succeeded', progress: 100, message: 'Wrote 18 rows', finishedAt: '2026-12-01T10:00:02.5Z',
          result: { outputDataset: 'features-out', outputVersion: 4, rows: 18, steps: { keep: { rows: 18, milliseconds: 0.75 }, fill: { rows: 20, milliseconds: 2 } } } }]);
    }));
    render(<RunHistory slug="demo" pipeline="churn" canRun={false} order={['fill', 'keep']} refreshMs={50} />);
    const row = await screen.findByTestId('run-row');
    expect(row.getAttribute('data-state')).toBe('running');
    expect(row.textContent).toContain('Transforming: 10 of 20 rows');
    await waitFor(() => expect(screen.getByTestId('run-row').getAttribute('data-state')).toBe('succeeded'));
    const done = screen.getByTestId('run-row');
    expect(done.textContent).toContain('2.5 s');
    expect([...done.querySelectorAll('.step-timings li')].map(li => li.textContent)).toEqual(['fill 20 rows, 2.0 ms', 'keep 18 rows, 0.8 ms']);
    expect(screen.getByRole('link', { name: 'features-out v4' }).getAttribute('href')).toBe('/p/demo/datasets/features-out/versions/4');
    const settled = reads;
    await new Promise(r => setTimeout(r, 300));
    expect(reads).toBe(settled); // nothing active: polling stopped
  });
});
