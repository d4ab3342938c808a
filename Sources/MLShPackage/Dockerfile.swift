import MLShCommon

/// The Dockerfile of an image: `FROM scratch`, one `COPY` per layer, then the config's
/// user, working folder, environment, port, labels and entry point.
enum Dockerfile {
    static func text(_ config: JSON, name: String) -> String {
        let c = config["config"] ?? .object([])
        var lines = [
            "# The image `mlsh package` makes, built by a container engine: docker build -t \(name) .",
            "FROM scratch",
            "COPY runtime/ /",
            "COPY model/ /",
        ]
        if case .string(let user)? = c["User"] { lines.append("USER \(user)") }
        if case .string(let dir)? = c["WorkingDir"] { lines.append("WORKDIR \(dir)") }
        if case .array(let env)? = c["Env"] {
            for case .string(let e) in env {
                guard let eq = e.firstIndex(of: "=") else { continue }
                lines.append("ENV \(e[..<eq])=\(quoted(String(e[e.index(after: eq)...])))")
            }
        }
        if case .object(let ports)? = c["ExposedPorts"] { for (p, _) in ports { lines.append("EXPOSE \(p)") } }
        if case .object(let labels)? = c["Labels"] {
            for case (let k, .string(let v)) in labels { lines.append("LABEL \(quoted(k))=\(quoted(v))") }
        }
        if let entry = c["Entrypoint"] { lines.append("ENTRYPOINT " + JSONWriter.text(entry)) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A value as a Dockerfile double-quoted word.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
