// @vitest-environment node
import { commandForKey, type KeyLike } from './hotkeys';
import type { LabelConfig } from './editor';

const config: LabelConfig = { kind: 'boundingBoxes', labels: [{ name: 'car' }, { name: 'person' }, { name: 'sign', hotkey: 'g' }] };
const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe('commandForKey', () => {
  it('maps the workbench keys', () => {
    expect(commandForKey(config, key('1'))).toEqual({ type: 'label', label: 'car' });
    expect(commandForKey(config, key('g'))).toEqual({ type: 'label', label: 'sign' });
    expect(commandForKey(config, key('4'))).toBeNull();
    expect(commandForKey(config, key('Enter'))).toEqual({ type: 'submit' });
    expect(commandForKey(config, key('Enter', { ctrlKey: true }))).toEqual({ type: 'submit' });
    expect(commandForKey(config, key('z', { ctrlKey: true }))).toEqual({ type: 'undo' });
    expect(commandForKey(config, key('Z', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'redo' });
    expect(commandForKey(config, key('y', { metaKey: true }))).toEqual({ type: 'redo' });
    expect(commandForKey(config, key('S', { shiftKey: true }))).toEqual({ type: 'skip' });
    expect(commandForKey(config, key('+'))).toEqual({ type: 'zoomIn' });
    expect(commandForKey(config, key('-'))).toEqual({ type: 'zoomOut' });
    expect(commandForKey(config, key('0'))).toEqual({ type: 'zoomReset' });
    expect(commandForKey(config, key('Delete'))).toEqual({ type: 'delete' });
    expect(commandForKey(config, key('ArrowLeft', { shiftKey: true }))).toEqual({ type: 'nudge', dx: -10, dy: 0, resize: false });
    expect(commandForKey(config, key('ArrowDown', { altKey: true }))).toEqual({ type: 'nudge', dx: 0, dy: 1, resize: true });
    expect(commandForKey(config, key('n'))).toEqual({ type: 'newBox' });
    expect(commandForKey({ ...config, labels: [{ name: 'north', hotkey: 'n' }] }, key('n'))).toEqual({ type: 'label', label: 'north' });
    expect(commandForKey(config, key('a'))).toEqual({ type: 'acceptPredictions' });
    expect(commandForKey(config, key('A', { shiftKey: true }))).toEqual({ type: 'acceptPredictions' });
    expect(commandForKey(config, key('v'))).toEqual({ type: 'toggleVisible' });
    expect(commandForKey({ ...config, labels: [{ name: 'animal', hotkey: 'a' }] }, key('a'))).toEqual({ type: 'label', label: 'animal' });
    expect(commandForKey(config, key('Escape'))).toEqual({ type: 'deselect' });
  });

  it('leaves browser shortcuts alone', () => {
    expect(commandForKey(config, key('1', { ctrlKey: true }))).toBeNull();
    expect(commandForKey(config, key('c', { ctrlKey: true }))).toBeNull();
  });
});
