import { render, screen } from '@testing-library/react';
import { DiffView } from './DiffView';

describe('DiffView', () => {
  it('lists added, removed and changed paths and the table row and schema changes', () => {
    render(<DiffView diff={{
      from: 1, to: 2,
      added: [{ path: 'img/c.png', sha256: 'c', size: 70, contentType: 'image/png', isTable: false }],
      removed: [{ path: 'img/a.png', sha256: 'a', size: 60, contentType: 'image/png', isTable: false }],
      changed: [{ path: 'cars.csv', fromSha256: 'x', toSha256: 'y', fromSize: 100, toSize: 140 }],
      tables: [{ path: 'cars.csv', fromRows: 4, toRows: 6, addedColumns: ['colour'], removedColumns: [], retypedColumns: ['price: int64 -> double'] }],
    }} />);
    expect(screen.getByText(/v1 → v2/).textContent).toBe('v1 → v2: 1 added, 1 removed, 1 changed');
    const rows = screen.getByLabelText('Changed paths').querySelectorAll('tbody tr');
    expect([...rows].map(r => `${r.getAttribute('data-change')} ${r.children[1]?.textContent}`)).toEqual(['added img/c.png', 'removed img/a.png', 'changed cars.csv']);
    expect(rows[2]?.textContent).toContain('100 B → 140 B (+40)');
    const table = screen.getByTestId('table-change');
    expect(table.textContent).toContain('4 → 6 (+2)');
    expect(table.textContent).toContain('+colour');
    expect(table.textContent).toContain('price: int64 -> double');
  });

  it('says so when the versions hold the same files', () => {
    render(<DiffView diff={{ from: 3, to: 3, added: [], removed: [], changed: [], tables: [] }} />);
    expect(screen.getByText('The two versions hold the same files.')).toBeTruthy();
    expect(document.querySelector('table')).toBeNull();
  });
});
