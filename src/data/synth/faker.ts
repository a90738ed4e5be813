/**
 * A faker instance (en_US) that draws from memaudit's seeded generator, so synthetic data is
 * reproducible with --seed, and whose "now" is fixed, so relative dates do not move with the
 * calendar.
 */
import { Faker, base, en, en_US, type Randomizer } from '@faker-js/faker';
import type { Rng } from '../../core/rng.js';

/** The reference date for every relative date in synthetic data (visit dates, ages). */
export const synthReferenceDate = new Date('2025-01-01T00:00:00Z');

export function seededFaker(rng: Rng): Faker {
  const randomizer: Randomizer = {
    next: () => rng.next(),
    // Reseeding is done by forking our generator, never through faker.
    seed: () => undefined,
  };
  const faker = new Faker({ locale: [en_US, en, base], randomizer });
  faker.setDefaultRefDate(synthReferenceDate);
  return faker;
}

/**
 * Names and addresses picked straight from faker's en_US definitions through its seeded helpers:
 * the same vocabulary as faker.person/location, without their pattern expansion, which is ~10x
 * slower and dominated the time of `synth notes`.
 */
export class FastIdentities {
  private readonly female: readonly string[];
  private readonly male: readonly string[];
  private readonly last: readonly string[];
  private readonly streets: readonly string[];
  private readonly cities: readonly string[];

  constructor(private readonly faker: Faker) {
    const d = faker.definitions;
    this.female = d.person.first_name.female ?? d.person.first_name.generic ?? [];
    this.male = d.person.first_name.male ?? d.person.first_name.generic ?? [];
    this.last = d.person.last_name.generic ?? [];
    this.streets = d.location.street_name ?? [];
    this.cities = d.location.city_name ?? [];
  }

  firstName(sex: 'female' | 'male'): string {
    return this.faker.helpers.arrayElement(sex === 'female' ? this.female : this.male);
  }

  lastName(): string {
    return this.faker.helpers.arrayElement(this.last);
  }

  streetAddress(): string {
    return `${1 + this.faker.number.int(9998)} ${this.faker.helpers.arrayElement(this.streets)}`;
  }

  city(): string {
    return this.faker.helpers.arrayElement(this.cities);
  }
}
