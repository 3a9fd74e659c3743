// @vitest-environment node
import { boxFromDrag, createReducer, dragBox, initialState, type LabelConfig, labelForKey, parseResult } from './editor';

const boxes: LabelConfig = { kind: 'boundingBoxes', labels: [{ name: 'car' }, { name: 'person', hotkey: 'p' }] };
const ner: LabelConfig = { kind: 'namedEntities', labels: [{ name: 'PER' }, { name: 'ORG' }] };
const classes: LabelConfig = { kind: 'textClassification', labels: [{ name: 'pos' }, { name: 'neg' }] };

describe('editor', () => {
  it('undoes and redoes box edits one gesture at a time', () => {
    const reduce = createReducer(boxes);
    let s = initialState(boxes);
    s = reduce(s, { type: 'addBox', box: { label: 'car', x: 1, y: 2, width: 10, height: 10 } });
    s = reduce(s, { type: 'updateBox', index: 0, box: { label: 'car', x: 5, y: 2, width: 10, height: 10 }, commit: true });
    expect(s.result).toEqual({ boxes: [{ label: 'car', x: 5, y: 2, width: 10, height: 10 }] });
    s = reduce(s, { type: 'undo' });
    expect(s.result).toEqual({ boxes: [{ label: 'car', x: 1, y: 2, width: 10, height: 10 }] });
    s = reduce(s, { type: 'undo' });
    expect(s.result).toEqual({ boxes: [] });
    s = reduce(s, { type: 'undo' });
    expect(s.result).toEqual({ boxes: [] });
    s = reduce(s, { type: 'redo' });
    s = reduce(s, { type: 'redo' });
    expect(s.result).toEqual({ boxes: [{ label: 'car', x: 5, y: 2, width: 10, height: 10 }] });
    expect(s.future).toHaveLength(0);
  });

  it('drops the redo branch on a new edit', () => {
    const reduce = createReducer(boxes);
    let s = reduce(initialState(boxes), { type: 'addBox', box: { label: 'car', x: 0, y: 0, width: 5, height: 5 } });
    s = reduce(s, { type: 'undo' });
    s = reduce(s, { type: 'addBox', box: { label: 'person', x: 1, y: 1, width: 5, height: 5 } });
    expect(s.future).toHaveLength(0);
    expect(reduce(s, { type: 'redo' }).result).toEqual(s.result);
  });

  it('relabels the selected box when a label is chosen', () => {
    const reduce = createReducer(boxes);
    let s = reduce(initialState(boxes), { type: 'addBox', box: { label: 'car', x: 0, y: 0, width: 5, height: 5 } });
    expect(s.selected).toBe(0);
    s = reduce(s, { type: 'activate', label: 'person' });
    expect(s.result).toEqual({ boxes: [{ label: 'person', x: 0, y: 0, width: 5, height: 5 }] });
    expect(s.activeLabel).toBe('person');
  });

  it('keeps single-label classification to one label and toggles', () => {
    const reduce = createReducer(classes);
    let s = reduce(initialState(classes), { type: 'toggleLabel', label: 'pos' });
    s = reduce(s, { type: 'toggleLabel', label: 'neg' });
    expect(s.result).toEqual({ labels: ['neg'] });
    s = reduce(s, { type: 'toggleLabel', label: 'neg' });
    expect(s.result).toEqual({ labels: [] });
    const multi = createReducer({ ...classes, multiple: true });
    let m = multi(initialState(classes), { type: 'toggleLabel', label: 'pos' });
    m = multi(m, { type: 'toggleLabel', label: 'neg' });
    expect(m.result).toEqual({ labels: ['pos', 'neg'] });
  });

  it('refuses overlapping spans unless the project allows them, and keeps spans in order', () => {
    const reduce = createReducer(ner);
    let s = reduce(initialState(ner), { type: 'addSpan', span: { label: 'ORG', start: 10, end: 15 } });
    s = reduce(s, { type: 'addSpan', span: { label: 'PER', start: 0, end: 4 } });
    s = reduce(s, { type: 'addSpan', span: { label: 'PER', start: 12, end: 20 } });
    expect(s.result).toEqual({ spans: [{ label: 'PER', start: 0, end: 4 }, { label: 'ORG', start: 10, end: 15 }] });
    const overlapping = createReducer({ ...ner, allowOverlap: true });
    expect('spans' in overlapping(s, { type: 'addSpan', span: { label: 'PER', start: 12, end: 20 } }).result).toBe(true);
    expect((overlapping(s, { type: 'addSpan', span: { label: 'PER', start: 12, end: 20 } }).result as { spans: unknown[] }).spans).toHaveLength(3);
  });

  it('maps keys 1..9 and own hotkeys to labels', () => {
    expect(labelForKey(boxes, '1')).toBe('car');
    expect(labelForKey(boxes, '2')).toBe('person');
    expect(labelForKey(boxes, 'P')).toBe('person');
    expect(labelForKey(boxes, '3')).toBeNull();
  });

  it('normalises drags and clamps them to the image', () => {
    expect(boxFromDrag(50, 40, 10, -5, 100, 100, 'car')).toEqual({ label: 'car', x: 10, y: 0, width: 40, height: 40 });
    expect(boxFromDrag(90, 90, 150, 120, 100, 100, 'car')).toEqual({ label: 'car', x: 90, y: 90, width: 10, height: 10 });
  });

  it('moves boxes inside the image and resizes from any corner', () => {
    const box = { label: 'car', x: 10, y: 10, width: 20, height: 20 };
    expect(dragBox(box, 'move', 100, -100, 50, 50)).toEqual({ label: 'car', x: 30, y: 0, width: 20, height: 20 });
    expect(dragBox(box, 'nw', -5, -5, 50, 50)).toEqual({ label: 'car', x: 5, y: 5, width: 25, height: 25 });
    expect(dragBox(box, 'se', 5, 10, 50, 50)).toEqual({ label: 'car', x: 10, y: 10, width: 25, height: 30 });
    // Dragging a corner past the opposite one flips the box instead of making it negative.
    expect(dragBox(box, 'se', -30, 0, 50, 50)).toEqual({ label: 'car', x: 0, y: 10, width: 10, height: 20 });
  });

  it('reads stored results and starts empty on a foreign shape', () => {
    expect(parseResult('boundingBoxes', { boxes: [{ label: 'car', x: 0, y: 0, width: 1, height: 1 }] })).toEqual({ boxes: [{ label: 'car', x: 0, y: 0, width: 1, height: 1 }] });
    expect(parseResult('namedEntities', { labels: ['x'] })).toEqual({ spans: [] });
    expect(parseResult('imageClassification', null)).toEqual({ labels: [] });
  });
});
