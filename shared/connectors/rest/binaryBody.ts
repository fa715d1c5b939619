import type { Readable } from 'node:stream';
import { AppError } from '../../domain/errors.js';
import { ArtifactErrorCodes, DEFAULT_MAX_STREAMED_BYTES, isArtifactRef, type ArtifactRef, type StepArtifacts } from '../../ports/artifactStore.js';
import { ConnectorError } from '../sdk.js';
import { REST_INPUT_INVALID } from './encodeRequestBody.js';
import { cappedBody, RestErrorCodes, type ResponseBody } from './guardedFetch.js';
import type { RestRequestInput } from './restRequestInput.js';


/** Default cap of a binary response streamed into an artifact, and the operator maximum unless configured (1 GiB). */
export const DEFAULT_MAX_BINARY_RESPONSE_BYTES = DEFAULT_MAX_STREAMED_BYTES;

/** Content types `auto` reads as text or JSON; every other (declared) type is binary. */
const TEXTUAL_TYPE = /^(text\/|application\/([\w.+-]+\+)?(json|xml)\b|application\/(javascript|ecmascript|x-www-form-urlencoded|x-ndjson|yaml|x-yaml|graphql)\b)/i;

/** Whether a response goes into an artifact: asked for, or (auto) a declared non-text type when the step has artifacts. */
export function isBinaryResponse(responseType: RestRequestInput['responseType'], contentType: string | undefined, artifacts: StepArtifacts | undefined): boolean {
  if (responseType === 'binary') return true;
  if ((responseType ?? 'auto') !== 'auto' || !artifacts || !contentType?.trim()) return false;
  return !TEXTUAL_TYPE.test(contentType.trim());
}

/** The binary cap of one call: the step's `maxResponseBytes` (REST.INPUT_INVALID above the operator maximum), else that maximum. */
export function binaryResponseLimit(requested: number | undefined, operatorMax: number): number {
  if (requested === undefined) return operatorMax;
  if (requested > operatorMax) throw new ConnectorError(REST_INPUT_INVALID, `maxResponseBytes ${requested} exceeds the operator maximum of ${operatorMax} bytes.`);
  return requested;
}

/** Streams a response body into a new artifact of the step, failing with REST.RESPONSE_TOO_LARGE past `limit`. */
export async function responseToArtifact(body: ResponseBody, artifacts: StepArtifacts | undefined, options: { contentType: string | undefined; name: string; limit: number; host: string }): Promise<ArtifactRef> {
  if (!artifacts) {
    body.on('error', () => undefined);
    body.destroy();
    throw new ConnectorError(REST_INPUT_INVALID, 'responseType "binary" needs artifacts, which this call does not have.');
  }
  try {
    return await artifacts.create(cappedBody(body, options.limit, options.host), { contentType: options.contentType, name: options.name, maxBytes: options.limit });
  } catch (error) {
    if (error instanceof AppError && error.code === ArtifactErrorCodes.tooLarge) throw new ConnectorError(RestErrorCodes.responseTooLarge, `Response from host "${options.host}" exceeds ${options.limit} bytes`, { details: { host: options.host, limit: options.limit } });
    throw error;
  }
}

/** A request body streamed from an artifact: the content type and length to send, and how to open it (per hop). */
export interface ArtifactRequestBody {
  contentType: string;
  size: number;
  open: () => Promise<Readable>;
}

/**
 * The artifact to stream as the request body, when `body` is an artifact reference and `bodyType` is `binary` or
 * absent. Undefined: the body is encoded as `bodyType` says (encodeRequestBody refuses `binary` for anything else).
 */
export function artifactRequestBody(body: RestRequestInput['body'], bodyType: RestRequestInput['bodyType'], artifacts: StepArtifacts | undefined): ArtifactRequestBody | undefined {
  if (!isArtifactRef(body) || (bodyType !== undefined && bodyType !== 'binary')) return undefined;
  if (!artifacts) throw new ConnectorError(REST_INPUT_INVALID, 'An artifact body needs artifacts, which this call does not have.');
  return { contentType: body.contentType, size: body.size, open: async () => (await artifacts.open(body)).stream };
}
