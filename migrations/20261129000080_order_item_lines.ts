import type { Knex } from 'knex';
import { ConflictError } from '../lib/errors';

/**
 * Order lines keyed by their number within the order, not by SKU: real invoices list one SKU on several lines (another
 * quantity or price), and keyed by SKU all but the first were rejected as conflicting duplicates. Existing lines are
 * numbered 1, 2, 3… per order in SKU order (the old key's order).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table order_items add column line_no integer');
  await knex.raw(`
    update order_items i set line_no = n.line_no
      from (select order_id, sku, row_number() over (partition by order_id order by sku) as line_no from order_items) n
     where i.order_id = n.order_id and i.sku = n.sku`);
  await knex.raw('alter table order_items alter column line_no set not null');
  await knex.raw('alter table order_items add constraint order_items_line_no_positive check (line_no >= 1)');
  await knex.raw('alter table order_items drop constraint order_items_pkey');
  await knex.raw('alter table order_items add constraint order_items_pkey primary key (order_id, line_no)');
}

/** Refuses while an order has one SKU on two lines: the old key cannot hold them, and nothing is deleted. */
export async function down(knex: Knex): Promise<void> {
  const repeated = await knex.raw<{ rows: { order_id: string; sku: string }[] }>(
    'select order_id, sku from order_items group by order_id, sku having count(*) > 1 limit 1',
  );
  const first = repeated.rows[0];
  if (first) {
    throw new ConflictError(
      `cannot roll back order_item_lines: order ${first.order_id} lists SKU ${first.sku} on several lines, which the old key (order_id, sku) cannot hold`,
    );
  }
  await knex.raw('alter table order_items drop constraint order_items_pkey');
  await knex.raw('alter table order_items add constraint order_items_pkey primary key (order_id, sku)');
  await knex.raw('alter table order_items drop constraint order_items_line_no_positive');
  await knex.raw('alter table order_items drop column line_no');
}
