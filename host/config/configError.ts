/**
 * A startup configuration problem. The message names the file or setting and what is wrong with it, so an
 * operator can fix it without reading code; the CLI prints it and exits non-zero.
 */
export class HostConfigError extends Error {
  override readonly name = 'HostConfigError';
  constructor(
    message: string,
    /** The file or setting at fault, e.g. `host.json` or `AzureFunctionsJobHost__functionTimeout`. */
    readonly source: string,
  ) {
    super(message);
  }
}
