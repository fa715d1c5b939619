const TIME_SPAN = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/;

/**
 * Parses a .NET `TimeSpan` in its constant format (`[-][d.]hh:mm[:ss[.fffffff]]`), as used by host.json
 * (`functionTimeout`, `maxAutoLockRenewalDuration`, ...). Returns milliseconds, or undefined when the text is not
 * a TimeSpan. Hours must be below 24, minutes and seconds below 60, as .NET requires.
 */
export function parseTimeSpan(text: string): number | undefined {
  const match = TIME_SPAN.exec(text.trim());
  if (!match) return undefined;
  const [, negative, days, hours, minutes, seconds, fraction] = match;
  const h = Number(hours);
  const m = Number(minutes);
  const s = Number(seconds ?? 0);
  if (h > 23 || m > 59 || s > 59) return undefined;
  const fractionMs = fraction ? Number(`0.${fraction}`) * 1000 : 0;
  const total = ((Number(days ?? 0) * 24 + h) * 60 + m) * 60_000 + s * 1000 + fractionMs;
  return negative ? -total : total;
}
