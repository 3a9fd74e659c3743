// @vitest-environment node
import { boxFromDrag, createReducer, dragBox, initialState, type LabelConfig, labelForKey, movePolygon, moveVertex, nextKeypoint, parseResult } from './editor';

const boxes: LabelConfig = { kind: 'boundingBoxes', labels: [{ name: 'car' }, { name: 'person', hotkey: 'p' }] };
const ner: LabelConfig = { kind: 'namedEntities', labels: [{ name: 'PER' }, { name: 'ORG' }] };
const classes: LabelConfig = { kind: 'textClassification', labels: [{ name: 'pos' }, { name: 'neg' }] };
const polygons: LabelConfig = { kind: 'polygons', labels: [{ name: 'roof' }, { name: 'wall' }], minPolygonPoints: 3, maxPolygonPoints: 5 };
const pose: LabelConfig = { kind: 'keypoints', labels: [{ name: 'nose' }, { name: 'left_eye' }, { name: 'right_eye' }] };

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

  it('draws a polygon vertex by vertex, closes it only with enough points, and undoes it in one step', () => {
    const reduce = createReducer(polygons);
    let s = reduce(initialState(polygons), { type: 'draftPoint', point: [0, 0] });
    s = reduce(s, { type: 'draftPoint', point: [10, 0] });
    expect(reduce(s, { type: 'closeDraft' })).toBe(s);
    s = reduce(s, { type: 'draftPoint', point: [10, 10] });
    expect(s.past).toHaveLength(0);
    s = reduce(s, { type: 'activate', label: 'wall' });
    s = reduce(s, { type: 'closeDraft' });
    expect(s.result).toEqual({ polygons: [{ label: 'wall', points: [[0, 0], [10, 0], [10, 10]] }] });
    expect(s.draft).toBeNull();
    expect(s.selected).toBe(0);
    s = reduce(s, { type: 'undo' });
    expect(s.result).toEqual({ polygons: [] });
  });

  it('cancels a polygon being drawn and closes one at the most points allowed', () => {
    const reduce = createReducer(polygons);
    let s = reduce(initialState(polygons), { type: 'draftPoint', point: [0, 0] });
    s = reduce(s, { type: 'cancelDraft' });
    expect(s.draft).toBeNull();
    expect(s.result).toEqual({ polygons: [] });
    for (const p of [[0, 0], [1, 0], [2, 1], [1, 2], [0, 1]] as [number, number][]) s = reduce(s, { type: 'draftPoint', point: p });
    expect(s.draft).toBeNull();
    expect((s.result as { polygons: unknown[] }).polygons).toHaveLength(1);
  });

  it('moves, reshapes, relabels and removes polygons inside the image', () => {
    const square = { label: 'roof', points: [[10, 10], [30, 10], [30, 30], [10, 30]] as [number, number][] };
    expect(movePolygon(square, 100, -5, 50, 50).points).toEqual([[30, 5], [50, 5], [50, 25], [30, 25]]);
    expect(moveVertex(square, 2, 80, 40, 50, 50).points[2]).toEqual([50, 40]);
    const reduce = createReducer(polygons);
    let s = initialState(polygons, { polygons: [square] });
    s = reduce(s, { type: 'select', index: 0 });
    s = reduce(s, { type: 'activate', label: 'wall' });
    expect((s.result as { polygons: { label: string }[] }).polygons[0]?.label).toBe('wall');
    s = reduce(s, { type: 'remove', index: 0 });
    expect(s.result).toEqual({ polygons: [] });
  });

  it('places keypoints in the configured order, skips placed ones, and marks one not visible', () => {
    const reduce = createReducer(pose);
    let s = initialState(pose);
    expect(s.activeLabel).toBe('nose');
    s = reduce(s, { type: 'placeKeypoint', x: 5, y: 5 });
    expect(s.activeLabel).toBe('left_eye');
    s = reduce(s, { type: 'activate', label: 'right_eye' });
    s = reduce(s, { type: 'placeKeypoint', x: 9, y: 4 });
    expect(s.activeLabel).toBe('left_eye');
    s = reduce(s, { type: 'placeKeypoint', x: 3, y: 4 });
    expect(reduce(s, { type: 'placeKeypoint', x: 1, y: 1 })).toBe(s);
    s = reduce(s, { type: 'toggleVisible', index: 0 });
    expect(s.result).toEqual({ keypoints: [{ label: 'nose', x: 5, y: 5, visible: false }, { label: 'right_eye', x: 9, y: 4 }, { label: 'left_eye', x: 3, y: 4 }] });
    s = reduce(s, { type: 'toggleVisible', index: 0 });
    expect((s.result as { keypoints: object[] }).keypoints[0]).toEqual({ label: 'nose', x: 5, y: 5 });
    s = reduce(s, { type: 'remove', index: 1 });
    expect(nextKeypoint(pose, s.result)).toBe('right_eye');
    expect(s.activeLabel).toBe('right_eye');
  });

  it('accepts pre-annotations as one undoable step, merging with what is there', () => {
    const reduce = createReducer(boxes);
    let s = reduce(initialState(boxes), { type: 'addBox', box: { label: 'car', x: 0, y: 0, width: 5, height: 5 } });
    s = reduce(s, { type: 'accept', result: { boxes: [{ label: 'person', x: 9, y: 9, width: 5, height: 5 }] } });
    expect((s.result as { boxes: unknown[] }).boxes).toHaveLength(2);
    expect(reduce(s, { type: 'undo' }).result).toEqual({ boxes: [{ label: 'car', x: 0, y: 0, width: 5, height: 5 }] });
    const spans = createReducer(ner);
    let t = spans(initialState(ner), { type: 'addSpan', span: { label: 'PER', start: 0, end: 4 } });
    t = spans(t, { type: 'accept', result: { spans: [{ label: 'ORG', start: 2, end: 6 }, { label: 'ORG', start: 10, end: 12 }] } });
    expect(t.result).toEqual({ spans: [{ label: 'PER', start: 0, end: 4 }, { label: 'ORG', start: 10, end: 12 }] });
    const single = createReducer(classes);
    expect(single(initialState(classes), { type: 'accept', result: { labels: ['neg', 'pos'] } }).result).toEqual({ labels: ['neg'] });
    const points = createReducer(pose);
    const p = points(initialState(pose, { keypoints: [{ label: 'nose', x: 1, y: 1 }] }), { type: 'accept', result: { keypoints: [{ label: 'nose', x: 7, y: 7 }, { label: 'left_eye', x: 2, y: 2 }] } });
    expect(p.result).toEqual({ keypoints: [{ label: 'nose', x: 1, y: 1 }, { label: 'left_eye', x: 2, y: 2 }] });
    expect(p.activeLabel).toBe('right_eye');
  });

  it('reads polygon and keypoint results', () => {
    expect(parseResult('polygons', { polygons: [{ label: 'roof', points: [[0, 0], [1, 0], [1, 1]] }] })).toEqual({ polygons: [{ label: 'roof', points: [[0, 0], [1, 0], [1, 1]] }] });
    expect(parseResult('keypoints', { boxes: [] })).toEqual({ keypoints: [] });
  });
});
