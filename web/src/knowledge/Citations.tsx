import { Fragment } from 'react';
import { type Citation, splitCitations, splitHighlights } from './chatStream';

/** A snippet with the server's «match» markers shown as highlights. */
export function Snippet({ text }: { text: string }) {
  return <>{splitHighlights(text).map((p, i) => p.hit ? <mark key={i}>{p.text}</mark> : <Fragment key={i}>{p.text}</Fragment>)}</>;
}

export const citationTitle = (c: Citation) => `${c.title || c.document}${c.page ? `, page ${c.page}` : ''}`;

/**
 * An answer with its `[n]` markers as links to the passages they cite. While the answer still streams (`citations`
 * null) markers are plain text; afterwards a number the server rejected (no such passage) stays plain, marked invalid.
 */
export function AnswerText({ text, citations, onCite }: { text: string; citations: Citation[] | null; onCite: (c: Citation) => void }) {
  return (
    <span className="answer-text">
      {splitCitations(text).map((part, i) => {
        if ('text' in part) return <Fragment key={i}>{part.text}</Fragment>;
        if (!citations) return <span key={i} className="cite pending">{part.raw}</span>;
        return (
          <Fragment key={i}>{part.cite.map(n => {
            const c = citations.find(x => x.n === n);
            if (!c) return <span key={n} className="cite invalid" title="This number names no passage the answer was given.">[{n}]</span>;
            return (
              <a key={n} href={`#passage-${n}`} className="cite" data-testid="citation" aria-label={`Citation ${n}: ${citationTitle(c)}`}
                onClick={e => { e.preventDefault(); onCite(c); }}>[{n}]</a>
            );
          })}</Fragment>
        );
      })}
    </span>
  );
}
