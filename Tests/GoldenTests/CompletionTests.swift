import Testing
import MLShREPL
import MLShRuntime

/// What Tab offers at the prompt, without a terminal (PromptTests drives the real one).
@Suite struct CompletionTests {
    let completer = Completer(interpreter: Runtime.makeInterpreter())

    @Test func promptCommandsAtTheStartOfALine() {
        #expect(completer.complete(word: ":he", linePrefix: "") == [":help"])
        #expect(completer.complete(word: ":", linePrefix: "  ") == [":help", ":vars", ":time", ":load", ":reset", ":quit"])
        #expect(completer.complete(word: ":he", linePrefix: "1 + ").isEmpty)
        // After `:help`, builtin names.
        #expect(completer.complete(word: "spli", linePrefix: ":help ") == ["split", "split_text"])
    }

    @Test func bundledDatasetNamesInsideDataset() {
        #expect(completer.complete(word: "ir", linePrefix: "dataset(\"") == ["iris"])
        #expect(completer.complete(word: "d", linePrefix: "let t = dataset( \"") == ["diabetes", "digits"])
        #expect(completer.complete(word: "", linePrefix: "dataset(\"").count == Runtime.bundledDatasets.count)
        // Other strings still complete paths, not dataset names.
        #expect(!completer.complete(word: "ir", linePrefix: "load(\"").contains("iris"))
    }
}
