/**
 * The wire protocol between the pool and its workers (shared/PROTOCOL.md): length-prefixed frames
 * carrying MessagePack-RPC arrays.
 * <ul>
 * <li>{@link dev.folk.core.protocol.MessageCodec} frames, encodes and decodes, one instance per
 *     worker connection.</li>
 * <li>{@link dev.folk.core.protocol.Message} with its {@code Request}, {@code Response} and
 *     {@code Notify} records, and {@link dev.folk.core.protocol.RemoteError}.</li>
 * <li>{@link dev.folk.core.protocol.ProtocolException} for any broken contract, with
 *     {@link dev.folk.core.protocol.FrameTooLargeException} for frames over the size limit.</li>
 * <li>{@link dev.folk.core.protocol.Values}: the value mapping, and helpers for PHP's quirks.</li>
 * </ul>
 *
 * <h2>Value mapping in short</h2>
 * Decoding: nil→null, bool→Boolean, int→Long (uint64 above Long.MAX_VALUE→BigInteger),
 * float→Double, str→String if valid UTF-8 else byte[] (PHP packs binary as str: no byte is ever
 * lost), bin→byte[], array→ArrayList, map→LinkedHashMap (keys String, Long or null; a PHP object
 * is a map with a null key holding its class name), timestamp ext→Instant, other ext→error.
 * <p>
 * Encoding: null, Boolean, integral numbers (smallest encoding), Float/Double (float64), String,
 * CharSequence, Enum (name), byte[] and ByteBuffer (bin), Map, Collection and Object[] (array),
 * Optional, Instant. Anything else is an IllegalArgumentException naming the value's path.
 * <b>Empty maps:</b> PHP unpacks an empty msgpack map as an object, so an empty Map as top-level
 * request/notify params is sent as nil and an empty Map anywhere else as an empty array.
 * <p>
 * Hostile input: decoding throws nothing but {@code ProtocolException}, allocates nothing a
 * declared length asks for before checking it fits in the payload, and caps nesting at 256 levels.
 * See {@link dev.folk.core.protocol.Values} for the full table.
 */
@NullMarked
package dev.folk.core.protocol;

import org.jspecify.annotations.NullMarked;
