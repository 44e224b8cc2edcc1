/**
 * One customer's life as a buy-till-you-die process: a first purchase at or soon after signup, repeat
 * purchases as a Poisson process (rate from the profile, shaped by the customer's rhythm and shopping
 * hours) until an exponential dropout time, simulated past the export to the end of the ground-truth
 * horizon. Each purchase gets lines, a discount, maybe a cancellation or a return; sessions lead up to
 * online purchases, and browsing thins out before the customer drops out: cleanly over the last 90 days
 * with the 'strong' signal, loosely and only for some customers with the 'realistic' one.
 *
 * Sessions are drawn after the orders, so neither session mode changes a customer's orders or ground truth.
 */
import { DAYS_PER_YEAR, hourActivity, MAX_HOUR_ACTIVITY, SECONDS_PER_DAY, type TimeZone } from './calendar';
import { pickSku, type Sku } from './catalog';
import { DEVICES, ORDER_CHANNELS, type CustomerProfile, type Device, type OrderChannel } from './profile';
import type { Rng } from './random';
import { drawRhythm, isSalePeriod, type Rhythm } from './rhythm';
import type { Shop } from './shop';

export interface OrderLine {
  readonly sku: Sku;
  readonly quantity: number;
}

export interface SimulatedReturn {
  readonly returnedSecond: number;
  readonly amountCents: number;
  /** The whole order was refunded (its status becomes 'refunded' once the refund has happened). */
  readonly full: boolean;
}

export interface SimulatedOrder {
  readonly orderedSecond: number;
  readonly channel: OrderChannel;
  readonly lines: readonly OrderLine[];
  /** Sum of quantity × unit price over the lines. */
  readonly grossCents: number;
  readonly discountCents: number;
  /** What the customer paid: grossCents - discountCents. */
  readonly amountCents: number;
  readonly cancelled: boolean;
  readonly refund: SimulatedReturn | null;
}

export interface SimulatedSession {
  readonly startedSecond: number;
  readonly durationSeconds: number;
  readonly pageViews: number;
  readonly device: Device;
}

export interface CustomerLife {
  readonly dropoutDay: number;
  /** Chronological, up to the end of the ground-truth horizon. */
  readonly orders: readonly SimulatedOrder[];
  /** Chronological, before the export instant only: nothing downstream needs future sessions. */
  readonly sessions: readonly SimulatedSession[];
}

/** Share of customers whose first purchase happens in the signup visit; the rest come back days later. */
const FIRST_PURCHASE_IN_SIGNUP_VISIT = 0.65;
const FIRST_PURCHASE_MEAN_DELAY_DAYS = 6;
const CANCELLATION_RATE = 0.025;
const BASKET_TOP_UP_BELOW = 0.8;
const MAX_LINES = 12;
/** Extra discount probability for everybody during sale periods. */
const SALE_DISCOUNT_LIFT = 0.35;
/** Returns of multi-line orders that send everything back. */
const FULL_RETURN_SHARE = 0.35;
/** Browsing sessions per year that do not scale with the purchase rate (window shopping, newsletters). */
const BASE_BROWSES_PER_YEAR = 2;
/** Strong signal: browsing fades linearly to nothing over this many days before dropout. */
const BROWSE_FADE_DAYS = 90;
/**
 * Realistic signal. Each customer browses at their own intensity; for some, browsing fades over a random number of
 * days and only partly, towards a moment scattered around the dropout rather than at it; after that moment some
 * stop browsing and the rest keep browsing at their faded level although they never buy again.
 */
const REALISTIC_BROWSING = {
  /** Shape of the gamma (mean 1) scaling a customer's browsing rate: coefficient of variation about 0.8. */
  intensityShape: 1.5,
  /** Customers whose browsing fades at all. */
  fadeShare: 0.5,
  fadeDays: { min: 30, max: 300 },
  /** Share of the browsing rate lost by the end of the fade. */
  fadeDepth: { min: 0.2, max: 0.9 },
  /** Where the fade ends (and non-lingering customers stop browsing), in days after the dropout. */
  fadeEndAfterDropoutDays: { min: -30, max: 240 },
  /** Customers who keep browsing until the export, at the level their fade left them. */
  lingerShare: 0.35,
} as const;

const toSecond = (epochDays: number): number => Math.floor(epochDays * SECONDS_PER_DAY);

/**
 * Next event after `from` of a Poisson process with rate ratePerDay × acceptance(t), by thinning
 * (acceptance must stay within [0, 1]); Infinity if there is none before `until`.
 */
function nextEvent(rng: Rng, from: number, until: number, ratePerDay: number, acceptance: (t: number) => number): number {
  let t = from;
  for (;;) {
    t += rng.exponential(ratePerDay);
    if (t >= until) return Number.POSITIVE_INFINITY;
    if (rng.uniform() < acceptance(t)) return t;
  }
}

function firstPurchaseDay(profile: CustomerProfile, rng: Rng): number {
  if (rng.chance(FIRST_PURCHASE_IN_SIGNUP_VISIT)) return profile.signupDay + rng.between(2, 30) / 1440;
  const zone = profile.country.zone;
  return nextEvent(
    rng,
    profile.signupDay,
    Number.POSITIVE_INFINITY,
    MAX_HOUR_ACTIVITY / FIRST_PURCHASE_MEAN_DELAY_DAYS,
    (t) => hourActivity(t, zone) / MAX_HOUR_ACTIVITY,
  );
}

function drawQuantity(rng: Rng): number {
  const u = rng.uniform();
  return u < 0.82 ? 1 : u < 0.95 ? 2 : 3;
}

function drawRefund(order: Omit<SimulatedOrder, 'refund'>, zone: TimeZone, rng: Rng): SimulatedReturn {
  // Refunds are booked in warehouse hours, two days to two months after the order.
  const offsetDays = zone.standardOffsetMinutes / 1440;
  const orderLocalDay = Math.floor(order.orderedSecond / SECONDS_PER_DAY + offsetDays);
  const refundLocalDay = orderLocalDay + 2 + Math.floor(Math.min(58, rng.exponential(1 / 8)));
  const returnedSecond = toSecond(refundLocalDay + rng.between(8, 18) / 24 - offsetDays);
  const full = { returnedSecond, amountCents: order.amountCents, full: true };
  if (order.lines.length === 1 || rng.chance(FULL_RETURN_SHARE)) return full;
  let returnedGross = 0;
  for (const line of order.lines) if (rng.chance(0.5)) returnedGross += line.quantity * line.sku.priceCents;
  if (returnedGross === 0) {
    const line = rng.pick(order.lines);
    returnedGross = line.quantity * line.sku.priceCents;
  }
  if (returnedGross === order.grossCents) return full;
  // The refund is the returned lines' share of what was paid, so the discount is shared out fairly.
  const amountCents = Math.round((order.amountCents * returnedGross) / order.grossCents);
  return { returnedSecond, amountCents, full: false };
}

function drawOrder(day: number, profile: CustomerProfile, shop: Shop, rng: Rng): SimulatedOrder {
  const traits = profile.traits;
  const channel = ORDER_CHANNELS[rng.pickCumulative(profile.channelCumulative)];
  // Gamma-Gamma spend: this order's value scatters around the customer's own mean.
  const targetCents = rng.gammaWithMean(profile.meanOrderValue, traits.orderValueShape) * 100;
  const shares: number[] = [];
  let shareTotal = 0;
  for (let i = 1 + rng.poisson(traits.extraLinesPerOrder); i > 0; i--) {
    const share = rng.gamma(2, 1);
    shares.push(share);
    shareTotal += share;
  }
  const lines: OrderLine[] = [];
  let grossCents = 0;
  // One line per SKU, as a shop's order export has it: a SKU drawn twice adds to its line's quantity.
  const addLine = (sku: Sku, quantity: number) => {
    const index = lines.findIndex((line) => line.sku === sku);
    if (index >= 0) lines[index] = { sku, quantity: lines[index]!.quantity + quantity };
    else lines.push({ sku, quantity });
    grossCents += quantity * sku.priceCents;
  };
  for (const share of shares) {
    const category = rng.pickCumulative(profile.categoryCumulative);
    const quantity = drawQuantity(rng);
    const sku = pickSku(shop.catalog, category, (targetCents * share) / shareTotal / quantity, rng);
    addLine(sku, quantity);
  }
  // Category price ceilings can leave a large basket short of its value: such customers buy more items.
  while (grossCents < BASKET_TOP_UP_BELOW * targetCents && lines.length < MAX_LINES) {
    const sku = pickSku(shop.catalog, rng.pickCumulative(profile.categoryCumulative), targetCents - grossCents, rng);
    addLine(sku, 1);
  }
  const discountChance = isSalePeriod(day) ? Math.min(1, profile.discountPropensity + SALE_DISCOUNT_LIFT) : profile.discountPropensity;
  const discountCents = rng.chance(discountChance) ? Math.round(grossCents * rng.pick(traits.discountDepths)) : 0;
  const order = {
    orderedSecond: toSecond(day),
    channel,
    lines,
    grossCents,
    discountCents,
    amountCents: grossCents - discountCents,
    cancelled: rng.chance(CANCELLATION_RATE),
  };
  const returned = !order.cancelled && rng.chance(profile.returnPropensity);
  return { ...order, refund: returned ? drawRefund(order, profile.country.zone, rng) : null };
}

function sessionDevice(viaApp: boolean, profile: CustomerProfile, rng: Rng): Device {
  if (viaApp) return profile.primaryDevice === 'desktop' ? 'mobile' : profile.primaryDevice;
  return rng.chance(0.8) ? profile.primaryDevice : rng.pick(DEVICES);
}

/** The visit that ends in an online order: starts minutes before it and lasts until a little after. */
function purchaseSession(order: SimulatedOrder, profile: CustomerProfile, rng: Rng): SimulatedSession {
  const startedSecond = order.orderedSecond - Math.floor(rng.between(2, 40) * 60);
  return {
    startedSecond,
    durationSeconds: order.orderedSecond - startedSecond + Math.floor(rng.between(30, 600)),
    pageViews: 3 + rng.poisson(6),
    device: sessionDevice(order.channel === 'app', profile, rng),
  };
}

function browseSession(day: number, profile: CustomerProfile, rng: Rng): SimulatedSession {
  const viaApp = profile.usesApp && rng.chance(0.4);
  const bounced = rng.chance(0.35);
  const pageViews = bounced ? 1 : 2 + rng.poisson(3);
  const durationSeconds = bounced ? Math.floor(rng.between(5, 60)) : Math.floor(pageViews * (10 + rng.exponential(1 / 45)));
  return { startedSecond: toSecond(day), durationSeconds, pageViews, device: sessionDevice(viaApp, profile, rng) };
}

/** A customer's browsing: its rate per year, the level (0 to 1) it has at each moment, and when it ends. */
interface Browsing {
  readonly perYear: number;
  readonly level: (t: number) => number;
  readonly endDay: number;
}

/** Strong signal: everybody fades linearly to nothing over the 90 days before dropout, and stops there. */
function strongBrowsing(perYear: number, dropoutDay: number): Browsing {
  return { perYear, level: (t) => Math.min(1, (dropoutDay - t) / BROWSE_FADE_DAYS), endDay: dropoutDay };
}

function realisticBrowsing(perYear: number, dropoutDay: number, rng: Rng): Browsing {
  const r = REALISTIC_BROWSING;
  const intensity = rng.gammaWithMean(1, r.intensityShape);
  const fades = rng.chance(r.fadeShare);
  const fadeDays = rng.between(r.fadeDays.min, r.fadeDays.max);
  const floor = fades ? 1 - rng.between(r.fadeDepth.min, r.fadeDepth.max) : 1;
  const fadeEndDay = dropoutDay + rng.between(r.fadeEndAfterDropoutDays.min, r.fadeEndAfterDropoutDays.max);
  const lingers = rng.chance(r.lingerShare);
  return {
    perYear: perYear * intensity,
    level: (t) => floor + (1 - floor) * Math.min(1, Math.max(0, (fadeEndDay - t) / fadeDays)),
    endDay: lingers ? Number.POSITIVE_INFINITY : fadeEndDay,
  };
}

function browseSessions(profile: CustomerProfile, rhythm: Rhythm, dropoutDay: number, shop: Shop, rng: Rng): SimulatedSession[] {
  const zone = profile.country.zone;
  const perYear = profile.purchasesPerYear * profile.traits.browsesPerPurchase + BASE_BROWSES_PER_YEAR;
  const browsing = shop.signal === 'strong' ? strongBrowsing(perYear, dropoutDay) : realisticBrowsing(perYear, dropoutDay, rng);
  const maxFactor = rhythm.max * MAX_HOUR_ACTIVITY;
  const until = Math.min(browsing.endDay, shop.exportSecond / SECONDS_PER_DAY);
  const acceptance = (t: number): number => (rhythm.factor(t) * hourActivity(t, zone) * browsing.level(t)) / maxFactor;
  const sessions: SimulatedSession[] = [];
  const rate = (browsing.perYear / DAYS_PER_YEAR) * maxFactor;
  for (let t = nextEvent(rng, profile.signupDay, until, rate, acceptance); t < until;) {
    sessions.push(browseSession(t, profile, rng));
    t = nextEvent(rng, t, until, rate, acceptance);
  }
  return sessions;
}

export function simulateCustomer(profile: CustomerProfile, shop: Shop, rng: Rng): CustomerLife {
  const zone = profile.country.zone;
  const horizonEndDay = shop.horizonEndSecond / SECONDS_PER_DAY;
  const firstDay = firstPurchaseDay(profile, rng);
  // One-timers have an infinite dropout rate: they drop out the moment they first buy.
  const dropoutDay = firstDay + rng.exponential(profile.dropoutsPerYear) * DAYS_PER_YEAR;
  const rhythm = drawRhythm(profile.traits.rhythm, rng, firstDay);

  const purchaseDays = firstDay < horizonEndDay ? [firstDay] : [];
  const until = Math.min(dropoutDay, horizonEndDay);
  const maxFactor = rhythm.max * MAX_HOUR_ACTIVITY;
  const rate = (profile.purchasesPerYear / DAYS_PER_YEAR) * maxFactor;
  const acceptance = (t: number): number => (rhythm.factor(t) * hourActivity(t, zone)) / maxFactor;
  for (let t = nextEvent(rng, firstDay, until, rate, acceptance); t < until; t = nextEvent(rng, t, until, rate, acceptance)) {
    purchaseDays.push(t);
  }
  const orders = purchaseDays.map((day) => drawOrder(day, profile, shop, rng));

  if (shop.sessions === 'none') return { dropoutDay, orders, sessions: [] };
  const sessions = browseSessions(profile, rhythm, dropoutDay, shop, rng);
  for (const order of orders) {
    if (order.orderedSecond < shop.exportSecond && order.channel !== 'pos') {
      sessions.push(purchaseSession(order, profile, rng));
    }
  }
  sessions.sort((a, b) => a.startedSecond - b.startedSecond);
  return { dropoutDay, orders, sessions };
}
