import { linearToAlaw, linearToUlaw } from '../../media/audio/g711.js';

/**
 * Writes 8 kHz PCM16 audio as a pcap of RTP packets for sipp's play_pcap_audio, the way a phone would send a
 * caller's speech: PCMU (payload type 0) by default, PCMA (8) when asked, 20 ms packets unless `ptimeMs` says
 * otherwise (carriers send 30). sipp rewrites addresses and ports; it keeps the payload and the timing.
 */

function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export function rtpPcap(
  samples: Int16Array,
  opts: { payloadType?: number; ssrc?: number; ptimeMs?: number } = {},
): Buffer {
  const PACKET_SAMPLES = 8 * (opts.ptimeMs ?? 20);
  const encode = opts.payloadType === 8 ? linearToAlaw : linearToUlaw;
  const records: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20); // Ethernet
  records.push(global);
  const packets = Math.ceil(samples.length / PACKET_SAMPLES);
  for (let n = 0; n < packets; n++) {
    const rtp = Buffer.alloc(12 + PACKET_SAMPLES);
    rtp[0] = 0x80;
    rtp[1] = (opts.payloadType ?? 0) & 0x7f;
    rtp.writeUInt16BE(n & 0xffff, 2);
    rtp.writeUInt32BE((n * PACKET_SAMPLES) >>> 0, 4);
    rtp.writeUInt32BE(opts.ssrc ?? 0x0122abcd, 8);
    for (let i = 0; i < PACKET_SAMPLES; i++) rtp[12 + i] = encode(samples[n * PACKET_SAMPLES + i] ?? 0);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(16384, 0);
    udp.writeUInt16BE(16384, 2);
    udp.writeUInt16BE(8 + rtp.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + udp.length + rtp.length, 2);
    ip[8] = 64;
    ip[9] = 17; // UDP
    Buffer.from([127, 0, 0, 1]).copy(ip, 12);
    Buffer.from([127, 0, 0, 1]).copy(ip, 16);
    ip.writeUInt16BE(ipChecksum(ip), 10);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([eth, ip, udp, rtp]);
    const rec = Buffer.alloc(16);
    const us = n * PACKET_SAMPLES * 125;
    rec.writeUInt32LE(Math.floor(us / 1_000_000), 0);
    rec.writeUInt32LE(us % 1_000_000, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    records.push(rec, frame);
  }
  return Buffer.concat(records);
}
