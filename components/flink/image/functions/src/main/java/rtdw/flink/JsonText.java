package rtdw.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectReader;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectWriter;

import java.io.IOException;
import java.util.List;
import java.util.Map;

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
}
