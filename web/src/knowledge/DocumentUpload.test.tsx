import { act, fireEvent, render, screen } from '@testing-library/react';
import { vi } from 'vitest';
import { DocumentUpload } from './DocumentUpload';
import { batches, perFileProgress, planUpload } from './upload';

/** An XMLHttpRequest the test drives: it records what was sent and reports progress and answers when told. */
class FakeXhr {
  static sent: FakeXhr[] = [];
  upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  status = 0;
  responseText = '';
  withCredentials = false;
  url = '';
  body: FormData | null = null;
  open(_method: string, url: string) { this.url = url; }
  setRequestHeader() { /* recorded by the browser only */ }
  send(body: FormData) { this.body = body; FakeXhr.sent.push(this); }
  progress(loaded: number, total: number) { this.upload.onprogress?.({ lengthComputable: true, loaded, total } as ProgressEvent); }
  respond(status: number, body: unknown) { this.status = status; this.responseText = JSON.stringify(body); this.onload?.(); }
}

function file(path: string, size: number): File {
  const f = new File([new Uint8Array(size)], path.split('/').pop() as string);
  Object.defineProperty(f, 'webkitRelativePath', { value: path });
  return f;
}

const bar = (path: string) => (screen.getByLabelText(`Upload of ${path}`) as HTMLProgressElement).value;

// Generous: the suite shares a loaded machine, and a component test renders many times.
describe('DocumentUpload', { timeout: 20_000 }, () => {
  beforeEach(() => { FakeXhr.sent = []; });

  it('sends a folder\'s supported files, shows progress per file and overall as the body goes out, and reports the run', async () => {
    const uploaded = vi.fn();
    render(<DocumentUpload url="/api/projects/p/knowledge/kb/documents" onUploaded={uploaded} createRequest={() => new FakeXhr() as unknown as XMLHttpRequest} />);
    fireEvent.change(screen.getByLabelText('Add a folder'), {
      target: { files: [file('docs/guide.md', 100), file('docs/notes.txt', 50), file('docs/logo.png', 10), file('docs/old/guide.md', 5)] },
    });
    fireEvent.change(screen.getByLabelText('Tags'), { target: { value: 'public' } });
    expect(screen.getAllByTestId('upload-file').map(r => r.getAttribute('data-path'))).toEqual(['docs/guide.md', 'docs/notes.txt']);
    expect(screen.getByText('2 left out')).toBeTruthy();
    expect(screen.getByText('docs/logo.png: not a supported format')).toBeTruthy();
    expect(screen.getByText('docs/old/guide.md: same file name as docs/guide.md')).toBeTruthy();

    await act(async () => { fireEvent.click(screen.getByRole('button', { name: 'Upload 2 files' })); });
    const request = FakeXhr.sent[0] as FakeXhr;
    expect(FakeXhr.sent).toHaveLength(1);
    expect(request.url).toBe('/api/projects/p/knowledge/kb/documents');
    expect((request.body?.getAll('files') as File[]).map(f => f.name)).toEqual(['guide.md', 'notes.txt']);
    expect(request.body?.get('tags')).toBe('public');

    // 150 bytes of content in a 180-byte body: 30 bytes of part headers, spread over the files by size.
    act(() => request.progress(90, 180));
    expect([bar('docs/guide.md'), bar('docs/notes.txt')]).toEqual([75, 0]);
    expect(screen.getByTestId('upload-overall').textContent).toBe('75 of 150 bytes');
    act(() => request.progress(150, 180));
    expect([bar('docs/guide.md'), bar('docs/notes.txt')]).toEqual([100, 25]);
    expect(screen.getByRole('button', { name: 'Uploading…' })).toHaveProperty('disabled', true);

    await act(async () => { request.respond(202, { run: { id: 'run-1' }, queued: [{}, {}], unchanged: [] }); });
    expect([bar('docs/guide.md'), bar('docs/notes.txt')]).toEqual([100, 50]);
    expect(screen.getByTestId('upload-overall').textContent).toBe('150 of 150 bytes');
    expect(screen.getByRole('status').textContent).toBe('2 queued for ingestion.');
    expect(uploaded).toHaveBeenCalledWith(['run-1']);
  });

  it('shows the server\'s refusal and marks the batch\'s files failed, keeping them for another try', async () => {
    render(<DocumentUpload url="/u" onUploaded={() => undefined} createRequest={() => new FakeXhr() as unknown as XMLHttpRequest} />);
    fireEvent.change(screen.getByLabelText('Add files'), { target: { files: [file('a.pdf', 40)] } });
    await act(async () => { fireEvent.click(screen.getByRole('button', { name: 'Upload 1 file' })); });
    await act(async () => { (FakeXhr.sent[0] as FakeXhr).respond(422, { title: 'Unprocessable', status: 422, detail: "'a.pdf' is encrypted." }); });
    expect(screen.getByRole('alert').textContent).toBe("'a.pdf' is encrypted.");
    expect(screen.getByText('failed')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Upload 1 file' })).toBeTruthy();
  });
});

describe('upload planning', () => {
  const f = (path: string, size: number) => ({ path, file: new File([new Uint8Array(size)], path) });

  it('cuts batches by file count and bytes, never leaving a batch empty', () => {
    const files = [f('a.md', 10), f('b.md', 10), f('c.md', 30), f('d.md', 5)];
    expect(batches(files, { files: 2, bytes: 100 }).map(b => b.map(x => x.path))).toEqual([['a.md', 'b.md'], ['c.md', 'd.md']]);
    expect(batches(files, { files: 10, bytes: 25 }).map(b => b.map(x => x.path))).toEqual([['a.md', 'b.md'], ['c.md'], ['d.md']]);
  });

  it('maps body bytes to files in order, and counts every file full at the end', () => {
    const files = [f('a.md', 10), f('b.md', 30)];
    expect(perFileProgress(files, 0, 40)).toEqual([0, 0]);
    expect(perFileProgress(files, 25, 40)).toEqual([10, 15]);
    expect(perFileProgress(files, 80, 80)).toEqual([10, 30]);
    expect(planUpload([f('x/Read.ME', 1), f('y.MD', 1)]).send.map(s => s.path)).toEqual(['y.MD']);
  });
});
