import ArgumentParser
import Foundation
import MLShPackage
import MLShRuntime

/// `mlsh package NAME@VERSION -o image.tar [--format oci|docker] [--tag T] [--mlsh PATH]`,
/// or `--dockerfile DIR`: a registered model version as a container image that serves it.
struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Write a registered model version as a container image that serves it on port 8080 (see docs/export.md).")

    @ArgumentParser.Argument(help: ArgumentHelp("The model version, e.g. diabetes@3 or diabetes@production.", valueName: "NAME@VERSION"))
    var version: String

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The image file to write (a tar).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("oci: an OCI image layout (skopeo, podman, crane, containerd); docker: an archive for docker load.", valueName: "oci|docker"))
    var format = "oci"

    @Option(help: ArgumentHelp("The image's name, REPOSITORY:TAG or a TAG (default: the model's name and version number).", valueName: "name"))
    var tag: String?

    @Option(name: .customLong("mlsh"), help: ArgumentHelp("The mlsh binary the image runs (default: this one).", valueName: "path"))
    var binary: String?

    @Option(help: ArgumentHelp("Instead of an image, write a Dockerfile and its build context into this new or empty folder.", valueName: "dir"))
    var dockerfile: String?

    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        guard ImagePackage.formats.contains(format) else {
            throw ValidationError("--format must be oci or docker, got '\(format)'")
        }
        switch (output, dockerfile) {
        case (nil, nil): throw ValidationError("name the image file with -o FILE (or a folder with --dockerfile DIR)")
        case (.some, .some): throw ValidationError("-o and --dockerfile are alternatives; give one")
        default: break
        }
    }

    func run() throws {
        try StoreCLI.guarded {
            guard let store = try StoreCLI.existing(storeOption.path) else {
                StoreCLI.fail(kind: "package error", "there is no store at \(StoreCLI.folder(storeOption.path)): register a model first")
            }
            let report: ImagePackage.Report
            do throws(PackageError) {
                if let dockerfile {
                    report = try ImagePackage.dockerfile(version, from: store, to: dockerfile, tag: tag, binary: binary, mlshVersion: Runtime.version)
                } else {
                    report = try ImagePackage.image(version, from: store, to: output ?? "", format: format, tag: tag, binary: binary,
                                                    mlshVersion: Runtime.version)
                }
            } catch { StoreCLI.fail(kind: "package error", error.message) }
            let target = dockerfile.map { "\($0)/Dockerfile and its context" } ?? output ?? ""
            FileHandle.standardError.write(Data("wrote \(report.summary) to \(target)\n".utf8))
        }
    }
}
