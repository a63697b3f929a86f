/**
 * Opaque NextToken paging. The token binds the offset to the query it was
 * issued for (vault + filters, or resource ARN), so a token replayed against a
 * different query is rejected instead of silently skipping items.
 */
import { invalidParameter } from "./errors";

/** Page size when MaxResults is not given. */
export const DEFAULT_PAGE_SIZE = 1000;

interface TokenContent {
  q: string;
  o: number;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export function paginate<T>(
  items: readonly T[],
  queryKey: string,
  maxResults: number | undefined,
  nextToken: string | null,
): Page<T> {
  const offset = nextToken === null ? 0 : decode(nextToken, queryKey);
  const size = maxResults ?? DEFAULT_PAGE_SIZE;
  const end = offset + size;
  return {
    items: items.slice(offset, end),
    ...(end < items.length ? { nextToken: encode({ q: queryKey, o: end }) } : {}),
  };
}

function encode(content: TokenContent): string {
  return Buffer.from(JSON.stringify(content), "utf8").toString("base64url");
}

function decode(token: string, queryKey: string): number {
  try {
    const content = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<TokenContent>;
    if (content.q === queryKey && Number.isInteger(content.o) && (content.o as number) >= 0) return content.o as number;
  } catch {
    // reported below
  }
  throw invalidParameter("The NextToken is invalid or does not belong to this request", "NextToken");
}
