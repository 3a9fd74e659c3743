import { type LabelConfig, labelForKey } from './editor';

export type Command =
  | { type: 'label'; label: string }
  | { type: 'submit' } | { type: 'skip' } | { type: 'undo' } | { type: 'redo' }
  | { type: 'zoomIn' } | { type: 'zoomOut' } | { type: 'zoomReset' }
  | { type: 'delete' } | { type: 'selectNext' } | { type: 'deselect' } | { type: 'newBox' }
  | { type: 'acceptPredictions' } | { type: 'toggleVisible' }
  | { type: 'nudge'; dx: number; dy: number; resize: boolean };

export interface KeyLike { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }

/**
 * The workbench's keyboard map: label hotkeys (own key, else 1..9), Enter or Ctrl+Enter submit, Shift+S skip,
 * Ctrl+Z undo, Ctrl+Shift+Z or Ctrl+Y redo, + / - / 0 zoom, Delete removes the selection, Tab cycles it, arrows
 * nudge a selected shape (Shift: 10 px, Alt: resize a box), Escape deselects (or drops the polygon being drawn), and,
 * unless a label owns the key: N adds a box in the middle (keyboard-only boxes), A accepts the pre-annotations,
 * V marks the selected keypoint not visible (or visible again).
 */
export function commandForKey(config: LabelConfig, e: KeyLike): Command | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key;
  if (key === 'Enter') return { type: 'submit' };
  if (mod && key.toLowerCase() === 'z') return e.shiftKey ? { type: 'redo' } : { type: 'undo' };
  if (mod && key.toLowerCase() === 'y') return { type: 'redo' };
  if (mod) return null;
  if (e.shiftKey && key === 'S') return { type: 'skip' };
  if (key === '+' || key === '=') return { type: 'zoomIn' };
  if (key === '-' || key === '_') return { type: 'zoomOut' };
  if (key === '0') return { type: 'zoomReset' };
  if (key === 'Delete' || key === 'Backspace') return { type: 'delete' };
  if (key === 'Tab') return { type: 'selectNext' };
  if (key === 'Escape') return { type: 'deselect' };
  const step = e.shiftKey ? 10 : 1;
  const arrows: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  const arrow = arrows[key];
  if (arrow) return { type: 'nudge', dx: arrow[0], dy: arrow[1], resize: e.altKey };
  if (e.altKey) return null;
  const label = labelForKey(config, key);
  if (label) return { type: 'label', label };
  if (key === 'a' || key === 'A') return { type: 'acceptPredictions' };
  if (key === 'v' || key === 'V') return { type: 'toggleVisible' };
  return key === 'n' || key === 'N' ? { type: 'newBox' } : null;
}
