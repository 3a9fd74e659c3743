import { memo, useEffect, useMemo, useRef, useState } from 'react';
import {
  type Box, boxFromDrag, clampPoint, dragBox, type EditorAction, type Handle, type Keypoint, movePolygon, moveVertex, type Point, type Polygon, type Result,
} from './editor';

/** Zoom and pan of the stage; zoom 0 asks the canvas to fit the image to its area. */
export interface View { zoom: number; panX: number; panY: number }

/** A model's pre-annotation, drawn dashed under the annotator's own shapes and never edited in place. */
export interface Overlay { model: string; score: number | null; result: Result }

interface Props {
  imageUrl: string;
  width: number;
  height: number;
  /** The image result being edited: boxes, polygons or keypoints (classification shows the image alone). */
  result: Result;
  selected: number | null;
  activeLabel: string;
  colors: Record<string, string>;
  view: View;
  minBoxSize: number;
  draft?: Point[] | null;
  predictions?: Overlay[];
  readOnly?: boolean;
  onView?: (view: View) => void;
  /** The editor's dispatch: every edit the canvas makes is one editor action, so undo/redo covers it. */
  dispatch?: (action: EditorAction) => void;
}

type Shape = Box | Polygon | Keypoint;
type Grip = Handle | number; // a box handle, or the index of the polygon vertex being dragged

type Gesture =
  | { kind: 'draw'; x: number; y: number; box: Box }
  | { kind: 'edit'; index: number; grip: Grip; x: number; y: number; original: Shape; shape: Shape }
  | { kind: 'pan'; clientX: number; clientY: number; panX: number; panY: number };

const fallbackColor = '#e6194b';
const pointsAttr = (points: Point[]) => points.map(p => `${p[0]},${p[1]}`).join(' ');

/**
 * Boxes, polygons or keypoints over an image in one SVG whose viewBox is the image's pixel grid, so every coordinate is
 * an image pixel. Zoom and pan are a CSS transform of the stage. Pointer handling is delegated to the SVG (shapes carry
 * data-index, handles data-handle or data-vertex), and each shape is a memoised component: a drag re-renders only the
 * shape being dragged, which keeps a thousand shapes responsive. A gesture edits a local copy and commits once.
 *
 * Boxes: drag on empty image draws, drag a box moves it, drag a corner resizes it. Polygons: click adds a vertex, click
 * on the first vertex (or Enter) closes, drag a polygon moves it, drag a vertex of the selected one moves the vertex.
 * Keypoints: click places the next point, drag moves one. Everywhere: wheel zooms, middle button or Shift+drag pans.
 */
export function BoxCanvas(props: Props) {
  const svg = useRef<SVGSVGElement>(null);
  const area = useRef<HTMLDivElement>(null);
  const [gesture, setGesture] = useState<Gesture | null>(null);
  const { width, height, onView, result, dispatch } = props;
  const view = props.view.zoom > 0 ? props.view : { ...props.view, zoom: 1 };

  useEffect(() => {
    const el = area.current;
    if (props.view.zoom > 0 || !el || !onView) return;
    const zoom = Math.min(el.clientWidth / width, el.clientHeight / height);
    onView({ zoom: zoom > 0 && Number.isFinite(zoom) ? Math.min(zoom, 8) : 1, panX: 0, panY: 0 });
  }, [props.view.zoom, width, height, onView]);

  const shapes: Shape[] = 'boxes' in result ? result.boxes : 'polygons' in result ? result.polygons : 'keypoints' in result ? result.keypoints : [];
  const handleSize = Math.max(4, Math.min(width, height) / 80) / view.zoom;
  const stroke = Math.max(1, Math.min(width, height) / 300) / view.zoom;

  function toImage(clientX: number, clientY: number): [number, number] {
    const rect = svg.current?.getBoundingClientRect();
    if (!rect || rect.width === 0 || rect.height === 0) return [0, 0];
    return [((clientX - rect.left) / rect.width) * width, ((clientY - rect.top) / rect.height) * height];
  }

  function start(e: React.PointerEvent<SVGSVGElement>) {
    const target = (e.target as Element).closest?.('[data-index],[data-close]') as SVGElement | null;
    const index = target?.dataset.index !== undefined ? Number(target.dataset.index) : null;
    const grip = (e.target as SVGElement).dataset?.handle as Handle | undefined ?? ((e.target as SVGElement).dataset?.vertex !== undefined ? Number((e.target as SVGElement).dataset.vertex) : 'move');
    if (e.button === 1 || (e.button === 0 && e.shiftKey)) {
      setGesture({ kind: 'pan', clientX: e.clientX, clientY: e.clientY, panX: view.panX, panY: view.panY });
    } else if (e.button !== 0 || props.readOnly || !dispatch) {
      return;
    } else {
      const [x, y] = toImage(e.clientX, e.clientY);
      const shape = index === null ? undefined : shapes[index];
      if ('polygons' in result && (props.draft || !shape)) {
        // Drawing a polygon: every click is a vertex; the first vertex closes it.
        const first = props.draft?.[0];
        if (target?.dataset.close !== undefined || (first && props.draft && props.draft.length >= 3 && Math.hypot(first[0] - x, first[1] - y) <= handleSize)) dispatch({ type: 'closeDraft' });
        else dispatch({ type: 'draftPoint', point: clampPoint(x, y, width, height) });
      } else if (!shape) {
        dispatch({ type: 'select', index: null });
        if ('boxes' in result) setGesture({ kind: 'draw', x, y, box: boxFromDrag(x, y, x, y, width, height, props.activeLabel) });
        else if ('keypoints' in result) { const [px, py] = clampPoint(x, y, width, height); dispatch({ type: 'placeKeypoint', x: px, y: py }); }
        else return;
      } else {
        dispatch({ type: 'select', index });
        setGesture({ kind: 'edit', index: index as number, grip, x, y, original: shape, shape });
      }
    }
    e.stopPropagation();
    e.preventDefault();
    // Capture keeps a drag alive outside the image; a pointer the browser does not know (synthetic) cannot be captured.
    try { svg.current?.setPointerCapture?.(e.pointerId); } catch { /* the gesture still works inside the image */ }
  }

  function move(e: React.PointerEvent) {
    if (!gesture) return;
    if (gesture.kind === 'pan') {
      props.onView?.({ ...view, panX: gesture.panX + e.clientX - gesture.clientX, panY: gesture.panY + e.clientY - gesture.clientY });
      return;
    }
    const [x, y] = toImage(e.clientX, e.clientY);
    if (gesture.kind === 'draw') { setGesture({ ...gesture, box: boxFromDrag(gesture.x, gesture.y, x, y, width, height, props.activeLabel) }); return; }
    const { original, grip } = gesture;
    const dx = x - gesture.x, dy = y - gesture.y;
    let shape: Shape;
    if ('points' in original) shape = typeof grip === 'number' ? moveVertex(original, grip, x, y, width, height) : movePolygon(original, dx, dy, width, height);
    else if ('width' in original) shape = dragBox(original, typeof grip === 'number' ? 'move' : grip, dx, dy, width, height);
    else { const [px, py] = clampPoint(original.x + dx, original.y + dy, width, height); shape = { ...original, x: px, y: py }; }
    setGesture({ ...gesture, shape });
  }

  function end() {
    if (gesture?.kind === 'draw' && gesture.box.width >= props.minBoxSize && gesture.box.height >= props.minBoxSize) dispatch?.({ type: 'addBox', box: gesture.box });
    if (gesture?.kind === 'edit' && JSON.stringify(gesture.original) !== JSON.stringify(gesture.shape)) {
      const { index, shape } = gesture;
      if ('points' in shape) dispatch?.({ type: 'updatePolygon', index, polygon: shape, commit: true });
      else if ('width' in shape) dispatch?.({ type: 'updateBox', index, box: shape, commit: true });
      else dispatch?.({ type: 'updateKeypoint', index, keypoint: shape, commit: true });
    }
    setGesture(null);
  }

  function wheel(e: React.WheelEvent) {
    const zoom = Math.min(20, Math.max(0.1, view.zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15)));
    props.onView?.({ ...view, zoom });
  }

  const overlay = useMemo(() => <Predictions predictions={props.predictions ?? []} colors={props.colors} stroke={stroke} />, [props.predictions, props.colors, stroke]);
  // A shape leaves its block only once a drag actually changes it, so a click that merely selects stays cheap.
  const editing = gesture?.kind === 'edit' && gesture.shape !== gesture.original ? gesture : null;
  const editable = !props.readOnly && !!dispatch;
  const shapeStyle = useMemo(() => ({ colors: props.colors, stroke, handleSize, editable }), [props.colors, stroke, handleSize, editable]);
  // The shapes in memoised blocks: a selection re-renders one or two blocks; a drag renders the dragged shape on its
  // own (taken out of its block when the gesture starts), so a pointer move costs the same with 10 shapes or 10,000.
  const layer = [];
  for (let start = 0; start < shapes.length; start += blockSize)
    layer.push(<ShapeBlock key={start} shapes={shapes} start={start} selected={within(props.selected, start)} hidden={within(editing?.index ?? null, start)} style={shapeStyle} />);

  return (
    <div className="canvas" ref={area} onWheel={wheel} data-testid="canvas">
      <div className="stage" style={{ transform: `translate(${view.panX}px, ${view.panY}px) scale(${view.zoom})` }}>
        <svg ref={svg} className="boxes" viewBox={`0 0 ${width} ${height}`} width={width} height={height}
          onPointerDown={start} onPointerMove={move} onPointerUp={end} onPointerCancel={end}>
          <image href={props.imageUrl} x={0} y={0} width={width} height={height} preserveAspectRatio="none" />
          {overlay}
          {layer}
          {editing && renderShape(editing.shape, editing.index, props.selected === editing.index, shapeStyle)}
          {gesture?.kind === 'draw' && (
            <rect className="drawing" x={gesture.box.x} y={gesture.box.y} width={gesture.box.width} height={gesture.box.height}
              fill="none" stroke={props.colors[props.activeLabel] ?? fallbackColor} strokeDasharray="4" strokeWidth={stroke} />
          )}
          {props.draft && props.draft.length > 0 && (
            <g className="draft" data-testid="polygon-draft" data-points={props.draft.length}>
              <polyline points={pointsAttr(props.draft)} fill="none" stroke={props.colors[props.activeLabel] ?? fallbackColor} strokeWidth={stroke} strokeDasharray="4" />
              {props.draft.map((p, j) => (
                <circle key={j} cx={p[0]} cy={p[1]} r={j === 0 ? handleSize : handleSize / 2} fill={j === 0 ? '#fff' : props.colors[props.activeLabel] ?? fallbackColor}
                  stroke={props.colors[props.activeLabel] ?? fallbackColor} strokeWidth={stroke} {...(j === 0 ? { 'data-close': '' } : {})} />
              ))}
            </g>
          )}
        </svg>
      </div>
    </div>
  );
}

interface ShapeProps { index: number; color: string; selected: boolean; stroke: number; handleSize: number }
interface ShapeStyle { colors: Record<string, string>; stroke: number; handleSize: number; editable: boolean }

const blockSize = 50;
const within = (index: number | null, start: number) => (index !== null && index >= start && index < start + blockSize ? index : null);

function renderShape(shape: Shape, i: number, selected: boolean, { colors, stroke, handleSize, editable }: ShapeStyle) {
  const color = colors[shape.label] ?? fallbackColor;
  if ('points' in shape) return <PolygonShape key={i} index={i} polygon={shape} color={color} selected={selected} stroke={stroke} handleSize={handleSize} editable={editable} />;
  if ('width' in shape) return <BoxShape key={i} index={i} box={shape} color={color} selected={selected} stroke={stroke} handleSize={handleSize} editable={editable} />;
  return <KeypointShape key={i} index={i} point={shape} color={color} selected={selected} stroke={stroke} handleSize={handleSize} />;
}

const ShapeBlock = memo(function ShapeBlock({ shapes, start, selected, hidden, style }: { shapes: Shape[]; start: number; selected: number | null; hidden: number | null; style: ShapeStyle }) {
  const out = [];
  for (let i = start; i < Math.min(start + blockSize, shapes.length); i++) {
    const shape = shapes[i];
    if (shape && i !== hidden) out.push(renderShape(shape, i, selected === i, style));
  }
  return <>{out}</>;
}, (a, b) => a.start === b.start && a.selected === b.selected && a.hidden === b.hidden && a.style === b.style && sameRange(a.shapes, b.shapes, a.start, blockSize));

/** Whether two arrays hold the same items in [start, start + count): an edit keeps every other item by reference. */
export function sameRange<T>(a: T[], b: T[], start: number, count: number): boolean {
  if (a === b) return true;
  const end = Math.min(start + count, Math.max(a.length, b.length));
  if (Math.min(a.length, start + count) !== Math.min(b.length, start + count)) return false;
  for (let i = start; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

const BoxShape = memo(function BoxShape({ index, box: b, color, selected, stroke, handleSize, editable }: ShapeProps & { box: Box; editable: boolean }) {
  return (
    <g data-testid="box" data-index={index} data-label={b.label} className={selected ? 'box selected' : 'box'}>
      <rect x={b.x} y={b.y} width={b.width} height={b.height} fill={color} fillOpacity={selected ? 0.25 : 0.12} stroke={color} strokeWidth={selected ? stroke * 2 : stroke} />
      {selected && editable && (['nw', 'ne', 'sw', 'se'] as const).map(h => (
        <rect key={h} data-handle={h} className="handle" width={handleSize} height={handleSize} fill="#fff" stroke={color} strokeWidth={stroke}
          x={(h.includes('w') ? b.x : b.x + b.width) - handleSize / 2} y={(h.includes('n') ? b.y : b.y + b.height) - handleSize / 2} />
      ))}
    </g>
  );
});

const PolygonShape = memo(function PolygonShape({ index, polygon, color, selected, stroke, handleSize, editable }: ShapeProps & { polygon: Polygon; editable: boolean }) {
  return (
    <g data-testid="polygon" data-index={index} data-label={polygon.label} className={selected ? 'polygon selected' : 'polygon'}>
      <polygon points={pointsAttr(polygon.points)} fill={color} fillOpacity={selected ? 0.25 : 0.12} stroke={color} strokeWidth={selected ? stroke * 2 : stroke} />
      {selected && editable && polygon.points.map((p, j) => (
        <circle key={j} data-vertex={j} className="vertex" cx={p[0]} cy={p[1]} r={handleSize * 0.8} fill="#fff" stroke={color} strokeWidth={stroke} />
      ))}
    </g>
  );
});

const KeypointShape = memo(function KeypointShape({ index, point, color, selected, stroke, handleSize }: ShapeProps & { point: Keypoint }) {
  const hidden = point.visible === false;
  return (
    <g data-testid="keypoint" data-index={index} data-label={point.label} data-visible={hidden ? 'false' : 'true'} className={selected ? 'keypoint selected' : 'keypoint'}>
      <circle cx={point.x} cy={point.y} r={selected ? handleSize * 1.4 : handleSize} fill={hidden ? 'none' : color} stroke={selected ? '#fff' : color}
        strokeWidth={stroke} strokeDasharray={hidden ? `${stroke * 2}` : undefined} />
      <text x={point.x + handleSize * 1.5} y={point.y - handleSize / 2} fontSize={handleSize * 2.5} fill={color} stroke="#000" strokeWidth={stroke / 4}>{point.label}</text>
    </g>
  );
});

/** Pre-annotations: dashed outlines, no fill, each tagged with the model's name and score; they take no pointer events. */
const Predictions = memo(function Predictions({ predictions, colors, stroke }: { predictions: Overlay[]; colors: Record<string, string>; stroke: number }) {
  if (predictions.length === 0) return null;
  const dash = `${stroke * 4} ${stroke * 3}`;
  return (
    <g className="predictions" pointerEvents="none">
      {predictions.flatMap((p, k) => {
        const tag = `${p.model}${p.score === null ? '' : ` ${p.score.toFixed(2)}`}`;
        const common = { fill: 'none', strokeWidth: stroke * 1.5, strokeDasharray: dash };
        const caption = (x: number, y: number, label: string, key: string) => (
          <text key={`${key}t`} x={x} y={Math.max(y - stroke * 2, stroke * 8)} fontSize={stroke * 9} fill={colors[label] ?? fallbackColor} stroke="#000" strokeWidth={stroke / 4}>{label} · {tag}</text>
        );
        const r = p.result;
        if ('boxes' in r) return r.boxes.map((b, i) => (
          <g key={`${k}b${i}`} data-testid="prediction" data-label={b.label}>
            <rect x={b.x} y={b.y} width={b.width} height={b.height} stroke={colors[b.label] ?? fallbackColor} {...common} />{caption(b.x, b.y, b.label, `${k}b${i}`)}
          </g>
        ));
        if ('polygons' in r) return r.polygons.map((poly, i) => (
          <g key={`${k}p${i}`} data-testid="prediction" data-label={poly.label}>
            <polygon points={pointsAttr(poly.points)} stroke={colors[poly.label] ?? fallbackColor} {...common} />
            {poly.points[0] && caption(poly.points[0][0], poly.points[0][1], poly.label, `${k}p${i}`)}
          </g>
        ));
        if ('keypoints' in r) return r.keypoints.map((pt, i) => (
          <g key={`${k}k${i}`} data-testid="prediction" data-label={pt.label}>
            <circle cx={pt.x} cy={pt.y} r={stroke * 4} stroke={colors[pt.label] ?? fallbackColor} {...common} />{caption(pt.x, pt.y, pt.label, `${k}k${i}`)}
          </g>
        ));
        return [];
      })}
    </g>
  );
});
