package rtdw.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.types.Row;

import java.io.IOException;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a change event (one debezium-json record as rt-dw-cdc-ingestion wrote it) once and returns:
 * whether the payload {@code IS JSON}, {@code op} as {@code JSON_VALUE(payload, '$.op')} returns it,
 * and the row image the op refers to ({@code before} for a delete, {@code after} otherwise) as a map
 * from each top-level field to what {@code JSON_VALUE(JSON_QUERY(payload, '$.after'), '$.<field>')}
 * returns (see {@link JsonText}); fields that are null, objects or arrays are absent, which reads as
 * NULL in SQL. The image is NULL where JSON_QUERY would give NULL (missing, null or a scalar).
 *
 * <p>Flink 1.20 parses the payload again in every JSON call, about ten times per change in
 * rt-dw-ods-processing. Like {@link ParseTrackingEvent} it is a {@link ParseOnceFunction}, and the job
 * has the planner optimize each view once, so each record is parsed once for the ODS and the reject
 * INSERT that share it.
 * tests/integration/change-event-parse.test.ts compares it with the JSON calls on the gateway.
 */
public final class ParseChangeEvent extends ParseOnceFunction {

    static final String ROW_TYPE = "ROW<is_json BOOLEAN, op STRING, img MAP<STRING, STRING>>";

    public @DataTypeHint(ROW_TYPE) Row eval(String payload) {
        return parse(payload);
    }

    static Row parse(String payload) {
        if (payload == null) return Row.of(false, null, null);
        String op = null;
        Object before = null;
        Object after = null;
        try (JsonParser p = JsonText.FACTORY.createParser(payload)) {
            JsonToken root = p.nextToken();
            if (root == null) throw new IOException("no content");
            if (root != JsonToken.START_OBJECT) {
                p.skipChildren();
                return Row.of(true, null, null);
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if ("op".equals(name)) {
                    op = JsonText.scalar(p, value);
                } else if ("before".equals(name)) {
                    before = image(p, value);
                } else if ("after".equals(name)) {
                    after = image(p, value);
                } else {
                    p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT) throw new IOException("unterminated object");
        } catch (IOException | RuntimeException notJson) {
            return Row.of(false, null, null);
        }
        return Row.of(true, op, fields("d".equals(op) ? before : after));
    }

    /** An object or array as Jackson reads it; null for what JSON_QUERY gives NULL. */
    private static Object image(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) return JsonText.VALUE_READER.readValue(p);
        if (t == JsonToken.VALUE_STRING) p.getText(); // a broken string is a parse error, as for Jackson
        return null;
    }

    private static Map<String, String> fields(Object image) {
        if (image == null) return null;
        if (!(image instanceof Map)) return Collections.emptyMap(); // an array: no field has a value
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) image).entrySet()) {
            String text = JsonText.scalar(e.getValue());
            if (text != null) out.put(String.valueOf(e.getKey()), text);
        }
        return out;
    }
}
