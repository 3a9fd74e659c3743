import { afterEach, vi } from 'vitest';
import { fakeServer, session } from './fakeUploads';
import { uploadAll, uploadFile, type UploadTarget } from './uploader';

const target: UploadTarget = { project: 'demo', dataset: 'cars', session };

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251);
const noWait = () => Promise.resolve();

afterEach(() => vi.unstubAllGlobals());

describe('uploadFile', () => {
  it('sends a file in Content-Range chunks and reports progress after each', async () => {
    const server = fakeServer();
    const progress: number[] = [];
    await uploadFile(target, { path: 'data/a.csv', file: new Blob([bytes(25)]) }, 0, { chunkBytes: 10, onProgress: (_p, sent) => progress.push(sent) });
    expect(server.puts.map(p => p.range)).toEqual(['bytes 0-9/25', 'bytes 10-19/25', 'bytes 20-24/25']);
    expect(server.files.get('data/a.csv')?.bytes).toEqual([...bytes(25)]);
    expect(progress).toEqual([0, 10, 20, 25]);
  });

  it('resumes after a response lost mid-way without sending the stored chunk again', async () => {
    // The second chunk reaches the server but its answer is lost: the client must read the session and go on at 20.
    const server = fakeServer(n => (n === 2 ? 'after' : null));
    await uploadFile(target, { path: 'a.bin', file: new Blob([bytes(30)]) }, 0, { chunkBytes: 10, sleep: noWait });
    expect(server.puts.map(p => p.range)).toEqual(['bytes 0-9/30', 'bytes 10-19/30', 'bytes 20-29/30']);
    expect(server.files.get('a.bin')?.bytes).toEqual([...bytes(30)]);
  });

  it('resends a chunk that never arrived', async () => {
    const server = fakeServer(n => (n === 2 ? 'before' : null));
    await uploadFile(target, { path: 'a.bin', file: new Blob([bytes(30)]) }, 0, { chunkBytes: 10, sleep: noWait });
    expect(server.puts.map(p => p.range)).toEqual(['bytes 0-9/30', 'bytes 10-19/30', 'bytes 10-19/30', 'bytes 20-29/30']);
    expect(server.files.get('a.bin')?.bytes).toEqual([...bytes(30)]);
  });

  it('follows the server after a 409 and gives up after the retry budget', async () => {
    const server = fakeServer();
    server.files.set('b.bin', { bytes: [...bytes(15)].slice(0, 10), total: 15 });
    // The client believes nothing arrived; the 409 makes it re-read the session and continue at byte 10.
    await uploadFile(target, { path: 'b.bin', file: new Blob([bytes(15)]) }, 0, { chunkBytes: 10, sleep: noWait });
    expect(server.puts.map(p => p.range)).toEqual(['bytes 0-9/15', 'bytes 10-14/15']);

    fakeServer(() => 'before');
    await expect(uploadFile(target, { path: 'c.bin', file: new Blob([bytes(5)]) }, 0, { retries: 2, sleep: noWait }))
      .rejects.toThrow(/c\.bin: Failed to fetch \(gave up after 2 retries\)/);
  });
});

describe('uploadAll', () => {
  it('skips files the session already holds and continues partial ones where they stopped', async () => {
    const server = fakeServer();
    const one = bytes(12, 1), two = bytes(12, 2), three = bytes(4, 3);
    server.files.set('one.png', { bytes: [...one], total: 12 });
    server.files.set('two.png', { bytes: [...two].slice(0, 8), total: 12 });
    await uploadAll(target, [{ path: 'one.png', file: new Blob([one]) }, { path: 'two.png', file: new Blob([two]) }, { path: 'three.txt', file: new Blob([three]) }],
      { chunkBytes: 8, parallel: 1 });
    expect(server.puts.map(p => `${p.path} ${p.range}`)).toEqual(['two.png bytes 8-11/12', 'three.txt bytes 0-3/4']);
    expect(server.files.get('two.png')?.bytes).toEqual([...two]);
  });
});
