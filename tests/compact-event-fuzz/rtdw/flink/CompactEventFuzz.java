package rtdw.flink;

import org.apache.flink.table.data.binary.BinaryRowData;
import org.apache.flink.table.data.binary.BinaryStringData;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * A differential fuzz of parse_tracking_event's fast paths: for generated tracking events (Vector's
 * compact shape, the same with one thing off, and random byte mutations of both), the row
 * {@link ParseTrackingEvent#parse} returns must equal, byte for byte, the row Jackson's reading gives
 * ({@link ParseTrackingEvent#parseWithJackson}), which tests/integration/tracking-parse.test.ts holds
 * to Flink's JSON_VALUE / JSON_QUERY. Prints one JSON line: cases, differing, read by CompactEvent, and
 * the first differing payloads. Args: cases, seed.
 */
public final class CompactEventFuzz {
    private static final String[] KEYS = {
        "anonymous_id", "city", "country", "distinct_id", "event", "event_id", "flush_time", "ip", "is_core", "lib",
        "lib_version", "login_id", "project", "properties", "province", "recv_time", "time", "track_id", "type",
        "user_agent", "x", "$os", "_reason", "é"
    };
    private static final String[] PLAIN = {"", "a", "Hangzhou", "é", "值😀", "a/b", "\u007f", "true", "1", "$x"};
    private static final String[] AWKWARD = {"a\\/b", "\\u00e9", "\\n", "q\\\"q", "\\ud800", "tab\there", "\\\\"};
    private static final byte[] ALPHABET = "{}[]\":,\\ -0123456789.eEtfnul\t\nx".getBytes(StandardCharsets.ISO_8859_1);

    private final Random r;
    private boolean compact;

    private CompactEventFuzz(long seed) {
        r = new Random(seed);
    }

    private String number() {
        switch (r.nextInt(14)) {
            case 0: return "0";
            case 1: return "-0";
            case 2: return Long.toString(r.nextLong());
            case 3: return Integer.toString(r.nextInt(1000));
            case 4: return Double.toString(r.nextDouble() * Math.pow(10, r.nextInt(30) - 10));
            case 5: return r.nextInt(1000) + "." + r.nextInt(100);
            case 6: return "1e" + (r.nextInt(800) - 400);
            case 7: return "1.50";
            case 8: return "123456789012345678901234567890";
            case 9: return "0.99";
            case 10: return "1E5";
            case 11: return "-1.0E-5";
            case 12: return "100.0";
            default: return "1764748800123";
        }
    }

    private String string() {
        String s = compact || r.nextInt(3) > 0 ? PLAIN[r.nextInt(PLAIN.length)] : AWKWARD[r.nextInt(AWKWARD.length)];
        return "\"" + s + "\"";
    }

    private String separator(char c) {
        return !compact && r.nextInt(30) == 0 ? " " + c : String.valueOf(c);
    }

    private String value(int depth) {
        switch (r.nextInt(depth > 3 ? 6 : 9)) {
            case 0: case 1: return string();
            case 2: case 3: return number();
            case 4: return "true";
            case 5: return r.nextBoolean() ? "false" : "null";
            case 6: case 7: {
                List<String> keys = new ArrayList<>();
                for (int n = r.nextInt(4), i = 0; i < n; i++) keys.add(KEYS[r.nextInt(KEYS.length)]);
                if (r.nextInt(compact ? 20 : 3) > 0) keys = new ArrayList<>(compact ? new TreeSet<>(keys) : sorted(keys));
                StringBuilder b = new StringBuilder("{");
                for (int i = 0; i < keys.size(); i++) {
                    if (i > 0) b.append(separator(','));
                    b.append('"').append(keys.get(i)).append('"').append(separator(':')).append(value(depth + 1));
                }
                return b.append('}').toString();
            }
            default: {
                StringBuilder b = new StringBuilder("[");
                for (int n = r.nextInt(4), i = 0; i < n; i++) {
                    if (i > 0) b.append(separator(','));
                    b.append(value(depth + 1));
                }
                return b.append(']').toString();
            }
        }
    }

    private static List<String> sorted(List<String> keys) {
        Collections.sort(keys);
        return keys;
    }

    private String event() {
        List<String> keys = new ArrayList<>();
        for (String k : KEYS) if (r.nextInt(10) > 1) keys.add(k);
        if (r.nextInt(10) == 0) Collections.shuffle(keys, r);
        if (r.nextInt(10) == 0) keys.add(KEYS[r.nextInt(KEYS.length)]);
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < keys.size(); i++) {
            String k = keys.get(i);
            if (i > 0) b.append(separator(','));
            String v;
            if (k.equals("properties")) {
                v = r.nextInt(3) == 0 ? "{\"price\":0.99,\"product_id\":17}" : value(r.nextInt(5) == 0 ? 0 : 1);
            } else if (k.contains("time") || k.equals("track_id")) {
                v = compact && r.nextInt(10) > 0 ? Long.toString(r.nextLong() >> r.nextInt(64)) : number();
            } else {
                v = r.nextInt(8) == 0 ? value(1) : string();
            }
            b.append('"').append(k).append('"').append(separator(':')).append(v);
        }
        b.append('}');
        if (r.nextInt(20) == 0) b.append(r.nextBoolean() ? "}" : " x");
        return b.toString();
    }

    private byte[] mutate(byte[] in) {
        byte[] b = in;
        for (int m = 0, n = 1 + r.nextInt(2); m < n && b.length > 1; m++) {
            int at = 1 + r.nextInt(b.length - 1);
            byte[] c;
            switch (r.nextInt(4)) {
                case 0:
                    c = b.clone();
                    c[at] = ALPHABET[r.nextInt(ALPHABET.length)];
                    break;
                case 1:
                    c = b.clone();
                    c[at] = (byte) r.nextInt(256);
                    break;
                case 2:
                    c = new byte[b.length - 1];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + 1, c, at, b.length - at - 1);
                    break;
                default:
                    c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, at);
                    c[at] = ALPHABET[r.nextInt(ALPHABET.length)];
                    System.arraycopy(b, at, c, at + 1, b.length - at);
            }
            b = c;
        }
        return b;
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) {
        int cases = Integer.parseInt(args[0]);
        CompactEventFuzz f = new CompactEventFuzz(Long.parseLong(args[1]));
        int differing = 0;
        int readCompact = 0;
        List<String> examples = new ArrayList<>();
        for (int i = 0; i < cases; i++) {
            f.compact = f.r.nextInt(10) < 7;
            byte[] raw = f.event().getBytes(StandardCharsets.UTF_8);
            if (f.r.nextInt(f.compact ? 10 : 3) == 0) raw = f.mutate(raw);
            // At an offset inside a larger array, with a quote after the end: read in place, never past it.
            int offset = f.r.nextInt(3);
            byte[] buffer = new byte[raw.length + offset + 1];
            System.arraycopy(raw, 0, buffer, offset, raw.length);
            buffer[offset + raw.length] = '"';
            BinaryStringData payload = BinaryStringData.fromBytes(buffer, offset, raw.length);
            BinaryRowData fast = ParseTrackingEvent.parse(payload);
            BinaryRowData jackson = ParseTrackingEvent.parseWithJackson(payload);
            if (JsonText.readsAsIs(buffer, offset, raw.length)
                    && CompactEvent.read(buffer, offset, raw.length, ParseTrackingEvent.NAME_BYTES, ParseTrackingEvent.POSITION, ParseTrackingEvent.PROPERTIES, new byte[ParseTrackingEvent.PROPERTIES + 1][])) {
                readCompact++;
            }
            if (!fast.equals(jackson)) {
                differing++;
                if (examples.size() < 5) examples.add(json(new String(raw, StandardCharsets.UTF_8)));
            }
        }
        System.out.println("{\"cases\":" + cases + ",\"differing\":" + differing + ",\"compact\":" + readCompact + ",\"examples\":" + examples + "}");
    }
}
