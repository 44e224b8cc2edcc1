/**
 * One simulated customer as the shop's export sees it at the export instant, as CSV fields per file, plus
 * their ground-truth row. Only events before the export are exported, and an order's status is the one
 * it had then: a refund that happens after the export leaves the order 'completed'.
 *
 * Money: amount = sum over the order's items of quantity × unit_price − discount_amount, exactly to the
 * cent (amount is what the customer paid); a return's amount is at most its order's amount.
 */
import { formatTimestamp, SECONDS_PER_DAY } from './calendar';
import type { IdentityRow } from './identities';
import type { CustomerProfile } from './profile';
import type { Shop } from './shop';
import type { CustomerLife } from './simulate';

export interface CustomerRows {
  readonly customer: string[];
  readonly identities: string[][];
  readonly orders: string[][];
  readonly orderItems: string[][];
  readonly returns: string[][];
  readonly sessions: string[][];
  readonly groundTruth: string[];
}

/** Integer cents as a decimal with two places. */
function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  const fraction = absolute % 100;
  return `${sign}${Math.floor(absolute / 100)}.${fraction < 10 ? '0' : ''}${fraction}`;
}

const pad = (value: number, digits: number): string => String(value).padStart(digits, '0');

export function exportRows(profile: CustomerProfile, identities: IdentityRow[], life: CustomerLife, shop: Shop): CustomerRows {
  const zone = profile.country.zone;
  const timestamp = (second: number): string => formatTimestamp(second, zone);
  const { customerId, idNumber } = profile;
  const signupSecond = Math.floor(profile.signupDay * SECONDS_PER_DAY);

  const orders: string[][] = [];
  const orderItems: string[][] = [];
  const returns: string[][] = [];
  let futureOrders = 0;
  let futureNetCents = 0;
  let firstFutureSecond = -1;
  life.orders.forEach((order, i) => {
    const orderId = `O${idNumber}-${pad(i + 1, 3)}`;
    if (order.orderedSecond >= shop.exportSecond) {
      // Beyond the export: ground truth only. Returns count whenever they happen.
      if (order.orderedSecond < shop.horizonEndSecond && !order.cancelled) {
        futureOrders++;
        futureNetCents += order.amountCents - (order.refund?.amountCents ?? 0);
        if (firstFutureSecond < 0) firstFutureSecond = order.orderedSecond;
      }
      return;
    }
    const refundBeforeExport = order.refund !== null && order.refund.returnedSecond < shop.exportSecond ? order.refund : null;
    const status = order.cancelled ? 'cancelled' : refundBeforeExport?.full ? 'refunded' : 'completed';
    orders.push([
      orderId,
      customerId,
      timestamp(order.orderedSecond),
      formatCents(order.amountCents),
      shop.currency,
      formatCents(order.discountCents),
      order.channel,
      status,
    ]);
    for (const line of order.lines) {
      orderItems.push([orderId, line.sku.code, line.sku.category, String(line.quantity), formatCents(line.sku.priceCents)]);
    }
    if (refundBeforeExport) {
      returns.push([
        `R${idNumber}-${pad(i + 1, 3)}`,
        orderId,
        customerId,
        timestamp(refundBeforeExport.returnedSecond),
        formatCents(refundBeforeExport.amountCents),
      ]);
    }
  });

  const sessions = life.sessions.map((session, i) => [
    `S${idNumber}-${pad(i + 1, 4)}`,
    customerId,
    timestamp(session.startedSecond),
    String(session.durationSeconds),
    String(
      session.pageViews * (shop.pageViewsDrift && session.startedSecond >= shop.pageViewsDrift.fromSecond ? shop.pageViewsDrift.factor : 1),
    ),
    session.device,
  ]);

  const dropoutSecond = Math.floor(life.dropoutDay * SECONDS_PER_DAY);
  return {
    customer: [
      customerId,
      profile.email,
      profile.firstName,
      profile.country.code,
      timestamp(signupSecond),
      profile.acquisitionChannel,
      String(profile.marketingOptIn),
    ],
    identities,
    orders,
    orderItems,
    returns,
    sessions,
    groundTruth: [
      customerId,
      profile.type,
      dropoutSecond < shop.horizonEndSecond ? timestamp(dropoutSecond) : '',
      String(dropoutSecond >= shop.exportSecond),
      String(futureOrders),
      formatCents(futureNetCents),
      firstFutureSecond < 0 ? '' : timestamp(firstFutureSecond),
      profile.purchasesPerYear.toFixed(3),
      profile.meanOrderValue.toFixed(2),
      profile.returnPropensity.toFixed(4),
    ],
  };
}
