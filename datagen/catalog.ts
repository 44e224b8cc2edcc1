/**
 * The shop's product catalogue: eight categories, each with SKUs at fixed list prices. Drawn once per seed,
 * so a SKU has the same price in every order.
 */
import type { Rng } from './random';

interface CategorySpec {
  readonly name: string;
  readonly skuPrefix: string;
  /** Share of lines in the whole shop; customers' own preferences scatter around it. */
  readonly popularity: number;
  readonly minPrice: number;
  readonly maxPrice: number;
}

const CATEGORY_SPECS: readonly CategorySpec[] = [
  { name: 'apparel', skuPrefix: 'APP', popularity: 0.24, minPrice: 9, maxPrice: 180 },
  { name: 'footwear', skuPrefix: 'FTW', popularity: 0.12, minPrice: 25, maxPrice: 260 },
  { name: 'accessories', skuPrefix: 'ACC', popularity: 0.1, minPrice: 5, maxPrice: 150 },
  { name: 'beauty', skuPrefix: 'BEA', popularity: 0.12, minPrice: 4, maxPrice: 90 },
  { name: 'home', skuPrefix: 'HOM', popularity: 0.14, minPrice: 6, maxPrice: 400 },
  { name: 'electronics', skuPrefix: 'ELE', popularity: 0.08, minPrice: 15, maxPrice: 1200 },
  { name: 'sports', skuPrefix: 'SPO', popularity: 0.12, minPrice: 8, maxPrice: 350 },
  { name: 'books', skuPrefix: 'BOO', popularity: 0.08, minPrice: 5, maxPrice: 60 },
];

export const CATEGORY_POPULARITY: readonly number[] = CATEGORY_SPECS.map((c) => c.popularity);

const SKUS_PER_CATEGORY = 150;

export interface Sku {
  readonly code: string;
  readonly category: string;
  readonly priceCents: number;
}

/** SKUs of each category sorted by price, so an order line can find one near a wanted price. */
export type Catalog = readonly (readonly Sku[])[];

export function drawCatalog(rng: Rng): Catalog {
  return CATEGORY_SPECS.map((spec) => {
    const skus: Sku[] = [];
    for (let i = 0; i < SKUS_PER_CATEGORY; i++) {
      // Log-uniform list prices ending in .99, as shops price them.
      const price = spec.minPrice * Math.pow(spec.maxPrice / spec.minPrice, rng.uniform());
      const priceCents = Math.max(1, Math.round(price)) * 100 - 1;
      skus.push({ code: `${spec.skuPrefix}-${String(1001 + i)}`, category: spec.name, priceCents });
    }
    // Codes break price ties so the order never depends on the sort implementation.
    return skus.sort((a, b) => a.priceCents - b.priceCents || (a.code < b.code ? -1 : 1));
  });
}

/** A SKU of the category priced near the wanted unit price, with a little randomness between neighbours. */
export function pickSku(catalog: Catalog, category: number, wantedPriceCents: number, rng: Rng): Sku {
  const skus = catalog[category];
  let low = 0;
  let high = skus.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (skus[middle].priceCents < wantedPriceCents) low = middle + 1;
    else high = middle;
  }
  const jittered = low + rng.int(5) - 2;
  return skus[Math.min(skus.length - 1, Math.max(0, jittered))];
}
