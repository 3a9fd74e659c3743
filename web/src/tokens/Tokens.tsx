import { useCallback, useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';

type Token = Schemas['TokenDto'];

const when = (iso: string | null) => iso ? new Date(iso).toLocaleString() : '–';

/** The caller's API tokens: create one (its secret is shown once), see when each was last used, revoke. */
export function Tokens() {
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    const { data, error: e } = await api.GET('/api/me/tokens');
    if (data) setTokens(data); else setError(problemMessage(e));
  }, []);
  useEffect(() => { void load(); }, [load]);

  async function create(e: React.FormEvent) {
    e.preventDefault();
    setError(null); setCopied(false);
    const { data, error: problem } = await api.POST('/api/me/tokens', { body: { name: name.trim(), expiresInDays: days ? Number(days) : null } });
    if (!data) { setError(problemMessage(problem)); return; }
    setSecret({ name: data.token.name, value: data.secret });
    setName('');
    await load();
  }

  async function revoke(token: Token) {
    if (!window.confirm(`Revoke the token '${token.name}'? Programs using it stop working at once.`)) return;
    const { error: e, response } = await api.DELETE('/api/me/tokens/{id}', { params: { path: { id: token.id } } });
    if (!response.ok) { setError(problemMessage(e)); return; }
    await load();
  }

  async function copy(value: string) {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setError('The browser did not allow copying; select the token and copy it by hand.');
    }
  }

  return (
    <section className="tokens">
      <h1>API tokens</h1>
      <p className="muted">A token signs in the <code>cube</code> CLI and scripts as you: <code>Authorization: Bearer &lt;token&gt;</code>.</p>
      <form className="actions" onSubmit={e => void create(e)} aria-label="New token">
        <label>Name <input aria-label="Token name" value={name} onChange={e => setName(e.target.value)} required maxLength={100} /></label>
        <label>Expires after <select aria-label="Expires after" value={days} onChange={e => setDays(e.target.value)}>
          <option value="7">7 days</option><option value="30">30 days</option><option value="90">90 days</option><option value="365">a year</option><option value="">never</option>
        </select></label>
        <button type="submit" className="primary">Create token</button>
      </form>
      {secret && (
        <div className="banner info" role="status" data-testid="new-token">
          <p>The token <strong>{secret.name}</strong>. Copy it now: it is not shown again.</p>
          <p className="actions"><code data-testid="token-secret">{secret.value}</code>
            <button type="button" onClick={() => void copy(secret.value)}>{copied ? 'Copied' : 'Copy'}</button>
            <button type="button" onClick={() => setSecret(null)}>Done</button></p>
        </div>
      )}
      {error && <p role="alert" className="banner error">{error}</p>}
      {!tokens ? <p className="loading">Loading…</p> : tokens.length === 0 ? <p>No tokens yet.</p> : (
        <table className="grid" aria-label="Tokens">
          <thead><tr><th>Name</th><th>Token</th><th>Created</th><th>Expires</th><th>Last used</th><th>State</th><th></th></tr></thead>
          <tbody>{tokens.map(t => (
            <tr key={t.id} data-testid="token-row">
              <td>{t.name}</td><td><code>{t.displayPrefix}…</code></td><td>{when(t.createdAt)}</td><td>{when(t.expiresAt)}</td><td>{when(t.lastUsedAt)}</td>
              <td>{t.active ? 'active' : t.revokedAt ? `revoked ${when(t.revokedAt)}` : 'expired'}</td>
              <td>{t.active && <button type="button" onClick={() => void revoke(t)}>Revoke</button>}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
