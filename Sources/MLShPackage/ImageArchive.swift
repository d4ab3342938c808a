import Foundation
import MLShCommon
import MLShEngine

/// An image as one tar file: an OCI image layout (`oci-layout`, `index.json`,
/// `blobs/sha256/...`), with gzip layers; or, for `docker load`, the same layout with
/// plain tar layers plus Docker's `manifest.json` and `repositories` (as `docker save`
/// writes them since Docker 25).
struct ImageArchive {
    enum Format: String, CaseIterable { case oci, docker }

    /// A content-addressed blob.
    struct Blob {
        let bytes: [UInt8]
        let digest: String
        init(_ bytes: [UInt8]) { self.bytes = bytes; digest = "sha256:" + SHA256.hex(bytes) }
        var hex: String { String(digest.dropFirst("sha256:".count)) }
        func descriptor(_ mediaType: String, annotations: [(String, JSON)] = []) -> JSON {
            var members: [(String, JSON)] = [("mediaType", .string(mediaType)), ("digest", .string(digest)), ("size", .number(Double(bytes.count)))]
            if !annotations.isEmpty { members.append(("annotations", .object(annotations))) }
            return .object(members)
        }
    }

    /// The archive's bytes, and the manifest's digest (the image's identity).
    let parts: [[UInt8]]
    let manifestDigest: String
    /// The layers' sizes as stored (compressed in the OCI format).
    let layerSizes: [Int]

    /// Builds the image of `root` in `format`, named `repository:tag`.
    init(_ root: ImageRoot, format: Format, repository: String, tag: String) throws(PackageError) {
        let layerTars = [TarArchive.bytes(root.runtime), TarArchive.bytes(root.model)]
        let diffIDs = layerTars.map { "sha256:" + SHA256.hex($0) }
        var layers: [Blob] = []
        for t in layerTars {
            if format == .oci {
                guard let gz = Gzip.compress(t) else { throw PackageError("zlib could not compress a layer") }
                layers.append(Blob(gz))
            } else {
                layers.append(Blob(t))
            }
        }
        let layerType = format == .oci ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar"
        let created = Self.iso8601(root.version.created)
        let config = Blob(Array(JSONWriter.text(Self.config(root, diffIDs: diffIDs, created: created)).utf8))
        let manifest = Blob(Array(JSONWriter.text(.object([
            ("schemaVersion", .number(2)),
            ("mediaType", .string("application/vnd.oci.image.manifest.v1+json")),
            ("config", config.descriptor("application/vnd.oci.image.config.v1+json")),
            ("layers", .array(layers.map { $0.descriptor(layerType) })),
            ("annotations", .object([("org.opencontainers.image.created", .string(created))])),
        ])).utf8))
        let fullName = repository + ":" + tag
        let index = JSONWriter.text(.object([
            ("schemaVersion", .number(2)),
            ("mediaType", .string("application/vnd.oci.image.index.v1+json")),
            ("manifests", .array([manifest.descriptor("application/vnd.oci.image.manifest.v1+json", annotations: [
                ("io.containerd.image.name", .string(fullName)),
                ("org.opencontainers.image.ref.name", .string(tag)),
            ])])),
        ]))
        var entries: [TarArchive.Entry] = [
            .directory("blobs"), .directory("blobs/sha256"),
            .file("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)),
            .file("index.json", Array(index.utf8)),
        ]
        var seen = Set<String>()
        for blob in [config, manifest] + layers where seen.insert(blob.digest).inserted {
            entries.append(.file("blobs/sha256/" + blob.hex, blob.bytes))
        }
        if format == .docker {
            let docker = JSON.array([.object([
                ("Config", .string("blobs/sha256/" + config.hex)),
                ("RepoTags", .array([.string(fullName)])),
                ("Layers", .array(layers.map { .string("blobs/sha256/" + $0.hex) })),
            ])])
            entries.append(.file("manifest.json", Array(JSONWriter.text(docker).utf8)))
            let top = layers.last?.hex ?? ""
            entries.append(.file("repositories", Array(JSONWriter.text(.object([(repository, .object([(tag, .string(top))]))])).utf8)))
        }
        parts = [TarArchive.bytes(entries)]
        manifestDigest = manifest.digest
        layerSizes = layers.map(\.bytes.count)
    }

    /// The image config: platform, user, ports, environment, entry point, labels, layers.
    static func config(_ root: ImageRoot, diffIDs: [String], created: String) -> JSON {
        let v = root.version
        let labels: [(String, JSON)] = [
            ("mlsh.aliases", .string(v.aliases.joined(separator: ","))),
            ("mlsh.artifact", .string("sha256:" + v.artifact)),
            ("mlsh.model", .string(v.label)),
            ("mlsh.swift-runtime", .string(root.executable.staticSwiftRuntime ? "static" : "dynamic")),
            ("mlsh.version", .string(root.mlshVersion)),
            ("org.opencontainers.image.created", .string(created)),
            ("org.opencontainers.image.description", .string("\(v.label) served by mlsh on port \(ImageRoot.port): GET /ping, POST /invocations, POST /v1/models/\(v.name)/predict, GET /metrics")),
            ("org.opencontainers.image.title", .string(v.name)),
            ("org.opencontainers.image.version", .string(String(v.version))),
        ]
        return .object([
            ("created", .string(created)),
            ("architecture", .string(root.executable.architecture)),
            ("os", .string("linux")),
            ("config", .object([
                ("User", .string("\(ImageRoot.uid):\(ImageRoot.uid)")),
                ("ExposedPorts", .object([("\(ImageRoot.port)/tcp", .object([]))])),
                ("Env", .array(ImageRoot.environment.map(JSON.string))),
                ("Entrypoint", .array(root.entrypoint.map(JSON.string))),
                ("WorkingDir", .string("/" + ImageRoot.home)),
                ("Labels", .object(labels)),
            ])),
            ("rootfs", .object([("type", .string("layers")), ("diff_ids", .array(diffIDs.map(JSON.string)))])),
            ("history", .array([
                .object([("created", .string(created)), ("created_by", .string("mlsh package: the mlsh binary and its libraries"))]),
                .object([("created", .string(created)), ("created_by", .string("mlsh package: \(v.label) in a read-only store"))]),
            ])),
        ])
    }

    /// A Unix time as RFC 3339 UTC, to the second.
    static func iso8601(_ t: Double) -> String {
        var time = time_t(t.isFinite ? t.rounded(.down) : 0)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
