package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.BadInputException;
import org.depthlens.text.ModelTokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "tokenize", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Print the token ids of a text as a JSON list, using the model folder's own tokenizer.json (no",
                "truncation, no padding). Special tokens are those the tokenizer's post-processor adds, plus BOS when",
                "tokenizer_config.json says \"add_bos_token\": true. The output can be fed to analyze/trace --ids.", ""},
        footerHeading = "%nExample:%n", footer = "  depthlens tokenize --model models/tiny-curse-24/lns --text README.md > ids.json")
public final class TokenizeCommand extends CommonOptions implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Folder with tokenizer.json.")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 text file.")
    Path text;

    @Option(names = "--no-special", description = "Do not add special tokens (BOS etc.).")
    boolean noSpecial;

    @Override
    public Integer call() throws IOException {
        String s;
        try {
            if (!Files.exists(text)) throw new NoSuchFileException(text.toString());
            s = org.depthlens.util.InputFiles.readUtf8(text, "text file", org.depthlens.util.InputFiles.heapShare());
        } catch (NoSuchFileException e) {
            throw new BadInputException(text + ": text file not found");
        }
        try (ModelTokenizer tok = ModelTokenizer.open(model)) {
            long[] ids = tok.encode(s, !noSpecial);
            spec.commandLine().getOut().println(new ObjectMapper().writeValueAsString(ids));
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
