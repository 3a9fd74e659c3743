import { memo, type ReactNode, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { Schemas } from '../api/client';
import { BoxCanvas, type Overlay, sameRange, type View } from './BoxCanvas';
import {
  createReducer, dragBox, type EditorAction, initialState, itemCount, items, type LabelConfig, movePolygon, parseResult, type Result, clampPoint,
} from './editor';
import { commandForKey } from './hotkeys';
import { selectionOffsets, SpanText } from './SpanText';
import { labelColors } from './useProject';

export type Prediction = Schemas['PredictionDto'];
export interface TaskData { url?: string; image?: string; text?: string; width?: number; height?: number }

interface Props {
  config: LabelConfig;
  data: TaskData;
  /** The result to start from; kept by reference, so the first onResult call reports no change. */
  initial: Result;
  /** Pre-annotations served with the task, highest score first; A accepts the first as the annotator's own. */
  predictions?: Prediction[] | null;
  onResult?: (result: Result) => void;
  onSubmit: (result: Result) => void;
  onSkip?: () => void;
  /** Buttons after Undo and Redo (submit, skip, correct and accept…). */
  actions?: ReactNode;
}

const isImageKind = (config: LabelConfig) => config.kind !== 'textClassification' && config.kind !== 'namedEntities';

/**
 * The editing surface every labeling screen shares: labels with their hotkeys, the list of annotations, the subject
 * (image canvas, or text with spans), the pre-annotations, and the keyboard. The annotator's workbench and the
 * reviewer's correction both use it, so a reviewer corrects with the same tools the annotator used.
 */
export function AnnotationEditor({ config, data, initial, predictions, onResult, onSubmit, onSkip, actions }: Props) {
  const reduce = useMemo(() => createReducer(config), [config]);
  const [state, dispatch] = useReducer(reduce, undefined, () => initialState(config, initial));
  const [view, setView] = useState<View>({ zoom: 0, panX: 0, panY: 0 });
  const [size, setSize] = useState<{ width: number; height: number } | null>(data.width && data.height ? { width: data.width, height: data.height } : null);
  const [accepted, setAccepted] = useState(false);
  const textRef = useRef<HTMLDivElement>(null);
  const colors = useMemo(() => labelColors(config), [config]);
  const overlays = useMemo<Overlay[]>(() => (predictions ?? []).map(p => ({
    model: p.modelVersion ? `${p.model} ${p.modelVersion}` : p.model, score: p.score ?? null, result: parseResult(config.kind, p.result),
  })).filter(o => itemCount(o.result) > 0), [predictions, config.kind]);
  const shownOverlays = accepted ? noOverlays : overlays;

  useEffect(() => { onResult?.(state.result); }, [state.result, onResult]);

  const stateRef = useRef(state);
  stateRef.current = state;
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT')) return;
      const command = commandForKey(config, e);
      if (!command) return;
      e.preventDefault();
      const s = stateRef.current;
      const r = s.result;
      switch (command.type) {
        case 'label':
          if ('labels' in r) dispatch({ type: 'toggleLabel', label: command.label });
          else if ('spans' in r && textRef.current) {
            const offsets = selectionOffsets(textRef.current, data.text ?? '', window.getSelection());
            if (offsets) {
              // A new span: deselect first, so choosing its label does not relabel the span selected before.
              dispatch({ type: 'select', index: null });
              dispatch({ type: 'activate', label: command.label });
              dispatch({ type: 'addSpan', span: { label: command.label, start: offsets[0], end: offsets[1], text: (data.text ?? '').slice(offsets[0], offsets[1]) } });
              window.getSelection()?.removeAllRanges();
            } else dispatch({ type: 'activate', label: command.label });
          } else dispatch({ type: 'activate', label: command.label });
          break;
        // Enter closes a polygon being drawn, else submits; Escape drops the polygon being drawn, else deselects.
        case 'submit': if (s.draft) dispatch({ type: 'closeDraft' }); else onSubmit(r); break;
        case 'deselect': dispatch(s.draft ? { type: 'cancelDraft' } : { type: 'select', index: null }); break;
        case 'skip': onSkip?.(); break;
        case 'undo': dispatch({ type: 'undo' }); break;
        case 'redo': dispatch({ type: 'redo' }); break;
        case 'zoomIn': setView(v => ({ ...v, zoom: Math.min(20, (v.zoom || 1) * 1.25) })); break;
        case 'zoomOut': setView(v => ({ ...v, zoom: Math.max(0.1, (v.zoom || 1) / 1.25) })); break;
        case 'zoomReset': setView({ zoom: 0, panX: 0, panY: 0 }); break;
        case 'delete': if (s.selected !== null) dispatch({ type: 'remove', index: s.selected }); break;
        case 'selectNext': {
          const count = itemCount(r);
          if (count > 0 && !('labels' in r)) dispatch({ type: 'select', index: s.selected === null ? 0 : (s.selected + 1) % count });
          break;
        }
        case 'newBox':
          if ('boxes' in r && size)
            dispatch({ type: 'addBox', box: { label: s.activeLabel, x: Math.round(size.width / 4), y: Math.round(size.height / 4), width: Math.round(size.width / 2), height: Math.round(size.height / 2) } });
          break;
        case 'acceptPredictions': {
          const top = overlays[0];
          if (top && !accepted) { dispatch({ type: 'accept', result: top.result }); setAccepted(true); }
          break;
        }
        case 'toggleVisible': if ('keypoints' in r && s.selected !== null) dispatch({ type: 'toggleVisible', index: s.selected }); break;
        case 'nudge': {
          const nudged = s.selected === null || !size ? null : nudge(r, s.selected, command, size);
          if (nudged) dispatch(nudged);
          else if (!('boxes' in r)) setView(v => ({ ...v, panX: v.panX - command.dx * 20, panY: v.panY - command.dy * 20 }));
          break;
        }
      }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const r = state.result;
  const image = data.url ?? data.image;
  return (
    <div className="workbench-body">
      <aside className="labels" aria-label="Labels">
        {config.labels.map((l, i) => {
          const on = 'labels' in r ? r.labels.includes(l.name) : state.activeLabel === l.name;
          const placed = 'keypoints' in r && r.keypoints.some(k => k.label === l.name);
          return (
            <button key={l.name} type="button" aria-pressed={on} className={`${on ? 'label on' : 'label'}${placed ? ' placed' : ''}`} style={{ borderColor: colors[l.name] }}
              onClick={() => 'labels' in r ? dispatch({ type: 'toggleLabel', label: l.name }) : dispatch({ type: 'activate', label: l.name })}>
              <kbd>{l.hotkey ?? (i < 9 ? i + 1 : '')}</kbd> {l.name}{placed ? ' ✓' : ''}
            </button>
          );
        })}
        {overlays.length > 0 && !accepted && <Suggestions overlays={overlays} text={data.text ?? ''} onAccept={() => { dispatch({ type: 'accept', result: (overlays[0] as Overlay).result }); setAccepted(true); }} />}
        {!('labels' in r) && <ItemList result={r} selected={state.selected} colors={colors} dispatch={dispatch} />}
        <div className="actions">
          <button type="button" onClick={() => dispatch({ type: 'undo' })} disabled={state.past.length === 0}>Undo</button>
          <button type="button" onClick={() => dispatch({ type: 'redo' })} disabled={state.future.length === 0}>Redo</button>
          {actions}
        </div>
      </aside>
      <div className="subject">
        {isImageKind(config) && image && !size && <img src={image} alt="" className="probe" onLoad={e => setSize({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })} />}
        {isImageKind(config) && image && size && (
          <BoxCanvas imageUrl={image} width={size.width} height={size.height} result={r} selected={state.selected} activeLabel={state.activeLabel} colors={colors}
            view={view} minBoxSize={config.minBoxSize ?? 1} draft={state.draft} predictions={shownOverlays} onView={setView} dispatch={dispatch} />
        )}
        {!isImageKind(config) && (
          <div ref={textRef} className="text-subject">
            {'spans' in r
              ? <SpanText text={data.text ?? ''} spans={r.spans} selected={state.selected} colors={colors} onSelect={index => dispatch({ type: 'select', index })} />
              : <p className="plain-text">{data.text}</p>}
          </div>
        )}
        {!isImageKind(config) && shownOverlays[0] && 'spans' in shownOverlays[0].result && (
          <div className="text-subject predicted" data-testid="predicted-text">
            <SpanText text={data.text ?? ''} spans={shownOverlays[0].result.spans} selected={null} colors={colors} variant="prediction" />
          </div>
        )}
      </div>
    </div>
  );
}

const noOverlays: Overlay[] = [];

function nudge(r: Result, index: number, command: { dx: number; dy: number; resize: boolean }, size: { width: number; height: number }): EditorAction | null {
  if ('boxes' in r) {
    const box = r.boxes[index];
    return box ? { type: 'updateBox', index, commit: true, box: dragBox(box, command.resize ? 'se' : 'move', command.dx, command.dy, size.width, size.height) } : null;
  }
  if ('polygons' in r) {
    const polygon = r.polygons[index];
    return polygon ? { type: 'updatePolygon', index, commit: true, polygon: movePolygon(polygon, command.dx, command.dy, size.width, size.height) } : null;
  }
  if ('keypoints' in r) {
    const point = r.keypoints[index];
    if (!point) return null;
    const [x, y] = clampPoint(point.x + command.dx, point.y + command.dy, size.width, size.height);
    return { type: 'updateKeypoint', index, commit: true, keypoint: { ...point, x, y } };
  }
  return null;
}

/** What the models suggest, with model name and score, and the one key that takes it. */
function Suggestions({ overlays, text, onAccept }: { overlays: Overlay[]; text: string; onAccept: () => void }) {
  return (
    <div className="suggestions" data-testid="predictions">
      <strong>Pre-annotations</strong>
      <ul>
        {overlays.map((o, i) => (
          <li key={i} data-testid="prediction-summary">
            {o.model}{o.score === null ? '' : ` · ${o.score.toFixed(2)}`}: {'labels' in o.result ? o.result.labels.join(', ')
              : 'spans' in o.result ? o.result.spans.map(s => `${s.label} “${text.slice(s.start, s.end)}”`).join(', ')
              : `${itemCount(o.result)} ${Object.keys(o.result)[0]}`}
          </li>
        ))}
      </ul>
      <button type="button" onClick={onAccept}><kbd>A</kbd> Accept {overlays.length > 1 ? 'the first' : ''}</button>
    </div>
  );
}

/** The annotations as a list, in memoised blocks of rows, so selecting one of a thousand re-renders one block, not all. */
const ItemList = memo(function ItemList({ result, selected, colors, dispatch }: { result: Result; selected: number | null; colors: Record<string, string>; dispatch: (a: EditorAction) => void }) {
  const all = items(result);
  const blocks = [];
  for (let start = 0; start < all.length; start += listBlock)
    blocks.push(<ItemBlock key={start} all={all} start={start} selected={selected !== null && selected >= start && selected < start + listBlock ? selected : null} colors={colors} dispatch={dispatch} />);
  return <ol className="items" aria-label="Annotations">{blocks}</ol>;
});

const listBlock = 50;

const ItemBlock = memo(function ItemBlock({ all, start, selected, colors, dispatch }: {
  all: { label: string }[]; start: number; selected: number | null; colors: Record<string, string>; dispatch: (a: EditorAction) => void;
}) {
  return <>{all.slice(start, start + listBlock).map((item, k) => (
    <ItemRow key={start + k} index={start + k} label={item.label} detail={describe(item)} selected={selected === start + k} color={colors[item.label] ?? '#e6194b'} dispatch={dispatch} />
  ))}</>;
}, (a, b) => a.start === b.start && a.selected === b.selected && a.colors === b.colors && a.dispatch === b.dispatch && sameRange(a.all, b.all, a.start, listBlock));

function describe(item: { label: string }): string {
  if ('text' in item && typeof item.text === 'string' && item.text) return ` “${item.text}”`;
  if ('points' in item && Array.isArray(item.points)) return ` (${item.points.length} points)`;
  if ('visible' in item && item.visible === false) return ' (not visible)';
  return '';
}

const ItemRow = memo(function ItemRow({ index, label, detail, selected, color, dispatch }: {
  index: number; label: string; detail: string; selected: boolean; color: string; dispatch: (a: EditorAction) => void;
}) {
  return (
    <li className={selected ? 'selected' : ''} onClick={() => dispatch({ type: 'select', index })}>
      <span style={{ color }}>■</span> {label}{detail}
      <button type="button" aria-label="Remove" onClick={e => { e.stopPropagation(); dispatch({ type: 'remove', index }); }}>×</button>
    </li>
  );
});
