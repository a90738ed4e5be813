/**
 * Default RDP orders: google dp_accounting's DEFAULT_RDP_ORDERS (rdp_privacy_accountant.py):
 * 1.1 .. 10.9 by 0.1, 11 .. 63, 128, 256, 512, 1024. Written as 1 + x/10 (not accumulated) so
 * the fractional orders are the same doubles as the reference's.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => 1 + (k + 1) / 10),
  ...Array.from({ length: 53 }, (_, k) => 11 + k),
  128,
  256,
  512,
  1024,
]);
