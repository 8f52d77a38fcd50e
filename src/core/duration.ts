/**
 * ISO-8601 durations as used by `revokeRotatedAfter` (`P30D`, `PT12H`, `P1DT2H30M`, `P0D`).
 * Years and months are refused: their length in seconds is not fixed.
 */
const PATTERN = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Milliseconds, or undefined when `text` is not a non-negative week/day/time duration. */
export function parseDuration(text: string): number | undefined {
  const m = PATTERN.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [w, d, h, min, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  return ((((w! * 7 + d!) * 24 + h!) * 60 + min!) * 60 + s!) * 1000;
}
