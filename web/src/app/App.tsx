import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import { SignIn } from '../auth/SignIn';
import { Dashboard } from '../manager/Dashboard';
import { Datasets } from '../datasets/Datasets';
import { VersionPage } from '../datasets/VersionPage';
import { NewPipeline, Pipelines } from '../features/Pipelines';
import { PipelinePage } from '../features/PipelinePage';
import { Chat } from '../knowledge/Chat';
import { KnowledgeBasePage } from '../knowledge/KnowledgeBasePage';
import { KnowledgeBases } from '../knowledge/KnowledgeBases';
import { ReviewQueue } from '../review/ReviewQueue';
import { Tokens } from '../tokens/Tokens';
import { Compare } from '../training/Compare';
import { JobPage } from '../training/JobPage';
import { Jobs } from '../training/Jobs';
import { ModelPage } from '../training/ModelPage';
import { Models } from '../training/Models';
import { WorkbenchPage } from '../labeling/WorkbenchPage';
import { ProjectHome } from './ProjectHome';
import { Link, match, navigate, usePath } from './router';
import { type Me, rankIn, roleRank, SessionContext, type Session } from './session';

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const path = usePath();

  const refresh = useCallback(async () => {
    const { data, response } = await api.GET('/api/me');
    setMe(response.ok && data ? data : null);
  }, []);

  useEffect(() => { refresh().catch(() => setMe(null)); }, [refresh]);

  const session = useMemo<Session | null>(() => me ? {
    me, refresh,
    signOut: async () => { await api.POST('/api/auth/sign-out'); setMe(null); navigate('/', true); },
  } : null, [me, refresh]);

  if (me === undefined) return <p className="loading">Loading…</p>;
  if (!session) return <SignIn onSignedIn={refresh} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell path={path} session={session} />
    </SessionContext.Provider>
  );
}

function Shell({ path, session }: { path: string; session: Session }) {
  const { me } = session;
  const slugFromPath = path.startsWith('/p/') ? decodeURIComponent(path.split('/')[2] ?? '') || undefined : undefined;
  const projects = me.projects;
  const slug = slugFromPath ?? (me.projects.length === 1 ? me.projects[0]?.slug : undefined);
  const rank = slug ? rankIn(me, slug) : -1;

  useEffect(() => {
    if (path === '/' && slug) navigate(`/p/${slug}`, true);
  }, [path, slug]);

  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/" className="brand">Cube</Link>
        <label className="switcher">Project
          <select aria-label="Project" value={slug ?? ''} onChange={e => navigate(`/p/${e.target.value}`)}>
            <option value="" disabled>Choose…</option>
            {projects.map(p => <option key={p.slug} value={p.slug}>{p.name}</option>)}
          </select>
        </label>
        {slug && (
          <nav aria-label="Sections">
            <Link to={`/p/${slug}`}>Labeling</Link>
            {rank >= (roleRank.viewer as number) && <Link to={`/p/${slug}/datasets`}>Datasets</Link>}
            {rank >= (roleRank.viewer as number) && <Link to={`/p/${slug}/knowledge`}>Knowledge</Link>}
            {rank >= (roleRank.viewer as number) && <Link to={`/p/${slug}/features`}>Features</Link>}
            {rank >= (roleRank.viewer as number) && <Link to={`/p/${slug}/training`}>Training</Link>}
          </nav>
        )}
        <span className="who">{me.user.displayName || me.user.userName}{me.user.isAdmin ? ' (admin)' : ''}</span>
        <Link to="/tokens">API tokens</Link>
        <button type="button" onClick={() => void session.signOut()}>Sign out</button>
      </header>
      <main className="content"><Page path={path} rank={rank} /></main>
    </div>
  );
}

function Page({ path, rank }: { path: string; rank: number }) {
  let m = match('/p/:slug/labeling/:id/work', path);
  if (m) return <WorkbenchPage slug={m.slug as string} labelingId={m.id as string} />;
  m = match('/p/:slug/labeling/:id/review', path);
  if (m) return rank >= (roleRank.reviewer as number) ? <ReviewQueue slug={m.slug as string} labelingId={m.id as string} /> : <Forbidden />;
  m = match('/p/:slug/labeling/:id', path);
  if (m) return rank >= (roleRank.reviewer as number) ? <Dashboard slug={m.slug as string} labelingId={m.id as string} /> : <Forbidden />;
  m = match('/p/:slug/datasets/:dataset/versions/:version', path);
  if (m) return rank >= (roleRank.viewer as number) ? <VersionPage slug={m.slug as string} dataset={m.dataset as string} version={m.version as string} /> : <Forbidden />;
  m = match('/p/:slug/datasets/:dataset', path) ?? match('/p/:slug/datasets', path);
  if (m) return <Datasets key={m.slug} slug={m.slug as string} dataset={m.dataset} canWrite={rank >= (roleRank.manager as number)} />;
  m = match('/p/:slug/knowledge/:kb/chat/:session', path) ?? match('/p/:slug/knowledge/:kb/chat', path);
  if (m) return rank >= (roleRank.viewer as number) ? <Chat key={`${m.slug}/${m.kb}`} slug={m.slug as string} kb={m.kb as string} session={m.session} /> : <Forbidden />;
  m = match('/p/:slug/knowledge/:kb', path);
  if (m) return rank >= (roleRank.viewer as number)
    ? <KnowledgeBasePage key={`${m.slug}/${m.kb}`} slug={m.slug as string} kb={m.kb as string} canWrite={rank >= (roleRank.annotator as number)} canManage={rank >= (roleRank.manager as number)} />
    : <Forbidden />;
  m = match('/p/:slug/knowledge', path);
  if (m) return rank >= (roleRank.viewer as number) ? <KnowledgeBases key={m.slug} slug={m.slug as string} canCreate={rank >= (roleRank.manager as number)} /> : <Forbidden />;
  m = match('/p/:slug/features/new', path);
  if (m) return rank >= (roleRank.manager as number) ? <NewPipeline key={m.slug} slug={m.slug as string} /> : <Forbidden />;
  m = match('/p/:slug/features/pipelines/:name', path);
  if (m) return rank >= (roleRank.viewer as number)
    ? <PipelinePage key={`${m.slug}/${m.name}`} slug={m.slug as string} name={m.name as string} canWrite={rank >= (roleRank.manager as number)} />
    : <Forbidden />;
  m = match('/p/:slug/features', path);
  if (m) return rank >= (roleRank.viewer as number) ? <Pipelines key={m.slug} slug={m.slug as string} canWrite={rank >= (roleRank.manager as number)} /> : <Forbidden />;
  m = match('/p/:slug/training/jobs/:id', path);
  if (m) return rank >= (roleRank.viewer as number) ? <JobPage key={`${m.slug}/${m.id}`} slug={m.slug as string} id={m.id as string} canManage={rank >= (roleRank.manager as number)} /> : <Forbidden />;
  m = match('/p/:slug/training/compare/:ids', path);
  if (m) return rank >= (roleRank.viewer as number) ? <Compare slug={m.slug as string} ids={(m.ids as string).split(',').filter(Boolean)} /> : <Forbidden />;
  m = match('/p/:slug/training/models/:model', path);
  if (m) return rank >= (roleRank.viewer as number) ? <ModelPage key={`${m.slug}/${m.model}`} slug={m.slug as string} model={m.model as string} canManage={rank >= (roleRank.manager as number)} /> : <Forbidden />;
  m = match('/p/:slug/training/models', path);
  if (m) return rank >= (roleRank.viewer as number) ? <Models key={m.slug} slug={m.slug as string} /> : <Forbidden />;
  m = match('/p/:slug/training', path);
  if (m) return rank >= (roleRank.viewer as number) ? <Jobs key={m.slug} slug={m.slug as string} canManage={rank >= (roleRank.manager as number)} /> : <Forbidden />;
  if (path === '/tokens') return <Tokens />;
  m = match('/p/:slug', path);
  if (m) return <ProjectHome slug={m.slug as string} rank={rank} />;
  if (path === '/') return <p>Choose a project above. Ask a manager to add you to one if the list is empty.</p>;
  return <p>Nothing here. <Link to="/">Home</Link></p>;
}

function Forbidden() {
  return <p role="alert">Your role in this project does not allow this page.</p>;
}
