import { useEffect, useState } from 'react';
import { api, problemMessage, type Schemas } from '../api/client';
import { Link } from '../app/router';
import { useLabelingProject } from '../labeling/useProject';
import { BarChart } from './BarChart';
import { ConsensusView } from './Consensus';
import { ThroughputCharts } from './Throughput';

type Quality = Schemas['QualityReportDto'];

/** The export formats that can hold a configuration kind's results (the server refuses the others with 422). */
export function exportFormats(kind: string | undefined): { format: string; label: string }[] {
  const common = [{ format: 'labelstudio', label: 'Label Studio' }, { format: 'jsonl', label: 'JSONL' }];
  switch (kind) {
    case 'BoundingBoxes': return [{ format: 'coco', label: 'COCO' }, { format: 'yolo', label: 'YOLO' }, { format: 'voc', label: 'Pascal VOC' }, ...common];
    case 'Polygons': return [{ format: 'coco', label: 'COCO' }, ...common];
    case 'NamedEntities': return [{ format: 'conll', label: 'CoNLL' }, ...common];
    case 'ImageClassification':
    case 'TextClassification': return [{ format: 'csv', label: 'CSV' }, ...common];
    default: return common;
  }
}

/** The kinds /consensus answers for (it refuses the others with 422). */
const consensusKinds = ['TextClassification', 'ImageClassification', 'BoundingBoxes', 'NamedEntities'];

/** A labeling project at a glance: progress, agreement, gold accuracy and throughput from /quality, and the consensus results. */
export function Dashboard({ slug, labelingId }: { slug: string; labelingId: string }) {
  const { project, error } = useLabelingProject(slug, labelingId);
  const [quality, setQuality] = useState<Quality | null>(null);
  const [qualityError, setQualityError] = useState<string | null>(null);

  useEffect(() => {
    api.GET('/api/projects/{project}/labeling/{labeling}/quality', { params: { path: { project: slug, labeling: labelingId } } })
      .then(({ data, error: e }) => data ? setQuality(data) : setQualityError(problemMessage(e)))
      .catch(e => setQualityError(problemMessage(e)));
  }, [slug, labelingId]);

  if (error) return <p role="alert">{error}</p>;
  if (!project) return <p className="loading">Loading…</p>;
  const p = project.progress;
  const agreement = quality?.agreement;
  const kind = (project.config as { kind?: string } | undefined)?.kind;
  return (
    <section className="dashboard">
      <h1>{project.name}</h1>
      <p><Link to={`/p/${slug}/labeling/${labelingId}/work`}>Label</Link> · <Link to={`/p/${slug}/labeling/${labelingId}/review`}>Review queue</Link></p>
      {p && (
        <BarChart title="Progress" max={Math.max(1, p.tasks)} format={v => String(v)} bars={[
          { label: 'Tasks', value: p.tasks }, { label: 'Completed', value: p.completedTasks }, { label: 'Annotations', value: p.annotations },
          { label: 'Skipped', value: p.skipped }, { label: 'Pending review', value: p.pendingReviews }, { label: 'Gold tasks', value: p.goldTasks },
        ]} />
      )}
      <nav aria-label="Export" className="export">
        Export:{' '}
        {exportFormats(kind).map(({ format, label }, i) => (
          <span key={format}>{i > 0 && ' · '}
            <a href={`/api/projects/${encodeURIComponent(slug)}/labeling/${labelingId}/export?format=${format}`} download>{label}</a>
          </span>
        ))}
      </nav>
      {qualityError && <p role="alert">{qualityError}</p>}
      {quality && (
        <>
          {agreement && (
            <BarChart title="Agreement" max={1} bars={[
              // A statistic is null until some task has two answers; such bars are left out.
              ...[{ label: 'Fleiss κ', value: agreement.fleissKappa }, { label: 'Krippendorff α', value: agreement.krippendorffAlpha },
                ...Object.entries(agreement.fleissKappaPerLabel ?? {}).map(([label, value]) => ({ label: `κ ${label}`, value }))]
                .flatMap(({ label, value }) => typeof value === 'number' ? [{ label, value }] : []),
            ]} />
          )}
          <BarChart title={quality.kind.toLowerCase().includes('box') ? 'Pairwise mean IoU' : 'Pairwise agreement'} max={1}
            bars={quality.pairScores.map(s => ({ label: `${s.a.slice(0, 6)} · ${s.b.slice(0, 6)}`, value: s.score, note: `(${s.items})` }))} />
          <BarChart title="Gold accuracy per annotator" max={1}
            bars={quality.gold.map(g => ({ label: g.annotator.slice(0, 8), value: g.accuracy, note: `${g.verdict} (${g.goldTasks} gold)` }))} />
          <BarChart title="Pre-label acceptance per model" max={1}
            bars={quality.preLabels.models.map(m => ({
              label: m.modelVersion ? `${m.model} ${m.modelVersion}` : m.model, value: m.acceptanceRate, note: `(${m.accepted} of ${m.annotations} kept)`,
            }))} />
          <BarChart title="Median time per task" format={v => `${(v / 1000).toFixed(1)} s`}
            max={Math.max(quality.preLabels.medianMsWithPreLabel ?? 0, quality.preLabels.medianMsWithout ?? 0)}
            bars={[
              { label: 'with pre-label', value: quality.preLabels.medianMsWithPreLabel, note: `(${quality.preLabels.annotations})` },
              { label: 'without', value: quality.preLabels.medianMsWithout, note: `(${quality.preLabels.annotationsWithout})` },
            ].flatMap(b => typeof b.value === 'number' ? [{ ...b, value: b.value }] : [])} />
          <ThroughputCharts annotators={quality.annotators} />
        </>
      )}
      {consensusKinds.includes(kind ?? '') && <ConsensusView slug={slug} labelingId={labelingId} classification={kind?.endsWith('Classification') ?? false} />}
    </section>
  );
}
