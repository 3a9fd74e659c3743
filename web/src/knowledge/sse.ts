// Server-sent events over fetch: the chat endpoints are POSTs with a JSON body (EventSource can only GET), so the
// stream is read from the response body and parsed here, following the WHATWG event-stream rules.

export interface SseEvent { event: string; data: string; id?: string }

/**
 * An incremental event-stream parser. `push` takes text as it arrives, cut anywhere (inside a line, between `\r` and
 * `\n`, inside an event), and calls `onEvent` once per complete event; `end` flushes nothing, because an event without
 * its closing blank line was cut off and must not be delivered.
 */
export function createSseParser(onEvent: (event: SseEvent) => void) {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let pendingCr = false;

  function line(text: string) {
    if (text === '') {
      if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n'), ...(id === undefined ? {} : { id }) });
      event = ''; data = [];
      return;
    }
    if (text.startsWith(':')) return; // a comment (keep-alive)
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
  }

  return {
    push(chunk: string) {
      let text = chunk;
      // A "\r\n" split across two chunks: the "\r" already ended the line, so the "\n" must not end another.
      if (pendingCr && text.startsWith('\n')) text = text.slice(1);
      pendingCr = false;
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== '\n' && c !== '\r') continue;
        line(buffer.slice(start, i));
        if (c === '\r') {
          if (i + 1 < buffer.length) { if (buffer[i + 1] === '\n') i++; }
          else pendingCr = true;
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
    /** Whether a partial event was left when the stream ended (the server or the network cut it off). */
    end(): boolean {
      const cut = buffer.length > 0 || data.length > 0;
      buffer = ''; data = []; event = '';
      return cut;
    },
  };
}

/**
 * Reads a response body as an event stream, decoding UTF-8 across chunk boundaries (a multi-byte character can be
 * split between two reads). Resolves when the stream ends; returns whether it ended inside an event.
 */
export async function readEventStream(body: ReadableStream<Uint8Array>, onEvent: (event: SseEvent) => void, signal?: AbortSignal): Promise<boolean> {
  const parser = createSseParser(onEvent);
  const decoder = new TextDecoder('utf-8');
  const reader = body.getReader();
  const cancel = () => { void reader.cancel().catch(() => undefined); };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
    return parser.end();
  } finally {
    signal?.removeEventListener('abort', cancel);
    reader.releaseLock();
  }
}
