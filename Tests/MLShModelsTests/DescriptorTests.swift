import Foundation
import Testing
import MLShEngine
@testable import MLShModels

/// Every estimator and transform is described once, by its descriptor: the registry lists them,
/// each setting has help and a default that passes its own check, and `fit` checks settings
/// of a spec built in Swift as a call at the prompt would.
@Suite struct DescriptorTests {
    static let estimatorNames = ModelSpec.estimators.map(\.name)
    static let transformNames = TransformSpec.transforms.map(\.name)

    @Test(arguments: estimatorNames)
    func everyEstimatorSettingHasHelpAndACheckedDefault(_ name: String) throws {
        let d = try #require(ModelSpec.descriptor(named: name))
        #expect(!d.summary.isEmpty && d.example.hasPrefix(name + "("))
        #expect(Set(d.settings.map(\.key)).count == d.settings.count)
        for s in d.settings {
            #expect(!s.help.isEmpty, "\(name) \(s.key)")
            #expect(try s.checked(s.defaultValue, kind: name) == s.defaultValue, "\(name) \(s.key)")
        }
        // A call without settings builds the defaults, and shows every setting in order.
        let spec = try d.make([:])
        #expect(spec.kind == name)
        #expect(spec.settings.map(\.0) == d.settings.map(\.key))
        #expect(spec.settings.map(\.1) == d.settings.map(\.defaultValue))
        #expect(try spec.with([:]) == spec)
    }

    @Test(arguments: transformNames)
    func everyTransformSettingHasHelpAndACheckedDefault(_ name: String) throws {
        let d = try #require(TransformSpec.descriptor(named: name))
        #expect(!d.summary.isEmpty && d.example.hasPrefix(name + "("))
        #expect(d.positional.map { p in d.settings.contains { $0.key == p } } ?? true)
        for s in d.settings {
            #expect(!s.help.isEmpty, "\(name) \(s.key)")
            #expect(try s.checked(s.defaultValue, kind: name) == s.defaultValue, "\(name) \(s.key)")
        }
        let spec = try d.make([:], columns: ["a"])
        #expect(spec.kind == name && spec.columns == ["a"])
        #expect(spec.excluding("a").columns == [])
    }

    /// The registry's names are the ones `make` accepts, in the order the unknown-name message lists.
    @Test func theRegistryIsTheListOfNames() throws {
        #expect(ModelSpec.kinds == ["linear", "ridge", "lasso", "logistic", "kmeans", "tree", "forest", "boost", "knn", "naive_bayes", "isolation_forest"])
        #expect(TransformSpec.kinds == ["standardize", "minmax", "impute", "onehot", "bin", "poly", "select_features", "pca"])
        #expect(throws: ModelError.unknownKind("rige", accepted: ModelSpec.kinds, suggestion: "ridge")) {
            _ = try ModelSpec.make(kind: "rige", settings: [:])
        }
    }

    /// The conformance suite runs over every registered estimator and transform.
    @Test func theConformanceSuiteCoversTheRegistry() {
        let specs = ConformanceTests.estimators.map(\.spec)
        #expect(Set(specs.compactMap(\.model?.kind)) == Set(ModelSpec.kinds))
        #expect(Set(specs.flatMap(\.steps).map(\.kind)).isSuperset(of: TransformSpec.kinds))
    }

    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as ModelError { return e.message } catch { return "\(error)" }
    }

    /// `fit` checks a spec built in Swift (which no call checked) with the prompt's messages.
    @Test func fitChecksSettingsOfASpecBuiltInSwift() throws {
        let (train, _) = try TestCSV.load("diabetes").fixedSplit()
        func fitting(_ spec: PipelineSpec) -> String? {
            message { _ = try fit(spec, on: train, target: "progression", features: nil) }
        }
        #expect(fitting(PipelineSpec(.ridge(RidgeSpec(alpha: -1)))) == "ridge(alpha=...) must be at least 0.0, got -1.0")
        #expect(fitting(PipelineSpec(.lasso(LassoSpec(alpha: .infinity)))) == "lasso(alpha=...) must be finite")
        #expect(fitting(PipelineSpec(.knn(KNNSpec(k: 0)))) == "knn(k=...) must be at least 1, got 0")
        #expect(fitting(PipelineSpec(.boost(BoostSpec(subsample: 1.5)))) == "boost(subsample=...) must be at most 1, got 1.5")
        #expect(fitting(PipelineSpec(.tree(TreeSpec(maxDepth: 0)))) == "tree(max_depth=...) must be at least 1, got 0")
        #expect(fitting(PipelineSpec(steps: [.impute(ImputeSpec(strategy: "meen"))], model: .ridge(RidgeSpec())))
                == "impute(strategy=...) must be one of \"mean\", \"median\", \"most_frequent\", \"constant\", got \"meen\" (did you mean \"mean\"?)")
        #expect(fitting(PipelineSpec(steps: [.bin(BinSpec(bins: 1))], model: .ridge(RidgeSpec()))) == "bin(bins=...) must be at least 2, got 1")
        // The same messages as a call's.
        #expect(message { _ = try ModelSpec.make(kind: "ridge", settings: ["alpha": .number(-1)]) } == "ridge(alpha=...) must be at least 0.0, got -1.0")
        // Any UInt64 seed is valid.
        #expect(fitting(PipelineSpec(.forest(ForestSpec(trees: 2, maxDepth: 2, seed: .max)))) == nil)
    }

    /// Every registered estimator fits with its defaults (kmeans with k=3) on a task it does,
    /// twice to the same state, and its state round-trips through JSON.
    @Test(arguments: estimatorNames)
    func everyRegisteredEstimatorFitsWithItsDefaults(_ name: String) throws {
        let d = try #require(ModelSpec.descriptor(named: name))
        let spec = try d.make(name == "kmeans" ? ["k": .int(3)] : [:])
        let data: String, target: String?
        if d.tasks.contains(.clustering) { (data, target) = ("iris", nil) }
        else if d.tasks.contains(.regression) { (data, target) = ("diabetes", "progression") }
        else { (data, target) = ("iris", "species") }
        let (train, _) = try TestCSV.load(data).fixedSplit()
        let features = target == nil ? train.names.filter { $0 != "species" } : nil
        let pipeline = PipelineSpec(steps: [.standardize(StandardizeSpec())], model: spec)
        let a = try fit(pipeline, on: train, target: target, features: features)
        let b = try fit(pipeline, on: train, target: target, features: features)
        #expect(a.encodeParameters() == b.encodeParameters())
        let back = try JSONDecoder().decode(FittedState.self, from: JSONEncoder().encode(a.encodeParameters()))
        #expect(back == a.encodeParameters() && back.spec.model?.kind == name)
    }
}
