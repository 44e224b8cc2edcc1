/**
 * The files `foresight generate` writes and their columns, in order. The first six are the ingestion
 * files; ground_truth.csv and dirty_rows.csv are for evaluation and tests and must never be ingested.
 */
export const OUTPUT_FILES = {
  customers: {
    fileName: 'customers.csv',
    columns: ['customer_id', 'email', 'first_name', 'country', 'signup_at', 'acquisition_channel', 'marketing_opt_in'],
  },
  identities: { fileName: 'identities.csv', columns: ['source', 'external_id', 'email', 'customer_id'] },
  orders: {
    fileName: 'orders.csv',
    columns: ['order_id', 'customer_id', 'ordered_at', 'amount', 'currency', 'discount_amount', 'channel', 'status'],
  },
  orderItems: { fileName: 'order_items.csv', columns: ['order_id', 'sku', 'category', 'quantity', 'unit_price'] },
  returns: { fileName: 'returns.csv', columns: ['return_id', 'order_id', 'customer_id', 'returned_at', 'amount'] },
  sessions: {
    fileName: 'sessions.csv',
    columns: ['session_id', 'customer_id', 'started_at', 'duration_s', 'page_views', 'device'],
  },
  groundTruth: {
    fileName: 'ground_truth.csv',
    columns: [
      'customer_id',
      'latent_type',
      'dropout_at',
      'alive_at_export',
      'future_orders',
      'future_net_revenue',
      'first_future_order_at',
      'purchases_per_year',
      'mean_order_value',
      'return_propensity',
    ],
  },
  dirtyRows: { fileName: 'dirty_rows.csv', columns: ['file', 'row', 'kind', 'column', 'original_value'] },
} as const;

export type OutputFile = keyof typeof OUTPUT_FILES;
