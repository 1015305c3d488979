/**
 * SQL for figures over the region's local days, one definition for every part's report query. The query's
 * parameters are `$1` the IANA time zone, `$2` the first day and `$3` the last day (YYYY-MM-DD, inclusive):
 * a day runs from local midnight to local midnight, so a day of a DST change has 23 or 25 hours.
 */

/** The local day (a SQL date) of a timestamptz column. */
export function localDay(column: string): string {
  return `(${column} AT TIME ZONE $1)::date`;
}

/** True for a timestamptz column inside the period $2..$3 of local days. */
export function withinLocalDays(column: string): string {
  return `${column} >= ($2::date::timestamp AT TIME ZONE $1) AND ${column} < (($3::date + 1)::timestamp AT TIME ZONE $1)`;
}
