import { afterEach, vi } from 'vitest';
import { askStream } from './chatStream';
import { createSseParser, readEventStream, type SseEvent } from './sse';

afterEach(() => { vi.unstubAllGlobals(); });

// A stream with what the parser must handle: CRLF and LF line ends, a comment, an event name, multi-line data, an id,
// a field without a colon, a space-less value and non-ASCII text (multi-byte in UTF-8).
const stream = ': keep-alive\r\n\r\nevent: delta\r\ndata: {"text":"Gr\u00fc\u00dfe "}\r\n\r\n' +
  'event: delta\ndata:{"text":"caf\u00e9 \u2014 \ud83d\ude00"}\n\n' +
  'id: 7\nevent: note\ndata: line one\ndata: line two\nretry\n\n' +
  'event: done\ndata: {"answer":"x [1]"}\n\n';
const expected: SseEvent[] = [
  { event: 'delta', data: '{"text":"Gr\u00fc\u00dfe "}' },
  { event: 'delta', data: '{"text":"caf\u00e9 \u2014 \ud83d\ude00"}' },
  { event: 'note', data: 'line one\nline two', id: '7' },
  { event: 'done', data: '{"answer":"x [1]"}', id: '7' },
];

function parseAll(chunks: string[]): { events: SseEvent[]; cut: boolean } {
  const events: SseEvent[] = [];
  const parser = createSseParser(e => events.push(e));
  chunks.forEach(c => parser.push(c));
  return { events, cut: parser.end() };
}

function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({ start(c) { chunks.forEach(x => c.enqueue(x)); c.close(); } });
}

describe('createSseParser', () => {
  it('yields the same events wherever the text is cut into two chunks, including between \\r and \\n and inside an event', () => {
    expect(parseAll([stream])).toEqual({ events: expected, cut: false });
    for (let at = 0; at <= stream.length; at++) expect(parseAll([stream.slice(0, at), stream.slice(at)]).events, `cut at ${at}`).toEqual(expected);
  });

  it('yields the same events fed one character at a time, and a lone \\r ends a line', () => {
    expect(parseAll([...stream]).events).toEqual(expected);
    expect(parseAll(['event: a\rdata: 1\r\r']).events).toEqual([{ event: 'a', data: '1' }]);
  });

  it('does not deliver an event whose closing blank line never came, and says the stream was cut', () => {
    const { events, cut } = parseAll(['event: delta\ndata: {"text":"a"}\n\nevent: done\ndata: {"answer"']);
    expect(events).toEqual([{ event: 'delta', data: '{"text":"a"}' }]);
    expect(cut).toBe(true);
  });
});

describe('readEventStream', () => {
  it('decodes UTF-8 split inside a character across reads', async () => {
    const bytes = new TextEncoder().encode(stream);
    const single = Array.from(bytes, b => new Uint8Array([b]));
    const events: SseEvent[] = [];
    expect(await readEventStream(bodyOf(single), e => events.push(e))).toBe(false);
    expect(events).toEqual(expected);
  });
});

describe('askStream', () => {
  const done = { answer: 'Paris [1].', citations: [{ n: 1 }], invalidCitations: [], passages: 3, extractive: true };

  it('streams deltas from chunks split mid-event and resolves with the done event', async () => {
    const text = `event: delta\ndata: {"text":"Par"}\n\nevent: delta\ndata: {"text":"is [1]."}\n\nevent: done\ndata: ${JSON.stringify(done)}\n\n`;
    const bytes = new TextEncoder().encode(text);
    const fetch = vi.fn(async () => new Response(bodyOf([bytes.slice(0, 20), bytes.slice(20, 41), bytes.slice(41, 90), bytes.slice(90)]),
      { status: 200, headers: { 'Content-Type': 'text/event-stream' } }));
    vi.stubGlobal('fetch', fetch);
    const deltas: string[] = [];
    const onDone = vi.fn();
    const result = await askStream('/api/x/chat', { question: 'q' }, { onDelta: d => deltas.push(d), onDone });
    expect(deltas).toEqual(['Par', 'is [1].']);
    expect(result).toEqual(done);
    expect(onDone).toHaveBeenCalledWith(done);
    const init = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(init[1].method).toBe('POST');
    expect(JSON.parse(init[1].body as string)).toEqual({ question: 'q' });
  });

  it('reports the problem details of a refused question, and a stream cut before done', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ title: 'Validation failed', status: 400, errors: { question: ['The question is empty.'] } }),
      { status: 400, headers: { 'Content-Type': 'application/problem+json' } })));
    await expect(askStream('/c', {}, { onDelta: () => undefined, onDone: () => undefined })).rejects.toThrow('Validation failed The question is empty.');

    vi.stubGlobal('fetch', vi.fn(async () => new Response(bodyOf([new TextEncoder().encode('event: delta\ndata: {"text":"Par"}\n\nevent: done\ndata: {')]), { status: 200 })));
    const deltas: string[] = [];
    await expect(askStream('/c', {}, { onDelta: d => deltas.push(d), onDone: () => undefined })).rejects.toThrow('cut off');
    expect(deltas).toEqual(['Par']);
  });
});
