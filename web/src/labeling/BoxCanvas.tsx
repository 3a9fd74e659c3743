import { useEffect, useRef, useState } from 'react';
import { type Box, boxFromDrag, dragBox, type Handle } from './editor';

/** Zoom and pan of the stage; zoom 0 asks the canvas to fit the image to its area. */
export interface View { zoom: number; panX: number; panY: number }

interface Props {
  imageUrl: string;
  width: number;
  height: number;
  boxes: Box[];
  selected: number | null;
  activeLabel: string;
  colors: Record<string, string>;
  view: View;
  minBoxSize: number;
  readOnly?: boolean;
  onView?: (view: View) => void;
  onAdd?: (box: Box) => void;
  onChange?: (index: number, box: Box) => void;
  onSelect?: (index: number | null) => void;
}

type Gesture =
  | { kind: 'draw'; x: number; y: number; box: Box }
  | { kind: 'edit'; index: number; handle: Handle; x: number; y: number; box: Box }
  | { kind: 'pan'; clientX: number; clientY: number; panX: number; panY: number };

/**
 * Boxes over an image in one SVG whose viewBox is the image's pixel grid, so every coordinate is an image pixel.
 * Zoom and pan are a CSS transform of the stage; drag on empty image draws, drag a box moves it, drag a corner
 * resizes it, wheel zooms, middle button or Shift+drag pans. A gesture edits a local copy and commits once.
 */
export function BoxCanvas(props: Props) {
  const svg = useRef<SVGSVGElement>(null);
  const area = useRef<HTMLDivElement>(null);
  const [gesture, setGesture] = useState<Gesture | null>(null);
  const { width, height, onView } = props;
  const view = props.view.zoom > 0 ? props.view : { ...props.view, zoom: 1 };

  useEffect(() => {
    const el = area.current;
    if (props.view.zoom > 0 || !el || !onView) return;
    const zoom = Math.min(el.clientWidth / width, el.clientHeight / height);
    onView({ zoom: zoom > 0 && Number.isFinite(zoom) ? Math.min(zoom, 8) : 1, panX: 0, panY: 0 });
  }, [props.view.zoom, width, height, onView]);

  function toImage(clientX: number, clientY: number): [number, number] {
    const rect = svg.current?.getBoundingClientRect();
    if (!rect || rect.width === 0 || rect.height === 0) return [0, 0];
    return [((clientX - rect.left) / rect.width) * width, ((clientY - rect.top) / rect.height) * height];
  }

  function start(e: React.PointerEvent, index: number | null, handle: Handle = 'move') {
    if (e.button === 1 || (e.button === 0 && e.shiftKey)) {
      setGesture({ kind: 'pan', clientX: e.clientX, clientY: e.clientY, panX: view.panX, panY: view.panY });
    } else if (e.button !== 0 || props.readOnly) {
      return;
    } else if (index === null) {
      const [x, y] = toImage(e.clientX, e.clientY);
      props.onSelect?.(null);
      setGesture({ kind: 'draw', x, y, box: boxFromDrag(x, y, x, y, width, height, props.activeLabel) });
    } else {
      const box = props.boxes[index];
      if (!box) return;
      const [x, y] = toImage(e.clientX, e.clientY);
      props.onSelect?.(index);
      setGesture({ kind: 'edit', index, handle, x, y, box });
    }
    e.stopPropagation();
    e.preventDefault();
    svg.current?.setPointerCapture?.(e.pointerId);
  }

  function move(e: React.PointerEvent) {
    if (!gesture) return;
    if (gesture.kind === 'pan') {
      props.onView?.({ ...view, panX: gesture.panX + e.clientX - gesture.clientX, panY: gesture.panY + e.clientY - gesture.clientY });
      return;
    }
    const [x, y] = toImage(e.clientX, e.clientY);
    if (gesture.kind === 'draw') setGesture({ ...gesture, box: boxFromDrag(gesture.x, gesture.y, x, y, width, height, props.activeLabel) });
    else {
      const original = props.boxes[gesture.index];
      if (original) setGesture({ ...gesture, box: dragBox(original, gesture.handle, x - gesture.x, y - gesture.y, width, height) });
    }
  }

  function end() {
    if (gesture?.kind === 'draw' && gesture.box.width >= props.minBoxSize && gesture.box.height >= props.minBoxSize) props.onAdd?.(gesture.box);
    if (gesture?.kind === 'edit') {
      const original = props.boxes[gesture.index];
      if (original && JSON.stringify(original) !== JSON.stringify(gesture.box)) props.onChange?.(gesture.index, gesture.box);
    }
    setGesture(null);
  }

  function wheel(e: React.WheelEvent) {
    const zoom = Math.min(20, Math.max(0.1, view.zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15)));
    props.onView?.({ ...view, zoom });
  }

  const shown = props.boxes.map((b, i) => (gesture?.kind === 'edit' && gesture.index === i ? gesture.box : b));
  const handleSize = Math.max(4, Math.min(width, height) / 80) / view.zoom;
  const stroke = Math.max(1, Math.min(width, height) / 300) / view.zoom;

  return (
    <div className="canvas" ref={area} onWheel={wheel} data-testid="canvas">
      <div className="stage" style={{ transform: `translate(${view.panX}px, ${view.panY}px) scale(${view.zoom})` }}>
        <svg ref={svg} className="boxes" viewBox={`0 0 ${width} ${height}`} width={width} height={height}
          onPointerDown={e => start(e, null)} onPointerMove={move} onPointerUp={end} onPointerCancel={end}>
          <image href={props.imageUrl} x={0} y={0} width={width} height={height} preserveAspectRatio="none" />
          {shown.map((b, i) => {
            const color = props.colors[b.label] ?? '#e6194b';
            const isSelected = props.selected === i;
            return (
              <g key={i} data-testid="box" data-label={b.label} className={isSelected ? 'box selected' : 'box'}>
                <rect x={b.x} y={b.y} width={b.width} height={b.height} fill={color} fillOpacity={isSelected ? 0.25 : 0.12}
                  stroke={color} strokeWidth={isSelected ? stroke * 2 : stroke} onPointerDown={e => start(e, i)} />
                {isSelected && !props.readOnly && (['nw', 'ne', 'sw', 'se'] as const).map(h => (
                  <rect key={h} data-handle={h} className="handle" width={handleSize} height={handleSize} fill="#fff" stroke={color} strokeWidth={stroke}
                    x={(h.includes('w') ? b.x : b.x + b.width) - handleSize / 2} y={(h.includes('n') ? b.y : b.y + b.height) - handleSize / 2}
                    onPointerDown={e => start(e, i, h)} />
                ))}
              </g>
            );
          })}
          {gesture?.kind === 'draw' && (
            <rect className="drawing" x={gesture.box.x} y={gesture.box.y} width={gesture.box.width} height={gesture.box.height}
              fill="none" stroke={props.colors[props.activeLabel] ?? '#e6194b'} strokeDasharray="4" strokeWidth={stroke} />
          )}
        </svg>
      </div>
    </div>
  );
}
