import { configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { RunHistory } from './RunHistory';

afterEach(() => { vi.unstubAllGlobals(); });
configure({ asyncUtilTimeout: 8000 });

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('RunHistory start', { timeout: 30_000 }, () => {
  it('starts a run for a logical date, and without one leaves ds to the server', async () => {
    const bodies: unknown[] = [];
    vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
      if (request.method === 'POST') {
        bodies.push(await request.json());
        return json({ id: 'r1', kind: 'features.pipeline', state: 'queued', progress: 0, createdAt: '2030-01-01T00:00:00Z' }, 202);
      }
      return json([]);
    }));
    render(<RunHistory slug="demo" pipeline="perday" canRun order={[]} />);
    await screen.findByText('No runs yet.');
    fireEvent.change(screen.getByLabelText('Output dataset'), { target: { value: ' out ' } });
    fireEvent.change(screen.getByLabelText('Logical date'), { target: { value: '2030-01-02' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(bodies).toHaveLength(1));
    fireEvent.change(screen.getByLabelText('Logical date'), { target: { value: '' } });
    await waitFor(() => expect((screen.getByRole('button', { name: 'Run' }) as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(bodies).toHaveLength(2));
    expect(bodies).toEqual([{ outputDataset: 'out', ds: '2030-01-02' }, { outputDataset: 'out', ds: null }]);
  });
});
