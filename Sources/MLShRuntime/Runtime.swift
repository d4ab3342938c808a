import Foundation
import MLShEngine
import MLShLanguage

/// The glue between the language and the domain targets: the one place where every
/// library registers into the evaluator (like Lua's `linit.c`).
public enum Runtime {
    /// The mlsh version, recorded in run lineage and printed by `--version`.
    public static let version = "0.1.0"
    /// The names `dataset` loads without a store (for completion).
    public static let bundledDatasets = bundledDatasetNames

    /// Process-wide settings for the commands that run scripts in this process (the prompt,
    /// `-e`, `run`, `render`): the engine's memory policy, see `ColumnMemory`. Call before any
    /// other thread starts. `mlsh serve` keeps glibc's defaults: its allocations are small
    /// and its threads many.
    public static func configureProcess() {
        if let v = ColumnMemory.ignoredSetting {
            FileHandle.standardError.write(Data("mlsh: ignoring MLSH_MALLOC=\(v): the one setting is MLSH_MALLOC=system (keep the allocator's defaults)\n".utf8))
        }
        ColumnMemory.configure()
    }

    /// The domain libraries; any order registers the same builtins (`RegistrationOrderTests`).
    /// `store` is the store folder (nil for `MLSH_STORE`, else the nearest `.mlsh/`).
    static func libraries(store: String? = nil, stages: StageOptions = StageOptions()) -> [Library] {
        [DataLibrary(), ModelsLibrary(), StoreLibrary(folder: store, stageOptions: stages), PlotLibrary(), MonitorLibrary()]
    }

    /// A fresh interpreter with every library registered, using the store in `store`
    /// (`--store`; nil for `MLSH_STORE`, else the nearest `.mlsh/`); `stages` says how
    /// `stage` behaves (`--no-cache`, `--quiet`).
    public static func makeInterpreter(params: [String: Value] = [:], store: String? = nil,
                                       stages: StageOptions = StageOptions()) -> Interpreter {
        makeInterpreter(libraries: libraries(store: store, stages: stages), params: params)
    }

    /// A fresh interpreter with these libraries, registered in the order given.
    static func makeInterpreter(libraries: [Library], params: [String: Value] = [:]) -> Interpreter {
        let interp = Interpreter(libraries: libraries)
        interp.params = params
        return interp
    }

    /// The `mlsh` executable servers start retraining attempts with: `MLSH_EXECUTABLE`
    /// when set, else this process's program when it is mlsh; nil otherwise.
    public static var executable: String? {
        if let e = ProcessInfo.processInfo.environment["MLSH_EXECUTABLE"], !e.isEmpty { return e }
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return path.hasSuffix("/mlsh") ? path : nil
    }

    /// Parses a `--param` value: a number, a bool, else a string.
    public static func parseParam(_ text: String) -> Value {
        if let i = Int64(text) { return .int(i) }
        if let d = Double(text) { return .float(d) }
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        return .string(text)
    }
}
