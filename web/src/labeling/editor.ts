// The workbench's editing state: the result being built, with undo/redo history. Pure, so it is unit-tested
// without a browser; the result shapes are those of the server's AnnotationValidator.

export type Kind = 'imageClassification' | 'boundingBoxes' | 'polygons' | 'keypoints' | 'textClassification' | 'namedEntities';

export interface LabelDef { name: string; color?: string | null; hotkey?: string | null }
export interface LabelConfig {
  kind: Kind; labels: LabelDef[]; multiple?: boolean; allowOverlap?: boolean; minBoxSize?: number; minPolygonPoints?: number; maxPolygonPoints?: number;
}

export interface Box { label: string; x: number; y: number; width: number; height: number }
export interface Span { label: string; start: number; end: number; text?: string }
export type Point = [number, number];
export interface Polygon { label: string; points: Point[] }
/** A named point; <c>visible: false</c> marks a point that is placed but hidden (occluded) in the image. */
export interface Keypoint { label: string; x: number; y: number; visible?: boolean }

export type Result = { labels: string[] } | { boxes: Box[] } | { spans: Span[] } | { polygons: Polygon[] } | { keypoints: Keypoint[] };

export interface EditorState {
  result: Result;
  past: Result[];
  future: Result[];
  activeLabel: string;
  selected: number | null;
  /** The polygon being drawn: its vertices so far, not yet part of the result (and so not in the history). */
  draft: Point[] | null;
}

export type EditorAction =
  | { type: 'reset'; result: Result }
  | { type: 'activate'; label: string }
  | { type: 'toggleLabel'; label: string }
  | { type: 'addBox'; box: Box }
  | { type: 'updateBox'; index: number; box: Box; commit: boolean }
  | { type: 'addSpan'; span: Span }
  | { type: 'draftPoint'; point: Point }
  | { type: 'closeDraft' }
  | { type: 'cancelDraft' }
  | { type: 'updatePolygon'; index: number; polygon: Polygon; commit: boolean }
  | { type: 'placeKeypoint'; x: number; y: number }
  | { type: 'updateKeypoint'; index: number; keypoint: Keypoint; commit: boolean }
  | { type: 'toggleVisible'; index: number }
  | { type: 'accept'; result: Result }
  | { type: 'remove'; index: number }
  | { type: 'relabel'; index: number; label: string }
  | { type: 'select'; index: number | null }
  | { type: 'undo' }
  | { type: 'redo' };

const historyLimit = 200;

export function emptyResult(kind: Kind): Result {
  switch (kind) {
    case 'boundingBoxes': return { boxes: [] };
    case 'namedEntities': return { spans: [] };
    case 'polygons': return { polygons: [] };
    case 'keypoints': return { keypoints: [] };
    default: return { labels: [] };
  }
}

/** Reads a stored result, tolerating null or a result of another shape (then starts empty). */
export function parseResult(kind: Kind, value: unknown): Result {
  const empty = emptyResult(kind);
  if (value === null || typeof value !== 'object') return empty;
  const member = Object.keys(empty)[0] as string;
  const items = (value as Record<string, unknown>)[member];
  return Array.isArray(items) ? ({ [member]: items } as Result) : empty;
}

export function initialState(config: LabelConfig, result?: Result): EditorState {
  const start = result ?? emptyResult(config.kind);
  return { result: start, past: [], future: [], activeLabel: nextKeypoint(config, start) ?? config.labels[0]?.name ?? '', selected: null, draft: null };
}

/** The items of any result, for code that only counts, lists or labels them. */
export function items(result: Result): { label: string }[] {
  if ('boxes' in result) return result.boxes;
  if ('spans' in result) return result.spans;
  if ('polygons' in result) return result.polygons;
  if ('keypoints' in result) return result.keypoints;
  return [];
}

/** For keypoints: the first point of the configuration (in order) not placed yet; null when all are, or for other kinds. */
export function nextKeypoint(config: LabelConfig, result: Result, after?: string): string | null {
  if (!('keypoints' in result)) return null;
  const placed = new Set(result.keypoints.map(k => k.label));
  const names = config.labels.map(l => l.name);
  const from = after === undefined ? 0 : names.indexOf(after) + 1;
  return [...names.slice(from), ...names.slice(0, from)].find(n => !placed.has(n)) ?? null;
}

function commit(state: EditorState, result: Result, selected: number | null = state.selected): EditorState {
  return { ...state, result, past: [...state.past, state.result].slice(-historyLimit), future: [], selected };
}

export function itemCount(result: Result): number {
  return 'labels' in result ? result.labels.length : items(result).length;
}

const clampTo = (v: number, max: number) => round(Math.min(Math.max(v, 0), max));

/** A polygon moved by (dx, dy), as a whole, kept inside the image. */
export function movePolygon(polygon: Polygon, dx: number, dy: number, width: number, height: number): Polygon {
  const xs = polygon.points.map(p => p[0]), ys = polygon.points.map(p => p[1]);
  const mx = Math.min(Math.max(dx, -Math.min(...xs)), width - Math.max(...xs));
  const my = Math.min(Math.max(dy, -Math.min(...ys)), height - Math.max(...ys));
  return { ...polygon, points: polygon.points.map(([x, y]) => [round(x + mx), round(y + my)]) };
}

/** A polygon with one vertex moved to (x, y), clamped to the image. */
export function moveVertex(polygon: Polygon, vertex: number, x: number, y: number, width: number, height: number): Polygon {
  return { ...polygon, points: polygon.points.map((p, i) => (i === vertex ? [clampTo(x, width), clampTo(y, height)] : p)) };
}

/** A point clamped to the image and rounded like every stored coordinate. */
export function clampPoint(x: number, y: number, width: number, height: number): Point {
  return [clampTo(x, width), clampTo(y, height)];
}

export function createReducer(config: LabelConfig) {
  return function reduce(state: EditorState, action: EditorAction): EditorState {
    const r = state.result;
    switch (action.type) {
      case 'reset':
        return initialState(config, action.result);
      case 'activate':
        // Keypoint labels name the point to place next; they never rename a placed point (each name is used once).
        if ('keypoints' in r) return { ...state, activeLabel: action.label };
        // With a shape or span selected, choosing a label relabels it: one key fixes a wrong label.
        if (state.selected !== null && !('labels' in r)) return reduce({ ...state, activeLabel: action.label }, { type: 'relabel', index: state.selected, label: action.label });
        return { ...state, activeLabel: action.label };
      case 'toggleLabel': {
        if (!('labels' in r)) return state;
        const has = r.labels.includes(action.label);
        const labels = has ? r.labels.filter(l => l !== action.label) : config.multiple ? [...r.labels, action.label] : [action.label];
        return commit({ ...state, activeLabel: action.label }, { labels });
      }
      case 'addBox':
        if (!('boxes' in r)) return state;
        return commit(state, { boxes: [...r.boxes, action.box] }, r.boxes.length);
      case 'updateBox': {
        if (!('boxes' in r) || !r.boxes[action.index]) return state;
        const boxes = r.boxes.map((b, i) => (i === action.index ? action.box : b));
        // Dragging sends many uncommitted updates and one committed: one undo step per gesture.
        return action.commit ? commit(state, { boxes }) : { ...state, result: { boxes } };
      }
      case 'addSpan': {
        if (!('spans' in r) || action.span.end <= action.span.start) return state;
        const overlaps = r.spans.some(s => s.start < action.span.end && action.span.start < s.end);
        if (overlaps && !config.allowOverlap) return state;
        const spans = [...r.spans, action.span].sort((a, b) => a.start - b.start || a.end - b.end);
        return commit(state, { spans }, spans.indexOf(action.span));
      }
      case 'draftPoint': {
        if (!('polygons' in r)) return state;
        const draft = [...(state.draft ?? []), action.point];
        // The last vertex the configuration allows closes the polygon by itself.
        if (draft.length >= (config.maxPolygonPoints ?? 1000)) return reduce({ ...state, draft }, { type: 'closeDraft' });
        return { ...state, draft, selected: null };
      }
      case 'closeDraft': {
        if (!('polygons' in r) || !state.draft) return state;
        if (state.draft.length < (config.minPolygonPoints ?? 3)) return state;
        return { ...commit(state, { polygons: [...r.polygons, { label: state.activeLabel, points: state.draft }] }, r.polygons.length), draft: null };
      }
      case 'cancelDraft':
        return state.draft ? { ...state, draft: null } : state;
      case 'updatePolygon': {
        if (!('polygons' in r) || !r.polygons[action.index]) return state;
        const polygons = r.polygons.map((p, i) => (i === action.index ? action.polygon : p));
        return action.commit ? commit(state, { polygons }) : { ...state, result: { polygons } };
      }
      case 'placeKeypoint': {
        if (!('keypoints' in r)) return state;
        const placed = new Set(r.keypoints.map(k => k.label));
        const label = placed.has(state.activeLabel) ? nextKeypoint(config, r) : state.activeLabel;
        if (!label) return state;
        const result = { keypoints: [...r.keypoints, { label, x: round(action.x), y: round(action.y) }] };
        return { ...commit(state, result, r.keypoints.length), activeLabel: nextKeypoint(config, result, label) ?? label };
      }
      case 'updateKeypoint': {
        if (!('keypoints' in r) || !r.keypoints[action.index]) return state;
        const keypoints = r.keypoints.map((k, i) => (i === action.index ? action.keypoint : k));
        return action.commit ? commit(state, { keypoints }) : { ...state, result: { keypoints } };
      }
      case 'toggleVisible': {
        const point = 'keypoints' in r ? r.keypoints[action.index] : undefined;
        if (!('keypoints' in r) || !point) return state;
        const { visible, ...rest } = point;
        const toggled: Keypoint = visible === false ? rest : { ...rest, visible: false };
        return commit(state, { keypoints: r.keypoints.map((k, i) => (i === action.index ? toggled : k)) });
      }
      case 'accept': {
        // Pre-annotations become the annotator's own in one undoable step: classification labels and spans join
        // what is there (spans that would overlap are left out unless allowed), shapes are added.
        let result: Result = r;
        if ('labels' in r && 'labels' in action.result) {
          const labels = config.multiple ? [...new Set([...r.labels, ...action.result.labels])] : action.result.labels.slice(0, 1);
          result = { labels: labels.length > 0 ? labels : r.labels };
        } else if ('spans' in r && 'spans' in action.result) {
          const spans = [...r.spans];
          for (const span of action.result.spans)
            if (config.allowOverlap || !spans.some(s => s.start < span.end && span.start < s.end)) spans.push(span);
          result = { spans: spans.sort((a, b) => a.start - b.start || a.end - b.end) };
        } else if ('boxes' in r && 'boxes' in action.result) result = { boxes: [...r.boxes, ...action.result.boxes] };
        else if ('polygons' in r && 'polygons' in action.result) result = { polygons: [...r.polygons, ...action.result.polygons] };
        else if ('keypoints' in r && 'keypoints' in action.result) {
          const placed = new Set(r.keypoints.map(k => k.label));
          result = { keypoints: [...r.keypoints, ...action.result.keypoints.filter(k => !placed.has(k.label))] };
        }
        if (JSON.stringify(result) === JSON.stringify(r)) return state;
        return { ...commit(state, result, null), activeLabel: nextKeypoint(config, result) ?? state.activeLabel };
      }
      case 'remove': {
        if ('labels' in r) return state;
        const without = <T,>(list: T[]) => list.filter((_, i) => i !== action.index);
        const result: Result = 'boxes' in r ? { boxes: without(r.boxes) } : 'spans' in r ? { spans: without(r.spans) }
          : 'polygons' in r ? { polygons: without(r.polygons) } : { keypoints: without(r.keypoints) };
        return { ...commit(state, result, null), activeLabel: nextKeypoint(config, result) ?? state.activeLabel };
      }
      case 'relabel': {
        const label = action.label;
        if ('boxes' in r) return commit(state, { boxes: r.boxes.map((b, i) => (i === action.index ? { ...b, label } : b)) });
        if ('spans' in r) return commit(state, { spans: r.spans.map((s, i) => (i === action.index ? { ...s, label } : s)) });
        if ('polygons' in r) return commit(state, { polygons: r.polygons.map((p, i) => (i === action.index ? { ...p, label } : p)) });
        return state;
      }
      case 'select':
        return { ...state, selected: action.index };
      case 'undo': {
        const previous = state.past[state.past.length - 1];
        if (!previous) return state;
        return { ...state, result: previous, past: state.past.slice(0, -1), future: [state.result, ...state.future], selected: null, draft: null };
      }
      case 'redo': {
        const next = state.future[0];
        if (!next) return state;
        return { ...state, result: next, past: [...state.past, state.result], future: state.future.slice(1), selected: null, draft: null };
      }
    }
  };
}

/** The label a key chooses: the label's own hotkey, else 1..9 by position. */
export function labelForKey(config: LabelConfig, key: string): string | null {
  const own = config.labels.find(l => l.hotkey && l.hotkey.toLowerCase() === key.toLowerCase());
  if (own) return own.name;
  if (/^[1-9]$/.test(key)) return config.labels[Number(key) - 1]?.name ?? null;
  return null;
}

/** Normalises a drag from (x1,y1) to (x2,y2) into a box clamped to the image. */
export function boxFromDrag(x1: number, y1: number, x2: number, y2: number, width: number, height: number, label: string): Box {
  const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
  const ax = clamp(Math.min(x1, x2), width), bx = clamp(Math.max(x1, x2), width);
  const ay = clamp(Math.min(y1, y2), height), by = clamp(Math.max(y1, y2), height);
  return { label, x: round(ax), y: round(ay), width: round(bx - ax), height: round(by - ay) };
}

export type Handle = 'move' | 'nw' | 'ne' | 'sw' | 'se';

/** A box after dragging one of its handles by (dx, dy) image pixels, kept inside the image and at least 1 px. */
export function dragBox(box: Box, handle: Handle, dx: number, dy: number, width: number, height: number): Box {
  if (handle === 'move') {
    const x = Math.min(Math.max(box.x + dx, 0), width - box.width);
    const y = Math.min(Math.max(box.y + dy, 0), height - box.height);
    return { ...box, x: round(x), y: round(y) };
  }
  let x1 = box.x, y1 = box.y, x2 = box.x + box.width, y2 = box.y + box.height;
  if (handle.includes('w')) x1 += dx; else x2 += dx;
  if (handle.includes('n')) y1 += dy; else y2 += dy;
  const next = boxFromDrag(x1, y1, x2, y2, width, height, box.label);
  return { ...next, width: Math.max(next.width, 1), height: Math.max(next.height, 1) };
}

const round = (v: number) => Math.round(v * 100) / 100;
