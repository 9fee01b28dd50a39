// Minimal structural types of the express request/response/next that the middlewares use,
// so @flowsafe/redact needs no express dependency (apps/server passes real express objects).

export type RequestLike = object;

export interface ResponseLike {
  statusCode: number;
  headersSent?: boolean;
  status?(code: number): ResponseLike;
  json?(body: unknown): unknown;
  send?(body?: unknown): unknown;
  setHeader?(name: string, value: string): unknown;
  end?(chunk?: unknown): unknown;
}

export type NextLike = (err?: unknown) => void;
