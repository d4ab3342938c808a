// libFuzzer entry for the language front end: every input goes through the lexer,
// the parser, the diagnostic renderer and the compiler (nothing is executed).
// Built by fuzz/run-parser together with Sources/MLShLanguage as one module.

nonisolated(unsafe) let fuzzInterpreter = Interpreter(libraries: [])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let file = SourceFile(name: "fuzz.mls", bytes: bytes)
    let (statements, errors) = parse(file)
    for e in errors { _ = e.render() }
    if errors.isEmpty {
        for s in statements {
            do { _ = try Compiler(interp: fuzzInterpreter).compileTopLevel(s) } catch { _ = error.render() }
        }
    }
    return 0
}
