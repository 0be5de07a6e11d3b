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
