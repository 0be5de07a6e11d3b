/**
 * The one place that touches the `smpp` package's codec. Relais encodes and decodes message
 * text itself (the package's GSM handling is wrong, see STACK.md), so the package's text filters
 * are removed here: short_message and message_payload travel as raw Buffers both ways.
 */
import smpp from 'smpp';

for (const command of ['submit_sm', 'deliver_sm', 'data_sm', 'submit_multi', 'replace_sm']) {
  const param = smpp.commands[command]?.params?.short_message;
  if (param) delete param.filter;
}
if (smpp.tlvs.message_payload) delete smpp.tlvs.message_payload.filter;

/**
 * Framing, made strict where the package is lax and lenient where it gives up too soon:
 * - a command_length shorter than a header (0..15) is a lost framing: an error at once (the
 *   package would read 0..4 as "no data yet" and wait forever, or throw later on a short buffer);
 * - a PDU whose command_length bytes arrived but whose body does not decode (a TLV or a field
 *   running past its end) costs only that PDU: it comes out as its header, marked `malformed`
 *   with the reason, and the next PDU is read as usual. (The package emits `error` and then
 *   reads nothing more on the session, so one bad PDU cost the whole link.)
 */
const HEADER = 16;
const commandLength = smpp.PDU.commandLength;
smpp.PDU.commandLength = (stream) => {
  const length = commandLength(stream);
  if (length !== false && length < HEADER) throw new Error(`command_length ${length} is shorter than a PDU header: framing lost`);
  return length;
};
smpp.PDU.fromStream = (stream, length) => {
  const rest = stream.read(length - 4) as Buffer | null;
  if (!rest) return false;
  const buffer = Buffer.alloc(length);
  buffer.writeUInt32BE(length, 0);
  rest.copy(buffer, 4);
  try {
    return new smpp.PDU(buffer);
  } catch (err) {
    const header = Buffer.from(buffer.subarray(0, HEADER));
    header.writeUInt32BE(HEADER, 0);
    const pdu = new smpp.PDU(header);
    pdu.command_length = length;
    pdu.malformed = err instanceof Error ? err.message : String(err);
    return pdu;
  }
};

export { smpp };
export type { PDU, Session, Server } from 'smpp';

/** SMPP 3.4 command_status values Relais reacts to. */
export const Status = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDLEN: 0x02,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVSRCADR: 0x0a,
  ESME_RINVDSTADR: 0x0b,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RTHROTTLED: 0x58,
  ESME_RX_T_APPN: 0x64,
  ESME_RX_P_APPN: 0x65,
} as const;

export const DataCoding = { SMSC_DEFAULT: 0x00, IA5: 0x01, LATIN1: 0x03, UCS2: 0x08 } as const;

/** esm_class bits. */
export const EsmClass = { UDHI: 0x40, RECEIPT: 0x04, MASK_TYPE: 0x3c } as const;
