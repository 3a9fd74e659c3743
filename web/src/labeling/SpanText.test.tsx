import { render } from '@testing-library/react';
import { segments, selectionOffsets, SpanText } from './SpanText';

const text = 'Ada Lovelace met Charles Babbage in London.';

describe('SpanText', () => {
  it('cuts text at span boundaries', () => {
    expect(segments(text, [{ label: 'PER', start: 0, end: 12 }]).map(s => [s.start, s.end, s.span])).toEqual([[0, 12, 0], [12, text.length, null]]);
  });

  it('turns a DOM selection across segments into trimmed character offsets', () => {
    const { getByTestId } = render(<SpanText text={text} spans={[{ label: 'PER', start: 0, end: 12 }]} selected={null} colors={{}} />);
    const container = getByTestId('span-text');
    const plain = container.childNodes[1]?.firstChild as Text; // " met Charles Babbage in London."
    const start = plain.data.indexOf('Charles') - 1; // includes the leading space, which is trimmed
    const end = plain.data.indexOf(' in');
    const offsets = selectionOffsets(container, text, { anchorNode: plain, anchorOffset: end, focusNode: plain, focusOffset: start });
    expect(offsets).not.toBeNull();
    const [s, e] = offsets as [number, number];
    expect(text.slice(s, e)).toBe('Charles Babbage');
  });

  it('handles a selection that starts inside a highlighted span', () => {
    const { getByTestId } = render(<SpanText text={text} spans={[{ label: 'PER', start: 0, end: 12 }]} selected={null} colors={{}} />);
    const container = getByTestId('span-text');
    const inMark = container.childNodes[0]?.firstChild as Text;
    const after = container.childNodes[1]?.firstChild as Text;
    const offsets = selectionOffsets(container, text, { anchorNode: inMark, anchorOffset: 4, focusNode: after, focusOffset: 4 });
    expect(offsets && text.slice(offsets[0], offsets[1])).toBe('Lovelace met');
  });

  it('ignores selections outside the text', () => {
    const { getByTestId } = render(<><p id="x">elsewhere</p><SpanText text={text} spans={[]} selected={null} colors={{}} /></>);
    const outside = document.getElementById('x')?.firstChild as Text;
    expect(selectionOffsets(getByTestId('span-text'), text, { anchorNode: outside, anchorOffset: 0, focusNode: outside, focusOffset: 3 })).toBeNull();
  });
});
