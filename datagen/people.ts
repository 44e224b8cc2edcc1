/**
 * Who the synthetic customers are: country (with its clock), first names and email addresses. A European
 * shop with some North American customers; names carry their accents, email addresses are ASCII.
 */
import type { TimeZone } from './calendar';
import { cumulativeWeights, mix32, type Rng } from './random';

interface NameSet {
  readonly first: readonly string[];
  readonly last: readonly string[];
  readonly emailDomains: readonly string[];
}

const GERMAN: NameSet = {
  first: [
    'Anna',
    'Lena',
    'Lukas',
    'Jonas',
    'Sophie',
    'Maximilian',
    'Jürgen',
    'Katrin',
    'Felix',
    'Mia',
    'Leon',
    'Hannah',
    'Paul',
    'Lea',
    'Tobias',
    'Sabine',
  ],
  last: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Koch', 'Krüger', 'Groß'],
  emailDomains: ['gmail.com', 'web.de', 'gmx.de', 't-online.de', 'outlook.com'],
};
const ENGLISH: NameSet = {
  first: [
    'Oliver',
    'Amelia',
    'George',
    'Isla',
    'Harry',
    'Emily',
    'Jack',
    'Olivia',
    'Noah',
    'Grace',
    'James',
    'Chloe',
    'Liam',
    'Ava',
    'Ethan',
    'Sarah',
  ],
  last: ['Smith', 'Jones', 'Williams', 'Brown', 'Taylor', 'Davies', 'Wilson', 'Evans', 'Johnson', 'Walker', 'Wright', "O'Brien"],
  emailDomains: ['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'hotmail.com'],
};
const FRENCH: NameSet = {
  first: ['Léa', 'Chloé', 'Hugo', 'Louis', 'Manon', 'Gabriel', 'Camille', 'Jules', 'Inès', 'Arthur', 'Zoé', 'Théo', 'Élise', 'Raphaël'],
  last: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Lefèvre', 'Girard'],
  emailDomains: ['gmail.com', 'orange.fr', 'free.fr', 'laposte.net', 'hotmail.fr'],
};
const DUTCH: NameSet = {
  first: ['Daan', 'Emma', 'Sem', 'Julia', 'Lucas', 'Tess', 'Finn', 'Sanne', 'Bram', 'Fleur', 'Ruben', 'Lotte'],
  last: ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser', 'Smit', 'Meijer', 'Mulder', 'Bos'],
  emailDomains: ['gmail.com', 'ziggo.nl', 'kpnmail.nl', 'outlook.com', 'hotmail.nl'],
};
const SPANISH: NameSet = {
  first: ['Lucía', 'Hugo', 'Martín', 'Sofía', 'Pablo', 'Marta', 'Álvaro', 'Carmen', 'Javier', 'Elena', 'Diego', 'Paula'],
  last: ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz'],
  emailDomains: ['gmail.com', 'hotmail.es', 'yahoo.es', 'outlook.es', 'telefonica.net'],
};
const ITALIAN: NameSet = {
  first: ['Giulia', 'Francesco', 'Sofia', 'Alessandro', 'Aurora', 'Lorenzo', 'Chiara', 'Matteo', 'Martina', 'Niccolò', 'Giorgia', 'Luca'],
  last: ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco'],
  emailDomains: ['gmail.com', 'libero.it', 'virgilio.it', 'alice.it', 'hotmail.it'],
};
const SWEDISH: NameSet = {
  first: ['Alice', 'Elsa', 'William', 'Oscar', 'Maja', 'Hugo', 'Astrid', 'Erik', 'Saga', 'Björn', 'Linnéa', 'Nils'],
  last: ['Andersson', 'Johansson', 'Karlsson', 'Nilsson', 'Eriksson', 'Larsson', 'Olsson', 'Persson', 'Svensson', 'Lindström'],
  emailDomains: ['gmail.com', 'hotmail.se', 'telia.com', 'outlook.com', 'live.se'],
};
const POLISH: NameSet = {
  first: ['Zuzanna', 'Jakub', 'Julia', 'Antoni', 'Maja', 'Jan', 'Zofia', 'Szymon', 'Łucja', 'Mikołaj', 'Hanna', 'Filip'],
  last: ['Nowak', 'Kowalski', 'Wiśniewski', 'Wójcik', 'Kowalczyk', 'Kamiński', 'Lewandowski', 'Zieliński', 'Szymański'],
  emailDomains: ['gmail.com', 'wp.pl', 'onet.pl', 'interia.pl', 'o2.pl'],
};

const CET: TimeZone = { standardOffsetMinutes: 60, daylightSaving: 'eu' };

export interface Country {
  readonly code: string;
  readonly zone: TimeZone;
  readonly names: NameSet;
}

const COUNTRIES: readonly (Country & { readonly share: number })[] = [
  { code: 'DE', share: 0.22, zone: CET, names: GERMAN },
  { code: 'GB', share: 0.15, zone: { standardOffsetMinutes: 0, daylightSaving: 'eu' }, names: ENGLISH },
  { code: 'FR', share: 0.13, zone: CET, names: FRENCH },
  { code: 'NL', share: 0.08, zone: CET, names: DUTCH },
  { code: 'US', share: 0.1, zone: { standardOffsetMinutes: -300, daylightSaving: 'us' }, names: ENGLISH },
  { code: 'ES', share: 0.07, zone: CET, names: SPANISH },
  { code: 'IT', share: 0.07, zone: CET, names: ITALIAN },
  { code: 'AT', share: 0.05, zone: CET, names: GERMAN },
  { code: 'SE', share: 0.04, zone: CET, names: SWEDISH },
  { code: 'PL', share: 0.04, zone: CET, names: POLISH },
  { code: 'IE', share: 0.02, zone: { standardOffsetMinutes: 0, daylightSaving: 'eu' }, names: ENGLISH },
  { code: 'CA', share: 0.03, zone: { standardOffsetMinutes: -300, daylightSaving: 'us' }, names: ENGLISH },
];
const COUNTRY_CUMULATIVE = cumulativeWeights(COUNTRIES.map((c) => c.share));

export function drawCountry(rng: Rng): Country {
  return COUNTRIES[rng.pickCumulative(COUNTRY_CUMULATIVE)];
}

/** ASCII form of a name for an email address: accents stripped, letters the decomposition misses mapped. */
function emailSafe(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

const EMAIL_SAFE = new Map<string, string>();
for (const set of [GERMAN, ENGLISH, FRENCH, DUTCH, SPANISH, ITALIAN, SWEDISH, POLISH]) {
  for (const name of [...set.first, ...set.last]) EMAIL_SAFE.set(name, emailSafe(name));
}

export interface Person {
  readonly firstName: string;
  readonly email: string;
}

/**
 * A name and an email address. The address ends in a tag derived bijectively from the customer index
 * (after the last '.' of the local part, which the name part never ends with), so no two customers share one.
 */
export function drawPerson(rng: Rng, country: Country, customerIndex: number, seed: number): Person {
  const firstName = rng.pick(country.names.first);
  const first = EMAIL_SAFE.get(firstName) as string;
  const last = EMAIL_SAFE.get(rng.pick(country.names.last)) as string;
  const style = rng.int(4);
  const namePart =
    style === 0 ? `${first}.${last}` : style === 1 ? `${first}${last}` : style === 2 ? `${first[0]}${last}` : `${first}_${last}`;
  const tag = mix32(customerIndex ^ mix32(seed >>> 0)).toString(36);
  return { firstName, email: `${namePart}.${tag}@${rng.pick(country.names.emailDomains)}` };
}
