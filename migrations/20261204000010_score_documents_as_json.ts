import type { Knex } from 'knex';

/**
 * customer_risk_scores' four documents (churn_drivers, rfm, coverage, model_versions) become `json` instead of
 * `jsonb`. They are written once by COPY, a million rows a run, and read whole (the profile API, the console); only the
 * insights query looks inside one (json_array_elements of the drivers), and nothing compares, indexes or groups them.
 * jsonb converts every document to its binary form on the way in: on this machine's 55,665-row COPY that was 27 µs a
 * row against 16 µs with json, which only checks the text is valid JSON (bench/RESULTS.md, "Scoring at 20,000
 * customers per second"). The values are unchanged (jsonb's text, which is valid JSON, becomes the stored text); jsonb
 * ordered keys its own way, json keeps the writer's order.
 *
 * customer_profiles_latest selects these columns, and a view's column cannot change type: it is dropped and created
 * again from its own definition, with its grants (read-only for both roles, migration 20261125000006).
 */
/** The document columns, with the empty document each defaults to (rfm has no default). */
const DOCUMENTS = [
  { column: 'churn_drivers', empty: '[]' },
  { column: 'rfm', empty: null },
  { column: 'coverage', empty: '{}' },
  { column: 'model_versions', empty: '{}' },
];
const VIEW = 'customer_profiles_latest';

async function retype(knex: Knex, type: 'json' | 'jsonb'): Promise<void> {
  const definition = (await knex.raw<{ rows: { definition: string }[] }>(`select pg_get_viewdef(?::regclass) as definition`, [VIEW]))
    .rows[0]!.definition;
  await knex.raw(`drop view ${VIEW}`);
  // One statement, so the table is rewritten once, not once per column. A default cannot be cast to the new type
  // implicitly: each column's is dropped and set again around the change.
  const actions = DOCUMENTS.flatMap(({ column, empty }) => [
    ...(empty ? [`alter column ${column} drop default`] : []),
    `alter column ${column} type ${type} using ${column}::${type}`,
    ...(empty ? [`alter column ${column} set default '${empty}'::${type}`] : []),
  ]);
  await knex.raw(`alter table customer_risk_scores ${actions.join(', ')}`);
  await knex.raw(`create view ${VIEW} as ${definition}`);
  // Default privileges would give the worker role more on a new view than it had: read-only, as before.
  await knex.raw(`revoke all on ${VIEW} from foresight_api, foresight_worker`);
  await knex.raw(`grant select on ${VIEW} to foresight_api, foresight_worker`);
}

export async function up(knex: Knex): Promise<void> {
  await retype(knex, 'json');
}

export async function down(knex: Knex): Promise<void> {
  await retype(knex, 'jsonb');
}
