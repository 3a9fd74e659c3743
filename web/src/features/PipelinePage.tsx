import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link } from '../app/router';
import { dagFromSpec } from './dag';
import { pipelinesPage } from './links';
import { OperatorCatalogue } from './OperatorCatalogue';
import { PipelineGraph } from './PipelineGraph';
import { RunHistory } from './RunHistory';
import { Schedules } from './Schedules';
import { SchemaPanel, stepViews } from './SchemaPanel';
import { SpecEditor } from './SpecEditor';
import { toYaml } from './yaml';

const previewLimit = 1000, previewShow = 10;

/** One pipeline: its DAG, a step's schemas and preview rows on click, its runs, its spec to edit, and its schedules. */
export function PipelinePage({ slug, name, canWrite }: { slug: string; name: string; canWrite: boolean }) {
  const [pipeline, setPipeline] = useState<Schemas['PipelineDto'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [preview, setPreview] = useState<{ version: number; report: Schemas['PreviewReport'] } | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [tab, setTab] = useState<'graph' | 'spec' | 'schedules'>('graph');

  useEffect(() => {
    api.GET('/api/projects/{project}/features/pipelines/{name}', { params: { path: { project: slug, name } } })
      .then(({ data, error: e }) => data ? setPipeline(data) : setError(problemMessage(e)))
      .catch(e => setError(problemMessage(e)));
  }, [slug, name]);

  const runPreview = useCallback(async (version: number) => {
    setPreviewing(true); setPreviewError(null);
    try {
      const { data, error: e } = await api.POST('/api/projects/{project}/features/pipelines/{name}/preview', {
        params: { path: { project: slug, name } }, body: { spec: null, limit: previewLimit, show: previewShow },
      });
      if (data) setPreview({ version, report: data }); else setPreviewError(e);
    } catch (x) {
      setPreviewError(x);
    } finally {
      setPreviewing(false);
    }
  }, [slug, name]);

  const select = (step: string) => {
    setSelected(step);
    if (pipeline && preview?.version !== pipeline.version && !previewing) void runPreview(pipeline.version);
  };

  const dag = useMemo(() => dagFromSpec(pipeline?.spec), [pipeline]);
  const views = useMemo(() => preview ? stepViews(preview.report) : null, [preview]);
  const order = useMemo(() => dag.nodes.filter(n => n.kind === 'step').map(n => n.id), [dag]);

  if (error) return <p role="alert">{error}</p>;
  if (!pipeline) return <p className="loading">Loading…</p>;
  const view = selected ? views?.get(selected) : undefined;
  return (
    <section className="features pipeline">
      <p><Link to={pipelinesPage(slug)}>← Pipelines</Link></p>
      <h1>{`${pipeline.name} v${pipeline.version}`}</h1>
      <div role="tablist" className="tabs">
        <button type="button" role="tab" aria-selected={tab === 'graph'} onClick={() => setTab('graph')}>Graph</button>
        <button type="button" role="tab" aria-selected={tab === 'spec'} onClick={() => setTab('spec')}>Spec</button>
        <button type="button" role="tab" aria-selected={tab === 'schedules'} onClick={() => setTab('schedules')}>Schedules</button>
      </div>
      {tab === 'graph' ? (
        <>
          <div className="graph-scroll"><PipelineGraph dag={dag} selected={selected} onSelect={select} /></div>
          {!selected && <p className="muted">Click a step to see its schemas and preview rows (fitted on the first {previewLimit.toLocaleString()} rows).</p>}
          {selected && previewing && <p className="loading">Previewing on the first {previewLimit.toLocaleString()} rows…</p>}
          {selected && previewError !== null && <p role="alert" className="error">{problemMessage(previewError)}</p>}
          {view && preview && (
            <>
              <p className="muted" data-testid="preview-inputs">{`Preview of v${preview.version}: `}{preview.report.inputs.map(i => `${i.name} = ${i.dataset} v${i.version} ${i.table} (${i.rows.toLocaleString()} rows read)`).join('; ')}</p>
              <SchemaPanel step={view} />
            </>
          )}
          <RunHistory key={pipeline.version} slug={slug} pipeline={pipeline.name} canRun={canWrite} order={order} />
        </>
      ) : tab === 'schedules' ? (
        <Schedules slug={slug} pipeline={pipeline.name} canWrite={canWrite} />
      ) : (
        <div className="editor-layout">
          <SpecEditor key={pipeline.version} slug={slug} existing={pipeline.name} initial={toYaml(pipeline.spec)} canWrite={canWrite}
            onSaved={p => { setPipeline(p); setPreview(null); setSelected(null); setTab('graph'); }} />
          <OperatorCatalogue slug={slug} />
        </div>
      )}
    </section>
  );
}
