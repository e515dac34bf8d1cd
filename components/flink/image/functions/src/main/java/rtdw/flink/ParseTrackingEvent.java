package rtdw.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.io.SerializedString;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryRowData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.data.writer.BinaryRowWriter;

import java.io.IOException;
import java.util.Arrays;

/**
 * Reads a tracking event (one Kafka record as Vector wrote it) once and returns one row: whether the
 * payload {@code IS JSON}, each top-level field as {@code JSON_VALUE(payload, '$.<field>')} returns it,
 * and {@code properties} as {@code JSON_QUERY(payload, '$.properties')} returns it.
 *
 * <p>Flink 1.20 parses the payload again in every JSON_VALUE call, about twenty times per event in
 * the tracking ODS job. The answers here are Flink's, not an approximation (see {@link JsonText}).
 * Casts and reject reasons stay in the SQL.
 * tests/integration/tracking-parse.test.ts compares both on the gateway over awkward payloads.
 *
 * <p>A scalar function returning a ROW ({@link ParseOnceFunction}), not a table function: the ODS and
 * the reject INSERT of rt-trk-ods read the same view, and a LATERAL TABLE call gets a correlation
 * variable of its own in each INSERT, so the planner cannot see the two calls are one (the job also
 * asks the planner to optimize that view once, by its digest). The job's EXPLAIN shows a single call
 * (tests/integration/tracking-parse.test.ts).
 */
public final class ParseTrackingEvent extends ParseOnceFunction {

    static final String ROW_TYPE =
            "ROW<is_json BOOLEAN, event_id STRING, type STRING, event STRING, distinct_id STRING,"
                    + " login_id STRING, anonymous_id STRING, `time` STRING, flush_time STRING,"
                    + " recv_time STRING, track_id STRING, project STRING, lib STRING,"
                    + " lib_version STRING, ip STRING, country STRING, province STRING, city STRING,"
                    + " user_agent STRING, is_core STRING, properties STRING>";

    /** The scalar fields, in the order of the output row after is_json. */
    static final String[] SCALARS = {
        "event_id", "type", "event", "distinct_id", "login_id", "anonymous_id", "time", "flush_time",
        "recv_time", "track_id", "project", "lib", "lib_version", "ip", "country", "province", "city",
        "user_agent", "is_core"
    };

    static final int PROPERTIES = SCALARS.length + 1;
    private static final int WIDTH = SCALARS.length + 2;

    /**
     * The row's top-level fields sorted by name, and each one's output position. Vector writes an
     * event's keys in this order (its objects are sorted maps), so the parser is asked for the next one
     * by name: a byte comparison where it comes next, a symbol-table lookup only where it does not.
     */
    private static final String[] NAMES;
    static final byte[][] NAME_BYTES;
    private static final SerializedString[] EXPECTED;
    static final int[] POSITION;

    static {
        String[] fields = Arrays.copyOf(SCALARS, SCALARS.length + 1);
        fields[SCALARS.length] = "properties";
        NAMES = fields.clone();
        Arrays.sort(NAMES);
        EXPECTED = new SerializedString[NAMES.length];
        NAME_BYTES = new byte[NAMES.length][];
        POSITION = new int[NAMES.length];
        for (int i = 0; i < NAMES.length; i++) {
            EXPECTED[i] = new SerializedString(NAMES[i]);
            NAME_BYTES[i] = NAMES[i].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            POSITION[i] = Arrays.asList(fields).indexOf(NAMES[i]) + 1;
        }
    }

    /**
     * Takes and returns Flink's internal forms: the payload's bytes in (read in place, see
     * {@link JsonText#open}), and out a row in Flink's binary layout, one array holding each string's
     * UTF-8 bytes. No String/Row conversion runs around the call, and where the planner's next operator
     * copies the row it copies one array instead of twenty strings (a profile had a third of the
     * samples in those conversions and copies). The values are the same as before;
     * tests/integration/tracking-parse.test.ts checks, down to malformed bytes.
     */
    public @DataTypeHint(value = ROW_TYPE, bridgedTo = RowData.class) RowData eval(
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData payload) {
        return parse(payload);
    }

    /** How {@code properties} is turned into JSON_QUERY's text: the cheapest way first, each next one where the one before cannot. */
    private enum Properties {
        /** Its bytes copied from the payload ({@link JsonText#queryInPlace}). */
        IN_PLACE,
        /** Its tokens copied to a writer ({@link JsonText#queryStreaming}). */
        STREAMED,
        /** Read into a value and written back, as JSON_QUERY does ({@link JsonText#query}). */
        EXACT
    }

    /** The row for one payload; never null, so every record reaches the SQL's ODS or reject branch. */
    static BinaryRowData parse(StringData payload) {
        try {
            try {
                return parse(payload, Properties.IN_PLACE);
            } catch (JsonText.NotAsWritten inProperties) {
                return parse(payload, Properties.STREAMED);
            }
        } catch (JsonText.DuplicateKey inProperties) {
            return parse(payload, Properties.EXACT);
        }
    }

    /**
     * The row as Jackson reads it, with {@code properties} streamed: what {@link #parse} answered before
     * {@link CompactEvent} and {@link JsonText#queryInPlace}, and must still answer
     * (tests/integration/compact-event-fuzz.test.ts compares the two).
     */
    static BinaryRowData parseWithJackson(StringData payload) {
        try {
            return parse(payload, Properties.STREAMED);
        } catch (JsonText.DuplicateKey inProperties) {
            return parse(payload, Properties.EXACT);
        }
    }

    private static BinaryRowData parse(StringData payload, Properties properties) {
        BinaryRowData row = new BinaryRowData(WIDTH);
        BinaryRowWriter out = new BinaryRowWriter(row, payload == null ? 0 : ((BinaryStringData) payload).getSizeInBytes());
        byte[][] fields = new byte[WIDTH][];
        boolean json = payload != null;
        if (json) {
            JsonText.Payload in = JsonText.payload(payload);
            if (!(properties == Properties.IN_PLACE && in.asIs && CompactEvent.read(in.bytes, in.offset, in.size, NAME_BYTES, POSITION, PROPERTIES, fields))) {
                Arrays.fill(fields, null);
                json = readWithJackson(in, fields, properties);
            }
        }
        out.writeBoolean(0, json);
        for (int i = 1; i < WIDTH; i++) {
            if (json && fields[i] != null) out.writeBinary(i, fields[i]); // a STRING is stored as its UTF-8 bytes
            else out.setNullAt(i);
        }
        out.complete();
        return row;
    }

    /** Fills fields from the payload with Jackson; false where the payload is not JSON. */
    private static boolean readWithJackson(JsonText.Payload in, byte[][] fields, Properties properties) {
        try (JsonParser p = in.parser()) {
            JsonToken root = p.nextToken();
            if (root == null) throw new IOException("no content");
            if (root == JsonToken.START_OBJECT) {
                // Where the payload is read in place, its first byte ('{') is at in.offset.
                long base = in.offset - p.currentTokenLocation().getByteOffset();
                readObject(p, fields, !in.asIs && properties == Properties.IN_PLACE ? Properties.STREAMED : properties, in.bytes, base);
            } else {
                // Valid JSON that is not an object: no field exists, but the whole value must parse.
                p.skipChildren();
            }
            return true;
        } catch (JsonText.DuplicateKey | JsonText.NotAsWritten inProperties) {
            throw inProperties;
        } catch (IOException | RuntimeException notJson) {
            return false;
        }
    }

    private static void readObject(JsonParser p, byte[][] fields, Properties properties, byte[] bytes, long base) throws IOException {
        int next = 0; // in NAMES, the field expected next
        for (;;) {
            int at;
            if (next < NAMES.length && p.nextFieldName(EXPECTED[next])) {
                at = POSITION[next++];
            } else {
                // nextFieldName moved on to whatever came instead; past the last name nothing moved yet.
                JsonToken t = next < NAMES.length ? p.currentToken() : p.nextToken();
                if (t == JsonToken.END_OBJECT) return;
                if (t != JsonToken.FIELD_NAME) throw new IOException("unterminated object");
                int k = Arrays.binarySearch(NAMES, p.currentName());
                at = k < 0 ? 0 : POSITION[k];
                if (k >= 0) next = k + 1;
            }
            JsonToken value = p.nextToken();
            if (at == PROPERTIES && properties == Properties.IN_PLACE) {
                fields[at] = JsonText.queryInPlace(p, value, bytes, base);
            } else if (at == PROPERTIES) {
                String text = properties == Properties.EXACT ? JsonText.query(p, value) : JsonText.queryStreaming(p, value);
                fields[at] = text == null ? null : JsonText.utf8(text);
            } else if (at == 0) {
                p.skipChildren();
            } else {
                fields[at] = JsonText.scalarUtf8(p, value);
            }
        }
    }
}
