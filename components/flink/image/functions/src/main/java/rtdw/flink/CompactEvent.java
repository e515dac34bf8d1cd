package rtdw.flink;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Reads a tracking event in the shape Vector writes it, byte by byte and without Jackson, and gives up
 * at the first thing outside that shape; {@link ParseTrackingEvent} then reads the payload with
 * Jackson as before. Only where the bytes admit no other reading does it answer, so its answers are
 * Jackson's:
 * <ul>
 *   <li>no whitespace between tokens (Vector writes none);
 *   <li>strings without a backslash or a control character: their text is their bytes (the payload is
 *       well-formed UTF-8, {@link JsonText#readsAsIs});
 *   <li>numbers in JSON's grammar; a top-level field's integer is its digits (-0 reads as 0), a
 *       top-level decimal gives up (JSON_VALUE renders the double, and no tracking field is one);
 *   <li>{@code properties} copied as its bytes where they are what JSON_QUERY writes back: object keys
 *       in strictly ascending byte order (Vector's maps are sorted, so no key repeats), no integer -0,
 *       and decimals exactly as Double.toString writes the double they parse to;
 *   <li>at most {@link #MAX_DEPTH} levels of nesting.
 * </ul>
 * Everything up to the end of the top-level object is checked; what follows it is ignored, as Jackson
 * ignores it. tests/integration/tracking-parse.test.ts compares the function with JSON_VALUE /
 * JSON_QUERY on payloads inside and outside this shape.
 */
final class CompactEvent {
    private CompactEvent() {}

    static final int MAX_DEPTH = 64;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
    private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};
    private static final byte[] ZERO = {'0'};

    /** Thrown where the bytes are outside the shape; a constant, as it only ever means "use Jackson". */
    private static final class Outside extends Exception {
        static final Outside INSTANCE = new Outside();

        private Outside() {
            super("outside the compact shape", null, false, false);
        }
    }

    /**
     * Fills {@code fields} (by output position; 0 takes what no output wants) from the object at
     * {@code b[offset]}, which is '{', and returns true; false where the payload is outside the shape,
     * with {@code fields} in an unspecified state.
     *
     * @param names the wanted keys' bytes in ascending order; {@code positions[k]} is where names[k] goes
     * @param properties the position whose value is kept as JSON text; every other wanted key keeps a scalar's text
     */
    static boolean read(byte[] b, int offset, int size, byte[][] names, int[] positions, int properties, byte[][] fields) {
        try {
            new Reader(b, offset + 1, offset + size).object(names, positions, properties, fields);
            return true;
        } catch (Outside | ArrayIndexOutOfBoundsException e) {
            return false;
        }
    }

    private static final class Reader {
        private final byte[] b;
        private final int end;
        private int i;

        Reader(byte[] b, int from, int end) {
            this.b = b;
            this.i = from;
            this.end = end;
        }

        private byte at(int k) throws Outside {
            if (k >= end) throw Outside.INSTANCE;
            return b[k];
        }

        void object(byte[][] names, int[] positions, int properties, byte[][] fields) throws Outside {
            if (at(i) == '}') return;
            int next = 0; // in names, the key expected next
            for (;;) {
                int keyFrom = string();
                int keyTo = i - 1;
                if (at(i++) != ':') throw Outside.INSTANCE;
                int position = 0;
                if (next < names.length && same(names[next], keyFrom, keyTo)) {
                    position = positions[next++];
                } else {
                    for (int k = 0; k < names.length; k++) {
                        if (same(names[k], keyFrom, keyTo)) {
                            position = positions[k];
                            next = k + 1;
                            break;
                        }
                    }
                }
                if (position == properties) {
                    fields[position] = query();
                } else {
                    byte[] value = scalar();
                    if (position != 0) fields[position] = value;
                }
                byte c = at(i++);
                if (c == '}') return;
                if (c != ',') throw Outside.INSTANCE;
            }
        }

        private boolean same(byte[] name, int from, int to) {
            // A loop, not Arrays.equals: names are a few bytes, and its vectorized compare cost more here.
            if (to - from != name.length) return false;
            for (int k = 0; k < name.length; k++) if (b[from + k] != name[k]) return false;
            return true;
        }

        /** Reads a string starting at i ('"'), leaves i after its closing quote, and returns where its text starts. */
        private int string() throws Outside {
            if (at(i) != '"') throw Outside.INSTANCE;
            int from = ++i;
            // Eight bytes at a time while none is '"', '\\' or a control character.
            while (i + 8 <= end) {
                long w = (long) LONGS.get(b, i);
                long quote = w ^ 0x2222222222222222L;
                long backslash = w ^ 0x5C5C5C5C5C5C5C5CL;
                long special = ((quote - 0x0101010101010101L) & ~quote) | ((backslash - 0x0101010101010101L) & ~backslash) | ((w - 0x2020202020202020L) & ~w);
                if ((special & 0x8080808080808080L) != 0) break;
                i += 8;
            }
            for (;;) {
                byte c = at(i++);
                if (c == '"') return from;
                if (c == '\\' || (c >= 0 && c < 0x20)) throw Outside.INSTANCE;
            }
        }

        /** JSON_VALUE's text of the value at i: a string's or an integer's bytes, true/false, or null (also for an object or array, once read). */
        private byte[] scalar() throws Outside {
            byte c = at(i);
            switch (c) {
                case '"': {
                    int from = string();
                    return Arrays.copyOfRange(b, from, i - 1);
                }
                case 't':
                    literal(TRUE);
                    return TRUE;
                case 'f':
                    literal(FALSE);
                    return FALSE;
                case 'n':
                    literal(NULL);
                    return null;
                case '{':
                case '[':
                    nested(false);
                    return null;
                default: {
                    int from = i;
                    if (number()) throw Outside.INSTANCE; // a decimal: JSON_VALUE renders the double
                    return i - from == 2 && b[from] == '-' && b[from + 1] == '0' ? ZERO : Arrays.copyOfRange(b, from, i);
                }
            }
        }

        /** JSON_QUERY's text of the value at i: an object's or array's bytes, or null for a scalar. */
        private byte[] query() throws Outside {
            byte c = at(i);
            if (c != '{' && c != '[') {
                scalar();
                return null;
            }
            int from = i;
            nested(true);
            return Arrays.copyOfRange(b, from, i);
        }

        private void literal(byte[] word) throws Outside {
            for (byte w : word) if (at(i++) != w) throw Outside.INSTANCE;
            delimiter();
        }

        /** After a number or literal: the next byte must end it (Jackson reads "truex" or "1x" as an error). */
        private void delimiter() throws Outside {
            byte c = at(i);
            if (c != ',' && c != '}' && c != ']') throw Outside.INSTANCE;
        }

        /** Reads a number in JSON's grammar at i; true if it has a fraction or exponent. */
        private boolean number() throws Outside {
            if (at(i) == '-') i++;
            byte c = at(i++);
            if (c == '0') {
                if (isDigit(at(i))) throw Outside.INSTANCE; // a leading zero: an error for Jackson
            } else if (c < '1' || c > '9') {
                throw Outside.INSTANCE;
            } else {
                while (isDigit(at(i))) i++;
            }
            boolean decimal = false;
            if (at(i) == '.') {
                decimal = true;
                i++;
                if (!isDigit(at(i))) throw Outside.INSTANCE;
                while (isDigit(at(i))) i++;
            }
            c = at(i);
            if (c == 'e' || c == 'E') {
                decimal = true;
                i++;
                c = at(i);
                if (c == '+' || c == '-') i++;
                if (!isDigit(at(i))) throw Outside.INSTANCE;
                while (isDigit(at(i))) i++;
            }
            delimiter();
            return decimal;
        }

        private static boolean isDigit(byte c) {
            return c >= '0' && c <= '9';
        }

        /**
         * Reads the object or array at i to its end. Where {@code exact}, throws unless the bytes are
         * what JSON_QUERY writes back for it (ascending keys, no -0, decimals as Double.toString).
         * A loop with its own stack, not recursion.
         */
        private void nested(boolean exact) throws Outside {
            boolean[] inObject = new boolean[8];
            int[] lastKeyFrom = new int[8];
            int[] lastKeyTo = new int[8];
            int depth = 0;
            boolean open = true; // the byte at i opens a container
            for (;;) {
                if (open) {
                    if (depth == MAX_DEPTH) throw Outside.INSTANCE;
                    if (depth == inObject.length) {
                        inObject = Arrays.copyOf(inObject, depth * 2);
                        lastKeyFrom = Arrays.copyOf(lastKeyFrom, depth * 2);
                        lastKeyTo = Arrays.copyOf(lastKeyTo, depth * 2);
                    }
                    byte c = b[i++];
                    inObject[depth] = c == '{';
                    lastKeyFrom[depth] = -1;
                    depth++;
                    byte first = at(i);
                    if (first == '}' || first == ']') {
                        if ((first == '}') != inObject[depth - 1]) throw Outside.INSTANCE;
                        i++;
                        depth--;
                        if (depth == 0) return;
                        open = false;
                        continue;
                    }
                } else {
                    byte c = at(i++);
                    if (c == '}' || c == ']') {
                        if ((c == '}') != inObject[depth - 1]) throw Outside.INSTANCE;
                        depth--;
                        if (depth == 0) return;
                        continue;
                    }
                    if (c != ',') throw Outside.INSTANCE;
                }
                int d = depth - 1;
                if (inObject[d]) {
                    int keyFrom = string();
                    int keyTo = i - 1;
                    if (exact && lastKeyFrom[d] >= 0 && Arrays.compareUnsigned(b, lastKeyFrom[d], lastKeyTo[d], b, keyFrom, keyTo) >= 0) {
                        throw Outside.INSTANCE; // not ascending: maybe a repeated key, which JSON_QUERY writes once
                    }
                    lastKeyFrom[d] = keyFrom;
                    lastKeyTo[d] = keyTo;
                    if (at(i++) != ':') throw Outside.INSTANCE;
                }
                byte c = at(i);
                if (c == '{' || c == '[') {
                    open = true;
                    continue;
                }
                open = false;
                if (c == '"') {
                    string();
                } else if (c == 't') {
                    literal(TRUE);
                } else if (c == 'f') {
                    literal(FALSE);
                } else if (c == 'n') {
                    literal(NULL);
                } else {
                    int from = i;
                    boolean decimal = number();
                    if (exact && !asWritten(from, i, decimal)) throw Outside.INSTANCE;
                }
            }
        }

        /** Whether Jackson writes the number it reads from b[from, to) with those same bytes. */
        private boolean asWritten(int from, int to, boolean decimal) {
            if (!decimal) return !(to - from == 2 && b[from] == '-' && b[from + 1] == '0');
            String text = new String(b, from, to - from, java.nio.charset.StandardCharsets.ISO_8859_1);
            return Double.toString(Double.parseDouble(text)).equals(text);
        }
    }
}
