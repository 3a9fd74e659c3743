import { problemMessage, type Schemas } from '../api/client';
import { readEventStream } from './sse';

export type Citation = Schemas['Citation'];

/** The final event of an answer: the whole text and the citations that name a passage the answer was given. */
export interface ChatDone {
  answer: string;
  citations: Citation[];
  invalidCitations: number[];
  passages: number;
  extractive: boolean;
}

export interface AskHandlers {
  onDelta: (text: string) => void;
  onDone: (done: ChatDone) => void;
}

export class ChatStreamError extends Error {}

/**
 * Posts a question to a chat endpoint (`/chat` or a session's `/messages`) and streams the answer: `delta` events as
 * they arrive, then `done`. Errors found before the stream opens come back as problem details (4xx/5xx JSON);
 * a stream that ends without `done` was cut off and is an error too (the server keeps no half answers).
 */
export async function askStream(url: string, body: unknown, handlers: AskHandlers, signal?: AbortSignal): Promise<ChatDone> {
  const response = await globalThis.fetch(url, {
    method: 'POST', credentials: 'same-origin', ...(signal ? { signal } : {}),
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) {
    const problem: unknown = await response.json().catch(() => null);
    throw new ChatStreamError(problemMessage(problem, `The server answered ${response.status}.`));
  }
  const result: { done?: ChatDone } = {};
  await readEventStream(response.body, event => {
    if (event.event === 'delta') handlers.onDelta((JSON.parse(event.data) as { text: string }).text);
    else if (event.event === 'done') { result.done = JSON.parse(event.data) as ChatDone; handlers.onDone(result.done); }
  }, signal);
  if (!result.done) throw new ChatStreamError('The answer was cut off before it finished; ask again.');
  return result.done;
}

/** Splits an answer into text and citation markers: `[2]` and `[1, 3]` become the numbers they name. */
export type AnswerPart = { text: string } | { cite: number[]; raw: string };

export function splitCitations(answer: string): AnswerPart[] {
  const parts: AnswerPart[] = [];
  const pattern = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
  let last = 0;
  for (let m = pattern.exec(answer); m; m = pattern.exec(answer)) {
    if (m.index > last) parts.push({ text: answer.slice(last, m.index) });
    parts.push({ cite: (m[1] as string).split(',').map(n => Number(n.trim())), raw: m[0] });
    last = m.index + m[0].length;
  }
  if (last < answer.length) parts.push({ text: answer.slice(last) });
  return parts;
}

/** A snippet with the server's «match» markers, as plain and highlighted pieces. */
export function splitHighlights(snippet: string): { text: string; hit: boolean }[] {
  return snippet.split(/(«[^«»]*»)/).filter(Boolean).map(p => p.startsWith('«') && p.endsWith('»') ? { text: p.slice(1, -1), hit: true } : { text: p, hit: false });
}
