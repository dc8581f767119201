package org.depthlens.eval;

import org.depthlens.BadInputException;
import org.depthlens.pass.ProvenanceBuilder;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The task and documents files of a run, read and checked once, shared by every model. */
public record EvalInputs(List<McTask> tasks, List<Documents> docs) {

    public static EvalInputs read(List<Path> taskFiles, List<Path> docsFiles) {
        if (taskFiles.isEmpty() && docsFiles.isEmpty()) throw new BadInputException("nothing to evaluate: give --tasks FILE or --docs FILE");
        List<McTask> tasks = new ArrayList<>();
        for (Path p : taskFiles) tasks.add(McTask.read(p));
        List<Documents> docs = new ArrayList<>();
        for (Path p : docsFiles) docs.add(Documents.read(p));
        Set<String> names = new HashSet<>();
        for (McTask t : tasks) {
            if (!names.add("t:" + t.name())) throw new BadInputException(t.path() + ": two task files are named " + t.name());
        }
        for (Documents d : docs) {
            if (!names.add("d:" + d.name())) throw new BadInputException(d.path() + ": two documents files are named " + d.name());
        }
        return new EvalInputs(List.copyOf(tasks), List.copyOf(docs));
    }

    public List<EvalResult.Input> describe() {
        List<EvalResult.Input> out = new ArrayList<>();
        for (McTask t : tasks) out.add(new EvalResult.Input("tasks", t.path().toString(), ProvenanceBuilder.sha256(t.bytes())));
        for (Documents d : docs) out.add(new EvalResult.Input("docs", d.path().toString(), ProvenanceBuilder.sha256(d.bytes())));
        return out;
    }

    /** All input paths, joined (provenance's data_path). */
    public String dataPath() {
        return String.join(", ", describe().stream().map(EvalResult.Input::path).toList());
    }

    /** What provenance's data_sha256 hashes: each input's kind, path and SHA-256, one line each, in order. */
    public byte[] fingerprint() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (EvalResult.Input in : describe()) {
            b.writeBytes((in.kind() + "\t" + in.path() + "\t" + in.sha256() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }
}
