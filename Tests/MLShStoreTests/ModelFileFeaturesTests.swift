import Foundation
import Testing
import MLShEngine
import MLShModels
@testable import MLShStore

/// Model files keep a `features` step's expressions as data (engine IR, reductions frozen at
/// their training value), a strict onehot and kmeans' inertia and iterations; files without
/// the newer fields still load, and expressions that do not compile are refused on load.
@Suite struct ModelFileFeaturesTests {
    /// `a2 = $x0 ^ 2`, `c = $x1 - mean($x1)`, `capped = if_else($x2 > 0.5, nan, $x2)` before ridge.
    static func featuresModel() throws -> (FittedModel, Table) {
        let t = try ModelFileTests.data()
        let spec = FeaturesSpec(names: ["a2", "c", "capped"], exprs: [
            .call("pow", [.column("x0"), .int(2)]),
            .call("sub", [.column("x1"), .reduce("mean", .column("x1"), [])]),
            .call("if_else", [.call("gt", [.column("x2"), .float(0.5)]), .float(.nan), .column("x2")]),
        ])
        let pipeline = PipelineSpec(steps: [.features(spec), .impute(ImputeSpec())], model: .ridge(RidgeSpec()))
        return (try fit(pipeline, on: t, target: "y", features: ["x3"]), t)
    }

    @Test func featuresRoundTripAsDataWithFrozenReductions() throws {
        let (m, t) = try Self.featuresModel()
        // Inputs: the listed column, then the raw columns the expressions read.
        #expect(m.features.map(\.name) == ["x3", "x0", "x1", "x2"])
        #expect(m.inputColumns == ["x3", "a2", "c", "capped"])
        guard let exprs = m.state.transforms.first?.step(as: FittedFeatures.self)?.exprs else { Issue.record("no features step"); return }
        guard case .float(let x1) = try t.column("x1").storage else { Issue.record("x1 is not float"); return }
        let mean = x1.reduce(0, +) / Double(x1.count)
        guard case .call("sub", let args) = exprs[1], case .float(let frozen) = args[1] else { Issue.record("\(exprs[1])"); return }
        #expect(abs(frozen - mean) < 1e-12)

        let bytes = try ModelFile.encode(m, mlshVersion: "t")
        let header = try #require(String(bytes: try ModelFileTests.header(of: bytes), encoding: .utf8))
        #expect(header.contains(#"{"float":"nan"}"#) && header.contains(#""call":"if_else""#))
        let back = try ModelFile.decode(bytes)
        // The state holds a NaN constant (never equal to itself): compare the bytes written again.
        #expect(try ModelFile.encode(back, mlshVersion: "t") == bytes)
        ModelFileTests.expectSame(try m.predict(t), try back.predict(t), "features")
        // One row predicts as it does among all: the mean is the training one, not the row's.
        let one = t.take([7])
        ModelFileTests.expectSame(try back.predict(one), try back.predict(t).take([7]), "one row")
    }

    @Test func expressionsThatDoNotCompileAreRefusedOnLoad() throws {
        let (m, _) = try Self.featuresModel()
        for (bad, reason) in [(KExpr.call("shell", [.column("x0")]), "unknown function"),
                              (.column("nowhere"), "unknown column"),
                              (.reduce("mean", .column("x0"), []), "unfitted reduction")] {
            var state = m.encodeParameters()
            state.transforms[0] = .features(names: ["a2"], exprs: [bad])
            let bytes = try ModelFile.encode(FittedModel(state: state), mlshVersion: "t")
            do {
                _ = try ModelFile.decode(bytes)
                Issue.record("\(reason) was loaded")
            } catch {
                #expect(error.message.hasPrefix("invalid model file: the model file is inconsistent"), "\(reason): \(error.message)")
            }
        }
    }

    @Test func strictOnehotAndKMeansFiguresRoundTrip() throws {
        let t = try ModelFileTests.data()
        let strict = try fit(PipelineSpec(steps: [.onehot(OneHotSpec(columns: ["colour"], unknown: "error"))], model: .ridge(RidgeSpec())),
                             on: t, target: "y", features: ["colour", "x0"])
        let back = try ModelFile.decode(try ModelFile.encode(strict, mlshVersion: "t"))
        #expect(back.encodeParameters() == strict.encodeParameters())
        let unseen = try Table(names: ["colour", "x0"], columns: [Column(strings: ["red", "pink"]), Column(floats: [0, 1])])
        #expect(throws: ModelError.unknownCategory(column: "colour", value: "pink", row: 1, known: ["blue", "green", "red"])) {
            try back.predict(unseen)
        }
        // The default (ignore) writes neither field, as files did before they existed.
        let lax = try fit(PipelineSpec(steps: [.onehot(OneHotSpec(columns: ["colour"]))], model: .ridge(RidgeSpec())),
                          on: t, target: "y", features: ["colour", "x0"])
        let laxHeader = try #require(String(bytes: try ModelFileTests.header(of: try ModelFile.encode(lax, mlshVersion: "t")), encoding: .utf8))
        #expect(!laxHeader.contains("unknown") && !laxHeader.contains("refuseUnknown"))
        #expect(try ModelFile.decode(try ModelFile.encode(lax, mlshVersion: "t")).predict(unseen).rowCount == 2)

        let km = try fit(PipelineSpec(.kmeans(KMeansSpec(k: 3))), on: try t.select(["x0", "x1"]), target: nil, features: nil)
        let fitted = try #require(km.kmeansFit)
        #expect(fitted.iterations.map { $0 >= 1 && $0 <= 300 } == true)
        let kmBack = try ModelFile.decode(try ModelFile.encode(km, mlshVersion: "t"))
        #expect(kmBack.kmeansFit?.inertia == fitted.inertia && kmBack.kmeansFit?.iterations == fitted.iterations)
        // A file written before n_iter was kept loads, without it.
        var old = km.encodeParameters()
        guard var s = old.estimator.learned(as: KMeansState.self) else { Issue.record("not kmeans"); return }
        s.nIter = nil
        old.estimator = .kmeans(s)
        let oldBytes = try ModelFile.encode(FittedModel(state: old), mlshVersion: "t")
        #expect(!(String(bytes: try ModelFileTests.header(of: oldBytes), encoding: .utf8) ?? "").contains("nIter"))
        let oldBack = try ModelFile.decode(oldBytes)
        #expect(oldBack.kmeansFit?.iterations == nil && oldBack.kmeansFit?.inertia == fitted.inertia)
    }
}
