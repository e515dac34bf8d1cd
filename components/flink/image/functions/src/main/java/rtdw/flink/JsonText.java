package rtdw.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectReader;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectWriter;

import org.apache.flink.core.memory.MemorySegment;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryStringData;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What Flink 1.20's JSON_VALUE and JSON_QUERY return, computed from one pass over the text. Flink
 * reads a payload with a default Jackson ObjectMapper through JsonPath: the first JSON value of the
 * text counts, trailing text is ignored, the last of duplicate keys wins, and any syntax error makes
 * every call on that text NULL. JSON_VALUE renders a scalar as Jackson read it (Integer / Long /
 * BigInteger, Double, Boolean, String) and gives NULL for null, objects and arrays; JSON_QUERY writes
 * an object or array back with Jackson (keys in input order) and gives NULL for a scalar.
 */
final class JsonText {
    private JsonText() {}

    static final JsonFactory FACTORY = new JsonFactory();
    /** What JsonPath's default Jackson provider parses with. */
    static final ObjectReader VALUE_READER = new ObjectMapper(FACTORY).readerFor(Object.class);
    /** How JSON_QUERY serialises a result in Flink 1.20 (JsonPath's provider: keys in input order). */
    private static final ObjectWriter QUERY_WRITER = new ObjectMapper(FACTORY).writer();

    /**
     * A payload ready to be read: its bytes where they read the same as the String Flink would hand a
     * function (its UTF-8 decoded), so that nothing is decoded where that cannot change a thing: a
     * payload that is well-formed UTF-8, starts with '{' and has no NUL byte reads the same from its
     * bytes (no byte-order mark or UTF-16/32 guess can apply, and every decoder agrees on well-formed
     * UTF-8). Anything else is decoded as Flink decodes it (malformed bytes become U+FFFD) and read
     * from the String.
     */
    static Payload payload(StringData payload) {
        BinaryStringData text = (BinaryStringData) payload;
        text.ensureMaterialized();
        MemorySegment[] segments = text.getSegments();
        int size = text.getSizeInBytes();
        if (segments.length == 1 && !segments[0].isOffHeap()) {
            // read in place: a Kafka record's value is one heap array
            return new Payload(text, segments[0].getArray(), text.getOffset(), size);
        }
        return new Payload(text, text.toBytes(), 0, size);
    }

    /** A payload and how it is read: {@link #asIs} from {@code bytes[offset, offset + size)}, else from its decoded String. */
    static final class Payload {
        private final BinaryStringData text;
        final byte[] bytes;
        final int offset;
        final int size;
        final boolean asIs;

        private Payload(BinaryStringData text, byte[] bytes, int offset, int size) {
            this.text = text;
            this.bytes = bytes;
            this.offset = offset;
            this.size = size;
            this.asIs = readsAsIs(bytes, offset, size);
        }

        JsonParser parser() throws IOException {
            return asIs ? FACTORY.createParser(bytes, offset, size) : FACTORY.createParser(text.toString());
        }
    }

    /** Starts with '{', has no NUL and is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF). */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static boolean readsAsIs(byte[] b, int offset, int size) {
        int n = offset + size;
        if (size == 0 || b[offset] != '{') return false;
        int i = offset;
        while (i < n) {
            // Eight bytes at a time while they are ASCII without NUL: a tracking event mostly is.
            while (i + 8 <= n) {
                long w = (long) LONGS.get(b, i);
                if (((w | (w - 0x0101010101010101L)) & 0x8080808080808080L) != 0) break;
                i += 8;
            }
            if (i >= n) break;
            int c = b[i];
            if (c > 0) {
                i++;
                continue;
            }
            if (c == 0) return false;
            c &= 0xFF;
            if (c < 0xC2) return false; // a continuation byte, or an overlong 2-byte lead
            int need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : c < 0xF5 ? 3 : -1;
            if (need < 0 || i + need >= n) return false; // not a lead byte, or cut short
            int c1 = b[i + 1] & 0xFF;
            if ((c1 & 0xC0) != 0x80) return false;
            if (c == 0xE0 && c1 < 0xA0 || c == 0xED && c1 >= 0xA0 || c == 0xF0 && c1 < 0x90 || c == 0xF4 && c1 >= 0x90) return false;
            for (int k = 2; k <= need; k++) if ((b[i + k] & 0xC0) != 0x80) return false;
            i += need + 1;
        }
        return true;
    }

    /**
     * The UTF-8 bytes Flink stores for a String. Without surrogates UTF-8 has one encoding, so the JDK's
     * (much faster) encoder writes exactly those; a String with any surrogate goes through Flink's own
     * encoder, which decides what an unpaired one becomes.
     */
    static byte[] utf8(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            if (Character.isSurrogate(s.charAt(i))) return BinaryStringData.fromString(s).toBytes();
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** JSON_VALUE's text of the value at the parser: scalars as strings, null / objects / arrays as SQL NULL. */
    static String scalar(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberValue().toString();
            case VALUE_NUMBER_FLOAT:
                return Double.toString(p.getDoubleValue());
            case VALUE_TRUE:
                return "true";
            case VALUE_FALSE:
                return "false";
            case START_OBJECT:
            case START_ARRAY:
                p.skipChildren();
                return null;
            default:
                return null;
        }
    }

    private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
    private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
    private static final byte[] ZERO = {'0'};

    /**
     * {@link #scalar}'s text as the UTF-8 bytes Flink stores, without making a String where the text
     * is ASCII: a string's characters straight from the parser, and an integer's digits as written,
     * since JSON allows no leading zeros and Jackson renders the number it read with those same digits,
     * except -0, which it reads as 0. The arrays are copied into the row, so the constants are shared.
     */
    static byte[] scalarUtf8(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case VALUE_STRING:
            case VALUE_NUMBER_INT: {
                char[] chars = p.getTextCharacters();
                int offset = p.getTextOffset();
                int length = p.getTextLength();
                byte[] bytes = new byte[length];
                for (int i = 0; i < length; i++) {
                    char c = chars[offset + i];
                    if (c >= 0x80) return utf8(p.getText());
                    bytes[i] = (byte) c;
                }
                return t == JsonToken.VALUE_NUMBER_INT && length == 2 && bytes[0] == '-' && bytes[1] == '0' ? ZERO : bytes;
            }
            case VALUE_TRUE:
                return TRUE;
            case VALUE_FALSE:
                return FALSE;
            default:
                String text = scalar(p, t);
                return text == null ? null : utf8(text);
        }
    }

    /** JSON_VALUE's text of a value Jackson has read (a member of an object read by {@link #VALUE_READER}). */
    static String scalar(Object value) {
        if (value == null || value instanceof Map || value instanceof List) return null;
        return value.toString(); // Integer, Long, BigInteger, Double, Boolean, String: as JSON_VALUE renders them
    }

    /** JSON_QUERY's text of the value at the parser: objects and arrays serialised, scalars and null as SQL NULL. */
    static String query(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_OBJECT && t != JsonToken.START_ARRAY) {
            if (t == JsonToken.VALUE_STRING) p.getText(); // a broken string is a parse error, as for Jackson
            return null;
        }
        return QUERY_WRITER.writeValueAsString(VALUE_READER.readValue(p));
    }

    /** Thrown by {@link #queryStreaming} where only {@link #query} gives JSON_QUERY's answer. */
    static final class DuplicateKey extends RuntimeException {
        static final DuplicateKey INSTANCE = new DuplicateKey();

        private DuplicateKey() {
            super("a duplicate key", null, false, false);
        }
    }

    private static final Set<String> IN_ARRAY = Collections.emptySet();

    /**
     * {@link #query}'s text without building the value: the tokens are copied to the writer as they
     * come. Jackson writes a token the same whether it was read into a Map or is copied (numbers by
     * the type it parsed them as, strings escaped alike, keys in input order), except for a key that
     * occurs twice in an object: a Map keeps the last value at the first key's place. So a duplicate
     * key throws {@link DuplicateKey}, and the caller reads the payload again with {@link #query}.
     * A loop, not recursion: no depth of nesting runs it out of stack.
     */
    static String queryStreaming(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_OBJECT && t != JsonToken.START_ARRAY) return query(p, t);
        StringWriter text = new StringWriter(64);
        Deque<Set<String>> keys = new ArrayDeque<>(); // per open object the keys seen; IN_ARRAY for an array
        try (JsonGenerator out = FACTORY.createGenerator(text)) {
            for (; ; t = p.nextToken()) {
                if (t == null) throw new IOException("unterminated value");
                switch (t) {
                    case START_OBJECT:
                        keys.push(new HashSet<>());
                        out.writeStartObject();
                        break;
                    case START_ARRAY:
                        keys.push(IN_ARRAY);
                        out.writeStartArray();
                        break;
                    case END_OBJECT:
                    case END_ARRAY:
                        keys.pop();
                        out.copyCurrentEvent(p);
                        break;
                    case FIELD_NAME:
                        if (!keys.peek().add(p.currentName())) throw DuplicateKey.INSTANCE;
                        out.copyCurrentEvent(p);
                        break;
                    default:
                        out.copyCurrentEvent(p);
                }
                if (keys.isEmpty()) break;
            }
        }
        return text.toString();
    }

    /** Thrown by {@link #queryInPlace} where the payload's bytes are not what Jackson writes back. */
    static final class NotAsWritten extends RuntimeException {
        static final NotAsWritten INSTANCE = new NotAsWritten();

        private NotAsWritten() {
            super("not as Jackson writes it", null, false, false);
        }
    }

    /**
     * {@link #query}'s text as UTF-8 bytes, copied from the payload (read in place, see {@link Payload})
     * where they are exactly what Jackson would write back, which is how an SDK's JSON usually comes
     * through Vector: nothing between tokens, strings without a backslash (Jackson escapes only '"',
     * '\\' and control characters, which a JSON string cannot hold raw, and writes every other
     * character as it is), integers other than -0 (JSON has no leading zeros or '+', and the digits
     * written are the ones read), and decimals written as Double.toString writes the double they parse
     * to. The tokens are still read one by one: Jackson checks the syntax and finds the end, and a
     * repeated key throws {@link DuplicateKey} as in {@link #queryStreaming}. Anything else throws
     * {@link NotAsWritten}, and the caller reads the payload again with {@link #queryStreaming}.
     *
     * @param base the array index of the payload's first byte minus that byte's location as the parser counts it
     */
    static byte[] queryInPlace(JsonParser p, JsonToken t, byte[] bytes, long base) throws IOException {
        if (t != JsonToken.START_OBJECT && t != JsonToken.START_ARRAY) {
            query(p, t); // a scalar: SQL NULL, once a string's text is checked
            return null;
        }
        int from = (int) (base + p.currentTokenLocation().getByteOffset());
        Deque<Set<String>> keys = new ArrayDeque<>();
        for (; ; t = p.nextToken()) {
            if (t == null) throw new IOException("unterminated value");
            switch (t) {
                case START_OBJECT:
                    keys.push(new HashSet<>());
                    break;
                case START_ARRAY:
                    keys.push(IN_ARRAY);
                    break;
                case END_OBJECT:
                case END_ARRAY:
                    keys.pop();
                    break;
                case FIELD_NAME:
                    if (!keys.peek().add(p.currentName())) throw DuplicateKey.INSTANCE;
                    break;
                case VALUE_NUMBER_INT:
                    if (p.getTextLength() == 2 && p.getTextCharacters()[p.getTextOffset() + 1] == '0' && p.getTextCharacters()[p.getTextOffset()] == '-') {
                        throw NotAsWritten.INSTANCE;
                    }
                    break;
                case VALUE_NUMBER_FLOAT:
                    if (!Double.toString(p.getDoubleValue()).contentEquals(CharBuffer.wrap(p.getTextCharacters(), p.getTextOffset(), p.getTextLength()))) {
                        throw NotAsWritten.INSTANCE;
                    }
                    break;
                default:
                    break;
            }
            if (keys.isEmpty()) break;
        }
        int to = (int) (base + p.currentTokenLocation().getByteOffset()) + 1;
        boolean inString = false;
        for (int i = from; i < to; i++) {
            byte b = bytes[i];
            if (inString) {
                if (b == '\\') throw NotAsWritten.INSTANCE;
                if (b == '"') inString = false;
            } else if (b == '"') {
                inString = true;
            } else if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                throw NotAsWritten.INSTANCE;
            }
        }
        return Arrays.copyOfRange(bytes, from, to);
    }
}
