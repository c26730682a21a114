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
 * Base units as a token amount, the one rule the notebook (fedchain_magics) and
 * the sidebar share, with cases in fedchain_magics/sidebar/token_amount_cases.json:
 * base units / 10^decimals, rounded half up to `maxFractionDigits` fraction
 * digits, trailing zeros dropped, the integer part grouped with "," every three
 * digits. A non-zero amount that rounds to 0 reads `< 0.0001`; zero reads `0`.
 * `formatTokenAmount('234741750000000000000', 18)` is `'234.7418'`.
 * Exact for any size (string arithmetic, no floating point).
 */
export function formatTokenAmount(
  baseUnits: string,
  decimals: number,
  maxFractionDigits = 4
): string {
  if (!/^[0-9]+$/.test(baseUnits)) {
    throw new RangeError(
      `expected a decimal string of token base units, got ${JSON.stringify(baseUnits)}`
    );
  }
  const units = baseUnits.replace(/^0+/, '');
  if (units === '') {
    return '0';
  }
  const padded = units.padStart(decimals + 1, '0');
  const wholeDigits = padded.length - decimals;
  const shown = Math.min(decimals, maxFractionDigits);
  // The digits kept (the whole part and `shown` fraction digits), as one integer.
  let kept = padded.slice(0, wholeDigits + shown);
  if (padded.charAt(wholeDigits + shown) >= '5') {
    kept = incrementDigits(kept);
  }
  const whole = kept.slice(0, kept.length - shown).replace(/^0+(?=\d)/, '');
  const fraction = kept.slice(kept.length - shown).replace(/0+$/, '');
  if (whole === '0' && fraction === '') {
    // Less than half the smallest digit shown: say so rather than print 0.
    return maxFractionDigits > 0
      ? `< 0.${'0'.repeat(maxFractionDigits - 1)}1`
      : '< 1';
  }
  const groupedWhole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction ? `${groupedWhole}.${fraction}` : groupedWhole;
}

/** A decimal digit string plus one ('0999' -> '1000', '999' -> '1000'). */
function incrementDigits(digits: string): string {
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === '9') {
    i--;
  }
  const zeros = '0'.repeat(digits.length - 1 - i);
  if (i < 0) {
    return '1' + zeros;
  }
  return digits.slice(0, i) + String(Number(digits[i]) + 1) + zeros;
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

/** A value with two decimals, as the kernel words standings and scores: 0.9175 -> `0.92`. */
export function formatRatio(value: number): string {
  return value.toFixed(2);
}

/** Parts per million as a percentage with one decimal: 245000 -> `24.5%`. */
export function formatPpm(ppm: number): string {
  return `${(ppm / 10000).toFixed(1)}%`;
}

/**
 * `digits` significant digits, as Python's `%.3g` (the kernel's why lines):
 * 0.031 -> `0.031`, 0.000012 -> `1.2e-05`, 1234 -> `1.23e+03`.
 */
export function formatSignificant(value: number, digits = 3): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (value === 0) {
    return '0';
  }
  const exponent = Math.floor(
    Math.log10(Math.abs(Number(value.toPrecision(digits))))
  );
  if (exponent < -4 || exponent >= digits) {
    const [mantissa, power] = value.toExponential(digits - 1).split('e');
    const sign = power.startsWith('-') ? '-' : '+';
    const magnitude = power.replace(/^[+-]/, '').padStart(2, '0');
    return `${trimFraction(mantissa)}e${sign}${magnitude}`;
  }
  return trimFraction(value.toFixed(Math.max(digits - 1 - exponent, 0)));
}

function trimFraction(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}
