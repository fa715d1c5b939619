import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmailConnector, type EmailConnectorOptions } from '../../shared/connectors/email/emailConnector.js';
import { ConnectorError, ConnectorRegistry, type ActionContext } from '../../shared/connectors/sdk.js';
import { AppError, ValidationError } from '../../shared/domain/errors.js';
import { MemoryArtifactStore } from '../../shared/adapters/memory/memoryArtifactStore.js';
import { sha256Hex, type ArtifactRef } from '../../shared/ports/artifactStore.js';
import { artifactContext, artifactName } from '../support/artifactContext.js';

const USER = 'mailer';
const PASSWORD = 's3cret-Pa55word-xyz';
const API_KEY = 'SG.test-key-0123456789abcdef';

interface Received {
  envelope: SMTPServerSession['envelope'];
  raw: string;
  parsed: ParsedMail;
}

let smtp: SMTPServer;
let smtpPort = 0;
let connections = 0;
const received: Received[] = [];

let sendGrid: http.Server;
let sendGridPort = 0;
const sendGridSeen: Array<{ path: string; headers: http.IncomingHttpHeaders; body: unknown }> = [];

const context: ActionContext = { tenantId: 't1', runId: 'run-1', stepId: 'step-1', signal: new AbortController().signal, log: () => undefined };

function rcptError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

beforeAll(async () => {
  smtp = new SMTPServer({
    logger: false,
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      // The reply echoes the password on purpose: the connector must never pass the reply text on.
      return callback(rcptError(`Invalid login for ${auth.username ?? ''} with ${auth.password ?? ''}`, 535));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      if (address.address.startsWith('nobody@')) return callback(rcptError('No such user here', 550));
      if (address.address.startsWith('later@')) return callback(rcptError('Greylisted, try again later', 451));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            received.push({ envelope: structuredClone(session.envelope), raw: raw.toString('utf8'), parsed });
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  sendGrid = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = null;
      }
      sendGridSeen.push({ path: req.url ?? '', headers: req.headers, body });
      const subject = (body as { subject?: unknown } | null)?.subject;
      if (req.method !== 'POST' || req.url !== '/v3/mail/send' || req.headers.authorization !== `Bearer ${API_KEY}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'unauthorized' }] }));
      } else if (subject === 'rate') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
        res.end(JSON.stringify({ errors: [{ message: 'too many requests' }] }));
      } else if (subject === 'bad') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: `bad request for key ${API_KEY}` }] }));
      } else {
        res.writeHead(202, { 'x-message-id': 'sg-msg-123' });
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => sendGrid.listen(0, '127.0.0.1', resolve));
  sendGridPort = (sendGrid.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await new Promise<void>((resolve) => sendGrid.close(() => resolve()));
});

beforeEach(() => {
  received.length = 0;
  sendGridSeen.length = 0;
  connections = 0;
});

function registryFor(options: EmailConnectorOptions): ConnectorRegistry {
  return new ConnectorRegistry([createEmailConnector(options)]);
}

const loopbackSmtp = (): EmailConnectorOptions => ({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [smtpPort] } });

/** Validates against the schema (as the engine does), then runs the action. */
async function call(registry: ConnectorRegistry, action: 'send' | 'sendGrid', input: Record<string, unknown>, actionContext: ActionContext = context): Promise<unknown> {
  registry.validateInput('email', action, input);
  return registry.action('email', action).run(input as never, actionContext);
}

/** The context of a step of `tenantId`, with that tenant's egress allow-list (none: the operator's alone). */
const tenantContext = (tenantId: string, egress?: ActionContext['egress']): ActionContext => ({ ...context, tenantId, ...(egress ? { egress } : {}) });

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorError);
    return error as ConnectorError;
  }
  throw new Error('expected a failure');
}

function smtpInput(overrides: Record<string, unknown> = {}, server: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    smtp: { host: '127.0.0.1', port: smtpPort, secure: false, startTls: 'opportunistic', username: USER, password: PASSWORD, ...server },
    from: 'AutomateIQ <robot@example.com>',
    to: ['alice@example.com', 'Bob <bob@example.com>'],
    subject: 'Hello',
    text: 'plain body',
    ...overrides,
  };
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((item) => item.value.map((a) => a.address ?? ''));
}

describe('email.send (SMTP)', () => {
  it('delivers a full message: from/to/cc, bcc only in the envelope, subject, text, html, attachment bytes, custom header', async () => {
    const bytes = randomBytes(2048);
    const registry = registryFor(loopbackSmtp());
    const result = (await call(
      registry,
      'send',
      smtpInput({
        cc: 'carol@example.com',
        bcc: ['dave@example.com'],
        replyTo: 'support@example.com',
        subject: 'Quarterly report ✓',
        text: 'See attached.',
        html: '<p>See <b>attached</b>.</p>',
        attachments: [
          { filename: 'report.bin', contentType: 'application/octet-stream', content: bytes.toString('base64'), encoding: 'base64' },
          { filename: 'notes.txt', content: 'hello notes' },
        ],
        headers: { 'X-Campaign': 'q3-2026' },
      }),
    )) as { messageId: string; accepted: string[]; rejected: string[] };

    expect(result.messageId).toMatch(/^<.+@.+>$/);
    expect(result.accepted.sort()).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com']);
    expect(result.rejected).toEqual([]);
    expect(received).toHaveLength(1);
    const mail = received[0]!;
    expect(mail.envelope.rcptTo.map((r) => r.address).sort()).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com']);
    expect(mail.envelope.mailFrom && mail.envelope.mailFrom.address).toBe('robot@example.com');
    expect(addresses(mail.parsed.from)).toEqual(['robot@example.com']);
    expect(mail.parsed.from?.value[0]?.name).toBe('AutomateIQ');
    expect(addresses(mail.parsed.to)).toEqual(['alice@example.com', 'bob@example.com']);
    expect(addresses(mail.parsed.cc)).toEqual(['carol@example.com']);
    expect(addresses(mail.parsed.replyTo)).toEqual(['support@example.com']);
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.raw).not.toMatch(/^bcc:/im);
    expect(mail.raw).not.toContain('dave@example.com');
    expect(mail.parsed.subject).toBe('Quarterly report ✓');
    expect(mail.parsed.text?.trim()).toBe('See attached.');
    expect(mail.parsed.html).toContain('<p>See <b>attached</b>.</p>');
    expect(mail.parsed.messageId).toBe(result.messageId);
    expect(mail.parsed.attachments).toHaveLength(2);
    const binary = mail.parsed.attachments.find((a) => a.filename === 'report.bin');
    expect(binary?.contentType).toBe('application/octet-stream');
    expect(Buffer.compare(binary!.content, bytes)).toBe(0);
    expect(mail.parsed.attachments.find((a) => a.filename === 'notes.txt')?.content.toString('utf8')).toBe('hello notes');
    expect(mail.parsed.headers.get('x-campaign')).toBe('q3-2026');
  });

  it('reports a wrong password as a permanent auth failure without the password in the message', async () => {
    const error = await failure(call(registryFor(loopbackSmtp()), 'send', smtpInput({}, { password: 'wrong-' + PASSWORD })));
    expect(error.code).toBe('EMAIL.SMTP_AUTH_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(PASSWORD);
    expect(JSON.stringify(error.details)).not.toContain(PASSWORD);
    expect(received).toHaveLength(0);
    expect(connections).toBe(1);
  });

  it('reports a 550 recipient rejection as permanent', async () => {
    const error = await failure(call(registryFor(loopbackSmtp()), 'send', smtpInput({ to: 'nobody@example.com' })));
    expect(error.code).toBe('EMAIL.SMTP_REJECTED');
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ responseCode: 550 });
    expect(error.message).not.toContain('No such user');
    expect(received).toHaveLength(0);
  });

  it('returns partly rejected recipients in rejected', async () => {
    const result = (await call(registryFor(loopbackSmtp()), 'send', smtpInput({ to: ['alice@example.com', 'nobody@example.com'] }))) as { accepted: string[]; rejected: string[] };
    expect(result.accepted).toEqual(['alice@example.com']);
    expect(result.rejected).toEqual(['nobody@example.com']);
    expect(received).toHaveLength(1);
  });

  it('reports a 451 (temporary) reply as retryable', async () => {
    const error = await failure(call(registryFor(loopbackSmtp()), 'send', smtpInput({ to: 'later@example.com' })));
    expect(error.code).toBe('EMAIL.SMTP_DEFERRED');
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ responseCode: 451 });
  });

  it('reports a refused connection as retryable', async () => {
    const spare = http.createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const closedPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    const registry = registryFor({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [closedPort] } });
    const error = await failure(call(registry, 'send', smtpInput({}, { port: closedPort })));
    expect(error.code).toBe('EMAIL.SMTP_CONNECTION_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).not.toContain(PASSWORD);
  });

  it('blocks a host that is not allow-listed (SSRF.BLOCKED) before any connection', async () => {
    const registry = registryFor({ egress: { allowPorts: [smtpPort] } });
    const error = await failure(call(registry, 'send', smtpInput()));
    expect(error.code).toBe('SSRF.BLOCKED');
    expect(error.retryable).toBe(false);
    expect(connections).toBe(0);
  });

  it("reaches the SMTP server through the calling tenant's egress allow-list only", async () => {
    const registry = registryFor({});
    await call(registry, 'send', smtpInput(), tenantContext('open', { allowHosts: ['127.0.0.1'], allowPorts: [smtpPort] }));
    expect(received).toHaveLength(1);
    const closed = await failure(call(registry, 'send', smtpInput(), tenantContext('closed')));
    expect(closed.code).toBe('SSRF.BLOCKED');
    expect(received).toHaveLength(1);
  });

  it('blocks a host name that resolves to a private address before any connection', async () => {
    const registry = registryFor({ egress: { allowPorts: [smtpPort] }, resolver: async () => [{ address: '127.0.0.1', family: 4 }] });
    const error = await failure(call(registry, 'send', smtpInput({}, { host: 'smtp.example.com' })));
    expect(error.code).toBe('SSRF.BLOCKED');
    expect(connections).toBe(0);
  });

  it('blocks a port that is neither 25/465/587 nor allow-listed', async () => {
    const registry = registryFor({ egress: { allowHosts: ['127.0.0.1'] } });
    const error = await failure(call(registry, 'send', smtpInput()));
    expect(error.code).toBe('SSRF.BLOCKED');
    expect(error.message).toContain(`port ${smtpPort}`);
    expect(connections).toBe(0);
  });

  it('refuses CR/LF in a header or the subject in the schema', () => {
    const registry = registryFor(loopbackSmtp());
    expect(() => registry.validateInput('email', 'send', smtpInput({ subject: 'Hi\r\nBcc: victim@example.com' }))).toThrow(ValidationError);
    expect(() => registry.validateInput('email', 'send', smtpInput({ headers: { 'X-Test': 'a\r\nBcc: victim@example.com' } }))).toThrow(ValidationError);
    expect(() => registry.validateInput('email', 'send', smtpInput({ headers: { 'X-Bad\r\nBcc': 'a' } }))).toThrow(ValidationError);
    expect(() => registry.validateInput('email', 'send', smtpInput({ to: 'a@example.com\r\nRCPT TO:<x@example.com>' }))).toThrow(ValidationError);
    expect(() => registry.validateInput('email', 'send', smtpInput({ text: undefined }))).toThrow(ValidationError);
    expect(() => registry.validateInput('email', 'send', smtpInput({ extra: true }))).toThrow(ValidationError);
    expect(() => registry.validateInput('email', 'send', smtpInput({ attachments: Array.from({ length: 11 }, (_, i) => ({ filename: `f${i}.txt`, content: 'x' })) }))).toThrow(ValidationError);
    expect(() => registry.validateInput('email', 'send', smtpInput({ headers: { 'X-Test': 'fine' } }))).not.toThrow();
  });

  it('refuses CR/LF in a header or the subject at run time (schema bypassed) before any connection', async () => {
    const action = registryFor(loopbackSmtp()).action('email', 'send');
    const headerError = await failure(action.run(smtpInput({ headers: { 'X-Test': 'a\r\nBcc: victim@example.com' } }) as never, context));
    expect(headerError.code).toBe('EMAIL.INPUT_INVALID');
    const subjectError = await failure(action.run(smtpInput({ subject: 'Hi\nBcc: victim@example.com' }) as never, context));
    expect(subjectError.code).toBe('EMAIL.INPUT_INVALID');
    const reserved = await failure(action.run(smtpInput({ headers: { Bcc: 'victim@example.com' } }) as never, context));
    expect(reserved.code).toBe('EMAIL.INPUT_INVALID');
    expect(connections).toBe(0);
  });

  it('refuses attachments over 10 MB in all before any connection', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024, 1).toString('base64');
    const error = await failure(
      call(registryFor(loopbackSmtp()), 'send', smtpInput({ attachments: [{ filename: 'a.bin', content: big, encoding: 'base64' }, { filename: 'b.bin', content: big, encoding: 'base64' }] })),
    );
    expect(error.code).toBe('EMAIL.INPUT_INVALID');
    expect(connections).toBe(0);
  });
});

describe('email.sendGrid', () => {
  const sendGridOptions = (): EmailConnectorOptions => ({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [sendGridPort] }, sendGridBaseUrl: `http://127.0.0.1:${sendGridPort}` });

  function sendGridInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { apiKey: API_KEY, from: 'AutomateIQ <robot@example.com>', to: 'alice@example.com', subject: 'Hello', text: 'plain', ...overrides };
  }

  it("reaches the API through the calling tenant's egress allow-list only", async () => {
    const registry = registryFor({ sendGridBaseUrl: `http://127.0.0.1:${sendGridPort}` });
    const closed = await failure(call(registry, 'sendGrid', sendGridInput(), tenantContext('closed')));
    expect(closed.code).toBe('SSRF.BLOCKED');
    expect(sendGridSeen).toHaveLength(0);
    await call(registry, 'sendGrid', sendGridInput(), tenantContext('open', { allowHosts: ['127.0.0.1'], allowPorts: [sendGridPort] }));
    expect(sendGridSeen).toHaveLength(1);
  });

  it('posts the v3 body with the bearer key and returns the message id', async () => {
    const result = await call(
      registryFor(sendGridOptions()),
      'sendGrid',
      sendGridInput({
        to: ['alice@example.com', '"Bob B" <bob@example.com>'],
        cc: 'carol@example.com',
        bcc: 'dave@example.com',
        replyTo: 'support@example.com',
        html: '<p>hi</p>',
        attachments: [{ filename: 'notes.txt', contentType: 'text/plain', content: 'hello notes' }],
        headers: { 'X-Campaign': 'q3' },
      }),
    );
    expect(result).toEqual({ accepted: true, messageId: 'sg-msg-123' });
    expect(sendGridSeen).toHaveLength(1);
    const seen = sendGridSeen[0]!;
    expect(seen.path).toBe('/v3/mail/send');
    expect(seen.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.body).toEqual({
      personalizations: [
        {
          to: [{ email: 'alice@example.com' }, { email: 'bob@example.com', name: 'Bob B' }],
          cc: [{ email: 'carol@example.com' }],
          bcc: [{ email: 'dave@example.com' }],
        },
      ],
      from: { email: 'robot@example.com', name: 'AutomateIQ' },
      reply_to: { email: 'support@example.com' },
      subject: 'Hello',
      content: [
        { type: 'text/plain', value: 'plain' },
        { type: 'text/html', value: '<p>hi</p>' },
      ],
      attachments: [{ content: Buffer.from('hello notes').toString('base64'), filename: 'notes.txt', type: 'text/plain', disposition: 'attachment' }],
      headers: { 'X-Campaign': 'q3' },
    });
  });

  it('reports 429 as retryable', async () => {
    const error = await failure(call(registryFor(sendGridOptions()), 'sendGrid', sendGridInput({ subject: 'rate' })));
    expect(error.code).toBe('EMAIL.SENDGRID_STATUS');
    expect(error.retryable).toBe(true);
    expect(error.options.retryAfterSeconds).toBe(3);
    expect(error.details).toMatchObject({ status: 429 });
  });

  it('reports 400 as permanent, with the status only and never the api key', async () => {
    const error = await failure(call(registryFor(sendGridOptions()), 'sendGrid', sendGridInput({ subject: 'bad' })));
    expect(error.code).toBe('EMAIL.SENDGRID_STATUS');
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({ status: 400, host: '127.0.0.1' });
    expect(error.message).toContain('400');
    expect(error.message).not.toContain(API_KEY);
    expect(JSON.stringify(error.details)).not.toContain(API_KEY);
  });

  it('blocks a SendGrid base URL that is not allow-listed before any request', async () => {
    const error = await failure(call(registryFor({ egress: { allowPorts: [sendGridPort] }, sendGridBaseUrl: `http://127.0.0.1:${sendGridPort}` }), 'sendGrid', sendGridInput()));
    expect(error.code).toBe('SSRF.BLOCKED');
    expect(error.message).not.toContain(API_KEY);
    expect(sendGridSeen).toHaveLength(0);
  });
});

describe('email attachments from artifacts', () => {
  const code = async (promise: Promise<unknown>): Promise<string> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).code;
  };
  /** A reference claiming `size` bytes (the size checks run on the claim, before anything is opened). */
  const claiming = (ref: ArtifactRef, size: number): ArtifactRef => ({ ...ref, size });

  it('send streams artifact attachments into the message, typed from the artifact unless given', async () => {
    const store = new MemoryArtifactStore();
    const acme = artifactContext(store);
    const pdf = randomBytes(3 * 1024 * 1024 + 5);
    const ref = await acme.artifacts!.create([pdf], { contentType: 'application/pdf', name: 'invoice.pdf' });
    const csv = await acme.artifacts!.create([Buffer.from('a,b\n1,2\n')], { contentType: 'text/csv' });
    await call(registryFor(loopbackSmtp()), 'send', smtpInput({ attachments: [{ filename: 'invoice.pdf', content: ref }, { filename: 'data.txt', contentType: 'text/plain', content: csv }, { filename: 'inline.txt', content: 'inline' }] }), acme);
    expect(received).toHaveLength(1);
    const [invoice, data, inline] = received[0]!.parsed.attachments;
    expect(invoice).toMatchObject({ filename: 'invoice.pdf', contentType: 'application/pdf' });
    expect(sha256Hex(invoice!.content)).toBe(sha256Hex(pdf));
    expect(data).toMatchObject({ filename: 'data.txt', contentType: 'text/plain' });
    expect(data!.content.toString()).toBe('a,b\n1,2\n');
    expect(inline!.content.toString()).toBe('inline');
  });

  it('send refuses another tenant’s artifact, too much in all, and altered content, delivering nothing', async () => {
    const store = new MemoryArtifactStore();
    const acme = artifactContext(store);
    const ref = await acme.artifacts!.create([randomBytes(200_000)], { contentType: 'application/octet-stream' });
    const registry = registryFor(loopbackSmtp());
    expect(await code(call(registry, 'send', smtpInput({ attachments: [{ filename: 'x.bin', content: ref }] }), artifactContext(store, 'globex')))).toBe('ARTIFACT.NOT_FOUND');
    expect(await code(call(registry, 'send', smtpInput({ attachments: [{ filename: 'x.bin', content: claiming(ref, 60 * 1024 * 1024) }, { filename: 'y.bin', content: claiming(ref, 60 * 1024 * 1024) }] }), acme))).toBe('EMAIL.ATTACHMENT_TOO_LARGE');
    expect(connections).toBe(0);
    expect(await code(call(registry, 'send', smtpInput({ attachments: [{ filename: 'x.bin', content: ref }] })))).toBe('EMAIL.INPUT_INVALID');
    store.tamper('acme', artifactName(ref.$artifact), randomBytes(200_000));
    expect(await code(call(registry, 'send', smtpInput({ attachments: [{ filename: 'x.bin', content: ref }] }), acme))).toBe('ARTIFACT.INTEGRITY_FAILED');
    expect(received).toHaveLength(0);
  });

  it('sendGrid base64-encodes artifact attachments, at most 20 MiB in all, before any request', async () => {
    const store = new MemoryArtifactStore();
    const acme = artifactContext(store);
    const bytes = randomBytes(100_000);
    const ref = await acme.artifacts!.create([bytes], { contentType: 'image/png' });
    const registry = registryFor({ egress: { allowHosts: ['127.0.0.1'], allowPorts: [sendGridPort] }, sendGridBaseUrl: `http://127.0.0.1:${sendGridPort}` });
    const input = (attachments: unknown[]) => ({ apiKey: API_KEY, from: 'robot@example.com', to: 'alice@example.com', subject: 'Hello', text: 'plain', attachments });
    await call(registry, 'sendGrid', input([{ filename: 'chart.png', content: ref }]), acme);
    expect((sendGridSeen[0]!.body as { attachments: unknown[] }).attachments).toEqual([{ content: bytes.toString('base64'), filename: 'chart.png', type: 'image/png', disposition: 'attachment' }]);
    sendGridSeen.length = 0;
    expect(await code(call(registry, 'sendGrid', input([{ filename: 'a.png', content: claiming(ref, 15 * 1024 * 1024) }, { filename: 'b.txt', content: 'x'.repeat(6 * 1024 * 1024) }]), acme))).toBe('EMAIL.ATTACHMENT_TOO_LARGE');
    expect(sendGridSeen).toHaveLength(0);
  });
});
