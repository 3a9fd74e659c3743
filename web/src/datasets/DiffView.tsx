import type { Schemas } from '../api/client';

type Diff = Schemas['DiffDto'];

const bytes = (n: number) => `${n.toLocaleString()} B`;

function signed(n: number): string {
  return n > 0 ? `+${n.toLocaleString()}` : n.toLocaleString();
}

/** Paths added, removed and changed between two versions, and each table's row-count and schema changes. */
export function DiffView({ diff }: { diff: Diff }) {
  const nothing = diff.added.length + diff.removed.length + diff.changed.length + diff.tables.length === 0;
  return (
    <div className="diff" data-testid="diff">
      <p className="diff-summary">
        v{diff.from} → v{diff.to}: <span className="added">{diff.added.length} added</span>, <span className="removed">{diff.removed.length} removed</span>,{' '}
        <span className="changed">{diff.changed.length} changed</span>
      </p>
      {nothing && <p className="muted">The two versions hold the same files.</p>}
      {diff.tables.length > 0 && (
        <table className="grid" aria-label="Table changes">
          <thead><tr><th>Table</th><th>Rows</th><th>Schema</th></tr></thead>
          <tbody>{diff.tables.map(t => (
            <tr key={t.path} data-testid="table-change">
              <td>{t.path}</td>
              <td>{t.fromRows ?? '–'} → {t.toRows ?? '–'}{t.fromRows !== null && t.toRows !== null ? ` (${signed(t.toRows - t.fromRows)})` : ''}</td>
              <td>
                {t.addedColumns.map(c => <span key={`+${c}`} className="added">+{c} </span>)}
                {t.removedColumns.map(c => <span key={`-${c}`} className="removed">−{c} </span>)}
                {t.retypedColumns.map(c => <span key={`~${c}`} className="changed">{c} </span>)}
                {t.addedColumns.length + t.removedColumns.length + t.retypedColumns.length === 0 && <span className="muted">unchanged</span>}
              </td>
            </tr>
          ))}</tbody>
        </table>
      )}
      {!nothing && (
        <table className="grid" aria-label="Changed paths">
          <thead><tr><th></th><th>Path</th><th>Size</th></tr></thead>
          <tbody>
            {diff.added.map(f => <tr key={`a${f.path}`} className="added" data-change="added"><td>+</td><td>{f.path}</td><td>{bytes(f.size)}</td></tr>)}
            {diff.removed.map(f => <tr key={`r${f.path}`} className="removed" data-change="removed"><td>−</td><td>{f.path}</td><td>{bytes(f.size)}</td></tr>)}
            {diff.changed.map(f => (
              <tr key={`c${f.path}`} className="changed" data-change="changed"><td>~</td><td>{f.path}</td>
                <td>{bytes(f.fromSize)} → {bytes(f.toSize)} ({signed(f.toSize - f.fromSize)})</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
