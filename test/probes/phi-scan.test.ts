import { describe, expect, it } from 'vitest';
import { countPhi, isValidCardNumber, isValidSsn, luhnValid, phiTypes, scanPhi, type PhiType } from '../../probes/phi-scan.js';

function typesIn(text: string): PhiType[] {
  return scanPhi(text).map((m) => m.type);
}

function spansIn(text: string): string[] {
  return scanPhi(text).map((m) => `${m.type}:${text.slice(m.start, m.end)}`);
}

describe('phi-scan finds planted identifiers', () => {
  const note =
    'Patient John Smith (MRN: 00482913) seen on 03/14/2021 at 10 Main St, Boston, MA 02115. ' +
    'SSN 123-45-6789. Call (617) 555-0123 or email john.smith@example.org. ' +
    'Portal https://portal.example-health.com/records?id=42. Device IP 192.168.10.20. ' +
    'Card 4111 1111 1111 1111. Follow-up March 3, 2022; DOB 1970-02-28. Seen by Dr. Abbott.';

  it('finds each type with its exact span', () => {
    expect(spansIn(note)).toEqual([
      'name:John Smith',
      'mrn:00482913',
      'date:03/14/2021',
      'zip:02115',
      'ssn:123-45-6789',
      'phone:(617) 555-0123',
      'email:john.smith@example.org',
      'url:https://portal.example-health.com/records?id=42',
      'ip:192.168.10.20',
      'account:4111 1111 1111 1111',
      'date:March 3, 2022',
      'date:1970-02-28',
      'name:Dr. Abbott',
    ]);
  });

  it('counts per type, every type present', () => {
    const counts = countPhi([note, 'Reach me at 212.555.0199, zip code 10001-1234, fe80::1ff:fe23:4567:890a, in Feb 2020.']);
    expect(Object.keys(counts).sort()).toEqual([...phiTypes].sort());
    expect(counts).toMatchObject({ name: 2, mrn: 1, date: 4, zip: 2, ssn: 1, phone: 2, email: 1, url: 1, ip: 2, account: 1 });
  });

  it('labelled nine-digit SSNs and ISO/day-first dates', () => {
    expect(spansIn('social security number: 219451234')).toEqual(['ssn:219451234']);
    expect(typesIn('admitted 31.12.2019')).toEqual(['date']);
    expect(typesIn('born 29 February 2000')).toEqual(['date']);
  });
});

describe('phi-scan ignores look-alikes', () => {
  it.each([
    ['SSN with area 000', 'id 000-12-3456'],
    ['SSN with area 666', 'id 666-12-3456'],
    ['SSN with area 9xx', 'id 912-34-5678'],
    ['SSN with group 00', 'id 123-00-4567'],
    ['the published wallet SSN', 'id 078-05-1120'],
    ['phone with area code starting 1', 'call 123-456-7890'],
    ['phone with an N11 exchange', 'call 617-911-1234'],
    ['impossible dates', 'on 13/45/2020 and 2021-02-30 and 2019-02-29'],
    ['a year alone', 'in 2021 the clinic'],
    ['a card number failing Luhn', 'ref 4111 1111 1111 1112'],
    ['an IP with an octet over 255', 'host 256.10.1.1'],
    ['a version number', 'v1.2.3.4.5'],
    ['a bare 5-digit number', 'dose 12500 units'],
    ['an unlabelled 8-digit number', 'order 00482913'],
    ['MRN label with too few digits', 'MRN: 1234'],
    ['capitalized words not in the name lists', 'Blood Pressure Normal'],
    ['a first name alone', 'John reports pain'],
    ['an e-mail-like token without a TLD', 'user@localhost'],
    ['a clock time', 'at 12:30:45 today'],
  ])('%s', (_name, text) => {
    expect(scanPhi(text)).toEqual([]);
  });
});

describe('validators', () => {
  it('Luhn and issuer prefixes', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(isValidCardNumber('378282246310005')).toBe(true); // Amex test number
    expect(isValidCardNumber('1234567812345670')).toBe(false); // passes Luhn, no issuer
  });
  it('SSN area, group and serial rules', () => {
    expect(isValidSsn('001', '01', '0001')).toBe(true);
    expect(isValidSsn('899', '99', '9999')).toBe(true);
    expect(isValidSsn('900', '01', '0001')).toBe(false);
    expect(isValidSsn('123', '45', '0000')).toBe(false);
  });
});
