import type { Knex } from 'knex';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { DAYS_PER_MONTH, DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_CLV_HORIZON_MONTHS, MS_PER_DAY } from '../lib/horizons';
import { FEATURE_VERSION } from '../features/catalog';
import { clvSummary } from '../features/clv-summary';
import { featuresAsOf } from '../features/features-as-of';
import { ensureFeatureSnapshot, loadFeatureMatrix } from '../features/snapshots';
import { loadChurnLabels } from '../features/churn-labels';
import { ServedChurnModel } from '../models/churn/candidates';
import { changedLabels, topOverlap } from '../models/evaluation/agreement';
import { brierScore, expectedCalibrationError, rocAuc } from '../models/evaluation/classification';
import { categoricalPsi, psi } from '../models/evaluation/psi';
import { predictedToActualRatio, spearmanCorrelation, valueCaptureInTop } from '../models/evaluation/regression';
import { ClvServingBundle } from '../registry/clv-serving-bundle';
import { getChampion, getModel, type RegisteredModel } from '../registry/model-registry';
import { alignSummary, loadProfileModels, predictProfiles, type ProfileColumns, type ProfileModels } from './predict-profiles';
import { latestEventAt } from './scoring-runs';
import { shadowReportToMarkdown, type MetricDelta, type ShadowReport } from './shadow-report';

export interface ShadowEvaluationInput {
  candidateId: number;
  /** The evaluation's key (the shadow workflow's id): evaluating again under it replaces its report. */
  evaluationRun: string;
  /** The snapshot to score on; default the candidate's training as-of. */
  asOf?: Date;
}

export interface StoredShadowReport {
  reportId: number;
  evaluationRun: string;
  report: ShadowReport;
  markdown: string;
  createdAt: string;
}

const KINDS = ['churn', 'clv', 'segments'] as const;
type Kind = (typeof KINDS)[number];
const CHUNK = 5000;

/**
 * Scores a candidate and the champion of its kind on the same snapshot, keeps the candidate's scores in shadow_scores
 * (never served), and stores the comparison (shadow_reports): metric deltas on the latest cutoff whose outcomes are
 * known, the shift of the score distribution, rank agreement, label changes and the overlap of the top lists.
 */
export async function evaluateCandidate(db: Knex, input: ShadowEvaluationInput): Promise<StoredShadowReport> {
  const candidate = await getModel(db, input.candidateId);
  const kind = candidate.kind as Kind;
  if (!KINDS.includes(kind))
    throw new ValidationError(`Model ${candidate.modelId} is of kind ${candidate.kind}, not churn, clv or segments`, 'candidateId');
  if (candidate.status !== 'candidate' && candidate.status !== 'shadow')
    throw new ConflictError(`Model ${candidate.modelId} is ${candidate.status}: only a candidate or shadow model is evaluated in shadow`);
  const champions = {} as ProfileModels;
  for (const k of KINDS) {
    const champion = await getChampion(db, k);
    if (!champion) throw new NotFoundError(`No ${k} champion: a shadow evaluation compares with the champions (train first)`);
    champions[k] = champion;
  }
  const champion = champions[kind];
  const asOfText = input.asOf?.toISOString() ?? candidate.trainingTo;
  if (!asOfText) throw new ValidationError(`Model ${candidate.modelId} has no training as-of: give the snapshot's as-of`, 'asOf');
  const asOf = new Date(asOfText);

  await ensureFeatureSnapshot(db, asOf);
  const matrix = await loadFeatureMatrix(db, asOf, FEATURE_VERSION);
  if (matrix.nrow === 0) throw new ValidationError(`No customer had bought by ${asOf.toISOString()}: nothing to score`, 'asOf');
  const common = { matrix, clvSummary: await clvSummary(db, { asOf }), asOf, latestEventAt: await latestEventAt(db, asOf) };
  const predict = (models: ProfileModels) => {
    const loaded = loadProfileModels(models);
    try {
      return predictProfiles({ ...common, models: loaded });
    } finally {
      loaded.dispose();
    }
  };
  const byChampion = predict(champions);
  const byCandidate = predict({ ...champions, [kind]: candidate });

  await writeShadowScores(db, candidate, byCandidate);
  let backtest: ShadowReport['backtest'] = null;
  let backtestSkipped: string | null = null;
  if (kind === 'segments') backtestSkipped = 'segments predict no outcome';
  else {
    try {
      backtest = kind === 'churn' ? await churnBacktest(db, candidate, champion, asOf) : await clvBacktest(db, candidate, champion, asOf);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      backtestSkipped = err.message;
    }
  }
  const report: ShadowReport = {
    candidate: { modelId: candidate.modelId, kind, version: candidate.version, trainingTo: candidate.trainingTo },
    champion: { modelId: champion.modelId, version: champion.version, trainingTo: champion.trainingTo },
    asOf: asOf.toISOString(),
    customers: matrix.nrow,
    backtest,
    backtestSkipped,
    shift: shift(kind, byChampion, byCandidate),
  };
  const markdown = shadowReportToMarkdown(report);
  const [row] = (await db('shadow_reports')
    .insert({
      candidate_id: candidate.modelId,
      champion_id: champion.modelId,
      kind,
      evaluation_run: input.evaluationRun,
      as_of: asOf,
      report: JSON.stringify(report),
      markdown,
    })
    .onConflict(['candidate_id', 'evaluation_run'])
    .merge(['champion_id', 'as_of', 'report', 'markdown', 'created_at'])
    .returning(['report_id', 'created_at'])) as { report_id: string; created_at: Date }[];
  return {
    reportId: Number(row!.report_id),
    evaluationRun: input.evaluationRun,
    report,
    markdown,
    createdAt: row!.created_at.toISOString(),
  };
}

/** The newest finished shadow report of a candidate, if any. */
export async function latestShadowReport(db: Knex, candidateId: number): Promise<StoredShadowReport | undefined> {
  const row = (await db('shadow_reports')
    .where({ candidate_id: candidateId })
    .orderBy('created_at', 'desc')
    .orderBy('report_id', 'desc')
    .first()) as { report_id: string; evaluation_run: string; report: ShadowReport; markdown: string; created_at: Date } | undefined;
  if (!row) return undefined;
  return {
    reportId: Number(row.report_id),
    evaluationRun: row.evaluation_run,
    report: row.report,
    markdown: row.markdown,
    createdAt: row.created_at.toISOString(),
  };
}

/** The candidate's own output per customer: what it would serve, replacing its earlier shadow scores of this as-of. */
async function writeShadowScores(db: Knex, candidate: RegisteredModel, p: ProfileColumns): Promise<void> {
  const kind = candidate.kind as Kind;
  const score = (i: number): number | null =>
    kind === 'churn' ? p.churnProbability[i]! : kind === 'clv' ? finiteOrNull(p.clv.expectedNetRevenue[i]!) : null;
  const label = (i: number): string | null => (kind === 'churn' ? p.riskBand[i]! : kind === 'segments' ? p.rfm[i]!.segment : null);
  const asOf = p.asOf.toISOString();
  await db.transaction(async (trx) => {
    await trx('shadow_scores').where({ model_id: candidate.modelId, as_of: asOf }).delete();
    for (let start = 0; start < p.customerIds.length; start += CHUNK) {
      const rows = Array.from({ length: Math.min(CHUNK, p.customerIds.length - start) }, (_, k) => start + k);
      await trx.raw(
        `insert into shadow_scores (model_id, as_of, customer_id, score, label)
         select ?::bigint, ?::timestamptz, t.customer_id, t.score, t.label from unnest(?::text[], ?::float8[], ?::text[]) as t(customer_id, score, label)`,
        [candidate.modelId, asOf, rows.map((i) => p.customerIds[i]!), rows.map(score), rows.map(label)] as unknown as Knex.RawBinding[],
      );
    }
  });
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/** Spearman's correlation, or null when one side is constant (undefined). */
function rankAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  try {
    return spearmanCorrelation(Float64Array.from(a), Float64Array.from(b));
  } catch (err) {
    if (err instanceof ValidationError) return null;
    throw err;
  }
}

function shift(kind: Kind, champion: ProfileColumns, candidate: ProfileColumns): ShadowReport['shift'] {
  if (kind === 'segments') {
    const segmentsOf = (p: ProfileColumns) => p.rfm.map((r) => r.segment as string);
    const counts = (labels: string[]) => labels.reduce((m, s) => m.set(s, (m.get(s) ?? 0) + 1), new Map<string, number>());
    const [a, b] = [segmentsOf(champion), segmentsOf(candidate)];
    return { psi: categoricalPsi(counts(a), counts(b)), rankAgreement: null, labelChanges: changedLabels(a, b), topDecileOverlap: null };
  }
  const scores = (p: ProfileColumns) =>
    kind === 'churn' ? p.churnProbability : Float64Array.from(p.clv.expectedNetRevenue, (v) => (Number.isFinite(v) ? v : 0));
  const [a, b] = [scores(champion), scores(candidate)];
  return {
    psi: psi(a, b),
    rankAgreement: rankAgreement(a, b),
    labelChanges: kind === 'churn' ? changedLabels(champion.riskBand, candidate.riskBand) : null,
    topDecileOverlap: topOverlap(a, b, 0.1),
  };
}

const delta = (metric: string, better: MetricDelta['better'], champion: number, candidate: number): MetricDelta => ({
  metric,
  champion,
  candidate,
  delta: candidate - champion,
  better,
});

/** AUC, ECE and Brier of both churn models at asOf − H, with the outcomes of (asOf − H, asOf]. */
async function churnBacktest(
  db: Knex,
  candidate: RegisteredModel,
  champion: RegisteredModel,
  asOf: Date,
): Promise<ShadowReport['backtest']> {
  const horizonDays = (candidate.parameters.horizonDays as number | undefined) ?? DEFAULT_CHURN_HORIZON_DAYS;
  const cutoff = new Date(asOf.getTime() - horizonDays * MS_PER_DAY);
  await ensureFeatureSnapshot(db, cutoff);
  const matrix = await loadFeatureMatrix(db, cutoff, FEATURE_VERSION);
  if (matrix.nrow === 0) throw new ValidationError(`No customer had bought by the backtest cutoff ${cutoff.toISOString()}`, 'asOf');
  const y = await loadChurnLabels(db, cutoff, horizonDays, matrix.customerIds, { dataAsOf: asOf });
  // BG/NBD's P(no purchase) serves from the customers' purchase histories at the cutoff.
  const histories = alignSummary(await clvSummary(db, { asOf: cutoff }), matrix.customerIds);
  const probabilities = (m: RegisteredModel) => {
    const model = ServedChurnModel.fromJSON(m.artifact);
    try {
      return model.predictProba(matrix, histories);
    } finally {
      model.dispose();
    }
  };
  const [a, b] = [probabilities(champion), probabilities(candidate)];
  return {
    cutoff: cutoff.toISOString(),
    horizonDays,
    customers: matrix.nrow,
    metrics: [
      delta('ROC AUC', 'higher', rocAuc(y, a), rocAuc(y, b)),
      delta('Expected calibration error', 'lower', expectedCalibrationError(y, a), expectedCalibrationError(y, b)),
      delta('Brier score', 'lower', brierScore(y, a), brierScore(y, b)),
    ],
  };
}

/** Spearman, top-decile capture and total ÷ actual of both CLV models at asOf − H, with the net revenue of (asOf − H, asOf]. */
async function clvBacktest(db: Knex, candidate: RegisteredModel, champion: RegisteredModel, asOf: Date): Promise<ShadowReport['backtest']> {
  const horizonMonths = (candidate.parameters.horizonMonths as number | undefined) ?? DEFAULT_CLV_HORIZON_MONTHS;
  const horizonDays = Math.round(horizonMonths * DAYS_PER_MONTH);
  const cutoff = new Date(asOf.getTime() - horizonDays * MS_PER_DAY);
  const summary = await clvSummary(db, { asOf: cutoff, holdoutDays: horizonDays });
  if (summary.customerIds.length === 0)
    throw new ValidationError(`No customer had bought by the backtest cutoff ${cutoff.toISOString()}`, 'asOf');
  const actual = summary.holdout!.netRevenue;
  const features = await featuresAsOf(db, cutoff, summary.customerIds);
  const forecast = (m: RegisteredModel) => {
    const bundle = ClvServingBundle.fromJSON(m.artifact);
    try {
      return Float64Array.from(bundle.predict(summary, features).expectedNetRevenue, (v) => (Number.isFinite(v) ? v : 0));
    } finally {
      bundle.dispose();
    }
  };
  const [a, b] = [forecast(champion), forecast(candidate)];
  return {
    cutoff: cutoff.toISOString(),
    horizonDays,
    customers: summary.customerIds.length,
    metrics: [
      delta('Spearman', 'higher', spearmanCorrelation(actual, a), spearmanCorrelation(actual, b)),
      delta('Top-decile capture', 'higher', valueCaptureInTop(actual, a, 0.1), valueCaptureInTop(actual, b, 0.1)),
      delta('Total ÷ actual', 'closerToOne', predictedToActualRatio(actual, a), predictedToActualRatio(actual, b)),
    ],
  };
}
