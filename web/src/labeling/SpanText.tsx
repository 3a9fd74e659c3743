import type { Span } from './editor';

interface Props {
  text: string;
  spans: Span[];
  selected: number | null;
  colors: Record<string, string>;
  onSelect?: (index: number | null) => void;
  /** 'prediction' draws a model's suggested spans dashed, apart from the annotator's own. */
  variant?: 'prediction';
}

interface Segment { start: number; end: number; span: number | null }

/** Cuts the text at every span boundary; each piece knows the first span covering it. */
export function segments(text: string, spans: Span[]): Segment[] {
  const cuts = new Set<number>([0, text.length]);
  for (const s of spans) { cuts.add(Math.max(0, Math.min(s.start, text.length))); cuts.add(Math.max(0, Math.min(s.end, text.length))); }
  const points = [...cuts].sort((a, b) => a - b);
  const result: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i] as number, end = points[i + 1] as number;
    const span = spans.findIndex(s => s.start <= start && end <= s.end);
    result.push({ start, end, span: span < 0 ? null : span });
  }
  return result;
}

/** The character offset of a DOM position inside a SpanText container, from the data-start of its segment. */
function offsetOf(container: Node, node: Node, offset: number): number | null {
  if (!container.contains(node)) return null;
  let element: Node | null = node.nodeType === Node.TEXT_NODE ? node.parentNode : node;
  if (element === container) {
    // A position between segments: the start of the segment at that child index (or the end of the text).
    const child = container.childNodes[offset] as HTMLElement | undefined;
    if (child?.dataset?.start) return Number(child.dataset.start);
    return (container.textContent ?? '').length;
  }
  while (element && element !== container && !(element as HTMLElement).dataset?.start) element = element.parentNode;
  if (!element || element === container) return null;
  const base = Number((element as HTMLElement).dataset.start);
  return node.nodeType === Node.TEXT_NODE ? base + offset : base + (offset > 0 ? (element.textContent ?? '').length : 0);
}

/** The [start, end) offsets a DOM selection covers inside the container, trimmed of surrounding white space. */
export function selectionOffsets(container: Node, text: string, selection: { anchorNode: Node | null; anchorOffset: number; focusNode: Node | null; focusOffset: number } | null): [number, number] | null {
  if (!selection?.anchorNode || !selection.focusNode) return null;
  const a = offsetOf(container, selection.anchorNode, selection.anchorOffset);
  const b = offsetOf(container, selection.focusNode, selection.focusOffset);
  if (a === null || b === null) return null;
  let start = Math.min(a, b), end = Math.max(a, b);
  while (start < end && /\s/.test(text[start] as string)) start++;
  while (end > start && /\s/.test(text[end - 1] as string)) end--;
  return end > start ? [start, end] : null;
}

/** The text with its spans highlighted; select text and press a label key to add a span. */
export function SpanText({ text, spans, selected, colors, onSelect, variant }: Props) {
  const predicted = variant === 'prediction';
  return (
    <div className={predicted ? 'span-text predicted' : 'span-text'} data-testid={predicted ? 'predicted-span-text' : 'span-text'}>
      {segments(text, spans).map(seg => {
        const span = seg.span === null ? undefined : spans[seg.span];
        if (!span) return <span key={seg.start} data-start={seg.start}>{text.slice(seg.start, seg.end)}</span>;
        const color = colors[span.label] ?? '#3cb44b';
        return (
          <mark key={seg.start} data-start={seg.start} data-label={span.label} data-testid={predicted ? 'predicted-span' : 'span'}
            className={seg.span === selected ? 'span selected' : 'span'}
            style={predicted ? { background: 'transparent', borderBottom: `2px dashed ${color}` } : { background: `${color}40`, borderBottom: `2px solid ${color}` }}
            title={span.label} onClick={() => onSelect?.(seg.span)}>
            {text.slice(seg.start, seg.end)}
          </mark>
        );
      })}
    </div>
  );
}
