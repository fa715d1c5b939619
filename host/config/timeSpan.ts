/**
 * .NET TimeSpan text, as the Functions host parses it: timer schedules (`ConstantSchedule`) and host.json
 * durations (`functionTimeout`, `maxAutoLockRenewalDuration`).
 */

function fractionMs(text: string | undefined): number {
  return text ? Math.round(Number(`0.${text}`) * 1000) : 0;
}

function toMs(days: number, hours: number, minutes: number, seconds: number, fraction: number): number | undefined {
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000 + fraction;
}

/**
 * `TimeSpan.TryParse` as the host calls it for timer schedules and host.json durations (general formats, invariant and culture `g` patterns):
 * `d`, `h:m`, `h:m:s`, `d.h:m`, `h:m:s.f`, `d.h:m:s`, `d:h:m:s`, `d.h:m:s.f`, `d:h:m:s.f`. A three-part value whose
 * hours overflow is read as `d:h:m`, as .NET does ("25:00:00" is 25 days). Returns milliseconds, or a reason.
 */
export function parseDotNetTimeSpan(text: string): { ms: number } | { reason: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) return { reason: 'a TimeSpan cannot be negative here.' };
  const n = (s: string | undefined) => Number(s ?? 0);
  let ms: number | undefined;
  let match: RegExpExecArray | null;
  if ((match = /^(\d+)$/.exec(trimmed))) {
    ms = n(match[1]) * 86_400_000;
  } else if ((match = /^(\d+):(\d+)$/.exec(trimmed))) {
    ms = toMs(0, n(match[1]), n(match[2]), 0, 0);
  } else if ((match = /^(\d+):(\d+):(\d+)$/.exec(trimmed))) {
    ms = toMs(0, n(match[1]), n(match[2]), n(match[3]), 0) ?? toMs(n(match[1]), n(match[2]), n(match[3]), 0, 0);
  } else if ((match = /^(\d+)\.(\d+):(\d+)$/.exec(trimmed))) {
    ms = toMs(n(match[1]), n(match[2]), n(match[3]), 0, 0);
  } else if ((match = /^(\d+):(\d+):(\d+)\.(\d{1,7})$/.exec(trimmed))) {
    ms = toMs(0, n(match[1]), n(match[2]), n(match[3]), fractionMs(match[4]));
  } else if ((match = /^(\d+)[.:](\d+):(\d+):(\d+)(?:\.(\d{1,7}))?$/.exec(trimmed))) {
    ms = toMs(n(match[1]), n(match[2]), n(match[3]), n(match[4]), fractionMs(match[5]));
  } else {
    return { reason: "it is not a TimeSpan ('hh:mm:ss' or 'd.hh:mm:ss')." };
  }
  if (ms === undefined) return { reason: 'a TimeSpan needs hours below 24 and minutes and seconds below 60.' };
  if (ms <= 0) return { reason: 'a TimeSpan must be longer than zero.' };
  return { ms };
}
