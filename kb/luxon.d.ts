/**
 * The part of luxon's API that kb/zoned-time.ts uses. luxon ships no types; until @types/luxon is a dev
 * dependency, this declares what is called (delete this file when it is).
 */
declare module 'luxon' {
  export class IANAZone {
    static create(name: string): IANAZone;
    static isValidZone(name: string): boolean;
    readonly isValid: boolean;
    /** Offset from UTC in minutes at the epoch milliseconds `ts`. */
    offset(ts: number): number;
  }

  export type DurationLike = { days?: number; milliseconds?: number };

  export class DateTime {
    static fromJSDate(date: Date, opts?: { zone?: string | IANAZone }): DateTime;
    static fromISO(text: string, opts?: { zone?: string | IANAZone }): DateTime;
    readonly isValid: boolean;
    readonly hour: number;
    readonly minute: number;
    readonly second: number;
    readonly millisecond: number;
    /** 1 = Monday … 7 = Sunday. */
    readonly weekday: number;
    plus(duration: DurationLike): DateTime;
    setZone(zone: string | IANAZone, opts?: { keepLocalTime?: boolean }): DateTime;
    toISODate(): string | null;
    toFormat(format: string): string;
    toJSDate(): Date;
  }
}
