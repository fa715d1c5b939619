import type { Readable } from 'node:stream';
import { AppError } from '../../domain/errors.js';
import type { StepArtifacts } from '../../ports/artifactStore.js';
import { ConnectorError } from '../sdk.js';
import { EmailErrorCodes, MAX_SENDGRID_ATTACHMENT_BYTES, MAX_STREAMED_ATTACHMENT_BYTES } from './emailInput.js';
import type { PreparedAttachment, PreparedMessage } from './prepareMessage.js';

/** An attachment ready for a transport: bytes, or an artifact's stream. */
export interface SendableAttachment {
  filename: string;
  contentType: string;
  content: Buffer | Readable;
}

/** A prepared message whose attachments are ready for a transport. */
export type SendableMessage<TContent extends Buffer | Readable = Buffer | Readable> = Omit<PreparedMessage, 'attachments'> & {
  attachments: Array<SendableAttachment & { content: TContent }>;
};

function tooLarge(total: number, limit: number, transport: string): ConnectorError {
  return new ConnectorError(EmailErrorCodes.attachmentTooLarge, `Attachments of ${total} bytes exceed the ${limit} bytes ${transport} can send.`, { details: { size: total, limit } });
}

function needArtifacts(artifacts: StepArtifacts | undefined): StepArtifacts {
  if (!artifacts) throw new ConnectorError(EmailErrorCodes.inputInvalid, 'Attachments from artifacts need artifacts, which this call does not have.');
  return artifacts;
}

function streamedBytes(attachments: PreparedAttachment[]): number {
  return attachments.reduce((sum, a) => sum + ('artifact' in a ? a.artifact.size : 0), 0);
}

/**
 * SMTP: opens every artifact attachment as a stream (checked against the step's tenant; the content's hash is
 * verified as nodemailer reads it). Their sizes may add up to MAX_STREAMED_ATTACHMENT_BYTES
 * (EMAIL.ATTACHMENT_TOO_LARGE before anything is opened). `close()` releases streams not (fully) read;
 * `failure()` is the first error a stream failed with (e.g. ARTIFACT.INTEGRITY_FAILED), as it was before nodemailer
 * rewrote its code to ESTREAM.
 */
export async function openStreamedAttachments(message: PreparedMessage, artifacts: StepArtifacts | undefined): Promise<{ message: SendableMessage; close(): void; failure(): unknown }> {
  const streams: Readable[] = [];
  let failure: unknown;
  const remember = (error: unknown) => {
    failure ??= error instanceof AppError ? new AppError(error.code, error.message, { ...error.options, cause: error }) : error;
  };
  const close = () => {
    for (const stream of streams) if (!stream.destroyed) stream.destroy();
  };
  const total = streamedBytes(message.attachments);
  if (total > MAX_STREAMED_ATTACHMENT_BYTES) throw tooLarge(total, MAX_STREAMED_ATTACHMENT_BYTES, 'an SMTP message');
  try {
    const attachments: SendableAttachment[] = [];
    for (const attachment of message.attachments) {
      if ('content' in attachment) {
        attachments.push(attachment);
        continue;
      }
      const { stream } = await needArtifacts(artifacts).open(attachment.artifact);
      // Registered before nodemailer's own listener, so it sees the error first.
      stream.on('error', remember);
      streams.push(stream);
      attachments.push({ filename: attachment.filename, contentType: attachment.contentType, content: stream });
    }
    return { message: { ...message, attachments }, close, failure: () => failure };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * SendGrid: reads every artifact attachment into memory for the base64 JSON body. All attachments together may
 * be at most MAX_SENDGRID_ATTACHMENT_BYTES (EMAIL.ATTACHMENT_TOO_LARGE before anything is read).
 */
export async function readAttachments(message: PreparedMessage, artifacts: StepArtifacts | undefined): Promise<SendableMessage<Buffer>> {
  const total = message.attachments.reduce((sum, a) => sum + ('artifact' in a ? a.artifact.size : a.content.length), 0);
  if (total > MAX_SENDGRID_ATTACHMENT_BYTES) throw tooLarge(total, MAX_SENDGRID_ATTACHMENT_BYTES, 'SendGrid (base64 in its JSON body)');
  const attachments: Array<SendableAttachment & { content: Buffer }> = [];
  for (const attachment of message.attachments) {
    if ('content' in attachment) {
      attachments.push(attachment);
      continue;
    }
    const { stream } = await needArtifacts(artifacts).open(attachment.artifact);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    attachments.push({ filename: attachment.filename, contentType: attachment.contentType, content: Buffer.concat(chunks) });
  }
  return { ...message, attachments };
}
