import Foundation

/// A Python venv under `.build/<name>` holding `packages` (from the package index pip is
/// configured with), made on first use and reused while its `.ready` file lists the same
/// packages; its python. Tests that compare mlsh with Python libraries (MLflow's client,
/// pyarrow, Polars) make theirs here, so nothing needs to exist before the test runs.
/// Fails with the reason when the venv cannot be made.
public func pythonVenv(_ name: String, packages: [String]) throws -> String {
    let venv = repositoryRoot + "/.build/" + name
    let python = venv + "/bin/python"
    let ready = venv + "/.ready"
    if (try? String(contentsOfFile: ready, encoding: .utf8)) == packages.joined(separator: " ") { return python }
    if !FileManager.default.fileExists(atPath: python) {
        let made = try runProgram("/usr/bin/env", ["python3", "-m", "venv", venv])
        guard made.code == 0 else { throw SetupFailure("cannot make the venv at \(venv): \(made.err)") }
    }
    let pip = try runProgram(venv + "/bin/pip", ["install", "-q"] + packages)
    guard pip.code == 0 else { throw SetupFailure("cannot install \(packages.joined(separator: ", ")) into \(venv): \(pip.err)") }
    try packages.joined(separator: " ").write(toFile: ready, atomically: true, encoding: .utf8)
    return python
}
