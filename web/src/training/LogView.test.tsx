import { configure, render, screen, waitFor } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { LogView } from './LogView';

afterEach(() => { vi.unstubAllGlobals(); });
configure({ asyncUtilTimeout: 8000 });

const line = (sequence: number, text: string, source = 'stdout') => ({ sequence, source, text, at: '2026-01-01T00:00:00Z' });
const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });

describe('LogView', { timeout: 30_000 }, () => {
  it('reads the log page by page after the last sequence, appends new lines while live, and stops when the job ends', async () => {
    // The server's log grows between polls; one answer repeats a line already shown (a late duplicate).
    const log = [line(1, 'starting'), line(2, 'metric loss=0.5 step=1'), line(3, 'warning', 'stderr')];
    const afters: number[] = [];
    vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
      const url = new URL(request.url);
      const after = Number(url.searchParams.get('after'));
      afters.push(after);
      const limit = Number(url.searchParams.get('limit'));
      const lines = log.filter(l => l.sequence > after - (afters.length === 3 ? 1 : 0)).slice(0, limit);
      return json({ lines, total: log.length, truncated: false, nextAfter: lines.at(-1)?.sequence ?? null });
    }));
    const { rerender } = render(<LogView slug="demo" jobId="j1" live pollMs={20} />);
    await waitFor(() => expect(screen.getAllByTestId('log-line')).toHaveLength(3));
    expect(afters[0]).toBe(0);
    log.push(line(4, 'metric loss=0.3 step=2'), line(5, 'done'));
    await waitFor(() => expect(screen.getAllByTestId('log-line')).toHaveLength(5));
    expect(screen.getAllByTestId('log-line').map(l => l.textContent)).toEqual(
      ['starting\n', 'metric loss=0.5 step=1\n', 'warning\n', 'metric loss=0.3 step=2\n', 'done\n']);
    expect(screen.getAllByTestId('log-line')[2]?.getAttribute('data-source')).toBe('stderr');
    await waitFor(() => expect(afters.at(-1)).toBe(5)); // still following, from the last line held

    // The job ends with a last line written: the view reads once more and stops.
    log.push(line(6, 'exit 0'));
    rerender(<LogView slug="demo" jobId="j1" live={false} pollMs={20} />);
    await waitFor(() => expect(screen.getAllByTestId('log-line')).toHaveLength(6));
    const settled = afters.length;
    await new Promise(r => setTimeout(r, 200));
    expect(afters.length).toBe(settled); // not live: no more polling
    expect(screen.getByText(/6 of 6 lines/)).toBeTruthy();
  });

  it('follows a long log through full pages before waiting', async () => {
    const total = 2500;
    vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
      const url = new URL(request.url);
      const after = Number(url.searchParams.get('after'));
      const limit = Number(url.searchParams.get('limit'));
      const lines = Array.from({ length: Math.max(0, Math.min(limit, total - after)) }, (_, i) => line(after + i + 1, `line ${after + i + 1}`));
      return json({ lines, total, truncated: false, nextAfter: lines.at(-1)?.sequence ?? null });
    }));
    render(<LogView slug="demo" jobId="j2" live={false} />);
    await waitFor(() => expect(screen.getAllByTestId('log-line')).toHaveLength(total));
    expect(screen.getAllByTestId('log-line').at(-1)?.textContent).toBe('line 2500\n');
  });
});
