// Minimal typings for the parts of the `smpp` package (0.5.1) that Relais uses.
declare module 'smpp' {
  import { EventEmitter } from 'node:events';
  import { Server as NetServer, Socket } from 'node:net';

  export interface PDU {
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    command_length: number;
    [field: string]: any;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
    toBuffer(): Buffer;
  }
  export const PDU: {
    new (command: string, options?: Record<string, unknown>): PDU;
    new (buffer: Buffer): PDU;
    maxLength: number;
    /** The next PDU's command_length from the stream, false when 4 bytes are not there yet. */
    commandLength(stream: NodeJS.ReadableStream): number | false;
    /** The rest of a PDU of `length` bytes from the stream, false when it is not all there yet. */
    fromStream(stream: NodeJS.ReadableStream, length: number): PDU | false;
  };

  export class Session extends EventEmitter {
    constructor(options: { socket: Socket } | { host: string; port: number; [k: string]: unknown });
    socket: Socket;
    sequence: number;
    server?: Server;
    send(pdu: PDU, onResponse?: (resp: PDU) => void, onSent?: (pdu: PDU) => void): boolean;
    pause(): void;
    resume(): void;
    close(cb?: () => void): void;
    destroy(cb?: () => void): void;
    [command: string]: any;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export function connect(options: { host: string; port: number; [k: string]: unknown }, listener?: () => void): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;

  export const commands: Record<string, { id: number; params?: Record<string, { type: unknown; filter?: unknown }> }>;
  export const tlvs: Record<string, { id: number; filter?: unknown }>;
}
