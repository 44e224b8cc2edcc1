import type { Knex } from 'knex';
import type { ExperimentCustomer } from '../datagen/offer-response';
import { TREATED_STATUSES } from './impact';

/** Fallback spend per order (cents) for a customer with neither an expected spend nor a completed order. */
const FALLBACK_SPEND_CENTS = 5000;

/**
 * The customers of one policy evaluation's experiment, as a response simulation needs them: treated (the action went
 * ahead) or control (held out), when decided, P(churn) and expected spend per order from the scores the decision read
 * (else their average completed order). Customers whose action waits for a person, was refused or suppressed are not
 * in the experiment.
 */
export async function experimentCustomers(db: Knex, evaluationId: number): Promise<ExperimentCustomer[]> {
  const rows = (
    await db.raw<{ rows: { customer_id: string; holdout: boolean; decided_at: Date; churn: number; spend_cents: string }[] }>(
      `select distinct on (a.customer_id) a.customer_id, a.holdout, a.decided_at, s.churn_probability as churn,
              round(100 * coalesce(s.expected_spend_per_order,
                (select avg(o.amount) from orders o where o.customer_id = a.customer_id and o.status = 'completed'),
                :fallback / 100.0))::text as spend_cents
         from actions a
         join decisions d on d.decision_id = a.decision_id
         join customer_risk_scores s on s.customer_id = a.customer_id and s.run_id = d.scoring_run_id
        where d.evaluation_id = :evaluationId and (a.holdout or a.status = any(:treated))
          and s.churn_probability is not null
        order by a.customer_id, a.action_id`,
      { evaluationId, fallback: FALLBACK_SPEND_CENTS, treated: [...TREATED_STATUSES] },
    )
  ).rows;
  return rows.map((r) => ({
    customerId: r.customer_id,
    arm: r.holdout ? ('control' as const) : ('treated' as const),
    decidedAt: r.decided_at,
    churnProbability: r.churn,
    spendPerOrderCents: Math.max(1, Number(r.spend_cents)),
  }));
}

/**
 * Every other customer the evaluation's scoring run scored (no action, or one that waits for a person, was refused or
 * suppressed): untouched by the experiment, decided at the evaluation's time. A simulated horizon must cover them too,
 * or their missing orders would read as churn wherever outcomes are measured (calibration over time, threshold costs).
 */
export async function untouchedCustomers(db: Knex, evaluationId: number): Promise<ExperimentCustomer[]> {
  const rows = (
    await db.raw<{ rows: { customer_id: string; decided_at: Date; churn: number; spend_cents: string }[] }>(
      `with evaluation as (
         select d.scoring_run_id as run_id, max(a.decided_at) as decided_at
           from decisions d join actions a on a.decision_id = d.decision_id
          where d.evaluation_id = :evaluationId group by d.scoring_run_id),
       experiment as (
         select a.customer_id from actions a join decisions d on d.decision_id = a.decision_id
          where d.evaluation_id = :evaluationId and (a.holdout or a.status = any(:treated)))
       select s.customer_id, e.decided_at, s.churn_probability as churn,
              round(100 * coalesce(s.expected_spend_per_order,
                (select avg(o.amount) from orders o where o.customer_id = s.customer_id and o.status = 'completed'),
                :fallback / 100.0))::text as spend_cents
         from evaluation e join customer_risk_scores s on s.run_id = e.run_id
        where s.churn_probability is not null
          and not exists (select 1 from experiment x where x.customer_id = s.customer_id)
        order by s.customer_id`,
      { evaluationId, fallback: FALLBACK_SPEND_CENTS, treated: [...TREATED_STATUSES] },
    )
  ).rows;
  return rows.map((r) => ({
    customerId: r.customer_id,
    arm: 'untouched' as const,
    decidedAt: r.decided_at,
    churnProbability: r.churn,
    spendPerOrderCents: Math.max(1, Number(r.spend_cents)),
  }));
}
