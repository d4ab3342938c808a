import Foundation
import Testing
import TestSupport

/// `export(m, "model.onnx")` and `mlsh export`, checked by the real consumers: for every
/// model family and every transform, mlsh fits a model on a bundled dataset, exports it and
/// writes its own predictions; a venv with onnx and onnxruntime (made once under .build/)
/// runs `onnx.checker.check_model` and the model on the same rows, and compares
/// (`Tests/GoldenTests/onnx/check_onnx.py`: values to 1e-5 relative, class labels exactly,
/// probabilities to 1e-5).
@Suite(.serialized) struct ONNXExportTests {
    static func venv() throws -> String {
        try pythonVenv("onnx-venv", packages: ["onnx==1.19.1", "onnxruntime==1.22.1", "numpy==2.2.6"])
    }

    static let checker = repositoryRoot + "/Tests/GoldenTests/onnx/check_onnx.py"

    /// The cases, one a line: name | the rows `t` to fit | `fit`'s arguments for `m` [| the
    /// rows to predict, `t` if not given].
    static let cases: [(name: String, mls: String)] = """
        linear                | dataset("diabetes") | linear(), t, target=$progression
        ridge_standardize     | dataset("diabetes") | standardize() >> ridge(alpha=1), t, target=$progression
        lasso_minmax          | dataset("diabetes") | minmax() >> lasso(alpha=0.1), t, target=$progression
        poly_ridge            | dataset("diabetes") | poly(degree=2) >> ridge(alpha=0.1), t, target=$progression
        bin_linear            | dataset("diabetes") | bin($bmi, bins=5) >> bin($bp) >> linear(), t, target=$progression
        impute_mean           | dataset("diabetes") |> derive(bmi = if_else($age > 60, nan, $bmi), s5 = if_else($age < 30, nan, $s5)) | impute("mean") >> standardize() >> ridge(), t, target=$progression
        impute_median_tree    | dataset("diabetes") |> derive(bmi = if_else($age > 60, nan, $bmi)) | impute("median") >> tree(max_depth=4), t, target=$progression
        select_features       | dataset("diabetes") | select_features(k=4) >> linear(), t, target=$progression
        bool_feature          | dataset("diabetes") |> derive(heavy = $bmi > 30) | ridge(), t, target=$progression
        tree_regression       | dataset("diabetes") | tree(max_depth=6), t, target=$progression
        forest_regression     | dataset("diabetes") | forest(trees=25, max_depth=8, seed=3), t, target=$progression
        boost_regression      | dataset("diabetes") | boost(rounds=40), t, target=$progression
        onehot_linear         | dataset("iris") | onehot() >> linear(), t, target=$sepal_length
        onehot_unseen         | dataset("iris") |> filter($species != "virginica") | onehot() >> ridge(), t, target=$sepal_length | dataset("iris")
        onehot_int_column     | dataset("diabetes") | impute("median") >> onehot($sex) >> ridge(), t, target=$progression
        onehot_error_forest   | dataset("iris") | onehot($species, unknown="error") >> forest(trees=10, seed=1), t, target=$sepal_length
        logistic_multinomial  | dataset("iris") | standardize() >> logistic(), t, target=$species
        logistic_binary       | dataset("breast_cancer") | standardize() >> logistic(l2=0.5), t, target=$diagnosis
        logistic_int_target   | dataset("diabetes") | minmax() >> logistic(), t, target=$sex, task="classification"
        logistic_bool_target  | dataset("diabetes") |> derive(high = $progression > 140) |> drop($progression) | standardize() >> logistic(), t, target=$high
        float_class_labels    | dataset("diabetes") |> derive(band = floor($bmi / 5) * 0.5) |> drop($progression, $bmi) | tree(max_depth=4), t, target=$band, task="classification"
        tree_classification   | dataset("iris") | tree(max_depth=3), t, target=$species
        forest_classification | dataset("wine") | forest(trees=30, seed=2), t, target=$cultivar
        forest_binary         | dataset("breast_cancer") | forest(trees=20, max_depth=5, seed=4), t, target=$diagnosis
        boost_multiclass      | dataset("iris") | boost(rounds=20, max_depth=2), t, target=$species
        boost_binary          | dataset("breast_cancer") | boost(rounds=30), t, target=$diagnosis
        naive_bayes           | dataset("wine") | naive_bayes(), t, target=$cultivar
        knn_regression        | dataset("diabetes") | standardize() >> knn(k=7), t, target=$progression
        knn_classification    | dataset("wine") | standardize() >> knn(k=5), t, target=$cultivar
        kmeans                | dataset("iris") |> drop($species) | standardize() >> kmeans(k=3, seed=0), t
        isolation_forest      | dataset("diabetes") | standardize() >> isolation_forest(trees=50, seed=1), t
        isolation_contaminate | dataset("breast_cancer") |> drop($diagnosis) | isolation_forest(trees=40, sample=128, contamination=0.1, seed=2), t
        features_arithmetic   | dataset("diabetes") | features(bmi2 = $bmi ^ 2, ratio = $s1 / $s2, lbp = log($bp), old = $age > 50, centred = $bmi - mean($bmi)) >> standardize() >> ridge(), t, target=$progression
        features_conditions   | dataset("diabetes") |> derive(s5 = if_else($age < 30, nan, $s5)) | features(b = if_else($sex == 1 and $age >= 40, $bmi, -$bmi), f = fill_nan($s5, 4.5), n = is_nan($s5), r = sqrt(abs($s6 - 90)) + exp($s5 / 10) + log10($s1)) >> impute("mean") >> forest(trees=10, seed=5), t, target=$progression
        impute_strings        | dataset("iris") | impute("most_frequent") >> onehot() >> poly(degree=2) >> ridge(), t, target=$sepal_length
        pca_logistic          | dataset("wine") | standardize() >> pca(k=3) >> logistic(), t, target=$cultivar
        pca_onehot_ridge      | dataset("iris") | onehot() >> pca(2) >> ridge(), t, target=$sepal_length
        """.split(separator: "\n").map { line in
            let part = line.components(separatedBy: " | ").map { $0.trimmingCharacters(in: .whitespaces) }
            return (part[0], "let t = \(part[1])\nlet m = fit(\(part[2]))\nlet rows = \(part.count > 3 ? part[3] : "t")")
        }

    /// Runs `mls` with the mlsh binary; fails with its stderr.
    func mlsh(_ mls: String, in dir: String, args: [String] = []) throws {
        let path = dir + "/case.mls"
        try mls.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runProgram(mlshBinary, ["run", path] + args)
        #expect(r.code == 0, "\(dir): \(r.err)")
    }

    /// The script that writes the case's files: the model, its input rows, mlsh's predictions.
    static func writing(_ dir: String) -> String {
        "\nexport(m, \"\(dir)/model.onnx\")\nsave(rows, \"\(dir)/input.csv\")\nsave(predict(m, rows), \"\(dir)/pred.csv\")\n"
    }

    /// What the checker says of each folder.
    func check(_ folders: [String]) throws -> [String: String] {
        let python = try Self.venv()
        let r = try runProgram(python, [Self.checker] + folders)
        #expect(r.code == 0, "the checker failed: \(r.err)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: String], "checker output: \(r.out)")
    }

    @Test func everyFamilyAndTransformRunsInOnnxruntimeAsInMlsh() throws {
        #expect(mlshBinaryProblem == nil, "\(mlshBinaryProblem ?? "")")
        let root = try temporaryFolder("onnx-export")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var folders: [String] = []
        for c in Self.cases {
            let dir = root + "/" + c.name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try mlsh(c.mls + Self.writing(dir), in: dir)
            folders.append(dir)
        }
        let results = try check(folders)
        for (c, dir) in zip(Self.cases, folders) {
            #expect(results[dir] == "ok", "\(c.name): \(results[dir] ?? "no result")")
        }
    }

    /// `mlsh export NAME@VERSION -o FILE --store DIR` writes the registered version, which
    /// onnxruntime runs as mlsh predicts; an unknown version is an error naming it.
    @Test func theCommandExportsARegisteredVersion() throws {
        #expect(mlshBinaryProblem == nil, "\(mlshBinaryProblem ?? "")")
        let root = try temporaryFolder("onnx-cli")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = root + "/store"
        try mlsh(#"let t = dataset("iris")"# + "\n"
                 + #"register(fit(onehot() >> standardize() >> ridge(), t, target=$petal_width), "iris_width")"# + "\n"
                 + "let m = fit(onehot() >> standardize() >> ridge(), t, target=$petal_width)\n"
                 + "save(t, \"\(root)/input.csv\")\nsave(predict(m, t), \"\(root)/pred.csv\")\n",
                 in: root, args: ["--store", store])
        let r = try runProgram(mlshBinary, ["export", "iris_width@1", "-o", root + "/model.onnx", "--store", store])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err == "wrote iris_width@1 to \(root)/model.onnx\n")
        #expect(try check([root])[root] == "ok")

        let missing = try runProgram(mlshBinary, ["export", "iris_width@7", "-o", root + "/other.onnx", "--store", store])
        #expect(missing.code == 1)
        #expect(missing.err.hasPrefix("export error: "), "\(missing.err)")
        #expect(missing.err.contains("iris_width"), "\(missing.err)")
        #expect(!FileManager.default.fileExists(atPath: root + "/other.onnx"))

        let folder = try runProgram(mlshBinary, ["export", "iris_width@1", "-o", root, "--store", store])
        #expect(folder.code == 1)
        #expect(folder.err == "export error: \(root): is a directory, not a file\n", "\(folder.err)")

        let noStore = try runProgram(mlshBinary, ["export", "iris_width@1", "-o", root + "/other.onnx", "--store", root + "/none"])
        #expect(noStore.code == 1)
        #expect(noStore.err == "export error: there is no store at \(root)/none: register a model first\n")
    }
}
