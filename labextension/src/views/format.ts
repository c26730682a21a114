/**
 * Pure formatting helpers for ledger values. Token amounts travel as decimal
 * strings of base units (they may exceed 2^53), so the arithmetic here is on
 * strings and exact.
 */

/** Compare two decimal strings without leading zeros (the schema's token_amount). */
export function compareTokenAmounts(a: string, b: string): number {
  if (a.length !== b.length) {
    return a.length - b.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Add two decimal strings of base units exactly. */
export function addTokenAmounts(a: string, b: string): string {
  let result = '';
  let carry = 0;
  for (
    let i = a.length - 1, j = b.length - 1;
    i >= 0 || j >= 0 || carry;
    i--, j--
  ) {
    const sum = (i >= 0 ? +a[i] : 0) + (j >= 0 ? +b[j] : 0) + carry;
    result = String(sum % 10) + result;
    carry = sum >= 10 ? 1 : 0;
  }
  return result.replace(/^0+(?=\d)/, '') || '0';
}

/**
 * Base units as a token amount: `formatTokenAmount('1500000000000000000', 18)`
 * is `'1.5'`; at most `maxFractionDigits` decimals, truncated, never rounded up.
 */
export function formatTokenAmount(
  baseUnits: string,
  decimals: number,
  maxFractionDigits = 4
): string {
  const padded = baseUnits.padStart(decimals + 1, '0');
  const whole = padded.slice(0, padded.length - decimals);
  const fraction = padded
    .slice(padded.length - decimals)
    .slice(0, maxFractionDigits)
    .replace(/0+$/, '');
  const groupedWhole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  if (fraction) {
    return `${groupedWhole}.${fraction}`;
  }
  if (/[1-9]/.test(padded.slice(padded.length - decimals))) {
    // Less than the smallest digit shown: say so rather than print 0.
    return whole === '0'
      ? `< 0.${'0'.repeat(maxFractionDigits - 1)}1`
      : groupedWhole;
  }
  return groupedWhole;
}

/** `0x1234…abcd` for an address or digest. */
export function shortHex(hex: string, keep = 4): string {
  if (hex.length <= 2 + keep * 2 + 1) {
    return hex;
  }
  return `${hex.slice(0, 2 + keep)}…${hex.slice(-keep)}`;
}

/** A person's label for an account: its name when it has one, else the short address. */
export function accountLabel(account: string, name: string | null): string {
  return name ? name : shortHex(account);
}
