/**
 * Iridium Short Burst Data (issue #16): the 9602/9603 AT driver (AT+SBDWB with its checksum,
 * AT+SBDIX sessions with back-off, AT+SBDRB, ring alerts, AT+CSQ) over any serial byte stream.
 * Tested against an emulator on a pseudo-terminal only: no real modem was available.
 */
export { AtPort, sbdChecksum, type ByteDuplex } from './at-port.ts';
export { SbdModem, parseSbdix, DEFAULT_SBD_MODEM_OPTIONS, SBD_MO_MAX_BYTES, SBD_MT_MAX_BYTES, type SbdModemOptions, type SbdSendReport, type SbdSession } from './modem.ts';
export { openSerialDevice } from './serial.ts';
export { parseMoMessage, encodeMoMessage, encodeMoConfirmation, parseMoConfirmation, directIpMessageLength, moSessionDelivered, isValidImei, DIRECTIP_MO_MAX_BYTES, DIRECTIP_MO_PAYLOAD_MAX, DIRECTIP_PREAMBLE_BYTES, encodeMtMessage, parseMtMessage, encodeMtConfirmation, parseMtConfirmation, mtStatusTransient, MT_STATUS_TEXT, DIRECTIP_MT_PAYLOAD_MAX, type MoHeader, type MoMessage, type MtMessage, type MtConfirmation } from './directip.ts';
export { sendDirectIpMt } from './directip-mt.ts';
