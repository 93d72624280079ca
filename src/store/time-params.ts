/**
 * Time parameters of the store's queries. One convention in every query of src/store: an instant is bound as epoch
 * milliseconds, `{name:Int64}`, and converted in SQL by these helpers. Why milliseconds: every time modcast holds
 * (clocks, events, windows, run records, API parameters) is epoch ms, so a caller binds what it has and no caller
 * rounds on a query's behalf (seconds bound as UInt32 were one more unit to convert, and to get wrong); where a
 * query means whole seconds, for bounds on DateTime columns such as rollup buckets and prediction windows, the SQL
 * floors, in one visible place.
 *
 * Row values written by inserts are not parameters: a DateTime column takes epoch seconds, a DateTime64(3) epoch ms.
 */

/** `{name:Int64}` (epoch ms) as a DateTime64(3). */
export const dateTime64Param = (name: string): string => `fromUnixTimestamp64Milli({${name}:Int64})`;

/** `{name:Int64}` (epoch ms) as a DateTime, floored to the second. */
export const dateTimeParam = (name: string): string => `toDateTime(intDiv({${name}:Int64}, 1000))`;

/** Whole hours from `{name:Int64}` (epoch ms, hour aligned) to a DateTime column or expression at or after it. */
export const hoursSinceParam = (column: string, name: string): string => `toUInt32(intDiv(toUInt32(${column}) - intDiv({${name}:Int64}, 1000), 3600))`;
