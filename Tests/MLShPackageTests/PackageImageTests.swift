import Foundation
import MLShCommon
import MLShEngine
import MLShServe
import MLShStore
import Testing
import TestSupport

/// `mlsh package` as a user runs it, checked by other tools than mlsh's own: GNU tar
/// unpacks the archive and its layers, every blob is checked against its digest,
/// skopeo reads the OCI layout and the docker archive, and the image's entry point runs
/// from its unpacked layers — chrooted, as its non-root user, on a read-only root —
/// answering `/ping`, `/invocations` and mlsh's route with `predict`'s numbers.
@Suite(.serialized) struct PackageImageTests {
    /// A store with a registered ridge model, `diabetes@1` alias `production`.
    final class Sandbox {
        let dir: String
        var store: String { dir + "/.mlsh" }
        var environment: [String: String] {
            var env = ProcessInfo.processInfo.environment
            env["MLSH_STORE"] = store
            env["SWIFT_BACKTRACE"] = "enable=no"
            return env
        }

        init() throws {
            dir = try temporaryFolder("package")
            let script = dir + "/register.mls"
            try """
                let v = register(fit(ridge(alpha = 1.0), dataset("diabetes"), target = $progression), "diabetes")
                alias(v, "production")
                """.write(toFile: script, atomically: true, encoding: .utf8)
            let r = try mlsh(["run", "--quiet", script])
            #expect(r.code == 0, "\(r.err)")
        }

        func mlsh(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
            try runProgram(mlshBinary, args, environment: environment)
        }

        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Runs a system tool; fails the test with its output when it fails.
    @discardableResult
    static func tool(_ path: String, _ args: [String]) throws -> String {
        let r = try runProgram(path, args, environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL": "C"])
        #expect(r.code == 0, "\(path) \(args.joined(separator: " ")): \(r.err)")
        return r.out
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func sha256(_ path: String) throws -> String {
        "sha256:" + SHA256.hex([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// An unpacked image: its config, and its layers unpacked in order into `root`.
    struct Unpacked {
        var config: [String: Any]
        var root: String
        var layerMediaTypes: [String]
    }

    /// Unpacks `archive` into `dir` with tar, checks every blob against its digest and
    /// size and every layer against the config's diff_ids, and unpacks the layers.
    static func unpack(_ archive: String, into dir: String) throws -> Unpacked {
        let layout = dir + "/layout", root = dir + "/root"
        for d in [layout, root] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try tool("/usr/bin/tar", ["-xf", archive, "-C", layout])
        #expect(try String(contentsOfFile: layout + "/oci-layout", encoding: .utf8) == #"{"imageLayoutVersion":"1.0.0"}"#)
        let index = try json(layout + "/index.json")
        let manifests = try #require(index["manifests"] as? [[String: Any]])
        #expect(manifests.count == 1)
        func blob(_ descriptor: [String: Any]) throws -> String {
            let digest = try #require(descriptor["digest"] as? String)
            let path = layout + "/blobs/sha256/" + digest.dropFirst("sha256:".count)
            #expect(try sha256(path) == digest, "blob \(digest)")
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
            #expect(size == descriptor["size"] as? Int, "size of \(digest)")
            return path
        }
        let manifest = try json(try blob(manifests[0]))
        #expect(manifest["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json")
        let config = try json(try blob(try #require(manifest["config"] as? [String: Any])))
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        let diffIDs = try #require((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
        #expect(layers.count == 2 && diffIDs.count == 2)
        for (layer, diffID) in zip(layers, diffIDs) {
            let path = try blob(layer)
            let gzipped = (layer["mediaType"] as? String)?.hasSuffix("+gzip") == true
            var plain = path
            if gzipped {
                plain = dir + "/layer.tar"
                let r = try runProgram("/bin/sh", ["-c", "gzip -dc \"$0\" > \"$1\"", path, plain], environment: ["PATH": "/usr/bin:/bin"])
                #expect(r.code == 0, "\(r.err)")
            }
            #expect(try sha256(plain) == diffID)
            try tool("/usr/bin/tar", ["-xpf", plain, "-C", root, "--numeric-owner"])
        }
        return Unpacked(config: config, root: root, layerMediaTypes: layers.compactMap { $0["mediaType"] as? String })
    }

    /// Five rows of the diabetes data without the target, as CSV text.
    static func rowsCSV() throws -> String {
        let lines = try String(contentsOfFile: repositoryRoot + "/data/diabetes.csv", encoding: .utf8).split(separator: "\n").prefix(6)
        return lines.map { $0.split(separator: ",").dropLast().joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// What `predict` gives in-process for those rows, with the model in the sandbox's store.
    static func expected(_ box: Sandbox, csv: String) throws -> [Double] {
        let store = try Store(folder: box.store)
        let model = try store.model(try store.resolve("diabetes@production").artifact)
        let table = try CSV.read(data: Array(csv.utf8), name: "rows")
        let out = try model.predictions(table)
        guard case .float(let v) = try #require(out.first).column.storage else { Issue.record("not a float prediction"); return [] }
        return v
    }

    static func numbers(_ body: [UInt8]) throws -> [Double] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        return try #require(object["predictions"] as? [Double])
    }

    @Test func anOCIImageValidatesRunsAsItsUserOnAReadOnlyRootAndAnswersAsPredictDoes() async throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let image = box.dir + "/image.tar"
        let r = try box.mlsh(["package", "diabetes@production", "-o", image])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.hasPrefix("wrote diabetes@1 as diabetes:1: "), "\(r.err)")
        // scripts/test (and scripts/mlsh) link the Swift runtime into mlsh; the image needs
        // nothing of the toolchain.
        #expect(r.err.contains("static Swift runtime"), "\(r.err) — the tests run the mlsh `swift build --product mlsh --static-swift-stdlib` links, as scripts/test does")

        // The same model gives the same image, byte for byte.
        let again = box.dir + "/again.tar"
        #expect(try box.mlsh(["package", "diabetes@1", "-o", again]).code == 0)
        #expect(try Self.sha256(image) == Self.sha256(again))

        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo"), "skopeo reads the layout; scripts/bootstrap installs it")
        let inspectedConfig = try Self.tool("/usr/bin/skopeo", ["inspect", "--config", "oci-archive:" + image])
        #expect(inspectedConfig.contains("\"8080/tcp\""))

        let unpacked = try Self.unpack(image, into: box.dir + "/unpacked")
        #expect(unpacked.layerMediaTypes.allSatisfy { $0 == "application/vnd.oci.image.layer.v1.tar+gzip" })
        let config = try #require(unpacked.config["config"] as? [String: Any])
        #expect(config["User"] as? String == "65532:65532")
        #expect((config["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["8080/tcp"])
        let entrypoint = try #require(config["Entrypoint"] as? [String])
        #expect(entrypoint == ["/usr/local/bin/mlsh", "serve", "diabetes@1", "--store", "/srv/mlsh/store", "--host", "0.0.0.0"])
        let env = try #require(config["Env"] as? [String])
        #expect(env.contains("PORT=8080"))
        #expect(unpacked.config["architecture"] as? String == "amd64" || unpacked.config["architecture"] as? String == "arm64")
        let root = unpacked.root
        #expect(FileManager.default.isExecutableFile(atPath: root + "/usr/local/bin/mlsh"))
        #expect(try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8).contains("mlsh:x:65532:65532:"))
        #expect((config["Labels"] as? [String: String])?["mlsh.swift-runtime"] == "static")
        let files = try Self.tool("/usr/bin/find", [root, "-type", "f", "-name", "*.so*", "-printf", "%f\\n"]).split(separator: "\n").map(String.init)
        #expect(files.contains { $0.hasPrefix("libc.so") } && files.contains { $0.hasPrefix("libopenblas") }, "\(files)")
        #expect(!files.contains { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") || $0.hasPrefix("lib_Foundation") || $0.hasPrefix("libdispatch") || $0.contains("icu") }, "\(files)")
        #expect(!FileManager.default.isWritableFile(atPath: root + "/srv/mlsh/store/store.sqlite") || getuid() == 0)

        // The entry point, run from the unpacked layers as the image's user, on a
        // read-only root (a bind mount of it in a mount namespace of its own), with the
        // argument SageMaker gives (`serve`) and PORT moved to a free port.
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            Issue.record("running the image needs root and unshare")
            return
        }
        try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
        let port = freeLoopbackPort()
        let script = """
            mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && mount -t proc proc "$0/proc" || exit 97
            exec /usr/bin/env -i "$@"
            """
        let user = try #require(config["User"] as? String)
        let envArgs = env.map { $0.hasPrefix("PORT=") ? "PORT=\(port)" : $0 }
        let log = box.dir + "/serve.log"
        let pid = try spawnProgram("/usr/bin/unshare", ["-m", "/bin/sh", "-c", script, root] + envArgs
                                   + ["/usr/sbin/chroot", "--userspec=" + user, root] + entrypoint + ["serve"],
                                   environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin"], stderr: log)
        var exited = false
        defer { if !exited { kill(pid, SIGKILL); _ = waitStatus(pid) } }
        let url = "http://127.0.0.1:\(port)"
        let csv = try Self.rowsCSV()
        let expected = try Self.expected(box, csv: csv)
        #expect(expected.count == 5)
        try await Task.detached {
            let deadline = Date().addingTimeInterval(60)
            var up = false
            while Date() < deadline, !up {
                up = (try? HTTPClient.request("GET", url + "/ping", timeout: 2))?.status == 200
                if !up { usleep(100_000) }
            }
            #expect(up, "the image's server did not come up: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            guard up else { return }
            let viaCSV = try HTTPClient.request("POST", url + "/invocations", body: Array(csv.utf8), headers: [("Content-Type", "text/csv")])
            #expect(viaCSV.status == 200, "\(viaCSV.text)")
            #expect(viaCSV.header("X-MLSH-Model") == "diabetes@1")
            let lines = csv.split(separator: "\n")
            let names = lines[0].split(separator: ",")
            let rows = lines.dropFirst().map { line in
                "{" + zip(names, line.split(separator: ",")).map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}"
            }
            let records = try HTTPClient.request("POST", url + "/invocations", body: Array(#"{"dataframe_records": [\#(rows.joined(separator: ","))]}"#.utf8))
            let mine = try HTTPClient.request("POST", url + "/v1/models/diabetes/predict", body: Array(#"{"rows": [\#(rows.joined(separator: ","))]}"#.utf8))
            for reply in [viaCSV, records, mine] {
                #expect(reply.status == 200, "\(reply.text)")
                let got = try Self.numbers(reply.body)
                #expect(got.count == expected.count && zip(got, expected).allSatisfy { isClose($0, $1, relative: 1e-12) }, "\(got) vs \(expected)")
            }
            let metrics = try HTTPClient.request("GET", url + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains(#"mlsh_requests_total{model="diabetes@1",status="200"} 3"#), "\(metrics.text)")
        }.value
        kill(pid, SIGTERM)
        let status = waitStatus(pid)
        exited = true
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(text)")
        #expect(text.contains("the store at /srv/mlsh/store is read-only"), "\(text)")
        #expect(text.contains("stopped; 3 requests answered"), "\(text)")
    }

    @Test func aDockerArchiveLoadsWithSkopeoAndTheDockerfileContextIsTheImagesRoot() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let image = box.dir + "/docker.tar"
        let r = try box.mlsh(["package", "diabetes@production", "-o", image, "--format", "docker", "--tag", "registry.local:5000/team/diabetes:prod"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.contains(" as registry.local:5000/team/diabetes:prod: "), "\(r.err)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo"), "skopeo reads the archive; scripts/bootstrap installs it")
        let inspected = try Self.tool("/usr/bin/skopeo", ["inspect", "docker-archive:" + image])
        #expect(inspected.contains("\"mlsh.model\": \"diabetes@1\""), "\(inspected)")
        let unpacked = try Self.unpack(image, into: box.dir + "/unpacked")
        #expect(unpacked.layerMediaTypes.allSatisfy { $0 == "application/vnd.oci.image.layer.v1.tar" })
        let docker = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: box.dir + "/unpacked/layout/manifest.json"))) as? [[String: Any]])
        #expect(docker.first?["RepoTags"] as? [String] == ["registry.local:5000/team/diabetes:prod"])
        for path in (docker.first?["Layers"] as? [String] ?? []) + [docker.first?["Config"] as? String ?? "missing"] {
            #expect(FileManager.default.fileExists(atPath: box.dir + "/unpacked/layout/" + path), "\(path)")
        }

        // The Dockerfile and its context: the same files and modes as the image's layers,
        // and the config's user, port, environment and entry point.
        let context = box.dir + "/context"
        let d = try box.mlsh(["package", "diabetes@production", "--dockerfile", context, "--tag", "registry.local:5000/team/diabetes:prod"])
        #expect(d.code == 0, "\(d.err)")
        func listing(_ dirs: [String]) throws -> [String] {
            var all: [String] = []
            for dir in dirs {
                all += try Self.tool("/usr/bin/find", [dir, "-mindepth", "1", "-printf", "%P %M %s\\n"]).split(separator: "\n").map(String.init)
            }
            return all.sorted()
        }
        #expect(try listing([context + "/runtime", context + "/model"]) == listing([unpacked.root]))
        #expect(try Self.sha256(context + "/model/srv/mlsh/store/store.sqlite") == Self.sha256(unpacked.root + "/srv/mlsh/store/store.sqlite"))
        #expect(try Self.sha256(context + "/runtime/usr/local/bin/mlsh") == Self.sha256(unpacked.root + "/usr/local/bin/mlsh"))
        let dockerfile = try String(contentsOfFile: context + "/Dockerfile", encoding: .utf8).split(separator: "\n").map(String.init)
        let config = try #require(unpacked.config["config"] as? [String: Any])
        let entry = try #require(config["Entrypoint"] as? [String])
        let entryLine = try #require(dockerfile.first { $0.hasPrefix("ENTRYPOINT ") })
        let parsed = try JSONSerialization.jsonObject(with: Data(entryLine.dropFirst("ENTRYPOINT ".count).utf8)) as? [String]
        #expect(parsed == entry)
        #expect(dockerfile.contains("FROM scratch"))
        #expect(dockerfile.contains("COPY runtime/ /") && dockerfile.contains("COPY model/ /"))
        #expect(dockerfile.contains("USER \(config["User"] as? String ?? "")"))
        #expect(dockerfile.contains("EXPOSE 8080/tcp"))
        for e in config["Env"] as? [String] ?? [] {
            let eq = try #require(e.firstIndex(of: "="))
            #expect(dockerfile.contains("ENV \(e[..<eq])=\"\(e[e.index(after: eq)...])\""), "\(e)")
        }
    }

    @Test func mistakesAreOneLineEach() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try FileManager.default.createDirectory(atPath: box.dir + "/full", withIntermediateDirectories: true)
        try "x".write(toFile: box.dir + "/full/file", atomically: true, encoding: .utf8)
        try "not a program".write(toFile: box.dir + "/text", atomically: true, encoding: .utf8)
        let out = box.dir + "/img.tar"
        let cases: [([String], String)] = [
            (["package", "diabetes@7", "-o", out], "package error: unknown model version 'diabetes@7' (version 1; aliases: production)"),
            (["package", "nope@1", "-o", out], "package error: no model named 'nope' is registered"),
            (["package", "diabetes@1", "-o", out, "--format", "zip"], "Error: --format must be oci or docker, got 'zip'"),
            (["package", "diabetes@1"], "Error: name the image file with -o FILE (or a folder with --dockerfile DIR)"),
            (["package", "diabetes@1", "-o", box.dir], "package error: \(box.dir) is a folder; -o names the image's tar file"),
            (["package", "diabetes@1", "-o", box.dir + "/missing/img.tar"], "package error: cannot write \(box.dir)/missing/img.tar: No such file or directory"),
            (["package", "diabetes@1", "-o", out, "--mlsh", box.dir + "/text"], "package error: \(box.dir)/text is not an ELF executable; an image needs a Linux mlsh binary"),
            (["package", "diabetes@1", "-o", out, "--mlsh", "/usr/bin/true"], "package error: /usr/bin/true does not answer --version as mlsh does; --mlsh names an mlsh binary"),
            (["package", "diabetes@1", "-o", out, "--mlsh", box.dir + "/absent"], "package error: cannot read the mlsh binary \(box.dir)/absent: No such file or directory"),
            (["package", "diabetes@1", "-o", out, "--tag", "Diabetes:1"], "package error: 'Diabetes' is not an image repository name: lowercase letters and digits, '.', '_' or '-' between them, '/' between parts"),
            (["package", "diabetes@1", "-o", out, "--tag=-x"], "package error: '-x' is not an image tag: up to 128 letters, digits, '.', '_' and '-', not starting with '.' or '-'"),
            (["package", "diabetes@1", "--dockerfile", box.dir + "/full"], "package error: \(box.dir)/full is not empty; the Dockerfile and its context go into a new or empty folder"),
        ]
        for (args, message) in cases {
            let r = try box.mlsh(args)
            #expect(r.code != 0, "\(args)")
            #expect(r.err.split(separator: "\n").first.map(String.init) == message, "\(args): \(r.err)")
            #expect(!r.err.contains("Fatal error") && !r.err.contains("Crash"), "\(args): \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        var env = box.environment
        env["PORT"] = "http"
        let port = try runProgram(mlshBinary, ["serve", "diabetes@1"], environment: env)
        #expect(port.code == 2)
        #expect(port.err.hasPrefix("Error: PORT must be a port number between 0 and 65535, got 'http'"), "\(port.err)")

        // Onto a symbolic link: the file it names is written, the link stays a link.
        let link = box.dir + "/link.tar", target = box.dir + "/target.tar"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(try box.mlsh(["package", "diabetes@1", "-o", link, "--format", "docker"]).code == 0)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == target)
        #expect(((try? FileManager.default.attributesOfItem(atPath: target)[.size]) as? Int ?? 0) > 1_000_000)
    }
}
