import { configure, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { backfillRange, draftOf, parseParameters, requestOf, Schedules } from './Schedules';

afterEach(() => { vi.unstubAllGlobals(); });
configure({ asyncUtilTimeout: 8000 });

const json = (body: unknown, status = 200) => new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const schedule = (name: string, pipeline: string, enabled = true) => ({
  id: `id-${name}`, name, pipeline, pipelineVersion: null, cron: '0 3 * * *', timeZone: 'Europe/Paris', outputDataset: 'out', inputs: {},
  enabled, maxConcurrentRuns: 2, maxRetries: 1, retryDelaySeconds: 30, skipWhenUnchanged: true,
  lastFireAt: enabled ? '2030-01-01T02:00:00Z' : null, nextFireAt: enabled ? '2030-01-02T02:00:00Z' : null, lastOutcome: enabled ? 'failed' : null,
  createdAt: '2030-01-01T00:00:00Z', updatedAt: '2030-01-01T00:00:00Z',
  upcomingFires: enabled ? ['2030-01-03T02:00:00Z', '2030-01-04T02:00:00Z'] : [],
});

type Sent = { method: string; url: string; body: unknown };

function server(handle: (sent: Sent) => Response | undefined) {
  const sent: Sent[] = [];
  vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
    const text = await request.text();
    const call = { method: request.method, url: new URL(request.url).pathname, body: text ? JSON.parse(text) as unknown : null };
    sent.push(call);
    return handle(call) ?? json({ title: 'Not found', status: 404 }, 404);
  }));
  return sent;
}

describe('Schedules', { timeout: 30_000 }, () => {
  it("lists the pipeline's schedules with next runs, last outcome and paused state, and pauses one", async () => {
    let paused = false;
    const sent = server(({ method, url }) => {
      if (method === 'GET' && url === '/api/projects/demo/features/schedules')
        return json([schedule('nightly', 'churn', !paused), schedule('weekly', 'churn', false), schedule('other', 'sales')]);
      if (method === 'POST' && url === '/api/projects/demo/features/schedules/nightly/pause') { paused = true; return json(schedule('nightly', 'churn', false)); }
      return undefined;
    });
    render(<Schedules slug="demo" pipeline="churn" canWrite />);
    const rows = await screen.findAllByTestId('schedule-row');
    expect(rows.map(r => r.getAttribute('data-name'))).toEqual(['nightly', 'weekly']);
    const nightly = rows[0]!;
    expect(within(nightly).getByLabelText('Next runs of nightly').querySelectorAll('li')).toHaveLength(3);
    expect(nightly.textContent).toContain('0 3 * * *');
    expect(nightly.textContent).toContain('Europe/Paris');
    expect(nightly.textContent).toContain('failed');
    expect(nightly.textContent).toContain('active');
    expect(rows[1]!.textContent).toContain('paused');
    expect(within(rows[1]!).getByRole('button', { name: 'Resume' })).toBeTruthy();

    fireEvent.click(within(nightly).getByRole('button', { name: 'Pause' }));
    await waitFor(() => expect(screen.getAllByTestId('schedule-row')[0]!.getAttribute('data-enabled')).toBe('false'));
    expect(sent.filter(s => s.method === 'POST').map(s => s.url)).toEqual(['/api/projects/demo/features/schedules/nightly/pause']);
  });

  it('creates a schedule from the form and shows the server\'s problem when it refuses one', async () => {
    const created: unknown[] = [];
    const sent = server(({ method, url, body }) => {
      if (method === 'GET' && url === '/api/projects/demo/features/schedules') return json(created);
      if (method === 'POST' && url === '/api/projects/demo/features/schedules') {
        const request = body as { cron: string; name: string };
        if (request.cron === '0 25 * * *') return json({ title: 'One or more validation errors occurred.', status: 400, errors: { cron: ["'0 25 * * *' is not a valid cron expression"] } }, 400);
        created.push(schedule(request.name, 'churn'));
        return json(created[0], 201);
      }
      return undefined;
    });
    render(<Schedules slug="demo" pipeline="churn" canWrite />);
    await screen.findByText('No schedules yet.');
    fireEvent.click(screen.getByRole('button', { name: 'New schedule' }));
    fireEvent.change(screen.getByLabelText('Schedule name'), { target: { value: 'nightly' } });
    fireEvent.change(screen.getByLabelText('Cron'), { target: { value: '0 25 * * *' } });
    fireEvent.change(screen.getByLabelText('Schedule output dataset'), { target: { value: 'out' } });
    fireEvent.change(screen.getByLabelText('Runs at once'), { target: { value: '2' } });
    fireEvent.click(screen.getByLabelText('Skip when inputs are unchanged'));
    fireEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    expect((await screen.findByRole('alert')).textContent).toContain('not a valid cron expression');

    fireEvent.change(screen.getByLabelText('Cron'), { target: { value: '0 3 * * *' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    await screen.findByTestId('schedule-row');
    expect(screen.queryByRole('form', { name: 'New schedule' })).toBeNull();
    expect(sent.filter(s => s.method === 'POST')[1]!.body).toEqual({
      name: 'nightly', pipeline: 'churn', cron: '0 3 * * *', timeZone: 'UTC', outputDataset: 'out', pipelineVersion: null, inputs: null,
      maxConcurrentRuns: 2, maxRetries: 0, retryDelaySeconds: 60, skipWhenUnchanged: true, enabled: true, parameters: {},
    });
  });

  it('starts a backfill over whole UTC days and follows its progress until it is done', async () => {
    let reads = 0;
    const backfill = { id: 'b1', from: '2030-01-01T00:00:00Z', to: '2030-01-03T23:59:59Z', total: 3, pending: 0, failed: 0, skipped: 0, createdAt: '2030-01-05T00:00:00Z' };
    let started = false;
    const sent = server(({ method, url }) => {
      if (method === 'GET' && url === '/api/projects/demo/features/schedules') return json([schedule('nightly', 'churn')]);
      if (method === 'POST' && url.endsWith('/nightly/backfills')) { started = true; return json({ ...backfill, completed: 0, running: 3, succeeded: 0, done: false, progress: '0 of 3' }, 202); }
      if (method === 'GET' && url.endsWith('/nightly/backfills')) {
        if (!started) return json([]);
        reads++;
        const completed = Math.min(3, reads - 1);
        return json([{ ...backfill, completed, running: 3 - completed, succeeded: completed, done: completed === 3, progress: `${completed} of 3` }]);
      }
      return undefined;
    });
    render(<Schedules slug="demo" pipeline="churn" canWrite refreshMs={40} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Backfill' }));
    await screen.findByText('No backfills yet.');
    fireEvent.change(screen.getByLabelText('Backfill from'), { target: { value: '2030-01-01' } });
    fireEvent.change(screen.getByLabelText('Backfill to'), { target: { value: '2030-01-03' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start backfill' }));
    await waitFor(() => expect(screen.getByTestId('backfill').getAttribute('data-done')).toBe('true'));
    const item = screen.getByTestId('backfill');
    expect(item.textContent).toContain('3 of 3');
    expect(item.textContent).toContain('3 succeeded');
    expect(sent.find(s => s.method === 'POST')!.body).toEqual({ from: '2030-01-01T00:00:00Z', to: '2030-01-03T23:59:59Z' });
    const settled = reads;
    await new Promise(r => setTimeout(r, 200));
    expect(reads).toBe(settled); // done: polling stopped
  });

  it('keeps the pinned version, input overrides and paused state when a schedule is edited', () => {
    const existing = { ...schedule('nightly', 'churn', false), pipelineVersion: 3, inputs: { events: { version: null, tag: 'prod' } } };
    const body = requestOf({ name: 'nightly', cron: ' 0 4 * * * ', timeZone: '', outputDataset: 'out', maxConcurrentRuns: 1, maxRetries: 0, retryDelaySeconds: 60, skipWhenUnchanged: false, parameters: 'min_amount = 5\n\nfilter=a=b' }, 'churn', existing);
    expect(body).toMatchObject({ cron: '0 4 * * *', timeZone: 'UTC', pipelineVersion: 3, inputs: { events: { tag: 'prod' } }, enabled: false });
    expect(body.parameters).toEqual({ min_amount: '5', filter: 'a=b' });
    expect(draftOf({ ...existing, parameters: { region: 'DE' } }).parameters).toBe('region=DE');
    expect(parseParameters('')).toEqual({});
    expect(backfillRange('2030-02-01', '2030-02-01')).toEqual({ from: '2030-02-01T00:00:00Z', to: '2030-02-01T23:59:59Z' });
  });
});
