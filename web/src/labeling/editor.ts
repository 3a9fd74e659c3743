// The workbench's editing state: the result being built, with undo/redo history. Pure, so it is unit-tested
// without a browser; the result shapes are those of the server's AnnotationValidator.

export type Kind = 'imageClassification' | 'boundingBoxes' | 'polygons' | 'keypoints' | 'textClassification' | 'namedEntities';

export interface LabelDef { name: string; color?: string | null; hotkey?: string | null }
export interface LabelConfig { kind: Kind; labels: LabelDef[]; multiple?: boolean; allowOverlap?: boolean; minBoxSize?: number }

export interface Box { label: string; x: number; y: number; width: number; height: number }
export interface Span { label: string; start: number; end: number; text?: string }

export type Result = { labels: string[] } | { boxes: Box[] } | { spans: Span[] };

export interface EditorState {
  result: Result;
  past: Result[];
  future: Result[];
  activeLabel: string;
  selected: number | null;
}

export type EditorAction =
  | { type: 'reset'; result: Result }
  | { type: 'activate'; label: string }
  | { type: 'toggleLabel'; label: string }
  | { type: 'addBox'; box: Box }
  | { type: 'updateBox'; index: number; box: Box; commit: boolean }
  | { type: 'addSpan'; span: Span }
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
  return { result: result ?? emptyResult(config.kind), past: [], future: [], activeLabel: config.labels[0]?.name ?? '', selected: null };
}

function commit(state: EditorState, result: Result, selected: number | null = state.selected): EditorState {
  return { ...state, result, past: [...state.past, state.result].slice(-historyLimit), future: [], selected };
}

export function itemCount(result: Result): number {
  return 'labels' in result ? result.labels.length : 'boxes' in result ? result.boxes.length : result.spans.length;
}

export function createReducer(config: LabelConfig) {
  return function reduce(state: EditorState, action: EditorAction): EditorState {
    const r = state.result;
    switch (action.type) {
      case 'reset':
        return initialState(config, action.result);
      case 'activate':
        // With a box or span selected, choosing a label relabels it: one key fixes a wrong label.
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
      case 'remove': {
        if ('boxes' in r) return commit(state, { boxes: r.boxes.filter((_, i) => i !== action.index) }, null);
        if ('spans' in r) return commit(state, { spans: r.spans.filter((_, i) => i !== action.index) }, null);
        return state;
      }
      case 'relabel': {
        if ('boxes' in r) return commit(state, { boxes: r.boxes.map((b, i) => (i === action.index ? { ...b, label: action.label } : b)) });
        if ('spans' in r) return commit(state, { spans: r.spans.map((s, i) => (i === action.index ? { ...s, label: action.label } : s)) });
        return state;
      }
      case 'select':
        return { ...state, selected: action.index };
      case 'undo': {
        const previous = state.past[state.past.length - 1];
        if (!previous) return state;
        return { ...state, result: previous, past: state.past.slice(0, -1), future: [state.result, ...state.future], selected: null };
      }
      case 'redo': {
        const next = state.future[0];
        if (!next) return state;
        return { ...state, result: next, past: [...state.past, state.result], future: state.future.slice(1), selected: null };
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
