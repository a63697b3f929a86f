/**
 * AWS Backup service errors, as the restJson1 protocol carries them: HTTP
 * status, `x-amzn-ErrorType` header, and a JSON body with `__type` plus the
 * members the Backup model declares for its errors (Code, Message, Type,
 * Context). The SDK maps the header/`__type` to the exception class.
 */
export type BackupErrorCode =
  | "ResourceNotFoundException"
  | "InvalidRequestException"
  | "InvalidParameterValueException"
  | "MissingParameterValueException"
  | "InvalidResourceStateException"
  | "ServiceUnavailableException"
  | "ThrottlingException"
  | "MissingAuthenticationTokenException";

/** HTTP status of each error in the Backup API reference. */
export const ERROR_STATUS: Readonly<Record<BackupErrorCode, number>> = {
  ResourceNotFoundException: 400,
  InvalidRequestException: 400,
  InvalidParameterValueException: 400,
  MissingParameterValueException: 400,
  InvalidResourceStateException: 400,
  ServiceUnavailableException: 500,
  ThrottlingException: 400,
  MissingAuthenticationTokenException: 403,
};

export class BackupServiceError extends Error {
  constructor(
    readonly code: BackupErrorCode | string,
    message: string,
    readonly status: number = ERROR_STATUS[code as BackupErrorCode] ?? 400,
    readonly context?: string,
  ) {
    super(message);
    this.name = code;
  }

  body(): Record<string, string> {
    const body: Record<string, string> = { __type: this.code, Code: this.code, Message: this.message };
    if (this.context !== undefined) body.Context = this.context;
    return body;
  }
}

export const notFound = (message: string, context?: string): BackupServiceError =>
  new BackupServiceError("ResourceNotFoundException", message, undefined, context);

export const invalidParameter = (message: string, context?: string): BackupServiceError =>
  new BackupServiceError("InvalidParameterValueException", message, undefined, context);

export const missingParameter = (name: string): BackupServiceError =>
  new BackupServiceError("MissingParameterValueException", `${name} is required`, undefined, name);
