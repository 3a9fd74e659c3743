import { act, fireEvent, render, screen } from '@testing-library/react';
import { AnnotationEditor, type Prediction } from './AnnotationEditor';
import type { LabelConfig, Result } from './editor';

const image = { url: '/img.png', width: 200, height: 100 };

/** Renders the editor with the canvas laid out 1:1 (jsdom has no layout), returning the last reported result. */
function editor(config: LabelConfig, initial: Result, predictions: Prediction[] = [], data: object = image) {
  let last: Result = initial;
  const submitted: Result[] = [];
  const view = render(<AnnotationEditor config={config} data={data} initial={initial} predictions={predictions}
    onResult={r => { last = r; }} onSubmit={r => submitted.push(r)} />);
  const svg = view.container.querySelector('svg.boxes') as SVGSVGElement | null;
  if (svg) svg.getBoundingClientRect = () => ({ left: 0, top: 0, width: 200, height: 100, right: 200, bottom: 100, x: 0, y: 0, toJSON: () => ({}) });
  return { view, svg: svg as SVGSVGElement, result: () => last, submitted };
}

const key = (k: string, init: KeyboardEventInit = {}) => act(() => { fireEvent.keyDown(window, { key: k, ...init }); });
const at = (x: number, y: number) => ({ button: 0, clientX: x, clientY: y, pointerId: 1 });
function drag(svg: SVGSVGElement, target: Element, from: [number, number], to: [number, number]) {
  fireEvent.pointerDown(target, at(...from));
  fireEvent.pointerMove(svg, at((from[0] + to[0]) / 2, (from[1] + to[1]) / 2));
  fireEvent.pointerMove(svg, at(...to));
  fireEvent.pointerUp(svg, at(...to));
}
const click = (target: Element, x: number, y: number) => { fireEvent.pointerDown(target, at(x, y)); fireEvent.pointerUp(target, at(x, y)); };

describe('AnnotationEditor', () => {
  const polygons: LabelConfig = { kind: 'polygons', labels: [{ name: 'roof' }, { name: 'wall' }], minPolygonPoints: 3, maxPolygonPoints: 100 };

  it('draws polygons by clicks, closes with Enter or the first vertex, cancels with Escape, and edits them', () => {
    const { svg, result, submitted, view } = editor(polygons, { polygons: [] });
    click(svg, 10, 10);
    click(svg, 100, 10);
    click(svg, 100, 80);
    expect(screen.getByTestId('polygon-draft').getAttribute('data-points')).toBe('3');
    key('Enter');
    expect(submitted).toHaveLength(0);
    expect(result()).toEqual({ polygons: [{ label: 'roof', points: [[10, 10], [100, 10], [100, 80]] }] });

    // A second one, labelled wall, closed by clicking its first vertex; a third is dropped with Escape.
    key('Escape');
    key('2');
    click(svg, 120, 10);
    click(svg, 190, 10);
    click(svg, 190, 90);
    click(view.container.querySelector('[data-close]') as Element, 123, 13); // on the first vertex's handle, off its centre
    expect(screen.getAllByTestId('polygon').map(p => p.getAttribute('data-label'))).toEqual(['roof', 'wall']);
    click(svg, 5, 95);
    key('Escape');
    expect(screen.queryByTestId('polygon-draft')).toBeNull();

    // Drag a vertex of the selected polygon, then the whole polygon; relabel it by hotkey; each step undoes alone.
    const first = () => screen.getAllByTestId('polygon')[0] as Element;
    click(first().querySelector('polygon') as Element, 80, 30);
    drag(svg, first().querySelector('[data-vertex="2"]') as Element, [100, 80], [120, 90]);
    expect((result() as { polygons: { points: number[][] }[] }).polygons[0]?.points).toEqual([[10, 10], [100, 10], [120, 90]]);
    drag(svg, first().querySelector('polygon') as Element, [80, 30], [90, 35]);
    expect((result() as { polygons: { points: number[][] }[] }).polygons[0]?.points).toEqual([[20, 15], [110, 15], [130, 95]]);
    key('2');
    expect(first().getAttribute('data-label')).toBe('wall');
    key('z', { ctrlKey: true });
    key('z', { ctrlKey: true });
    expect((result() as { polygons: { label: string; points: number[][] }[] }).polygons[0]).toEqual({ label: 'roof', points: [[10, 10], [100, 10], [120, 90]] });
    click(first().querySelector('polygon') as Element, 80, 30);
    key('Delete');
    expect((result() as { polygons: { label: string }[] }).polygons.map(p => p.label)).toEqual(['wall']);
    key('Enter');
    expect(submitted).toEqual([result()]);
  });

  it('places keypoints in order, drags one, and marks one not visible', () => {
    const pose: LabelConfig = { kind: 'keypoints', labels: [{ name: 'nose' }, { name: 'left_eye' }, { name: 'right_eye' }] };
    const { svg, result } = editor(pose, { keypoints: [] });
    click(svg, 10, 10);
    click(svg, 20, 10);
    key('v');
    expect(screen.getAllByTestId('keypoint').map(k => [k.getAttribute('data-label'), k.getAttribute('data-visible')])).toEqual([['nose', 'true'], ['left_eye', 'false']]);
    drag(svg, screen.getAllByTestId('keypoint')[0]?.querySelector('circle') as Element, [10, 10], [15, 12]);
    click(svg, 30, 10);
    click(svg, 40, 40); // every point is placed: nothing more to add
    expect(result()).toEqual({ keypoints: [{ label: 'nose', x: 15, y: 12 }, { label: 'left_eye', x: 20, y: 10, visible: false }, { label: 'right_eye', x: 30, y: 10 }] });
    expect(screen.getByRole('button', { name: /right_eye/ }).textContent).toContain('✓');
  });

  it('shows box pre-annotations dashed with model and score, and A makes them the annotator’s own, editable', () => {
    const config: LabelConfig = { kind: 'boundingBoxes', labels: [{ name: 'car' }, { name: 'person' }] };
    const predictions = [{ id: 'p1', taskId: 't1', kind: 'prediction', model: 'detr', modelVersion: null, score: 0.91, createdAt: '',
      result: { boxes: [{ label: 'car', x: 10, y: 10, width: 40, height: 30 }, { label: 'person', x: 100, y: 20, width: 20, height: 50 }] } }] as unknown as Prediction[];
    const { result } = editor(config, { boxes: [] }, predictions);
    const shown = screen.getAllByTestId('prediction');
    expect(shown).toHaveLength(2);
    expect(shown[0]?.querySelector('rect')?.getAttribute('stroke-dasharray')).toBeTruthy();
    expect(shown[0]?.textContent).toBe('car · detr 0.91');
    expect(screen.queryAllByTestId('box')).toHaveLength(0);
    key('a');
    expect(screen.queryAllByTestId('prediction')).toHaveLength(0);
    expect(screen.getAllByTestId('box').map(b => b.getAttribute('data-label'))).toEqual(['car', 'person']);
    key('Tab');
    key('ArrowRight', { shiftKey: true });
    expect(result()).toEqual({ boxes: [{ label: 'car', x: 20, y: 10, width: 40, height: 30 }, { label: 'person', x: 100, y: 20, width: 20, height: 50 }] });
  });

  it('accepts text classification and entity pre-annotations in one key', () => {
    const sentiment: LabelConfig = { kind: 'textClassification', labels: [{ name: 'pos' }, { name: 'neg' }] };
    const text = { text: 'Ada Lovelace met Babbage.' };
    const suggestion = (result: object) => [{ id: 'p', taskId: 't', kind: 'prediction', model: 'bert', modelVersion: 'v2', score: 0.8, createdAt: '', result }] as unknown as Prediction[];
    const a = editor(sentiment, { labels: [] }, suggestion({ labels: ['neg'] }), text);
    expect(screen.getByTestId('prediction-summary').textContent).toBe('bert v2 · 0.80: neg');
    key('A');
    key('Enter');
    expect(a.submitted).toEqual([{ labels: ['neg'] }]);
    a.view.unmount();

    const ner: LabelConfig = { kind: 'namedEntities', labels: [{ name: 'PER' }, { name: 'ORG' }] };
    const b = editor(ner, { spans: [] }, suggestion({ spans: [{ label: 'PER', start: 0, end: 12 }, { label: 'PER', start: 17, end: 24 }] }), text);
    expect(screen.getAllByTestId('predicted-span').map(m => m.textContent)).toEqual(['Ada Lovelace', 'Babbage']);
    expect(screen.queryAllByTestId('span')).toHaveLength(0);
    key('a');
    expect(screen.getAllByTestId('span').map(m => m.textContent)).toEqual(['Ada Lovelace', 'Babbage']);
    expect(screen.queryByTestId('predicted-span-text')).toBeNull();
    key('z', { ctrlKey: true });
    expect(b.result()).toEqual({ spans: [] });
  });
});
