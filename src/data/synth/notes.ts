/**
 * Synthetic clinical notes (`synth notes`): JSONL records {"id", "text"} whose text reads like a
 * short visit note with PHI-shaped identifiers (name, date of birth, MRN, address, phone) drawn
 * from a seeded faker. Nothing in them is real.
 */
import type { Faker } from '@faker-js/faker';
import type { Rng } from '../../core/rng.js';
import { FastIdentities, seededFaker } from './faker.js';
import { complaints, denials, followUps, histories, medications } from './vocabulary.js';

export interface SyntheticNote {
  id: string;
  text: string;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function usDate(d: Date): string {
  return `${pad(d.getUTCMonth() + 1, 2)}/${pad(d.getUTCDate(), 2)}/${d.getUTCFullYear()}`;
}

function sentence(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function pickSome<T>(rng: Rng, items: readonly T[], k: number): T[] {
  return rng.sampleIndices(items.length, Math.min(k, items.length)).map((i) => items[i]!);
}

function note(faker: Faker, people: FastIdentities, rng: Rng, index: number): SyntheticNote {
  const sex = rng.bernoulli(0.5) ? 'female' : 'male';
  const first = people.firstName(sex);
  const last = people.lastName();
  const birth = faker.date.birthdate({ mode: 'age', min: 18, max: 90 });
  const visit = faker.date.recent({ days: 730 });
  const age = Math.floor((visit.getTime() - birth.getTime()) / (365.25 * 24 * 3600 * 1000));
  const mrn = pad(rng.int(100_000_000), 8);
  const c = rng.pick(complaints);
  const duration = `${1 + rng.int(6)} ${rng.pick(['days', 'weeks'])}`;
  const history = pickSome(rng, histories, 1 + rng.int(2));
  const meds = pickSome(rng, medications, 1 + rng.int(3));
  const denied = pickSome(rng, denials, 2);
  const systolic = 105 + rng.int(60);
  const diastolic = 60 + rng.int(35);
  const lines = [
    `Patient: ${first} ${last}   DOB: ${usDate(birth)}   MRN: ${mrn}`,
    `Date of visit: ${isoDate(visit)}   Provider: Dr. ${people.lastName()}`,
    `Address: ${people.streetAddress()}, ${people.city()}, ${faker.location.state({ abbreviated: true })} ${faker.location.zipCode('#####')}   Phone: ${faker.phone.number({ style: 'national' })}`,
    `Chief complaint: ${c.complaint} for ${duration}.`,
    `HPI: ${age}-year-old ${sex} with a history of ${history.join(' and ')} presents with ${c.complaint}. Reports ${rng.pick(c.symptoms)}. Denies ${denied.join(' and ')}.`,
    `Medications: ${meds.join('; ')}.`,
    `Vitals: BP ${systolic}/${diastolic}, HR ${58 + rng.int(45)}, Temp ${(97.2 + rng.int(30) / 10).toFixed(1)} F, SpO2 ${92 + rng.int(8)}%.`,
    `Assessment: ${rng.pick(c.assessments)}.`,
    `Plan: ${pickSome(rng, c.plans, 2).map(sentence).join('. ')}. Follow up in ${rng.pick(followUps)}.`,
  ];
  return { id: `note-${pad(index + 1, 6)}`, text: lines.join('\n') };
}

/** `count` notes, seeded by `rng` (forked, so other draws of the run are unaffected). */
export function* syntheticNotes(count: number, rng: Rng): Generator<SyntheticNote> {
  const r = rng.fork('synth-notes');
  const faker = seededFaker(r.fork('faker'));
  const people = new FastIdentities(faker);
  for (let i = 0; i < count; i++) yield note(faker, people, r, i);
}
