/**
 * A copy of `s` that shares no memory with the string it was cut from. V8 slices substrings as views into their
 * parent, so a name kept from one log line or CSV chunk would keep the whole line or chunk alive (and a memo of 65k
 * such keys would pin 65k lines). The JSON round trip is exact for every string, lone surrogates included. Pure.
 */
export function detached(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
