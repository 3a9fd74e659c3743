import { act, configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { Chat } from './Chat';
import type { Citation } from './chatStream';
import { AnswerText } from './Citations';

afterEach(() => { vi.unstubAllGlobals(); });
// The default 1 s for findBy/waitFor is too short on a machine shared with builds.
configure({ asyncUtilTimeout: 5000 });

const citation = (n: number, extra: Partial<Citation> = {}): Citation => ({
  n, chunkId: `c${n}`, documentId: `d${n}`, document: `doc${n}.pdf`, title: `Doc ${n}`, page: n + 1, headingPath: `Part ${n}`,
  snippet: `the «answer» is ${n}`, score: 0.5 / n, ...extra,
});

describe('AnswerText', () => {
  it('links each valid [n] and each number of [n, m] to its citation, and leaves unknown numbers unlinked', () => {
    const onCite = vi.fn();
    render(<AnswerText text={'Paris is big [1]. It has a river [2, 3][9].'} citations={[citation(1), citation(2), citation(3)]} onCite={onCite} />);
    const links = screen.getAllByTestId('citation');
    expect(links.map(l => l.textContent)).toEqual(['[1]', '[2]', '[3]']);
    expect(links[1]?.getAttribute('aria-label')).toBe('Citation 2: Doc 2, page 3');
    expect(screen.getByText('[9]').tagName).toBe('SPAN');
    expect(screen.getByText('[9]').className).toContain('invalid');
    fireEvent.click(links[2] as HTMLElement);
    expect(onCite).toHaveBeenCalledWith(citation(3));
    expect(document.body.textContent).toBe('Paris is big [1]. It has a river [2][3][9].');
  });

  it('shows markers as plain text while the answer still streams', () => {
    render(<AnswerText text="Paris [1" citations={null} onCite={() => undefined} />);
    expect(screen.queryAllByTestId('citation')).toHaveLength(0);
    render(<AnswerText text="Paris [1]" citations={null} onCite={() => undefined} />);
    expect(screen.queryAllByTestId('citation')).toHaveLength(0);
    expect(screen.getByText('[1]').className).toContain('pending');
  });
});

// Generous: the suite shares a loaded machine, and a component test renders many times.
describe('Chat', { timeout: 20_000 }, () => {
  it('streams an answer into the conversation and opens a cited passage, with its whole chunk, in the side panel', async () => {
    const cited = citation(1, { chunkId: 'chunk-7', documentId: 'doc-a', document: 'guide.pdf', title: 'Guide', page: 2, snippet: 'The «port» is 8080.' });
    let release: () => void = () => undefined;
    const held = new Promise<void>(r => { release = r; });
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    const fetch = vi.fn(async (input: Request | string, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input.url;
      const method = typeof input === 'string' ? init?.method ?? 'GET' : input.method;
      if (method === 'GET' && url.endsWith('/sessions')) return json([{ id: 's1', knowledgeBaseId: 'k', title: 'Ports', messageCount: 0, createdAt: '', updatedAt: '' }]);
      if (method === 'GET' && url.endsWith('/sessions/s1')) return json({ session: {}, messages: [] });
      if (method === 'GET' && url.endsWith('/documents/doc-a/chunks'))
        return json([{ id: 'chunk-6', ordinal: 0, headingPath: '', page: 1, startOffset: 0, endOffset: 5, tokenCount: 2, text: 'other' },
          { id: 'chunk-7', ordinal: 1, headingPath: 'Setup', page: 2, startOffset: 5, endOffset: 40, tokenCount: 9, text: 'Setup. The port is 8080 by default.' }]);
      if (method === 'POST' && url.endsWith('/sessions/s1/messages')) {
        const encoder = new TextEncoder();
        const body = new ReadableStream<Uint8Array>({
          async start(c) {
            c.enqueue(encoder.encode('event: delta\ndata: {"text":"The port is "}\n\nevent: del'));
            await held;
            c.enqueue(encoder.encode(`ta\ndata: {"text":"8080 [1]."}\n\nevent: done\ndata: ${JSON.stringify({ answer: 'The port is 8080 [1].', citations: [cited], invalidCitations: [], passages: 1, extractive: true })}\n\n`));
            c.close();
          },
        });
        return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
      }
      return new Response('{}', { status: 404 });
    });
    vi.stubGlobal('fetch', fetch);
    render(<Chat slug="demo" kb="manuals" session="s1" />);
    await screen.findByText('Ports');

    fireEvent.change(screen.getByLabelText('Question'), { target: { value: 'Which port?' } });
    await act(async () => { fireEvent.keyDown(screen.getByLabelText('Question'), { key: 'Enter' }); });
    const answer = await screen.findByTestId('message-assistant');
    await waitFor(() => expect(answer.textContent).toBe('The port is '));
    expect(screen.getByTestId('message-user').textContent).toBe('Which port?');
    expect(screen.getByRole('button', { name: 'Stop' })).toBeTruthy();

    await act(async () => { release(); });
    await waitFor(() => expect(screen.getAllByTestId('citation')).toHaveLength(1));
    expect(answer.textContent).toContain('The port is 8080 [1].');
    expect(answer.textContent).toContain('no language model is configured');
    const [, post] = fetch.mock.calls.find(c => (c[1] as RequestInit | undefined)?.method === 'POST') as [string, RequestInit];
    expect(JSON.parse(post.body as string)).toMatchObject({ question: 'Which port?', mode: 'hybrid' });

    fireEvent.click(screen.getByRole('link', { name: 'Citation 1: Guide, page 2' }));
    const panel = await screen.findByTestId('passage-panel');
    expect(panel.querySelector('h2')?.textContent).toBe('[1] Guide');
    expect(screen.getByTestId('passage-page').textContent).toBe('2');
    expect(screen.getByTestId('passage-snippet').innerHTML).toBe('The <mark>port</mark> is 8080.');
    expect(panel.textContent).toContain('0.5000');
    await waitFor(() => expect(panel.textContent).toContain('Setup. The port is 8080 by default.'));
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Close passage');
    fireEvent.keyDown(panel, { key: 'Escape' });
    expect(screen.queryByTestId('passage-panel')).toBeNull();
  });
});
