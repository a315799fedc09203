// Is each new JSON Schema backward compatible with its old one, by Apicurio Registry's rules?
//
//   printf 'label\told.json\tnew.json\n' | java -cp 'lib/*' Compat.java
//
// One pair per line of standard input; one JSON line per pair on standard output:
//   {"label": ..., "compatible": true|false, "differences": [{"type": DiffType, "path": ...}]}
// or {"label": ..., "error": ...} when the checker cannot load a schema. BACKWARD means a reader of the new schema
// accepts everything the old one did; the caller asks it both ways round (devtools/documents/compatibility.py).
// The checker knows JSON Schema drafts 4 to 7: the caller gives schemas without a 2020-12 "$schema".
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.apicurio.registry.content.TypedContent;
import io.apicurio.registry.rules.compatibility.CompatibilityDifference;
import io.apicurio.registry.rules.compatibility.CompatibilityExecutionResult;
import io.apicurio.registry.rules.compatibility.CompatibilityLevel;
import io.apicurio.registry.rules.compatibility.JsonSchemaCompatibilityChecker;
import io.apicurio.registry.rules.compatibility.JsonSchemaCompatibilityDifference;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

public class Compat {
    public static void main(String[] args) throws Exception {
        quietLogging();
        var checker = new JsonSchemaCompatibilityChecker();
        var json = new ObjectMapper();
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            String[] pair = line.split("\t");
            ObjectNode out = json.createObjectNode().put("label", pair[0]);
            try {
                var old = TypedContent.create(Files.readString(Path.of(pair[1])), "application/json");
                var updated = TypedContent.create(Files.readString(Path.of(pair[2])), "application/json");
                CompatibilityExecutionResult result =
                        checker.testCompatibility(CompatibilityLevel.BACKWARD, List.of(old), updated, Map.of());
                ArrayNode differences = out.put("compatible", result.isCompatible()).putArray("differences");
                for (CompatibilityDifference each : result.getIncompatibleDifferences()) {
                    ObjectNode difference = differences.addObject();
                    if (each instanceof JsonSchemaCompatibilityDifference schema) {
                        var found = schema.getDifference();
                        difference.put("type", found.getDiffType().name()).put("path", found.getPathUpdated());
                    } else {
                        var violation = each.asRuleViolation();
                        difference.put("type", violation.getDescription()).put("path", violation.getContext());
                    }
                }
            } catch (Exception error) {
                out.put("error", String.valueOf(error));
            }
            System.out.println(json.writeValueAsString(out));
        }
    }

    /** slf4j is on the class path without a provider: keep its warning off standard error. */
    private static void quietLogging() {
        PrintStream err = System.err;
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        try {
            org.slf4j.LoggerFactory.getILoggerFactory();
        } finally {
            System.setErr(err);
        }
    }
}
