import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { fakeServer, session } from './fakeUploads';
import { Upload } from './Upload';

afterEach(() => { vi.unstubAllGlobals(); localStorage.clear(); });

describe('Upload', () => {
  it('shows per-file and overall progress, offers Resume after a failure, and resumes in the same session', async () => {
    let offline = true;
    const server = fakeServer((_n, path) => (offline && path === 'photos/b.png' ? 'before' : null));
    const committed = vi.fn(async () => 7);
    render(<Upload slug="demo" dataset="cars" onCommitted={committed} options={{ retries: 1, sleep: () => Promise.resolve(), parallel: 1 }} />);
    const csv = new File(['id,price\n1,2\n'], 'a.csv');
    const image = new File([new Uint8Array(40)], 'b.png');
    Object.defineProperty(image, 'webkitRelativePath', { value: 'photos/b.png' });
    fireEvent.change(screen.getByLabelText('Add files'), { target: { files: [csv] } });
    fireEvent.change(screen.getByLabelText('Add a folder'), { target: { files: [image] } });
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'two files' } });

    await act(async () => { fireEvent.click(screen.getByText('Upload and commit')); });
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('photos/b.png: Failed to fetch (gave up after 1 retries)'));
    expect((screen.getByLabelText('Upload of a.csv') as HTMLProgressElement).value).toBe(13);
    expect((screen.getByLabelText('Upload of photos/b.png') as HTMLProgressElement).value).toBe(0);
    expect(screen.getByTestId('upload-overall').textContent).toBe('13 of 53 bytes');
    expect(server.commits).toHaveLength(0);

    offline = false;
    server.puts.length = 0;
    await act(async () => { fireEvent.click(screen.getByText('Resume')); });
    await waitFor(() => expect(screen.getByRole('status').textContent).toContain('Committed 2 files as v7.'));
    expect(server.created).toEqual([session]); // the stored session was reused, not a new one opened
    expect(server.puts.map(p => p.path)).toEqual(['photos/b.png']); // a.csv was already held in full
    expect(screen.getByTestId('upload-overall').textContent).toBe('53 of 53 bytes');
    expect(server.commits).toEqual([{ message: 'two files', mode: 'merge', wait: true }]);
    expect(committed).toHaveBeenCalledOnce();
    expect(localStorage.length).toBe(0);
  });
});
