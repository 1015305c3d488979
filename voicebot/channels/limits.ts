/**
 * Limits every channel applies to what a caller sends, so that a chat message and a voice turn recognized on
 * the telephony side are held to the same rules.
 */

/** The longest caller turn, in characters: a chat message or a transcript frame on the media socket. */
export const MAX_CALLER_TEXT_CHARS = 1000;
