import Foundation
import Testing
@testable import MLShEngine
@testable import MLShModels

/// The coded form of specs, which model files store: fixed text, so a change to how specs
/// are held in Swift cannot change what files hold or read.
@Suite struct SpecCodingTests {
    func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    @Test func everyEstimatorCodesAsItsCase() throws {
        let specs: [ModelSpec] = [
            .linear(LinearSpec()), .ridge(RidgeSpec(alpha: 2)), .lasso(LassoSpec(alpha: 0.5)),
            .logistic(LogisticSpec(l2: 3, maxIter: 50)), .kmeans(KMeansSpec(k: 3, seed: 7, inits: 2)),
            .tree(TreeSpec(maxDepth: 4)), .forest(ForestSpec(trees: 10, seed: UInt64.max)),
            .boost(BoostSpec(rounds: 5, subsample: 0.5)), .knn(KNNSpec(k: 3)), .naiveBayes(NaiveBayesSpec()),
        ]
        let coded = try specs.map(json)
        #expect(coded == [
            #"{"linear":{"_0":{}}}"#,
            #"{"ridge":{"_0":{"alpha":2}}}"#,
            #"{"lasso":{"_0":{"alpha":0.5,"maxIter":1000,"tol":0.0001}}}"#,
            #"{"logistic":{"_0":{"l2":3,"maxIter":50}}}"#,
            #"{"kmeans":{"_0":{"inits":2,"k":3,"seed":7}}}"#,
            #"{"tree":{"_0":{"maxDepth":4,"minLeaf":1}}}"#,
            #"{"forest":{"_0":{"minLeaf":1,"seed":18446744073709551615,"trees":10}}}"#,
            #"{"boost":{"_0":{"lr":0.1,"maxDepth":3,"minLeaf":1,"rounds":5,"seed":0,"subsample":0.5}}}"#,
            #"{"knn":{"_0":{"k":3}}}"#,
            #"{"naiveBayes":{"_0":{"varSmoothing":1e-09}}}"#,
        ])
        for (s, text) in zip(specs, coded) {
            #expect(try JSONDecoder().decode(ModelSpec.self, from: Data(text.utf8)) == s, "\(text)")
        }
    }

    @Test func aPipelineCodesItsStepsAsTheirCases() throws {
        let p = PipelineSpec(steps: [
            .standardize(StandardizeSpec(columns: ["a"])), .minmax(MinMaxSpec()), .impute(ImputeSpec(strategy: "median")),
            .onehot(OneHotSpec(columns: ["c"])), .bin(BinSpec(bins: 4)), .poly(PolySpec(degree: 3)),
            .selectFeatures(SelectFeaturesSpec(k: 2)),
        ], model: .ridge(RidgeSpec()))
        let text = try json(p)
        #expect(text == #"{"model":{"ridge":{"_0":{"alpha":1}}},"steps":[{"standardize":{"_0":{"columns":["a"]}}},{"minmax":{"_0":{}}},{"impute":{"_0":{"strategy":"median","value":{"none":{}}}}},{"onehot":{"_0":{"columns":["c"]}}},{"bin":{"_0":{"bins":4}}},{"poly":{"_0":{"degree":3}}},{"selectFeatures":{"_0":{"k":2}}}]}"#)
        #expect(try JSONDecoder().decode(PipelineSpec.self, from: Data(text.utf8)) == p)
    }

    @Test func anUnknownCaseIsAnError() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelSpec.self, from: Data(#"{"svm":{"_0":{}}}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelSpec.self, from: Data(#"{}"#.utf8)) }
    }
}
